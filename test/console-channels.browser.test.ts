/**
 * The console's hand-off → reply → release flow with citizens on the other channels, in
 * real Chromium: a Telegram citizen (the real grammY bot polling the local fake Bot API,
 * test/helpers/fake-bot-api.ts) and a Zalo citizen (the real zca-js against the local
 * stand-in of Zalo's endpoints, test/helpers/zalo-wire.ts). The officer sees each ticket
 * appear live with its channel, answers from the console, and the answer reaches the
 * citizen on their own channel through the assistant's outbound path; after release the
 * assistant answers there again. One browser, one agent page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramChannel, type TelegramChannel } from '../bot/channels/telegram.ts';
import { writeZaloCredentials } from '../bot/channels/zalo/credentials.ts';
import { startZaloHotline, type ZaloHotlineHandle } from '../bot/channels/zalo/index.ts';
import { ZcaTransport } from '../bot/channels/zalo/zca-transport.ts';
import { FakeBotApi, privateChat, textMessage } from './helpers/fake-bot-api.ts';
import { CHROMIUM, CHROMIUM_ARGS, PASSWORD, signIn, staffContext, startConsoleRig, type ConsoleRig } from './helpers/console.ts';
import { ZaloWire } from './helpers/zalo-wire.ts';

let rig: ConsoleRig;
let browser: Browser;
let page: Page;
let api: FakeBotApi;
let tg: TelegramChannel;
let wire: ZaloWire;
let zalo: ZaloHotlineHandle;
const errors: object[] = [];
const log = { info: () => {}, warn: () => {}, error: (obj: object) => void errors.push(obj) };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; the console tests need it. Install it with: apt-get install -y chromium`);
  rig = await startConsoleRig();
  await rig.staff.accounts.add('lan', 'agent', PASSWORD, 'test');

  api = new FakeBotApi();
  await api.start();
  api.addChat(privateChat(4001).chat);
  tg = createTelegramChannel({ token: api.token, apiRoot: api.apiRoot, pipeline: rig.pipeline, engine: rig.parts.engine, tickets: rig.parts.tickets, holder: rig.holder, pollTimeoutSeconds: 1, botInfo: api.botInfo, log });
  await tg.start();

  wire = await ZaloWire.start();
  const credentialsFile = join(rig.config.DATA_DIR, 'zalo', 'zalo-credentials.json');
  await writeZaloCredentials(credentialsFile, wire.credentials());
  zalo = startZaloHotline({
    config: rig.config,
    engine: rig.parts.engine,
    pipeline: rig.pipeline,
    log,
    transport: new ZcaTransport({ fetch: wire.fetch }),
    hotlineOptions: { credentialsFile, credentialsSaveMs: 0 },
    sendOptions: { delayMinMs: 0, delayMaxMs: 0, threadMinIntervalMs: 0 },
  });
  if (zalo.hotline.state !== 'connected') await new Promise<void>((resolve) => zalo.hotline.on('state', (s: string) => s === 'connected' && resolve()));

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await staffContext(browser);
  page = await context.newPage();
  await signIn(page, rig.web.url, 'lan');
  await page.locator('body[data-live="1"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await tg?.stop();
  await zalo?.stop();
  await wire?.stop();
  await api?.close();
  await rig?.close();
});

/** Waits for the ticket to appear in the open inbox (no reload), opens it, and checks its channel. */
async function openTicket(channelLabel: string, fromText: string): Promise<string> {
  const item = page.locator('#ticket-list a', { hasText: channelLabel });
  await item.waitFor();
  const id = (await item.getAttribute('data-ticket')) as string;
  await Promise.all([page.waitForURL(`**/staff/inbox/${id}`), item.click()]);
  expect(await page.locator('#ticket-head .channel').innerText()).toBe(channelLabel);
  await page.locator('#conversation .m.citizen', { hasText: fromText }).waitFor();
  return id;
}

async function reply(text: string): Promise<void> {
  await page.locator('#reply-text').fill(text);
  await Promise.all([page.waitForURL(/\/staff\/inbox\/HT-/), page.locator('form.reply button[type="submit"]').click()]);
  await page.locator('.flash.ok', { hasText: 'Đã gửi tới người dân' }).waitFor();
}

async function release(id: string): Promise<void> {
  await Promise.all([page.waitForURL('**/staff/inbox'), page.locator('button', { hasText: 'Trả lại cho trợ lý' }).click()]);
  await page.locator('.flash.ok', { hasText: `${id}: đã trả lại cho trợ lý` }).waitFor();
}

describe('console with a Telegram citizen (grammY, fake Bot API)', () => {
  it('hand-off → reply from the console → release, all on Telegram', async () => {
    const { chat, from } = privateChat(4001, 'Phạm Thị Dung');
    const sentTo = (text: string, after: number) => api.waitFor('sendMessage', (c) => !!c.result && String(c.payload.chat_id) === '4001' && String(c.payload.text).includes(text), after);
    const m0 = api.mark();
    api.push(textMessage(chat, from, 'cho tôi gặp cán bộ'));
    await sentTo('HT-', m0);
    const id = await openTicket('Telegram', 'cho tôi gặp cán bộ');
    expect(await page.locator('#ticket-head').innerText()).toContain('Phạm T** D***'); // masked

    const m1 = api.mark();
    await reply('Chào chị Dung, chị cần hỏi thủ tục nào ạ?');
    const delivered = await sentTo('Chào chị Dung, chị cần hỏi thủ tục nào ạ?', m1);
    expect(String(delivered.payload.text)).toContain('Cán bộ trả lời');

    const m2 = api.mark();
    await release(id);
    await sentTo(rig.holder.version.knowledge.replies.handoffReleased.slice(0, 30), m2);
    const m3 = api.mark();
    api.push(textMessage(chat, from, 'đăng ký kết hôn cần gì'));
    await sentTo('Hồ sơ cần chuẩn bị', m3);
    expect((await rig.tickets.get(id))?.status).toBe('released');
  });
});

describe('console with a Zalo citizen (zca-js, Zalo wire stand-in)', () => {
  it('hand-off → reply from the console → release, all on Zalo', async () => {
    const uid = '2469000000000001';
    const sent = (text: string, after: number) => wire.nextSend((s) => s.threadId === uid && !!s.msgId && s.text.includes(text), after);
    const s0 = wire.sent.length;
    wire.pushText(uid, 'tôi muốn gặp cán bộ');
    await sent('HT-', s0);
    const id = await openTicket('Zalo', 'tôi muốn gặp cán bộ');

    const s1 = wire.sent.length;
    await reply('Chào anh, cán bộ Lan đây. Anh cần hỗ trợ gì ạ?');
    const delivered = await sent('cán bộ Lan đây', s1);
    expect(delivered.text).toContain('Cán bộ trả lời');

    const s2 = wire.sent.length;
    await release(id);
    await sent(rig.holder.version.knowledge.replies.handoffReleased.slice(0, 30), s2);
    const s3 = wire.sent.length;
    wire.pushText(uid, 'làm căn cước cần gì');
    await sent('Hồ sơ cần chuẩn bị', s3);
    expect(errors).toEqual([]);
  });
});
