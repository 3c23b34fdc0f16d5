/**
 * Staff accounts, sign-in and the audit log: scrypt hashes in a private SQLite file,
 * `npm run staff` (password from stdin), lockout after 5 wrong passwords and per-address
 * throttling with the counters in memory and in Redis (one suite for both), roles, and
 * sessions that end when the password changes or the account is disabled.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { can, hashPassword, openStaffDatabase, PERMISSIONS, ROLE_PERMISSIONS, StaffAccounts, verifyPassword } from '../bot/staff/accounts.ts';
import { AuditLog } from '../bot/staff/audit.ts';
import { authMessage, StaffAuth } from '../bot/staff/auth.ts';
import { runStaff } from '../scripts/staff.ts';
import { cleanupPrefix, connectRedis, randomPrefix } from './queue-helpers.ts';
import { ROOT } from './helpers/staff.ts';

const tmp = mkdtempSync(join(tmpdir(), 'staff-acc-'));
const prefix = randomPrefix('auth');
let redis: Redis | undefined;
let n = 0;

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (redis) {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  }
});

function setup() {
  const db = openStaffDatabase({ DATA_DIR: join(tmp, `d${++n}`) });
  const audit = new AuditLog(db);
  return { db, audit, accounts: new StaffAccounts(db, { audit }) };
}

describe('passwords', () => {
  it('hashes with scrypt and a salt per user, verifies in constant time, refuses malformed hashes', async () => {
    const a = await hashPassword('mật khẩu rất dài 1');
    const b = await hashPassword('mật khẩu rất dài 1');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('mật khẩu rất dài 1', a)).toBe(true);
    expect(await verifyPassword('mật khẩu rất dài 2', a)).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$whatever')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$abc$8$1$c2FsdA$')).toBe(false);
  });
});

describe('accounts', () => {
  it('adds, lists, changes password and role, disables; never keeps the last admin out', async () => {
    const { db, accounts, audit } = setup();
    await accounts.add('Lan.Nguyen', 'agent', 'một mật khẩu dài', 'cli:test');
    await accounts.add('admin1', 'admin', 'quản trị viên 2026', 'cli:test');
    expect(accounts.list().map((a) => [a.username, a.role, a.disabled])).toEqual([
      ['admin1', 'admin', false],
      ['lan.nguyen', 'agent', false],
    ]);
    await expect(accounts.add('lan.nguyen', 'agent', 'một mật khẩu dài', 'x')).rejects.toThrow('Đã có tài khoản');
    await expect(accounts.add('bad name', 'agent', 'một mật khẩu dài', 'x')).rejects.toThrow('Tên đăng nhập');
    await expect(accounts.add('minh', 'boss', 'một mật khẩu dài', 'x')).rejects.toThrow('Vai trò');
    await expect(accounts.add('minh', 'agent', 'ngắn', 'x')).rejects.toThrow('ít nhất 10');
    await expect(accounts.add('minh', 'agent', 'minh-minh-minh', 'x')).rejects.toThrow('tên đăng nhập');
    expect(() => accounts.setDisabled('admin1', true, 'x')).toThrow('cuối cùng');
    expect(() => accounts.setRole('admin1', 'editor', 'x')).toThrow('cuối cùng');
    accounts.setRole('lan.nguyen', 'editor', 'x');
    expect(accounts.get('LAN.NGUYEN')?.role).toBe('editor');
    expect(audit.list().map((e) => e.action).reverse()).toEqual(['account.add', 'account.add', 'account.role']);
    expect(JSON.stringify(db.prepare('SELECT * FROM staff_accounts').all())).not.toContain('một mật khẩu dài');
    db.close();
  });

  it('roles: agent = inbox, dossiers, dashboard; editor = review, knowledge, dashboard; admin = all + accounts + audit', () => {
    expect(ROLE_PERMISSIONS.agent).toEqual(['inbox', 'dossiers', 'dashboard', 'posters']);
    expect(ROLE_PERMISSIONS.editor).toEqual(['review', 'knowledge', 'dashboard', 'posters']);
    expect(PERMISSIONS.every((p) => can('admin', p))).toBe(true);
    expect(can('agent', 'knowledge')).toBe(false);
    expect(can('editor', 'inbox')).toBe(false);
    expect(can('agent', 'accounts') || can('editor', 'audit')).toBe(false);
  });
});

const LIMITERS = [
  { name: 'memory', redis: async () => undefined },
  { name: 'redis', redis: async () => (redis ??= await connectRedis()) },
];

describe.each(LIMITERS)('sign-in (counters in $name)', (impl) => {
  it('locks an account after 5 wrong passwords for 15 minutes, even for the right one; success resets the count', async () => {
    const { db, accounts, audit } = setup();
    await accounts.add('hoa', 'agent', 'chìa khóa bí mật số một', 'cli:test');
    const auth = new StaffAuth(accounts, { redis: await impl.redis(), prefix: `${prefix}-${n}`, audit });
    for (let i = 0; i < 4; i++) expect(await auth.verify('hoa', 'sai rồi', '10.0.0.1')).toEqual({ ok: false, reason: 'invalid' });
    expect((await auth.verify('hoa', 'chìa khóa bí mật số một', '10.0.0.1')).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect((await auth.verify('HOA', 'sai rồi', '10.0.0.1')).ok).toBe(false);
    const locked = await auth.verify('hoa', 'chìa khóa bí mật số một', '10.0.0.2');
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    expect(locked.ok === false && 'retryAfterMs' in locked && locked.retryAfterMs).toBeGreaterThan(14 * 60_000);
    expect(authMessage(locked)).toContain('15 phút');
    await auth.unlock('hoa', 'admin1');
    expect((await auth.verify('hoa', 'chìa khóa bí mật số một', '10.0.0.2')).ok).toBe(true);
    const actions = audit.list({ action: 'login' }).map((e) => e.action);
    expect(actions).toContain('login.lockout');
    expect(actions).toContain('login.locked');
    expect(audit.list({ action: 'login.failed' })[0]).toMatchObject({ actor: 'hoa', address: '10.0.0.1' });
    db.close();
  });

  it('throttles one address trying many usernames, and answers unknown users exactly like wrong passwords', async () => {
    const { db, accounts } = setup();
    await accounts.add('tuan', 'editor', 'mật khẩu của tuấn', 'cli:test');
    const auth = new StaffAuth(accounts, { redis: await impl.redis(), prefix: `${prefix}-${n}`, addressFailures: 3 });
    expect(await auth.verify('nobody', 'x', '10.9.9.9')).toEqual({ ok: false, reason: 'invalid' });
    expect(await auth.verify('tuan', 'x', '10.9.9.9')).toEqual({ ok: false, reason: 'invalid' });
    expect(await auth.verify('ghost', 'x', '10.9.9.9')).toEqual({ ok: false, reason: 'invalid' });
    expect(await auth.verify('tuan', 'mật khẩu của tuấn', '10.9.9.9')).toMatchObject({ ok: false, reason: 'throttled' });
    expect((await auth.verify('tuan', 'mật khẩu của tuấn', '10.1.1.1')).ok).toBe(true);
    db.close();
  });
});

describe('sessions and disabled accounts', () => {
  it('ends sessions issued before a password change or a disable', async () => {
    const { db, accounts } = setup();
    await accounts.add('mai', 'agent', 'chìa khóa bí mật số hai', 'x');
    await accounts.add('root1', 'admin', 'mật khẩu quản trị', 'x');
    const auth = new StaffAuth(accounts);
    const r = await auth.verify('mai', 'chìa khóa bí mật số hai', '1.1.1.1');
    expect(r.ok).toBe(true);
    const issuedAt = Date.now() + 1;
    expect(auth.sessionAccount('mai', issuedAt)?.username).toBe('mai');
    await new Promise((res) => setTimeout(res, 5));
    await accounts.setPassword('mai', 'chìa khóa bí mật số ba', 'x');
    expect(auth.sessionAccount('mai', issuedAt)).toBeUndefined();
    accounts.setDisabled('mai', true, 'root1');
    expect(await auth.verify('mai', 'chìa khóa bí mật số ba', '1.1.1.1')).toEqual({ ok: false, reason: 'disabled' });
    expect(auth.sessionAccount('mai', Date.now() + 10)).toBeUndefined();
    db.close();
  });
});

describe('npm run staff', () => {
  const dataDir = join(tmp, 'cli');
  const run = async (argv: string[], password = 'mật khẩu dòng lệnh') => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runStaff(argv, { dataDir, out: (l) => out.push(l), err: (l) => err.push(l), readPassword: async () => password });
    return { code, out, err };
  };

  it('adds, lists, changes password, disables, and prints the audit log', async () => {
    expect((await run(['add', 'thu', '--role', 'admin'])).code).toBe(0);
    expect(statSync(join(dataDir, 'staff.sqlite')).mode & 0o777).toBe(0o600);
    expect((await run(['add', 'nam', '--role', 'agent'])).out[0]).toContain('Cán bộ tổng đài');
    expect((await run(['add', 'nam', '--role', 'agent'])).code).toBe(1);
    expect((await run(['passwd', 'nam'], 'mật khẩu mới hơn nữa')).code).toBe(0);
    expect((await run(['disable', 'nam'])).code).toBe(0);
    const list = await run(['list']);
    expect(list.out.join('\n')).toMatch(/nam\s+agent\s+đã khóa/);
    const audit = await run(['audit', '--action', 'account']);
    expect(audit.out.join('\n')).toMatch(/cli:\S+\s+account.disable\s+nam/);
    expect((await run(['frobnicate'])).code).toBe(2);
  });

  it('reads the password from stdin when piped (as a script)', async () => {
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/staff.ts', 'add', 'piped', '--role', 'editor'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir } }, (e, stdout) => (e ? reject(e) : resolve({ stdout })));
      child.stdin?.end('mật khẩu qua ống dẫn\n');
    });
    expect(stdout).toContain('Đã tạo tài khoản piped');
    const db = openStaffDatabase({ DATA_DIR: dataDir });
    const auth = new StaffAuth(new StaffAccounts(db));
    expect((await auth.verify('piped', 'mật khẩu qua ống dẫn', '127.0.0.1')).ok).toBe(true);
    db.close();
  }, 60_000);
});
