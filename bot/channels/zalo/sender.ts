/**
 * Sends replies from the hotline's personal Zalo account without getting it banned:
 * one message at a time per account, spaced per thread, capped per minute and per day,
 * with small random delays; Zalo's "slow down" and "this person does not accept your
 * messages" answers stop the sending instead of being retried into a ban: the first
 * pauses the whole account, the second counts toward that pause and hands the
 * conversation to staff (`onUndeliverable`), because Zalo gives the same error 123 when
 * the account is limited for strangers as when the recipient refuses them. Also
 * remembers what it sent, so the hotline can tell the bot's own echoes (selfListen) from
 * staff typing on the hotline phone, and stops at once when this process loses the
 * account's listener lock (`suspend`).
 */
import type { Logger } from '../../dialogue/engine.ts';
import type { Reply } from '../../dialogue/types.ts';
import { PermanentSendError, type ChannelSender } from '../../pipeline.ts';
import { maskUserId } from '../../privacy.ts';
import { raiseAlert, type ZaloAlertHandler } from './alerts.ts';
import { systemClock, type Clock } from './clock.ts';
import { BoundedSet, maskZaloConversation, parseZaloConversationId, type ZaloTarget } from './inbound.ts';
import { chunkZaloText, renderZaloText, ZALO_MAX_CHARS } from './render.ts';
import { ZALO_SESSION_ERROR_CODES, zaloErrorCode, type ZaloTransport } from './transport.ts';

/** Throttling and circuit settings (see `ZALO_*` in bot/config.ts). */
export interface ZaloSendOptions {
  maxChars: number;
  /** Least time between two messages to one thread. */
  threadMinIntervalMs: number;
  /** Messages per minute for the whole account; 0 = no limit. */
  maxPerMinute: number;
  /** Messages per rolling 24 h; 0 = no limit. */
  dailyBudget: number;
  /** Random delay before each message, between these bounds. */
  delayMinMs: number;
  delayMaxMs: number;
  /** How long all sending stops after a rate-limit or blocking signal. */
  pauseMs: number;
  /** The same text to the same thread within this window is sent once. */
  duplicateWindowMs: number;
  /** After Zalo refused a reply to a recipient (and staff got the conversation), no further tries there for this long. */
  undeliverableHoldMs: number;
  /** This many refusals within `refusalWindowMs` look like an account restriction: pause all. */
  refusalsBeforePause: number;
  refusalWindowMs: number;
  /** How long a sent text is remembered to recognise its selfListen echo. */
  echoWindowMs: number;
  /**
   * A non-text own message (link card, photo…) this soon after a send to the same
   * thread is taken as Zalo's rendering of that send, not as staff typing.
   */
  echoFollowMs: number;
}

export const ZALO_SEND_DEFAULTS: Readonly<ZaloSendOptions> = Object.freeze({
  maxChars: ZALO_MAX_CHARS,
  threadMinIntervalMs: 1500,
  maxPerMinute: 20,
  dailyBudget: 1500,
  delayMinMs: 400,
  delayMaxMs: 1500,
  pauseMs: 30 * 60_000,
  duplicateWindowMs: 120_000,
  undeliverableHoldMs: 30 * 60_000,
  refusalsBeforePause: 5,
  refusalWindowMs: 10 * 60_000,
  echoWindowMs: 10 * 60_000,
  echoFollowMs: 30_000,
});

/**
 * `ZaloApiError.code`s that change what we do (from zca-js issue reports; Zalo does not
 * document them): 221 "Vượt quá số request cho phép"; 114/122/123 Zalo did not deliver
 * to this recipient (they block strangers, no relationship — or, for 123, the account is
 * limited for strangers, about 100 an hour); 600/102 the session is dead.
 */
export const ZALO_SEND_ERROR_CODES = Object.freeze({
  rateLimited: Object.freeze([221]),
  recipientRefuses: Object.freeze([114, 122, 123]),
  sessionExpired: ZALO_SESSION_ERROR_CODES,
});

/** A reply Zalo would not deliver, for the hand-off to staff. */
export interface ZaloUndeliverable {
  conversationId: string;
  /** What the citizen did not get (the chunks not sent, rendered). */
  text: string;
  /** Zalo's error code. */
  code: number;
}

/** Zalo refused to deliver to this recipient; the conversation went to staff. */
export class ZaloUndeliverableError extends PermanentSendError {
  constructor(
    message: string,
    readonly code: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentSendError';
  }
}

/**
 * Zalo still said "too many requests" after a full pause. `retryAfterMs` is read
 * structurally by the BullMQ send queue (it waits that long without using an attempt).
 */
export class ZaloRateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ZaloRateLimitedError';
  }
}

