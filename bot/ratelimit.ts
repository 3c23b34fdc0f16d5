/**
 * Sliding-window rate limits (dossier lookups per user and globally), so nobody can
 * enumerate dossier codes through the chat. The in-process version; a Redis version
 * implements the same interface when several processes share the work.
 */
export interface RateLimiter {
  /** Records one hit for `key`; returns 0 when allowed, else ms until the next slot. */
  hit(key: string): Promise<number>;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string): Promise<number> {
    const t = this.now();
    const list = (this.hits.get(key) ?? []).filter((x) => x > t - this.windowMs);
    if (list.length >= this.max) {
      this.hits.set(key, list);
      return (list[0] as number) + this.windowMs - t;
    }
    list.push(t);
    this.hits.set(key, list);
    if (this.hits.size > 50_000) for (const [k, v] of this.hits) if (!v.some((x) => x > t - this.windowMs)) this.hits.delete(k);
    return 0;
  }
}
