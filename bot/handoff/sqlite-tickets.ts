/**
 * Tickets in SQLite (`DATA_DIR/tickets.sqlite`, private): the embedded default. Every
 * process on the machine (`npm start`, `npm run handoffs`, the console) reads and writes
 * the same file, so a ticket is never lost to a restart. A `tickets.jsonl` left by earlier
 * versions is imported once on first open and renamed `tickets.jsonl.migrated`.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { openPrivateDatabase } from '../sqlite.ts';
import {
  ACTIVE_STATUSES,
  boundedMessage,
  boundedNewTicket,
  isTicketOutcome,
  TICKET_LIMITS,
  ticketId,
  ticketIdPrefix,
  type NewTicket,
  type Ticket,
  type TicketListFilter,
  type TicketMessage,
  type TicketPatch,
  type TicketStatus,
  type TicketStore,
} from './tickets.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tickets (
  id                   TEXT PRIMARY KEY,
  kind                 TEXT NOT NULL CHECK (kind IN ('handoff', 'complaint')),
  status               TEXT NOT NULL CHECK (status IN ('open', 'answered', 'released', 'closed')),
  channel              TEXT NOT NULL,
  conversation_id      TEXT NOT NULL,
  citizen              TEXT NOT NULL,
  reason               TEXT NOT NULL,
  excerpt              TEXT NOT NULL,
  outcome              TEXT,
  outcome_note         TEXT,
  first_staff_reply_at INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, created_at);
CREATE INDEX IF NOT EXISTS tickets_created ON tickets (created_at);
CREATE INDEX IF NOT EXISTS tickets_conversation ON tickets (channel, conversation_id, created_at);
CREATE TABLE IF NOT EXISTS ticket_messages (
  ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL,
  sender    TEXT NOT NULL CHECK (sender IN ('citizen', 'bot', 'staff')),
  staff     TEXT,
  text      TEXT NOT NULL,
  at        INTEGER NOT NULL,
  PRIMARY KEY (ticket_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ticket_counters (prefix TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`;

interface TicketRow {
  id: string;
  kind: Ticket['kind'];
  status: TicketStatus;
  channel: string;
  conversation_id: string;
  citizen: string;
  reason: string;
  excerpt: string;
  outcome: string | null;
  outcome_note: string | null;
  first_staff_reply_at: number | null;
  created_at: number;
  updated_at: number;
}

interface MessageRow {
  ticket_id: string;
  sender: TicketMessage['from'];
  staff: string | null;
  text: string;
  at: number;
}

function parseExcerpt(json: string): TicketMessage[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as TicketMessage[]) : [];
  } catch {
    return [];
  }
}

function messageOf(r: MessageRow): TicketMessage {
  return r.staff ? { from: r.sender, text: r.text, at: r.at, by: r.staff } : { from: r.sender, text: r.text, at: r.at };
}

/** `TicketStore` on one SQLite file (see the module comment). */
export class SqliteTicketStore implements TicketStore {
  readonly db: Database.Database;
  private readonly stmt: Record<'get' | 'messages' | 'insert' | 'counter' | 'append' | 'trim' | 'firstReply' | 'touch' | 'findOpen', Database.Statement>;

