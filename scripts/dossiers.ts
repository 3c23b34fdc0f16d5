/**
 * Staff tool for the embedded dossier database.
 *
 *   npm run dossiers -- import FILE.csv [--dry-run] [--db FILE]
 *     good rows are inserted or updated by code; bad rows are listed with their line
 *     and the reason. Exit code 0 = all rows good, 1 = some rows rejected, 2 = nothing read.
 *   npm run dossiers -- list [--status "Đang xử lý"] [--limit 50] [--db FILE]
 *
 * Names are printed masked and phone numbers never, so the output can be pasted into
 * a staff chat.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from '../bot/config.ts';
import { viDate } from '../bot/dialogue/compose.ts';
import { dossierDbFile } from '../bot/dossier/factory.ts';
import { parseDossierCsv } from '../bot/dossier/import.ts';
import { CLI_MESSAGES as M } from '../bot/dossier/messages.ts';
import { toNationalStatus } from '../bot/dossier/normalize.ts';
import { SqliteDossierProvider } from '../bot/dossier/sqlite.ts';
import { overdueDays } from '../bot/dossier/types.ts';
import { maskName } from '../bot/privacy.ts';

interface Args {
  command?: string;
  file?: string;
  db?: string;
  dryRun: boolean;
  status?: string;
  limit: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { dryRun: false, limit: 50 };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i] as string;
    if (x === '--dry-run') a.dryRun = true;
    else if (x === '--db') a.db = argv[++i];
    else if (x === '--status') a.status = argv[++i];
    else if (x === '--limit') a.limit = Math.max(1, Number(argv[++i]) || 50);
    else rest.push(x);
  }
  a.command = rest[0];
  a.file = rest[1];
  return a;
}

function open(config: Config, db: string | undefined): { provider: SqliteDossierProvider; file: string } {
  const file = db ?? dossierDbFile(config);
  // No sample seeding here: a database that staff create by importing holds only real dossiers.
  return { provider: new SqliteDossierProvider(file), file };
}

async function importFile(args: Args, config: Config, out: Output): Promise<number> {
  if (!args.file) {
    out.error(M.usage);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(args.file);
  } catch {
    out.error(M.fileMissing(args.file));
    return 2;
  }
  const result = parseDossierCsv(bytes);
  if (result.fatal) {
    out.error(result.fatal);
    return 2;
  }
  for (const w of result.warnings) out.log(w.line === 1 ? M.headerWarning(w.message) : M.rowWarning(w.line, w.message));
  if (result.errors.length) {
    out.log(M.errorsTitle);
    for (const e of result.errors) out.log(M.rowError(e.line, e.message));
  }
  let file = args.db ?? dossierDbFile(config);
  if (!args.dryRun && result.records.length) {
    const opened = open(config, args.db);
    file = opened.file;
    try {
      opened.provider.upsert(result.records.map((r) => r.record));
    } finally {
      await opened.provider.close();
    }
  }
  out.log(M.summary(result.records.length, result.badLines, file, args.dryRun));
  if (config.DOSSIER_PROVIDER !== 'sqlite') out.log(M.otherProvider(config.DOSSIER_PROVIDER));
  return result.badLines ? 1 : 0;
}

async function list(args: Args, config: Config, out: Output): Promise<number> {
  const status = args.status ? toNationalStatus(args.status) : undefined;
  if (args.status && !status) {
    out.error(M.badStatusFilter(args.status));
    return 2;
  }
  const { provider } = open(config, args.db);
  try {
    const total = provider.count(status);
    const rows = provider.list({ status, limit: args.limit });
    if (!rows.length) {
      out.log(M.listEmpty);
      return 0;
    }
    out.log(M.listHeader);
    const today = new Date();
    for (const r of rows) {
      const late = overdueDays(r, today);
      const due = r.dueAt ? `${viDate(r.dueAt)}${late ? ` (${M.overdue(late)})` : ''}` : '—';
      out.log([r.code, r.procedureName, r.status, maskName(r.applicantName), viDate(r.receivedAt), due].join(' | '));
    }
    out.log(M.listFooter(rows.length, total));
    return 0;
  } finally {
    await provider.close();
  }
}

/** Where the command writes (the console, or a test's buffer). */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Runs the command line; resolves to the exit code. */
export async function runDossiersCli(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = console): Promise<number> {
  const args = parseArgs(argv);
  const config = loadConfig(env);
  switch (args.command) {
    case 'import':
      return importFile(args, config, out);
    case 'list':
      return list(args, config, out);
    case undefined:
    case 'help':
    case '--help':
      out.log(M.usage);
      return args.command ? 0 : 2;
    default:
      out.error(M.unknownCommand(args.command));
      out.error(M.usage);
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runDossiersCli(process.argv.slice(2));
}
