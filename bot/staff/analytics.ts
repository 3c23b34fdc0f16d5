/**
 * Dashboard data: what the assistant did, per message, in SQLite
 * (`DATA_DIR/analytics.sqlite`, private), and the aggregates the console's dashboard
 * shows for the last 7 or 30 days. Personal data is never stored here: no text, no user
 * or conversation id — only the day, channel, intent, procedure/FAQ id, outcome, rating,
 * and for hand-offs the ticket number and its times.
 *
 * Fed through a small sink interface: `instrumentAnalytics(engine, sink)` wraps the
 * engine's `handle` (as the metrics do, so the in-process and BullMQ pipelines both feed
 * it), and `recordTicketEvents(events, sink)` turns ticket events into hand-off rows and
 * first-staff-reply times. Processes on one machine share the file; a scaled-out fleet on
 * several machines keeps one file per machine (README "Staff console (services)").
 */
import type Database from 'better-sqlite3';
import type { DialogueEngine, Logger, Turn } from '../dialogue/engine.ts';
import type { IncomingMessage } from '../dialogue/types.ts';
import type { TicketEvents } from '../handoff/events.ts';
import { openPrivateDatabase } from '../sqlite.ts';

/** How a message was answered. */
export type MessageOutcome = 'answered' | 'clarified' | 'unanswered' | 'quiet';

export interface MessageEvent {
  at: number;
  channel: string;
  intent: string;
  procedure: string | null;
  faq: string | null;
  outcome: MessageOutcome;
}

