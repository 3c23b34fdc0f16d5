/**
 * Staff commands from another process without Redis. In the embedded default the
 * running assistant (`npm start`) holds the conversation state and the web pages in its
 * own memory, so `npm run handoffs -- reply` cannot act itself: it queues the command in
 * the ticket database and the running assistant, which polls that table every second,
 * carries it out with the same `StaffReplies` service and writes the outcome back for the
 * CLI to print. (With REDIS_URL the CLI acts directly: state is shared and sends travel
 * through the BullMQ send queues.) Commands older than `maxAgeMs` are not carried out:
 * a reply sent hours later would confuse the citizen.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../dialogue/engine.ts';
import { openPrivateDatabase } from '../sqlite.ts';
import type { StaffOutcome, StaffReplies } from './staff-replies.ts';

/** One queued staff operation. */
export type StaffCommand =
  | { op: 'reply'; ticketId: string; text: string; by: string }
  | { op: 'release'; ticketId: string; by: string }
  | { op: 'close'; ticketId: string; outcome: string; note?: string; by: string };

export type StaffCommandState = 'pending' | 'running' | 'done' | 'refused' | 'failed' | 'expired';

export interface StaffCommandResult {
  state: StaffCommandState;
  notice?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS staff_commands (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  command TEXT NOT NULL,
  state   TEXT NOT NULL DEFAULT 'pending',
  notice  TEXT,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS staff_commands_state ON staff_commands (state, id);
`;

export const RELAY_DEFAULTS = Object.freeze({ intervalMs: 1000, maxAgeMs: 3600_000, keepMs: 7 * 86_400_000 });

/** The command table (in `tickets.sqlite`). */
export class StaffCommandQueue {
  readonly db: Database.Database;

  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openPrivateDatabase(file);
    this.db.exec(SCHEMA);
  }

  enqueue(cmd: StaffCommand): number {
    return Number(this.db.prepare('INSERT INTO staff_commands (at, command) VALUES (?, ?)').run(this.now(), JSON.stringify(cmd)).lastInsertRowid);
  }

  result(id: number): StaffCommandResult | undefined {
    const row = this.db.prepare('SELECT state, notice FROM staff_commands WHERE id = ?').get(id) as { state: StaffCommandState; notice: string | null } | undefined;
    return row ? { state: row.state, ...(row.notice ? { notice: row.notice } : {}) } : undefined;
  }

  /** Claims waiting commands (oldest first); too old ones are marked expired instead. */
  take(maxAgeMs: number, max = 50): { id: number; command: StaffCommand }[] {
    const now = this.now();
    return this.db.transaction(() => {
      this.db.prepare("UPDATE staff_commands SET state = 'expired', done_at = ? WHERE state = 'pending' AND at < ?").run(now, now - maxAgeMs);
      this.db.prepare("DELETE FROM staff_commands WHERE state NOT IN ('pending', 'running') AND done_at < ?").run(now - RELAY_DEFAULTS.keepMs);
      const rows = this.db.prepare("SELECT id, command FROM staff_commands WHERE state = 'pending' ORDER BY id LIMIT ?").all(max) as { id: number; command: string }[];
      const mark = this.db.prepare("UPDATE staff_commands SET state = 'running' WHERE id = ?");
      const out: { id: number; command: StaffCommand }[] = [];
      for (const r of rows) {
        mark.run(r.id);
        try {
          out.push({ id: r.id, command: JSON.parse(r.command) as StaffCommand });
        } catch {
          this.finish(r.id, 'failed', 'unreadable command');
        }
      }
      return out;
    }).immediate();
  }

  finish(id: number, state: StaffCommandState, notice?: string): void {
    this.db.prepare('UPDATE staff_commands SET state = ?, notice = ?, done_at = ? WHERE id = ?').run(state, notice ?? null, this.now(), id);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Carries out queued commands in the process that owns the conversations. */
export class StaffCommandRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: StaffCommandQueue,
    private readonly service: StaffReplies,
    private readonly opts: { intervalMs?: number; maxAgeMs?: number; log?: Logger } = {},
  ) {}

  /** Runs every waiting command once; resolves when they are done. */
  async runOnce(): Promise<number> {
    const batch = this.queue.take(this.opts.maxAgeMs ?? RELAY_DEFAULTS.maxAgeMs);
    for (const { id, command } of batch) {
      try {
        const out = await this.execute(command);
        this.queue.finish(id, out.ok ? 'done' : 'refused', out.notice);
      } catch (err) {
        this.opts.log?.error({ err, command: command.op, ticket: command.ticketId }, 'queued staff command failed');
        this.queue.finish(id, 'failed', (err as Error).message);
      }
    }
    return batch.length;
  }

  private execute(c: StaffCommand): Promise<StaffOutcome> {
    switch (c.op) {
      case 'reply':
        return this.service.reply(c.ticketId, c.text, c.by);
      case 'release':
        return this.service.release(c.ticketId, c.by);
      case 'close':
        return this.service.close(c.ticketId, c.outcome, c.by, c.note);
    }
  }

  start(): void {
    const tick = (): void => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'staff command relay failed'))
        .finally(() => {
          if (this.timer) schedule();
        });
    };
    const schedule = (): void => {
      this.timer = setTimeout(tick, this.opts.intervalMs ?? RELAY_DEFAULTS.intervalMs);
      this.timer.unref?.();
    };
    schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
