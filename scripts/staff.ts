/**
 * Staff accounts and the audit log at a terminal (the console's account pages call the
 * same `StaffAccounts` and `AuditLog`):
 *
 *   npm run staff -- add <username> --role admin|editor|agent   password from stdin, or prompted without echo
 *   npm run staff -- passwd <username>
 *   npm run staff -- disable <username>       npm run staff -- enable <username>
 *   npm run staff -- role <username> admin|editor|agent
 *   npm run staff -- list [--json]
 *   npm run staff -- audit [--since YYYY-MM-DD] [--actor NAME] [--action PREFIX] [--limit N] [--json]
 *
 * Accounts live in DATA_DIR/staff.sqlite (0600). Changes are audited as `cli:<os user>`.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../bot/config.ts';
import { AccountError, openStaffDatabase, ROLE_LABELS, ROLE_PERMISSIONS, ROLES, StaffAccounts, type Role } from '../bot/staff/accounts.ts';
import { AuditLog, cliActor } from '../bot/staff/audit.ts';

export const USAGE = `Cách dùng:
  npm run staff -- add <tên-đăng-nhập> --role ${ROLES.join('|')}   (mật khẩu nhập từ bàn phím, không hiện, hoặc qua stdin)
  npm run staff -- passwd <tên-đăng-nhập>
  npm run staff -- disable <tên-đăng-nhập> | enable <tên-đăng-nhập>
  npm run staff -- role <tên-đăng-nhập> ${ROLES.join('|')}
  npm run staff -- list [--json]
  npm run staff -- audit [--since YYYY-MM-DD] [--actor TÊN] [--action login|account|ticket|knowledge…] [--limit N] [--json]`;

export interface StaffIo {
  dataDir: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Reads the password (twice for a new one when on a terminal). */
  readPassword: (prompt: string, confirm: boolean) => Promise<string>;
}

function vnTime(ms: number | null): string {
  return ms ? new Date(ms + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ') : '—';
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Runs the command; returns the exit code. */
export async function runStaff(argv: string[], io: StaffIo): Promise<number> {
  const [command, name, ...rest] = argv;
  const db = openStaffDatabase({ DATA_DIR: io.dataDir });
  const audit = new AuditLog(db);
  const accounts = new StaffAccounts(db, { audit });
  const actor = cliActor();
  try {
    switch (command) {
      case 'add': {
        const role = option(rest, '--role');
        if (!name || !role) break;
        const password = await io.readPassword(`Mật khẩu cho ${name}: `, true);
        const a = await accounts.add(name, role, password, actor);
        io.out(`Đã tạo tài khoản ${a.username} (${ROLE_LABELS[a.role]}: ${ROLE_PERMISSIONS[a.role].join(', ')}).`);
        return 0;
      }
      case 'passwd': {
        if (!name) break;
        if (!accounts.get(name)) throw new AccountError(`Không có tài khoản "${name}".`);
        await accounts.setPassword(name, await io.readPassword(`Mật khẩu mới cho ${name}: `, true), actor);
        io.out(`Đã đổi mật khẩu của ${name.toLowerCase()}; các phiên đăng nhập cũ hết hiệu lực.`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        if (!name) break;
        const a = accounts.setDisabled(name, command === 'disable', actor);
        io.out(a.disabled ? `Đã khóa tài khoản ${a.username}; các phiên đăng nhập của tài khoản này hết hiệu lực.` : `Đã mở lại tài khoản ${a.username}.`);
        return 0;
      }
      case 'role': {
        const role = rest[0];
        if (!name || !role) break;
        const a = accounts.setRole(name, role, actor);
        io.out(`Tài khoản ${a.username} nay là ${ROLE_LABELS[a.role as Role]}.`);
        return 0;
      }
      case 'list': {
        const list = accounts.list();
        if (argv.includes('--json')) {
          for (const a of list) io.out(JSON.stringify(a));
          return 0;
        }
        if (!list.length) {
          io.out('Chưa có tài khoản nào. Tạo tài khoản quản trị: npm run staff -- add <tên> --role admin');
          return 0;
        }
        io.out(`${'tên đăng nhập'.padEnd(20)} ${'vai trò'.padEnd(8)} ${'trạng thái'.padEnd(11)} đăng nhập gần nhất`);
        for (const a of list) io.out(`${a.username.padEnd(20)} ${a.role.padEnd(8)} ${(a.disabled ? 'đã khóa' : 'hoạt động').padEnd(11)} ${vnTime(a.lastLoginAt)}`);
        return 0;
      }
      case 'audit': {
        const args = argv.slice(1);
        const since = option(args, '--since');
        if (since && Number.isNaN(Date.parse(`${since}T00:00:00+07:00`))) {
          io.err('--since cần dạng YYYY-MM-DD.');
          return 2;
        }
        const entries = audit.list({ since: since ? Date.parse(`${since}T00:00:00+07:00`) : undefined, actor: option(args, '--actor'), action: option(args, '--action'), limit: Number(option(args, '--limit') ?? 100) || 100 });
        if (args.includes('--json')) {
          for (const e of entries) io.out(JSON.stringify(e));
          return 0;
        }
        if (!entries.length) io.out('Nhật ký trống.');
        for (const e of entries) io.out(`${vnTime(e.at)}  ${e.actor.padEnd(18)} ${e.action.padEnd(18)} ${(e.target ?? '').padEnd(18)} ${e.detail ?? ''}${e.address ? `  [${e.address}]` : ''}`);
        return 0;
      }
      default:
        break;
    }
    io.err(USAGE);
    return 2;
  } catch (err) {
    if (err instanceof AccountError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}

/** Reads a line from a terminal without echoing it (or all of stdin when piped). */
export async function readPasswordFromTerminal(prompt: string, confirm: boolean): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const ask = (q: string) =>
    new Promise<string>((resolve, reject) => {
      process.stderr.write(q);
      let value = '';
      stdin.setRawMode(true);
      stdin.resume();
      stdin.setEncoding('utf8');
      const onData = (s: string) => {
        for (const ch of s) {
          if (ch === '\r' || ch === '\n') {
            done();
            process.stderr.write('\n');
            return resolve(value);
          }
          if (ch === '\u0003') {
            done();
            return reject(new Error('cancelled'));
          }
          if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
          else value += ch;
        }
      };
      const done = () => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
      };
      stdin.on('data', onData);
    });
  const first = await ask(prompt);
  if (confirm && (await ask('Nhập lại mật khẩu: ')) !== first) throw new AccountError('Hai lần nhập mật khẩu không khớp.');
  return first;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  try {
    process.exitCode = await runStaff(process.argv.slice(2), { dataDir: config.DATA_DIR, out: (l) => console.log(l), err: (l) => console.error(l), readPassword: readPasswordFromTerminal });
  } catch (err) {
    console.error(err instanceof AccountError ? err.message : err);
    process.exitCode = 1;
  }
}
