/**
 * Ticket events (created, message, answered, released, closed), so an inbox in any
 * process updates live and the process that owns the Telegram staff group posts tickets
 * created anywhere — including `npm run worker` processes (issue 13 item 10).
 *
 * In-process by default; Redis pub/sub with REDIS_URL. `EventedTicketStore` decorates any
 * `TicketStore` and publishes after each successful write, so nothing else has to
 * remember to. `claim()` lets exactly one process act on an event that every process
 * receives (one staff-group post per ticket).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../dialogue/engine.ts';
import type { NewTicket, Ticket, TicketListFilter, TicketMessage, TicketPatch, TicketStore } from './tickets.ts';

export type TicketEventType = 'created' | 'message' | 'answered' | 'released' | 'closed';

/** A ticket without its conversation, small enough for pub/sub. */
export type TicketSummary = Omit<Ticket, 'excerpt' | 'messages'> & { messageCount: number };

export interface TicketEvent {
  type: TicketEventType;
  ticket: TicketSummary;
  /** The message added (type `message`). */
  message?: TicketMessage;
  at: number;
  /** Id of the publishing process. */
  origin: string;
}

export type TicketEventListener = (event: TicketEvent) => void;

export interface TicketEvents {
  publish(event: Omit<TicketEvent, 'origin'>): Promise<void>;
  /** Calls `listener` for every event from any process; returns the unsubscribe function. */
  subscribe(listener: TicketEventListener): () => void;
  /** True for exactly one caller per key across processes (within `ttlMs`). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The summary of a ticket as events carry it. */
export function ticketSummary(t: Ticket): TicketSummary {
  const { excerpt: _e, messages, ...rest } = t;
  return { ...rest, messageCount: messages.length };
}

function deliver(listeners: Set<TicketEventListener>, event: TicketEvent, log?: Logger): void {
  for (const l of [...listeners]) {
    try {
      l(event);
    } catch (err) {
      log?.error({ err, ticket: event.ticket.id, type: event.type }, 'ticket event listener failed');
    }
  }
}

/** Events inside one process (the embedded default). */
export class InProcessTicketEvents implements TicketEvents {
  readonly origin = randomUUID();
  private readonly listeners = new Set<TicketEventListener>();
  private readonly claims = new Map<string, number>();

  constructor(private readonly log?: Logger) {}

  async publish(event: Omit<TicketEvent, 'origin'>): Promise<void> {
    // Listeners run after the caller's write returns, as they would with pub/sub.
    const e = { ...event, origin: this.origin };
    queueMicrotask(() => deliver(this.listeners, e, this.log));
  }

  subscribe(listener: TicketEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claims) if (until <= now) this.claims.delete(k);
    if (this.claims.has(key)) return false;
    this.claims.set(key, now + ttlMs);
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/**
 * Events through Redis pub/sub. `publisher` is the process's shared connection; a
 * subscriber connection is duplicated from it on first `subscribe` (a subscribed
 * connection can run no other command). Pub/sub is fire-and-forget: an inbox that was
 * disconnected re-reads the store when it reconnects, so no state depends on an event.
 */
export class RedisTicketEvents implements TicketEvents {
  readonly origin = randomUUID();
  private readonly listeners = new Set<TicketEventListener>();
  private subscriber: Redis | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly publisher: Redis,
    private readonly opts: { prefix: string; log?: Logger },
  ) {}

  get channel(): string {
    return `${this.opts.prefix}:ticket-events`;
  }

  async publish(event: Omit<TicketEvent, 'origin'>): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ ...event, origin: this.origin }));
  }

  subscribe(listener: TicketEventListener): () => void {
    this.listeners.add(listener);
    void this.start().catch((err: unknown) => this.opts.log?.error({ err }, 'ticket events: subscribe failed'));
    return () => this.listeners.delete(listener);
  }

  /** Resolves once this process receives events (tests await it before publishing). */
  start(): Promise<void> {
    this.ready ??= (async () => {
      const sub = this.publisher.duplicate({ connectionName: 'ticket-events' });
      sub.on('error', () => undefined);
      this.subscriber = sub;
      sub.on('message', (ch: string, raw: string) => {
        if (ch !== this.channel) return;
        let event: TicketEvent;
        try {
          event = JSON.parse(raw) as TicketEvent;
          if (!event?.ticket?.id || !event.type) throw new Error('not a ticket event');
        } catch {
          this.opts.log?.warn({ channel: ch }, 'malformed ticket event ignored');
          return;
        }
        deliver(this.listeners, event, this.opts.log);
      });
      await sub.subscribe(this.channel);
    })();
    return this.ready;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.publisher.set(`${this.opts.prefix}:ticket-claim:${key}`, this.origin, 'PX', Math.max(1, ttlMs), 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}

const STATUS_EVENT: Partial<Record<Ticket['status'], TicketEventType>> = { answered: 'answered', released: 'released', closed: 'closed' };

/**
 * A `TicketStore` that publishes an event after each write. A failed publish is logged,
 * never turned into a failed write: the ticket is stored, and inboxes re-read the store.
 */
export class EventedTicketStore implements TicketStore {
  constructor(
    readonly inner: TicketStore,
    readonly events: TicketEvents,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private emit(type: TicketEventType, ticket: Ticket, message?: TicketMessage): void {
    this.events.publish({ type, ticket: ticketSummary(ticket), ...(message ? { message } : {}), at: this.now() }).catch((err: unknown) => this.log?.warn({ err, ticket: ticket.id, type }, 'ticket event not published'));
  }

  async create(t: NewTicket): Promise<Ticket> {
    const ticket = await this.inner.create(t);
    this.emit('created', ticket);
    return ticket;
  }

  get(id: string): Promise<Ticket | undefined> {
    return this.inner.get(id);
  }

  list(filter?: TicketListFilter): Promise<Ticket[]> {
    return this.inner.list(filter);
  }

  findOpen(channel: string, conversationId: string): Promise<Ticket | undefined> {
    return this.inner.findOpen(channel, conversationId);
  }

  async update(id: string, patch: TicketPatch): Promise<Ticket | undefined> {
    const before = patch.status ? await this.inner.get(id) : undefined;
    const t = await this.inner.update(id, patch);
    const type = t && patch.status && before?.status !== patch.status ? STATUS_EVENT[patch.status] : undefined;
    if (t && type) this.emit(type, t);
    return t;
  }

  async appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined> {
    const t = await this.inner.appendMessage(id, message);
    if (t) this.emit('message', t, t.messages[t.messages.length - 1]);
    return t;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