export interface ZaloSenderDeps {
  transport: ZaloTransport;
  clock?: Clock;
  log?: Logger;
  onAlert?: ZaloAlertHandler;
  /** Zalo said the session is gone: the hotline re-logs in. */
  onSessionLost?: () => void;
  /**
   * Zalo refused a reply to a recipient (114/122/123): hand the conversation to staff
   * (a hand-off ticket) so the answer reaches the citizen another way. Called once per
   * conversation per `undeliverableHoldMs`.
   */
  onUndeliverable?: (u: ZaloUndeliverable) => void | Promise<void>;
  /** Random source for delays (tests pin it). */
  random?: () => number;
  options?: Partial<ZaloSendOptions>;
}

interface RecentText {
  text: string;
  at: number;
  sentChunks: number;
  done: boolean;
}

/** The Zalo `ChannelSender`: throttled, deduplicated, with a circuit on Zalo's refusals. */
export class ZaloSender implements ChannelSender {
  readonly channel = 'zalo' as const;
  readonly options: Readonly<ZaloSendOptions>;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** Aborted by `suspend`/`close`: every wait rejects and nothing more is sent. */
  private gate = new AbortController();
  private closed = false;
  private pausedUntilTs = 0;
  private accountChain: Promise<unknown> = Promise.resolve();
  private readonly threadChains = new Map<string, Promise<unknown>>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly minuteWindow: number[] = [];
  private readonly dayWindow: number[] = [];
  private readonly recent = new Map<string, RecentText[]>();
  private readonly held = new Map<string, number>();
  private readonly lastAttemptAt = new Map<string, number>();
  private refusals: number[] = [];
  private readonly ownIds = new BoundedSet(5000);
  private readonly outgoing = new Map<string, { text: string; at: number }[]>();
  private budgetAlerted = false;

  constructor(private readonly deps: ZaloSenderDeps) {
    this.options = Object.freeze({ ...ZALO_SEND_DEFAULTS, ...deps.options });
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
  }

  /** Sends one reply (numbered options, chunks ≤ 2,000). Resolves once every chunk is out. */
  async send(conversationId: string, reply: Reply): Promise<void> {
    const target = parseZaloConversationId(conversationId);
    if (!target) throw new PermanentSendError(`not a Zalo conversation id: ${conversationId}`);
    const text = renderZaloText(reply);
    if (!text) return;
    await this.inThread(conversationId, async () => {
      const now = this.clock.now();
      const heldUntil = this.held.get(target.threadId) ?? 0;
      if (heldUntil > now) {
        throw new PermanentSendError(`Zalo did not deliver to ${maskUserId(target.threadId)} a moment ago and staff have the conversation; not tried again before ${new Date(heldUntil).toISOString()}`);
      }
      const entry = this.recentText(conversationId, text, now);
      if (entry.done) {
        this.deps.log?.info({ conversation: maskZaloConversation(conversationId) }, 'zalo duplicate reply suppressed');
        return;
      }
      const chunks = chunkZaloText(text, this.options.maxChars);
      // A retry after a partial failure resumes where it stopped instead of repeating chunks.
      for (let i = entry.sentChunks; i < chunks.length; i++) {
        try {
          await this.sendChunk(target, chunks[i] as string);
        } catch (err) {
          if (err instanceof ZaloUndeliverableError) await this.undeliverable(target, conversationId, chunks.slice(i).join('\n'), err.code);
          throw err;
        }
        entry.sentChunks = i + 1;
      }
      entry.done = true;
    });
  }

  /** True while all sending is paused (the hotline skips typing indicators then). */
  isPaused(): boolean {
    return this.pausedUntilTs > this.clock.now();
  }

  /** Epoch ms until which sending is paused (0 when not paused). */
  pausedUntil(): number {
    return this.isPaused() ? this.pausedUntilTs : 0;
  }

  /**
   * True when a self message in `threadId` is the echo of something this sender sent:
   * matched by message id (once the HTTP answer is in), else by text within the echo
   * window (the echo can beat the HTTP answer), else — for a message that is not plain
   * text (`msgType` other than "webchat": Zalo may render a reply with a link as a link
   * card) — by following a send to that thread within `echoFollowMs`. Consumes the id
   * or text match unless `consume` is false.
   */
  isOwnEcho(threadId: string, msgId: string | null, text: string, opts: { consume?: boolean; msgType?: string } = {}): boolean {
    const consume = opts.consume ?? true;
    const list = this.outgoing.get(threadId) ?? [];
    const now = this.clock.now();
    const t = text.trim();
    const idx = list.findIndex((o) => o.text === t && o.at >= now - this.options.echoWindowMs);
    const byId = !!msgId && this.ownIds.has(msgId);
    const attempt = this.lastAttemptAt.get(threadId);
    const follows = opts.msgType !== undefined && opts.msgType !== 'webchat' && attempt !== undefined && now - attempt <= this.options.echoFollowMs;
    if (consume) {
      if (byId) this.ownIds.delete(msgId);
      if (idx >= 0) list.splice(idx, 1);
      if (!list.length) this.outgoing.delete(threadId);
    }
    return byId || idx >= 0 || follows;
  }

