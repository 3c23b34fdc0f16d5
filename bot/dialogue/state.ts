/**
 * Conversation state and where it is kept. One small interface so the in-memory
 * store (embedded default) and the Redis store (scaled out) are interchangeable and
 * pass the same conformance tests.
 */
import type { Aspect } from '../../intents/data.ts';
import type { ReplyOption } from './types.ts';

export interface ConversationState {
  lastProcedure?: string;
  lastAspect?: Aspect;
  /** Options offered in the last reply, for "2" or a tap. */
  pendingOptions?: ReplyOption[];
  /** Procedure ids among the pending options (for partial-name answers). */
  pendingProcedures?: { ids: string[]; aspect: Aspect };
  /** What the assistant asked for and waits for. */
  awaiting?: 'dossierCode' | 'complaint' | 'phoneDigits';
  /** Code waiting for phone verification. */
  pendingDossierCode?: string;
  /** The citizen asked to follow the dossier whose code (or phone digits) we are waiting for. */
  pendingFollow?: boolean;
  /** Code whose phone digits were verified in this conversation (not asked again). */
  verifiedDossierCode?: string;
  /** The complaint ticket opened last: details sent soon after join it instead of opening another. */
  complaint?: { ticketId: string; until: number };
  /** Answers offered for rating, newest last: the rating button names one by `n`. */
  rateable?: { n: number; question: string }[];
  /** Procedures whose sources line this conversation has shown (afterwards a "Nguồn" option). */
  sourcesShown?: string[];
  /** Counter behind `rateable[].n`. */
  answers?: number;
  /** Consecutive messages the assistant could not understand. */
  failures: number;
  /** Set while staff handle the conversation: the bot stays quiet until then. */
  handoff?: { ticketId: string; until: number };
  /** Last few turns, for the hand-off excerpt staff see. */
  history: { from: 'citizen' | 'bot' | 'staff'; text: string; at: number }[];
  /** Channel details needed to reach the citizen later (staff replies, dossier pushes). */
  channel?: string;
  userId?: string;
  updatedAt: number;
}

/** A fresh state. */
export function emptyState(now: number): ConversationState {
  return { failures: 0, history: [], updatedAt: now };
}

/** Storage for conversation state, expiring idle conversations. */
export interface ConversationStore {
  get(conversationId: string): Promise<ConversationState | undefined>;
  /** Stores the state; it expires after `ttlMs` (or the store's default) without a new write. */
  set(conversationId: string, state: ConversationState, ttlMs?: number): Promise<void>;
  delete(conversationId: string): Promise<void>;
  close?(): Promise<void>;
}

/** In-process store with idle expiry (the embedded default). */
export class MemoryConversationStore implements ConversationStore {
  private readonly items = new Map<string, { state: ConversationState; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  async get(id: string): Promise<ConversationState | undefined> {
    const it = this.items.get(id);
    if (!it) return undefined;
    if (it.expires <= this.now()) {
      this.items.delete(id);
      return undefined;
    }
    return structuredClone(it.state);
  }

  async set(id: string, state: ConversationState, ttlMs?: number): Promise<void> {
    this.items.delete(id);
    this.items.set(id, { state: structuredClone(state), expires: this.now() + (ttlMs ?? this.ttlMs) });
    if (this.items.size > this.maxEntries) {
      // Drop the least recently written conversation (Map keeps insertion order).
      const oldest = this.items.keys().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }

  async delete(id: string): Promise<void> {
    this.items.delete(id);
  }
}
