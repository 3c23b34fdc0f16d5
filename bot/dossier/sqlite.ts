/**
 * The embedded dossier store: one SQLite file under DATA_DIR, created (with invented
 * sample dossiers, unless turned off) on first start. Staff fill it with
 * `npm run dossiers -- import FILE.csv`; the assistant, `ask` and `chat` read the same
 * file, so an import is visible to all of them at once.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DOSSIER_STATUSES, type DossierRecord, type DossierStatus, type DossierStatusProvider } from './types.ts';

const SCHEMA_VERSION = 1;

/** Row shape of the `dossiers` table (snake_case, nullable columns). */
interface DossierRow {
  code: string;
  procedure_id: string | null;
  procedure_name: string;
  status: string;
  received_at: string;
  due_at: string | null;
  finished_at: string | null;
  applicant_name: string;
  phone: string | null;
  current_step: string | null;
  note: string | null;
  updated_at: string;
}

const STATUS_LIST = DOSSIER_STATUSES.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dossiers (
  code           TEXT PRIMARY KEY CHECK (code = upper(code) AND length(code) BETWEEN 5 AND 80),
  procedure_id   TEXT,
  procedure_name TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN (${STATUS_LIST})),
  received_at    TEXT NOT NULL,
  due_at         TEXT,
  finished_at    TEXT,
  applicant_name TEXT NOT NULL,
  phone          TEXT,
  current_step   TEXT,
  note           TEXT,
  updated_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dossiers_status ON dossiers (status);
CREATE TABLE IF NOT EXISTS dossier_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Opens (creating when missing) a SQLite database with the settings every dossier table
 * wants: WAL so the import script and the assistant can use the file at the same time,
 * and a busy timeout instead of an immediate "database is locked".
 */
export function openDossierDatabase(file: string): Database.Database {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Applicants' names and phones: private to the service account (0600). SQLite creates
    // its -wal and -shm files with the database file's permissions.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    try {
      chmodSync(file, 0o600);
    } catch {
      // Someone else's file (a staff account reading the service's database): leave it.
    }
  }
  const db = new Database(file, { timeout: 5000 });
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

function toRecord(r: DossierRow): DossierRecord {
  const rec: DossierRecord = {
    code: r.code,
    procedureName: r.procedure_name,
    status: r.status as DossierStatus,
    receivedAt: r.received_at,
    applicantName: r.applicant_name,
  };
  if (r.procedure_id !== null) rec.procedureId = r.procedure_id;
  if (r.due_at !== null) rec.dueAt = r.due_at;
  if (r.finished_at !== null) rec.finishedAt = r.finished_at;
  if (r.phone !== null) rec.phone = r.phone;
  if (r.current_step !== null) rec.currentStep = r.current_step;
  if (r.note !== null) rec.note = r.note;
  return rec;
}

export interface SqliteDossierOptions {
  /** Records written once, when the database is first created (sample data). */
  seed?: () => DossierRecord[];
  now?: () => number;
}

/** Filter and paging for the staff `list` command. */
export interface DossierListQuery {
  status?: DossierStatus;
  limit?: number;
  offset?: number;
}

/** Dossier status provider over the embedded SQLite file. */
export class SqliteDossierProvider implements DossierStatusProvider {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly byCode: Database.Statement<[string], DossierRow>;
  private readonly upsertOne: Database.Statement<DossierRow>;
  private closed = false;

  constructor(
    readonly file: string,
    opts: SqliteDossierOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.db = openDossierDatabase(file);
    this.db.exec(SCHEMA);
    this.byCode = this.db.prepare<[string], DossierRow>('SELECT * FROM dossiers WHERE code = ?');
    this.upsertOne = this.db.prepare<DossierRow>(`
      INSERT INTO dossiers (code, procedure_id, procedure_name, status, received_at, due_at, finished_at, applicant_name, phone, current_step, note, updated_at)
      VALUES (@code, @procedure_id, @procedure_name, @status, @received_at, @due_at, @finished_at, @applicant_name, @phone, @current_step, @note, @updated_at)
      ON CONFLICT (code) DO UPDATE SET
        procedure_id = excluded.procedure_id, procedure_name = excluded.procedure_name, status = excluded.status,
        received_at = excluded.received_at, due_at = excluded.due_at, finished_at = excluded.finished_at,
        applicant_name = excluded.applicant_name, phone = excluded.phone, current_step = excluded.current_step,
        note = excluded.note, updated_at = excluded.updated_at`);
    // First start: mark the schema and seed inside one IMMEDIATE transaction, so two
    // processes starting together seed once.
    const seed = opts.seed;
    this.db
      .transaction(() => {
        const created = this.db.prepare<[string], { value: string }>('SELECT value FROM dossier_meta WHERE key = ?').get('schema');
        if (created) return;
        this.db.prepare('INSERT INTO dossier_meta (key, value) VALUES (?, ?)').run('schema', String(SCHEMA_VERSION));
        if (seed) this.writeAll(seed());
      })
      .immediate();
  }

  async lookup(code: string): Promise<DossierRecord | null> {
    if (this.closed) throw new Error('dossier database closed');
    const row = this.byCode.get(code.trim().toUpperCase());
    return row ? toRecord(row) : null;
  }

  /** Inserts or replaces records by code, all or nothing. Returns how many were written. */
  upsert(records: readonly DossierRecord[]): number {
    return this.db.transaction(() => this.writeAll(records)).immediate();
  }

  private writeAll(records: readonly DossierRecord[]): number {
    const updatedAt = new Date(this.now()).toISOString();
    for (const r of records) {
      this.upsertOne.run({
        code: r.code.trim().toUpperCase(),
        procedure_id: r.procedureId ?? null,
        procedure_name: r.procedureName,
        status: r.status,
        received_at: r.receivedAt,
        due_at: r.dueAt ?? null,
        finished_at: r.finishedAt ?? null,
        applicant_name: r.applicantName,
        phone: r.phone ?? null,
        current_step: r.currentStep ?? null,
        note: r.note ?? null,
        updated_at: updatedAt,
      });
    }
    return records.length;
  }

  /** Most recently received first, for the staff `list` command. */
  list(q: DossierListQuery = {}): DossierRecord[] {
    const limit = Math.max(1, Math.min(q.limit ?? 50, 10_000));
    const offset = Math.max(0, q.offset ?? 0);
    const rows = q.status
      ? this.db.prepare<[string, number, number], DossierRow>('SELECT * FROM dossiers WHERE status = ? ORDER BY received_at DESC, code LIMIT ? OFFSET ?').all(q.status, limit, offset)
      : this.db.prepare<[number, number], DossierRow>('SELECT * FROM dossiers ORDER BY received_at DESC, code LIMIT ? OFFSET ?').all(limit, offset);
    return rows.map(toRecord);
  }

  /** Number of dossiers, optionally with one status. */
  count(status?: DossierStatus): number {
    const row = status
      ? this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM dossiers WHERE status = ?').get(status)
      : this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dossiers').get();
    return row?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
