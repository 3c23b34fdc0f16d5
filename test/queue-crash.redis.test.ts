/**
 * The BullMQ pipeline under failure: worker processes killed with SIGKILL in the middle
 * of a job, a graceful SIGTERM, and Redis itself restarted mid-stream. Every message is
 * answered at least once, and twice only when the crash cut a platform call (the
 * platform may have taken the message before the worker died).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueAdmin } from '../bot/queue/admin.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { cleanupPrefix, connectRedis, EchoEngine, message, randomPrefix, RecordingSender, REDIS_URL, startThrowawayRedis, tally, until } from './queue-helpers.ts';

const CHILD = join(import.meta.dirname, 'queue-child.ts');

interface Child {
  proc: ChildProcess;
  messages: { type: string; at?: string; text?: string }[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(prefix: string, env: Record<string, string> = {}, url = REDIS_URL): Child {
  const proc = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REDIS_URL: url, PREFIX: prefix, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Child['messages'] = [];
  proc.on('message', (m) => messages.push(m as Child['messages'][number]));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, messages, exited };
}

const children: Child[] = [];
function child(prefix: string, env: Record<string, string> = {}, url?: string): Child {
  const c = startChild(prefix, env, url);
  children.push(c);
  return c;
}

async function platform(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.lrange(`${prefix}:platform`, 0, -1)).map((s) => (JSON.parse(s) as { text: string }).text);
}

describe('BullMQ pipeline under crashes', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    for (const p of prefixes) await cleanupPrefix(redis, p);
    redis?.disconnect();
  });

  it('a worker killed with SIGKILL mid-job: every reply is sent, twice only if the kill cut its platform call', async () => {
    const prefix = randomPrefix('crash');
    prefixes.push(prefix);
    // This process only submits; the children do the work.
    const producer = new BullPipeline(new EchoEngine(0), { connection: redis, prefix, inboundWorkers: false });
    const admin = new QueueAdmin(redis, prefix);
    const first = child(prefix, { HANG_HANDLE: 'h2', HANG_AFTER_SEND: 'echo:s1', HANG_BEFORE_SEND: 'echo:s2' });
    await until(() => first.messages.some((m) => m.type === 'ready'), 'first worker ready');
    for (const [conv, id] of [['A', 'a1'], ['A', 'h2'], ['A', 'a3'], ['S1', 's1'], ['S2', 's2'], ['B', 'b1']] as const) {
      await producer.submit(message('web', conv, `m-${id}`, id));
    }
    // Hung in three places: handling h2, just after the platform took s1, inside the
    // platform call for s2 before the platform got it. Meanwhile a1 and b1 went out.
    await until(() => ['h2', 'echo:s1', 'echo:s2'].every((t) => first.messages.some((m) => m.type === 'hanging' && m.text === t)), 'worker hanging in all three places');
    await until(async () => (await platform(redis, prefix)).includes('echo:a1') && (await platform(redis, prefix)).includes('echo:b1'), 'a1 and b1 sent');
    first.proc.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = child(prefix);
    await until(async () => {
      const sent = await platform(redis, prefix);
      return ['echo:h2', 'echo:a3', 'echo:s2'].every((t) => sent.includes(t)) && sent.filter((t) => t === 'echo:s1').length === 2;
    }, 'recovery by the second worker');
    await until(async () => {
      const s = await admin.stats();
      return s.inbound.messages === 0 && s.outbound.web?.active === 0 && s.outbound.web.waiting === 0 && s.outbound.web.delayed === 0;
    }, 'queues drained');
    const stats = await admin.stats();
    expect(stats.inbound).toMatchObject({ messages: 0, deadLetters: 0 });
    expect(stats.outbound.web).toMatchObject({ failed: 0 });

    // h2 was handled again after the crash and answered once; s1 reached the platform
    // just before the crash and, since nobody can know that, is sent again (the one
    // duplicate); s2 was cut before the platform had it: sent once. Nothing is lost.
    expect(tally(await platform(redis, prefix))).toEqual(new Map([['echo:a1', 1], ['echo:b1', 1], ['echo:s1', 2], ['echo:h2', 1], ['echo:a3', 1], ['echo:s2', 1]]));
    const order = (await platform(redis, prefix)).filter((t) => ['echo:a1', 'echo:h2', 'echo:a3'].includes(t));
    expect(order).toEqual(['echo:a1', 'echo:h2', 'echo:a3']);

    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    await producer.close();
    await admin.close();
  });

  it('SIGTERM: the worker finishes in-flight work, exits 0, and the rest is answered by the next one', async () => {
    const prefix = randomPrefix('term');
    prefixes.push(prefix);
    const producer = new BullPipeline(new EchoEngine(0), { connection: redis, prefix, inboundWorkers: false });
    const first = child(prefix, { SLOW_SEND_MS: '15' });
    await until(() => first.messages.some((m) => m.type === 'ready'), 'worker ready');
    const total = 45;
    for (let i = 0; i < total; i++) await producer.submit(message('web', `T${i % 3}`, `t-${i}`, `t${i}`));
    await until(async () => (await platform(redis, prefix)).length >= 3, 'first replies');
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const byFirst = (await platform(redis, prefix)).length;
    const second = child(prefix);
    await until(async () => (await platform(redis, prefix)).length >= total, 'all replies');
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const sent = await platform(redis, prefix);
    expect(sent).toHaveLength(total);
    expect(new Set(sent).size).toBe(total);
    expect(byFirst).toBeLessThan(total);
    await producer.close();
  });
});

describe('BullMQ pipeline across a Redis restart', () => {
  it('loses no message when Redis is killed and restarted mid-stream (AOF on)', async () => {
    const server = await startThrowawayRedis(['--appendonly', 'yes']);
    const url = server.url;
    const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    const engine = new EchoEngine(1);
    const sender = new RecordingSender('web');
    const pipeline = new BullPipeline(engine, { connection: redis, prefix: 'restart', lockMs: 1500, sweepIntervalMs: 300, sendBackoffMs: 50 });
    pipeline.registerSender(sender);
    try {
      const convs = 6;
      const perConv = 25;
      const submitRange = (from: number, to: number): Promise<unknown> =>
        Promise.all(
          Array.from({ length: convs }, async (_, c) => {
            for (let i = from; i < to; i++) await pipeline.submit(message('web', `R${c}`, `r-${c}-${i}`, `R${c}#${i}`));
          }),
        );
      await submitRange(0, 12);
      await sender.waitFor(40);
      // Kill Redis while messages are being handled and sent, and keep submitting
      // while it is down: those submits wait for the reconnect.
      const answeredAtKill = sender.sent.length;
      const restarted = (async () => {
        await server.kill();
        await server.start();
      })();
      await submitRange(12, perConv);
      await restarted;
      // The kill hit mid-stream: some of the first batch were still being worked on.
      expect(answeredAtKill).toBeLessThan(convs * 12);
      await sender.waitFor(convs * perConv, 20_000);
      const texts = sender.texts();
      expect(new Set(texts).size).toBe(convs * perConv);
      expect(texts).toHaveLength(convs * perConv);
      for (let c = 0; c < convs; c++) {
        // Handled in order (a message may be handled again after the crash, never skipped).
        const handled = [...new Set(engine.handled.get(`web:R${c}`))];
        expect(handled).toEqual(Array.from({ length: perConv }, (_, i) => `R${c}#${i}`));
      }
    } finally {
      await pipeline.close();
      redis.disconnect();
      await server.dispose();
    }
  });
});