/** What the analytics store accepts (a no-op sink in tests, the SQLite store in production). */
export interface AnalyticsSink {
  message(e: MessageEvent): void;
  rating(e: { at: number; channel: string; procedure: string | null; helpful: boolean }): void;
  handoff(e: { ticketId: string; at: number; channel: string; kind: string }): void;
  staffReply(e: { ticketId: string; at: number }): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  at        INTEGER NOT NULL,
  day       TEXT NOT NULL,
  channel   TEXT NOT NULL,
  intent    TEXT NOT NULL,
  procedure TEXT,
  faq       TEXT,
  outcome   TEXT NOT NULL CHECK (outcome IN ('answered', 'clarified', 'unanswered', 'quiet'))
);
CREATE INDEX IF NOT EXISTS messages_at ON messages (at);
CREATE TABLE IF NOT EXISTS ratings (
  at        INTEGER NOT NULL,
  day       TEXT NOT NULL,
  channel   TEXT NOT NULL,
  procedure TEXT,
  helpful   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ratings_at ON ratings (at);
CREATE TABLE IF NOT EXISTS handoffs (
  ticket_id            TEXT PRIMARY KEY,
  at                   INTEGER NOT NULL,
  day                  TEXT NOT NULL,
  channel              TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  first_staff_reply_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS handoffs_at ON handoffs (at);
`;

/** The Vietnam calendar day of an instant (UTC+7, no daylight saving). */
export function vnDay(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
}

/** Rows older than `keepDays` are deleted (a year plus a month to compare); message rows are written in batches. */
export const ANALYTICS_DEFAULTS = Object.freeze({ keepDays: 400, batch: 500, flushMs: 1000 });

export interface DashboardData {
  days: string[];
  /** Messages per day per channel, aligned with `days`. */
  messagesByChannel: Record<string, number[]>;
  totals: { messages: number; answered: number; clarified: number; unanswered: number; quiet: number };
  /** Shares of the messages the assistant answered itself (quiet ones excluded), 0–1. */
  shares: { unanswered: number; clarified: number };
  topProcedures: { procedure: string; count: number }[];
  handoffs: { total: number; answered: number; byDay: number[]; medianFirstReplyMs: number | null };
  ratings: { helpful: number; unhelpful: number; share: number | null };
}

/** The SQLite analytics store with its dashboard queries. */
export class AnalyticsStore implements AnalyticsSink {
  readonly db: Database.Database;
  private readonly stmt: Record<'message' | 'rating' | 'handoff' | 'reply', Database.Statement>;
  private writes = 0;
  /** Message rows wait here and are written in one transaction (a crash loses at most `flushMs` of them). */
  private pending: unknown[][] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    file: string,
    private readonly opts: { now?: () => number; keepDays?: number; log?: Logger } = {},
  ) {
    this.db = openPrivateDatabase(file);
    this.db.exec(SCHEMA);
    this.stmt = {
      message: this.db.prepare('INSERT INTO messages (at, day, channel, intent, procedure, faq, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      rating: this.db.prepare('INSERT INTO ratings (at, day, channel, procedure, helpful) VALUES (?, ?, ?, ?, ?)'),
      handoff: this.db.prepare('INSERT OR IGNORE INTO handoffs (ticket_id, at, day, channel, kind) VALUES (?, ?, ?, ?, ?)'),
      reply: this.db.prepare('UPDATE handoffs SET first_staff_reply_at = ? WHERE ticket_id = ? AND first_staff_reply_at IS NULL'),
    };
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A write failure is logged, never thrown into a citizen's conversation. */
  private run(stmt: Database.Statement, ...args: unknown[]): void {
    try {
      stmt.run(...args);
    } catch (err) {
      this.opts.log?.warn({ err: { message: (err as Error).message } }, 'analytics write failed');
    }
  }

  message(e: MessageEvent): void {
    this.pending.push([e.at, vnDay(e.at), e.channel, e.intent, e.procedure, e.faq, e.outcome]);
    if (this.pending.length >= ANALYTICS_DEFAULTS.batch) this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), ANALYTICS_DEFAULTS.flushMs);
      this.flushTimer.unref?.();
    }
  }

  /** Writes waiting message rows now (the dashboard and `close` call it). */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const rows = this.pending;
    if (!rows.length || !this.db.open) return;
    this.pending = [];
    try {
      this.db.transaction(() => {
        for (const r of rows) this.stmt.message.run(...r);
      })();
      this.writes += rows.length;
      if (this.writes >= 50_000) {
        this.writes = 0;
        this.prune();
      }
    } catch (err) {
      this.opts.log?.warn({ err: { message: (err as Error).message }, rows: rows.length }, 'analytics write failed');
    }
  }

  rating(e: { at: number; channel: string; procedure: string | null; helpful: boolean }): void {
    this.run(this.stmt.rating, e.at, vnDay(e.at), e.channel, e.procedure, e.helpful ? 1 : 0);
  }

  handoff(e: { ticketId: string; at: number; channel: string; kind: string }): void {
    this.run(this.stmt.handoff, e.ticketId, e.at, vnDay(e.at), e.channel, e.kind);
  }

  staffReply(e: { ticketId: string; at: number }): void {
    this.run(this.stmt.reply, e.at, e.ticketId);
  }

  /** Deletes rows past the retention period. */
  prune(): void {
    const cutoff = this.now() - (this.opts.keepDays ?? ANALYTICS_DEFAULTS.keepDays) * 86_400_000;
    for (const t of ['messages', 'ratings', 'handoffs']) this.db.prepare(`DELETE FROM ${t} WHERE at < ?`).run(cutoff);
  }

  /** The dashboard's figures for the last `days` Vietnam calendar days (today included). */
  dashboard(days: 7 | 30 | number = 7): DashboardData {
    this.flush();
    const now = this.now();
    const n = Math.max(1, Math.min(366, Math.floor(days)));
    const list = Array.from({ length: n }, (_, i) => vnDay(now - (n - 1 - i) * 86_400_000));
    const first = list[0] as string;
    const index = new Map(list.map((d, i) => [d, i]));
    const messagesByChannel: Record<string, number[]> = {};
    for (const r of this.db.prepare('SELECT day, channel, COUNT(*) AS n FROM messages WHERE day >= ? GROUP BY day, channel').all(first) as { day: string; channel: string; n: number }[]) {
      const i = index.get(r.day);
      if (i === undefined) continue;
      (messagesByChannel[r.channel] ??= new Array<number>(n).fill(0))[i] = r.n;
    }
    const totals = { messages: 0, answered: 0, clarified: 0, unanswered: 0, quiet: 0 };
    for (const r of this.db.prepare('SELECT outcome, COUNT(*) AS n FROM messages WHERE day >= ? GROUP BY outcome').all(first) as { outcome: MessageOutcome; n: number }[]) {
      totals[r.outcome] = r.n;
      totals.messages += r.n;
    }
    const own = totals.messages - totals.quiet;
    const topProcedures = this.db.prepare("SELECT procedure, COUNT(*) AS count FROM messages WHERE day >= ? AND procedure IS NOT NULL AND outcome = 'answered' GROUP BY procedure ORDER BY count DESC, procedure LIMIT 10").all(first) as { procedure: string; count: number }[];
    const hand = this.db.prepare('SELECT day, first_staff_reply_at - at AS wait FROM handoffs WHERE day >= ?').all(first) as { day: string; wait: number | null }[];
    const byDay = new Array<number>(n).fill(0);
    for (const h of hand) {
      const i = index.get(h.day);
      if (i !== undefined) byDay[i] = (byDay[i] ?? 0) + 1;
    }
    const waits = hand.map((h) => h.wait).filter((w): w is number => w !== null && w >= 0).sort((a, b) => a - b);
    const median = waits.length ? (waits.length % 2 ? (waits[(waits.length - 1) / 2] as number) : ((waits[waits.length / 2 - 1] as number) + (waits[waits.length / 2] as number)) / 2) : null;
    const rated = this.db.prepare('SELECT helpful, COUNT(*) AS n FROM ratings WHERE day >= ? GROUP BY helpful').all(first) as { helpful: number; n: number }[];
    const helpful = rated.find((r) => r.helpful === 1)?.n ?? 0;
    const unhelpful = rated.find((r) => r.helpful === 0)?.n ?? 0;
    return {
      days: list,
      messagesByChannel,
      totals,
      shares: { unanswered: own ? totals.unanswered / own : 0, clarified: own ? totals.clarified / own : 0 },
      topProcedures,
      handoffs: { total: hand.length, answered: waits.length, byDay, medianFirstReplyMs: median },
      ratings: { helpful, unhelpful, share: helpful + unhelpful ? helpful / (helpful + unhelpful) : null },
    };
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}

/**
 * How a turn went, from what the citizen was shown: an aspect answer that offers options
 * naming two or more different procedures is a clarification ("which one did you mean?");
 * `out_of_scope` is unanswered; no reply is the quiet of a hand-off.
 */
export function outcomeOf(turn: Pick<Turn, 'reply' | 'intent'>): MessageOutcome {
  if (!turn.reply) return 'quiet';
  if (turn.intent === 'out_of_scope') return 'unanswered';
  if (turn.intent.startsWith('procedure.')) {
    const procedures = new Set(turn.reply.options.map((o) => /^#p:([^:]+):/.exec(o.payload)?.[1]).filter(Boolean));
    if (procedures.size >= 2) return 'clarified';
  }
  return 'answered';
}

/** Rating buttons send `#r:1:…` (helpful) or `#r:0:…`. */
const RATING = /^#r:([01])(?::|$)/;

/** Feeds the sink from every handled message (wrapping `handle`, like `instrumentEngine`). */
export function instrumentAnalytics<E extends Pick<DialogueEngine, 'handle'>>(engine: E, sink: AnalyticsSink, now: () => number = Date.now): E {
  const handle = engine.handle.bind(engine);
  engine.handle = async (msg: IncomingMessage) => {
    const turn = await handle(msg);
    const at = now();
    const rating = typeof msg.text === 'string' ? RATING.exec(msg.text) : null;
    if (rating) sink.rating({ at, channel: msg.channel, procedure: turn.procedure ?? null, helpful: rating[1] === '1' });
    else sink.message({ at, channel: msg.channel, intent: turn.intent, procedure: turn.procedure, faq: turn.faq, outcome: outcomeOf(turn) });
    return turn;
  };
  return engine;
}

/** Hand-offs and first staff replies from ticket events (in whichever process receives them). */
export function recordTicketEvents(events: TicketEvents, sink: AnalyticsSink): () => void {
  return events.subscribe((e) => {
    if (e.type === 'created') sink.handoff({ ticketId: e.ticket.id, at: e.ticket.createdAt, channel: e.ticket.channel, kind: e.ticket.kind });
    else if (e.type === 'message' && e.message?.from === 'staff') sink.staffReply({ ticketId: e.ticket.id, at: e.message.at });
  });
}