  /**
   * This process lost the account's listener lock: waiting sends fail at once (AbortError,
   * so the queue retries them where the lock now is) and nothing more is sent until `resume`.
   */
  suspend(): void {
    if (!this.gate.signal.aborted) this.gate.abort(stopped('this process no longer holds the Zalo listener lock'));
  }

  /** The lock is back: sending may start again (not after `close`). */
  resume(): void {
    if (!this.closed && this.gate.signal.aborted) this.gate = new AbortController();
  }

  /** Stops waiting sends for good (they fail with AbortError). */
  close(): void {
    this.closed = true;
    this.gate.abort(stopped('the Zalo sender is shutting down'));
  }

  private async sendChunk(target: ZaloTarget, chunk: string): Promise<void> {
    this.gate.signal.throwIfAborted();
    const last = this.lastSentAt.get(target.threadId);
    if (last !== undefined) await this.sleep(last + this.options.threadMinIntervalMs - this.clock.now());
    await this.inAccount(async () => {
      for (let attempt = 1; ; attempt++) {
        await this.waitForSlot();
        const { delayMinMs, delayMaxMs } = this.options;
        await this.sleep(delayMinMs + this.random() * Math.max(0, delayMaxMs - delayMinMs));
        if (this.isPaused()) continue;
        // The last moment to notice a lost lock: after this the request is on its way.
        this.gate.signal.throwIfAborted();
        this.expectEcho(target.threadId, chunk);
        try {
          const res = await this.deps.transport.sendMessage(chunk, target.threadId, target.type);
          const t = this.clock.now();
          this.lastSentAt.set(target.threadId, t);
          this.minuteWindow.push(t);
          this.dayWindow.push(t);
          if (res.msgId) this.ownIds.add(res.msgId);
          return;
        } catch (err) {
          this.forgetEcho(target.threadId, chunk);
          const code = zaloErrorCode(err);
          if (code !== null && ZALO_SEND_ERROR_CODES.rateLimited.includes(code)) {
            this.pause(`Zalo answered error ${code} (too many requests)`);
            // One more try once the pause is over; a second refusal goes back to the pipeline.
            if (attempt === 1) continue;
            throw new ZaloRateLimitedError(`Zalo still rate-limits the hotline (error ${code})`, Math.max(1, this.pausedUntilTs - this.clock.now()), { cause: err });
          }
          if (code !== null && ZALO_SEND_ERROR_CODES.recipientRefuses.includes(code)) {
            this.refused(target, code);
            throw new ZaloUndeliverableError(`Zalo did not deliver the reply to ${maskUserId(target.threadId)} (error ${code}); the conversation goes to staff`, code, { cause: err });
          }
          if (code !== null && ZALO_SEND_ERROR_CODES.sessionExpired.includes(code)) {
            this.deps.log?.warn({ code }, 'zalo session expired while sending');
            this.deps.onSessionLost?.();
          }
          throw err;
        }
      }
    });
  }

  /** Waits out a pause and the per-minute cap; throws PermanentSendError past the daily budget. */
  private async waitForSlot(): Promise<void> {
    for (;;) {
      this.gate.signal.throwIfAborted();
      const now = this.clock.now();
      if (this.pausedUntilTs > now) {
        await this.sleep(this.pausedUntilTs - now);
        continue;
      }
      while (this.minuteWindow.length && (this.minuteWindow[0] as number) <= now - 60_000) this.minuteWindow.shift();
      while (this.dayWindow.length && (this.dayWindow[0] as number) <= now - 24 * 3600_000) this.dayWindow.shift();
      const { dailyBudget, maxPerMinute } = this.options;
      if (dailyBudget > 0 && this.dayWindow.length >= dailyBudget) {
        const freeAt = new Date((this.dayWindow[0] as number) + 24 * 3600_000).toISOString();
        if (!this.budgetAlerted) {
          this.budgetAlerted = true;
          raiseAlert(this.deps.onAlert, this.deps.log, 'send-budget-exhausted', `the Zalo hotline sent ${dailyBudget} messages in 24 hours (ZALO_DAILY_SEND_BUDGET); replies are dropped until ${freeAt}`);
        }
        throw new PermanentSendError(`Zalo daily send budget (${dailyBudget}) exhausted until ${freeAt}`);
      }
      this.budgetAlerted = false;
      if (maxPerMinute > 0 && this.minuteWindow.length >= maxPerMinute) {
        await this.sleep((this.minuteWindow[0] as number) + 60_000 - now);
        continue;
      }
      return;
    }
  }

