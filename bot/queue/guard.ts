/**
 * Send guard: at least once, and not twice without cause. BullMQ delivers jobs at least
 * once (a crashed or stalled worker's job runs again), and a platform API cannot tell us
 * whether it already got a message, so every send goes through a small state machine in
 * Redis, one key per reply chunk:
 *
 *   (none) ──claim──▶ claimed:<token> ──calling──▶ calling:<token>:<deadline> ──▶ sent
 *      ▲                  │ (expires: holder died before calling the platform)   │
 *      └──release (send threw: definitely not sent)◀──────────────────────────────┘
 *
 * A later attempt that finds `sent` does nothing; `claimed` by a live holder waits;
 * `claimed` whose holder died has expired and is claimed again (safe: the platform was
 * never called). While the platform call runs, its holder renews the `calling`
 * deadline (a heartbeat); `calling` past its deadline means the holder died *during*
 * the call, and nobody can know whether the message arrived. Such a reply is sent
 * again (`resend`): a citizen may, rarely, get the same answer twice, which is better
 * than a citizen left without an answer and nobody noticing (README "Decisions").
 * A live holder with a slow call (a Zalo pause) keeps its deadline fresh, so a slow
 * send is never doubled by a concurrent one.
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
redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
return {'resend', 0}`);

// Idempotent like the others: ioredis resends unanswered commands after a reconnect.
const CALLING = new LuaScript(`${LUA_NOW}
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 9 + string.len(ARGV[1])) == 'calling:' .. ARGV[1] .. ':' then return 1 end
if v ~= 'claimed:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'calling:' .. ARGV[1] .. ':' .. (now + tonumber(ARGV[2])), 'EX', ARGV[3])
return 1`);

// The holder is still inside the platform call: push its deadline out.
const HEARTBEAT = new LuaScript(`${LUA_NOW}
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 9 + string.len(ARGV[1])) ~= 'calling:' .. ARGV[1] .. ':' then return 0 end
redis.call('SET', KEYS[1], 'calling:' .. ARGV[1] .. ':' .. (now + tonumber(ARGV[2])), 'EX', ARGV[3])
return 1`);

const RELEASE = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v == 'claimed:' .. ARGV[1] or (v and string.sub(v, 1, 9 + string.len(ARGV[1])) == 'calling:' .. ARGV[1] .. ':') then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`);

/**
 * What a claim found: free (`claimed`), already `sent`, someone alive on it (`busy`), or
 * a holder that died inside the platform call (`resend`: claimed, send it again).
 */
export type ClaimResult = { state: 'claimed' } | { state: 'sent' } | { state: 'busy'; retryInMs: number } | { state: 'resend' };

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
    if (state === 'claimed' || state === 'sent' || state === 'resend') return { state };
    throw new Error(`unexpected guard state ${state}`);
  }

  /**
   * Records that the platform is about to be called; false when the claim was lost. The
   * call counts as abandoned `leaseMs` after this or the last `heartbeat`.
   */
  async calling(id: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await CALLING.run(this.redis, [this.key(id)], [token, Math.max(1, Math.round(leaseMs)), this.opts.keepSeconds])) === 1;
  }

  /** The platform call is still running: keep it from being taken for abandoned. */
  async heartbeat(id: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await HEARTBEAT.run(this.redis, [this.key(id)], [token, Math.max(1, Math.round(leaseMs)), this.opts.keepSeconds])) === 1;
  }

  /** The platform accepted the message. */
  async sent(id: string): Promise<void> {
    await this.redis.set(this.key(id), 'sent', 'EX', this.opts.keepSeconds);
  }

  /** The send failed for certain (the platform said no): a later attempt may send. */
  async release(id: string, token: string): Promise<void> {
    await RELEASE.run(this.redis, [this.key(id)], [token]);
  }

  /** Operator retry of a failed send: clears whatever an earlier attempt left. */
  async forget(id: string): Promise<string | null> {
    const v = await this.redis.get(this.key(id));
    if (v !== null && v !== 'sent') await this.redis.del(this.key(id));
    return v;
  }
}
