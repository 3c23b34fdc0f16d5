/**
 * `npm run queue -- stats|failed|retry` as an operator runs it, against a real Redis
 * with a send that failed for good.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentSendError } from '../bot/pipeline.ts';
import { QueueAdmin } from '../bot/queue/admin.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { cleanupPrefix, connectRedis, EchoEngine, message, randomPrefix, RecordingSender, REDIS_URL, until } from './queue-helpers.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'queue.ts');

describe('npm run queue', () => {
  let redis: Redis;
  const prefix = randomPrefix('cli');
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { env: { ...process.env, REDIS_URL, QUEUE_PREFIX: prefix } });

  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis?.disconnect();
  });

  it('shows a failed send with its reason and retries it', async () => {
    const sender = new RecordingSender('telegram');
    let blocked = true;
    sender.policy = () => {
      if (blocked) throw new PermanentSendError('Forbidden: bot was blocked by the user');
    };
    const p = new BullPipeline(new EchoEngine(0), { connection: redis, prefix, lockMs: 2000, limits: { telegram: { chatIntervalMs: 0, groupIntervalMs: 0, accountIntervalMs: 0, dailyBudget: 0, delayMinMs: 0, delayMaxMs: 0, concurrency: 2 } } });
    p.registerSender(sender);
    const admin = new QueueAdmin(redis, prefix);
    try {
      await p.submit(message('telegram', '4242', 'tg-1', 'sđt của tôi 0912345678'));
      await until(async () => (await admin.stats()).outbound.telegram?.failed === 1, 'the send to fail');

      const stats = JSON.parse((await cli('stats', '--json')).stdout) as { outbound: { telegram: { failed: number } }; inbound: { messages: number } };
      expect(stats.outbound.telegram.failed).toBe(1);
      expect(stats.inbound.messages).toBe(0);

      const failed = (await cli('failed')).stdout;
      expect(failed).toContain('out-telegram-tg-1-0');
      expect(failed).toContain('bot was blocked by the user');
      // The reply text is shown with personal data redacted.
      expect(failed).toContain('echo:sđt của tôi [sđt]');
      expect(failed).not.toContain('0912345678');

      // The citizen unblocked the bot: retry sends it.
      blocked = false;
      const retried = await cli('retry', 'out-telegram-tg-1-0');
      expect(retried.stdout).toContain('retried 1');
      await sender.waitFor(1);
      expect(sender.texts()).toEqual(['echo:sđt của tôi 0912345678']);
      await expect(cli('retry', 'no-such-job')).rejects.toMatchObject({ code: 1 });
      await expect(cli('bogus')).rejects.toMatchObject({ code: 2 });
    } finally {
      await p.close();
      await admin.close();
    }
  });
});
