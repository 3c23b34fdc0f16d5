/**
 * Hand-off and complaint tickets: what staff see and answer. A ticket carries the whole
 * conversation — the turns before the hand-off (`excerpt`) and every message written
 * after it (`messages`: the citizen's follow-ups, staff replies) — plus its outcome and
 * the times the dashboard reports (waiting, first staff reply).
 *
 * One small interface with three implementations that pass one conformance suite
 * (test/tickets-conformance.redis.test.ts): memory (tests, `ask`), SQLite (the embedded
 * default, `DATA_DIR/tickets.sqlite`, bot/handoff/sqlite-tickets.ts) and Redis (with
 * REDIS_URL, bot/handoff/redis-tickets.ts). Wrappers (events, rate limits) decorate it,
 * so keep it small and stable.
 */

export type TicketKind = 'handoff' | 'complaint';
export type TicketStatus = 'open' | 'answered' | 'released' | 'closed';

/** Statuses in which staff still own the ticket (the inbox shows these). */
export const ACTIVE_STATUSES: readonly TicketStatus[] = Object.freeze(['open', 'answered']);
export const TICKET_STATUSES: readonly TicketStatus[] = Object.freeze(['open', 'answered', 'released', 'closed']);
export const TICKET_KINDS: readonly TicketKind[] = Object.freeze(['handoff', 'complaint']);

/** One line of the conversation, personal data already redacted by whoever wrote it. */
export interface TicketMessage {
  from: 'citizen' | 'bot' | 'staff';
  text: string;
  at: number;
  /** Staff username for staff messages ("telegram:<name>" or a console account). */
  by?: string;
}

export interface Ticket {
  id: string;
  kind: TicketKind;
  status: TicketStatus;
  channel: string;
  conversationId: string;
  /** Masked display name or user id. */
  citizen: string;
  /** Why: "asked for a person", "not understood twice", complaint content. */
  reason: string;
  /** The turns before the hand-off, personal data redacted. */
  excerpt: TicketMessage[];
  /** Everything written after the hand-off, oldest first (at most `TICKET_LIMITS.messages`). */
  messages: TicketMessage[];
  /** Set on close: one of `TICKET_OUTCOMES`. */
  outcome?: TicketOutcome;
  /** Staff's note on close (redacted). */
  outcomeNote?: string;
  /** When staff first answered (the dashboard's "time to first staff reply"). */
  firstStaffReplyAt?: number;
  createdAt: number;
  updatedAt: number;
}

/** What the dialogue engine gives to open a ticket. */
export type NewTicket = Pick<Ticket, 'kind' | 'channel' | 'conversationId' | 'citizen' | 'reason' | 'excerpt'>;

/** What a status change may set. */
export interface TicketPatch {
  status?: TicketStatus;
  outcome?: TicketOutcome;
  outcomeNote?: string;
}

export interface TicketListFilter {
  status?: TicketStatus | readonly TicketStatus[];
  kind?: TicketKind;
  /** Only the newest `limit` matching tickets (still returned oldest first). */
  limit?: number;
}

export interface TicketStore {
  create(t: NewTicket): Promise<Ticket>;
  get(id: string): Promise<Ticket | undefined>;
  /** Matching tickets, oldest first (the inbox's "longest waiting first"). */
  list(filter?: TicketListFilter): Promise<Ticket[]>;
  update(id: string, patch: TicketPatch): Promise<Ticket | undefined>;
  /** Adds a message after the hand-off; the first staff message sets `firstStaffReplyAt`. */
  appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined>;
  /** The newest open or answered ticket of a conversation (a complaint's follow-up joins it). */
  findOpen(channel: string, conversationId: string): Promise<Ticket | undefined>;
  close?(): Promise<void>;
}

/** How staff close a ticket ("Đóng"), with the label they see. */
export const TICKET_OUTCOMES = Object.freeze({
  resolved: 'Đã giải quyết, trả lời xong',
  referred: 'Đã hướng dẫn tới cơ quan khác',
  'no-reply': 'Người dân không phản hồi',
  duplicate: 'Trùng với phiếu khác',
  spam: 'Tin rác, không có nội dung',
  other: 'Khác (xem ghi chú)',
});
export type TicketOutcome = keyof typeof TICKET_OUTCOMES;

/** True for a known outcome id. */
export function isTicketOutcome(v: unknown): v is TicketOutcome {
  return typeof v === 'string' && Object.hasOwn(TICKET_OUTCOMES, v);
}

/** Bounds that keep one ticket small whatever a citizen sends. */
export const TICKET_LIMITS = Object.freeze({ messages: 500, text: 2000, excerpt: 20, reason: 1000, note: 500 });

/** Ticket numbers staff can read over the phone: date + counter, e.g. PA-261126-0007. */
export function ticketId(kind: TicketKind, now: number, seq: number): string {
  return `${ticketIdPrefix(kind, now)}-${String(seq).padStart(4, '0')}`;
}

