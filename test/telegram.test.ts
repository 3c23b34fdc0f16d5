/**
 * The real grammY bot (long polling through our poller, bot/channels/telegram/poller.ts, and webhook mode on our web
 * server) against a local fake Bot API server. Messages go through the real pipeline and
 * dialogue engine; tests await the calls the fake server records, never a timer.
 */
import type { Chat, User } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, type AssistantParts } from '../bot/assistant.ts';
import { createTelegramChannel, defaultWebhookSecret, type TelegramChannel } from '../bot/channels/telegram.ts';
import { TicketNotifiers } from '../bot/channels/telegram/staff.ts';
import { startWebServer, type WebServer } from '../bot/channels/web.ts';
import { loadConfig } from '../bot/config.ts';
import type { Turn } from '../bot/dialogue/engine.ts';
import type { IncomingMessage, Reply } from '../bot/dialogue/types.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';
import { FakeBotApi, privateChat, textMessage, type ApiCall } from './helpers/fake-bot-api.ts';

const STAFF: Chat.SupergroupChat = { id: -100777, type: 'supergroup', title: 'Cán bộ một cửa' };
const STAFF_MEMBER: User = { id: 900, is_bot: false, first_name: 'Cán bộ Lan' };

interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

let api: FakeBotApi;
let parts: AssistantParts;
let pipeline: InProcessPipeline;
let tg: TelegramChannel;
const logs: LogLine[] = [];
const log = {
  info: (obj: object, msg?: string) => logs.push({ level: 'info', obj, msg }),
  warn: (obj: object, msg?: string) => logs.push({ level: 'warn', obj, msg }),
  error: (obj: object, msg?: string) => logs.push({ level: 'error', obj, msg }),
};
const webSent: { conversationId: string; reply: Reply }[] = [];
const health: { ok: boolean; detail?: string }[] = [];
const turnWaiters = new Map<string, (t: Turn) => void>();

/** Resolves with the dialogue turn of the message with this pipeline message id. */
function turnOf(messageId: string): Promise<Turn> {
  return new Promise((resolve) => turnWaiters.set(messageId, resolve));
}

function sentTo(chatId: number, from: number, includes: string): Promise<ApiCall> {
  return api.waitFor('sendMessage', (c) => !!c.result && String(c.payload.chat_id) === String(chatId) && String(c.payload.text).includes(includes), from);
}

/** Button texts and callback data of an inline keyboard. */
function buttons(call: ApiCall): { text: string; callback_data?: string }[] {
  const markup = call.payload.reply_markup as { inline_keyboard: { text: string; callback_data?: string }[][] } | undefined;
  return markup?.inline_keyboard.flat() ?? [];
}

