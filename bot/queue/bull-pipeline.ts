/**
 * The message pipeline on Redis + BullMQ, for when several processes share the work.
 * Same `Pipeline` interface and conformance tests as the in-process default.
 *
 * ## Inbound: one conversation at a time, in order, without BullMQ Pro groups
 *
 * `submit(msg)` runs one Lua script that (a) drops the message if its platform id was
 * seen (`SET NX` with a TTL) and (b) appends it to its conversation's Redis list, then
 * adds a BullMQ "wake" job whose id is derived from the message id (`in-<channel>-<id>`,
 * so a redelivery is also a BullMQ no-op). A wake job carries only the conversation key.
 *
 * A worker that runs a wake job tries to take the conversation's lock (`SET NX PX`,
 * renewed while it works). If the lock is held, the job ends at once: the holder will
 * see the message. Otherwise it *drains*: peek the head, `engine.handle()`, queue the
 * reply, and only then pop the head (a script that checks the lock and the head), up
 * to `drainBatch` messages, then releases the lock. Releasing returns the list length
 * atomically, and if anything is left the worker adds another wake job.
 *
 * Why nothing is stranded: a message is pushed before its wake job is added. If that
 * job fails to take the lock, the holder had not released yet, so the holder's
 * release (which happens later) sees the message and wakes the conversation again.
 * If a worker dies holding a lock, the lock expires; the sweeper (every process runs
 * one) finds conversations whose oldest message has waited longer than `lockMs` with
 * no lock held and wakes them. So per conversation there is at most one handler at a
 * time (the lock), messages are handled in list order (FIFO), and different
 * conversations run concurrently up to the worker concurrency.
 *
 * Crash windows: a message is popped only after its reply is queued, so a crash can
 * make a message be handled again but never lost; its reply job id is derived from
 * the message id, and the send-once guard (`guard.ts`) makes the send happen at most
 * once. A message that fails `messageAttempts` times is moved to a dead-letter list
 * (`npm run queue -- failed|retry`) so it cannot block its conversation forever.
 *
 * ## Outbound: per-channel send queues
 *
 * One BullMQ queue per channel (`out-telegram`, `out-zalo`, …); a process runs a send
 * worker for a channel only if it registered a sender for it (the Zalo sender lives in
 * the process holding the Zalo listener lock). Each send books a slot per conversation
 * and per account (`limits.ts`), honours the daily budget and random delays, goes
 * through the send-once guard, and is retried with exponential backoff and jitter.
 * A `PermanentSendError` becomes BullMQ's `UnrecoverableError` (no retry). Jobs that
 * fail for good are kept (bounded) for inspection.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DialogueEngine, Logger, Turn } from '../dialogue/engine.ts';
import type { ChannelName, IncomingMessage, Reply } from '../dialogue/types.ts';
import type { ChannelSender, Pipeline, TurnListener } from '../pipeline.ts';
import { isPermanentSendError, retryAfterMs } from './errors.ts';
import { SendGuard } from './guard.ts';
import { conversationMember, Inbox, messageKey, parseItem, type InboxEntry } from './inbox.ts';
import { DEFAULT_LIMITS, SendThrottle, type ChannelLimits } from './limits.ts';
import { QueueAdmin, type QueueStats } from './admin.ts';
import { INBOUND_QUEUE, outboundQueueName } from './queue-names.ts';
import { jobIdPart, withTimeout } from './redis.ts';

export { INBOUND_QUEUE, outboundQueueName, type QueueStats };

/** The part of the dialogue engine the pipeline calls. */
export type TurnHandler = Pick<DialogueEngine, 'handle'>;

/** Queue events for metrics; every method optional. */
export interface PipelineObserver {
  duplicate?(channel: ChannelName): void;
  deadLetter?(channel: ChannelName): void;
  /** `resent`: sent again because a worker died inside the platform call (may arrive twice). */
  sendOutcome?(channel: ChannelName, outcome: 'sent' | 'retry' | 'permanent' | 'resent' | 'budget' | 'throttled'): void;
}

