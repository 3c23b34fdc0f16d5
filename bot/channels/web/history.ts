/**
 * What the chat page showed, so a reload shows it again: the citizen's messages and the
 * replies, in order, per browser session. The web server records into it (a decorated
 * outbox records every reply it hands out; the chat route records each new message) and
 * serves it on `GET /api/history?sessionId=…`; the page draws it before it starts
 * polling, from the cursor the history gives.
 *
 * Kept in memory, bounded per conversation, in total count and bytes, and forgotten after
 * the same idle time as the outbox. Replies are kept as UTF-8 JSON (a third of the memory
 * of live objects, and no longer tied to the outbox's objects, which are dropped once
 * shown). Personal data in the citizen's own words are masked.
 */
import { redact } from '../../privacy.ts';
import type { Reply } from '../../dialogue/types.ts';

/** One bubble of the page. */
export type HistoryEntry = { from: 'citizen'; text: string } | { from: 'bot'; seq: number; reply: Reply };

/** Frozen defaults of the transcript's bounds. */
export const HISTORY_DEFAULTS = Object.freeze({
  /** Bubbles kept per conversation (the page restores the last ones). */
  perConversation: 30,
  /** Conversations kept. */
  conversations: 10_000,
  /** Most bytes kept for all conversations together; the least recently active go first. */
  maxBytes: 16 * 2 ** 20,
  /** Idle time after which a conversation's history is forgotten. */
  idleMs: 6 * 3600_000,
  /** Longest citizen message kept (longer ones end in "…"). */
  textChars: 400,
});

/** How an entry is kept: a reply as its JSON bytes. */
type StoredEntry = { from: 'citizen'; text: string } | { from: 'bot'; seq: number; json: Buffer };
/** `messageIds`: the latest few, oldest first (an array: a few strings cost less than a Set). */
type StoredConversation = { entries: StoredEntry[]; touched: number; messageIds: string[]; bytes: number };

function entryBytes(e: StoredEntry): number {
  return 48 + (e.from === 'citizen' ? 2 * e.text.length : e.json.length);
}

/** The page's transcript, per conversation. */
export class WebHistory {
  private readonly convs = new Map<string, StoredConversation>();
  private bytes = 0;

  constructor(
    private readonly limits: typeof HISTORY_DEFAULTS = HISTORY_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A message the citizen sent (a retried POST with the same id is recorded once). */
  citizen(conversationId: string, messageId: string, text: string): void {
    const c = this.conv(conversationId);
    if (c.messageIds.includes(messageId)) return;
    c.messageIds.push(messageId);
    if (c.messageIds.length > this.limits.perConversation * 2) c.messageIds.shift();
    const t = text.length > this.limits.textChars ? `${text.slice(0, this.limits.textChars - 1)}…` : text;
    this.push(conversationId, c, { from: 'citizen', text: redact(t) });
  }

  /** A reply the page will show (by the outbox's sequence number). */
  bot(conversationId: string, seq: number, reply: Reply): void {
    const text = JSON.stringify(reply);
    const json = Buffer.allocUnsafeSlow(Buffer.byteLength(text)); // its own memory, not a slice of a shared 8 KB pool
    json.write(text);
    this.push(conversationId, this.conv(conversationId), { from: 'bot', seq, json });
  }

  /** The conversation's bubbles, oldest first (empty when forgotten). */
  entries(conversationId: string): HistoryEntry[] {
    const c = this.convs.get(conversationId);
    if (!c || c.touched <= this.now() - this.limits.idleMs) return [];
    return c.entries.map((e) => (e.from === 'citizen' ? e : { from: 'bot', seq: e.seq, reply: JSON.parse(e.json.toString('utf8')) as Reply }));
  }

  /** Forgets conversations idle past the idle time (the web server runs it on a timer). */
  sweep(): void {
    this.evict('');
  }

  /** Conversations and bytes held now (tests, the memory benchmark). */
  get size(): { conversations: number; bytes: number } {
    return { conversations: this.convs.size, bytes: this.bytes };
  }

  private conv(id: string): StoredConversation {
    const t = this.now();
    let c = this.convs.get(id);
    if (c) this.convs.delete(id);
    else c = { entries: [], touched: t, messageIds: [], bytes: 0 };
    c.touched = t;
    this.convs.set(id, c); // Map order = least recently touched first
    this.evict(id);
    return c;
  }

  private push(id: string, c: StoredConversation, e: StoredEntry): void {
    c.entries.push(e);
    let added = entryBytes(e);
    while (c.entries.length > this.limits.perConversation) added -= entryBytes(c.entries.shift() as StoredEntry);
    c.bytes += added;
    this.bytes += added;
    this.evict(id);
  }

  /** Past the count, the byte budget or the idle time, the least recently active conversations go. */
  private evict(keep: string): void {
    const t = this.now();
    for (const [old, x] of this.convs) {
      if (old === keep || (this.convs.size <= this.limits.conversations && this.bytes <= this.limits.maxBytes && x.touched > t - this.limits.idleMs)) break;
      this.convs.delete(old);
      this.bytes -= x.bytes;
    }
  }
}

/** The part of an outbox the history needs to wrap. */
interface AppendingOutbox {
  append(conversationId: string, reply: Reply): Promise<number>;
}

/** The outbox, recording every reply it appends into the history (same object, `append` wrapped). */
export function recordReplies<O extends AppendingOutbox>(outbox: O, history: WebHistory): O {
  const append = outbox.append.bind(outbox);
  outbox.append = async (conversationId: string, reply: Reply) => {
    const seq = await append(conversationId, reply);
    history.bot(conversationId, seq, reply);
    return seq;
  };
  return outbox;
}

/**
 * The body of `GET /api/history`: the bubbles, each reply rendered as the page receives
 * it (`toWeb`), and the cursor of the last reply so the long poll starts after it.
 */
export function historyBody<W>(
  history: WebHistory,
  conversationId: string,
  cursor: { epoch: string; lastSeq: number },
  toWeb: (seq: number, reply: Reply) => W,
): { items: ({ from: 'citizen'; text: string } | { from: 'bot'; reply: W })[]; cursor: string } {
  const items = history.entries(conversationId).map((e) => (e.from === 'citizen' ? e : { from: 'bot' as const, reply: toWeb(e.seq, e.reply) }));
  return { items, cursor: `${cursor.epoch}.${cursor.lastSeq}` };
}
