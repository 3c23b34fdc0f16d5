/**
 * The Redis version of the sliding-window limiter in `bot/ratelimit.ts`, so dossier
 * lookup limits hold across all worker processes (a user cannot multiply their quota
 * by landing on different workers).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimiter } from '../ratelimit.ts';
import { LUA_NOW, LuaScript } from './redis.ts';

// Sliding-window log: one sorted-set member per hit, scored by the server's clock.
const HIT = new LuaScript(`${LUA_NOW}
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0`);

/** Redis-backed `RateLimiter` with the same semantics as `MemoryRateLimiter`. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; name: string; max: number; windowMs: number },
  ) {}

  async hit(key: string): Promise<number> {
    const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const k = `${this.opts.prefix}:rl:${this.opts.name}:${key}`;
    return Number(await HIT.run(this.redis, [k], [this.opts.max, this.opts.windowMs, member]));
  }
}