/** Telegram HTML: only our tags, every other <, > and & escaped. */
function expectSafeHtml(html: string): void {
  const withoutTags = html.replace(/<\/?(?:a|i|b)(?: href="[^"<>]*")?>/g, '');
  expect(withoutTags).not.toMatch(/[<>]/);
  expect(withoutTags).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
}

beforeAll(async () => {
  api = new FakeBotApi();
  await api.start();
  // The bot was added to the staff group; citizens 1010–1011 wrote to it before.
  api.addChat(STAFF);
  for (const id of [1010, 1011, 1012]) api.addChat(privateChat(id).chat);
  const notifiers = new TicketNotifiers();
  parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent' }), { memoryTickets: true, onTicket: notifiers.notify, log });
  pipeline = new InProcessPipeline(parts.engine, log, { maxSeen: 10_000, sendAttempts: 2, backoffMs: 1 });
  pipeline.onTurn((msg: IncomingMessage, turn: Turn) => turnWaiters.get(msg.messageId)?.(turn));
  pipeline.registerSender({ channel: 'web', send: async (conversationId, reply) => void webSent.push({ conversationId, reply }) });
  tg = createTelegramChannel({
    token: api.token,
    apiRoot: `${api.apiRoot}/`,
    pipeline,
    engine: parts.engine,
    tickets: parts.tickets,
    holder: parts.holder,
    staffChatId: String(STAFF.id),
    pollTimeoutSeconds: 10,
    log,
    onHealth: (h) => health.push(h),
  });
  notifiers.add((t) => tg.notifyStaff(t));
  await tg.start();
});

afterAll(async () => {
  await tg?.stop();
  await pipeline?.close();
  await api?.close();
});

describe('telegram long polling', () => {
  it('identifies itself and polls without a webhook', async () => {
    await api.waitFor('getMe');
    await api.waitFor('deleteWebhook');
    expect(tg.bot.botInfo.username).toBe('tthc_test_bot');
    expect(health).toEqual([{ ok: true, detail: 'long polling' }]);
  });

  it('answers a question with the documents checklist in HTML, options as inline buttons and a rating row', async () => {
    const { chat, from } = privateChat(1001);
    const from0 = api.mark();
    api.push(textMessage(chat, from, 'đăng ký khai sinh cần giấy tờ gì'));
    const call = await sentTo(1001, from0, 'Hồ sơ cần chuẩn bị');
    expect(call.payload.parse_mode).toBe('HTML');
    expect(String(call.payload.text)).toContain('Đăng ký khai sinh');
    expect(String(call.payload.text)).toContain('☐');
    expectSafeHtml(String(call.payload.text));
    const b = buttons(call);
    expect(b).toContainEqual({ text: 'Lệ phí', callback_data: 'o:#p:ho-tich.khai-sinh:procedure.fee' });
    expect(b.map((x) => x.callback_data)).toContain('o:#r:1:1:procedure.documents:ho-tich.khai-sinh');
    for (const x of b) expect(Buffer.byteLength(x.callback_data ?? '')).toBeLessThanOrEqual(64);
    expect(api.sent('sendChatAction', 1001)[0]?.payload.action).toBe('typing');
    expect(api.sent('sendMessage', 1001)).toHaveLength(1);
  });

  it('answers a tapped option: the callback query is answered, then that aspect is sent', async () => {
    const { chat, from } = privateChat(1001);
    const from0 = api.mark();
    api.push({ callback_query: { id: 'cq-1', from, chat_instance: 'ci', data: 'o:#p:ho-tich.khai-sinh:procedure.fee', message: { message_id: 1, date: 0, chat, text: 'x' } } } as never);
    const answered = await api.waitFor('answerCallbackQuery', (c) => c.payload.callback_query_id === 'cq-1', from0);
    expect(answered.payload.text).toBeUndefined();
    await sentTo(1001, from0, 'Phí, lệ phí — Đăng ký khai sinh');
  });

  it('keeps the context for a short follow-up', async () => {
    const { chat, from } = privateChat(1001);
    const from0 = api.mark();
    api.push(textMessage(chat, from, 'thế nộp ở đâu?'));
    await sentTo(1001, from0, 'Nơi nộp hồ sơ — Đăng ký khai sinh');
  });

  it('records a rating tap and thanks the citizen', async () => {
    const { chat, from } = privateChat(1001);
    const from0 = api.mark();
    api.push({ callback_query: { id: 'cq-rate', from, chat_instance: 'ci', data: 'o:#r:1:procedure.fee', message: { message_id: 1, date: 0, chat, text: 'x' } } } as never);
    await sentTo(1001, from0, parts.holder.version.knowledge.replies.ratingThanks);
  });

  it('still answers a tap whose callback query is too old to acknowledge', async () => {
    const { chat, from } = privateChat(1008);
    api.failNext('answerCallbackQuery', { error_code: 400, description: 'Bad Request: query is too old and response timeout expired or query ID is invalid' });
    const from0 = api.mark();
    api.push({ callback_query: { id: 'cq-late', from, chat_instance: 'ci', data: 'o:#p:ho-chieu.cap:procedure.duration', message: { message_id: 1, date: 0, chat, text: 'x' } } } as never);
    await sentTo(1008, from0, 'Thời hạn giải quyết');
  });

  it('tells the citizen when a button is too old to resolve', async () => {
    const { chat, from } = privateChat(1002);
    const from0 = api.mark();
    api.push({ callback_query: { id: 'cq-old', from, chat_instance: 'ci', data: 'k:forgotten-key', message: { message_id: 1, date: 0, chat, text: 'x' } } } as never);
    const answered = await api.waitFor('answerCallbackQuery', (c) => c.payload.callback_query_id === 'cq-old', from0);
    expect(answered.payload.text).toBe(parts.holder.version.knowledge.replies.telegramButtonExpired);
  });

  it('opens the procedure named by a /start deep link', async () => {
    const { chat, from } = privateChat(1003);
    const from0 = api.mark();
    api.push(textMessage(chat, from, '/start ho-tich__khai-sinh'));
    const call = await sentTo(1003, from0, 'Đăng ký khai sinh');
    expect(buttons(call).map((b) => b.text)).toContain('Giấy tờ cần mang');
  });

  it('the dossier-lookup poster link asks for the dossier code', async () => {
    const { chat, from } = privateChat(1013);
    const from0 = api.mark();
    api.push(textMessage(chat, from, '/start tra-cuu-ho-so'));
    await sentTo(1013, from0, 'mã hồ sơ');
  });

  it('greets on /start without a usable payload and answers /help', async () => {
    const { chat, from } = privateChat(1004);
    const r = parts.holder.version.knowledge.replies;
    const from0 = api.mark();
    api.push(textMessage(chat, from, '/start khong__co-thu-tuc-nay'));
    const greet = await sentTo(1004, from0, 'Chào bạn!');
    expect(buttons(greet).length).toBeGreaterThan(0);
    const from1 = api.mark();
    api.push(textMessage(chat, from, '/help'));
    await sentTo(1004, from1, r.help.slice(0, 30));
  });

  it('answers a sticker or a photo politely', async () => {
    const { chat, from } = privateChat(1005);
    const nonText = parts.holder.version.knowledge.replies.nonText;
    const from0 = api.mark();
    api.push({ message: { message_id: 77, date: 0, chat, from, sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } } } as never);
    await sentTo(1005, from0, nonText.slice(0, 40));
    const from1 = api.mark();
    api.push({ message: { message_id: 78, date: 0, chat, from, photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] } } as never);
    await sentTo(1005, from1, nonText.slice(0, 40));
  });

  it('in a group, answers only when mentioned or replied to', async () => {
    const group: Chat.GroupChat = { id: -2001, type: 'group', title: 'Tổ dân phố 3' };
    const { from } = privateChat(1006);
    const from0 = api.mark();
    api.push(textMessage(group, from, 'lệ phí làm hộ chiếu bao nhiêu'));
    const mention = '@tthc_test_bot';
    const text = `${mention} lệ phí làm hộ chiếu bao nhiêu`;
    api.push(textMessage(group, from, text, { entities: [{ type: 'mention', offset: 0, length: mention.length }] }));
    const answer = await sentTo(-2001, from0, 'Phí, lệ phí');
    // Updates of one chat are handled in order: the unaddressed one would have been answered first.
    expect(api.sent('sendMessage', -2001)).toEqual([answer]);
    const from1 = api.mark();
    api.push(textMessage(group, from, 'thế mất bao lâu?', { reply_to_message: { message_id: 1, date: 0, chat: group, from: api.botInfo, text: 'x' } as never }));
    await sentTo(-2001, from1, 'Thời hạn giải quyết');
    expect(api.sent('sendMessage', -2001)).toHaveLength(2);
  });

  it('retries after a flood-control 429 and delivers once', async () => {
    const { chat, from } = privateChat(1007);
    api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 0', parameters: { retry_after: 0 } });
    const from0 = api.mark();
    api.push(textMessage(chat, from, 'làm hộ chiếu cần giấy tờ gì'));
    await sentTo(1007, from0, 'Hồ sơ cần chuẩn bị');
    const attempts = api.sent('sendMessage', 1007);
    expect(attempts.map((c) => c.error?.error_code ?? 'ok')).toEqual([429, 'ok']);
  });
});

