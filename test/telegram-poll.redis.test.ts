/**
 * Long polling from two processes sharing one bot (two real grammY channels against one
 * fake Bot API, which answers a second getUpdates with 409 to the first as Telegram
 * does). Without a lease, a 409 must not stop a poller for good. With the Redis lease,
 * exactly one polls, and when it loses Redis (or dies) the other takes over.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { createTelegramChannel, type PollLease, type TelegramChannel } from '../bot/channels/telegram.ts';
import { loadConfig } from '../bot/config.ts';
import { CallbackPayloads } from '../bot/channels/telegram/render.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';
import { RedisCallbackStore } from '../bot/queue/callbacks.ts';
import { LeaderLease, RedisLeaderLock } from '../bot/queue/leader.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { FakeBotApi, privateChat, textMessage } from './helpers/fake-bot-api.ts';
import { cleanupPrefix, connectRedis, randomPrefix, until } from './queue-helpers.ts';

interface Process {
  channel: TelegramChannel;
  pipeline: InProcessPipeline;
  lease?: LeaderLease;
  redis?: Redis;
}

let api: FakeBotApi;
const prefix = randomPrefix('tgpoll');
const running: Process[] = [];
let janitor: Redis;

/** One `npm start` process's Telegram side: its own engine, pipeline and (optionally) lease. */
async function startProcess(withLease: boolean): Promise<Process> {
  const parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory' }), { memoryTickets: true, holder: knowledgeHolder() });
  const pipeline = new InProcessPipeline(parts.engine, undefined, { maxSeen: 1000, sendAttempts: 2, backoffMs: 5 });
  let lease: LeaderLease | undefined;
  let redis: Redis | undefined;
  if (withLease) {
    redis = await connectRedis();
    lease = new LeaderLease(new RedisLeaderLock(redis, 'telegram-poller:test', { prefix, ttlMs: 900 }), { name: 'telegram-poller' });
  }
  const channel = createTelegramChannel({
    token: api.token,
    apiRoot: api.apiRoot,
    botInfo: api.botInfo,
    pipeline,
    engine: parts.engine,
    tickets: parts.tickets,
    holder: parts.holder,
    pollTimeoutSeconds: 2,
    pollLease: lease as PollLease | undefined,
    pollStandbyRetryMs: 100,
    pollMaxBackoffMs: 200,
  });
  await channel.start();
  const p = { channel, pipeline, lease, redis };
  running.push(p);
  return p;
}

async function stopProcess(p: Process): Promise<void> {
  running.splice(running.indexOf(p), 1);
  await p.channel.stop();
  await p.pipeline.close();
  p.redis?.disconnect();
}

let chatSeq = 7000;
/** A new citizen writes once; resolves with how many answers reached their chat. */
async function citizenAsks(): Promise<number> {
  const { chat, from } = privateChat(++chatSeq);
  api.push(textMessage(chat, from, 'giờ làm việc'));
  await api.waitFor('sendMessage', (c) => !!c.result && c.payload.chat_id === chat.id);
  return api.sent('sendMessage', chat.id).filter((c) => c.result).length;
}

beforeAll(async () => {
  api = new FakeBotApi();
  await api.start();
  janitor = await connectRedis();
});

afterEach(async () => {
  for (const p of [...running]) await stopProcess(p);
});

afterAll(async () => {
  await api.close();
  await cleanupPrefix(janitor, prefix);
  janitor.disconnect();
});

describe('two processes long-polling one bot', () => {
  it('without a lease, the older process keeps polling after 409s and answers once the newer one is gone', async () => {
    const older = await startProcess(false);
    const newer = await startProcess(false);
    await until(() => api.conflicts >= 2, 'the two pollers to conflict');
    await stopProcess(newer);
    expect(await citizenAsks()).toBeGreaterThanOrEqual(1);
    expect(running).toEqual([older]);
  });

  it('with the lease, exactly one polls; when it loses Redis, the other takes over', async () => {
    const a = await startProcess(true);
    const b = await startProcess(true);
    await until(() => !!a.lease?.isLeader || !!b.lease?.isLeader, 'a leader');
    const conflictsBefore = api.conflicts;
    for (let i = 0; i < 5; i++) expect(await citizenAsks()).toBe(1);
    expect(api.conflicts).toBe(conflictsBefore);
    const [leader, standby] = a.lease?.isLeader ? [a, b] : [b, a];
    expect(standby.lease?.isLeader).toBe(false);
    // The leader is cut off from Redis: it cannot renew, stops polling, and the lock
    // expires; the standby takes it and answers the next citizens.
    leader.redis?.disconnect();
    await until(() => !!standby.lease?.isLeader, 'the standby to take over', 10_000);
    expect(leader.lease?.isLeader).toBe(false);
    for (let i = 0; i < 3; i++) expect(await citizenAsks()).toBe(1);
    expect(api.conflicts).toBe(conflictsBefore);
  });

  it('a long button payload sent by one process resolves in the other (after a takeover too)', async () => {
    const store = new RedisCallbackStore(janitor, { prefix, ttlSeconds: 60 });
    const sender = new CallbackPayloads(100, store);
    const poller = new CallbackPayloads(100, store);
    const payload = `#p:${'x'.repeat(60)}:procedure.documents`;
    const data = sender.encode(payload);
    expect(data.startsWith('k:')).toBe(true);
    expect(poller.decode(data)).toBeNull();
    await sender.flush();
    expect(await poller.resolve(data)).toBe(payload);
    expect(await poller.resolve('k:never-sent')).toBeNull();
  });
});
