/**
 * Operator view of the queues (`npm run queue -- failed|retry|stats`, `/healthz`,
 * `/metrics`): backlog and age, jobs that failed for good, dead-lettered messages,
 * and retrying them. Works from any process with the Redis URL and prefix.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChannelName } from '../dialogue/types.ts';
import { redact } from '../privacy.ts';
import { SendGuard } from './guard.ts';
import { Inbox } from './inbox.ts';
import { INBOUND_QUEUE, outboundQueueName } from './queue-names.ts';

/** The channels that can have a send queue. */
export const CHANNELS: readonly ChannelName[] = ['telegram', 'zalo', 'web', 'cli'];

/** Backlog of the pipeline's queues. */
export interface QueueStats {
  inbound: {
    /** Messages waiting in conversation inboxes (not yet handled). */
    messages: number;
    conversations: number;
    /** Age of the oldest waiting message. */
    oldestAgeMs: number;
    deadLetters: number;
    wakeJobs: number;
    active: number;
    failed: number;
  };
  outbound: Partial<Record<ChannelName, { waiting: number; active: number; delayed: number; failed: number; oldestAgeMs: number }>>;
}

/** One thing an operator may want to look at and retry. */
export interface FailedItem {
  /** What `retry --id` takes: a BullMQ job id, or `dead:<n>` for a dead letter. */
  id: string;
  queue: string;
  channel?: string;
  conversation?: string;
  /** Reply or message text, personal data redacted, shortened. */
  text?: string;
  reason: string;
  attempts: number;
  at: number;
}

interface SendJobData {
  channel: ChannelName;
  conversationId: string;
  replyId: string;
  reply: { text: string };
}

const short = (s: string): string => {
  const r = redact(s).replace(/\s+/g, ' ');
  return r.length > 80 ? `${r.slice(0, 79)}…` : r;
};

/** Queue inspection and retry. */
export class QueueAdmin {
  private readonly queues = new Map<string, Queue>();
  private readonly inbox: Inbox;
  private readonly guard: SendGuard;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: { dedupeSeconds?: number; keepFailed?: number } = {},
  ) {
    this.inbox = new Inbox(redis, prefix, { dedupeSeconds: opts.dedupeSeconds ?? 72 * 3600, keepDead: opts.keepFailed ?? 5000 });
    this.guard = new SendGuard(redis, { prefix, keepSeconds: opts.dedupeSeconds ?? 72 * 3600 });
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis, prefix: this.prefix });
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  async stats(): Promise<QueueStats> {
    const inbox = await this.inbox.stats();
    const inJobs = await this.queue(INBOUND_QUEUE).getJobCounts('wait', 'active', 'delayed', 'failed');
    const outbound: QueueStats['outbound'] = {};
    for (const channel of CHANNELS) {
      const q = this.queue(outboundQueueName(channel));
      const c = await q.getJobCounts('wait', 'active', 'delayed', 'failed');
      const total = (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.failed ?? 0);
      if (!total && channel === 'cli') continue;
      const [oldest] = c.wait ? await q.getJobs(['wait'], 0, 0, true) : [];
      outbound[channel] = { waiting: c.wait ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, oldestAgeMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : 0 };
    }
    return {
      inbound: { messages: inbox.messages, conversations: inbox.conversations, oldestAgeMs: inbox.oldestAgeMs, deadLetters: inbox.dead, wakeJobs: (inJobs.wait ?? 0) + (inJobs.delayed ?? 0), active: inJobs.active ?? 0, failed: inJobs.failed ?? 0 },
      outbound,
    };
  }

  /** Failed send jobs, failed inbound jobs and dead letters, newest first. */
  async failed(limit = 50): Promise<FailedItem[]> {
    const items: FailedItem[] = [];
    const dead = await this.inbox.dead(0, limit - 1);
    dead.forEach((d, i) => {
      items.push({
        id: `dead:${i}`,
        queue: 'inbound (dead letter)',
        channel: d.entry?.msg.channel,
        conversation: d.entry?.msg.conversationId ?? d.member,
        text: d.entry ? short(String(d.entry.msg.text ?? '')) : undefined,
        reason: d.reason,
        attempts: 0,
        at: d.at,
      });
    });
    for (const name of [INBOUND_QUEUE, ...CHANNELS.map(outboundQueueName)]) {
      const jobs = (await this.queue(name).getFailed(0, limit - 1)) as Job[];
      for (const job of jobs) {
        const data = job.data as Partial<SendJobData> & { conv?: string };
        items.push({
          id: String(job.id),
          queue: name,
          channel: data.channel,
          conversation: data.conversationId ?? data.conv,
          text: typeof data.reply?.text === 'string' ? short(data.reply.text) : undefined,
          reason: job.failedReason,
          attempts: job.attemptsMade,
          at: job.finishedOn ?? job.timestamp,
        });
      }
    }
    return items.sort((a, b) => b.at - a.at).slice(0, limit);
  }

  /**
   * Retries failed jobs (all, or the given ids) and requeues dead letters (all, when no
   * ids are given), clearing what the send guard remembers of their earlier attempts.
   */
  async retry(ids?: string[]): Promise<{ retried: string[]; missing: string[] }> {
    const wanted = ids?.length ? new Set(ids) : undefined;
    const retried: string[] = [];
    if (!wanted || [...wanted].some((id) => id.startsWith('dead:'))) {
      // Dead letters are requeued together (indexes shift as they leave the list).
      for (const d of await this.inbox.retryDead()) {
        retried.push(`dead:${d.member}`);
        await this.queue(INBOUND_QUEUE).add('wake', { conv: d.member }, { jobId: `retry-${randomUUID()}` });
      }
      if (wanted) for (const id of [...wanted]) if (id.startsWith('dead:')) wanted.delete(id);
    }
    for (const name of [INBOUND_QUEUE, ...CHANNELS.map(outboundQueueName)]) {
      const q = this.queue(name);
      const jobs: Job[] = [];
      if (wanted) {
        for (const id of wanted) {
          const job = (await q.getJob(id)) as Job | undefined;
          if (job && (await job.isFailed())) jobs.push(job);
        }
      } else {
        jobs.push(...((await q.getFailed(0, -1)) as Job[]));
      }
      for (const job of jobs) {
        const data = job.data as Partial<SendJobData>;
        if (data.replyId) await this.guard.forget(data.replyId);
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried.push(String(job.id));
        wanted?.delete(String(job.id));
      }
    }
    return { retried, missing: wanted ? [...wanted] : [] };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
