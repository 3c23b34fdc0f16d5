/**
 * Tickets in Redis (with REDIS_URL), shared by every `npm start` and `npm run worker`
 * process. Each field is its own hash field and each message a list item, so concurrent
 * writers never overwrite each other (no read-modify-write of a JSON blob):
 *
 *   <p>:ticket:<id>            hash: kind, status, channel, conversationId, citizen, reason,
 *                               excerpt (JSON), outcome, outcomeNote, firstStaffReplyAt, createdAt, updatedAt
 *   <p>:ticket:<id>:messages   list of JSON messages (RPUSH + LTRIM to the last TICKET_LIMITS.messages)
 *   <p>:tickets                zset id → createdAt (all tickets)
 *   <p>:tickets:s:<status>     zset id → createdAt, one per status
 *   <p>:tickets:c:<ch>:<conv>  zset id → createdAt (a conversation's tickets)
 *   <p>:tickets:n:<HT-yymmdd>  daily counter (INCR: ticket numbers unique across processes)
 *
 * Released and closed tickets expire after `keepClosedDays`, so Redis memory stays bounded;
 * index entries of expired tickets are dropped when a listing meets them.
 */
import type { Redis } from 'ioredis';
import {
  ACTIVE_STATUSES,
  boundedMessage,
  boundedNewTicket,
  isTicketOutcome,
  TICKET_LIMITS,
  TICKET_STATUSES,
  ticketId,
  ticketIdPrefix,
  type NewTicket,
  type Ticket,
  type TicketListFilter,
  type TicketMessage,
  type TicketPatch,
  type TicketStatus,
  type TicketStore,
} from './tickets.ts';

export interface RedisTicketStoreOptions {
  /** Key prefix (QUEUE_PREFIX in production, random in tests). */
  prefix: string;
  /** Days a released or closed ticket is kept (default 180). */
  keepClosedDays?: number;
  /** Messages kept per ticket (default TICKET_LIMITS.messages). */
  maxMessages?: number;
  now?: () => number;
}

/** `TicketStore` on Redis (see the module comment for the keys). */
export class RedisTicketStore implements TicketStore {
  private readonly p: string;
  private readonly keepMs: number;
  private readonly now: () => number;
  private readonly maxMessages: number;

  constructor(
    private readonly redis: Redis,
    opts: RedisTicketStoreOptions,
  ) {
    this.p = opts.prefix;
    this.keepMs = Math.max(1, opts.keepClosedDays ?? 180) * 86_400_000;
    this.now = opts.now ?? Date.now;
    this.maxMessages = opts.maxMessages ?? TICKET_LIMITS.messages;
  }

  private key(id: string): string {
    return `${this.p}:ticket:${id}`;
  }

  private convKey(channel: string, conversationId: string): string {
    return `${this.p}:tickets:c:${channel}:${conversationId}`;
  }

  async create(input: NewTicket): Promise<Ticket> {
    const t = boundedNewTicket(input);
    const at = this.now();
    const prefix = ticketIdPrefix(t.kind, at);
    const counterKey = `${this.p}:tickets:n:${prefix}`;
    const n = await this.redis.incr(counterKey);
    if (n === 1) await this.redis.pexpire(counterKey, 3 * 86_400_000);
    const ticket: Ticket = { ...t, id: ticketId(t.kind, at, n), status: 'open', messages: [], createdAt: at, updatedAt: at };
    await this.redis
      .multi()
      .hset(this.key(ticket.id), {
        kind: ticket.kind,
        status: ticket.status,
        channel: ticket.channel,
        conversationId: ticket.conversationId,
        citizen: ticket.citizen,
        reason: ticket.reason,
        excerpt: JSON.stringify(ticket.excerpt),
        createdAt: String(at),
        updatedAt: String(at),
      })
      .zadd(`${this.p}:tickets`, at, ticket.id)
      .zadd(`${this.p}:tickets:s:open`, at, ticket.id)
      .zadd(this.convKey(ticket.channel, ticket.conversationId), at, ticket.id)
      .pexpire(this.convKey(ticket.channel, ticket.conversationId), this.keepMs)
      .exec();
    return ticket;
  }

  async get(id: string): Promise<Ticket | undefined> {
    const [[, h], [, raw]] = (await this.redis.multi().hgetall(this.key(id)).lrange(`${this.key(id)}:messages`, 0, -1).exec()) as [[null, Record<string, string>], [null, string[]]];
    return this.parse(id, h, raw);
  }

