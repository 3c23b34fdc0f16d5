/**
 * How fast each channel may send. Telegram publishes soft limits (about one message a
 * second per chat, 20 a minute per group, 30 a second overall); Zalo publishes none and
 * bans accounts that look like bulk senders, so its defaults are deliberately slow, with
 * a daily budget and small random pauses. Every number is configurable (bot/config.ts).
 */
import type { Redis } from 'ioredis';
import type { ChannelName } from '../dialogue/types.ts';
import { LUA_NOW, LuaScript } from './redis.ts';

/** Send limits of one channel. 0 disables a limit. */
export interface ChannelLimits {
  /** Minimum gap between two sends to the same conversation. */
  chatIntervalMs: number;
  /** Minimum gap for group conversations (Telegram chat ids starting with '-'). */
  groupIntervalMs: number;
  /** Minimum gap between two sends of the whole account/bot (1000 / messages per second). */
  accountIntervalMs: number;
  /** Sends per day (Vietnam calendar day); past it, sends wait for the next day. */
  dailyBudget: number;
  /** Random pause before each send, to not look like a bulk sender. */
  delayMinMs: number;
  delayMaxMs: number;
  /** Parallel sends per process. */
  concurrency: number;
}

/** No limits: the web channel answers its own page. */
export const UNLIMITED: ChannelLimits = Object.freeze({ chatIntervalMs: 0, groupIntervalMs: 0, accountIntervalMs: 0, dailyBudget: 0, delayMinMs: 0, delayMaxMs: 0, concurrency: 16 });

/**
 * Defaults per channel; `channelLimitsFromConfig` applies the environment on top.
 * Zalo's throttle (per thread, per minute, daily budget, random delays, pauses on
 * Zalo's "slow down") lives in `ZaloSender` (ZALO_* settings), which only the process
 * holding the Zalo listener lock runs, so it is already account-wide; the queue adds no
 * second throttle for Zalo (the send guard's heartbeat covers the sender's long pauses).
 */
export const DEFAULT_LIMITS: Readonly<Record<ChannelName, ChannelLimits>> = Object.freeze({
  telegram: { chatIntervalMs: 1000, groupIntervalMs: 3000, accountIntervalMs: 40, dailyBudget: 0, delayMinMs: 0, delayMaxMs: 0, concurrency: 8 },
  zalo: { ...UNLIMITED, concurrency: 4 },
  web: UNLIMITED,
  cli: UNLIMITED,
});

/** The configuration fields read here (a subset of `Config`). */
export interface LimitsConfig {
  SEND_TELEGRAM_PER_SECOND: number;
  SEND_TELEGRAM_CHAT_INTERVAL_MS: number;
  SEND_TELEGRAM_GROUP_INTERVAL_MS: number;
}

/** Channel limits from the environment. */
export function channelLimitsFromConfig(c: LimitsConfig): Record<ChannelName, ChannelLimits> {
  return {
    ...DEFAULT_LIMITS,
    telegram: {
      ...DEFAULT_LIMITS.telegram,
      accountIntervalMs: c.SEND_TELEGRAM_PER_SECOND > 0 ? Math.ceil(1000 / c.SEND_TELEGRAM_PER_SECOND) : 0,
      chatIntervalMs: c.SEND_TELEGRAM_CHAT_INTERVAL_MS,
      groupIntervalMs: c.SEND_TELEGRAM_GROUP_INTERVAL_MS,
    },
  };
}

/**
 * Books the next send slot for a conversation and the account at once ("next allowed
 * time" per key, the server's clock). Returns {0, wait} when booked (send after `wait`
 * ms), {1, wait} when the slot is further than the caller wants to wait in-job (nothing
 * booked), {2, 0} when today's budget is spent (nothing booked).
 */