/** A reply the platform accepted (for metrics, tests and benchmarks). */
export interface SentInfo {
  channel: ChannelName;
  conversationId: string;
  /** Guard id: `<channel>-<message id>-<chunk>` for replies, `push-…` for pushes. */
  replyId: string;
  /** The citizen's message this answers (absent for pushes). */
  inboundId?: string;
  /** When the citizen's message was submitted (client clock). */
  submittedAt?: number;
  reply: Reply;
}

export interface BullPipelineOptions {
  /** Shared command connection (needs `maxRetriesPerRequest: null`, see `createRedis`). */
  connection: Redis;
  /** Key prefix for BullMQ queues and our own keys (random in tests). */
  prefix: string;
  log?: Logger;
  observer?: PipelineObserver;
  /** Run inbound workers in this process (false: submit only). Default true. */
  inboundWorkers?: boolean;
  /** Conversations handled at once per process. */
  inboundConcurrency?: number;
  /** Messages of one conversation handled before its turn is handed back. */
  drainBatch?: number;
  /** Failed handling attempts before a message is moved to the dead letters. */
  messageAttempts?: number;
  /** Job and conversation lock duration: how long a dead worker's work stays stuck. */
  lockMs?: number;
  /** How often each process looks for stuck conversations (default lockMs / 3). */
  sweepIntervalMs?: number;
  /** Base of the exponential backoff between attempts of a failed wake job. */
  wakeBackoffMs?: number;
  /** How long message ids and sent replies are remembered for dedupe. */
  dedupeSeconds?: number;
  /** Failed jobs (and dead letters) kept per queue for inspection. */
  keepFailed?: number;
  /** `submit` rejects after this long without Redis (the adapter can then refuse the update). */
  submitTimeoutMs?: number;
  sendAttempts?: number;
  sendBackoffMs?: number;
  /** Longest throttle wait spent inside a send job; longer waits re-delay the job. */
  maxInJobWaitMs?: number;
  limits?: Partial<Record<ChannelName, ChannelLimits>>;
}

interface WakeData {
  conv: string;
}

interface SendData {
  channel: ChannelName;
  conversationId: string;
  reply: Reply;
  replyId: string;
  inboundId?: string;
  submittedAt?: number;
}

type SentListener = (info: SentInfo) => void;

/** `Pipeline` on Redis and BullMQ (see the module comment for the design). */
export class BullPipeline implements Pipeline {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly log?: Logger;
  private readonly o: Required<Omit<BullPipelineOptions, 'connection' | 'prefix' | 'log' | 'observer' | 'limits' | 'sweepIntervalMs'>> & { sweepIntervalMs: number };
  private readonly limits: Record<ChannelName, ChannelLimits>;
  private readonly observer: PipelineObserver;
  private readonly inbox: Inbox;
  private readonly guard: SendGuard;
  private readonly admin: QueueAdmin;
  private readonly inQueue: Queue<WakeData>;
  private readonly outQueues = new Map<ChannelName, Queue<SendData>>();
  private readonly senders = new Map<ChannelName, ChannelSender>();
  private readonly sendWorkers = new Map<ChannelName, Worker<SendData>>();
  private readonly throttles = new Map<ChannelName, SendThrottle>();
  private readonly turnListeners: TurnListener[] = [];
  private readonly sentListeners: SentListener[] = [];
  private inWorker: Worker<WakeData> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private closed = false;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  constructor(
    private readonly engine: TurnHandler,
    opts: BullPipelineOptions,
  ) {
    this.redis = opts.connection;
    this.prefix = opts.prefix;
    this.log = opts.log;
    const lockMs = opts.lockMs ?? 30_000;
    this.o = {
      inboundWorkers: opts.inboundWorkers ?? true,
      inboundConcurrency: opts.inboundConcurrency ?? 32,
      drainBatch: opts.drainBatch ?? 20,
      messageAttempts: opts.messageAttempts ?? 5,
      lockMs,
      sweepIntervalMs: opts.sweepIntervalMs ?? Math.max(200, Math.round(lockMs / 3)),
      wakeBackoffMs: opts.wakeBackoffMs ?? 1000,
      dedupeSeconds: opts.dedupeSeconds ?? 72 * 3600,
      keepFailed: opts.keepFailed ?? 5000,
      submitTimeoutMs: opts.submitTimeoutMs ?? 30_000,
      sendAttempts: opts.sendAttempts ?? 6,
      sendBackoffMs: opts.sendBackoffMs ?? 2000,
      maxInJobWaitMs: opts.maxInJobWaitMs ?? 2000,
    };
    this.observer = opts.observer ?? {};
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.inbox = new Inbox(this.redis, this.prefix, { dedupeSeconds: this.o.dedupeSeconds, keepDead: this.o.keepFailed });
    this.guard = new SendGuard(this.redis, { prefix: this.prefix, keepSeconds: this.o.dedupeSeconds });
    this.admin = new QueueAdmin(this.redis, this.prefix, { dedupeSeconds: this.o.dedupeSeconds, keepFailed: this.o.keepFailed });
    this.inQueue = new Queue<WakeData>(INBOUND_QUEUE, {
      connection: this.redis,
      prefix: this.prefix,
      defaultJobOptions: {
        attempts: 3,
        backoff: { type: 'exponential', delay: this.o.wakeBackoffMs, jitter: 0.5 },
        removeOnComplete: true,
        removeOnFail: { count: this.o.keepFailed },
      },
    });
    this.inQueue.on('error', (err) => this.log?.warn({ err }, 'inbound queue error'));
    if (this.o.inboundWorkers) this.startInbound();
  }

