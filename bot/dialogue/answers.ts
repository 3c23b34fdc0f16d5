/**
 * Procedure and FAQ answers: one aspect of one procedure (documents, fee…), the
 * "which procedure?" question when two fit or none is named, and FAQ entries. The
 * wording is composed in `compose.ts`; this module decides which answer a turn gets
 * and what the conversation remembers of it.
 */
import { ASPECTS, type Aspect, type IntentId } from '../../intents/data.ts';
import type { Understanding } from '../../intents/understand.ts';
import { fill } from '../../knowledge/replies.ts';
import type { Faq, Procedure } from '../../knowledge/schema.ts';
import { redact } from '../privacy.ts';
import { aspectPayload, composeFaq, composeProcedure, isProcedureView, type ProcedureView } from './compose.ts';
import { textReply, understood, type Feature, type IntentHandler, type Turn, type TurnContext } from './context.ts';
import type { Reply, ReplyOption, ReplyRating } from './types.ts';

const ASPECT_SET = new Set<string>(ASPECTS);

function procedureById(ctx: TurnContext, id: string | null | undefined): Procedure | undefined {
  return id ? ctx.understander.procedures.get(id) : undefined;
}

/** The most asked curated procedures, as options for one aspect (greeting, "which procedure?"). */
export function starterOptions(ctx: TurnContext, aspect: Aspect = 'procedure.overview'): ReplyOption[] {
  const popular = ctx.k.procedures.filter((p) => p.status === 'curated').sort((a, b) => b.priority - a.priority).slice(0, 4);
  return popular.filter((p) => ctx.understander.procedures.has(p.id)).map((p) => ({ label: p.name, payload: aspectPayload(p.id, aspect) }));
}

/** Answers kept rateable per conversation (older rating buttons still work, without the question). */
const RATEABLE = 6;

/**
 * Offers the rating under an answer on channels that show it, numbering the answer so a
 * later tap rates this one (and the review inbox gets the question that was asked).
 */
function offerRating(ctx: TurnContext, reply: Reply, rated: Omit<ReplyRating, 'answer'>, question: string): void {
  if (!ctx.cfg.ratingChannels.has(ctx.msg.channel)) return;
  const { state } = ctx;
  const n = (state.answers ?? 0) + 1;
  state.answers = n;
  state.rateable = [...(state.rateable ?? []), { n, question: redact(question.slice(0, 300)) }].slice(-RATEABLE);
  reply.rating = { ...rated, answer: n };
}

/**
 * The rest of what the message asked ("… và nộp ở đâu": that aspect's button first) and,
 * for a family's common procedure, its variants that differ, in one short line with a
 * button each — never one of them picked silently.
 */
function offerAlso(ctx: TurnContext, reply: Reply, proc: Procedure, aspect: Aspect, aspects: readonly Aspect[], variants: readonly string[]): void {
  const r = ctx.k.replies;
  const asked = aspects.filter((a) => a !== aspect).map((a) => ({ label: r.labels[a], payload: aspectPayload(proc.id, a) }));
  const others = variants
    .map((id) => procedureById(ctx, id))
    .filter((p): p is Procedure => !!p)
    .map((p) => ({ label: shortName(p.name), payload: aspectPayload(p.id, aspect) }));
  if (!asked.length && !others.length) return;
  const rest = reply.options.filter((o) => !asked.some((a) => a.payload === o.payload));
  reply.options = [...asked, ...others, ...rest];
  if (others.length) reply.text = `${reply.text}\n\n${fill(r.variantsLine, { count: String(others.length) })}`;
}

/** A procedure's name as a button label: capitalised, without "Thủ tục" or parentheses. */
function shortName(name: string): string {
  const n = name.replace(/^thủ tục\s+/iu, '').replace(/\s*\([^)]*\)/gu, '').trim();
  return n.charAt(0).toUpperCase() + n.slice(1);
}

/** What the citizen asked, in words: the typed text, or the button's label for a tapped one. */
function asked(ctx: TurnContext, label: string): string {
  return ctx.text.startsWith('#') ? label : ctx.text;
}

/** Procedures whose sources line a conversation remembers having shown. */
const SOURCES_REMEMBERED = 20;

/**
 * One aspect of one procedure (or one of its views); the conversation remembers it for
 * follow-ups, and that it has shown this procedure's sources line.
 */
