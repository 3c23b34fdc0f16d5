/**
 * Prometheus metrics for operators (`GET /metrics`): messages in and out per channel,
 * how long understanding takes, queue depth and age, failures and hand-offs. Works the
 * same with the in-process and the BullMQ pipeline, because it wraps the engine and
 * the channel senders rather than living inside either pipeline.
 */
import type { IncomingMessage as HttpRequest, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DialogueEngine } from './dialogue/engine.ts';
import type { ChannelName, IncomingMessage } from './dialogue/types.ts';
import type { ChannelSender } from './pipeline.ts';
import type { QueueStats } from './queue/admin.ts';
import type { PipelineObserver } from './queue/bull-pipeline.ts';
import { isPermanentSendError } from './queue/errors.ts';

/** The metric set of one process, in its own registry (tests create several). */
export class Metrics implements PipelineObserver {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'channel'>;
  readonly messagesOut: Counter<'channel'>;
  readonly understandingSeconds: Histogram<'channel'>;
  readonly failures: Counter<'stage' | 'channel'>;
  readonly handoffs: Counter<'channel' | 'kind'>;
  readonly duplicates: Counter<'channel'>;
  readonly deferred: Counter<'channel' | 'reason'>;
  private queueSource?: () => Promise<QueueStats>;
  private scrape?: { at: number; stats: Promise<QueueStats | undefined> };

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    const registers = [this.registry];
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tthc_' });
    this.messagesIn = new Counter({ name: 'tthc_messages_in_total', help: 'Citizen messages handled, per channel', labelNames: ['channel'], registers });
    this.messagesOut = new Counter({ name: 'tthc_messages_out_total', help: 'Messages the platform accepted (replies and pushes), per channel', labelNames: ['channel'], registers });
    this.understandingSeconds = new Histogram({
      name: 'tthc_understanding_seconds',
      help: 'Time to handle one message (understanding, state, reply), per channel',
      labelNames: ['channel'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.failures = new Counter({
      name: 'tthc_failures_total',
      help: 'Failures by stage: handle (engine threw), send (will retry), send_permanent, send_resent (a worker died during the platform call, so the reply was sent again and may have arrived twice), dead_letter',
      labelNames: ['stage', 'channel'],
      registers,
    });
    this.handoffs = new Counter({ name: 'tthc_handoffs_total', help: 'Tickets opened for staff (hand-offs and complaints)', labelNames: ['channel', 'kind'], registers });
    this.duplicates = new Counter({ name: 'tthc_duplicate_messages_total', help: 'Redelivered messages dropped', labelNames: ['channel'], registers });
    this.deferred = new Counter({ name: 'tthc_sends_deferred_total', help: 'Sends postponed by a throttle, a "slow down" answer or the daily budget', labelNames: ['channel', 'reason'], registers });
    const stats = (): Promise<QueueStats | undefined> => this.stats();
    new Gauge({
      name: 'tthc_queue_depth',
      help: 'Work waiting: messages in conversation inboxes (inbound), sends not yet done (out-*), dead letters and failed jobs kept',
      labelNames: ['queue'],
      registers,
      async collect() {
        const s = await stats();
        if (!s) return;
        this.set({ queue: 'inbound' }, s.inbound.messages);
        this.set({ queue: 'inbound-dead-letters' }, s.inbound.deadLetters);
        this.set({ queue: 'inbound-failed' }, s.inbound.failed);
        for (const [ch, o] of Object.entries(s.outbound)) {
          this.set({ queue: `out-${ch}` }, o.waiting + o.active + o.delayed);
          this.set({ queue: `out-${ch}-failed` }, o.failed);
        }
      },
    });
    new Gauge({
      name: 'tthc_queue_oldest_age_seconds',
      help: 'Age of the oldest waiting item per queue',
      labelNames: ['queue'],
      registers,
      async collect() {
        const s = await stats();
        if (!s) return;
        this.set({ queue: 'inbound' }, s.inbound.oldestAgeMs / 1000);
        for (const [ch, o] of Object.entries(s.outbound)) this.set({ queue: `out-${ch}` }, o.oldestAgeMs / 1000);
      },
    });
  }

  /** Where queue figures come from (the BullMQ pipeline's `stats`); none in-process. */
  watchQueues(source: () => Promise<QueueStats>): void {
    this.queueSource = source;
  }

  private stats(): Promise<QueueStats | undefined> {
    const src = this.queueSource;
    if (!src) return Promise.resolve(undefined);
    // Both queue gauges share one read per scrape; a Redis outage must not hang /metrics.
    if (!this.scrape || Date.now() - this.scrape.at > 1000) {
      const stats = Promise.race([src(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref())]).catch(() => undefined);
      this.scrape = { at: Date.now(), stats };
    }
    return this.scrape.stats;
  }

  duplicate(channel: ChannelName): void {
    this.duplicates.inc({ channel });
  }

  deadLetter(channel: ChannelName): void {
    this.failures.inc({ stage: 'dead_letter', channel });
  }

  sendOutcome(channel: ChannelName, outcome: 'sent' | 'retry' | 'permanent' | 'resent' | 'budget' | 'throttled'): void {
    // sent/retry/permanent are counted by `instrumentSender`, for both pipelines.
    if (outcome === 'resent') this.failures.inc({ stage: 'send_resent', channel });
    if (outcome === 'budget' || outcome === 'throttled') this.deferred.inc({ channel, reason: outcome });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Counts messages, hand-offs and understanding time by wrapping `engine.handle` on the
 * instance (both pipelines call it). Returns the same engine.
 */
export function instrumentEngine<E extends Pick<DialogueEngine, 'handle'>>(engine: E, metrics: Metrics): E {
  const handle = engine.handle.bind(engine);
  engine.handle = async (msg: IncomingMessage) => {
    const end = metrics.understandingSeconds.startTimer({ channel: msg.channel });
    try {
      const turn = await handle(msg);
      metrics.messagesIn.inc({ channel: msg.channel });
      if (turn.ticket) metrics.handoffs.inc({ channel: msg.channel, kind: turn.ticket.kind });
      return turn;
    } catch (err) {
      metrics.failures.inc({ stage: 'handle', channel: msg.channel });
      throw err;
    } finally {
      end();
    }
  };
  return engine;
}

/** Counts sends and send failures of a channel sender. */
export function instrumentSender(sender: ChannelSender, metrics: Metrics): ChannelSender {
  return {
    channel: sender.channel,
    async send(conversationId, reply) {
      try {
        await sender.send(conversationId, reply);
        metrics.messagesOut.inc({ channel: sender.channel });
      } catch (err) {
        metrics.failures.inc({ stage: isPermanentSendError(err) ? 'send_permanent' : 'send', channel: sender.channel });
        throw err;
      }
    },
  };
}

/** A Node HTTP handler for `GET /metrics`. */
export function metricsHandler(metrics: Metrics): (req: HttpRequest, res: ServerResponse) => void {
  return (_req, res) => {
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics unavailable: ${(err as Error).message}\n`);
      },
    );
  };
}
