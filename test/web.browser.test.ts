/**
 * The chat page in real headless Chromium on a 390×844 phone screen: type a question and
 * see the documents checklist (its first paper on the first screen), tap an option,
 * follow up with context, see and use the rating, receive a staff reply, reload and see
 * the same conversation. One browser launch for the file.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, type AssistantParts } from '../bot/assistant.ts';
import { startWebServer, webConversationId, type WebServer } from '../bot/channels/web.ts';
import { loadConfig } from '../bot/config.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let parts: AssistantParts;
let pipeline: InProcessPipeline;
let web: WebServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const failedResponses: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}; the web page tests need it. Install it with: apt-get install -y chromium`);
  }
  parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent' }), { memoryTickets: true });
  pipeline = new InProcessPipeline(parts.engine);
  web = await startWebServer({ port: 0, host: '127.0.0.1', pipeline, holder: parts.holder, limits: { messagesPerMinute: 1000 } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'vi-VN' });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) failedResponses.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => void d.dismiss());
  await page.goto(web.url);
  await page.locator('html[data-ready="1"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await pipeline?.close();
});

/** The bot message that contains `text` (waits until it is shown). */
async function botMessage(text: string) {
  const loc = page.locator('.msg.bot[data-seq]', { hasText: text }).last();
  await loc.waitFor();
  return loc;
}

async function ask(text: string): Promise<void> {
  await page.locator('#q').fill(text);
  await page.locator('#q').press('Enter');
}

/**
 * Where a piece of a message's text is drawn, and the top of the input bar: text above
 * the bar and below the top of the window is on the screen a citizen sees.
 */
async function onScreen(message: Locator, fragment: string): Promise<{ top: number; bottom: number; barTop: number; height: number }> {
  return message.evaluate((div, frag) => {
    const p = div.querySelector('.text') as HTMLElement;
    const node = p.firstChild as Text;
    const at = node.data.indexOf(frag);
    if (at < 0) throw new Error(`"${frag}" is not in the message`);
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + frag.length);
    const r = range.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, barTop: (document.getElementById('ask') as HTMLElement).getBoundingClientRect().top, height: window.innerHeight };
  }, fragment);
}

/** True when the element's centre is really drawn on top (not hidden behind the fixed input bar). */
async function drawnOnTop(loc: Locator): Promise<boolean> {
  return loc.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === node || node.contains(hit));
  });
}

function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(fg: string, bg: string): number {
  const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x) as [number, number];
  return (a + 0.05) / (b + 0.05);
}