describe('telegram sending', () => {
  it('splits a long reply into parts under 4,096 characters, the keyboard on the last', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `☐ Giấy tờ số ${i}: bản sao <có chứng thực> & bản chính để đối chiếu`);
    const from0 = api.mark();
    await pipeline.push('telegram', '1010', { text: lines.join('\n'), options: [{ label: 'Lệ phí', payload: '#p:ho-tich.khai-sinh:procedure.fee' }], links: [] });
    const parts = api.sent('sendMessage', 1010).filter((c) => api.calls.indexOf(c) >= from0);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => !p.error)).toBe(true);
    for (const p of parts) expectSafeHtml(String(p.payload.text));
    expect(parts.map((p) => buttons(p).length)).toEqual([...parts.slice(1).map(() => 0), 1]);
    const visible = parts.map((p) => String(p.payload.text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    expect(visible.join('\n')).toBe(lines.join('\n'));
  });

  it('falls back to plain text when Telegram refuses the HTML', async () => {
    api.failNext('sendMessage', { error_code: 400, description: "Bad Request: can't parse entities: unexpected end tag" });
    const from0 = api.mark();
    await pipeline.push('telegram', '1011', { text: 'Lệ phí: 50.000 đồng <miễn cho trẻ em>', options: [], links: [] });
    const calls = api.sent('sendMessage', 1011).filter((c) => api.calls.indexOf(c) >= from0);
    expect(calls.map((c) => [c.payload.parse_mode, c.error?.error_code])).toEqual([
      ['HTML', 400],
      [undefined, undefined],
    ]);
    expect(calls[1]?.payload.text).toBe('Lệ phí: 50.000 đồng <miễn cho trẻ em>');
  });

  it('does not retry when the citizen blocked the bot', async () => {
    api.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const from0 = api.mark();
    await pipeline.push('telegram', '1012', { text: 'Cán bộ trả lời: chào anh', options: [], links: [] });
    expect(api.sent('sendMessage', 1012).filter((c) => api.calls.indexOf(c) >= from0)).toHaveLength(1);
    expect(logs.some((l) => l.msg === 'send failed' && (l.obj as { err?: Error }).err?.name === 'PermanentSendError')).toBe(true);
  });
});

