/**
 * Per-conversation inboxes in Redis: the part of the inbound queue that keeps order.
 * Each conversation has a list (oldest first) and a lock; a message leaves its list
 * only after it has been handled and its reply queued, so a crash never loses one.
 * See `bull-pipeline.ts` for how BullMQ jobs drive these inboxes.
 */
import type { Redis } from 'ioredis';
import type { IncomingMessage } from '../dialogue/types.ts';
import { acquireLock, LUA_NOW, LuaScript, renewLock } from './redis.ts';

/**
 * Dedupe + append, atomically. KEYS: seen, box, pending, count. ARGV: member, payload,
 * seen TTL (s). Items are "<enqueued ms>|<json>"; `pending` holds every non-empty
 * inbox scored by its oldest message, for the sweeper and the age metric.
 */
const PUSH = new LuaScript(`${LUA_NOW}
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
if redis.call('RPUSH', KEYS[2], now .. '|' .. ARGV[2]) == 1 then redis.call('ZADD', KEYS[3], now, ARGV[1]) end
redis.call('INCR', KEYS[4])
return 1`);

/** Re-appends a message without the dedupe check (operator retry of a dead letter). */
const REQUEUE = new LuaScript(`${LUA_NOW}
if redis.call('RPUSH', KEYS[1], now .. '|' .. ARGV[2]) == 1 then redis.call('ZADD', KEYS[2], now, ARGV[1]) end
redis.call('INCR', KEYS[3])
return 1`);

/** KEYS: lock, box. Releases the lock if ours; returns how many messages are left. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('LLEN', KEYS[2])`);

/**
 * Removes the handled head. KEYS: box, pending, count, lock, tries, dead.
 * ARGV: head, member, token, msgKey, dead-letter record ('' = plain pop), keep dead.
 * Returns -1 if the lock is no longer ours, -2 if the head changed, else 1.
 */
const POP = new LuaScript(`
if redis.call('GET', KEYS[4]) ~= ARGV[3] then return -1 end
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return -2 end
redis.call('LPOP', KEYS[1])
redis.call('DECR', KEYS[3])
redis.call('HDEL', KEYS[5], ARGV[4])
if ARGV[5] ~= '' then
  redis.call('LPUSH', KEYS[6], ARGV[5])
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[6]) - 1)
end
local nxt = redis.call('LINDEX', KEYS[1], 0)
if nxt then
  redis.call('ZADD', KEYS[2], tonumber(string.match(nxt, '^(%d+)|')), ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return 1`);

/** KEYS: pending. ARGV: min age ms, limit. Conversations whose oldest message waits longer. */
const STUCK = new LuaScript(`${LUA_NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))`);

/** KEYS: pending, count, dead. Returns {messages, conversations, oldest age ms, dead}. */
const STATS = new LuaScript(`${LUA_NOW}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = now - tonumber(oldest[2]) end
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('ZCARD', KEYS[1]), age, redis.call('LLEN', KEYS[3])}`);

/** What is stored per queued message. */
export interface InboxEntry {
  msg: IncomingMessage;
  /** Epoch ms when `submit` was called (client clock), for latency figures. */
  submittedAt: number;
}

/** A message that could not be handled after every attempt, kept for operators. */
export interface DeadLetter {
  member: string;
  /** The message (absent when the stored item could not even be read). */
  entry?: InboxEntry;
  raw?: string;
  reason: string;
  at: number;
}

/** The conversation key inside Redis: channel plus the channel's conversation id. */
export function conversationMember(msg: Pick<IncomingMessage, 'channel' | 'conversationId'>): string {
  return `${msg.channel}:${msg.conversationId}`;
}

/** The dedupe key of a message: channel plus the platform message id. */
export function messageKey(msg: Pick<IncomingMessage, 'channel' | 'messageId'>): string {
  return `${msg.channel}:${msg.messageId}`;
}

/** Decodes a stored item; undefined when it is not ours (corrupt data). */
export function parseItem(raw: string): InboxEntry | undefined {
  const bar = raw.indexOf('|');
  if (bar < 0) return undefined;
  try {
    const v = JSON.parse(raw.slice(bar + 1)) as { m?: IncomingMessage; s?: number };
    const m = v.m;
    if (!m || typeof m.channel !== 'string' || typeof m.conversationId !== 'string' || typeof m.messageId !== 'string') return undefined;
    return { msg: m, submittedAt: typeof v.s === 'number' ? v.s : Number(raw.slice(0, bar)) };
  } catch {
    return undefined;
  }
}

