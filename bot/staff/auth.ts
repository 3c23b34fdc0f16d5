/**
 * Sign-in for the staff console: `verify(username, password, clientAddress)`.
 *
 * - After `maxFailures` wrong passwords in a row (default 5) the account is locked for
 *   `lockMinutes` (default 15), even for the right password; a success resets the count.
 * - One client address gets `addressFailures` wrong passwords (default 20) per
 *   `lockMinutes`, then it is throttled for that long whatever username it tries.
 * - An unknown username costs the same scrypt time and counts the same way as a known
 *   one, and answers the same `invalid`, so usernames cannot be discovered by trying.
 *
 * Counters live in `rate-limiter-flexible` (made for exactly this brute-force pattern):
 * in memory by default, in Redis with REDIS_URL so every process shares them. Every
 * attempt is written to the audit log.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../dialogue/engine.ts';
import { dummyPasswordHash, verifyPassword, type StaffAccount, type StaffAccounts } from './accounts.ts';
import type { AuditSink } from './audit.ts';

export const AUTH_DEFAULTS = Object.freeze({ maxFailures: 5, lockMinutes: 15, addressFailures: 20 });

export type AuthResult =
  | { ok: true; account: StaffAccount; passwordChangedAt: number }
  | { ok: false; reason: 'invalid' | 'disabled' }
  | { ok: false; reason: 'locked' | 'throttled'; retryAfterMs: number };

/** Vietnamese sign-in messages (the console shows them; the CLI prints them). */
export const AUTH_MESSAGES = Object.freeze({
  invalid: 'Tên đăng nhập hoặc mật khẩu không đúng.',
  disabled: 'Tài khoản đã bị khóa. Liên hệ quản trị viên.',
  locked: (minutes: number) => `Sai mật khẩu quá nhiều lần: tài khoản tạm khóa, thử lại sau ${minutes} phút.`,
  throttled: (minutes: number) => `Có quá nhiều lần đăng nhập sai từ máy này. Thử lại sau ${minutes} phút.`,
});

/** The message for an auth result. */
export function authMessage(r: AuthResult): string {
  if (r.ok) return '';
  if (r.reason === 'locked' || r.reason === 'throttled') return AUTH_MESSAGES[r.reason](Math.max(1, Math.ceil(r.retryAfterMs / 60_000)));
  return AUTH_MESSAGES[r.reason];
}

export interface StaffAuthOptions {
  maxFailures?: number;
  lockMinutes?: number;
  addressFailures?: number;
  /** Shared counters (REDIS_URL); memory otherwise. */
  redis?: Redis;
  /** Key prefix for the Redis counters. */
  prefix?: string;
  audit?: AuditSink;
  log?: Logger;
}

function limiter(opts: StaffAuthOptions, name: string, points: number): RateLimiterAbstract | RateLimiterStoreAbstract {
  const duration = Math.max(1, (opts.lockMinutes ?? AUTH_DEFAULTS.lockMinutes) * 60);
  const base = { points: Math.max(1, points), duration, keyPrefix: `${opts.prefix ?? 'tthc'}:staff-login:${name}` };
  return opts.redis ? new RateLimiterRedis({ ...base, storeClient: opts.redis, useRedisPackage: false }) : new RateLimiterMemory(base);
}

/** The authentication service (see the module comment). */
export class StaffAuth {
  private readonly byUser: RateLimiterAbstract | RateLimiterStoreAbstract;
  private readonly byAddress: RateLimiterAbstract | RateLimiterStoreAbstract;
  private readonly maxFailures: number;
  private readonly addressFailures: number;
  private readonly lockSeconds: number;

  constructor(
    private readonly accounts: StaffAccounts,
    private readonly opts: StaffAuthOptions = {},
  ) {
    this.maxFailures = Math.max(1, opts.maxFailures ?? AUTH_DEFAULTS.maxFailures);
    this.addressFailures = Math.max(1, opts.addressFailures ?? AUTH_DEFAULTS.addressFailures);
    this.lockSeconds = Math.max(1, (opts.lockMinutes ?? AUTH_DEFAULTS.lockMinutes) * 60);
    this.byUser = limiter(opts, 'user', this.maxFailures);
    this.byAddress = limiter(opts, 'addr', this.addressFailures);
  }

  /** Checks a sign-in attempt (see the module comment). */
  async verify(rawUsername: string, password: string, clientAddress: string): Promise<AuthResult> {
    const username = String(rawUsername ?? '').trim().toLowerCase().slice(0, 64);
    const address = String(clientAddress || 'unknown').slice(0, 64);
    const audit = (action: string, detail?: string) => this.opts.audit?.record({ actor: username || '-', action, target: username || null, address, ...(detail ? { detail } : {}) });

    const addr = await this.byAddress.get(address);
    if (addr && addr.consumedPoints >= this.addressFailures) {
      audit('login.throttled');
      return { ok: false, reason: 'throttled', retryAfterMs: addr.msBeforeNext };
    }
    const userKey = username || '-';
    const user = await this.byUser.get(userKey);
    if (user && user.consumedPoints > this.maxFailures) {
      audit('login.locked');
      return { ok: false, reason: 'locked', retryAfterMs: user.msBeforeNext };
    }

    const creds = this.accounts.credentials(username);
    const good = await verifyPassword(String(password ?? '').slice(0, 1024), creds?.hash ?? (await dummyPasswordHash()));
    if (!creds || !good) {
      await this.byAddress.penalty(address, 1).catch(() => undefined);
      let failures = 1;
      try {
        failures = (await this.byUser.penalty(userKey, 1)).consumedPoints;
      } catch (err) {
        failures = err instanceof RateLimiterRes ? err.consumedPoints : failures;
      }
      if (failures >= this.maxFailures) {
        await this.byUser.block(userKey, this.lockSeconds);
        audit('login.lockout', `${failures} lần sai`);
        this.opts.log?.warn({ user: username }, 'staff account locked after repeated wrong passwords');
      } else audit('login.failed');
      return { ok: false, reason: 'invalid' };
    }
    if (creds.account.disabled) {
      audit('login.disabled');
      return { ok: false, reason: 'disabled' };
    }
    await this.byUser.delete(userKey);
    this.accounts.markLogin(creds.account.username);
    audit('login.ok');
    return { ok: true, account: creds.account, passwordChangedAt: creds.passwordChangedAt };
  }

  /**
   * The account behind a session issued at `issuedAt`, while it is still valid: the account
   * exists, is not disabled, and its password has not changed since (a password change or
   * `disable` ends every session at the next request).
   */
  sessionAccount(username: string, issuedAt: number): StaffAccount | undefined {
    const creds = this.accounts.credentials(username);
    if (!creds || creds.account.disabled || creds.passwordChangedAt > issuedAt) return undefined;
    return creds.account;
  }

  /** Lifts a lockout (an admin's action). */
  async unlock(username: string, actor: string): Promise<void> {
    await this.byUser.delete(username.trim().toLowerCase());
    this.opts.audit?.record({ actor, action: 'account.unlock', target: username });
  }
}
