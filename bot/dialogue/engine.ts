/**
 * The dialogue engine: one incoming message → at most one reply, with conversation
 * state kept between messages. Channel-neutral; every channel, the queue worker, the
 * `ask` command and the terminal chat go through `handle()`.
 */
import type { Aspect, IntentId } from '../../intents/data.ts';
import { findDossierCode, findMalformedCode } from '../../intents/entities.ts';
import { fold } from '../../intents/normalize.ts';
import type { Understander, Understanding } from '../../intents/understand.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill } from '../../knowledge/replies.ts';
import type { Procedure } from '../../knowledge/schema.ts';
import { NEXT_STEP, DossierUnavailableError, overdueDays, type DossierRecord, type DossierStatusProvider } from '../dossier/types.ts';
import type { Ticket, TicketKind, TicketStore } from '../handoff/tickets.ts';
import { maskName, maskUserId, redact } from '../privacy.ts';
import type { RateLimiter } from '../ratelimit.ts';
import { aspectPayload, composeFaq, composeProcedure, siteValues, viDate } from './compose.ts';
import { isOpen, nextOpening } from './hours.ts';
import { emptyState, type ConversationState, type ConversationStore } from './state.ts';
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
  record(item: { text: string; intent: string; procedure: string | null; confidence: number; reason: 'unmatched' | 'low-confidence' | 'clarify' | 'unhelpful'; channel: string; at: number }): void;
}

export interface DialogueConfig {
  /** Idle time after which a conversation is forgotten. */
  conversationTtlMs: number;
  /** How long the bot stays quiet after a hand-off or a staff reply. */
  handoffQuietMs: number;
  /** Ask for the last 4 phone digits before showing dossier details. */
  verifyPhone: boolean;
  /** Channels where a one-tap rating follows procedure answers. */
  ratingChannels: ReadonlySet<string>;
  /** Longer messages are cut (with a note) before understanding. */
  maxTextLength: number;
  /** Failed understandings in a row before an automatic hand-off. */
  failuresBeforeHandoff: number;
}

export const DIALOGUE_DEFAULTS: DialogueConfig = Object.freeze({
  conversationTtlMs: 60 * 60_000,
  handoffQuietMs: 30 * 60_000,
  verifyPhone: false,
  ratingChannels: new Set(['web', 'telegram']),
  maxTextLength: 2000,
  failuresBeforeHandoff: 2,
});

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

