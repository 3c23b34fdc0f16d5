/**
 * A short-lived cache in front of a slow dossier source (the one-stop HTTP API): the
 * same citizen asking twice, a follow-up "thế còn ngày hẹn?", or several workers asking
 * about the same code within a minute cost one upstream call. With Redis every worker
 * shares it; without, each process keeps its own. A broken cache is skipped, never fatal.
 */
import type { Logger } from '../dialogue/engine.ts';
import type { DossierRecord, DossierStatusProvider } from './types.ts';

/** Where cached answers live. `undefined` = not cached; `null` = cached "no such dossier". */
export interface DossierCache {
  get(code: string): Promise<DossierRecord | null | undefined>;
  set(code: string, record: DossierRecord | null, ttlMs: number): Promise<void>;
  close?(): Promise<void>;
}

/** In-process cache with a size bound (oldest entries dropped first). */
export class MemoryDossierCache implements DossierCache {
  private readonly items = new Map<string, { value: DossierRecord | null; expires: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(code: string): Promise<DossierRecord | null | undefined> {
    const it = this.items.get(code);
    if (!it) return undefined;
    if (it.expires <= this.now()) {
      this.items.delete(code);
      return undefined;
    }
    return it.value && { ...it.value };
  }

  async set(code: string, value: DossierRecord | null, ttlMs: number): Promise<void> {
    this.items.delete(code);
    this.items.set(code, { value: value && { ...value }, expires: this.now() + ttlMs });
    while (this.items.size > this.maxEntries) {
      const oldest = this.items.keys().next().value;
      if (oldest === undefined) break;
      this.items.delete(oldest);
    }
  }
}

/** The two Redis commands the cache uses (ioredis satisfies it). */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'PX', ms: number): Promise<unknown>;
}

/** Cache shared by every worker through Redis; keys are `${prefix}${code}` with a TTL. */
export class RedisDossierCache implements DossierCache {
  constructor(
    private readonly redis: RedisLike,
    private readonly prefix = 'tthc:dossier:',
    private readonly onClose?: () => Promise<void>,
  ) {}

  async get(code: string): Promise<DossierRecord | null | undefined> {
    const raw = await this.redis.get(this.prefix + code);
    if (raw === null) return undefined;
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null) return null;
    if (parsed && typeof parsed === 'object' && (parsed as DossierRecord).code === code) return parsed as DossierRecord;
    return undefined;
  }

  async set(code: string, record: DossierRecord | null, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + code, JSON.stringify(record), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }
}

export interface CachedDossierOptions {
  ttlMs: number;
  /** "Not found" is kept for a shorter time: a dossier entered a minute ago should appear soon. */
  notFoundTtlMs?: number;
  /** A cache slower than this is skipped for the request. */
  cacheTimeoutMs?: number;
  log?: Logger;
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cache did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Wraps a provider with a cache; errors from the source are never cached. */
export class CachedDossierProvider implements DossierStatusProvider {
  readonly name: string;
  private warnedAt = 0;

  constructor(
    private readonly inner: DossierStatusProvider,
    private readonly cache: DossierCache,
    private readonly opts: CachedDossierOptions,
  ) {
    this.name = `${inner.name}+cache`;
  }

  async lookup(input: string): Promise<DossierRecord | null> {
    const code = input.trim().toUpperCase();
    const timeout = this.opts.cacheTimeoutMs ?? 250;
    try {
      const hit = await within(this.cache.get(code), timeout);
      if (hit !== undefined) return hit;
    } catch (err) {
      this.cacheFailed(err);
    }
    const rec = await this.inner.lookup(code);
    const ttl = rec ? this.opts.ttlMs : (this.opts.notFoundTtlMs ?? Math.min(this.opts.ttlMs, 15_000));
    if (ttl > 0) {
      try {
        await within(this.cache.set(code, rec, ttl), timeout);
      } catch (err) {
        this.cacheFailed(err);
      }
    }
    return rec;
  }

  private cacheFailed(err: unknown): void {
    // One warning a minute is enough for operators; the lookup itself carries on.
    const now = Date.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.opts.log?.warn({ err: (err as Error)?.message ?? String(err) }, 'dossier cache unavailable; looking up without it');
  }

  async close(): Promise<void> {
    await this.inner.close?.();
    await this.cache.close?.();
  }
}
