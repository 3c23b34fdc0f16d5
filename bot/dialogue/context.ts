/**
 * What every dialogue feature shares: the engine's dependencies and settings, the
 * `Turn` one message produces, the per-message `TurnContext`, and the `Feature` shape
 * (one module per concern, the way grammY apps add one Composer per feature). The
 * engine (`engine.ts`) routes; `answers.ts`, `dossiers.ts`, `handoff.ts` and `social.ts`
 * answer.
 */
import type { IntentId } from '../../intents/data.ts';
import type { Understander, Understanding } from '../../intents/understand.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import type { DossierStatusProvider } from '../dossier/types.ts';
import type { Ticket, TicketStore } from '../handoff/tickets.ts';
import type { RateLimiter } from '../ratelimit.ts';
import type { ConversationState, ConversationStore } from './state.ts';
import type { IncomingMessage, Reply, ReplyOption } from './types.ts';

/** Minimal logger shape (pino satisfies it). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Subscriptions to dossier status changes ("theo dõi hồ sơ"). */
export interface FollowStore {
  subscribe(sub: { code: string; conversationId: string; channel: string; userId: string; lastStatus: string }): Promise<void>;
  unsubscribe(conversationId: string, code?: string): Promise<string[]>;
}

/** Where unmatched, low-confidence and unhelpful-rated messages go for staff review. */
export interface ReviewSink {
  record(item: { text: string; intent: string; procedure: string | null; faq?: string | null; confidence: number; reason: 'unmatched' | 'low-confidence' | 'clarify' | 'unhelpful'; channel: string; at: number }): void;
}

/** Tunables of the dialogue, from `bot/config.ts`. */
export interface DialogueConfig {
  /** Idle time after which a conversation is forgotten. */
  conversationTtlMs: number;
  /** How long the bot stays quiet after a hand-off or a staff reply. */
  handoffQuietMs: number;
  /** Ask for the last 4 phone digits before showing dossier details. */
  verifyPhone: boolean;
  /** Channels where a one-tap rating follows procedure and FAQ answers. */
  ratingChannels: ReadonlySet<string>;
  /** Longer messages are cut (with a note) before understanding. */
  maxTextLength: number;
  /** Failed understandings in a row before an automatic hand-off. */
  failuresBeforeHandoff: number;
}

/** Frozen defaults (tests and `ask` override a few). */
export const DIALOGUE_DEFAULTS: DialogueConfig = Object.freeze({
  conversationTtlMs: 60 * 60_000,
  handoffQuietMs: 30 * 60_000,
  verifyPhone: false,
  ratingChannels: new Set(['web', 'telegram']),
  maxTextLength: 2000,
  failuresBeforeHandoff: 2,
});

/** Everything the dialogue needs from outside; `bot/assistant.ts` builds it. */
export interface DialogueDeps {
  knowledge: () => Knowledge;
  understander: () => Understander;
  store: ConversationStore;
  tickets: TicketStore;
  dossiers: DossierStatusProvider;
  /** Per-user dossier lookup limit. */
  userLookups: RateLimiter;
  /** Global dossier lookup limit. */
  globalLookups: RateLimiter;
  /** Phone-digit attempts per dossier code (DOSSIER_VERIFY_PHONE); see bot/dossier/access.ts. */
  verifyAttempts?: RateLimiter;
  follows?: FollowStore;
  review?: ReviewSink;
  /** Called for every new ticket (staff group notification). */
  onTicket?: (ticket: Ticket) => Promise<void>;
  log?: Logger;
  now?: () => number;
  config?: Partial<DialogueConfig>;
}

/** What one message produced: the reply (null = stay quiet) and how it was understood. */
export interface Turn {
  reply: Reply | null;
  intent: IntentId;
  procedure: string | null;
  faq: string | null;
  dossierCode: string | null;
  confidence: number;
  alternatives: { procedure: string; score: number }[];
  ticket?: Ticket;
}

/** One message being answered: the message, its conversation and the services. */
export interface TurnContext {
  readonly msg: IncomingMessage;
  readonly state: ConversationState;
  readonly now: number;
  /** The message text as understood (trimmed, cut to the limit, or an option's words). */
  text: string;
  readonly k: Knowledge;
  readonly understander: Understander;
  readonly deps: DialogueDeps;
  readonly cfg: DialogueConfig;
}

/** Answers a tapped button (`#kind:a:b`), given the parts after the kind. Null: not ours after all. */
export type PayloadHandler = (args: string[], ctx: TurnContext) => Promise<Turn | null>;
/** Resolves what the assistant was waiting for. Null: the message is about something else; route it normally. */
export type AwaitingHandler = (ctx: TurnContext) => Promise<Turn | null>;
/** Answers an understood message. Null: it cannot after all (the message counts as not understood). */
export type IntentHandler = (u: Understanding, ctx: TurnContext) => Promise<Turn | null>;

/** What the assistant can be waiting for between two messages. */
export type Awaiting = NonNullable<ConversationState['awaiting']>;

/**
 * One concern of the dialogue. The engine asks features in order: payloads by kind,
 * then what the conversation is waiting for, then `claim` (a feature in the middle of
 * something takes the message first), then the intent.
 */
export interface Feature {
  readonly name: string;
  readonly payloads?: Readonly<Record<string, PayloadHandler>>;
  readonly awaiting?: Readonly<Partial<Record<Awaiting, AwaitingHandler>>>;
  readonly claim?: IntentHandler;
  readonly intents?: Readonly<Partial<Record<IntentId, IntentHandler>>>;
}

/** A turn with no procedure, FAQ or dossier and full confidence (replies the assistant chose itself). */
export function plainTurn(text: string, intent: IntentId, options: ReplyOption[] = []): Turn {
  return { reply: { text, options, links: [] }, intent, procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [] };
}

/** The understanding's labels, to spread into a turn. */
export function understood(u: Understanding): Omit<Turn, 'reply'> {
  return { intent: u.intent, procedure: u.procedure, faq: u.faq, dossierCode: u.dossierCode, confidence: u.confidence, alternatives: u.alternatives };
}

/** Shorthand for a text reply without links. */
export function textReply(text: string, options: ReplyOption[] = []): Reply {
  return { text, options, links: [] };
}
