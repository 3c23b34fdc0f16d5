/**
 * The crash checks of `npm run check:crash`, smaller and with short locks: real
 * `npm start` processes (grammY, BullMQ on Redis) against the fake Bot API, SIGKILLed
 * mid-stream and between waves. Counts, not timings, are asserted: nobody is left
 * without an answer, and only a send the kill cut inside the platform call may arrive
 * twice (at least once: README "Decisions").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CrashHarness, killBetweenWaves, killMidStream } from './helpers/crash-harness.ts';
import { connectRedis, REDIS_URL } from './queue-helpers.ts';

let harness: CrashHarness | undefined;

async function start(): Promise<CrashHarness> {
  (await connectRedis()).disconnect(); // fails with instructions when there is no Redis
  harness = new CrashHarness({ redisUrl: process.env.REDIS_URL ?? REDIS_URL, fast: true, sendLatencyMs: 30 });
  await harness.start();
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('Telegram citizens when npm start processes are SIGKILLed', () => {
  it('one process killed mid-stream and restarted: nobody lost, only cut sends twice', async () => {
    const h = await start();
    const r = await killMidStream(h, { citizens: 40, perSecond: 40, killAfter: 15, idleMs: 20_000 });
    expect(r.answeredAtKill).toBeLessThan(40);
    expect(r.lost).toBe(0);
    expect(r.answered).toBe(40);
    expect(r.duplicates).toBeLessThanOrEqual(r.sendsCutByKill);
  }, 120_000);

  it('two processes, the newer then the older killed between waves: every wave answered', async () => {
    const h = await start();
    const r = await killBetweenWaves(h, { citizens: 10, perSecond: 40, idleMs: 20_000 });
    expect(r.waves.map((w) => [w.name, w.result.answered, w.result.lost, w.result.duplicates])).toEqual([
      ['both processes up', 10, 0, 0],
      ['newer SIGKILLed, older alone', 10, 0, 0],
      ['newer restarted, older SIGKILLed', 10, 0, 0],
    ]);
  }, 120_000);
});