function procedureTurn(
  ctx: TurnContext,
  proc: Procedure,
  aspect: Aspect,
  labels: Pick<Turn, 'confidence' | 'alternatives'>,
  opts: { channel?: string; view?: ProcedureView; aspects?: readonly Aspect[]; variants?: readonly string[] } = {},
): Turn {
  const { state } = ctx;
  const shown = state.sourcesShown ?? [];
  const reply = composeProcedure(ctx.k, proc, aspect, { channel: opts.channel, view: opts.view, sourcesShown: shown.includes(proc.id) });
  offerAlso(ctx, reply, proc, aspect, opts.aspects ?? [], opts.variants ?? []);
  if (!shown.includes(proc.id)) state.sourcesShown = [...shown, proc.id].slice(-SOURCES_REMEMBERED);
  state.lastProcedure = proc.id;
  state.lastAspect = aspect;
  state.pendingOptions = reply.options;
  // The sources view is not an answer to rate.
  if (opts.view !== 'sources') offerRating(ctx, reply, { procedure: proc.id, intent: aspect }, asked(ctx, `${ctx.k.replies.labels[aspect]} — ${proc.name}`));
  return { reply, intent: aspect, procedure: proc.id, faq: null, dossierCode: null, confidence: labels.confidence, alternatives: labels.alternatives };
}

const answerAspect: IntentHandler = async (u, ctx) => {
  const { state, k, msg, now } = ctx;
  const r = k.replies;
  const aspect = u.intent as Aspect;
  const base = understood(u);
  const proc = procedureById(ctx, u.procedure);
  if (proc && u.clarify && u.alternatives.length > 1) {
    const options = u.alternatives.map((a) => ({ label: procedureById(ctx, a.procedure)?.name ?? a.procedure, payload: aspectPayload(a.procedure, aspect) }));
    state.pendingOptions = options;
    state.pendingProcedures = { ids: u.alternatives.map((a) => a.procedure), aspect };
    ctx.deps.review?.record({ text: redact(ctx.text), intent: u.intent, procedure: u.procedure, confidence: u.confidence, reason: 'clarify', channel: msg.channel, at: now });
    return { ...base, reply: { ...textReply(`${r.clarify}\n${r.clarifyFooter}`, options), optionsTitle: r.pickNumber } };
  }
  if (proc) {
    if (u.confidence < 0.45) ctx.deps.review?.record({ text: redact(ctx.text), intent: u.intent, procedure: u.procedure, confidence: u.confidence, reason: 'low-confidence', channel: msg.channel, at: now });
    return procedureTurn(ctx, proc, aspect, base, { channel: u.entities.channel, aspects: u.aspects, variants: u.variants });
  }
  // An aspect without a procedure and nothing in the conversation: ask which one.
  const options = starterOptions(ctx, aspect);
  state.pendingOptions = options;
  return { ...base, reply: textReply(fill(r.askProcedure, { aspect: r.labels[aspect].toLowerCase() }), options) };
};

function faqTurn(ctx: TurnContext, faq: Faq, labels: Omit<Turn, 'reply'>): Turn {
  const reply = composeFaq(ctx.k, faq);
  offerRating(ctx, reply, { procedure: null, faq: faq.id, intent: 'faq' }, asked(ctx, faq.question));
  return { ...labels, faq: faq.id, reply };
}

const answerFaq: IntentHandler = async (u: Understanding, ctx) => {
  const faq = u.faq ? ctx.understander.faqs.get(u.faq) : undefined;
  return faq ? faqTurn(ctx, faq, understood(u)) : null;
};

/** Procedure aspects and FAQ entries, by intent and by tapped button (`#p:<id>:<aspect>`, `#f:<id>`). */
export const answers: Feature = {
  name: 'answers',
  payloads: {
    p: async ([id, aspect, view], ctx) => {
      const proc = procedureById(ctx, id);
      if (!proc || !aspect || !ASPECT_SET.has(aspect)) return null;
      return procedureTurn(ctx, proc, aspect as Aspect, { confidence: 1, alternatives: [] }, { view: isProcedureView(view) ? view : undefined });
    },
    f: async ([id], ctx) => {
      const faq = id ? ctx.understander.faqs.get(id) : undefined;
      return faq ? faqTurn(ctx, faq, { intent: 'faq', procedure: null, faq: faq.id, dossierCode: null, confidence: 1, alternatives: [] }) : null;
    },
  },
  intents: { faq: answerFaq, ...Object.fromEntries(ASPECTS.map((a) => [a, answerAspect])) } as Partial<Record<IntentId, IntentHandler>>,
};