describe('telegram staff group', () => {
  it('posts a hand-off ticket, forwards a staff reply to the Telegram citizen, and releases it', async () => {
    const { chat, from } = privateChat(3001, 'Trần Thị Bình');
    const from0 = api.mark();
    api.push(textMessage(chat, from, 'cho tôi gặp cán bộ'));
    const ticketPost = await sentTo(STAFF.id, from0, 'HT-');
    await sentTo(3001, from0, 'phiếu số HT-');
    const ticketId = /HT-\d{6}-\d{4}/.exec(String(ticketPost.payload.text))?.[0] as string;
    expect(String(ticketPost.payload.text)).toContain('Trần T** B***'); // masked name only
    expect(buttons(ticketPost)).toEqual([{ text: 'Trả lại cho trợ lý', callback_data: `s:rel:${ticketId}` }]);

    // The citizen writes again: staff own the conversation, the bot stays quiet.
    const quiet = api.push(textMessage(chat, from, 'alo có ai không'));
    const quietTurn = await turnOf(`3001_${quiet.message?.message_id}`);
    expect(quietTurn.reply).toBeNull();

    // A staff member replies to the ticket post in the group.
    const ticketMessage = { message_id: messageIdOf(ticketPost), date: 0, chat: STAFF, from: api.botInfo, text: String(ticketPost.payload.text) };
    const from1 = api.mark();
    api.push(textMessage(STAFF, STAFF_MEMBER, 'Chào chị, chị mang theo CCCD nhé.', { reply_to_message: ticketMessage as never }));
    const toCitizen = await sentTo(3001, from1, 'Chào chị, chị mang theo CCCD nhé.');
    expect(String(toCitizen.payload.text)).toContain('Cán bộ trả lời');
    await sentTo(STAFF.id, from1, `Đã gửi tới người dân (phiếu ${ticketId})`);
    expect((await parts.tickets.get(ticketId))?.status).toBe('answered');

    // The release button hands the conversation back and tells the citizen.
    const from2 = api.mark();
    api.push({ callback_query: { id: 'cq-rel', from: STAFF_MEMBER, chat_instance: 'st', data: `s:rel:${ticketId}`, message: ticketMessage } } as never);
    const ack = await api.waitFor('answerCallbackQuery', (c) => c.payload.callback_query_id === 'cq-rel', from2);
    expect(String(ack.payload.text)).toContain(ticketId);
    await sentTo(3001, from2, parts.holder.version.knowledge.replies.handoffReleased);
    expect((await parts.tickets.get(ticketId))?.status).toBe('released');

    // And the assistant answers again.
    const from3 = api.mark();
    api.push(textMessage(chat, from, 'đăng ký kết hôn cần gì'));
    await sentTo(3001, from3, 'Hồ sơ cần chuẩn bị');
  });

  it("sends a staff reply to a web citizen on the web channel, and /release works as a reply", async () => {
    const conv = 'web-staffcase01';
    const from0 = api.mark();
    await pipeline.submit({ channel: 'web', conversationId: conv, userId: conv, messageId: 'w1', text: 'tôi muốn gặp cán bộ', kind: 'text' });
    const post = await sentTo(STAFF.id, from0, 'Kênh: web');
    const ticketId = /HT-\d{6}-\d{4}/.exec(String(post.payload.text))?.[0] as string;
    const ticketMessage = { message_id: messageIdOf(post), date: 0, chat: STAFF, from: api.botInfo, text: String(post.payload.text) };
    const from1 = api.mark();
    api.push(textMessage(STAFF, STAFF_MEMBER, 'Anh để lại số điện thoại nhé', { reply_to_message: ticketMessage as never }));
    await sentTo(STAFF.id, from1, 'Đã gửi tới người dân');
    expect(webSent.find((w) => w.conversationId === conv && w.reply.text.includes('Anh để lại số điện thoại nhé'))).toBeTruthy();
    expect(await parts.engine.isHandedOff(conv)).toBe(true);

    const from2 = api.mark();
    api.push(textMessage(STAFF, STAFF_MEMBER, '/release', { reply_to_message: ticketMessage as never }));
    await sentTo(STAFF.id, from2, `${ticketId}: đã trả lại cho trợ lý`);
    expect(await parts.engine.isHandedOff(conv)).toBe(false);
    expect(webSent.filter((w) => w.conversationId === conv).map((w) => w.reply.text)).toContain(parts.holder.version.knowledge.replies.handoffReleased);
  });

  it('ignores staff chatter and explains when a reply names no ticket', async () => {
    const from0 = api.mark();
    api.push(textMessage(STAFF, STAFF_MEMBER, 'mọi người ơi trưa nay ăn gì'));
    api.push(textMessage(STAFF, STAFF_MEMBER, 'trả lời nhầm', { reply_to_message: { message_id: 1, date: 0, chat: STAFF, from: api.botInfo, text: 'tin nhắn không có phiếu' } as never }));
    const notice = await sentTo(STAFF.id, from0, 'Không tìm thấy phiếu');
    expect(api.sent('sendMessage', STAFF.id).filter((c) => api.calls.indexOf(c) >= from0)).toEqual([notice]);
  });
});

