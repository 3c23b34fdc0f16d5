/**
 * The staff console in real headless Chromium, served by the same app as the chat page
 * (one browser for the file; a context per person): sign in; a citizen's hand-off on
 * the web chat appears in the inbox live; the staff reply reaches the citizen's open
 * page; release gives the conversation back to the assistant; close with an outcome;
 * six wrong passwords lock an account; a POST without the CSRF token is refused, and so
 * is a form posted from another site; an agent cannot reach admin pages; a teach that
 * flips a golden case is refused with the diff; a saved FAQ edit changes the assistant's
 * answer (and a restore from the history changes it back); dossiers upload and search;
 * the dashboard renders with data; posters download; accounts and the audit log for
 * admins; the layout at 1280×800 and on a tablet; nothing loaded from outside.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_MESSAGES } from '../bot/staff/auth.ts';
import { CHROMIUM, CHROMIUM_ARGS, citizenPage, PASSWORD, signIn, staffContext, startConsoleRig, type ConsoleRig } from './helpers/console.ts';

let rig: ConsoleRig;
let base = '';
let browser: Browser;
let agent: { context: BrowserContext; page: Page };
let citizen: Awaited<ReturnType<typeof citizenPage>>;
const requests: string[] = [];
const problems: string[] = [];

/** Records every request and every script error or CSP refusal of a page. */
function watch(page: Page): Page {
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|409|429)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return page;
}