  constructor(
    readonly file: string,
    private readonly opts: { now?: () => number; legacyFile?: string; /** Messages kept per ticket (default TICKET_LIMITS.messages). */ maxMessages?: number } = {},
  ) {
    this.db = openPrivateDatabase(file);
    this.db.exec(SCHEMA);
    this.stmt = {
      get: this.db.prepare('SELECT * FROM tickets WHERE id = ?'),
      messages: this.db.prepare('SELECT ticket_id, sender, staff, text, at FROM ticket_messages WHERE ticket_id = ? ORDER BY seq'),
      insert: this.db.prepare(
        'INSERT INTO tickets (id, kind, status, channel, conversation_id, citizen, reason, excerpt, outcome, outcome_note, first_staff_reply_at, created_at, updated_at) VALUES (@id, @kind, @status, @channel, @conversation_id, @citizen, @reason, @excerpt, @outcome, @outcome_note, @first_staff_reply_at, @created_at, @updated_at)',
      ),
      counter: this.db.prepare('INSERT INTO ticket_counters (prefix, n) VALUES (?, 1) ON CONFLICT (prefix) DO UPDATE SET n = n + 1 RETURNING n'),
      append: this.db.prepare('INSERT INTO ticket_messages (ticket_id, seq, sender, staff, text, at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_messages WHERE ticket_id = ?), ?, ?, ?, ?)'),
      trim: this.db.prepare('DELETE FROM ticket_messages WHERE ticket_id = ? AND seq <= (SELECT MAX(seq) FROM ticket_messages WHERE ticket_id = ?) - ?'),
      firstReply: this.db.prepare('UPDATE tickets SET first_staff_reply_at = ? WHERE id = ? AND first_staff_reply_at IS NULL'),
      touch: this.db.prepare('UPDATE tickets SET updated_at = ? WHERE id = ?'),
      findOpen: this.db.prepare(`SELECT * FROM tickets WHERE channel = ? AND conversation_id = ? AND status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')}) ORDER BY created_at DESC LIMIT 1`),
    };
    if (opts.legacyFile) this.migrate(opts.legacyFile);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private toTicket(row: TicketRow, withMessages = true): Ticket {
    const t: Ticket = {
      id: row.id,
      kind: row.kind,
      status: row.status,
      channel: row.channel,
      conversationId: row.conversation_id,
      citizen: row.citizen,
      reason: row.reason,
      excerpt: parseExcerpt(row.excerpt),
      messages: withMessages ? (this.stmt.messages.all(row.id) as MessageRow[]).map(messageOf) : [],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.outcome && isTicketOutcome(row.outcome)) t.outcome = row.outcome;
    if (row.outcome_note) t.outcomeNote = row.outcome_note;
    if (row.first_staff_reply_at !== null) t.firstStaffReplyAt = row.first_staff_reply_at;
    return t;
  }

  private row(t: Ticket): TicketRow {
    return {
      id: t.id,
      kind: t.kind,
      status: t.status,
      channel: t.channel,
      conversation_id: t.conversationId,
      citizen: t.citizen,
      reason: t.reason,
      excerpt: JSON.stringify(t.excerpt),
      outcome: t.outcome ?? null,
      outcome_note: t.outcomeNote ?? null,
      first_staff_reply_at: t.firstStaffReplyAt ?? null,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    };
  }

  async create(input: NewTicket): Promise<Ticket> {
    const t = boundedNewTicket(input);
    const at = this.now();
    // IMMEDIATE: two processes creating tickets at once never get the same number.
    const create = this.db.transaction(() => {
      const { n } = this.stmt.counter.get(ticketIdPrefix(t.kind, at)) as { n: number };
      const ticket: Ticket = { ...t, id: ticketId(t.kind, at, n), status: 'open', messages: [], createdAt: at, updatedAt: at };
      this.stmt.insert.run(this.row(ticket));
      return ticket;
    });
    return create.immediate();
  }

  async get(id: string): Promise<Ticket | undefined> {
    const row = this.stmt.get.get(id) as TicketRow | undefined;
    return row ? this.toTicket(row) : undefined;
  }

  async list(filter: TicketListFilter = {}): Promise<Ticket[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const statuses = filter.status === undefined ? [] : typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    if (filter.status !== undefined) {
      where.push(`status IN (${statuses.map(() => '?').join(', ') || "''"})`);
      args.push(...statuses);
    }
    if (filter.kind) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sql =
      filter.limit !== undefined
        ? `SELECT * FROM (SELECT * FROM tickets ${clause} ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY created_at, id`
        : `SELECT * FROM tickets ${clause} ORDER BY created_at, id`;
    if (filter.limit !== undefined) args.push(Math.max(0, filter.limit));
    return (this.db.prepare(sql).all(...args) as TicketRow[]).map((r) => this.toTicket(r));
  }

  async update(id: string, patch: TicketPatch): Promise<Ticket | undefined> {
    const sets: string[] = ['updated_at = @at'];
    if (patch.status) sets.push('status = @status');
    if (patch.outcome) sets.push('outcome = @outcome');
    if (patch.outcomeNote !== undefined) sets.push('outcome_note = @note');
    const r = this.db
      .prepare(`UPDATE tickets SET ${sets.join(', ')} WHERE id = @id`)
      .run({ id, at: this.now(), status: patch.status ?? null, outcome: patch.outcome ?? null, note: patch.outcomeNote?.slice(0, TICKET_LIMITS.note) ?? null });
    return r.changes ? this.get(id) : undefined;
  }

  async appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined> {
    const m = boundedMessage(message);
    const append = this.db.transaction(() => {
      if (!this.stmt.get.get(id)) return false;
      this.stmt.append.run(id, id, m.from, m.by ?? null, m.text, m.at);
      this.stmt.trim.run(id, id, this.opts.maxMessages ?? TICKET_LIMITS.messages);
      if (m.from === 'staff') this.stmt.firstReply.run(m.at, id);
      this.stmt.touch.run(this.now(), id);
      return true;
    });
    return append.immediate() ? this.get(id) : undefined;
  }

  async findOpen(channel: string, conversationId: string): Promise<Ticket | undefined> {
    const row = this.stmt.findOpen.get(channel, conversationId) as TicketRow | undefined;
    return row ? this.toTicket(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Imports the JSON-lines file of earlier versions (last line per id wins), once. */
  private migrate(path: string): void {
    if (!existsSync(path)) return;
    const byId = new Map<string, Partial<Ticket> & { id: string }>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const t = JSON.parse(line) as Partial<Ticket>;
        if (typeof t.id === 'string') byId.set(t.id, { ...t, id: t.id });
      } catch {
        // A torn last line after a crash: skip it, keep the rest.
      }
    }
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO tickets (id, kind, status, channel, conversation_id, citizen, reason, excerpt, outcome, outcome_note, first_staff_reply_at, created_at, updated_at) VALUES (@id, @kind, @status, @channel, @conversation_id, @citizen, @reason, @excerpt, @outcome, @outcome_note, @first_staff_reply_at, @created_at, @updated_at)',
    );
    const counter = this.db.prepare('INSERT INTO ticket_counters (prefix, n) VALUES (?, ?) ON CONFLICT (prefix) DO UPDATE SET n = MAX(n, excluded.n)');
    this.db.transaction(() => {
      for (const t of byId.values()) {
        const kind = t.kind === 'complaint' ? 'complaint' : 'handoff';
        const status: TicketStatus = t.status && ['open', 'answered', 'released', 'closed'].includes(t.status) ? t.status : 'open';
        const createdAt = Number(t.createdAt) || 0;
        const ticket: Ticket = {
          id: t.id,
          kind,
          status,
          channel: String(t.channel ?? '?'),
          conversationId: String(t.conversationId ?? ''),
          citizen: String(t.citizen ?? ''),
          reason: String(t.reason ?? ''),
          excerpt: Array.isArray(t.excerpt) ? t.excerpt.map(boundedMessage) : [],
          messages: [],
          createdAt,
          updatedAt: Number(t.updatedAt) || createdAt,
        };
        insert.run(this.row(ticket));
        const m = /^([A-Z]{2}-\d{6})-(\d+)$/.exec(t.id);
        if (m) counter.run(m[1], Number(m[2]));
      }
    })();
    renameSync(path, `${path}.migrated`);
  }
}
