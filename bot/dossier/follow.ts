/**
 * "Theo dõi hồ sơ": which conversations follow which dossier, and the poller that
 * notices a status change and hands one message per change to the integrator, who
 * pushes it through the citizen's channel. The last status each subscription was told
 * about is stored, and moved with a compare-and-set before pushing, so the same change
 * is never pushed twice, not even by two pollers sharing one database.
 */
import type Database from 'better-sqlite3';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill } from '../../knowledge/replies.ts';
import { formatDossier, type FollowStore, type Logger } from '../dialogue/engine.ts';
import { openDossierDatabase } from './sqlite.ts';
import { DossierUnavailableError, type DossierRecord, type DossierStatus, type DossierStatusProvider } from './types.ts';

/** One conversation following one dossier. */
export interface FollowSubscription {
  code: string;
  conversationId: string;
  channel: string;
  userId: string;
  /** The status the conversation was last shown. */
  lastStatus: string;
  /** Epoch ms of the (latest) subscribe. */
  since: number;
}

/** The engine's FollowStore plus what the poller needs. */
export interface FollowRegistry extends FollowStore {
  /** Every subscription (the poller groups them by code). */
  list(): Promise<FollowSubscription[]>;
  /** Moves lastStatus from `from` to `to` only if it still is `from`; true when this caller moved it. */
  transition(conversationId: string, code: string, from: string, to: string): Promise<boolean>;
  close?(): Promise<void>;
}

/** Subscriptions one conversation may hold; the oldest is dropped beyond that. */
export const MAX_FOLLOWS_PER_CONVERSATION = 10;

/** Statuses after which nothing more will happen: the subscription ends once told. */
export const FINAL_STATUSES: ReadonlySet<DossierStatus> = new Set(['Đã trả kết quả', 'Không được tiếp nhận', 'Công dân yêu cầu rút hồ sơ']);

type SubscribeInput = Parameters<FollowStore['subscribe']>[0];

/** In-process follows (tests, single process without persistence). */
export class MemoryFollowStore implements FollowRegistry {
  private readonly subs = new Map<string, FollowSubscription>();

  constructor(private readonly now: () => number = Date.now) {}

  private static key(conversationId: string, code: string): string {
    return `${conversationId}\u0000${code}`;
  }

  async subscribe(s: SubscribeInput): Promise<void> {
    const code = s.code.toUpperCase();
    const key = MemoryFollowStore.key(s.conversationId, code);
    this.subs.delete(key);
    this.subs.set(key, { ...s, code, since: this.now() });
    const mine = [...this.subs.entries()].filter(([, v]) => v.conversationId === s.conversationId);
    for (const [k] of mine.slice(0, Math.max(0, mine.length - MAX_FOLLOWS_PER_CONVERSATION))) this.subs.delete(k);
  }

  async unsubscribe(conversationId: string, code?: string): Promise<string[]> {
    const removed: string[] = [];
    for (const [k, v] of this.subs) {
      if (v.conversationId === conversationId && (!code || v.code === code.toUpperCase())) {
        this.subs.delete(k);
        removed.push(v.code);
      }
    }
    return removed;
  }

  async list(): Promise<FollowSubscription[]> {
    return [...this.subs.values()].map((s) => ({ ...s }));
  }

  async transition(conversationId: string, code: string, from: string, to: string): Promise<boolean> {
    const s = this.subs.get(MemoryFollowStore.key(conversationId, code));
    if (!s || s.lastStatus !== from) return false;
    s.lastStatus = to;
    return true;
  }
}

interface FollowRow {
  code: string;
  conversation_id: string;
  channel: string;
  user_id: string;
  last_status: string;
  since: number;
  seq: number;
}