const signedIn = new Map<string, { context: BrowserContext; page: Page }>();
/** A staff member signed in once per file and viewport (a sign-in costs a scrypt check). */
async function person(username: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const key = `${username}@${viewport.width}`;
  let p = signedIn.get(key);
  if (!p) {
    const context = await staffContext(browser, viewport);
    const page = watch(await context.newPage());
    await signIn(page, base, username);
    p = { context, page };
    signedIn.set(key, p);
  }
  return p;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; the console tests need it. Install it with: apt-get install -y chromium`);
  rig = await startConsoleRig();
  base = rig.web.url;
  for (const [u, role] of [['lan', 'agent'], ['minh', 'editor'], ['quantri', 'admin'], ['khoa', 'agent']] as const) await rig.staff.accounts.add(u, role, PASSWORD, 'test');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  citizen = await citizenPage(browser, base);
  watch(citizen.page);
});

afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

const ticketOf = (text: string): string => /(?:HT|PA)-\d{6}-\d{4}/.exec(text)?.[0] ?? '';

describe('staff console in Chromium', () => {
  it('signs an agent in with a session cookie that scripts cannot read and other sites do not send', async () => {
    const context = await staffContext(browser);
    const page = watch(await context.newPage());
    await page.goto(`${base}/staff/inbox`);
    expect(new URL(page.url()).pathname).toBe('/staff/login'); // not signed in: the sign-in form
    await signIn(page, base, 'lan');
    expect(new URL(page.url()).pathname).toBe('/staff/inbox');
    await page.locator('h1', { hasText: 'Phiếu đang chờ' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'tthc_staff');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/staff', secure: false });
    expect(await page.evaluate(() => document.cookie)).toBe('');
    // The navigation shows an agent's pages only.
    expect(await page.locator('.nav a').allInnerTexts()).toEqual(['Hộp thư', 'Hồ sơ', 'Thống kê', 'Áp phích QR']);
    await page.locator('body[data-live="1"]').waitFor(); // the live stream is open
    agent = { context, page };
  });

  it("shows a citizen's hand-off from the web chat in the inbox as it happens, with the whole conversation", async () => {
    await citizen.ask('đăng ký khai sinh cần giấy tờ gì');
    await citizen.botSays('Hồ sơ cần chuẩn bị');
    await citizen.ask('cho tôi gặp cán bộ');
    const id = ticketOf(await citizen.botSays('HT-'));
    expect(id).toMatch(/^HT-/);
    // No reload: the list updates by itself.
    const item = agent.page.locator(`#ticket-list a[data-ticket="${id}"]`);
    await item.waitFor();
    expect(await item.innerText()).toMatch(/Trang web[\s\S]*Chờ[\s\S]*Chưa trả lời/);
    await item.click();
    await agent.page.waitForURL(`**/staff/inbox/${id}`);
    const conv = agent.page.locator('#conversation');
    await expect.poll(() => conv.innerText()).toContain('đăng ký khai sinh cần giấy tờ gì');
    expect(await conv.innerText()).toContain('Chuyển cho cán bộ lúc');
    // What the citizen writes after the hand-off joins the ticket and shows at once.
    await citizen.ask('tôi cần hỏi về hồ sơ của con');
    await agent.page.locator('#conversation .m.citizen', { hasText: 'tôi cần hỏi về hồ sơ của con' }).waitFor();
    const order = await conv.locator('li').allInnerTexts();
    const handoffAt = order.findIndex((t) => t.includes('Chuyển cho cán bộ'));
    expect(order.findIndex((t) => t.includes('đăng ký khai sinh cần giấy tờ gì'))).toBeLessThan(handoffAt);
    expect(order.findIndex((t) => t.includes('tôi cần hỏi về hồ sơ của con'))).toBeGreaterThan(handoffAt);
  });

  it("sends the staff reply to the citizen's open page, a canned reply included", async () => {
    const page = agent.page;
    await page.locator('#canned').selectOption('can-ma-ho-so');
    expect(await page.locator('#reply-text').inputValue()).toContain('mã hồ sơ');
    await page.locator('#reply-text').fill('Chào chị, cán bộ Lan đây. Chị cho em xin mã hồ sơ nhé.');
    await Promise.all([page.waitForURL(/\/staff\/inbox\/HT-/), page.locator('form.reply button[type="submit"]').click()]);
    await page.locator('.flash.ok', { hasText: 'Đã gửi tới người dân' }).waitFor();
    expect(await citizen.botSays('Chào chị, cán bộ Lan đây. Chị cho em xin mã hồ sơ nhé.')).toContain('Cán bộ trả lời');
    await page.locator('#conversation .m.staff', { hasText: 'cán bộ Lan đây' }).waitFor();
    expect(await page.locator('#ticket-head').innerText()).toContain('Đã trả lời');
  });

  it('releases the conversation back to the assistant, which answers again', async () => {
    const page = agent.page;
    const id = new URL(page.url()).pathname.split('/').pop() as string;
    await Promise.all([page.waitForURL('**/staff/inbox'), page.locator('button', { hasText: 'Trả lại cho trợ lý' }).click()]);
    await page.locator('.flash.ok', { hasText: `${id}: đã trả lại cho trợ lý` }).waitFor();
    expect(await page.locator(`#ticket-list a[data-ticket="${id}"]`).count()).toBe(0);
    await citizen.botSays(rig.holder.version.knowledge.replies.handoffReleased.slice(0, 30));
    await citizen.ask('thế lệ phí bao nhiêu?');
    await citizen.botSays('Phí, lệ phí — Đăng ký khai sinh');
    expect((await rig.tickets.get(id))?.status).toBe('released');
  });

  it('closes a ticket with an outcome', async () => {
    await citizen.ask('tôi muốn gặp cán bộ');
    const id = ticketOf(await citizen.botSays('HT-'));
    const page = agent.page;
    await page.locator(`#ticket-list a[data-ticket="${id}"]`).click();
    await page.waitForURL(`**/staff/inbox/${id}`);
    await page.locator('#outcome').selectOption('referred');
    await page.locator('#note').fill('Đã hướng dẫn sang Công an phường');
    await Promise.all([page.waitForURL('**/staff/inbox'), page.locator('form.close button[type="submit"]').click()]);
    await page.locator('.flash.ok', { hasText: 'đã đóng' }).waitFor();
    expect(await rig.tickets.get(id)).toMatchObject({ status: 'closed', outcome: 'referred', outcomeNote: 'Đã hướng dẫn sang Công an phường' });
    await page.goto(`${base}/staff/inbox?done=1`);
    await page.locator(`#ticket-list a[data-ticket="${id}"]`, { hasText: 'Đã đóng' }).waitFor();
  });

  it('refuses a POST without the CSRF token, and a form posted from another site carries no session', async () => {
    const page = agent.page;
    await citizen.ask('cho gặp cán bộ');
    const id = ticketOf(await citizen.botSays('HT-'));
    const post = (body: string) =>
      page.evaluate(
        async ([url, b]) => (await fetch(url as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: b as string, redirect: 'manual' })).status,
        [`/staff/inbox/${id}/reply`, body],
      );
    expect(await post('text=kh%C3%B4ng+c%C3%B3+token')).toBe(403);
    expect(await post('text=token+sai&_csrf=abc')).toBe(403);
    // Another site (127.0.0.2 is another origin and another site) submits a form to the console.
    let evil: Server | undefined;
    try {
      evil = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><form id="f" method="post" action="${base}/staff/inbox/${id}/reply"><input name="text" value="tin giả mạo"></form>`);
      });
      await new Promise<void>((r) => evil?.listen(0, '127.0.0.2', r));
      const other = await agent.context.newPage();
      await other.goto(`http://127.0.0.2:${(evil.address() as AddressInfo).port}/`);
      await Promise.all([other.waitForURL(`${base}/staff/login`), other.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
      await other.close();
    } finally {
      await new Promise((r) => evil?.close(r));
    }
    const t = await rig.tickets.get(id);
    expect(t?.messages.filter((m) => m.from === 'staff')).toEqual([]);
    expect(t?.status).toBe('open');
    // The agent's own session still works.
    await page.goto(`${base}/staff/inbox/${id}`);
    await page.locator('#reply-text').waitFor();
  });

  it('keeps an agent out of admin pages, on the server, and an editor out of the inbox', async () => {
    const page = agent.page;
    for (const path of ['/staff/accounts', '/staff/audit', '/staff/review', '/staff/knowledge']) {
      const res = await page.goto(`${base}${path}`);
      expect(res?.status(), path).toBe(403);
      expect(await page.locator('main').innerText()).toContain('không có quyền');
    }
    await page.goto(`${base}/staff/inbox`);
    const status = await page.evaluate(async () => {
      const token = (document.querySelector('meta[name="csrf-token"]') as HTMLMetaElement).content;
      const body = new URLSearchParams({ _csrf: token, username: 'ke-gian', role: 'admin', password: 'mat-khau-cua-ke-gian' });
      return (await fetch('/staff/accounts', { method: 'POST', body, redirect: 'manual' })).status;
    });
    expect(status).toBe(403);
    expect(rig.staff.accounts.get('ke-gian')).toBeUndefined();
    const editor = await person('minh');
    expect((await editor.page.goto(`${base}/staff/inbox`))?.status()).toBe(403);
  });

  it('locks an account after wrong passwords: the sixth try and then the right password are refused', async () => {
    const context = await staffContext(browser);
    const page = watch(await context.newPage());
    const attempt = async (password: string) => {
      await page.goto(`${base}/staff/login`);
      await page.locator('#username').fill('khoa');
      await page.locator('#password').fill(password);
      await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/staff/login"] button').click()]);
      await page.locator('.login .flash.error').waitFor();
      return page.locator('.login .flash.error').first().innerText();
    };
    const messages: string[] = [];
    for (let i = 1; i <= 6; i++) messages.push(await attempt(`sai-mat-khau-${i}`));
    expect(messages.slice(0, 5)).toEqual(Array(5).fill(AUTH_MESSAGES.invalid));
    expect(messages[5]).toBe(AUTH_MESSAGES.locked(15));
    expect(await attempt(PASSWORD)).toBe(AUTH_MESSAGES.locked(15));
    expect(new URL(page.url()).pathname).toBe('/staff/login');
    expect(rig.staff.audit.list({ action: 'login.lockout' })[0]).toMatchObject({ target: 'khoa' });
    await context.close();
  });

  it('refuses a teach that flips a golden case, showing the diff; a harmless alias is saved and understood at once', async () => {
    const review = join(rig.config.DATA_DIR, 'review.jsonl');
    const line = (text: string) => JSON.stringify({ at: new Date().toISOString(), channel: 'web', reason: 'unmatched', intent: 'out_of_scope', procedure: null, confidence: 0.2, text });
    writeFileSync(review, [line('hết bao nhiêu tiền vậy'), line('hết bao nhiêu tiền vậy'), line('giấy khai sinh cho bé')].join('\n') + '\n');
    const examples = () => readFileSync(join(rig.kb.intents, 'examples.yaml'), 'utf8');
    const before = examples();
    const { page } = await person('minh');
    await page.goto(`${base}/staff/review`);
    const group = page.locator('.group', { hasText: '«hết bao nhiêu tiền vậy»' });
    expect(await group.locator('.count').innerText()).toBe('2 lần');
    await group.locator('select[name="target"]').selectOption('procedure.fee');
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/staff/review/teach')), group.locator('button', { hasText: 'Thêm câu mẫu' }).click()]);
    expect(res.status()).toBe(409);
    await page.locator('.flash.error', { hasText: 'Chưa lưu' }).waitFor();
    const cases = page.locator('table.cases');
    expect(await cases.locator('tr.broken td.verdict').first().innerText()).toBe('NAY SAI');
    expect(await page.locator('.diff .add').allInnerTexts()).toContainEqual(expect.stringContaining('hết bao nhiêu tiền vậy'));
    expect(await page.locator('button', { hasText: 'Lưu bắt buộc' }).count()).toBe(1);
    expect(examples()).toBe(before);

    await page.goto(`${base}/staff/review`);
    const alias = page.locator('.group', { hasText: '«giấy khai sinh cho bé»' });
    await alias.locator('input[name="target"][list]').fill('ho-tich.khai-sinh');
    await Promise.all([page.waitForURL('**/staff/review'), alias.locator('button', { hasText: 'Thêm tên gọi' }).click()]);
    await page.locator('.flash.ok', { hasText: 'Đã lưu' }).waitFor();
    expect(await page.locator('.group', { hasText: '«giấy khai sinh cho bé»' }).locator('.meta', { hasText: 'Bây giờ trợ lý hiểu' }).innerText()).toContain('ho-tich.khai-sinh');
  });

  it('saves an FAQ edit that changes the assistant’s answer at once; the history restores it', async () => {
    const added = 'Thứ Bảy tuần đầu tháng có trực tiếp nhận hồ sơ buổi sáng.';
    const { page } = await person('minh');
    await page.goto(`${base}/staff/knowledge`);
    await Promise.all([page.waitForURL('**/faq/faq.gio-lam-viec'), page.locator('a[href="/staff/knowledge/faq/faq.gio-lam-viec"]').click()]);
    const answer = page.locator('#f-answer');
    await answer.fill(`${await answer.inputValue()}\n\n${added}`);
    await page.locator('#f-preview').fill('giờ làm việc của trung tâm');
    await page.locator('button[value="check"]').click();
    await page.locator('.preview .answer', { hasText: 'Sau khi lưu' }).waitFor();
    expect(await page.locator('.preview .answer', { hasText: 'Sau khi lưu' }).innerText()).toContain(added);
    expect(await page.locator('.preview .answer', { hasText: 'Trợ lý đang trả lời' }).innerText()).not.toContain(added);
    expect(await page.locator('.draft-result').innerText()).toContain('không câu trả lời nào thay đổi');
    await Promise.all([page.waitForURL('**/faq/faq.gio-lam-viec'), page.locator('button[value="save"]').click()]);
    await page.locator('.flash.ok', { hasText: 'Đã lưu' }).waitFor();

    // A new citizen (the first one is waiting for staff on an open ticket, and the assistant stays quiet there).
    const other = await citizenPage(browser, base);
    watch(other.page);
    await other.ask('giờ làm việc của trung tâm');
    await other.botSays(added);
    await other.context.close();

    await page.goto(`${base}/staff/knowledge/history`);
    await page.locator('table.list a').first().click();
    expect(await page.locator('.diff .add').allInnerTexts()).toContainEqual(expect.stringContaining(added));
    await Promise.all([page.waitForURL('**/staff/knowledge/history'), page.locator('button', { hasText: 'Khôi phục bản trước lần lưu này' }).click()]);
    await page.locator('.flash.ok', { hasText: 'Khôi phục' }).waitFor();
    expect(rig.holder.version.knowledge.faqs.find((f) => f.id === 'faq.gio-lam-viec')?.answer).not.toContain(added);
  });

  it('imports dossiers from a CSV upload, listing the bad rows, and finds one by code', async () => {
    const page = agent.page;
    await page.goto(`${base}/staff/dossiers`);
    const csv = ['code,procedure,status,received_at,due_at,applicant_name,phone', '000.00.19.H99-261120-0042,Đăng ký khai sinh,Đang xử lý,20/11/2026,30/11/2026,Nguyễn Văn An,0912345678', 'ma-sai,Đăng ký kết hôn,Đang xử lý,20/11/2026,,Trần Thị B,', ''].join('\n');
    await page.locator('#file').setInputFiles({ name: 'hoso.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.locator('form[action="/staff/dossiers/import"] button').click();
    await page.locator('.import-report .flash', { hasText: 'Đã ghi 1 hồ sơ; 1 dòng lỗi' }).waitFor();
    expect(await page.locator('table.bad-rows td').first().innerText()).toBe('3');
    await page.locator('#code').fill('000.00.19.h99-261120-0042');
    await page.locator('#code').press('Enter');
    const card = page.locator('.dossier');
    await card.waitFor();
    const text = await card.innerText();
    expect(text).toContain('Đang xử lý');
    expect(text).not.toContain('Nguyễn Văn An'); // masked for staff too
    expect(text).not.toContain('0912345678');
  });

  it('renders the dashboard with data, as SVG charts drawn on the server', async () => {
    const { page } = await person('quantri');
    await page.goto(`${base}/staff/dashboard`);
    expect(Number(await page.locator('.tile.messages .value').innerText())).toBeGreaterThanOrEqual(6);
    expect(Number(await page.locator('.tile.handoffs .value').innerText())).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.charts svg').count()).toBe(5);
    expect(await page.locator('.chart.messages svg title').first().textContent()).toBe('Tin nhắn mỗi ngày theo kênh');
    expect(await page.locator('.chart.messages svg desc').textContent()).toContain('Trang web');
    expect(await page.locator('.chart.procedures').innerText()).toContain('Đăng ký khai sinh');
    expect(await page.locator('.notes').innerText()).toMatch(/Thời gian chờ cán bộ trả lời lần đầu \(trung vị\): \d+ (giây|phút)/);
    await page.locator('a', { hasText: '30 ngày qua' }).click();
    await page.waitForURL('**/dashboard?days=30');
    expect(await page.locator('.charts svg').count()).toBe(5);
  });

  it('lists the QR posters and downloads one', async () => {
    const page = agent.page;
    await page.goto(`${base}/staff/posters`);
    const rows = await page.locator('table.posters tbody tr').count();
    expect(rows).toBeGreaterThan(5);
    const href = await page.locator('table.posters a', { hasText: 'SVG' }).first().getAttribute('href');
    const got = await page.evaluate(async (h) => {
      const r = await fetch(h as string);
      return { type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), start: (await r.text()).slice(0, 200) };
    }, href);
    expect(got.type).toContain('image/svg+xml');
    expect(got.disposition).toMatch(/^attachment; filename=".+\.svg"$/);
    expect(got.start).toContain('<svg');
  });

  it('lets an admin add an account and read the audit log', async () => {
    const { page } = await person('quantri');
    await page.goto(`${base}/staff/accounts`);
    await page.locator('#new-username').fill('mai');
    await page.locator('#new-role').selectOption('editor');
    await page.locator('#new-password').fill('mat-khau-bien-tap-2026');
    await Promise.all([page.waitForURL('**/staff/accounts'), page.locator('form[action="/staff/accounts"] button').click()]);
    await page.locator('.flash.ok').waitFor();
    expect(await page.locator('tr[data-user="mai"]').innerText()).toContain('Đang dùng');
    expect(rig.staff.accounts.get('mai')?.role).toBe('editor');
    await page.locator('#role-mai').selectOption('agent');
    await Promise.all([page.waitForURL('**/staff/accounts'), page.locator('tr[data-user="mai"] form[action$="/role"] button').click()]);
    expect(rig.staff.accounts.get('mai')?.role).toBe('agent');
    await page.goto(`${base}/staff/audit`);
    const audit = await page.locator('table.audit').innerText();
    for (const action of ['account.add', 'account.role', 'login.lockout', 'ticket.reply', 'ticket.release', 'ticket.close', 'knowledge.faq', 'knowledge.alias', 'dossier.import']) expect(audit, action).toContain(action);
    await page.locator('#a-action').fill('ticket.');
    await page.locator('#a-action').press('Enter');
    await page.waitForURL('**/audit?**');
    expect((await page.locator('table.audit tbody tr').allInnerTexts()).every((r) => r.includes('ticket.'))).toBe(true);
  });

  it('reads well at 1280×800 and on a tablet: large text, nothing wider than the screen', async () => {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 820, height: 1180 }]) {
      const { page } = await person('quantri', viewport);
      for (const path of ['/staff/inbox', '/staff/review', '/staff/knowledge/faq/faq.hotline', '/staff/dashboard', '/staff/accounts', '/staff/audit']) {
        await page.goto(`${base}${path}`);
        const m = await page.evaluate(() => ({ overflow: document.documentElement.scrollWidth - window.innerWidth, size: parseFloat(getComputedStyle(document.body).fontSize), button: Math.min(...[...document.querySelectorAll('main button')].map((b) => (b as HTMLElement).getBoundingClientRect().height).filter((h) => h > 0)) }));
        expect(m.overflow, `${path} at ${viewport.width}px`).toBeLessThanOrEqual(0);
        expect(m.size).toBeGreaterThanOrEqual(18);
        expect(m.button, path).toBeGreaterThanOrEqual(40);
      }
    }
  });

  it('signs out, and loaded nothing from outside, raised no script error and broke no CSP rule', async () => {
    const page = agent.page;
    await page.goto(`${base}/staff/inbox`);
    await Promise.all([page.waitForURL('**/staff/login'), page.locator('button', { hasText: 'Đăng xuất' }).click()]);
    expect((await page.goto(`${base}/staff/inbox`))?.url()).toContain('/staff/login');
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('http://127.0.0.2:'))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
