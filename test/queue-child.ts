/**
 * A worker process for the crash tests (forked by queue-crash.redis.test.ts): a
 * BullPipeline with the echo engine and a "platform" that is a Redis list, told by
 * environment variables where to hang so that the test can SIGKILL it at that point.
 * Reports over IPC: {type:'ready'}, {type:'hanging', at, text}.
 */
import { Redis } from 'ioredis';
import type { Reply } from '../bot/dialogue/types.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { RedisLeaderLock, LeaderElection } from '../bot/queue/leader.ts';
import { installShutdown } from '../bot/queue/shutdown.ts';
import { EchoEngine } from './queue-helpers.ts';

const env = process.env;
const prefix = env.PREFIX ?? 'missing-prefix';
const list = (v?: string): Set<string> => new Set((v ?? '').split(',').filter(Boolean));
const hangHandle = list(env.HANG_HANDLE);
const hangBeforeSend = list(env.HANG_BEFORE_SEND);
const hangAfterSend = list(env.HANG_AFTER_SEND);
const report = (m: object): void => {
  process.send?.(m);
};
const forever = (): Promise<never> => new Promise(() => undefined);

const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
redis.on('error', () => undefined);

if (env.MODE === 'leader') {
  const lock = new RedisLeaderLock(redis, 'zalo-test', { prefix, ttlMs: Number(env.LOCK_MS ?? 1000) });
  const election = new LeaderElection(lock, { start: async () => report({ type: 'leader' }), stop: async () => report({ type: 'not-leader' }) }, { name: 'zalo-test' });
  election.start();
} else {
  const engine = new EchoEngine(1);
  engine.before = async (msg) => {
    if (hangHandle.has(msg.text)) {
      report({ type: 'hanging', at: 'handle', text: msg.text });
      await forever();
    }
  };
  const pipeline = new BullPipeline(engine, {
    connection: redis,
    prefix,
    lockMs: Number(env.LOCK_MS ?? 1500),
    sweepIntervalMs: 300,
    sendBackoffMs: 50,
  });
  pipeline.registerSender({
    channel: 'web',
    async send(conversationId: string, reply: Reply) {
      if (hangBeforeSend.has(reply.text)) {
        report({ type: 'hanging', at: 'before-send', text: reply.text });
        await forever();
      }
      await redis.rpush(`${prefix}:platform`, JSON.stringify({ conversationId, text: reply.text, pid: process.pid }));
      if (hangAfterSend.has(reply.text)) {
        report({ type: 'hanging', at: 'after-send', text: reply.text });
        await forever();
      }
      if (env.SLOW_SEND_MS) await new Promise((r) => setTimeout(r, Number(env.SLOW_SEND_MS)));
    },
  });
  installShutdown([
    { name: 'pipeline', close: () => pipeline.close() },
    { name: 'redis', close: () => redis.quit() },
  ]);
  report({ type: 'ready' });
}
