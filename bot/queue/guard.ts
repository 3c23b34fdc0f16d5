/**
 * Send-once guard. BullMQ delivers jobs at least once (a crashed or stalled worker's
 * job runs again), and a platform API cannot tell us whether it already got a message,
 * so every send goes through a small state machine in Redis, one key per reply chunk:
 *
 *   (none) ──claim──▶ claimed:<token> ──calling──▶ calling:<token>:<deadline> ──▶ sent
 *      ▲                  │ (expires: holder died before calling the platform)   │
 *      └──release (send threw: definitely not sent)◀──────────────────────────────┘
 *
 * A later attempt that finds `sent` does nothing; `claimed` by a live holder waits;
 * `claimed` whose holder died has expired and is claimed again (safe: the platform was
 * never called); `calling` past its deadline means the holder died *during* the
 * platform call, so the outcome is unknown and the reply is NOT resent (the job fails
 * and is kept; an operator can `npm run queue -- retry` it). Never twice, and the only
 * way to lose a reply is a crash inside the platform call itself, which is reported.
 */
import type { Redis } from 'ioredis';
import { LUA_NOW, LuaScript } from './redis.ts';

const CLAIM = new LuaScript(`${LUA_NOW}
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
  return {'claimed', 0}
end
if v == 'sent' then return {'sent', 0} end
if v == 'claimed:' .. ARGV[1] then return {'claimed', 0} end
if string.sub(v, 1, 8) == 'claimed:' then return {'busy', redis.call('PTTL', KEYS[1])} end
local deadline = tonumber(string.match(v, ':(%d+)$') or '0')
if deadline > now then return {'busy', deadline - now} end
return {'unknown', 0}`);

// Idempotent like the others: ioredis resends unanswered commands after a reconnect.
const CALLING = new LuaScript(`${LUA_NOW}
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 9 + string.len(ARGV[1])) == 'calling:' .. ARGV[1] .. ':' then return 1 end
if v ~= 'claimed:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'calling:' .. ARGV[1] .. ':' .. (now + tonumber(ARGV[2])), 'EX', ARGV[3])
return 1`);

const RELEASE = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v == 'claimed:' .. ARGV[1] or (v and string.sub(v, 1, 9 + string.len(ARGV[1])) == 'calling:' .. ARGV[1] .. ':') then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`);

/** What a claim found. */
export type ClaimResult = { state: 'claimed' } | { state: 'sent' } | { state: 'busy'; retryInMs: number } | { state: 'unknown' };

/** The guard keys of one process's view of the queue. */
export class SendGuard {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; keepSeconds: number },
  ) {}

  key(id: string): string {
    return `${this.opts.prefix}:out:sent:${id}`;
  }

  /** Claims the right to send reply `id` for `claimMs` (until `calling` is recorded). */
  async claim(id: string, token: string, claimMs: number): Promise<ClaimResult> {
    const r = (await CLAIM.run(this.redis, [this.key(id)], [token, Math.max(1, Math.round(claimMs))])) as [string, number];
    const state = String(r[0]);
    if (state === 'busy') return { state: 'busy', retryInMs: Math.max(1, Number(r[1])) };
    if (state === 'claimed' || state === 'sent' || state === 'unknown') return { state };
    throw new Error(`unexpected guard state ${state}`);
  }

  /** Records that the platform is about to be called; false when the claim was lost. */
  async calling(id: string, token: string, deadlineMs: number): Promise<boolean> {
    return Number(await CALLING.run(this.redis, [this.key(id)], [token, Math.max(1, Math.round(deadlineMs)), this.opts.keepSeconds])) === 1;
  }

  /** The platform accepted the message. */
  async sent(id: string): Promise<void> {
    await this.redis.set(this.key(id), 'sent', 'EX', this.opts.keepSeconds);
  }

  /** The send failed for certain (the platform said no): a later attempt may send. */
  async release(id: string, token: string): Promise<void> {
    await RELEASE.run(this.redis, [this.key(id)], [token]);
  }

  /** Operator override for a reply whose outcome is unknown: allow one more send. */
  async forget(id: string): Promise<string | null> {
    const v = await this.redis.get(this.key(id));
    if (v !== null && v !== 'sent') await this.redis.del(this.key(id));
    return v;
  }
}
