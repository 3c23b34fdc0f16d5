/**
 * Sends replies from the hotline's personal Zalo account without getting it banned:
 * one message at a time per account, spaced per thread, capped per minute and per day,
 * with small random delays; Zalo's "slow down" and "this person does not accept your
 * messages" answers stop the sending (for everyone, or for that recipient) instead of
 * being retried into a ban. Also remembers what it sent, so the hotline can tell the
 * bot's own echoes (selfListen) from staff typing on the hotline phone.
 */
import type { Logger } from '../../dialogue/engine.ts';
import type { Reply } from '../../dialogue/types.ts';
import { PermanentSendError, type ChannelSender } from '../../pipeline.ts';
import { maskUserId } from '../../privacy.ts';
import { raiseAlert, type ZaloAlertHandler } from './alerts.ts';
import { systemClock, type Clock } from './clock.ts';
import { BoundedSet, maskZaloConversation, parseZaloConversationId, type ZaloTarget } from './inbound.ts';
import { chunkZaloText, renderZaloText, ZALO_MAX_CHARS } from './render.ts';
import { zaloErrorCode, type ZaloTransport } from './transport.ts';

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
  /** A recipient who refused our messages is not tried again for this long. */
  recipientBlockMs: number;
  /** This many refusals within `refusalWindowMs` look like an account restriction: pause all. */
  refusalsBeforePause: number;
  refusalWindowMs: number;
  /** How long a sent text is remembered to recognise its selfListen echo. */
  echoWindowMs: number;
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
  recipientBlockMs: 24 * 3600_000,
  refusalsBeforePause: 5,
  refusalWindowMs: 10 * 60_000,
  echoWindowMs: 10 * 60_000,
});

/**
 * `ZaloApiError.code`s that change what we do (from zca-js issue reports; Zalo does not
 * document them): 221 "Vượt quá số request cho phép"; 114/122/123 the recipient does not
 * take messages from us (blocks strangers, no relationship); 102 the session key expired.
 */
export const ZALO_SEND_ERROR_CODES = Object.freeze({
  rateLimited: Object.freeze([221]),
  recipientRefuses: Object.freeze([114, 122, 123]),
  sessionExpired: Object.freeze([102]),
});

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
  private readonly abort = new AbortController();
  private pausedUntilTs = 0;
  private accountChain: Promise<unknown> = Promise.resolve();
  private readonly threadChains = new Map<string, Promise<unknown>>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly minuteWindow: number[] = [];
  private readonly dayWindow: number[] = [];
  private readonly recent = new Map<string, RecentText[]>();
  private readonly blocked = new Map<string, number>();
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
      const blockedUntil = this.blocked.get(target.threadId) ?? 0;
      if (blockedUntil > now) {
        throw new PermanentSendError(`Zalo recipient ${maskUserId(target.threadId)} refuses messages from the hotline; not retried before ${new Date(blockedUntil).toISOString()}`);
      }
      const entry = this.recentText(conversationId, text, now);
      if (entry.done) {
        this.deps.log?.info({ conversation: maskZaloConversation(conversationId) }, 'zalo duplicate reply suppressed');
        return;
      }
      const chunks = chunkZaloText(text, this.options.maxChars);
      // A retry after a partial failure resumes where it stopped instead of repeating chunks.
      for (let i = entry.sentChunks; i < chunks.length; i++) {
        await this.sendChunk(target, chunks[i] as string);
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
   * True when a self message in `threadId` is the echo of something this sender sent
   * (matched by message id, else by text within the echo window); consumes the match
   * unless `consume` is false.
   */
  isOwnEcho(threadId: string, msgId: string | null, text: string, consume = true): boolean {
    const list = this.outgoing.get(threadId) ?? [];
    const now = this.clock.now();
    const t = text.trim();
    const idx = list.findIndex((o) => o.text === t && o.at >= now - this.options.echoWindowMs);
    const byId = !!msgId && this.ownIds.has(msgId);
    if (!consume) return byId || idx >= 0;
    if (byId) this.ownIds.delete(msgId);
    if (idx >= 0) list.splice(idx, 1);
    if (!list.length) this.outgoing.delete(threadId);
    return byId || idx >= 0;
  }

  /** Stops waiting sends (they fail with AbortError). */
  close(): void {
    this.abort.abort();
  }

  private async sendChunk(target: ZaloTarget, chunk: string): Promise<void> {
    this.abort.signal.throwIfAborted();
    const last = this.lastSentAt.get(target.threadId);
    if (last !== undefined) await this.sleep(last + this.options.threadMinIntervalMs - this.clock.now());
    await this.inAccount(async () => {
      for (let attempt = 1; ; attempt++) {
        await this.waitForSlot();
        const { delayMinMs, delayMaxMs } = this.options;
        await this.sleep(delayMinMs + this.random() * Math.max(0, delayMaxMs - delayMinMs));
        if (this.isPaused()) continue;
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
            throw new PermanentSendError(`Zalo recipient ${maskUserId(target.threadId)} does not accept messages from the hotline (error ${code})`, { cause: err });
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
      this.abort.signal.throwIfAborted();
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

  private refused(target: ZaloTarget, code: number): void {
    const now = this.clock.now();
    this.blocked.set(target.threadId, now + this.options.recipientBlockMs);
    if (this.blocked.size > 10_000) for (const [k, v] of this.blocked) if (v <= now) this.blocked.delete(k);
    this.refusals = this.refusals.filter((t) => t > now - this.options.refusalWindowMs);
    this.refusals.push(now);
    this.deps.log?.warn({ thread: maskUserId(target.threadId), code }, 'zalo recipient refuses messages');
    if (this.options.refusalsBeforePause > 0 && this.refusals.length >= this.options.refusalsBeforePause) {
      this.refusals = [];
      this.pause(`${this.options.refusalsBeforePause} Zalo recipients refused messages within ${Math.round(this.options.refusalWindowMs / 60_000)} minutes (error ${code}); the account may be restricted`);
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
    this.abort.signal.throwIfAborted();
    return ms > 0 ? this.clock.sleep(ms, this.abort.signal) : Promise.resolve();
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
