/**
 * Staff accounts for the console and `npm run staff`: usernames, roles and scrypt
 * password hashes (node:crypto, a random salt per user, parameters stored with the hash
 * so they can be raised later) in SQLite (`DATA_DIR/staff.sqlite`, 0600, shared with the
 * audit log). Passwords never leave this module in any form but the hash.
 *
 * Roles (decided, see README "Staff console (services)"): not a strict ladder —
 *   agent  = inbox (hand-offs, complaints), dossiers, dashboard, QR posters
 *   editor = review inbox, knowledge editing, dashboard, QR posters
 *   admin  = everything, plus accounts and the audit log
 * A hotline officer does not edit the knowledge by default, and a knowledge editor does
 * not read citizens' conversations; a centre that wants both gives the person admin.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Config } from '../config.ts';
import { openPrivateDatabase } from '../sqlite.ts';
import type { AuditSink } from './audit.ts';

export const ROLES = ['admin', 'editor', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** What a console page or service needs. */
export const PERMISSIONS = ['inbox', 'dossiers', 'dashboard', 'posters', 'review', 'knowledge', 'accounts', 'audit'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The role table (frozen; the one place that decides who may do what). */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  agent: Object.freeze(['inbox', 'dossiers', 'dashboard', 'posters'] as const),
  editor: Object.freeze(['review', 'knowledge', 'dashboard', 'posters'] as const),
  admin: PERMISSIONS,
});

/** Vietnamese role names for staff. */
export const ROLE_LABELS: Readonly<Record<Role, string>> = Object.freeze({ admin: 'Quản trị', editor: 'Biên tập kiến thức', agent: 'Cán bộ tổng đài' });

/** True when `role` may do `permission`. */
export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export interface StaffAccount {
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** Last successful sign-in. */
  lastLoginAt: number | null;
}

/** Frozen defaults: password rules and scrypt cost (N=2^15, r=8, p=1: ~0.1 s on the reference machine, 32 MiB). */
export const ACCOUNT_RULES = Object.freeze({
  username: /^[a-z0-9][a-z0-9._-]{2,31}$/,
  minPassword: 10,
  maxPassword: 200,
  scrypt: Object.freeze({ N: 32768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 }),
});

/** Named error with a Vietnamese message for the staff member. */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64url), so parameters can change without breaking old hashes. */
export async function hashPassword(password: string, params = ACCOUNT_RULES.scrypt): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: params.maxmem });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time check of a password against a stored hash; false for anything malformed. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n);
  if (!Number.isInteger(N) || !expected.length) return false;
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N, r: Number(r), p: Number(p), maxmem: ACCOUNT_RULES.scrypt.maxmem * 2 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password, compared against when a username is unknown (same time as a real check). */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

/** The staff database (accounts and audit log). */
export function staffDbFile(config: Pick<Config, 'DATA_DIR'>): string {
  return join(config.DATA_DIR, 'staff.sqlite');
}

/** Opens `DATA_DIR/staff.sqlite` (private). */
export function openStaffDatabase(config: Pick<Config, 'DATA_DIR'>): Database.Database {
  return openPrivateDatabase(staffDbFile(config));
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS staff_accounts (
  username      TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'agent')),
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  last_login_at INTEGER,
  password_changed_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface AccountRow {
  username: string;
  role: Role;
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  password_changed_at: number;
}

function accountOf(r: AccountRow): StaffAccount {
  return { username: r.username, role: r.role, disabled: !!r.disabled, createdAt: r.created_at, updatedAt: r.updated_at, lastLoginAt: r.last_login_at };
}

/** Checks a password's shape; returns the Vietnamese reason it is refused, or null. */
export function passwordProblem(password: string, username?: string): string | null {
  if (password.length < ACCOUNT_RULES.minPassword) return `Mật khẩu cần ít nhất ${ACCOUNT_RULES.minPassword} ký tự.`;
  if (password.length > ACCOUNT_RULES.maxPassword) return `Mật khẩu dài quá ${ACCOUNT_RULES.maxPassword} ký tự.`;
  if (username && password.toLowerCase().includes(username.toLowerCase())) return 'Mật khẩu không được chứa tên đăng nhập.';
  if (/^(.)\1+$/.test(password)) return 'Mật khẩu không được chỉ lặp lại một ký tự.';
  return null;
}

