/**
 * Redis plumbing shared by the queue, the stores, the limiters and the leader lock:
 * one connection factory (so every process connects the same way) and a small Lua
 * script runner (EVALSHA with a fallback, so each script is sent once per server).
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../dialogue/engine.ts';

/**
 * Opens a connection suitable for BullMQ and for our own commands.
 *
 * `maxRetriesPerRequest: null` (required by BullMQ workers) plus the offline queue
 * means a command issued while Redis restarts waits for the reconnect instead of
 * failing: a restart costs latency, not messages. Callers that must not wait forever
 * (the channel adapters' `submit`) put their own timeout around it.
 */
export function createRedis(url: string, opts: { name?: string; log?: Logger; options?: RedisOptions } = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: opts.name,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...opts.options,
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    // ioredis emits an error on every failed reconnect; keep the log readable.
    const now = Date.now();
    if (now - lastLogged < 5000) return;
    lastLogged = now;
    opts.log?.warn({ err: { message: err.message }, connection: opts.name }, 'redis connection error');
  });
  return redis;
}

/** What `checkRedisSetup` could read; `undefined` where the server refused to say. */
export interface RedisSetup {
  eviction: string | undefined;
  aof: boolean | undefined;
  cluster: boolean;
}

/** One `field:value` line of an INFO section. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(\\S+)`, 'm').exec(info)?.[1];
}

/**
 * Warns about Redis settings that can lose queued messages: an eviction policy other
 * than `noeviction` (Redis may delete queue keys under memory pressure), and no AOF
 * (a Redis crash loses what was written since the last snapshot). Reads INFO first,
 * which managed services allow, and CONFIG GET only as a fallback, because many of
 * them disable CONFIG: a refused command is "could not check", never a false warning.
 * Redis Cluster is refused loudly: see README "Decisions" (one hash slot would hold
 * every key anyway, so a primary with replicas is the supported shape).
 */
export async function checkRedisSetup(redis: Redis, log?: Logger): Promise<RedisSetup> {
  const info = async (section: string): Promise<string> => await redis.info(section).catch(() => '');
  let eviction = infoField(await info('memory'), 'maxmemory_policy');
  if (eviction === undefined) {
    const reply = (await redis.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
    eviction = reply[1];
  }
  const aofField = infoField(await info('persistence'), 'aof_enabled');
  const aof = aofField === undefined ? undefined : aofField === '1';
  const cluster = infoField(await info('cluster'), 'cluster_enabled') === '1';
  if (cluster) log?.error({}, 'redis runs in cluster mode, which is not supported: use a single primary (replicas for failover are fine)');
  if (eviction === undefined) log?.info({}, 'could not read the redis maxmemory-policy (INFO and CONFIG refused); it must be noeviction');
  else if (eviction !== 'noeviction') log?.warn({ policy: eviction }, 'redis maxmemory-policy should be noeviction, or queued messages can be evicted');
  if (aof === undefined) log?.info({}, 'could not read whether redis appendonly is on; it should be');
  else if (!aof) log?.warn({}, 'redis appendonly is off: a Redis crash loses recent queue writes (set appendonly yes)');
  return { eviction, aof, cluster };
}

/** True when the reply to PING arrives within `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const t0 = performance.now();
  try {
    if (redis.status !== 'ready') return { ok: false, latencyMs: 0, error: `connection ${redis.status}` };
    await withTimeout(redis.ping(), timeoutMs, 'redis ping timed out');
    return { ok: true, latencyMs: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - t0), error: (err as Error).message };
  }
}

/** Rejects with `message` when `p` takes longer than `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Lua script run with EVALSHA, loaded on first use or after a Redis restart (NOSCRIPT). */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Lua prelude: the Redis server's clock in ms, so every process agrees on "now". */
export const LUA_NOW = `local __t = redis.call('TIME'); local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)`;

/**
 * Makes an arbitrary id safe inside a BullMQ job id: job ids may not contain ':' and
 * may not be pure integers (callers always add a prefix such as `in-`). Escaping is
 * reversible, so two different ids never map to the same job id.
 */
export function jobIdPart(id: string): string {
  return id.replace(/%/g, '%25').replace(/:/g, '%3A');
}

// A lock is a key holding its owner's token. Acquire is idempotent (ioredis may resend a
// command after a reconnect, and the second SET NX must not read as "someone else").
const LOCK_ACQUIRE = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);
const LOCK_RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`);

/** Takes the lock `key` for `token` (or extends it if already ours); true when held. */
export async function acquireLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return Number(await LOCK_ACQUIRE.run(redis, [key], [token, Math.max(1, Math.round(ttlMs))])) === 1;
}

/** Extends the lock if `token` still holds it; false when it was lost. */
export async function renewLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return Number(await LOCK_RENEW.run(redis, [key], [token, Math.max(1, Math.round(ttlMs))])) === 1;
}

/** Deletes every key under `prefix:` (tests and benchmarks clean up with it). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}