describe('telegram webhook mode', () => {
  let web: WebServer;
  let hookApi: FakeBotApi;
  let hookPipeline: InProcessPipeline;
  let hookBot: TelegramChannel;
  const secret = 'right_secret-123';

  beforeAll(async () => {
    hookApi = new FakeBotApi();
    await hookApi.start();
    hookPipeline = new InProcessPipeline(parts.engine, log);
    web = await startWebServer({ port: 0, host: '127.0.0.1', pipeline: hookPipeline, holder: parts.holder });
    hookBot = createTelegramChannel({
      token: hookApi.token,
      apiRoot: hookApi.apiRoot,
      pipeline: hookPipeline,
      engine: parts.engine,
      tickets: parts.tickets,
      holder: parts.holder,
      webhook: { url: `https://bot.example.vn/telegram/hook`, secret, addRoute: (r) => web.addRoute(r) },
      log,
    });
    await hookBot.start();
  });

  afterAll(async () => {
    await hookBot?.stop();
    await web?.close();
    await hookPipeline?.close();
    await hookApi?.close();
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${web.url}/telegram/hook`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

  it('registers the webhook with its secret', () => {
    expect(hookApi.webhook).toEqual({ url: 'https://bot.example.vn/telegram/hook', secret_token: secret });
    expect(hookApi.sent('deleteWebhook')).toHaveLength(0);
  });

  it('refuses a wrong or missing secret with 401 and handles nothing', async () => {
    const { chat, from } = privateChat(4001);
    const update = JSON.stringify({ update_id: 1, ...textMessage(chat, from, 'làm căn cước cần gì') });
    expect((await post(update, { 'X-Telegram-Bot-Api-Secret-Token': 'wrong' })).status).toBe(401);
    expect((await post(update, {})).status).toBe(401);
    expect((await post('{bad json', { 'X-Telegram-Bot-Api-Secret-Token': secret })).status).toBe(400);
    const ok = await post(JSON.stringify({ update_id: 2, ...textMessage(chat, from, 'làm căn cước cần gì') }), { 'X-Telegram-Bot-Api-Secret-Token': secret });
    expect(ok.status).toBe(200);
    const call = await hookApi.waitFor('sendMessage', (c) => c.payload.chat_id === 4001);
    expect(String(call.payload.text)).toContain('căn cước');
    expect(hookApi.sent('sendMessage', 4001)).toHaveLength(1);
  });

  it('derives a stable secret from the token when none is configured', () => {
    expect(defaultWebhookSecret('1:a')).toBe(defaultWebhookSecret('1:a'));
    expect(defaultWebhookSecret('1:a')).not.toBe(defaultWebhookSecret('1:b'));
    expect(defaultWebhookSecret('1:a')).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
  });
});

describe('telegram handler errors', () => {
  it('logged no failed updates', () => {
    expect(logs.filter((l) => l.level === 'error' && l.msg !== 'send failed' && !String(l.msg).includes('refused our HTML'))).toEqual([]);
  });
});

function messageIdOf(call: ApiCall): number {
  return (call.result as { message_id: number }).message_id;
}
