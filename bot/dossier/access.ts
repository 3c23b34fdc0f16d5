/**
 * Who may see which dossier, and how often: the part of the dossier flow that keeps
 * lookups from being a way to enumerate codes or guess phone digits. The dialogue engine
 * calls `admit` before any lookup and `verify` for the phone-digit check
 * (DOSSIER_VERIFY_PHONE); everything here works through the `RateLimiter` interface, so
 * memory and Redis limiters (one process or many) behave the same.
 *
 * Decisions (README "Decisions"):
 * - Per user, DOSSIER_LOOKUPS_PER_HOUR. Globally, a steady DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE
 *   spread over the minute plus a reserve of DOSSIER_GLOBAL_LOOKUP_BURST for bursts
 *   (`burstable`): a burst spends the reserve, after which the next lookup waits at most
 *   one steady interval (0.5 s at 120 a minute) instead of the whole minute a single
 *   per-minute window locked everyone out for; a wait that short is waited out in place.
 * - Phone verification: the code alone never reveals whether a dossier exists. Every
 *   well-formed code is answered by the request for the last four digits, without a
 *   lookup; only the digits trigger the lookup, and an unknown code, a record without a
 *   phone and wrong digits all get the same refusal. Attempts are limited per dossier
 *   code (DOSSIER_VERIFY_ATTEMPTS_PER_DAY) whoever makes them, so rotating accounts does
 *   not multiply the guesses; a success is the last attempt a citizen needs.
 */
import type { RateLimiter } from '../ratelimit.ts';
import type { DossierRecord, DossierStatusProvider } from './types.ts';

/**
 * A steady limiter with a reserve for bursts, over the `RateLimiter` interface (as
 * rate-limiter-flexible's BurstyRateLimiter does): a hit the steady limiter refuses may
 * spend the reserve; refused by both, the wait is the shorter of the two.
 */
export function burstable(steady: RateLimiter, reserve: RateLimiter): RateLimiter {
  return {
    async hit(key: string): Promise<number> {
      const wait = await steady.hit(key);
      if (!wait) return 0;
      const extra = await reserve.hit(key);
      return extra ? Math.min(wait, extra) : 0;
    },
  };
}

/** Builds a limiter of `max` hits per `windowMs` under a name (memory or Redis). */
export type LimiterFactory = (name: string, max: number, windowMs: number) => RateLimiter;

/**
 * The global lookup ceiling: `perMinute` spread evenly (one window per second, or one
 * hit per interval below 60 a minute) plus `burst` extra per minute. 0 disables it.
 */
export function globalLookupLimiter(make: LimiterFactory, perMinute: number, burst: number): RateLimiter {
  if (perMinute <= 0) return { hit: async () => 0 };
  const steady = perMinute >= 60 ? make('dossier-global', Math.floor(perMinute / 60), 1000) : make('dossier-global', 1, Math.ceil(60_000 / perMinute));
  return burst > 0 ? burstable(steady, make('dossier-global-burst', burst, 60_000)) : steady;
}

/** The outcome of an admission check. */
export type Admission = { ok: true } | { ok: false; waitMs: number; scope: 'user' | 'global' };

/** The outcome of a phone-digit check: the record, the one refusal for every failure, or too many attempts. */
export type Verification = { kind: 'verified'; record: DossierRecord } | { kind: 'refused' } | { kind: 'limited'; waitMs: number };

export interface DossierAccessDeps {
  dossiers: DossierStatusProvider;
  /** Lookups per user. */
  userLookups: RateLimiter;
  /** Lookups for everyone (see `globalLookupLimiter`). */
  globalLookups: RateLimiter;
  /** Phone-digit attempts per dossier code; unlimited when absent. */
  verifyAttempts?: RateLimiter;
  /** A global wait up to this long is waited out instead of refused (default 2 s). */
  maxInPlaceWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The dossier lookup gate the dialogue engine goes through. */
export class DossierAccess {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: DossierAccessDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** May `user` (channel:userId) look a dossier up now? Counts the lookup when it may. */
  async admit(user: string): Promise<Admission> {
    const userWait = await this.deps.userLookups.hit(user);
    if (userWait) return { ok: false, waitMs: userWait, scope: 'user' };
    let wait = await this.deps.globalLookups.hit('all');
    const budget = this.deps.maxInPlaceWaitMs ?? 2000;
    let waited = 0;
    while (wait && waited + wait <= budget) {
      await this.sleep(wait);
      waited += wait;
      wait = await this.deps.globalLookups.hit('all');
    }
    return wait ? { ok: false, waitMs: wait, scope: 'global' } : { ok: true };
  }

  /**
   * Checks `digits` (the last four of the applicant's phone) against dossier `code`.
   * Throws the provider's `DossierUnavailableError` when the source is down.
   */
  async verify(code: string, digits: string): Promise<Verification> {
    const wait = (await this.deps.verifyAttempts?.hit(code.toUpperCase())) ?? 0;
    if (wait) return { kind: 'limited', waitMs: wait };
    const record = await this.deps.dossiers.lookup(code);
    const phone = record?.phone?.replace(/\D/g, '') ?? '';
    if (!record || phone.length < 4 || !phone.endsWith(digits)) return { kind: 'refused' };
    return { kind: 'verified', record };
  }
}
