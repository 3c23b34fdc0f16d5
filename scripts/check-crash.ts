/**
 * `npm run check:crash`: the crash checks of the Telegram path, with numbers (a check
 * that prints what it measured, not a test with timed assertions). Real `npm start`
 * processes (real grammY bot, BullMQ on Redis) against a local fake Bot API:
 *
 * 1. 200 citizens write; the only process is SIGKILLed midway and started again.
 *    Expected: 0 lost; at most the sends in flight at the kill answered twice.
 * 2. Two processes share the bot; between waves of citizens the newer one is SIGKILLed,
 *    then (after it is restarted) the older one. Expected: every citizen answered, within
 *    30 s, while one process is up.
 *
 *   npm run check:crash [-- --citizens 200 --wave 50 --latency 30 --fast]
 *
 * Production settings by default (30 s queue locks: recovery after a kill takes up to
 * about a minute); `--fast` shortens locks and leases to 2 s. Needs Redis (REDIS_URL,
 * default redis://127.0.0.1:6379); uses a random key prefix and deletes it afterwards.
 * Exits 1 when an expectation is not met.
 */
import { Redis } from 'ioredis';
import { CrashHarness, killBetweenWaves, killMidStream, type WaveResult } from '../test/helpers/crash-harness.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) || def : def;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const line = (r: WaveResult): string =>
  `answered ${r.answered}/${r.citizens}  lost ${r.lost}  answered twice ${r.duplicates}  latency p50 ${seconds(r.p50LatencyMs)}, max ${seconds(r.maxLatencyMs)}`;

async function main(): Promise<void> {
  const citizens = arg('citizens', 200);
  const wave = arg('wave', 50);
  const latency = arg('latency', 30);
  const fast = process.argv.includes('--fast');
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    console.error(`Redis is not reachable at ${REDIS_URL} (apt-get install -y redis-server, or set REDIS_URL)`);
    process.exit(2);
  } finally {
    probe.disconnect();
  }
  console.log(`check:crash — Redis ${REDIS_URL}, fake Bot API answering sendMessage in ${latency} ms, ${fast ? 'fast locks (2 s)' : 'production lock and lease settings'}\n`);
  let ok = true;
  const expect = (cond: boolean, what: string): void => {
    console.log(`  ${cond ? 'ok  ' : 'FAIL'} ${what}`);
    ok &&= cond;
  };
  const progress = (l: string): void => console.log(l);

  const h1 = new CrashHarness({ redisUrl: REDIS_URL, fast, sendLatencyMs: latency, progress });
  await h1.start();
  try {
    console.log(`1. ${citizens} Telegram citizens, one process, SIGKILL midway, restart`);
    const r = await killMidStream(h1, { citizens, perSecond: 40, killAfter: Math.floor(citizens * 0.4), idleMs: fast ? 20_000 : 150_000 });
    console.log(`  ${line(r)}`);
    console.log(`  killed after ${r.answeredAtKill} answers, cutting ${r.sendsCutByKill} send(s) inside the platform call; last answer ${seconds(r.recoveryMs)} after the kill`);
    expect(r.lost === 0, '0 lost');
    expect(r.duplicates <= r.sendsCutByKill, `answered twice only for sends the kill cut (${r.duplicates} ≤ ${r.sendsCutByKill})`);
  } finally {
    await h1.close();
  }

  const h2 = new CrashHarness({ redisUrl: REDIS_URL, fast, sendLatencyMs: latency, progress });
  await h2.start();
  try {
    console.log(`\n2. two processes share the bot; waves of ${wave} citizens`);
    const r = await killBetweenWaves(h2, { citizens: wave, perSecond: 40, idleMs: 60_000 });
    for (const w of r.waves) {
      console.log(`  ${w.name.padEnd(34)} ${line(w.result)}`);
      expect(w.result.lost === 0 && w.result.maxLatencyMs <= 30_000, `${w.name}: every citizen answered within 30 s`);
    }
  } finally {
    await h2.close();
  }
  console.log(ok ? '\nall expectations met' : '\nsome expectations NOT met');
  process.exit(ok ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