/** The account store (see the module comment). Every change is written to the audit log. */
export class StaffAccounts {
  constructor(
    private readonly db: Database.Database,
    private readonly opts: { audit?: AuditSink; now?: () => number } = {},
  ) {
    db.exec(SCHEMA);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private row(username: string): AccountRow | undefined {
    return this.db.prepare('SELECT * FROM staff_accounts WHERE username = ?').get(username.trim().toLowerCase()) as AccountRow | undefined;
  }

  get(username: string): StaffAccount | undefined {
    const r = this.row(username);
    return r ? accountOf(r) : undefined;
  }

  list(): StaffAccount[] {
    return (this.db.prepare('SELECT * FROM staff_accounts ORDER BY username').all() as AccountRow[]).map(accountOf);
  }

  async add(rawUsername: string, role: string, password: string, actor: string): Promise<StaffAccount> {
    const username = rawUsername.trim().toLowerCase();
    if (!ACCOUNT_RULES.username.test(username)) throw new AccountError('Tên đăng nhập 3–32 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới; bắt đầu bằng chữ hoặc số.');
    if (!isRole(role)) throw new AccountError(`Vai trò chỉ nhận: ${ROLES.join(', ')}.`);
    if (this.row(username)) throw new AccountError(`Đã có tài khoản "${username}".`);
    const problem = passwordProblem(password, username);
    if (problem) throw new AccountError(problem);
    const hash = await hashPassword(password);
    const at = this.now();
    this.db.prepare('INSERT INTO staff_accounts (username, role, password_hash, created_at, updated_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)').run(username, role, hash, at, at, at);
    this.opts.audit?.record({ actor, action: 'account.add', target: username, detail: role });
    return this.get(username) as StaffAccount;
  }

  async setPassword(rawUsername: string, password: string, actor: string): Promise<void> {
    const r = this.row(rawUsername);
    if (!r) throw new AccountError(`Không có tài khoản "${rawUsername}".`);
    const problem = passwordProblem(password, r.username);
    if (problem) throw new AccountError(problem);
    const hash = await hashPassword(password);
    const at = this.now();
    this.db.prepare('UPDATE staff_accounts SET password_hash = ?, updated_at = ?, password_changed_at = ? WHERE username = ?').run(hash, at, at, r.username);
    this.opts.audit?.record({ actor, action: 'account.passwd', target: r.username });
  }

  setDisabled(rawUsername: string, disabled: boolean, actor: string): StaffAccount {
    const r = this.row(rawUsername);
    if (!r) throw new AccountError(`Không có tài khoản "${rawUsername}".`);
    if (disabled && r.role === 'admin' && !r.disabled && this.activeAdmins() <= 1) throw new AccountError('Không khóa được quản trị viên cuối cùng còn hoạt động.');
    this.db.prepare('UPDATE staff_accounts SET disabled = ?, updated_at = ? WHERE username = ?').run(disabled ? 1 : 0, this.now(), r.username);
    this.opts.audit?.record({ actor, action: disabled ? 'account.disable' : 'account.enable', target: r.username });
    return this.get(r.username) as StaffAccount;
  }

  setRole(rawUsername: string, role: string, actor: string): StaffAccount {
    const r = this.row(rawUsername);
    if (!r) throw new AccountError(`Không có tài khoản "${rawUsername}".`);
    if (!isRole(role)) throw new AccountError(`Vai trò chỉ nhận: ${ROLES.join(', ')}.`);
    if (r.role === 'admin' && role !== 'admin' && !r.disabled && this.activeAdmins() <= 1) throw new AccountError('Không đổi vai trò của quản trị viên cuối cùng còn hoạt động.');
    this.db.prepare('UPDATE staff_accounts SET role = ?, updated_at = ? WHERE username = ?').run(role, this.now(), r.username);
    this.opts.audit?.record({ actor, action: 'account.role', target: r.username, detail: `${r.role} → ${role}` });
    return this.get(r.username) as StaffAccount;
  }

  private activeAdmins(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM staff_accounts WHERE role = 'admin' AND disabled = 0").get() as { n: number }).n;
  }

  /** The stored hash and state, for the authentication service only. */
  credentials(username: string): { account: StaffAccount; hash: string; passwordChangedAt: number } | undefined {
    const r = this.row(username);
    return r ? { account: accountOf(r), hash: r.password_hash, passwordChangedAt: r.password_changed_at } : undefined;
  }

  markLogin(username: string): void {
    this.db.prepare('UPDATE staff_accounts SET last_login_at = ? WHERE username = ?').run(this.now(), username);
  }
}