const RESERVE = new LuaScript(`${LUA_NOW}
local chatGap = tonumber(ARGV[1])
local acctGap = tonumber(ARGV[2])
local slot = now
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > slot then slot = c end
local a = tonumber(redis.call('GET', KEYS[2]) or '0')
if a > slot then slot = a end
local wait = slot - now
if wait > tonumber(ARGV[3]) then return {1, wait} end
local budget = tonumber(ARGV[4])
if budget > 0 then
  if tonumber(redis.call('GET', KEYS[3]) or '0') >= budget then return {2, 0} end
  redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], 172800)
end
if chatGap > 0 then redis.call('SET', KEYS[1], slot + chatGap, 'PX', wait + chatGap) end
if acctGap > 0 then redis.call('SET', KEYS[2], slot + acctGap, 'PX', wait + acctGap) end
return {0, wait}`);

// The platform said "slow down": nobody on this account sends before now + ms.
const PAUSE = new LuaScript(`${LUA_NOW}
local until_ = now + tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < until_ then redis.call('SET', KEYS[1], until_, 'PX', ARGV[1]) end
return until_`);

/** Outcome of a reservation. */
export type Reservation = { kind: 'booked'; waitMs: number } | { kind: 'later'; waitMs: number } | { kind: 'budget'; retryAt: number };

/** Vietnam calendar day (UTC+7, no DST) of an instant, as yyyy-mm-dd. */
export function vietnamDay(now: number): string {
  return new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
}

/** Epoch ms of the next Vietnam midnight after `now`. */
export function nextVietnamMidnight(now: number): number {
  const day = 86_400_000;
  const shifted = now + 7 * 3600_000;
  return shifted - (shifted % day) + day - 7 * 3600_000;
}

/** Per-channel send throttle shared by all processes through Redis. */
export class SendThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly channel: ChannelName,
    readonly limits: ChannelLimits,
  ) {}

  private chatGap(conversationId: string): number {
    return this.channel === 'telegram' && conversationId.startsWith('-') ? Math.max(this.limits.groupIntervalMs, this.limits.chatIntervalMs) : this.limits.chatIntervalMs;
  }

  private accountKey(): string {
    return `${this.prefix}:out:acct:${this.channel}`;
  }

  /** Books a slot for one send to `conversationId`, waiting at most `maxWaitMs` in-job. */
  async reserve(conversationId: string, maxWaitMs: number): Promise<Reservation> {
    const l = this.limits;
    if (!l.chatIntervalMs && !l.groupIntervalMs && !l.accountIntervalMs && !l.dailyBudget) return { kind: 'booked', waitMs: 0 };
    const now = Date.now();
    const keys = [`${this.prefix}:out:chat:${this.channel}:${conversationId}`, this.accountKey(), `${this.prefix}:out:budget:${this.channel}:${vietnamDay(now)}`];
    const r = (await RESERVE.run(this.redis, keys, [this.chatGap(conversationId), l.accountIntervalMs, maxWaitMs, l.dailyBudget])) as [number, number];
    const [code, wait] = [Number(r[0]), Number(r[1])];
    if (code === 2) return { kind: 'budget', retryAt: nextVietnamMidnight(now) + Math.floor(Math.random() * 600_000) };
    return code === 1 ? { kind: 'later', waitMs: wait } : { kind: 'booked', waitMs: wait };
  }

  /** Holds every send of this channel for `ms` (the platform answered "too many requests"). */
  async pause(ms: number): Promise<void> {
    await PAUSE.run(this.redis, [this.accountKey()], [Math.max(1, Math.round(ms))]);
  }

  /** Sends counted against today's budget. */
  async usedToday(): Promise<number> {
    return Number((await this.redis.get(`${this.prefix}:out:budget:${this.channel}:${vietnamDay(Date.now())}`)) ?? 0);
  }

  /** A random pause length within the configured range. */
  jitterMs(): number {
    const { delayMinMs: lo, delayMaxMs: hi } = this.limits;
    return hi > 0 ? lo + Math.floor(Math.random() * (hi - lo + 1)) : 0;
  }
}
