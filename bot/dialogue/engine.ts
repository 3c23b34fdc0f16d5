/**
 * The dialogue engine: one incoming message → at most one reply, with conversation
 * state kept between messages. Channel-neutral; every channel, the queue worker, the
 * `ask` command and the terminal chat go through `handle()`.
 *
 * The engine only routes. What to answer lives in one module per concern (`answers`,
 * `dossiers`, `handoff`, `social`), each a `Feature` with the payloads, waits and
 * intents it handles — the way grammY apps add one Composer per feature.
 */
import { findMalformedCode } from '../../intents/entities.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill } from '../../knowledge/replies.ts';
import { redact } from '../privacy.ts';
import { answers } from './answers.ts';
import { siteValues } from './compose.ts';
import {
  DIALOGUE_DEFAULTS,
  plainTurn,
  type DialogueConfig,
  type DialogueDeps,
  type Feature,
  type Turn,
  type TurnContext,
} from './context.ts';
import { dossiers } from './dossiers.ts';
import { handoff } from './handoff.ts';
import { notUnderstood, social } from './social.ts';
import { emptyState, type ConversationState } from './state.ts';
import type { IncomingMessage, Reply } from './types.ts';

export { DIALOGUE_DEFAULTS, type DialogueConfig, type DialogueDeps, type FollowStore, type Logger, type ReviewSink, type Turn } from './context.ts';
export { formatDossier } from './dossiers.ts';

/** Turns kept in the conversation for the hand-off excerpt staff see. */
const HISTORY = 12;
const NUMBER_WORDS: Record<string, number> = { mot: 1, hai: 2, ba: 3, bon: 4, nam: 5, sau: 6 };
/** In routing order: a feature earlier in the list sees a claimed message first. */
const FEATURES: readonly Feature[] = [handoff, dossiers, answers, social];

export class DialogueEngine {
  private readonly cfg: DialogueConfig;
  private readonly now: () => number;

  constructor(private readonly deps: DialogueDeps) {
    this.cfg = { ...DIALOGUE_DEFAULTS, ...deps.config };
    this.now = deps.now ?? Date.now;
  }

  /** Handles one message. Never throws for bad input; infrastructure errors give the `error` reply. */
  async handle(msg: IncomingMessage): Promise<Turn> {
    const now = this.now();
    const state = (await this.deps.store.get(msg.conversationId)) ?? emptyState(now);
    state.channel = msg.channel;
    state.userId = msg.userId;
    let turn: Turn;
    try {
      turn = await this.route(msg, state, now);
    } catch (err) {
      this.deps.log?.error({ err, conversation: msg.conversationId, channel: msg.channel }, 'dialogue failed');
      turn = plainTurn(fill(this.k.replies.error, siteValues(this.k.site)), 'out_of_scope');
    }
    const text = typeof msg.text === 'string' ? msg.text : '';
    state.history.push({ from: 'citizen', text: redact(text.slice(0, 500), { names: [msg.userName] }), at: now });
    if (turn.reply) state.history.push({ from: 'bot', text: turn.reply.text.slice(0, 300), at: now });
    state.history = state.history.slice(-HISTORY);
    state.updatedAt = now;
    const ttl = Math.max(this.cfg.conversationTtlMs, (state.handoff?.until ?? 0) - now);
    await this.deps.store.set(msg.conversationId, state, ttl);
    return turn;
  }

  /** Staff answered in this conversation (Zalo self message, staff group reply): stay quiet. */
  async staffReplied(conversationId: string, text: string): Promise<void> {
    const now = this.now();
    const state = (await this.deps.store.get(conversationId)) ?? emptyState(now);
    state.handoff = { ticketId: state.handoff?.ticketId ?? 'staff', until: now + this.cfg.handoffQuietMs };
    state.history.push({ from: 'staff', text: redact(text.slice(0, 300)), at: now });
    state.history = state.history.slice(-HISTORY);
    await this.deps.store.set(conversationId, state, Math.max(this.cfg.conversationTtlMs, this.cfg.handoffQuietMs));
  }

  /** Staff hand the conversation back to the assistant. Returns the message to send, if any. */
  async release(conversationId: string): Promise<Reply | null> {
    const state = await this.deps.store.get(conversationId);
    if (!state?.handoff) return null;
    const ticketId = state.handoff.ticketId;
    delete state.handoff;
    state.failures = 0;
    await this.deps.store.set(conversationId, state);
    if (ticketId !== 'staff') await this.deps.tickets.update(ticketId, { status: 'released' });
    return { text: this.k.replies.handoffReleased, options: [], links: [] };
  }

  /** True while staff own the conversation. */
  async isHandedOff(conversationId: string): Promise<boolean> {
    const s = await this.deps.store.get(conversationId);
    return !!s?.handoff && s.handoff.until > this.now();
  }

  private get k(): Knowledge {
    return this.deps.knowledge();
  }

