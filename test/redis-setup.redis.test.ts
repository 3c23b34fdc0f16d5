/**
 * `checkRedisSetup` against throwaway redis-servers, one of them refusing CONFIG the way
 * managed Redis services do (`rename-command CONFIG ""`): a refused command must never
 * produce a false warning, and a real misconfiguration must still be reported.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRedisSetup } from '../bot/queue/redis.ts';
import { startThrowawayRedis, type ThrowawayRedis } from './queue-helpers.ts';

interface Line {
  level: 'info' | 'warn' | 'error';
  msg?: string;
}

function recorder(): { lines: Line[]; log: { info: (o: object, m?: string) => void; warn: (o: object, m?: string) => void; error: (o: object, m?: string) => void } } {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      info: (_o, msg) => lines.push({ level: 'info', msg }),
      warn: (_o, msg) => lines.push({ level: 'warn', msg }),
      error: (_o, msg) => lines.push({ level: 'error', msg }),
    },
  };
}

const servers: ThrowawayRedis[] = [];
const clients: Redis[] = [];

async function server(args: string[]): Promise<Redis> {
  const s = await startThrowawayRedis(args);
  servers.push(s);
  // No ready check: it runs INFO, which one of these servers refuses.
  const redis = new Redis(s.url, { maxRetriesPerRequest: 1, enableReadyCheck: false });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.dispose();
});

describe('checkRedisSetup', () => {
  it('with CONFIG disabled and a correct setup: no warning', async () => {
    const redis = await server(['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes']);
    await expect(redis.config('GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/i);
    const { lines, log } = recorder();
    expect(await checkRedisSetup(redis, log)).toEqual({ eviction: 'noeviction', aof: true, cluster: false });
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('with CONFIG disabled and an evicting policy without AOF: both reported', async () => {
    const redis = await server(['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'allkeys-lru', '--appendonly', 'no']);
    const { lines, log } = recorder();
    expect(await checkRedisSetup(redis, log)).toEqual({ eviction: 'allkeys-lru', aof: false, cluster: false });
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([expect.stringMatching(/maxmemory-policy should be noeviction/), expect.stringMatching(/appendonly is off/)]);
  });

  it('with INFO disabled too: says it could not check, warns about nothing', async () => {
    const redis = await server(['--rename-command', 'CONFIG', '', '--rename-command', 'INFO', '']);
    const { lines, log } = recorder();
    expect(await checkRedisSetup(redis, log)).toEqual({ eviction: undefined, aof: undefined, cluster: false });
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/could not read the redis maxmemory-policy/), expect.stringMatching(/could not read whether redis appendonly/)]);
  });
});
