/**
 * The sweeper of the BullMQ pipeline wakes conversations nobody is working on. A sweep
 * job that fails every attempt is kept for inspection; the next sweep must still be able
 * to wake that conversation (a fixed job id would be a no-op against the kept job and
 * strand the conversation for good).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueAdmin } from '../bot/queue/admin.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { cleanupPrefix, connectRedis, EchoEngine, message, randomPrefix, RecordingSender } from './queue-helpers.ts';

describe('BullMQ pipeline sweeper', () => {
  let redis: Redis;
  const prefix = randomPrefix('sweep');
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis?.disconnect();
  });

  it('wakes a conversation again after its sweep job failed every attempt', async () => {
    const engine = new EchoEngine(0);
    // Handling fails six times: the wake job's three attempts, then a sweep job's three.
    let failures = 0;
    engine.before = (msg) => {
      if (msg.text === 'stubborn' && failures < 6) {
        failures++;
        throw new Error('dependency down');
      }
    };
    const sender = new RecordingSender('web');
    const pipeline = new BullPipeline(engine, { connection: redis, prefix, lockMs: 300, sweepIntervalMs: 100, wakeBackoffMs: 20, messageAttempts: 50 });
    pipeline.registerSender(sender);
    const admin = new QueueAdmin(redis, prefix);
    try {
      await pipeline.submit(message('web', 'S', 'm-stubborn', 'stubborn'));
      await sender.waitFor(1);
      expect(sender.texts('S')).toEqual(['echo:stubborn']);
      expect(failures).toBe(6);
      // Both the first wake job and a sweep job failed for good and are kept; the
      // conversation was still answered by a later sweep.
      const stats = await admin.stats();
      expect(stats.inbound).toMatchObject({ messages: 0, failed: 2, deadLetters: 0 });
    } finally {
      await pipeline.close();
      await admin.close();
    }
  });
});
