/**
 * Where the console's sessions live, for `@fastify/session` (which owns the cookie, the
 * session id and its lifecycle; these are only its three-method store):
 *
 * - without REDIS_URL, in this process's memory — bounded and swept, and visitors who
 *   only opened the sign-in page (a session holding just a CSRF secret) are kept apart
 *   from signed-in staff, so a flood of sign-in page loads can never push a staff
 *   member's session out; a restart signs everyone out;
 * - with REDIS_URL, in Redis with an expiry, so a session is valid in every process that
 *   serves the console (one behind a load balancer, another on the same Redis).
 *
 * The cookie signing key comes from STAFF_SESSION_SECRET, or else a random key kept in
 * `DATA_DIR/staff-session.key` (0600), which every process on the machine shares.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Session } from 'fastify';
import type { Redis } from 'ioredis';

declare module 'fastify' {
  interface Session {
    /**
     * The signed-in staff member (absent before sign-in): `issuedAt` is compared with the
     * account's password change (wall clock, as the account store keeps it); `signedInAt`
     * and `lastSeen` give the absolute and idle expiry.
     */
    staff?: { username: string; issuedAt: number; signedInAt: number; lastSeen: number };
    /** A notice shown once on the next page (after a redirect). */
    flash?: { kind: 'ok' | 'error'; text: string };
    /** @fastify/csrf-protection's secret. */
    _csrf?: string;
  }
}

type Callback = (err?: unknown) => void;

/** The store interface of @fastify/session. */
export interface ConsoleSessionStore {
  set(sessionId: string, session: Session, callback: Callback): void;
  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void;
  destroy(sessionId: string, callback: Callback): void;
}

/** How long a session is kept: `signedIn` for staff (the idle limit), `anonymous` for a sign-in page visit. */
export interface SessionTtl {
  signedInMs: number;
  anonymousMs: number;
}

/** Frozen defaults of the memory store. */
export const SESSION_STORE_LIMITS = Object.freeze({ signedIn: 5000, anonymous: 5000, anonymousTtlMs: 15 * 60_000, sweepMs: 60_000 });

interface Entry {
  json: string;
  expires: number;
}

/** Sessions in memory (see the module comment). */
export class MemorySessionStore implements ConsoleSessionStore {
  private readonly signedIn = new Map<string, Entry>();
  private readonly anonymous = new Map<string, Entry>();
  private lastSweep = 0;

  constructor(
    private readonly ttl: SessionTtl,
    private readonly limits: { signedIn: number; anonymous: number } = SESSION_STORE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): { signedIn: number; anonymous: number } {
    return { signedIn: this.signedIn.size, anonymous: this.anonymous.size };
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const t = this.now();
    this.sweep(t);
    const staff = !!session.staff;
    const [into, other, max, ttl] = staff ? [this.signedIn, this.anonymous, this.limits.signedIn, this.ttl.signedInMs] : [this.anonymous, this.signedIn, this.limits.anonymous, this.ttl.anonymousMs];
    other.delete(sessionId);
    into.delete(sessionId); // re-inserted last: the oldest stays first for eviction
    into.set(sessionId, { json: JSON.stringify(session), expires: t + ttl });
    while (into.size > max) into.delete(into.keys().next().value as string);
    callback();
  }

  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void {
    const e = this.signedIn.get(sessionId) ?? this.anonymous.get(sessionId);
    if (!e || e.expires <= this.now()) {
      callback(null, null);
      return;
    }
    callback(null, JSON.parse(e.json) as Session);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.signedIn.delete(sessionId);
    this.anonymous.delete(sessionId);
    callback();
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < SESSION_STORE_LIMITS.sweepMs) return;
    this.lastSweep = t;
    for (const map of [this.signedIn, this.anonymous]) for (const [k, e] of map) if (e.expires <= t) map.delete(k);
  }
}

/** Sessions in Redis, each key expiring with its session (see the module comment). */
export class RedisSessionStore implements ConsoleSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; ttl: SessionTtl },
  ) {}

  private key(id: string): string {
    return `${this.opts.prefix}:staff-session:${id}`;
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const ttl = session.staff ? this.opts.ttl.signedInMs : this.opts.ttl.anonymousMs;
    this.redis.set(this.key(sessionId), JSON.stringify(session), 'PX', Math.max(1000, ttl)).then(() => callback(), callback);
  }

  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void {
    this.redis.get(this.key(sessionId)).then((raw) => {
      let session: Session | null;
      try {
        session = raw ? (JSON.parse(raw) as Session) : null;
      } catch {
        session = null; // a damaged entry is a signed-out visitor
      }
      callback(null, session);
    }, callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.redis.del(this.key(sessionId)).then(() => callback(), callback);
  }
}

/** The session key file under DATA_DIR. */
export function sessionKeyFile(dataDir: string): string {
  return join(dataDir, 'staff-session.key');
}

/**
 * The cookie signing key: STAFF_SESSION_SECRET, or the private key file (created on first
 * use, 0600; a process that loses the race to create it reads the winner's).
 */
export function sessionSecret(config: { STAFF_SESSION_SECRET?: string; DATA_DIR: string }): string {
  if (config.STAFF_SESSION_SECRET) return config.STAFF_SESSION_SECRET;
  const file = sessionKeyFile(config.DATA_DIR);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: another process never reads a half-written key.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 32) throw new Error(`${file} holds no usable session key (at least 32 characters); delete it to make a new one`);
  return key;
}
