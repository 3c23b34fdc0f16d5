/**
 * Leader lock: exactly one process runs the Zalo listener of a hotline account,
 * because Zalo allows one web listener per account and a second one kicks the first.
 * The lock expires when its holder stops renewing it (crash, network split), so
 * another process takes over within one TTL.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../dialogue/engine.ts';
import { LuaScript, withTimeout } from './redis.ts';

// Idempotent: a command resent by ioredis after a reconnect still reports success.
const ACQUIRE = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`);
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`);

/** A named lock with a fencing token; `renew` is the holder's heartbeat. */
export class RedisLeaderLock {
  readonly token = randomUUID();
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    name: string,
    private readonly opts: { prefix: string; ttlMs: number },
  ) {
    this.key = `${opts.prefix}:leader:${name}`;
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /** Takes the lock if it is free (or already ours). */
  async acquire(): Promise<boolean> {
    return Number(await ACQUIRE.run(this.redis, [this.key], [this.token, this.opts.ttlMs])) === 1;
  }

  /** Extends the lock; false means it expired and may belong to someone else now. */
  async renew(): Promise<boolean> {
    return Number(await RENEW.run(this.redis, [this.key], [this.token, this.opts.ttlMs])) === 1;
  }

  /** Gives the lock up if we still hold it. */
  async release(): Promise<boolean> {
    return Number(await RELEASE.run(this.redis, [this.key], [this.token])) === 1;
  }

  /** Who holds the lock now (a token), for health output. */
  async holder(): Promise<string | null> {
    return await this.redis.get(this.key);
  }
}

/** What the elected process runs; `stop` is called when leadership ends. */
export interface LeaderTask {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps trying to become leader and runs `task` while it is. Heartbeats every third of
 * the TTL; if a renewal fails, or no renewal succeeded for a whole TTL (Redis away),
 * the task is stopped before anyone else can have taken over.
 */
export class LeaderElection {
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private lastRenewed = 0;
  private stopped = true;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly lock: RedisLeaderLock,
    private readonly task: LeaderTask,
    private readonly opts: { name: string; log?: Logger; retryMs?: number } = { name: 'leader' },
  ) {}

  /** True while this process holds the lock and its task runs. */
  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the task (if running) and releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.busy;
    if (this.leader) await this.stepDown('shutdown');
    try {
      await this.lock.release();
    } catch (err) {
      this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock release failed');
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.busy = this.tick().finally(() => this.schedule(this.leader ? Math.max(50, this.lock.ttlMs / 3) : (this.opts.retryMs ?? Math.max(100, this.lock.ttlMs / 3))));
    }, ms);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    if (!this.leader) {
      let got = false;
      try {
        got = await withTimeout(this.lock.acquire(), this.lock.ttlMs / 3, 'leader lock acquire timed out');
      } catch (err) {
        this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock acquire failed');
      }
      if (!got || this.stopped) return;
      this.leader = true;
      this.lastRenewed = now;
      this.opts.log?.info({ lock: this.opts.name }, 'became leader');
      try {
        await this.task.start();
      } catch (err) {
        this.opts.log?.error({ err, lock: this.opts.name }, 'leader task failed to start; giving the lock up');
        await this.stepDown('start failed');
        await this.lock.release().catch(() => undefined);
      }
      return;
    }
    let ok = false;
    try {
      // With Redis away, commands wait for the reconnect: bound the wait.
      ok = await withTimeout(this.lock.renew(), this.lock.ttlMs / 4, 'leader lock renewal timed out');
      if (ok) this.lastRenewed = Date.now();
    } catch (err) {
      this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock renewal failed');
      // Unknown: keep running until a full TTL has passed without a confirmed renewal.
      ok = Date.now() - this.lastRenewed < this.lock.ttlMs * 0.8;
    }
    if (!ok) await this.stepDown('lock lost');
  }

  private async stepDown(reason: string): Promise<void> {
    this.leader = false;
    this.opts.log?.warn({ lock: this.opts.name, reason }, 'leadership ended');
    try {
      await this.task.stop();
    } catch (err) {
      this.opts.log?.error({ err, lock: this.opts.name }, 'leader task failed to stop');
    }
  }
}
