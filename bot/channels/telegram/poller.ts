/**
 * Long polling for one bot, written here instead of using @grammyjs/runner or
 * `bot.start()`, for three reasons:
 *
 * 1. **At least once.** An update is confirmed to Telegram (the next `offset`) only after
 *    `bot.handleUpdate` has handed it to the pipeline, which resolves once it is durably
 *    queued. The runner confirms updates as soon as it has fetched them, so a process
 *    killed with updates in its sink loses them; here Telegram redelivers them to the
 *    next poller and the pipeline's dedupe drops the ones that did get through.
 * 2. **One poller per bot.** Telegram allows one `getUpdates` at a time per token: a
 *    second one ends the first with 409. With a lease (a Redis lock, in `bot/main.ts`)
 *    only its holder polls; the others wait and take over within the lease TTL when the
 *    holder dies or stops.
 * 3. **409 is not fatal.** Another poller outside the lease (an old deployment, a
 *    developer's laptop with the production token) or a webhook makes Telegram answer
 *    409; grammY's runner gives up on it for good. Here the poller backs off, reports it
 *    in `/healthz` and keeps trying.
 *
 * Updates are handled one after another (each is only a queue write), which also keeps
 * each chat's messages in order.
 */
import { BotError, GrammyError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../dialogue/engine.ts';
import type { ListenerHealth } from '../../health.ts';

/** grammY types the signal with its own AbortSignal shim; Node's is the same thing at run time. */
type GetUpdatesSignal = Parameters<Bot['api']['getUpdates']>[1];

/** The lease shape `LeaderLease` (bot/queue/leader.ts) has; structural so channels need no queue import. */
export interface PollLease {
  readonly isLeader: boolean;
  acquire(): Promise<boolean>;
  release(): Promise<void>;
  onLost(callback: () => void): void;
}

export interface TelegramPollerOptions {
  bot: Bot;
  /** getUpdates `timeout` in seconds. */
  timeoutSeconds: number;
  allowedUpdates: readonly string[];
  /** Only the holder polls; without one this process always polls (single process). */
  lease?: PollLease;
  /** How often a process without the lease tries to take it. */
  standbyRetryMs?: number;
  /** Longest pause between attempts after errors and 409s. */
  maxBackoffMs?: number;
  /** True for an error that means "not queued, fetch it again" (thrown by the update handler). */
  isNotQueued: (err: unknown) => boolean;
  log?: Logger;
  onHealth?: (health: ListenerHealth) => void;
}

/** Polls while it runs; `stop()` ends the current poll and gives the lease back. */
export class TelegramPoller {
  private stopped = true;
  private loop: Promise<void> = Promise.resolve();
  private abort: AbortController | undefined;
  private wakeUp: (() => void) | undefined;
  private offset = 0;
  private lastHealth = '';
  /** getUpdates answered 409 (another poller or a webhook), for tests and logs. */
  conflicts = 0;

  constructor(private readonly o: TelegramPollerOptions) {
    o.lease?.onLost(() => {
      o.log?.warn({}, 'telegram polling lease lost; another process takes over');
      this.health({ ok: true, detail: 'standby (lease lost)' });
      this.abort?.abort();
    });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /**
   * Stops polling. Without a lease (one process, in-memory dedupe) the last handled
   * updates are confirmed first, so a restart does not answer them again; with one, the
   * pipeline's dedupe covers a redelivery and the lease goes to the next process at once.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort?.abort();
    this.wakeUp?.();
    await this.loop;
    if (!this.o.lease && this.offset > 0) {
      await this.o.bot.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 }).catch(() => undefined);
    }
    await this.o.lease?.release().catch((err: unknown) => this.o.log?.warn({ err: String(err) }, 'telegram polling lease release failed'));
  }

  private health(h: ListenerHealth): void {
    const key = `${h.ok}|${h.detail ?? ''}`;
    if (key === this.lastHealth) return;
    this.lastHealth = key;
    this.o.onHealth?.(h);
  }

  /** Sleeps `ms`, or less if `stop()` is called. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
  }

  private async run(): Promise<void> {
    const lease = this.o.lease;
    const maxBackoff = this.o.maxBackoffMs ?? 30_000;
    let backoff = 0;
    if (!lease) this.health({ ok: true, detail: 'long polling' });
    const nextBackoff = (): number => (backoff = Math.min(maxBackoff, backoff ? backoff * 2 : 500));
    while (!this.stopped) {
      if (lease && !lease.isLeader) {
        let got = false;
        try {
          got = await lease.acquire();
        } catch (err) {
          this.o.log?.warn({ err: String(err) }, 'telegram polling lease could not be taken');
        }
        if (!got) {
          this.health({ ok: true, detail: 'standby (another process polls)' });
          await this.pause(this.o.standbyRetryMs ?? 3000);
          continue;
        }
        this.o.log?.info({}, 'telegram polling lease taken; this process polls');
        this.health({ ok: true, detail: 'long polling' });
      }
      const ac = new AbortController();
      this.abort = ac;
      let updates: Update[];
      try {
        updates = await this.o.bot.api.getUpdates({ offset: this.offset, timeout: this.o.timeoutSeconds, allowed_updates: [...this.o.allowedUpdates] as never }, ac.signal as GetUpdatesSignal);
      } catch (err) {
        if (this.stopped || ac.signal.aborted) continue;
        if (err instanceof GrammyError && err.error_code === 409) {
          this.conflicts++;
          const wait = nextBackoff();
          this.o.log?.warn({ description: err.description, retryInMs: wait }, 'telegram polling conflict (409): another process polls this bot, or a webhook is set; retrying');
          this.health({ ok: false, detail: `conflict (409): ${err.description}` });
          await this.pause(wait);
          continue;
        }
        const retryAfter = err instanceof GrammyError ? err.parameters.retry_after : undefined;
        const wait = retryAfter !== undefined ? retryAfter * 1000 : nextBackoff();
        this.o.log?.error({ err: err instanceof Error ? err.message : String(err), retryInMs: wait }, 'telegram polling failed; retrying');
        this.health({ ok: false, detail: `polling failed: ${err instanceof Error ? err.message : String(err)}` });
        await this.pause(wait);
        continue;
      }
      backoff = 0;
      this.health({ ok: true, detail: 'long polling' });
      for (const update of updates) {
        try {
          await this.o.bot.handleUpdate(update);
        } catch (err) {
          const inner = err instanceof BotError ? err.error : err;
          if (this.o.isNotQueued(inner)) {
            // Not confirmed: Telegram gives it (and the rest of the batch) back next time.
            const wait = nextBackoff();
            this.o.log?.error({ err: String((inner as Error).cause ?? inner), update: update.update_id, retryInMs: wait }, 'telegram update not queued; fetching it again');
            await this.pause(wait);
            break;
          }
          this.o.log?.error({ err: inner instanceof Error ? inner.message : String(inner), update: update.update_id }, 'telegram update failed');
        }
        this.offset = update.update_id + 1;
      }
    }
  }
}