  /** Called after each handled message, in the process that handled it. */
  onTurn(listener: TurnListener): void {
    this.turnListeners.push(listener);
  }

  /** Called after the platform accepted a reply or push, in the process that sent it. */
  onSent(listener: SentListener): void {
    this.sentListeners.push(listener);
  }

  /** Starts (or swaps) the sender of a channel; this process then sends for that channel. */
  registerSender(sender: ChannelSender): void {
    this.senders.set(sender.channel, sender);
    if (this.sendWorkers.has(sender.channel) || this.closing) return;
    const channel = sender.channel;
    const limits = this.limits[channel];
    this.throttles.set(channel, new SendThrottle(this.redis, this.prefix, channel, limits));
    const worker = new Worker<SendData>(outboundQueueName(channel), (job, token) => this.sendJob(job, token), {
      connection: this.redis,
      prefix: this.prefix,
      concurrency: Math.max(1, limits.concurrency),
      // BullMQ renews job locks on a timer while the processor awaits, so in-job
      // throttle waits need no longer lock.
      lockDuration: this.o.lockMs,
      stalledInterval: this.o.lockMs,
      maxStalledCount: 2,
    });
    worker.on('error', (err) => this.log?.warn({ err, channel }, 'send worker error'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      const ctx = { err: { name: err.name, message: err.message }, channel, conversation: job.data.conversationId, job: job.id, attempt: job.attemptsMade };
      if (final) this.log?.error(ctx, 'send failed for good; kept for inspection');
      else this.log?.warn(ctx, 'send failed; will retry');
    });
    this.sendWorkers.set(channel, worker);
  }

  /**
   * Stops sending for a channel in this process (finishes sends in flight); its jobs
   * wait for a process that has the sender. For the Zalo sender when this process
   * loses the listener lock.
   */
  async unregisterSender(channel: ChannelName): Promise<void> {
    const worker = this.sendWorkers.get(channel);
    this.sendWorkers.delete(channel);
    await worker?.close();
    if (!this.sendWorkers.has(channel)) this.senders.delete(channel);
  }

  async submit(msg: IncomingMessage): Promise<void> {
    if (this.closed || this.closing) throw new Error('pipeline closed');
    const submittedAt = Date.now();
    await withTimeout(this.enqueue(msg, submittedAt), this.o.submitTimeoutMs, 'queue unavailable: message not accepted');
  }

