/**
 * Leader lock: exactly one process runs the Zalo listener of a hotline account,
 * because Zalo allows one web listener per account and a second one kicks the first.
 * The lock expires when its holder stops renewing it (crash, network split), so
 * another process takes over within one TTL.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../dialogue/engine.ts';
import { acquireLock, LuaScript, renewLock, withTimeout } from './redis.ts';

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
    return await acquireLock(this.redis, this.key, this.token, this.opts.ttlMs);
  }

  /** Extends the lock; false means it expired and may belong to someone else now. */
  async renew(): Promise<boolean> {
    return await renewLock(this.redis, this.key, this.token, this.opts.ttlMs);
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

/**
 * Holding the lock over time: `acquire()` takes it and starts the heartbeat (a renewal
 * every third of the TTL). When a renewal fails, or none succeeded for most of a TTL
 * (Redis away), the lease ends and `onLost` callbacks run before anyone else can have
 * taken over. Shaped for the Zalo hotline's `acquireLeadership` / `leadershipLost()`.
 */
export class LeaderLease {
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private lastRenewed = 0;
  private readonly lostCallbacks: (() => void)[] = [];

  constructor(
    readonly lock: RedisLeaderLock,
    private readonly opts: { name: string; log?: Logger } = { name: 'leader' },
  ) {}

  /** True while the lock is ours. */
  get isLeader(): boolean {
    return this.held;
  }

  /** Called when the lease ends without `release()`. */
  onLost(callback: () => void): void {
    this.lostCallbacks.push(callback);
  }

  /** Takes the lock if free and keeps it renewed; true when this process leads. */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    // With Redis away, commands wait for the reconnect: bound the wait.
    const got = await withTimeout(this.lock.acquire(), this.lock.ttlMs / 3, 'leader lock acquire timed out');
    if (!got) return false;
    this.held = true;
    this.lastRenewed = Date.now();
    this.opts.log?.info({ lock: this.opts.name }, 'became leader');
    this.beat();
    return true;
  }

  /** Ends the lease and frees the lock for another process. */
  async release(): Promise<void> {
    clearTimeout(this.timer);
    const was = this.held;
    this.held = false;
    if (was) await this.lock.release();
  }

  private beat(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(20, Math.round(this.lock.ttlMs / 3)));
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    let ok: boolean;
    try {
      ok = await withTimeout(this.lock.renew(), this.lock.ttlMs / 4, 'leader lock renewal timed out');
      if (ok) this.lastRenewed = Date.now();
    } catch (err) {
      this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock renewal failed');
      // Unknown: keep leading only while the last confirmed renewal is recent enough.
      ok = Date.now() - this.lastRenewed < this.lock.ttlMs * 0.7;
    }
    if (!this.held) return;
    if (ok) {
      this.beat();
      return;
    }
    this.held = false;
    this.opts.log?.warn({ lock: this.opts.name }, 'leadership lost');
    for (const cb of this.lostCallbacks) {
      try {
        cb();
      } catch (err) {
        this.opts.log?.error({ err, lock: this.opts.name }, 'leadership-lost callback failed');
      }
    }
  }
}

/** What the elected process runs; `stop` is called when leadership ends. */
export interface LeaderTask {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps trying to become leader (every `retryMs`) and runs `task` while it is: for
 * work that has no leadership hooks of its own.
 */
export class LeaderElection {
  private readonly lease: LeaderLease;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    lock: RedisLeaderLock,
    private readonly task: LeaderTask,
    private readonly opts: { name: string; log?: Logger; retryMs?: number } = { name: 'leader' },
  ) {
    this.lease = new LeaderLease(lock, opts);
    this.lease.onLost(() => {
      this.busy = this.busy.then(() => this.stopTask('lock lost')).then(() => this.schedule());
    });
  }

  /** True while this process holds the lock and its task runs. */
  get isLeader(): boolean {
    return this.lease.isLeader && this.running;
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
    await this.stopTask('shutdown');
    try {
      await this.lease.release();
    } catch (err) {
      this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock release failed');
    }
  }

  private schedule(ms = this.opts.retryMs ?? Math.max(100, this.lease.lock.ttlMs / 3)): void {
    if (this.stopped || this.lease.isLeader) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.busy = this.busy.then(() => this.attempt());
    }, ms);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    let got = false;
    try {
      got = await this.lease.acquire();
    } catch (err) {
      this.opts.log?.warn({ err, lock: this.opts.name }, 'leader lock acquire failed');
    }
    if (!got || this.stopped) {
      if (got) await this.lease.release();
      this.schedule();
      return;
    }
    this.running = true;
    try {
      await this.task.start();
    } catch (err) {
      this.running = false;
      this.opts.log?.error({ err, lock: this.opts.name }, 'leader task failed to start; giving the lock up');
      await this.lease.release().catch(() => undefined);
      this.schedule();
    }
  }

  private async stopTask(reason: string): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.opts.log?.warn({ lock: this.opts.name, reason }, 'leader task stopping');
    try {
      await this.task.stop();
    } catch (err) {
      this.opts.log?.error({ err, lock: this.opts.name }, 'leader task failed to stop');
    }
  }
}
