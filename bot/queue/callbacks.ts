/**
 * Long Telegram button payloads in Redis (the `CallbackStore` of
 * bot/channels/telegram/render.ts, matched by shape so the queue imports no channel code):
 * the process that sends a button is often not the one that polls, and after a takeover
 * the new poller must still resolve the buttons the old one sent.
 */
import type { Redis } from 'ioredis';

/** Kept as long as a citizen may still tap an old button. */
const DEFAULT_TTL_SECONDS = 30 * 86_400;

export class RedisCallbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; ttlSeconds?: number },
  ) {}

  private key(k: string): string {
    return `${this.opts.prefix}:tg:cb:${k}`;
  }

  async save(entries: readonly (readonly [key: string, payload: string])[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const [k, payload] of entries) pipe.set(this.key(k), payload, 'EX', this.opts.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    await pipe.exec();
  }

  async load(k: string): Promise<string | null> {
    return await this.redis.get(this.key(k));
  }
}