  private async enqueue(msg: IncomingMessage, submittedAt: number): Promise<void> {
    const fresh = await this.inbox.push(msg, submittedAt);
    if (!fresh) {
      this.observer.duplicate?.(msg.channel);
      this.log?.info({ channel: msg.channel, conversation: msg.conversationId, message: msg.messageId }, 'duplicate message dropped');
    }
    // Added even for a duplicate: if an earlier submit died between its push and its
    // wake, this one completes it (the job id makes it a no-op otherwise).
    await this.inQueue.add('wake', { conv: conversationMember(msg) }, { jobId: `in-${msg.channel}-${jobIdPart(msg.messageId)}` });
  }

  async push(channel: ChannelName, conversationId: string, reply: Reply): Promise<void> {
    if (this.closed) throw new Error('pipeline closed');
    const replyId = `push-${channel}-${randomUUID()}`;
    await this.addSend({ channel, conversationId, reply, replyId });
  }

  private outQueue(channel: ChannelName): Queue<SendData> {
    let q = this.outQueues.get(channel);
    if (!q) {
      q = new Queue<SendData>(outboundQueueName(channel), {
        connection: this.redis,
        prefix: this.prefix,
        defaultJobOptions: {
          attempts: this.o.sendAttempts,
          backoff: { type: 'exponential', delay: this.o.sendBackoffMs, jitter: 0.5 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: this.o.keepFailed },
        },
      });
      q.on('error', (err) => this.log?.warn({ err, channel }, 'send queue error'));
      this.outQueues.set(channel, q);
    }
    return q;
  }

  private async addSend(data: SendData): Promise<void> {
    await this.outQueue(data.channel).add(data.inboundId ? 'reply' : 'push', data, { jobId: `out-${jobIdPart(data.replyId)}` });
  }

  // ── inbound ──────────────────────────────────────────────────────────────

  private startInbound(): void {
    const worker = new Worker<WakeData>(INBOUND_QUEUE, (job) => this.drain(job), {
      connection: this.redis,
      prefix: this.prefix,
      concurrency: this.o.inboundConcurrency,
      lockDuration: this.o.lockMs,
      stalledInterval: this.o.lockMs,
      maxStalledCount: 2,
    });
    worker.on('error', (err) => this.log?.warn({ err }, 'inbound worker error'));
    worker.on('failed', (job, err) => {
      if (job) this.log?.warn({ err: { name: err.name, message: err.message }, job: job.id, attempt: job.attemptsMade }, 'conversation drain failed; will retry');
    });
    this.inWorker = worker;
    this.scheduleSweep();
  }

  private async wake(member: string): Promise<void> {
    await this.inQueue.add('wake', { conv: member });
  }

  /** Handles the conversation's waiting messages in order while holding its lock. */
  private async drain(job: Job<WakeData>): Promise<string> {
    const member = job.data.conv;
    const token = randomUUID();
    const lockMs = this.o.lockMs;
    if (!(await this.inbox.acquire(member, token, lockMs))) return 'busy';
    let lost = false;
    let failed = false;
    const renew = setInterval(() => {
      this.inbox.renew(member, token, lockMs).then(
        (ok) => {
          if (!ok) lost = true;
        },
        () => undefined,
      );
    }, Math.max(50, Math.round(lockMs / 3)));
    let handled = 0;
    try {
      while (!lost && !this.closing && handled < this.o.drainBatch) {
        const head = await this.inbox.head(member);
        if (head === null) break;
        const entry = parseItem(head);
        if (!entry) {
          this.log?.error({ conversation: member }, 'unreadable queued message moved to dead letters');
          const r = await this.inbox.pop(member, head, token, 'unreadable', { member, raw: head.slice(0, 2000), reason: 'unreadable item', at: Date.now() });
          if (r !== 'ok') break;
          continue;
        }
        const key = messageKey(entry.msg);
        let turn: Turn;
        try {
          turn = await this.engine.handle(entry.msg);
        } catch (err) {
          const tries = await this.inbox.failed(key);
          const ctx = { err, channel: entry.msg.channel, conversation: entry.msg.conversationId, message: entry.msg.messageId, tries };
          if (tries < this.o.messageAttempts) {
            this.log?.warn(ctx, 'message handling failed; will retry');
            failed = true;
            throw err;
          }
          this.log?.error(ctx, 'message handling failed too often; moved to dead letters');
          this.observer.deadLetter?.(entry.msg.channel);
          const r = await this.inbox.pop(member, head, token, key, { member, entry, reason: err instanceof Error ? err.message : String(err), at: Date.now() });
          if (r !== 'ok') break;
          continue;
        }
        this.emitTurn(entry.msg, turn);
        if (turn.reply) await this.queueReply(entry, turn.reply);
        const r = await this.inbox.pop(member, head, token, key);
        if (r === 'lost-lock') lost = true;
        if (r !== 'ok') break;
        handled++;
      }
    } finally {
      clearInterval(renew);
      if (!lost) {
        const left = await this.inbox.release(member, token);
        if (left > 0 && !failed) await this.wake(member);
      }
    }
    return lost ? 'lost-lock' : `handled ${handled}`;
  }