  private pause(reason: string): void {
    const now = this.clock.now();
    const until = now + this.options.pauseMs;
    const wasPaused = this.pausedUntilTs > now;
    if (until <= this.pausedUntilTs) return;
    this.pausedUntilTs = until;
    this.deps.log?.warn({ until: new Date(until).toISOString(), reason }, 'zalo sending paused');
    if (!wasPaused) {
      raiseAlert(this.deps.onAlert, this.deps.log, 'send-paused', `${reason}; all Zalo sending is paused until ${new Date(until).toISOString()} (ZALO_SEND_PAUSE_MINUTES). Replies wait and go out afterwards.`);
    }
  }

  /** Counts a refusal toward the account pause: many in a short time look like an account restriction. */
  private refused(target: ZaloTarget, code: number): void {
    const now = this.clock.now();
    this.refusals = this.refusals.filter((t) => t > now - this.options.refusalWindowMs);
    this.refusals.push(now);
    this.deps.log?.warn({ thread: maskUserId(target.threadId), code }, 'zalo recipient refuses messages');
    if (this.options.refusalsBeforePause > 0 && this.refusals.length >= this.options.refusalsBeforePause) {
      this.refusals = [];
      this.pause(`${this.options.refusalsBeforePause} Zalo recipients refused messages within ${Math.round(this.options.refusalWindowMs / 60_000)} minutes (error ${code}); the account may be restricted`);
    }
  }

  /** Holds the thread and hands the conversation to staff with what the citizen did not get. */
  private async undeliverable(target: ZaloTarget, conversationId: string, text: string, code: number): Promise<void> {
    const now = this.clock.now();
    this.held.set(target.threadId, now + this.options.undeliverableHoldMs);
    if (this.held.size > 10_000) for (const [k, v] of this.held) if (v <= now) this.held.delete(k);
    if (!this.deps.onUndeliverable) {
      this.deps.log?.warn({ conversation: maskZaloConversation(conversationId), code }, 'zalo reply not delivered and no hand-off is wired');
      return;
    }
    try {
      await this.deps.onUndeliverable({ conversationId, text, code });
    } catch (err) {
      this.deps.log?.error({ err, conversation: maskZaloConversation(conversationId), code }, 'zalo undeliverable hand-off failed');
    }
  }

  /** The remembered entry for this text in this conversation (new unless sent within the window). */
  private recentText(conversationId: string, text: string, now: number): RecentText {
    const list = (this.recent.get(conversationId) ?? []).filter((r) => r.at > now - this.options.duplicateWindowMs);
    let entry = list.find((r) => r.text === text);
    if (!entry) {
      entry = { text, at: now, sentChunks: 0, done: false };
      list.push(entry);
    }
    this.recent.set(conversationId, list);
    if (this.recent.size > 10_000) {
      for (const [k, v] of this.recent) if (!v.some((r) => r.at > now - this.options.duplicateWindowMs)) this.recent.delete(k);
    }
    return entry;
  }

  private expectEcho(threadId: string, text: string): void {
    const now = this.clock.now();
    const list = (this.outgoing.get(threadId) ?? []).filter((o) => o.at >= now - this.options.echoWindowMs);
    list.push({ text: text.trim(), at: now });
    this.outgoing.set(threadId, list);
    this.lastAttemptAt.set(threadId, now);
    if (this.lastAttemptAt.size > 10_000) {
      for (const [k, v] of this.lastAttemptAt) if (v < now - Math.max(this.options.echoFollowMs, this.options.threadMinIntervalMs)) this.lastAttemptAt.delete(k);
    }
  }

  private forgetEcho(threadId: string, text: string): void {
    const list = this.outgoing.get(threadId);
    if (!list) return;
    const t = text.trim();
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]?.text === t) {
        list.splice(i, 1);
        break;
      }
    }
    if (!list.length) this.outgoing.delete(threadId);
  }

  private sleep(ms: number): Promise<void> {
    this.gate.signal.throwIfAborted();
    return ms > 0 ? this.clock.sleep(ms, this.gate.signal) : Promise.resolve();
  }

  /** Runs `fn` after earlier work for the same conversation (chunks of two replies never interleave). */
  private inThread<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.threadChains.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.threadChains.set(key, tail);
    void tail.then(() => {
      if (this.threadChains.get(key) === tail) this.threadChains.delete(key);
    });
    return run;
  }

  /** Runs `fn` when no other send of the account is in progress. */
  private inAccount<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.accountChain.then(fn, fn);
    this.accountChain = run.catch(() => undefined);
    return run;
  }
}

/** The reason a stopped sender's waits reject with (an AbortError, retried by the queue). */
function stopped(why: string): Error {
  const err = new Error(`Zalo send stopped: ${why}`);
  err.name = 'AbortError';
  return err;
}
