/**
 * Hand-off and complaint tickets: what staff see and answer. Stored in a JSON-lines
 * file by default (listable with `npm run handoffs`), in memory for tests.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type TicketKind = 'handoff' | 'complaint';
export type TicketStatus = 'open' | 'answered' | 'released' | 'closed';

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
  /** Recent turns, personal data redacted. */
  excerpt: { from: string; text: string; at: number }[];
  createdAt: number;
  updatedAt: number;
}

export interface TicketStore {
  create(t: Omit<Ticket, 'id' | 'createdAt' | 'updatedAt' | 'status'>): Promise<Ticket>;
  update(id: string, patch: Partial<Pick<Ticket, 'status'>>): Promise<Ticket | undefined>;
  /** Adds a later message to the ticket's excerpt (complaint details sent after it was opened). */
  append(id: string, entry: Ticket['excerpt'][number]): Promise<Ticket | undefined>;
  get(id: string): Promise<Ticket | undefined>;
  list(filter?: { status?: TicketStatus; kind?: TicketKind }): Promise<Ticket[]>;
}

/** Ticket numbers staff can read over the phone: date + counter, e.g. PA-261126-0007. */
export function ticketId(kind: TicketKind, now: number, seq: number): string {
  const d = new Date(now + 7 * 3600_000); // Vietnam time for the date part
  const ymd = d.toISOString().slice(2, 10).replace(/-/g, '');
  return `${kind === 'complaint' ? 'PA' : 'HT'}-${ymd}-${String(seq).padStart(4, '0')}`;
}

/** Tickets in memory (tests, and as the cache of the file store). */
export class MemoryTicketStore implements TicketStore {
  protected readonly tickets = new Map<string, Ticket>();
  protected seq = 0;

  constructor(protected readonly now: () => number = Date.now) {}

  async create(t: Omit<Ticket, 'id' | 'createdAt' | 'updatedAt' | 'status'>): Promise<Ticket> {
    const at = this.now();
    const ticket: Ticket = { ...t, id: ticketId(t.kind, at, ++this.seq), status: 'open', createdAt: at, updatedAt: at };
    this.tickets.set(ticket.id, ticket);
    this.persist(ticket);
    return ticket;
  }

  async update(id: string, patch: Partial<Pick<Ticket, 'status'>>): Promise<Ticket | undefined> {
    const t = this.tickets.get(id);
    if (!t) return undefined;
    Object.assign(t, patch, { updatedAt: this.now() });
    this.persist(t);
    return t;
  }

  async append(id: string, entry: Ticket['excerpt'][number]): Promise<Ticket | undefined> {
    const t = this.tickets.get(id);
    if (!t) return undefined;
    t.excerpt = [...t.excerpt, entry];
    t.updatedAt = this.now();
    this.persist(t);
    return t;
  }

  async get(id: string): Promise<Ticket | undefined> {
    return this.tickets.get(id);
  }

  async list(filter: { status?: TicketStatus; kind?: TicketKind } = {}): Promise<Ticket[]> {
    return [...this.tickets.values()].filter((t) => (!filter.status || t.status === filter.status) && (!filter.kind || t.kind === filter.kind));
  }

  protected persist(_t: Ticket): void {}
}

/** Appends every ticket version to a JSON-lines file; the last line per id wins. */
export class FileTicketStore extends MemoryTicketStore {
  constructor(
    private readonly path: string,
    now: () => number = Date.now,
  ) {
    super(now);
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const t = JSON.parse(line) as Ticket;
          this.tickets.set(t.id, t);
        } catch {
          // A torn last line after a crash: skip it, keep the rest.
        }
      }
      this.seq = this.tickets.size;
    }
  }

  protected override persist(t: Ticket): void {
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${JSON.stringify(t)}\n`, { mode: 0o600 });
  }
}
