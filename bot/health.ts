/**
 * `GET /healthz` for load balancers and operators: is Redis answering, are the channel
 * listeners connected (and which process leads Zalo), how much work is waiting and
 * for how long. "down" (HTTP 503) only when this process cannot work (Redis away);
 * "degraded" when it can but someone should look.
 */
import type { Redis } from 'ioredis';
import type { QueueStats } from './queue/admin.ts';
import { pingRedis, withTimeout } from './queue/redis.ts';

/** What a channel listener reports about itself. */
export interface ListenerHealth {
  ok: boolean;
  /** e.g. "connected", "standby (another process leads)", "reconnecting". */
  detail?: string;
}

/** The report (a type alias, so it fits the ops area's `HealthCheckResult` as is). */
export type HealthReport = {
  /** False unless everything is fine. */
  ok: boolean;
  status: 'ok' | 'degraded' | 'down';
  uptimeSeconds: number;
  redis: { configured: false } | { configured: true; ok: boolean; latencyMs: number; error?: string };
  listeners: Record<string, ListenerHealth>;
  queues?: QueueStats;
  /** Why the status is not "ok". */
  problems: string[];
};

export interface HealthOptions {
  redis?: Redis;
  /** Queue backlog (the BullMQ pipeline's `stats`). */
  queueStats?: () => Promise<QueueStats>;
  /** Older waiting work than this makes the status "degraded". */
  maxBacklogAgeMs?: number;
}

/** Collects health; listeners report into it with `setListener`. */
export class HealthMonitor {
  private readonly listeners = new Map<string, ListenerHealth>();
  private readonly started = Date.now();

  constructor(private readonly opts: HealthOptions = {}) {}

  /** A listener (telegram, zalo, web) reports its state; call again on every change. */
  setListener(name: string, health: ListenerHealth): void {
    this.listeners.set(name, health);
  }

  async check(): Promise<HealthReport> {
    const problems: string[] = [];
    let redis: HealthReport['redis'] = { configured: false };
    if (this.opts.redis) {
      const r = await pingRedis(this.opts.redis);
      redis = { configured: true, ...r };
      if (!r.ok) problems.push(`redis: ${r.error ?? 'no answer'}`);
    }
    let queues: QueueStats | undefined;
    if (this.opts.queueStats && (!this.opts.redis || (redis.configured && redis.ok))) {
      try {
        queues = await withTimeout(this.opts.queueStats(), 2000, 'queue stats timed out');
      } catch (err) {
        problems.push(`queues: ${(err as Error).message}`);
      }
    }
    const maxAge = this.opts.maxBacklogAgeMs ?? 120_000;
    if (queues) {
      if (queues.inbound.oldestAgeMs > maxAge) problems.push(`inbound: oldest message waits ${Math.round(queues.inbound.oldestAgeMs / 1000)} s`);
      if (queues.inbound.deadLetters > 0) problems.push(`inbound: ${queues.inbound.deadLetters} dead letter(s)`);
      for (const [ch, o] of Object.entries(queues.outbound)) if (o.oldestAgeMs > maxAge) problems.push(`out-${ch}: oldest send waits ${Math.round(o.oldestAgeMs / 1000)} s`);
    }
    const listeners = Object.fromEntries(this.listeners);
    for (const [name, l] of this.listeners) if (!l.ok) problems.push(`${name}: ${l.detail ?? 'not ok'}`);
    const down = redis.configured && !redis.ok;
    return {
      ok: !down && !problems.length,
      status: down ? 'down' : problems.length ? 'degraded' : 'ok',
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      redis,
      listeners,
      queues,
      problems,
    };
  }
}