/** Follows kept in SQLite (by default in the dossier database file), surviving restarts. */
export class SqliteFollowStore implements FollowRegistry {
  private readonly db: Database.Database;
  private closed = false;

  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openDossierDatabase(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS dossier_follows (
        conversation_id TEXT NOT NULL,
        code            TEXT NOT NULL,
        channel         TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        last_status     TEXT NOT NULL,
        since           INTEGER NOT NULL,
        seq             INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, code)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS dossier_follows_code ON dossier_follows (code);`);
  }

  async subscribe(s: SubscribeInput): Promise<void> {
    const code = s.code.toUpperCase();
    this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO dossier_follows (conversation_id, code, channel, user_id, last_status, since, seq)
             VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM dossier_follows))
             ON CONFLICT (conversation_id, code) DO UPDATE SET channel = excluded.channel, user_id = excluded.user_id,
               last_status = excluded.last_status, since = excluded.since, seq = excluded.seq`,
          )
          .run(s.conversationId, code, s.channel, s.userId, s.lastStatus, this.now());
        // seq orders subscriptions even when several share one millisecond.
        this.db
          .prepare(
            `DELETE FROM dossier_follows WHERE conversation_id = ? AND code NOT IN (
               SELECT code FROM dossier_follows WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?)`,
          )
          .run(s.conversationId, s.conversationId, MAX_FOLLOWS_PER_CONVERSATION);
      })
      .immediate();
  }

  async unsubscribe(conversationId: string, code?: string): Promise<string[]> {
    const rows = code
      ? this.db.prepare<[string, string], { code: string }>('DELETE FROM dossier_follows WHERE conversation_id = ? AND code = ? RETURNING code').all(conversationId, code.toUpperCase())
      : this.db.prepare<[string], { code: string }>('DELETE FROM dossier_follows WHERE conversation_id = ? RETURNING code').all(conversationId);
    return rows.map((r) => r.code).sort();
  }

  async list(): Promise<FollowSubscription[]> {
    const rows = this.db.prepare<[], FollowRow>('SELECT * FROM dossier_follows ORDER BY code, conversation_id').all();
    return rows.map((r) => ({ code: r.code, conversationId: r.conversation_id, channel: r.channel, userId: r.user_id, lastStatus: r.last_status, since: r.since }));
  }

  async transition(conversationId: string, code: string, from: string, to: string): Promise<boolean> {
    const r = this.db.prepare('UPDATE dossier_follows SET last_status = ? WHERE conversation_id = ? AND code = ? AND last_status = ?').run(to, conversationId, code, from);
    return r.changes === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** Receives one status change to push: the subscription, the fresh record and the message text. */
export type FollowNotify = (sub: FollowSubscription, record: DossierRecord, text: string) => Promise<void>;

export interface FollowPollerOptions {
  /** Seconds between polls (DOSSIER_POLL_SECONDS). */
  intervalMs: number;
  /** Knowledge for reply templates and the hotline (the live version). */
  knowledge: () => Knowledge;
  log?: Logger;
  now?: () => number;
  /** After this many failed pushes of one change, give up on it (and log). */
  maxPushAttempts?: number;
}

/** What one poll did (for logs and tests). */
export interface PollReport {
  codes: number;
  changed: number;
  pushed: number;
  lookupFailures: number;
  pushFailures: number;
}

/** The message a follower gets when a dossier's status changes. */
export function followUpdateText(k: Knowledge, rec: DossierRecord, now: number): string {
  return fill(k.replies.dossierChanged, { code: rec.code, status: rec.status, next: `\n\n${formatDossier(k, rec, now)}` });
}

/**
 * Polls followed dossiers. `tick()` runs one poll (tests call it directly);
 * `start()` repeats it every interval, `stop()` ends that and waits for a running poll.
 */
export class DossierFollowPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollReport> | undefined;
  private stopped = true;
  private readonly now: () => number;
  /** Failed pushes per (conversation, code, status). */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly provider: DossierStatusProvider,
    private readonly follows: FollowRegistry,
    private readonly notify: FollowNotify,
    private readonly opts: FollowPollerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** One poll. Never throws; concurrent calls share the poll in progress. */
  tick(): Promise<PollReport> {
    if (!this.running) {
      this.running = this.poll().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async poll(): Promise<PollReport> {
    const report: PollReport = { codes: 0, changed: 0, pushed: 0, lookupFailures: 0, pushFailures: 0 };
    let subs: FollowSubscription[];
    try {
      subs = await this.follows.list();
    } catch (err) {
      this.opts.log?.error({ err }, 'dossier follow list failed');
      return report;
    }
    const byCode = new Map<string, FollowSubscription[]>();
    for (const s of subs) byCode.set(s.code, [...(byCode.get(s.code) ?? []), s]);
    for (const [code, list] of byCode) {
      report.codes++;
      let rec: DossierRecord | null;
      try {
        rec = await this.provider.lookup(code);
      } catch (err) {
        report.lookupFailures++;
        const level = err instanceof DossierUnavailableError ? 'warn' : 'error';
        this.opts.log?.[level]({ err: err instanceof Error ? err.message : String(err), provider: this.provider.name }, 'dossier follow lookup failed; will retry next poll');
        continue;
      }
      if (!rec) continue;
      for (const sub of list) {
        if (rec.status === sub.lastStatus) continue;
        const outcome = await this.deliver(sub, rec);
        if (outcome === 'skipped') continue;
        report.changed++;
        if (outcome === 'pushed') report.pushed++;
        else report.pushFailures++;
      }
    }
    return report;
  }

  private async deliver(sub: FollowSubscription, rec: DossierRecord): Promise<'pushed' | 'skipped' | 'failed'> {
    // Claim the change first: whoever moves lastStatus pushes it, nobody else does.
    let claimed: boolean;
    try {
      claimed = await this.follows.transition(sub.conversationId, sub.code, sub.lastStatus, rec.status);
    } catch (err) {
      this.opts.log?.error({ err }, 'dossier follow update failed');
      return 'failed';
    }
    // Another poller (or an unsubscribe) got there first.
    if (!claimed) return 'skipped';
    const key = `${sub.conversationId}\u0000${sub.code}\u0000${rec.status}`;
    try {
      await this.notify(sub, rec, followUpdateText(this.opts.knowledge(), rec, this.now()));
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      const max = this.opts.maxPushAttempts ?? 5;
      if (n < max) {
        this.failures.set(key, n);
        // Give the change back so the next poll tries again.
        await this.follows.transition(sub.conversationId, sub.code, rec.status, sub.lastStatus).catch(() => false);
        this.opts.log?.warn({ err, channel: sub.channel, attempt: n }, 'dossier follow push failed; will retry next poll');
      } else {
        this.failures.delete(key);
        this.opts.log?.error({ err, channel: sub.channel, attempts: n }, 'dossier follow push failed; giving up on this change');
      }
      return 'failed';
    }
    if (FINAL_STATUSES.has(rec.status)) {
      await this.follows.unsubscribe(sub.conversationId, sub.code).catch((err: unknown) => this.opts.log?.error({ err }, 'dossier follow cleanup failed'));
    }
    return 'pushed';
  }

  /** Polls every interval until `stop()`. The timer does not keep the process alive. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.tick().then((r) => {
          if (r.changed || r.lookupFailures) this.opts.log?.info({ ...r }, 'dossier follow poll');
          loop();
        });
      }, this.opts.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
  }
}
