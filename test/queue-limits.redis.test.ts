/**
 * Outbound throttling and failure handling of the BullMQ pipeline: per-conversation,
 * per-group and per-account send rates (counted per window, not timed), the daily
 * budget, permanent errors kept for inspection, "slow down" answers, dead letters.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentSendError } from '../bot/pipeline.ts';
import { QueueAdmin } from '../bot/queue/admin.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { SendRateLimitedError } from '../bot/queue/errors.ts';
import { SendGuard } from '../bot/queue/guard.ts';
import { UNLIMITED, type ChannelLimits } from '../bot/queue/limits.ts';
import { cleanupPrefix, connectRedis, EchoEngine, message, randomPrefix, RecordingSender, until, type Delivery } from './queue-helpers.ts';

const reply = (text: string) => ({ text, options: [], links: [] });

/** Most sends that fall in any window of `windowMs` starting at a send. */
function maxInWindow(sends: Delivery[], windowMs: number): number {
  const t = sends.map((s) => s.at).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0; i < t.length; i++) best = Math.max(best, t.filter((x) => x >= (t[i] as number) && x < (t[i] as number) + windowMs).length);
  return best;
}

describe('BullMQ send queues', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const open: BullPipeline[] = [];
  const pipeline = (limits: Partial<ChannelLimits>, extra: Partial<ConstructorParameters<typeof BullPipeline>[1]> = {}, engine = new EchoEngine(0)) => {
    const prefix = randomPrefix('limits');
    prefixes.push(prefix);
    const p = new BullPipeline(engine, { connection: redis, prefix, lockMs: 2000, sendBackoffMs: 20, limits: { telegram: { ...UNLIMITED, ...limits }, zalo: { ...UNLIMITED, ...limits } }, ...extra });
    open.push(p);
    return { p, prefix, admin: new QueueAdmin(redis, prefix) };
  };

  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await Promise.all(open.map((p) => p.close()));
    for (const p of prefixes) await cleanupPrefix(redis, p);
    redis?.disconnect();
  });

  it('keeps per-chat, per-group and per-account send rates', async () => {
    const chatMs = 150;
    const groupMs = 400;
    const accountMs = 40;
    const { p } = pipeline({ chatIntervalMs: chatMs, groupIntervalMs: groupMs, accountIntervalMs: accountMs, concurrency: 6 });
    const sender = new RecordingSender('telegram');
    p.registerSender(sender);
    const chats = ['101', '102', '103'];
    for (let i = 0; i < 6; i++) for (const c of chats) await p.push('telegram', c, reply(`${c}/${i}`));
    for (let i = 0; i < 3; i++) await p.push('telegram', '-100200', reply(`group/${i}`));
    await sender.waitFor(21);
    for (const c of chats) {
      const sends = sender.sent.filter((s) => s.conversationId === c);
      expect(sends).toHaveLength(6);
      // At most k+1 sends in any k intervals (one extra for scheduling jitter).
      expect(maxInWindow(sends, 2 * chatMs)).toBeLessThanOrEqual(3);
    }
    expect(maxInWindow(sender.sent.filter((s) => s.conversationId === '-100200'), groupMs)).toBeLessThanOrEqual(2);
    expect(maxInWindow(sender.sent, 5 * accountMs)).toBeLessThanOrEqual(6);
    // Without the limits all 21 would have gone out within a few milliseconds. A send never
    // goes before its booked slot, so this lower bound holds even when a loaded machine
    // stalls the event loop and wakes several booked sends at once.
    const span = (sender.sent.at(-1)?.at ?? 0) - (sender.sent[0]?.at ?? 0);
    expect(span).toBeGreaterThanOrEqual(Math.max(5 * chatMs, 20 * accountMs) - 20);
  });

  it('stops at the daily budget: the rest waits for tomorrow', async () => {
    const { p, admin } = pipeline({ dailyBudget: 3, delayMinMs: 1, delayMaxMs: 5, concurrency: 1 });
    const sender = new RecordingSender('zalo');
    p.registerSender(sender);
    for (let i = 0; i < 5; i++) await p.push('zalo', `z${i}`, reply(`z${i}`));
    await sender.waitFor(3);
    await until(async () => (await admin.stats()).outbound.zalo?.delayed === 2, 'two sends delayed');
    expect(sender.sent).toHaveLength(3);
    await admin.close();
  });

  it('keeps a permanently failed send for inspection, with one attempt', async () => {
    const { p, admin } = pipeline({});
    const sender = new RecordingSender('telegram');
    sender.policy = (conv) => {
      if (conv === 'gone') throw new PermanentSendError('chat not found');
    };
    p.registerSender(sender);
    await p.submit(message('telegram', 'gone', 'g1', 'hello'));
    await until(async () => (await admin.stats()).outbound.telegram?.failed === 1, 'the send failed');
    const [failed] = await admin.failed();
    expect(failed).toMatchObject({ queue: 'out-telegram', conversation: 'gone', text: 'echo:hello', attempts: 1 });
    expect(failed?.reason).toMatch(/permanent send error: chat not found/);
    expect(sender.attempts.get('gone|echo:hello')).toBe(1);
    await admin.close();
  });

  it('waits as long as the platform asks on "too many requests", without using an attempt', async () => {
    const { p } = pipeline({}, { sendAttempts: 1 });
    const sender = new RecordingSender('telegram');
    sender.policy = (_conv, _r, attempt) => {
      if (attempt === 1) throw new SendRateLimitedError('429', 100);
    };
    p.registerSender(sender);
    await p.push('telegram', 'busy', reply('hi'));
    // With one attempt allowed, a counted retry would have failed the job instead.
    await sender.waitFor(1);
    expect(sender.attempts.get('busy|hi')).toBe(2);
  });

  it('moves a message that keeps failing to the dead letters and goes on with the conversation', async () => {
    const engine = new EchoEngine(0);
    engine.failOn.add('poison');
    const { p, admin } = pipeline({}, { messageAttempts: 2 }, engine);
    const sender = new RecordingSender('telegram');
    p.registerSender(sender);
    await p.submit(message('telegram', 'c1', 'p1', 'poison'));
    await p.submit(message('telegram', 'c1', 'p2', 'after'));
    await sender.waitFor(1);
    expect(sender.texts()).toEqual(['echo:after']);
    const dead = (await admin.failed()).filter((f) => f.id.startsWith('dead:'));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ conversation: 'c1', text: 'poison', reason: 'engine failure on poison' });
    expect(engine.calls.filter((id) => id === 'p1')).toHaveLength(2);
    // Fixed: the operator retries it and it is answered.
    engine.failOn.delete('poison');
    const r = await admin.retry();
    expect(r.retried).toEqual(['dead:telegram:c1']);
    await sender.waitFor(2);
    expect(sender.texts()).toEqual(['echo:after', 'echo:poison']);
    expect((await admin.stats()).inbound).toMatchObject({ messages: 0, deadLetters: 0 });
    await admin.close();
  });
});

