/**
 * A decorator around the `TicketStore` that keeps one client from flooding the staff
 * group, and tells operators when tickets cannot be written.
 *
 * - Limit: each client (web: its address, whatever session ids it rotates; elsewhere:
 *   the platform user) may open `TICKETS_PER_CLIENT_PER_HOUR` tickets. Past that, its
 *   latest open ticket is handed back instead of a new one — the citizen still gets a
 *   ticket number and the hand-off, staff get no new post (`notify` skips it).
 * - Health: a failed write is remembered until the next good one and shown in `/healthz`.
 *
 * The engine calls `create()` with the ticket only; which message caused it comes from
 * `wrapEngine`, which notes the message each `handle(msg)` is working on. Both pipelines
 * handle one conversation at a time, so the conversation names the message. (Not
 * AsyncLocalStorage: on Node 20 it slows every promise in the process.) The dialogue
 * engine itself is not changed.
 */
import type { DialogueEngine, Logger } from './dialogue/engine.ts';
import type { IncomingMessage } from './dialogue/types.ts';
import type { NewTicket, Ticket, TicketListFilter, TicketMessage, TicketPatch, TicketStore } from './handoff/tickets.ts';
import type { RateLimiter } from './ratelimit.ts';

/** What `/healthz` shows about ticket writes (a type alias, so it fits a health check's result as is). */
export type TicketHealth = {
  ok: boolean;
  /** Tickets handed back instead of created because their client was over the limit. */
  reused: number;
  /** The last write error, until a write succeeds again. */
  error?: string;
  failedAt?: string;
};

/** The key one client's tickets count under. */
export function ticketClientKey(msg: Pick<IncomingMessage, 'channel' | 'userId' | 'client'>): string {
  return msg.client ? `${msg.channel}:client:${msg.client}` : `${msg.channel}:user:${msg.userId}`;
}

const RECENT_MAX = 10_000;
const RECENT_MS = 3600_000;

/** The guarded store. Pass it to the engine as its `tickets`, and its `notify` around `onTicket`. */
export class TicketGuard implements TicketStore {
  /** The message being handled, per conversation. */
  private readonly handling = new Map<string, IncomingMessage>();
  /** Each client's latest ticket id (bounded; only what a reuse needs). */
  private readonly recent = new Map<string, { id: string; at: number }>();
  private readonly reusedTickets = new WeakSet<Ticket>();
  private reused = 0;
  private failure?: { error: string; at: number };

  constructor(
    private readonly inner: TicketStore,
    private readonly limiter: RateLimiter | undefined,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notes the message every `engine.handle(msg)` works on, for `create()`. Returns the same engine. */
  wrapEngine<E extends Pick<DialogueEngine, 'handle'>>(engine: E): E {
    const handle = engine.handle.bind(engine);
    engine.handle = async (msg: IncomingMessage) => {
      const key = `${msg.channel}:${msg.conversationId}`;
      this.handling.set(key, msg);
      try {
        return await handle(msg);
      } finally {
        if (this.handling.get(key) === msg) this.handling.delete(key);
      }
    };
    return engine;
  }

  /** Wraps the staff notification so a reused ticket is not posted again. */
  notify(onTicket: (ticket: Ticket) => Promise<void>): (ticket: Ticket) => Promise<void> {
    return async (ticket) => {
      if (this.reusedTickets.has(ticket)) return;
      await onTicket(ticket);
    };
  }

  async create(t: NewTicket): Promise<Ticket> {
    const msg = this.handling.get(`${t.channel}:${t.conversationId}`);
    const key = msg ? ticketClientKey(msg) : `${t.channel}:conversation:${t.conversationId}`;
    if (this.limiter && (await this.limiter.hit(key))) {
      const last = this.recent.get(key);
      const ticket = last ? await this.inner.get(last.id) : undefined;
      if (ticket && (ticket.status === 'open' || ticket.status === 'answered')) {
        this.reused++;
        this.log?.warn({ ticket: ticket.id, kind: t.kind, channel: t.channel }, 'ticket limit reached for this client; its latest ticket is reused');
        const copy = { ...ticket };
        this.reusedTickets.add(copy);
        return copy;
      }
      // Its tickets were opened by another process, or staff are done with them: a new one, rather than none.
    }
    const ticket = await this.track(() => this.inner.create(t));
    this.remember(key, ticket.id);
    return ticket;
  }

  update(id: string, patch: TicketPatch): Promise<Ticket | undefined> {
    return this.track(() => this.inner.update(id, patch));
  }

  appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined> {
    return this.track(() => this.inner.appendMessage(id, message));
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

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** For `/healthz`: degraded while the last write failed. */
  health(): TicketHealth {
    if (!this.failure) return { ok: true, reused: this.reused };
    return { ok: false, reused: this.reused, error: this.failure.error, failedAt: new Date(this.failure.at).toISOString() };
  }

  private async track<T>(write: () => Promise<T>): Promise<T> {
    try {
      const r = await write();
      this.failure = undefined;
      return r;
    } catch (err) {
      this.failure = { error: err instanceof Error ? err.message : String(err), at: this.now() };
      this.log?.error({ err }, 'ticket could not be written');
      throw err;
    }
  }

  private remember(key: string, id: string): void {
    const t = this.now();
    this.recent.delete(key);
    this.recent.set(key, { id, at: t });
    for (const [k, v] of this.recent) {
      if (this.recent.size <= RECENT_MAX && v.at > t - RECENT_MS) break;
      this.recent.delete(k);
    }
  }
}
