/**
 * Staff work across processes with REDIS_URL (issue 12's scale-out clause, issue 13 item 10):
 * a ticket opened by a worker's engine reaches the Telegram staff group through the process
 * that owns Telegram (real grammY against the fake Bot API); the citizen's follow-up joins
 * the ticket and shows in the group; `npm run handoffs -- reply` issued in a third process
 * (no senders of its own) reaches the citizen through the BullMQ send queue of the process
 * that owns the web channel, and the worker's assistant stays quiet afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { createTelegramChannel, type TelegramChannel } from '../bot/channels/telegram.ts';
import { postTicketEvents } from '../bot/channels/telegram/staff.ts';
import { loadConfig, type Config } from '../bot/config.ts';
import type { Reply } from '../bot/dialogue/types.ts';
import { createTickets } from '../bot/handoff/factory.ts';
import type { Ticket } from '../bot/handoff/tickets.ts';
import { createBullPipeline, redisAssistantOverrides, type BullPipeline } from '../bot/queue/index.ts';
import { RedisTicketEvents } from '../bot/handoff/events.ts';
import { runHandoffs } from '../scripts/handoffs.ts';
import { FakeBotApi } from './helpers/fake-bot-api.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { cleanupPrefix, connectRedis, randomPrefix, until } from './queue-helpers.ts';

const STAFF_CHAT = -100555;
const prefix = randomPrefix('staffx');
const dir = mkdtempSync(join(tmpdir(), 'staffx-'));
let redis: Redis;
let config: Config;
let api: FakeBotApi;
let tg: TelegramChannel;
let mainPipeline: BullPipeline;
const webSent: { conversationId: string; reply: Reply }[] = [];
let worker: ReturnType<typeof createAssistant>;
let workerTickets: ReturnType<typeof createTickets>;
let mainTickets: ReturnType<typeof createTickets>;
let ticket: Ticket;
let seq = 0;

const say = (text: string) => worker.engine.handle({ channel: 'web', conversationId: 'web-remote1', userId: 'u-remote', messageId: `x${++seq}`, text, kind: 'text' });

beforeAll(async () => {
  redis = await connectRedis();
  config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUEUE_PREFIX: prefix, DATA_DIR: dir, DOSSIER_PROVIDER: 'memory' });
  // The worker process: engine, shared conversation state, tickets published on Redis.
  workerTickets = createTickets(config, { redis });
  worker = createAssistant(config, { ...redisAssistantOverrides(redis, config), holder: knowledgeHolder(), tickets: workerTickets.tickets });
  // The `npm start` process that owns Telegram and the web pages.
  mainTickets = createTickets(config, { redis });
  await (mainTickets.events as RedisTicketEvents).start();
  const main = createAssistant(config, { ...redisAssistantOverrides(redis, config), holder: knowledgeHolder(), tickets: mainTickets.tickets });
  mainPipeline = createBullPipeline(main.engine, config, { connection: redis, inboundWorkers: false });
  mainPipeline.registerSender({ channel: 'web', send: async (conversationId, reply) => void webSent.push({ conversationId, reply }) });
  api = new FakeBotApi();
  await api.start();
  tg = createTelegramChannel({ token: api.token, apiRoot: api.apiRoot, pipeline: mainPipeline, engine: main.engine, tickets: mainTickets.tickets, holder: main.holder, staffChatId: String(STAFF_CHAT), pollTimeoutSeconds: 1, botInfo: api.botInfo });
  postTicketEvents(mainTickets.events, mainTickets.tickets, tg.staff as NonNullable<typeof tg.staff>);
});

afterAll(async () => {
  await tg?.stop();
  await mainPipeline?.close();
  await workerTickets?.events.close();
  await mainTickets?.events.close();
  await api?.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('staff work across processes (Redis)', () => {
  it('a ticket opened by a worker is posted once to the Telegram staff group by the process that owns Telegram', async () => {
    const t = await say('cho tôi gặp cán bộ');
    ticket = t.ticket as Ticket;
    expect(ticket.id).toMatch(/^HT-/);
    const post = await api.waitFor('sendMessage', (c) => String(c.payload.chat_id) === String(STAFF_CHAT) && String(c.payload.text).includes(ticket.id));
    expect(String(post.payload.text)).toContain('Kênh: web');
    await new Promise((r) => setTimeout(r, 200));
    expect(api.sent('sendMessage', STAFF_CHAT).filter((c) => String(c.payload.text).includes(ticket.id))).toHaveLength(1);
  });

  it("the citizen's follow-up joins the ticket (masked) and shows in the staff group under its number", async () => {
    expect((await say('tôi ở số 0912345678, còn đó không')).reply).toBeNull();
    const got = await mainTickets.tickets.get(ticket.id);
    expect(got?.messages.at(-1)?.text).toContain('còn đó không');
    expect(got?.messages.at(-1)?.text).not.toContain('0912345678');
    await api.waitFor('sendMessage', (c) => String(c.payload.chat_id) === String(STAFF_CHAT) && String(c.payload.text).includes('nhắn thêm') && String(c.payload.text).includes(ticket.id));
  });

  it('a reply issued in another process (npm run handoffs) reaches the citizen through the owner of the web channel', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runHandoffs(['reply', ticket.id, 'Chào bạn, cán bộ đây.'], { dataDir: dir, config, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    await until(() => webSent.some((s) => s.reply.text.includes('Chào bạn, cán bộ đây.')), 'the staff reply on the web page', 20_000);
    expect(webSent.find((s) => s.reply.text.includes('Chào bạn'))?.conversationId).toBe('web-remote1');
    const got = await workerTickets.tickets.get(ticket.id);
    expect(got?.status).toBe('answered');
    expect(got?.firstStaffReplyAt).toBeGreaterThan(0);
    // Staff in the Telegram group see the answer given elsewhere, under the ticket number.
    await api.waitFor('sendMessage', (c) => String(c.payload.chat_id) === String(STAFF_CHAT) && String(c.payload.text).includes('đã trả lời phiếu') && String(c.payload.text).includes('Chào bạn, cán bộ đây.'));
    // The worker's assistant (shared state in Redis) stays quiet now.
    expect((await say('vâng cảm ơn, lệ phí bao nhiêu')).reply).toBeNull();
  });

  it('close from another process hands the conversation back: the citizen hears the assistant is back', async () => {
    const code = await runHandoffs(['close', ticket.id, 'resolved'], { dataDir: dir, config, out: () => undefined, err: () => undefined });
    expect(code).toBe(0);
    const back = worker.holder.version.knowledge.replies.handoffReleased;
    await until(() => webSent.some((s) => s.reply.text === back), 'the release notice', 20_000);
    expect((await workerTickets.tickets.get(ticket.id))?.status).toBe('closed');
    expect((await say('lệ phí làm căn cước')).reply?.text).toBeTruthy();
  });
});