  private async route(msg: IncomingMessage, state: ConversationState, now: number): Promise<Turn> {
    const r = this.k.replies;
    const understander = this.deps.understander();

    // Staff own this conversation: record on the ticket, stay quiet.
    if (state.handoff && state.handoff.until > now) {
      const id = state.handoff.ticketId !== 'staff' ? state.handoff.ticketId : (await this.deps.tickets.findOpen(msg.channel, msg.conversationId))?.id;
      const said = msg.kind === 'text' ? redact(String(msg.text ?? '').slice(0, 2000)) : `[${msg.kind}]`;
      if (id) await this.deps.tickets.appendMessage(id, { from: 'citizen', text: said, at: now }).catch((err: unknown) => this.deps.log?.error({ err, ticket: id }, 'follow-up not added to the ticket'));
      const u = understander.understand(String(msg.text ?? ''), {});
      return { reply: null, intent: u.intent, procedure: u.procedure, faq: u.faq, dossierCode: u.dossierCode, confidence: u.confidence, alternatives: [] };
    }
    if (state.handoff) delete state.handoff;

    if (msg.kind !== 'text') return plainTurn(r.nonText, 'out_of_scope');
    let text = typeof msg.text === 'string' ? msg.text.toWellFormed().trim() : '';
    if (!text) return plainTurn(r.empty, 'out_of_scope');
    let prefix = '';
    if (text.length > this.cfg.maxTextLength) {
      text = text.slice(0, this.cfg.maxTextLength);
      prefix = `${r.tooLong}\n\n`;
    }
    const ctx: TurnContext = { msg, state, now, text, k: this.k, understander, deps: this.deps, cfg: this.cfg };

    // A tapped button or a numbered answer to the last options.
    const payload = text.startsWith('#') ? text : optionFor(text, state);
    if (payload && !payload.startsWith('#')) {
      // An option that stands for words ("theo dõi hồ sơ …"): answer as if they were typed.
      ctx.text = payload;
    } else if (payload) {
      const [kind = '', ...args] = payload.slice(1).split(':');
      for (const f of FEATURES) {
        const handler = f.payloads?.[kind];
        const t = handler ? await handler(args, ctx) : null;
        if (t) return t;
      }
    }

    // What the assistant asked for last time (complaint content, phone digits).
    const awaiting = state.awaiting;
    if (awaiting) {
      for (const f of FEATURES) {
        const handler = f.awaiting?.[awaiting];
        const t = handler ? await handler(ctx) : null;
        if (t) return t;
      }
    }

    let u = understander.understand(ctx.text, { lastProcedure: state.lastProcedure, lastAspect: state.lastAspect, pendingOptions: state.pendingProcedures });
    // A code-like answer the understanding cannot place: after we asked for a code, or
    // when nothing else fits, it is a malformed dossier code (told apart from "not found").
    if (!u.dossierCode && u.intent !== 'dossier.status') {
      const malformed = findMalformedCode(ctx.text);
      if (malformed && (state.awaiting === 'dossierCode' || (u.intent === 'out_of_scope' && /[.a-z]|\d{6}-\d/i.test(malformed)))) {
        u = { ...u, intent: 'dossier.status', malformedCode: malformed, procedure: null, faq: null, confidence: Math.max(u.confidence, 0.8) };
      }
    }
    if (state.awaiting === 'dossierCode' && u.intent !== 'dossier.status') {
      delete state.awaiting;
      delete state.pendingFollow;
    }
    const abusive = u.abuse === 'strong' || (u.abuse === 'weak' && u.intent === 'out_of_scope');
    delete state.pendingOptions;
    delete state.pendingProcedures;
    if (u.intent !== 'out_of_scope') state.failures = 0;

    let turn: Turn | null = null;
    for (const f of FEATURES) if (!turn && f.claim) turn = await f.claim(u, ctx);
    if (!turn) {
      const handler = FEATURES.map((f) => f.intents?.[u.intent]).find((h) => h !== undefined);
      turn = handler ? await handler(u, ctx) : null;
    }
    turn ??= await notUnderstood(u, ctx);

    if (abusive && (turn.intent === 'out_of_scope' || !turn.reply)) return { ...plainTurn(r.abuse, 'out_of_scope'), confidence: 0.9 };
    if (prefix && turn.reply) turn.reply.text = prefix + turn.reply.text;
    if (abusive && turn.reply) turn.reply.text = `${r.abuse}\n\n${turn.reply.text}`;
    return turn;
  }
}

/** The payload of the pending option a typed answer names ("2", "số 2", "hai"), or null. */
function optionFor(text: string, state: ConversationState): string | null {
  const opts = state.pendingOptions;
  if (!opts?.length) return null;
  const t = text.trim().toLowerCase().replace(/^(số|so|cái|cai|chọn|chon|mục|muc|thứ|thu)\s+/u, '').replace(/[.!)]+$/, '');
  const n = /^\d{1,2}$/.test(t) ? Number(t) : NUMBER_WORDS[t.normalize('NFD').replace(/[\u0300-\u036f]/g, '')];
  if (n && n >= 1 && n <= opts.length) return opts[n - 1]?.payload ?? null;
  return null;
}