/** The part of a ticket number before the counter (`HT-261126`): counters restart every day. */
export function ticketIdPrefix(kind: TicketKind, now: number): string {
  const d = new Date(now + 7 * 3600_000); // Vietnam time for the date part
  const ymd = d.toISOString().slice(2, 10).replace(/-/g, '');
  return `${kind === 'complaint' ? 'PA' : 'HT'}-${ymd}`;
}

/** The conversation staff read: before the hand-off, then after it. */
export function conversationOf(t: Ticket): TicketMessage[] {
  return [...t.excerpt, ...t.messages];
}

/** How long the citizen has waited for a person (until the first staff reply, or now). */
export function waitingMs(t: Ticket, now: number): number {
  return Math.max(0, (t.firstStaffReplyAt ?? now) - t.createdAt);
}

/** A message cut to the ticket limits (stores call it so every backend keeps the same). */
export function boundedMessage(m: TicketMessage): TicketMessage {
  const out: TicketMessage = { from: m.from, text: String(m.text ?? '').slice(0, TICKET_LIMITS.text).toWellFormed(), at: Number(m.at) || 0 };
  if (m.by) out.by = String(m.by).slice(0, 80);
  return out;
}

/** A new ticket's fields cut to the limits. */
export function boundedNewTicket(t: NewTicket): NewTicket {
  return { ...t, reason: String(t.reason ?? '').slice(0, TICKET_LIMITS.reason).toWellFormed(), excerpt: (t.excerpt ?? []).slice(-TICKET_LIMITS.excerpt).map(boundedMessage) };
}

/** Named error: a ticket operation that cannot apply (unknown id, closed ticket). */
export class TicketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TicketError';
  }
}

function statusMatch(filter: TicketListFilter, status: TicketStatus): boolean {
  if (!filter.status) return true;
  return typeof filter.status === 'string' ? status === filter.status : filter.status.includes(status);
}

/** The filter applied to a list already in memory (memory store, Redis fallbacks). */
export function applyFilter(tickets: Ticket[], filter: TicketListFilter = {}): Ticket[] {
  const out = tickets.filter((t) => statusMatch(filter, t.status) && (!filter.kind || t.kind === filter.kind)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - Math.max(0, filter.limit)) : out;
}

/** Tickets in memory (tests, `ask`, the terminal chat). */
export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, Ticket>();
  private readonly seq = new Map<string, number>();
  private readonly maxMessages: number;

  constructor(
    private readonly now: () => number = Date.now,
    opts: { maxMessages?: number } = {},
  ) {
    this.maxMessages = opts.maxMessages ?? TICKET_LIMITS.messages;
  }

  async create(input: NewTicket): Promise<Ticket> {
    const t = boundedNewTicket(input);
    const at = this.now();
    const prefix = ticketIdPrefix(t.kind, at);
    const n = (this.seq.get(prefix) ?? 0) + 1;
    this.seq.set(prefix, n);
    const ticket: Ticket = { ...t, id: ticketId(t.kind, at, n), status: 'open', messages: [], createdAt: at, updatedAt: at };
    this.tickets.set(ticket.id, ticket);
    return structuredClone(ticket);
  }

  async update(id: string, patch: TicketPatch): Promise<Ticket | undefined> {
    const t = this.tickets.get(id);
    if (!t) return undefined;
    if (patch.status) t.status = patch.status;
    if (patch.outcome) t.outcome = patch.outcome;
    if (patch.outcomeNote !== undefined) t.outcomeNote = patch.outcomeNote.slice(0, TICKET_LIMITS.note);
    t.updatedAt = this.now();
    return structuredClone(t);
  }

  async appendMessage(id: string, message: TicketMessage): Promise<Ticket | undefined> {
    const t = this.tickets.get(id);
    if (!t) return undefined;
    const m = boundedMessage(message);
    t.messages.push(m);
    if (t.messages.length > this.maxMessages) t.messages.splice(0, t.messages.length - this.maxMessages);
    if (m.from === 'staff' && t.firstStaffReplyAt === undefined) t.firstStaffReplyAt = m.at;
    t.updatedAt = this.now();
    return structuredClone(t);
  }

  async get(id: string): Promise<Ticket | undefined> {
    const t = this.tickets.get(id);
    return t ? structuredClone(t) : undefined;
  }

  async list(filter: TicketListFilter = {}): Promise<Ticket[]> {
    return applyFilter([...this.tickets.values()], filter).map((t) => structuredClone(t));
  }

  async findOpen(channel: string, conversationId: string): Promise<Ticket | undefined> {
    let best: Ticket | undefined;
    for (const t of this.tickets.values()) {
      if (t.channel !== channel || t.conversationId !== conversationId || !ACTIVE_STATUSES.includes(t.status)) continue;
      if (!best || t.createdAt >= best.createdAt) best = t;
    }
    return best ? structuredClone(best) : undefined;
  }
}