  private parse(id: string, h: Record<string, string> | null, raw: string[]): Ticket | undefined {
    if (!h || !h.kind) return undefined;
    const json = <T>(s: string | undefined, fallback: T): T => {
      try {
        return s ? (JSON.parse(s) as T) : fallback;
      } catch {
        return fallback;
      }
    };
    const t: Ticket = {
      id,
      kind: h.kind === 'complaint' ? 'complaint' : 'handoff',
      status: (TICKET_STATUSES as readonly string[]).includes(h.status ?? '') ? (h.status as TicketStatus) : 'open',
      channel: h.channel ?? '',
      conversationId: h.conversationId ?? '',
      citizen: h.citizen ?? '',
      reason: h.reason ?? '',
      excerpt: json<TicketMessage[]>(h.excerpt, []),
      messages: raw.map((r) => json<TicketMessage | null>(r, null)).filter((m): m is TicketMessage => m !== null),
      createdAt: Number(h.createdAt) || 0,
      updatedAt: Number(h.updatedAt) || 0,
    };
    if (isTicketOutcome(h.outcome)) t.outcome = h.outcome;
    if (h.outcomeNote) t.outcomeNote = h.outcomeNote;
    if (h.firstStaffReplyAt) t.firstStaffReplyAt = Number(h.firstStaffReplyAt);
    return t;
  }

  async list(filter: TicketListFilter = {}): Promise<Ticket[]> {
    const statuses = filter.status === undefined ? undefined : typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    const indexes = statuses ? statuses.map((s) => `${this.p}:tickets:s:${s}`) : [`${this.p}:tickets`];
    // Newest first from each index up to the limit (kind is filtered after reading).
    const ids = new Map<string, number>();
    for (const index of indexes) {
      const flat = filter.limit !== undefined && !filter.kind ? await this.redis.zrevrange(index, 0, Math.max(0, filter.limit) - 1, 'WITHSCORES') : await this.redis.zrange(index, '0', '-1', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2) ids.set(flat[i] as string, Number(flat[i + 1]));
    }
    const ordered = [...ids.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([id]) => id);
    const out: Ticket[] = [];
    for (let i = 0; i < ordered.length; i += 200) {
      const chunk = ordered.slice(i, i + 200);
      const m = this.redis.multi();
      for (const id of chunk) m.hgetall(this.key(id)).lrange(`${this.key(id)}:messages`, 0, -1);
      const res = (await m.exec()) ?? [];
      const gone: string[] = [];
      chunk.forEach((id, j) => {
        const t = this.parse(id, res[2 * j]?.[1] as Record<string, string>, (res[2 * j + 1]?.[1] as string[]) ?? []);
        if (!t) gone.push(id);
        else if ((!statuses || statuses.includes(t.status)) && (!filter.kind || t.kind === filter.kind)) out.push(t);
      });
      if (gone.length) await this.dropIndexes(gone);
    }
    return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - Math.max(0, filter.limit)) : out;
  }

  /** Removes expired tickets from the listing indexes. */
  private async dropIndexes(ids: string[]): Promise<void> {
    const m = this.redis.multi().zrem(`${this.p}:tickets`, ...ids);
    for (const s of TICKET_STATUSES) m.zrem(`${this.p}:tickets:s:${s}`, ...ids);
    await m.exec();
  }

  async update(id: string, patch: TicketPatch): Promise<Ticket | undefined> {
    const key = this.key(id);
    const created = await this.redis.hget(key, 'createdAt');
    if (created === null) return undefined;
    const fields: Record<string, string> = { updatedAt: String(this.now()) };
    if (patch.outcome) fields.outcome = patch.outcome;
    if (patch.outcomeNote !== undefined) fields.outcomeNote = patch.outcomeNote.slice(0, TICKET_LIMITS.note);
    const m = this.redis.multi();
    if (patch.status) {
      fields.status = patch.status;
      for (const s of TICKET_STATUSES) if (s !== patch.status) m.zrem(`${this.p}:tickets:s:${s}`, id);
      m.zadd(`${this.p}:tickets:s:${patch.status}`, Number(created), id);
    }
    m.hset(key, fields);
    if (patch.status && !ACTIVE_STATUSES.includes(patch.status)) m.pexpire(key, this.keepMs).pexpire(`${key}:messages`, this.keepMs);
    else if (patch.status) m.persist(key).persist(`${key}:messages`);
    await m.exec();
    return this.get(id);
  }

  async appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined> {
    const key = this.key(id);
    const ttl = await this.redis.pttl(key);
    if (ttl === -2) return undefined; // no such ticket
    const msg = boundedMessage(message);
    const m = this.redis.multi().rpush(`${key}:messages`, JSON.stringify(msg)).ltrim(`${key}:messages`, -this.maxMessages, -1).hset(key, 'updatedAt', String(this.now()));
    if (msg.from === 'staff') m.hsetnx(key, 'firstStaffReplyAt', String(msg.at));
    // A message on a ticket that was set to expire keeps the same expiry on its list.
    if (ttl > 0) m.pexpire(`${key}:messages`, ttl);
    await m.exec();
    return this.get(id);
  }

  async findOpen(channel: string, conversationId: string): Promise<Ticket | undefined> {
    const ids = await this.redis.zrevrange(this.convKey(channel, conversationId), 0, 9);
    for (const id of ids) {
      const t = await this.get(id);
      if (t && ACTIVE_STATUSES.includes(t.status)) return t;
    }
    return undefined;
  }
}
