/**
 * What the chat page showed, so a reload shows it again: the citizen's messages and the
 * replies, in order, per browser session. The web server records into it (a decorated
 * outbox records every reply it hands out; the chat route records each new message) and
 * serves it on `GET /api/history?sessionId=…`; the page draws it before it starts
 * polling, from the cursor the history gives.
 *
 * Kept in memory, bounded per conversation and in total, and forgotten after the same
 * idle time as the outbox. Personal data in the citizen's own words are masked.
 */
import { redact } from '../../privacy.ts';
import type { Reply } from '../../dialogue/types.ts';

/** One bubble of the page. */
export type HistoryEntry = { from: 'citizen'; text: string } | { from: 'bot'; seq: number; reply: Reply };

/** Frozen defaults of the transcript's bounds. */
export const HISTORY_DEFAULTS = Object.freeze({
  /** Bubbles kept per conversation (the page restores the last ones). */
  perConversation: 30,
  /** Conversations kept (replies are the outbox's own objects, so a conversation costs its citizen texts). */
  conversations: 10_000,
  /** Idle time after which a conversation's history is forgotten. */
  idleMs: 6 * 3600_000,
  /** Longest citizen message kept (longer ones end in "…"). */
  textChars: 400,
});

/** The page's transcript, per conversation. */
export class WebHistory {
  private readonly convs = new Map<string, { entries: HistoryEntry[]; touched: number; messageIds: Set<string> }>();

  constructor(
    private readonly limits: typeof HISTORY_DEFAULTS = HISTORY_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A message the citizen sent (a retried POST with the same id is recorded once). */
  citizen(conversationId: string, messageId: string, text: string): void {
    const c = this.conv(conversationId);
    if (c.messageIds.has(messageId)) return;
    c.messageIds.add(messageId);
    if (c.messageIds.size > this.limits.perConversation * 2) c.messageIds.delete(c.messageIds.values().next().value as string);
    const t = text.length > this.limits.textChars ? `${text.slice(0, this.limits.textChars - 1)}…` : text;
    this.push(c, { from: 'citizen', text: redact(t) });
  }

  /** A reply the page will show (by the outbox's sequence number). */
  bot(conversationId: string, seq: number, reply: Reply): void {
    this.push(this.conv(conversationId), { from: 'bot', seq, reply });
  }

  /** The conversation's bubbles, oldest first (empty when forgotten). */
  entries(conversationId: string): HistoryEntry[] {
    const c = this.convs.get(conversationId);
    if (!c || c.touched <= this.now() - this.limits.idleMs) return [];
    return [...c.entries];
  }

  private conv(id: string): { entries: HistoryEntry[]; touched: number; messageIds: Set<string> } {
    const t = this.now();
    let c = this.convs.get(id);
    if (c) this.convs.delete(id);
    else c = { entries: [], touched: t, messageIds: new Set() };
    c.touched = t;
    this.convs.set(id, c); // Map order = least recently touched first
    for (const [old, x] of this.convs) {
      if (this.convs.size <= this.limits.conversations && x.touched > t - this.limits.idleMs) break;
      this.convs.delete(old);
    }
    return c;
  }

  private push(c: { entries: HistoryEntry[] }, e: HistoryEntry): void {
    c.entries.push(e);
    if (c.entries.length > this.limits.perConversation) c.entries.splice(0, c.entries.length - this.limits.perConversation);
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
