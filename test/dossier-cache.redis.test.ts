/**
 * The dossier lookup cache on the real Redis (REDIS_URL or 127.0.0.1:6379): two workers
 * share one upstream call, entries expire, "not found" is cached shorter. Keys use a
 * random prefix and are deleted afterwards. Without Redis this file fails and says how
 * to get one.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedDossierProvider, RedisDossierCache } from '../bot/dossier/cache.ts';
import { MemoryDossierProvider, type DossierRecord, type DossierStatusProvider } from '../bot/dossier/types.ts';
import { testRecords, UNKNOWN_CODE } from './dossier-support/records.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:dossier:${randomBytes(6).toString('hex')}:`;
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is needed for ${import.meta.filename} but ${url} did not answer (${(err as Error).message}). Start one with "docker run -p 6379:6379 redis:7" or "redis-server", or set REDIS_URL.`, { cause: err });
  }
});

afterAll(async () => {
  if (redis?.status === 'ready') {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
});

class Counting implements DossierStatusProvider {
  readonly name = 'counting';
  calls = 0;
  private readonly inner = new MemoryDossierProvider(testRecords());
  async lookup(code: string): Promise<DossierRecord | null> {
    this.calls++;
    return this.inner.lookup(code);
  }
}

describe('RedisDossierCache', () => {
  const A = testRecords()[2]!;

  it('two workers share one upstream lookup per code', async () => {
    const upstream = new Counting();
    const worker1 = new CachedDossierProvider(upstream, new RedisDossierCache(redis, prefix), { ttlMs: 60_000 });
    const worker2 = new CachedDossierProvider(upstream, new RedisDossierCache(redis, prefix), { ttlMs: 60_000 });
    expect(await worker1.lookup(A.code)).toEqual(A);
    expect(await worker2.lookup(A.code.toLowerCase())).toEqual(A);
    expect(upstream.calls).toBe(1);
    expect(await redis.pttl(`${prefix}${A.code}`)).toBeGreaterThan(50_000);
  });

  it('caches "not found" as null with the shorter TTL', async () => {
    const upstream = new Counting();
    const p = new CachedDossierProvider(upstream, new RedisDossierCache(redis, prefix), { ttlMs: 60_000, notFoundTtlMs: 3_000 });
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(upstream.calls).toBe(1);
    expect(await redis.get(`${prefix}${UNKNOWN_CODE}`)).toBe('null');
    const ttl = await redis.pttl(`${prefix}${UNKNOWN_CODE}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
  });

  it('an expired or foreign entry is looked up again', async () => {
    const upstream = new Counting();
    const cache = new RedisDossierCache(redis, prefix);
    const p = new CachedDossierProvider(upstream, cache, { ttlMs: 60_000 });
    const B = testRecords()[5]!;
    // An entry that does not belong to the key (e.g. written by a broken version) is ignored.
    await redis.set(`${prefix}${B.code}`, JSON.stringify({ ...B, code: 'OTHER' }), 'PX', 60_000);
    expect(await p.lookup(B.code)).toEqual(B);
    expect(upstream.calls).toBe(1);
    await redis.del(`${prefix}${B.code}`);
    expect(await p.lookup(B.code)).toEqual(B);
    expect(upstream.calls).toBe(2);
  });
});
