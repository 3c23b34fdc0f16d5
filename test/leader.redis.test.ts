/**
 * The Redis leader lock that keeps exactly one Zalo listener per hotline account:
 * exclusive, renewable, released, and taken over when the holder process dies.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElection, LeaderLease, RedisLeaderLock } from '../bot/queue/leader.ts';
import { cleanupPrefix, connectRedis, randomPrefix, REDIS_URL, until } from './queue-helpers.ts';

describe('Redis leader lock', () => {
  let redis: Redis;
  const prefix = randomPrefix('leader');
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis?.disconnect();
  });

  it('is held by one process at a time and expires when not renewed', async () => {
    const a = new RedisLeaderLock(redis, 'acct-1', { prefix, ttlMs: 150 });
    const b = new RedisLeaderLock(redis, 'acct-1', { prefix, ttlMs: 150 });
    const other = new RedisLeaderLock(redis, 'acct-2', { prefix, ttlMs: 150 });
    expect(await a.acquire()).toBe(true);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await other.acquire()).toBe(true);
    expect(await a.renew()).toBe(true);
    expect(await b.renew()).toBe(false);
    // a "dies": it stops renewing. b takes over once the TTL has run out.
    await until(() => b.acquire(), 'the lock to expire', 5000, 20);
    expect(await a.renew()).toBe(false);
    expect(await a.release()).toBe(false);
    expect(await b.holder()).toBe(b.token);
    expect(await b.release()).toBe(true);
    expect(await a.acquire()).toBe(true);
  });

  it('a lease renews itself and reports when the lock was taken from it', async () => {
    const lease = new LeaderLease(new RedisLeaderLock(redis, 'acct-3', { prefix, ttlMs: 300 }), { name: 'acct-3' });
    const lost = new Promise<void>((r) => lease.onLost(r));
    const t0 = Date.now();
    expect(await lease.acquire()).toBe(true);
    // Two TTLs later the heartbeat has kept it.
    await until(() => Date.now() - t0 > 600, 'two TTLs to pass', 5000, 50);
    expect(lease.isLeader).toBe(true);
    const other = new RedisLeaderLock(redis, 'acct-3', { prefix, ttlMs: 300 });
    expect(await other.acquire()).toBe(false);
    // This process froze past its TTL and another took the lock: the next heartbeat notices.
    await redis.set(`${prefix}:leader:acct-3`, 'someone-else');
    await lost;
    expect(lease.isLeader).toBe(false);
    await lease.release();
    expect(await redis.get(`${prefix}:leader:acct-3`)).toBe('someone-else');
  });

  it('hands leadership over when the leader process is killed', async () => {
    const name = 'zalo-test';
    const proc = fork(join(import.meta.dirname, 'queue-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, REDIS_URL, PREFIX: prefix, MODE: 'leader', LOCK_MS: '600' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise((r) => proc.on('exit', r));
    const messages: string[] = [];
    proc.on('message', (m) => messages.push((m as { type: string }).type));
    try {
      await until(() => messages.includes('leader'), 'the child to lead');
      const events: string[] = [];
      let started!: () => void;
      const becameLeader = new Promise<void>((r) => (started = r));
      const election = new LeaderElection(
        new RedisLeaderLock(redis, name, { prefix, ttlMs: 600 }),
        {
          start: async () => {
            events.push('start');
            started();
          },
          stop: async () => {
            events.push('stop');
          },
        },
        { name, retryMs: 50 },
      );
      election.start();
      // While the child renews, we cannot take the lock.
      expect(await new RedisLeaderLock(redis, name, { prefix, ttlMs: 600 }).acquire()).toBe(false);
      expect(election.isLeader).toBe(false);
      proc.kill('SIGKILL');
      await exited;
      await becameLeader;
      expect(election.isLeader).toBe(true);
      await election.stop();
      expect(events).toEqual(['start', 'stop']);
      expect(await redis.exists(`${prefix}:leader:${name}`)).toBe(0);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  });
});