  private emitTurn(msg: IncomingMessage, turn: Turn): void {
    for (const l of this.turnListeners) {
      try {
        l(msg, turn);
      } catch (err) {
        this.log?.error({ err, conversation: msg.conversationId }, 'turn listener failed');
      }
    }
  }

  private async queueReply(entry: InboxEntry, reply: Reply): Promise<void> {
    const { msg } = entry;
    await this.addSend({ channel: msg.channel, conversationId: msg.conversationId, reply, replyId: `${msg.channel}-${msg.messageId}-0`, inboundId: msg.messageId, submittedAt: entry.submittedAt });
  }

  private scheduleSweep(): void {
    if (this.closing) return;
    const jitter = Math.floor(Math.random() * (this.o.sweepIntervalMs / 4));
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.log?.warn({ err }, 'inbound sweep failed'))
        .finally(() => this.scheduleSweep());
    }, this.o.sweepIntervalMs + jitter);
  }

  /** Wakes conversations whose oldest message waited a lock period with nobody on it. */
  async sweep(): Promise<number> {
    const stuck = await this.inbox.stuck(this.o.lockMs, 200);
    if (!stuck.length) return 0;
    const locked = await this.inbox.locked(stuck);
    let woken = 0;
    for (const [i, member] of stuck.entries()) {
      if (locked[i]) continue;
      // One sweep job per conversation at a time across all processes, by deduplication
      // id rather than job id: a fixed job id would collide with a sweep job that failed
      // every attempt and is kept for inspection, and that conversation would never be
      // woken again. A deduplication id is freed when its job completes or fails for good.
      await this.inQueue.add('wake', { conv: member }, { deduplication: { id: `sweep-${member}` } });
      woken++;
    }
    if (woken) this.log?.warn({ conversations: woken }, 'woke conversations left by a stopped worker');
    return woken;
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  private async sendJob(job: Job<SendData>, token: string | undefined): Promise<string> {
    const d = job.data;
    const sender = this.senders.get(d.channel);
    const throttle = this.throttles.get(d.channel);
    if (!sender || !throttle) throw new Error(`no sender for ${d.channel}`);
    const delay = async (ms: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + Math.max(1, Math.round(ms)), token);
      throw new DelayedError();
    };
    const claim = randomUUID();
    // The claim covers the random pause and the throttle wait; if this worker dies in
    // between, it expires and another attempt may send (the platform was not called).
    const g = await this.guard.claim(d.replyId, claim, this.o.maxInJobWaitMs + throttle.limits.delayMaxMs + this.o.lockMs);
    if (g.state === 'sent') return 'already sent';
    if (g.state === 'busy') return await delay(g.retryInMs + 50);
    if (g.state === 'resend') {
      // At least once: the previous attempt died inside the platform call.
      this.observer.sendOutcome?.(d.channel, 'resent');
      this.log?.warn({ channel: d.channel, conversation: d.conversationId, job: job.id }, 'a worker died while sending this reply; sending it again (the citizen may get it twice)');
    }
    try {
      const pause = throttle.jitterMs();
      if (pause) await sleep(pause);
      const slot = await throttle.reserve(d.conversationId, this.o.maxInJobWaitMs);
      if (slot.kind === 'budget') {
        this.observer.sendOutcome?.(d.channel, 'budget');
        this.log?.warn({ channel: d.channel, conversation: d.conversationId, until: new Date(slot.retryAt).toISOString() }, 'daily send budget spent; reply waits for tomorrow');
      } else if (slot.kind === 'later') {
        this.observer.sendOutcome?.(d.channel, 'throttled');
      }
      if (slot.kind !== 'booked') {
        await this.guard.release(d.replyId, claim);
        return await delay(slot.kind === 'budget' ? slot.retryAt - Date.now() : slot.waitMs);
      }
      if (slot.waitMs > 0) await sleep(slot.waitMs);
      if (!(await this.guard.calling(d.replyId, claim, this.o.lockMs))) return await delay(1000);
    } catch (err) {
      if (!(err instanceof DelayedError)) await this.guard.release(d.replyId, claim).catch(() => undefined);
      throw err;
    }
    // The heartbeat says "still calling" for as long as this process lives; if it dies,
    // the deadline passes within `lockMs` and the next attempt sends again.
    const heartbeat = setInterval(() => void this.guard.heartbeat(d.replyId, claim, this.o.lockMs).catch(() => undefined), Math.max(50, Math.round(this.o.lockMs / 3)));
    try {
      await sender.send(d.conversationId, d.reply);
    } catch (err) {
      clearInterval(heartbeat);
      // The platform answered with an error: the message was not sent.
      await this.guard.release(d.replyId, claim);
      if (isPermanentSendError(err)) {
        this.observer.sendOutcome?.(d.channel, 'permanent');
        throw new UnrecoverableError(`permanent send error: ${err instanceof Error ? err.message : String(err)}`);
      }
      const wait = retryAfterMs(err);
      if (wait !== undefined) {
        this.observer.sendOutcome?.(d.channel, 'throttled');
        this.log?.warn({ channel: d.channel, waitMs: wait }, 'platform asked to slow down; channel paused');
        await throttle.pause(wait);
        return await delay(wait);
      }
      this.observer.sendOutcome?.(d.channel, 'retry');
      throw err;
    }
    clearInterval(heartbeat);
    await this.guard.sent(d.replyId);
    this.observer.sendOutcome?.(d.channel, 'sent');
    const info: SentInfo = { channel: d.channel, conversationId: d.conversationId, replyId: d.replyId, inboundId: d.inboundId, submittedAt: d.submittedAt, reply: d.reply };
    for (const l of this.sentListeners) {
      try {
        l(info);
      } catch (err) {
        this.log?.error({ err }, 'sent listener failed');
      }
    }
    return 'sent';
  }

  // ── operations ───────────────────────────────────────────────────────────

  /** Backlog figures for metrics, health and `npm run queue -- stats`. */
  async stats(): Promise<QueueStats> {
    return await this.admin.stats();
  }

  /** Channels this process sends for. */
  get sendingChannels(): ChannelName[] {
    return [...this.sendWorkers.keys()];
  }

  /**
   * Stops taking work and finishes what is in flight: each conversation being drained
   * finishes its current message and hands the rest back (a wake job, so another
   * process or the next start continues); active sends finish. Then queues close.
   * The Redis connection belongs to the caller.
   */
  async close(): Promise<void> {
    this.closePromise ??= this.doClose();
    await this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    clearTimeout(this.sweepTimer);
    await this.sweeping;
    if (this.inWorker) await this.inWorker.close();
    await Promise.all([...this.sendWorkers.values()].map((w) => w.close()));
    await this.inQueue.close();
    await Promise.all([...this.outQueues.values()].map((q) => q.close()));
    await this.admin.close();
    this.closed = true;
  }
}