describe('web chat page in Chromium', () => {
  it('greets in Vietnamese with large, high-contrast text that fits a phone screen', async () => {
    await expect(page.locator('html')).toBeDefined();
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    await page.locator('.msg.bot', { hasText: 'Chào bạn!' }).waitFor();
    const style = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      const q = getComputedStyle(document.getElementById('q') as HTMLElement);
      return { size: parseFloat(s.fontSize), color: s.color, bg: s.backgroundColor, inputSize: parseFloat(q.fontSize), overflow: document.documentElement.scrollWidth - window.innerWidth };
    });
    expect(style.size).toBeGreaterThanOrEqual(18);
    expect(style.inputSize).toBeGreaterThanOrEqual(18);
    expect(contrast(style.color, style.bg)).toBeGreaterThanOrEqual(7);
    expect(style.overflow).toBeLessThanOrEqual(0);
  });

  it('answers a typed question with the documents checklist', async () => {
    await ask('đăng ký khai sinh cần giấy tờ gì');
    await page.locator('.msg.user', { hasText: 'đăng ký khai sinh cần giấy tờ gì' }).waitFor();
    const answer = await botMessage('Hồ sơ cần chuẩn bị — Đăng ký khai sinh');
    expect(await answer.locator('.text').innerText()).toContain('☐ Giấy chứng sinh');
    // The first paper to bring (the form) is on the first screen, above the input bar.
    const first = await onScreen(answer, '☐ Tờ khai đăng ký khai sinh');
    expect(first.top).toBeGreaterThanOrEqual(0);
    expect(first.bottom).toBeLessThanOrEqual(first.barTop);
    // Options are big tappable buttons; the portal address is a real link.
    const option = answer.locator('button.opt', { hasText: 'Các bước' });
    const box = await option.boundingBox();
    expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
    const optionStyle = await option.evaluate((b) => ({ color: getComputedStyle(b).color, bg: getComputedStyle(b).backgroundColor, size: parseFloat(getComputedStyle(b).fontSize) }));
    expect(optionStyle.size).toBeGreaterThanOrEqual(18);
    expect(contrast(optionStyle.color, optionStyle.bg)).toBeGreaterThanOrEqual(7);
    // The web address is a link, not text pasted into the answer.
    expect(await answer.locator('.text').innerText()).not.toMatch(/https?:\/\//);
  });

  it('sends an option’s payload when it is tapped and shows its label', async () => {
    const answer = await botMessage('Hồ sơ cần chuẩn bị — Đăng ký khai sinh');
    await answer.locator('button.opt', { hasText: 'Các bước' }).tap();
    await page.locator('.msg.user', { hasText: 'Các bước' }).waitFor();
    await botMessage('Các bước thực hiện — Đăng ký khai sinh');
    expect(await page.locator('.msg.user', { hasText: '#p:' }).count()).toBe(0);
  });

  it('keeps the context for a follow-up question, and the rating question is visible', async () => {
    await ask('thế lệ phí bao nhiêu?');
    const fee = await botMessage('Phí, lệ phí — Đăng ký khai sinh');
    // One answer per message: exactly one fee answer on the page.
    expect(await page.locator('.msg.bot[data-seq]', { hasText: 'Phí, lệ phí — Đăng ký khai sinh' }).count()).toBe(1);
    const question = fee.locator('.rating .question');
    await expect.poll(() => question.isVisible()).toBe(true);
    expect(await question.evaluate((q) => getComputedStyle(q).position)).toBe('static');
    await question.scrollIntoViewIfNeeded();
    expect(await drawnOnTop(question)).toBe(true);
    await fee.locator('button.rate').first().tap();
    await botMessage(parts.holder.version.knowledge.replies.ratingThanks);
    expect(await fee.locator('button.rate').evaluateAll((bs) => bs.every((b) => (b as HTMLButtonElement).disabled))).toBe(true);
  });

  it('opens the sources with a "Nguồn" button, the portal page as a real link', async () => {
    const fee = await botMessage('Phí, lệ phí — Đăng ký khai sinh');
    await fee.locator('button.opt', { hasText: 'Nguồn' }).tap();
    const sources = await botMessage('Nguồn — Đăng ký khai sinh');
    const link = sources.locator('a.link[href^="https://dichvucong.gov.vn/"]');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
  });

  it('shows the whole input hint on a phone', async () => {
    const fit = await page.locator('#q').evaluate((q) => {
      const t = q as HTMLTextAreaElement;
      const s = getComputedStyle(t);
      const ctx = document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
      ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
      return { text: ctx.measureText(t.placeholder).width, room: t.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) };
    });
    expect(fit.text).toBeLessThanOrEqual(fit.room);
  });

  it('shows user text as text, never as markup', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><b>đậm</b>';
    await ask(evil);
    const bubble = page.locator('.msg.user').last();
    await bubble.waitFor();
    expect(await bubble.innerText()).toBe(evil);
    await page.locator('.msg.bot[data-seq]').nth(5).waitFor(); // the reply to it
    expect(await page.locator('#log img, #log b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows a staff reply that arrives later, and a reload restores the conversation as it was', async () => {
    const sessionId = await page.evaluate(() => localStorage.getItem('tthc.sessionId'));
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    await pipeline.push('web', webConversationId(sessionId as string), { text: 'Cán bộ trả lời:\nChị mang bản chính giấy chứng sinh nhé.', options: [], links: [] });
    await botMessage('Chị mang bản chính giấy chứng sinh nhé.');
    const bubbles = () => page.locator('#log .msg.user, #log .msg.bot[data-seq]').evaluateAll((ns) => ns.map((n) => `${n.classList.contains('user') ? 'citizen' : 'bot'}: ${(n.querySelector('.text') as HTMLElement).innerText}`));
    const before = await bubbles();
    expect(before.length).toBeGreaterThanOrEqual(12);

    await page.reload();
    await page.locator('html[data-ready="1"]').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('tthc.sessionId'))).toBe(sessionId);
    expect(await bubbles()).toEqual(before);
    // Restored options still work; a new question continues the same conversation.
    await ask('thế mất bao lâu?');
    await botMessage('Thời hạn giải quyết — Đăng ký khai sinh');
    // Nothing is shown twice.
    expect(await page.locator('.msg.bot[data-seq]', { hasText: 'giấy chứng sinh nhé' }).count()).toBe(1);
  });

  it('loaded nothing from outside, found everything it asked for and raised no script errors', async () => {
    // The icon browsers ask for is ours (headless Chromium does not fetch it by itself).
    expect(await page.evaluate(async () => (await fetch('/favicon.ico')).headers.get('content-type'))).toBe('image/x-icon');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(web.url))).toEqual([]);
    expect(failedResponses).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
