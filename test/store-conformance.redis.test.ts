/**
 * One conformance suite for the conversation stores (memory and Redis) and one for the
 * rate limiters (memory and Redis): a worker process may use either, so they must
 * behave alike.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyState, MemoryConversationStore, type ConversationStore } from '../bot/dialogue/state.ts';
import { RedisConversationStore } from '../bot/queue/store.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from '../bot/ratelimit.ts';
import { cleanupPrefix, connectRedis, randomPrefix, until } from './queue-helpers.ts';

let redis: Redis | undefined;
const prefix = randomPrefix('store');
const needRedis = async (): Promise<Redis> => (redis ??= await connectRedis());

afterAll(async () => {
  if (redis) {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  }
});

const stores: { name: string; make(ttlMs: number): Promise<ConversationStore> }[] = [
  { name: 'memory', make: async (ttlMs) => new MemoryConversationStore(ttlMs) },
  { name: 'redis', make: async (ttlMs) => new RedisConversationStore(await needRedis(), { prefix: `${prefix}:${ttlMs}`, ttlMs }) },
];

describe.each(stores)('ConversationStore conformance: $name', (impl) => {
  let store: ConversationStore;
  beforeAll(async () => {
    store = await impl.make(60_000);
  });

  it('returns what was stored, as a copy', async () => {
    const s = emptyState(1000);
    s.lastProcedure = 'khai-sinh';
    s.pendingOptions = [{ label: 'Lệ phí', payload: '#a:fee' }];
    s.handoff = { ticketId: 'HT-261126-0001', until: 5000 };
    s.history.push({ from: 'citizen', text: 'đăng ký khai sinh', at: 1000 });
    await store.set('conv-1', s);
    const got = await store.get('conv-1');
    expect(got).toEqual(s);
    got?.history.push({ from: 'bot', text: 'changed', at: 2 });
    expect((await store.get('conv-1'))?.history).toHaveLength(1);
    expect(await store.get('never-seen')).toBeUndefined();
  });

  it('overwrites and deletes', async () => {
    await store.set('conv-2', { ...emptyState(1), failures: 1 });
    await store.set('conv-2', { ...emptyState(2), failures: 2 });
    expect((await store.get('conv-2'))?.failures).toBe(2);
    await store.delete('conv-2');
    expect(await store.get('conv-2')).toBeUndefined();
    await store.delete('conv-2');
  });

  it('forgets a conversation after its time to live', async () => {
    await store.set('short', emptyState(1), 80);
    await store.set('long', emptyState(1));
    expect(await store.get('short')).toBeDefined();
    // Expiry is a matter of time: poll until it happens (the long one must survive).
    await until(async () => (await store.get('short')) === undefined, 'the short conversation to expire', 5000, 20);
    expect(await store.get('long')).toBeDefined();
  });
});

describe('RedisConversationStore specifics', () => {
  it('sets the TTL on the key and survives a corrupt value', async () => {
    const r = await needRedis();
    const store = new RedisConversationStore(r, { prefix, ttlMs: 60_000 });
    await store.set('ttl', emptyState(1), 30_000);
    const pttl = await r.pttl(`${prefix}:conv:ttl`);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await r.set(`${prefix}:conv:bad`, '{not json');
    expect(await store.get('bad')).toBeUndefined();
  });
});

const limiters: { name: string; make(max: number, windowMs: number): Promise<RateLimiter> }[] = [
  { name: 'memory', make: async (max, windowMs) => new MemoryRateLimiter(max, windowMs) },
  { name: 'redis', make: async (max, windowMs) => new RedisRateLimiter(await needRedis(), { prefix, name: `rl-${max}-${windowMs}-${Math.random()}`, max, windowMs }) },
];

describe.each(limiters)('RateLimiter conformance: $name', (impl) => {
  it('allows max hits per window per key, then says how long to wait', async () => {
    const rl = await impl.make(3, 10_000);
    expect([await rl.hit('a'), await rl.hit('a'), await rl.hit('a')]).toEqual([0, 0, 0]);
    const wait = await rl.hit('a');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(await rl.hit('b')).toBe(0);
  });

  it('frees the slot when the window has passed', async () => {
    // Windows are whole seconds (the Redis store expires keys in seconds).
    const rl = await impl.make(1, 1000);
    expect(await rl.hit('k')).toBe(0);
    const wait = await rl.hit('k');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
    await until(async () => (await rl.hit('k')) === 0, 'the window to pass', 5000, 50);
  });
});

describe('RedisRateLimiter during a Redis outage', () => {
  it('keeps counting in this process instead of hanging or lifting the limit', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: null });
    dead.on('error', () => undefined);
    try {
      const rl = new RedisRateLimiter(dead, { prefix, name: 'outage', max: 2, windowMs: 60_000 });
      expect([await rl.hit('a'), await rl.hit('a')]).toEqual([0, 0]);
      expect(await rl.hit('a')).toBeGreaterThan(0);
    } finally {
      dead.disconnect();
    }
  });
});
