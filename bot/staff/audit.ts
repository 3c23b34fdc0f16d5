/**
 * The audit log: who did what, when, to which ticket, account or file — every staff
 * action and every sign-in attempt — in SQLite (`DATA_DIR/staff.sqlite`, private), for
 * admins (`npm run staff -- audit`, the console's audit page). Details pass through
 * `redact`, so personal data in what staff typed is masked before it is stored.
 */
import { userInfo } from 'node:os';
import type Database from 'better-sqlite3';
import { redact } from '../privacy.ts';

/** One thing that happened. */
export interface AuditEntry {
  id: number;
  at: number;
  /** Staff username, `cli:<os user>`, `telegram:<name>`, or `-` for an unknown sign-in name. */
  actor: string;
  /** Dotted verb: `login.ok`, `login.failed`, `account.add`, `ticket.reply`, `knowledge.save`… */
  action: string;
  /** What it acted on: a ticket id, a username, a file. */
  target: string | null;
  /** Short masked detail. */
  detail: string | null;
  /** Client address for console actions. */
  address: string | null;
}

export type AuditInput = Pick<AuditEntry, 'actor' | 'action'> & Partial<Pick<AuditEntry, 'target' | 'detail' | 'address' | 'at'>>;

/** Where staff services write their audit lines (the SQLite log, or nothing in tests). */
export interface AuditSink {
  record(entry: AuditInput): void;
}

export interface AuditQuery {
  since?: number;
  until?: number;
  actor?: string;
  /** A prefix such as `login` or `ticket.`. */
  action?: string;
  limit?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT,
  detail  TEXT,
  address TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
`;

const MAX_DETAIL = 300;

/** Control characters would garble a terminal or a log viewer. */
function clean(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, max);
}

/** The audit log in a SQLite database shared with the staff accounts. */
export class AuditLog implements AuditSink {
  private readonly insert: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
    this.insert = db.prepare('INSERT INTO audit (at, actor, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)');
  }

  record(e: AuditInput): void {
    this.insert.run(
      e.at ?? this.now(),
      clean(e.actor, 80),
      clean(e.action, 60),
      e.target === undefined || e.target === null ? null : clean(e.target, 200),
      e.detail === undefined || e.detail === null ? null : clean(redact(e.detail), MAX_DETAIL),
      e.address ?? null,
    );
  }

  /** Newest first. */
  list(q: AuditQuery = {}): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('at < ?');
      args.push(q.until);
    }
    if (q.actor) {
      where.push('actor = ?');
      args.push(q.actor);
    }
    if (q.action) {
      where.push("action LIKE ? ESCAPE '\\'");
      args.push(`${q.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    args.push(Math.max(1, Math.min(q.limit ?? 100, 10_000)));
    return this.db.prepare(sql).all(...args) as AuditEntry[];
  }
}

/** The actor name of a command run from a terminal (`cli:<os user>`). */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  return `cli:${user}`;
}
