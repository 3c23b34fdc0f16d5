/**
 * Rate limits behind one small interface: dossier lookups (per user and overall), web
 * chat messages (per session, per client address, overall) and ticket creation (per
 * client). The counting is `rate-limiter-flexible`'s — in process memory by default,
 * in Redis when several processes share the work, so a client cannot multiply its
 * quota by landing on different processes.
 *
 * Windows are fixed windows starting at a key's first hit (the library's model): at most
 * `max` hits per window, then the wait until it ends. In Redis they are whole seconds
 * (keys expire in seconds), rounded up.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** What the dialogue engine and the channels ask a limiter. */
export interface RateLimiter {
  /** Records one hit for `key`; returns 0 when allowed, else ms until the next slot. */
  hit(key: string): Promise<number>;
}

/** Window length in whole seconds (the Redis store cannot expire keys on fractions). */
function seconds(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / 1000));
}

/** A `RateLimiter` over any rate-limiter-flexible limiter. */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async hit(key: string): Promise<number> {
    try {
      await this.limiter.consume(key);
      return 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext));
      throw err;
    }
  }
}

/**
 * In-process limits (the embedded default), windows to the millisecond. Expired keys are
 * removed by the library's own timers; tests that need a clock use fake timers.
 */
export class MemoryRateLimiter extends FlexibleRateLimiter {
  constructor(max: number, windowMs: number) {
    super(new RateLimiterMemory({ points: max, duration: Math.max(1, windowMs) / 1000 }));
  }
}

/**
 * Limits shared through Redis. When Redis is not ready the same limits are counted in
 * this process instead (`insuranceLimiter`), so an outage neither blocks everyone nor
 * lifts the limits.
 */
export class RedisRateLimiter extends FlexibleRateLimiter {
  constructor(redis: Redis, opts: { prefix: string; name: string; max: number; windowMs: number }) {
    const duration = seconds(opts.windowMs);
    super(
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${opts.prefix}:rl:${opts.name}`,
        points: opts.max,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: opts.max, duration }),
      }),
    );
  }
}

/** A limiter for this deployment: in Redis when there is one, else in memory; none when `max` is 0. */
export function createRateLimiter(max: number, windowMs: number, shared?: { redis: Redis; prefix: string; name: string }): RateLimiter | undefined {
  if (max <= 0) return undefined;
  return shared ? new RedisRateLimiter(shared.redis, { prefix: shared.prefix, name: shared.name, max, windowMs }) : new MemoryRateLimiter(max, windowMs);
}