const HISTORY = 12;
const ASPECT_SET = new Set<string>(['procedure.overview', 'procedure.steps', 'procedure.documents', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online']);
const NUMBER_WORDS: Record<string, number> = { mot: 1, hai: 2, ba: 3, bon: 4, nam: 5, sau: 6 };

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
      turn = this.plain(fill(this.k.replies.error, siteValues(this.k.site)), 'out_of_scope');
    }
    const text = typeof msg.text === 'string' ? msg.text : '';
    state.history.push({ from: 'citizen', text: redact(text.slice(0, 500)), at: now });
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

  private plain(text: string, intent: IntentId, options: ReplyOption[] = []): Turn {
    return { reply: { text, options, links: [] }, intent, procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [] };
  }

  private procedure(id: string | null | undefined): Procedure | undefined {
    return id ? this.deps.understander().procedures.get(id) : undefined;
  }

  private async route(msg: IncomingMessage, state: ConversationState, now: number): Promise<Turn> {
    const k = this.k;
    const r = k.replies;

    // Staff own this conversation: record, stay quiet.
    if (state.handoff && state.handoff.until > now) {
      const u = this.deps.understander().understand(String(msg.text ?? ''), {});
      return { reply: null, intent: u.intent, procedure: u.procedure, faq: u.faq, dossierCode: u.dossierCode, confidence: u.confidence, alternatives: [] };
    }
    if (state.handoff) delete state.handoff;

    if (msg.kind !== 'text') return this.plain(r.nonText, 'out_of_scope');
    let text = typeof msg.text === 'string' ? msg.text.toWellFormed().trim() : '';
    if (!text) return this.plain(r.empty, 'out_of_scope');
    let prefix = '';
    if (text.length > this.cfg.maxTextLength) {
      text = text.slice(0, this.cfg.maxTextLength);
      prefix = `${r.tooLong}\n\n`;
    }

    // A tapped button or a numbered answer to the last options.
    const payload = text.startsWith('#') ? text : this.optionFor(text, state);
    if (payload && !payload.startsWith('#')) {
      // An option that stands for words ("theo dõi hồ sơ …"): answer as if they were typed.
      text = payload;
    } else if (payload) {
      const t = await this.payload(payload, msg, state);
      if (t) return t;
    }

    // Waiting for complaint content.
    if (state.awaiting === 'complaint') {
      delete state.awaiting;
      const u0 = this.deps.understander().understand(text, {});
      const isOtherQuestion = u0.procedure && u0.confidence >= 0.6 && text.split(/\s+/).length <= 8;
      if (!isOtherQuestion) return this.complaint(msg, state, text, now);
    }
    if (state.awaiting === 'phoneDigits' && state.pendingDossierCode) {
      const code = state.pendingDossierCode;
      const follow = !!state.pendingFollow;
      const digits = verificationDigits(text);
      // Only digits but not four of them: ask again (a wrong guess is not spent on a typo).
      if (!digits && /^[\d\s.+-]+$/.test(text)) return { ...this.plain(fill(r.dossierVerifyPhone, { code }), 'dossier.status'), dossierCode: code, confidence: 0.9 };
      // Either way the wait ends: one try per lookup, or the citizen moved on to something else.
      delete state.awaiting;
      delete state.pendingDossierCode;
      delete state.pendingFollow;
      if (digits) return this.dossierDetails(msg, state, code, digits, follow);
    }

    const ctx = {
      lastProcedure: state.lastProcedure,
      lastAspect: state.lastAspect,
      pendingOptions: state.pendingProcedures,
    };
    let u = this.deps.understander().understand(text, ctx);
    // A code-like answer the understanding cannot place: after we asked for a code, or
    // when nothing else fits, it is a malformed dossier code (told apart from "not found").
    if (!u.dossierCode && u.intent !== 'dossier.status') {
      const malformed = findMalformedCode(text);
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

    const turn = await this.answer(u, msg, state, text, now);
    if (abusive && (turn.intent === 'out_of_scope' || !turn.reply)) return { ...this.plain(r.abuse, 'out_of_scope'), confidence: 0.9 };
    if (prefix && turn.reply) turn.reply.text = prefix + turn.reply.text;
    if (abusive && turn.reply) turn.reply.text = `${r.abuse}\n\n${turn.reply.text}`;
    return turn;
  }

  private optionFor(text: string, state: ConversationState): string | null {
    const opts = state.pendingOptions;
    if (!opts?.length) return null;
    const t = text.trim().toLowerCase().replace(/^(số|so|cái|cai|chọn|chon|mục|muc|thứ|thu)\s+/u, '').replace(/[.!)]+$/, '');
    const n = /^\d{1,2}$/.test(t) ? Number(t) : NUMBER_WORDS[t.normalize('NFD').replace(/[\u0300-\u036f]/g, '')];
    if (n && n >= 1 && n <= opts.length) return opts[n - 1]?.payload ?? null;
    return null;
  }

  private async payload(p: string, msg: IncomingMessage, state: ConversationState): Promise<Turn | null> {
    const [kind, a, b] = p.slice(1).split(':');
    if (kind === 'p' && a && b && ASPECT_SET.has(b)) {
      const proc = this.procedure(a);
      if (!proc) return null;
      return this.procedureTurn(proc, b as Aspect, msg, state, { confidence: 1, alternatives: [] });
    }
    if (kind === 'f' && a) {
      const faq = this.deps.understander().faqs.get(a);
      if (!faq) return null;
      return { reply: composeFaq(this.k, faq), intent: 'faq', procedure: null, faq: faq.id, dossierCode: null, confidence: 1, alternatives: [] };
    }
    if (kind === 'h') return this.handoff(msg, state, 'Công dân chọn gặp cán bộ', this.now());
    if (kind === 'r' && (a === '1' || a === '0')) {
      if (a === '0') {
        const last = [...state.history].reverse().find((h) => h.from === 'citizen');
        this.deps.review?.record({ text: last?.text ?? '', intent: String(b ?? ''), procedure: state.lastProcedure ?? null, confidence: 1, reason: 'unhelpful', channel: msg.channel, at: this.now() });
      }
      this.deps.log?.info({ rating: a === '1' ? 'helpful' : 'unhelpful', procedure: state.lastProcedure, channel: msg.channel }, 'rating');
      return this.plain(this.k.replies.ratingThanks, 'thanks');
    }
    if (kind === 'help') return this.plain(fill(this.k.replies.help, siteValues(this.k.site)), 'greeting');
    return null;
  }

  private async answer(u: Understanding, msg: IncomingMessage, state: ConversationState, text: string, now: number): Promise<Turn> {
    const k = this.k;
    const r = k.replies;
    const site = siteValues(k.site);
    const base = { intent: u.intent, procedure: u.procedure, faq: u.faq, dossierCode: u.dossierCode, confidence: u.confidence, alternatives: u.alternatives };
    const understood = u.intent !== 'out_of_scope';
    if (understood) state.failures = 0;

    switch (u.intent) {
      case 'greeting':
        return { ...base, reply: { text: fill(r.greeting, site), options: this.starterOptions(), links: [] } };
      case 'thanks':
        return { ...base, reply: { text: r.thanks, options: [], links: [] } };
      case 'faq': {
        const faq = u.faq ? this.deps.understander().faqs.get(u.faq) : undefined;
        if (!faq) break;
        return { ...base, reply: composeFaq(k, faq) };
      }
      case 'dossier.status':
        return this.dossier(u, msg, state, text);
      case 'handoff':
        return { ...(await this.handoff(msg, state, 'Công dân yêu cầu gặp cán bộ', now)), ...base };
      case 'feedback': {
        // A complaint with substance is taken as it is; a bare "phản ánh" asks for content.
        const substantive = u.tokens.length >= 8;
        if (substantive) return { ...(await this.complaint(msg, state, text, now)), ...base };
        state.awaiting = 'complaint';
        return { ...base, reply: { text: r.complaintAsk, options: [], links: [] } };
      }
      case 'out_of_scope':
        break;
      default: {
        const aspect = u.intent as Aspect;
        const proc = this.procedure(u.procedure);
        if (proc && u.clarify && u.alternatives.length > 1) {
          const options = u.alternatives.map((a) => ({ label: this.procedure(a.procedure)?.name ?? a.procedure, payload: aspectPayload(a.procedure, aspect) }));
          state.pendingOptions = options;
          state.pendingProcedures = { ids: u.alternatives.map((a) => a.procedure), aspect };
          this.deps.review?.record({ text: redact(text), intent: u.intent, procedure: u.procedure, confidence: u.confidence, reason: 'clarify', channel: msg.channel, at: now });
          return { ...base, reply: { text: `${r.clarify}\n${options.map((o, i) => `${i + 1}. ${o.label}`).join('\n')}\n${r.clarifyFooter}`, options, links: [] } };
        }
        if (proc) {
          if (u.confidence < 0.45) this.deps.review?.record({ text: redact(text), intent: u.intent, procedure: u.procedure, confidence: u.confidence, reason: 'low-confidence', channel: msg.channel, at: now });
          return this.procedureTurn(proc, aspect, msg, state, base, u.entities.channel);
        }
        // An aspect without a procedure and nothing in the conversation: ask which one.
        const options = this.starterOptions(aspect);
        state.pendingOptions = options;
        return { ...base, reply: { text: fill(r.askProcedure, { aspect: r.labels[aspect].toLowerCase() }), options, links: [] } };
      }
    }

    // Not understood.
    const gibberish = u.confidence <= 0.5;
    this.deps.review?.record({ text: redact(text), intent: u.intent, procedure: null, confidence: u.confidence, reason: 'unmatched', channel: msg.channel, at: now });
    if (u.intent === 'out_of_scope' && !gibberish) {
      return { ...base, reply: { text: fill(r.outOfScope, site), options: [], links: [] } };
    }
    state.failures = (state.failures ?? 0) + 1;
    if (state.failures >= this.cfg.failuresBeforeHandoff) {
      state.failures = 0;
      const t = await this.handoff(msg, state, 'Trợ lý không hiểu hai lần liên tiếp', now);
      if (t.reply) t.reply.text = `${r.fallbackAgain}\n${t.reply.text}`;
      return { ...t, ...base, intent: 'out_of_scope', reply: t.reply, ticket: t.ticket };
    }
    return { ...base, intent: 'out_of_scope', reply: { text: r.fallback, options: [{ label: r.labels.handoff, payload: '#h' }], links: [] } };
  }

  private starterOptions(aspect: Aspect = 'procedure.overview'): ReplyOption[] {
    const u = this.deps.understander();
    const popular = this.k.procedures.filter((p) => p.status === 'curated').sort((a, b) => b.priority - a.priority).slice(0, 4);
    return popular.filter((p) => u.procedures.has(p.id)).map((p) => ({ label: p.name, payload: aspectPayload(p.id, aspect) }));
  }

  private procedureTurn(
    proc: Procedure,
    aspect: Aspect,
    msg: IncomingMessage,
    state: ConversationState,
    base: Partial<Turn>,
    channel?: string,
  ): Turn {
    const reply = composeProcedure(this.k, proc, aspect, { channel });
    state.lastProcedure = proc.id;
    state.lastAspect = aspect;
    state.pendingOptions = reply.options;
    if (this.cfg.ratingChannels.has(msg.channel)) reply.rating = { procedure: proc.id, intent: aspect };
    return {
      reply,
      intent: aspect,
      procedure: proc.id,
      faq: null,
      dossierCode: null,
      confidence: base.confidence ?? 1,
      alternatives: base.alternatives ?? [],
    };
  }

  private async createTicket(kind: TicketKind, msg: IncomingMessage, state: ConversationState, reason: string): Promise<Ticket> {
    const ticket = await this.deps.tickets.create({
      kind,
      channel: msg.channel,
      conversationId: msg.conversationId,
      citizen: msg.userName ? maskName(msg.userName) : maskUserId(msg.userId),
      reason: redact(reason),
      excerpt: [...state.history.slice(-8), { from: 'citizen', text: redact(String(msg.text).slice(0, 500)), at: this.now() }],
    });
    this.deps.log?.info({ ticket: ticket.id, kind, channel: msg.channel, conversation: msg.conversationId }, 'ticket created');
    if (this.deps.onTicket) {
      try {
        await this.deps.onTicket(ticket);
      } catch (err) {
        this.deps.log?.error({ err, ticket: ticket.id }, 'staff notification failed');
      }
    }
    return ticket;
  }

  private async handoff(msg: IncomingMessage, state: ConversationState, reason: string, now: number): Promise<Turn> {
    const k = this.k;
    const ticket = await this.createTicket('handoff', msg, state, reason);
    state.handoff = { ticketId: ticket.id, until: now + this.cfg.handoffQuietMs };
    const open = isOpen(k.site, now);
    if (!open) {
      // Out of hours: stay quiet until staff are back, plus the usual quiet period.
      state.handoff.until = Math.max(state.handoff.until, now + 16 * 3600_000);
    }
    const text = fill(open ? k.replies.handoff : k.replies.handoffOutOfHours, { ...siteValues(k.site), ticket: ticket.id, nextOpen: nextOpening(k.site, now) });
    return { reply: { text, options: [], links: [] }, intent: 'handoff', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
  }

  private async complaint(msg: IncomingMessage, state: ConversationState, text: string, _now: number): Promise<Turn> {
    const ticket = await this.createTicket('complaint', msg, state, text);
    const reply = fill(this.k.replies.complaintReceived, { ...siteValues(this.k.site), ticket: ticket.id });
    return { reply: { text: reply, options: [], links: [] }, intent: 'feedback', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
  }

  private async dossier(u: Understanding, msg: IncomingMessage, state: ConversationState, text: string): Promise<Turn> {
    const r = this.k.replies;
    const base = { intent: 'dossier.status' as IntentId, procedure: null, faq: null, dossierCode: u.dossierCode, confidence: u.confidence, alternatives: [] };
    const command = u.command ?? followCommand(text);
    if (command === 'unfollow') {
      delete state.awaiting;
      delete state.pendingFollow;
      const codes = (await this.deps.follows?.unsubscribe(msg.conversationId, u.dossierCode ?? undefined)) ?? [];
      const reply = codes.length ? fill(r.dossierUnfollowed, { code: codes.join(', ') }) : r.dossierNotFollowing;
      return { ...base, reply: { text: reply, options: [], links: [] } };
    }
    // "Theo dõi" now, or in the message where we asked for the code.
    const follow = command === 'follow' || (state.awaiting === 'dossierCode' && !!state.pendingFollow);
    if (!u.dossierCode) {
      const malformed = u.malformedCode ?? findMalformedCode(text);
      state.awaiting = 'dossierCode';
      if (follow) state.pendingFollow = true;
      else delete state.pendingFollow;
      if (malformed) return { ...base, reply: { text: fill(r.dossierMalformed, { code: malformed }), options: [], links: [] } };
      return { ...base, reply: { text: follow ? r.dossierFollowNeedsCode : r.dossierAskCode, options: [], links: [] } };
    }
    delete state.awaiting;
    delete state.pendingFollow;
    const code = u.dossierCode;
    const userWait = await this.deps.userLookups.hit(`${msg.channel}:${msg.userId}`);
    const globalWait = userWait ? 0 : await this.deps.globalLookups.hit('all');
    const wait = userWait || globalWait;
    if (wait) {
      this.deps.log?.warn({ channel: msg.channel, user: maskUserId(msg.userId), scope: userWait ? 'user' : 'global' }, 'dossier lookup rate limited');
      return { ...base, reply: { text: fill(r.dossierRateLimited, { minutes: Math.max(1, Math.ceil(wait / 60_000)) }), options: [], links: [] } };
    }
    return this.dossierDetails(msg, state, code, null, follow);
  }

  private async dossierDetails(msg: IncomingMessage, state: ConversationState, code: string, phoneDigits: string | null, follow = false): Promise<Turn> {
    const r = this.k.replies;
    const site = siteValues(this.k.site);
    const base = { intent: 'dossier.status' as IntentId, procedure: null, faq: null, dossierCode: code, confidence: 0.99, alternatives: [] };
    let rec: DossierRecord | null;
    try {
      rec = await this.deps.dossiers.lookup(code);
    } catch (err) {
      this.deps.log?.warn({ err: err instanceof DossierUnavailableError ? err.message : err, provider: this.deps.dossiers.name }, 'dossier lookup failed');
      return { ...base, reply: { text: fill(r.dossierUnavailable, site), options: [], links: [] } };
    }
    if (!rec) return { ...base, reply: { text: fill(r.dossierNotFound, { ...site, code }), options: [], links: [] } };
    if (this.cfg.verifyPhone && rec.phone && state.verifiedDossierCode !== code) {
      if (!phoneDigits) {
        state.awaiting = 'phoneDigits';
        state.pendingDossierCode = code;
        if (follow) state.pendingFollow = true;
        else delete state.pendingFollow;
        return { ...base, reply: { text: fill(r.dossierVerifyPhone, { code }), options: [], links: [] } };
      }
      if (!rec.phone.replace(/\D/g, '').endsWith(phoneDigits)) {
        this.deps.log?.info({ channel: msg.channel, user: maskUserId(msg.userId) }, 'dossier phone verification failed');
        return { ...base, reply: { text: fill(r.dossierVerifyFailed, { ...site, code }), options: [], links: [] } };
      }
      state.verifiedDossierCode = code;
    }
    const text = [formatDossier(this.k, rec, this.now())];
    if (follow && this.deps.follows) {
      await this.deps.follows.subscribe({ code, conversationId: msg.conversationId, channel: msg.channel, userId: msg.userId, lastStatus: rec.status });
      text.push(fill(r.dossierFollowed, { code }));
    }
    // The follow button repeats the code in plain words, so it also works typed or by number.
    const options: ReplyOption[] = follow || !this.deps.follows ? [] : [{ label: r.dossierFollowOption, payload: `theo dõi hồ sơ ${code}` }];
    // Zalo and the CLI show options as numbers: "1" must find this one.
    if (options.length) state.pendingOptions = options;
    return { ...base, procedure: rec.procedureId ?? null, reply: { text: text.join('\n\n'), options, links: [] } };
  }
}

/** The status message for one dossier (also used by the follow poller). */
export function formatDossier(k: Knowledge, rec: DossierRecord, now: number): string {
  const r = k.replies;
  const site = siteValues(k.site);
  const lines = [
    fill(r.dossierStatus, {
      code: rec.code,
      procedure: rec.procedureName ? ` — ${rec.procedureName}` : '',
      applicant: maskName(rec.applicantName),
      status: rec.status,
      received: viDate(rec.receivedAt),
      due: rec.dueAt ? viDate(rec.dueAt) : '—',
      finished: rec.finishedAt ? `\n${fill(r.dossierFinishedLine, { date: viDate(rec.finishedAt) })}` : '',
      step: rec.currentStep ? `\n${fill(r.dossierStepLine, { step: redact(rec.currentStep) })}` : '',
    }),
    NEXT_STEP[rec.status],
  ];
  if (rec.note) lines.push(fill(r.dossierNoteLine, { note: redact(rec.note) }));
  const late = overdueDays(rec, new Date(now));
  if (late > 0) lines.push(fill(r.dossierOverdue, { ...site, days: late }));
  return lines.join('\n');
}

/**
 * "hủy theo dõi" / "theo dõi" said in words the understanding did not tag as a command
 * (for example without "hồ sơ"); null when neither is said.
 */
function followCommand(text: string): 'follow' | 'unfollow' | null {
  const t = ` ${fold(text).toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  if (/ (huy|ngung|dung|bo|thoi|tat|khong) (theo doi|nhan thong bao) /.test(t)) return 'unfollow';
  return / theo doi /.test(t) ? 'follow' : null;
}

/** The four digits a citizen sent to verify a dossier ("5678", "số cuối 5678", or the whole phone number). */
function verificationDigits(text: string): string | null {
  if (findDossierCode(text)) return null;
  const digits = text.replace(/\D/g, '');
  if (digits.length === 4) return digits;
  const compact = text.replace(/[\s.()-]/g, '');
  return /^(?:\+?84|0)\d{9,10}$/.test(compact) ? digits.slice(-4) : null;
}
