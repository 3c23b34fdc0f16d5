/**
 * The message pipeline between channels and the dialogue engine.
 *
 *   channel adapter ──submit(IncomingMessage)──▶ inbound (dedupe, one conversation at a time, in order)
 *        ▲                                            │ engine.handle()
 *        └──ChannelSender.send(conversationId, Reply)◀─ outbound (per-channel throttle, retries, send once)
 *
 * `InProcessPipeline` is the embedded default (no Redis). The BullMQ implementation in
 * `bot/queue/` implements the same interface and passes the same conformance tests.
 */
import type { DialogueEngine, Logger, Turn } from './dialogue/engine.ts';
import type { ChannelName, IncomingMessage, Reply } from './dialogue/types.ts';

/** Sends a reply on one channel. Throws `PermanentSendError` for errors not worth retrying. */
export interface ChannelSender {
  readonly channel: ChannelName;
  send(conversationId: string, reply: Reply): Promise<void>;
}

/** The user blocked the bot, the chat does not exist…: retrying cannot help. */
export class PermanentSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentSendError';
  }
}

/**
 * `submit` could not queue the message in time because the queue is unreachable, but the
 * message is held in this process and goes in when the queue is back (ioredis's offline
 * queue): it is late, not lost. Channels tell the citizen it will be answered later
 * instead of asking them to send it again.
 */
export class QueueDelayedError extends Error {
  constructor(message = 'queue unavailable: the message waits in this process until Redis answers', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueDelayedError';
  }
}

/** True for a `QueueDelayedError` (also across module copies). */
export function isQueueDelayed(err: unknown): boolean {
  return err instanceof QueueDelayedError || (err instanceof Error && err.name === 'QueueDelayedError');
}

export interface Pipeline {
  /** Accepts an incoming message. Resolves once it is durably queued (not when answered); may reject with `QueueDelayedError`. */
  submit(msg: IncomingMessage): Promise<void>;
  /** Sends a message that did not come from a citizen's message (staff reply, dossier push). */
  push(channel: ChannelName, conversationId: string, reply: Reply): Promise<void>;
  registerSender(sender: ChannelSender): void;
  /** Stops taking work and finishes what is in flight. */
  close(): Promise<void>;
}

/** Observer for tests, metrics and the web channel's synchronous API. */
export type TurnListener = (msg: IncomingMessage, turn: Turn) => void;

/**
 * In-process pipeline: per-conversation promise chains keep order, a bounded set of
 * recent message ids drops redeliveries, sends are retried with backoff.
 */
export class InProcessPipeline implements Pipeline {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly seen = new Set<string>();
  private readonly senders = new Map<ChannelName, ChannelSender>();
  private readonly listeners: TurnListener[] = [];
  private closed = false;

  constructor(
    private readonly engine: DialogueEngine,
    private readonly log?: Logger,
    private readonly opts = { maxSeen: 50_000, sendAttempts: 4, backoffMs: 500 },
  ) {}

  registerSender(sender: ChannelSender): void {
    this.senders.set(sender.channel, sender);
  }

  onTurn(listener: TurnListener): void {
    this.listeners.push(listener);
  }

  async submit(msg: IncomingMessage): Promise<void> {
    if (this.closed) throw new Error('pipeline closed');
    const key = `${msg.channel}:${msg.messageId}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > this.opts.maxSeen) this.seen.delete(this.seen.values().next().value as string);
    const conv = `${msg.channel}:${msg.conversationId}`;
    const prev = this.chains.get(conv) ?? Promise.resolve();
    const next = prev.then(() => this.process(msg)).catch((err: unknown) => this.log?.error({ err, conversation: msg.conversationId }, 'message processing failed'));
    this.chains.set(conv, next);
    void next.finally(() => {
      if (this.chains.get(conv) === next) this.chains.delete(conv);
    });
  }

  async push(channel: ChannelName, conversationId: string, reply: Reply): Promise<void> {
    await this.send(channel, conversationId, reply);
  }

  private async process(msg: IncomingMessage): Promise<void> {
    const turn = await this.engine.handle(msg);
    for (const l of this.listeners) l(msg, turn);
    if (turn.reply) await this.send(msg.channel, msg.conversationId, turn.reply);
  }

  private async send(channel: ChannelName, conversationId: string, reply: Reply): Promise<void> {
    const sender = this.senders.get(channel);
    if (!sender) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.send(conversationId, reply);
        return;
      } catch (err) {
        if (err instanceof PermanentSendError || attempt >= this.opts.sendAttempts) {
          this.log?.error({ err, channel, conversation: conversationId, attempt }, 'send failed');
          return;
        }
        const delay = this.opts.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.chains.values()]);
  }
}