/** Redis operations on the conversation inboxes. */
export class Inbox {
  private readonly p: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly opts: { dedupeSeconds: number; keepDead: number },
  ) {
    this.p = `${prefix}:in`;
  }

  private box(member: string): string {
    return `${this.p}:box:${member}`;
  }

  lockKey(member: string): string {
    return `${this.p}:lock:${member}`;
  }

  /** Appends a message unless its id was seen; false for a duplicate. */
  async push(msg: IncomingMessage, submittedAt: number): Promise<boolean> {
    const member = conversationMember(msg);
    const keys = [`${this.p}:seen:${messageKey(msg)}`, this.box(member), `${this.p}:pending`, `${this.p}:count`];
    return Number(await PUSH.run(this.redis, keys, [member, JSON.stringify({ m: msg, s: submittedAt }), this.opts.dedupeSeconds])) === 1;
  }

  async requeue(entry: InboxEntry): Promise<void> {
    const member = conversationMember(entry.msg);
    await REQUEUE.run(this.redis, [this.box(member), `${this.p}:pending`, `${this.p}:count`], [member, JSON.stringify({ m: entry.msg, s: entry.submittedAt })]);
  }

  async acquire(member: string, token: string, ttlMs: number): Promise<boolean> {
    return await acquireLock(this.redis, this.lockKey(member), token, ttlMs);
  }

  async renew(member: string, token: string, ttlMs: number): Promise<boolean> {
    return await renewLock(this.redis, this.lockKey(member), token, ttlMs);
  }

  /** Releases the lock; returns the number of messages still waiting. */
  async release(member: string, token: string): Promise<number> {
    return Number(await RELEASE.run(this.redis, [this.lockKey(member), this.box(member)], [token]));
  }

  async head(member: string): Promise<string | null> {
    return await this.redis.lindex(this.box(member), 0);
  }

  /** Removes the head (optionally into the dead-letter list). */
  async pop(member: string, head: string, token: string, msgKey: string, dead?: DeadLetter): Promise<'ok' | 'lost-lock' | 'moved'> {
    const keys = [this.box(member), `${this.p}:pending`, `${this.p}:count`, this.lockKey(member), `${this.p}:tries`, `${this.p}:dead`];
    const r = Number(await POP.run(this.redis, keys, [head, member, token, msgKey, dead ? JSON.stringify(dead) : '', this.opts.keepDead]));
    return r === 1 ? 'ok' : r === -1 ? 'lost-lock' : 'moved';
  }

  /** Counts a failed attempt at handling a message; returns the attempts so far. */
  async failed(msgKey: string): Promise<number> {
    return await this.redis.hincrby(`${this.p}:tries`, msgKey, 1);
  }

  /** Conversations whose oldest message has waited at least `minAgeMs`. */
  async stuck(minAgeMs: number, limit: number): Promise<string[]> {
    return (await STUCK.run(this.redis, [`${this.p}:pending`], [minAgeMs, limit])) as string[];
  }

  async locked(members: string[]): Promise<boolean[]> {
    if (!members.length) return [];
    const pipe = this.redis.pipeline();
    for (const m of members) pipe.exists(this.lockKey(m));
    const res = (await pipe.exec()) ?? [];
    return res.map(([, v]) => Number(v) === 1);
  }

  async stats(): Promise<{ messages: number; conversations: number; oldestAgeMs: number; dead: number }> {
    const r = (await STATS.run(this.redis, [`${this.p}:pending`, `${this.p}:count`, `${this.p}:dead`], [])) as number[];
    return { messages: Number(r[0]), conversations: Number(r[1]), oldestAgeMs: Number(r[2]), dead: Number(r[3]) };
  }

  /** Dead letters, newest first. */
  async dead(start = 0, stop = 99): Promise<DeadLetter[]> {
    const raw = await this.redis.lrange(`${this.p}:dead`, start, stop);
    return raw.flatMap((r) => {
      try {
        return [JSON.parse(r) as DeadLetter];
      } catch {
        return [];
      }
    });
  }

  /** Moves every dead letter back into its conversation's inbox; returns them. */
  async retryDead(): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (;;) {
      const raw = await this.redis.rpop(`${this.p}:dead`);
      if (raw === null) break;
      try {
        const d = JSON.parse(raw) as DeadLetter;
        if (!d.entry) continue;
        await this.requeue(d.entry);
        out.push(d);
      } catch {
        // Not a record we wrote: drop it rather than loop on it.
      }
    }
    return out;
  }
}