describe('send-once guard', () => {
  let redis: Redis;
  const prefix = randomPrefix('guard');
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis?.disconnect();
  });

  it('walks claimed → calling → sent and never allows a second send', async () => {
    const g = new SendGuard(redis, { prefix, keepSeconds: 60 });
    expect(await g.claim('r1', 'A', 5000)).toEqual({ state: 'claimed' });
    expect(await g.claim('r1', 'A', 5000)).toEqual({ state: 'claimed' });
    expect((await g.claim('r1', 'B', 5000)).state).toBe('busy');
    expect(await g.calling('r1', 'B', 1000)).toBe(false);
    expect(await g.calling('r1', 'A', 1000)).toBe(true);
    expect(await g.calling('r1', 'A', 1000)).toBe(true);
    expect((await g.claim('r1', 'B', 5000)).state).toBe('busy');
    await g.sent('r1');
    expect(await g.claim('r1', 'B', 5000)).toEqual({ state: 'sent' });
  });

  it('a claim whose holder died expires; a call whose holder died is sent again; a live call is not', async () => {
    const g = new SendGuard(redis, { prefix, keepSeconds: 60 });
    expect((await g.claim('r2', 'A', 30)).state).toBe('claimed');
    await until(async () => (await g.claim('r2', 'B', 5000)).state === 'claimed', 'the dead claim to expire');
    expect(await g.calling('r2', 'B', 30)).toBe(true);
    await until(async () => (await g.claim('r2', 'C', 5000)).state === 'resend', 'the call deadline to pass');
    // The resend is C's claim now: nobody else gets it, and C may call.
    expect((await g.claim('r2', 'D', 5000)).state).toBe('busy');
    expect(await g.heartbeat('r2', 'B', 5000)).toBe(false);
    expect(await g.calling('r2', 'C', 200)).toBe(true);
    // A holder that keeps beating is never taken for dead, however long its call takes.
    const started = Date.now();
    while (Date.now() - started < 600) {
      expect(await g.heartbeat('r2', 'C', 200)).toBe(true);
      expect((await g.claim('r2', 'D', 5000)).state).toBe('busy');
      await new Promise((r) => setTimeout(r, 50));
    }
    // A send that failed for certain releases the guard.
    expect((await g.claim('r3', 'A', 5000)).state).toBe('claimed');
    expect(await g.calling('r3', 'A', 1000)).toBe(true);
    await g.release('r3', 'A');
    expect((await g.claim('r3', 'B', 5000)).state).toBe('claimed');
  });
});
