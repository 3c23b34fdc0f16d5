/**
 * Social turns: greeting, thanks, help, the one-tap rating, rude words, and what the
 * assistant says when it did not understand (twice in a row: a person takes over).
 */
import type { Understanding } from '../../intents/understand.ts';
import { fill } from '../../knowledge/replies.ts';
import { redact } from '../privacy.ts';
import { parseRating, type Rating } from '../rating.ts';
import { starterOptions } from './answers.ts';
import { siteValues } from './compose.ts';
import { plainTurn, textReply, understood, type Feature, type Turn, type TurnContext } from './context.ts';
import { openHandoff } from './handoff.ts';

/** The reply to a message nothing understood: examples first, a person after repeated failures. */
export async function notUnderstood(u: Understanding, ctx: TurnContext): Promise<Turn> {
  const { k, state, msg, now } = ctx;
  const r = k.replies;
  const base = understood(u);
  const gibberish = u.confidence <= 0.5;
  ctx.deps.review?.record({ text: redact(ctx.text), intent: u.intent, procedure: null, confidence: u.confidence, reason: 'unmatched', channel: msg.channel, at: now });
  if (u.intent === 'out_of_scope' && !gibberish) return { ...base, reply: textReply(fill(r.outOfScope, siteValues(k.site))) };
  state.failures = (state.failures ?? 0) + 1;
  if (state.failures >= ctx.cfg.failuresBeforeHandoff) {
    state.failures = 0;
    const t = await openHandoff(ctx, 'Trợ lý không hiểu hai lần liên tiếp');
    if (t.reply) t.reply.text = `${r.fallbackAgain}\n${t.reply.text}`;
    return { ...t, ...base, intent: 'out_of_scope', reply: t.reply, ticket: t.ticket };
  }
  return { ...base, intent: 'out_of_scope', reply: textReply(r.fallback, [{ label: r.labels.handoff, payload: '#h' }]) };
}

/**
 * The answer a rating names (`parseRating`, bot/rating.ts) and the question that answer
 * replied to. Buttons of the older `#r:<v>:<intent>` shape rate the conversation's last
 * procedure, as they always did. An id the knowledge does not have is dropped.
 */
function ratedAnswer(rating: Rating, ctx: TurnContext): { intent: string; procedure: string | null; faq: string | null; question: string } {
  const { state } = ctx;
  if (rating.answer === undefined) return { intent: rating.intent, procedure: state.lastProcedure ?? null, faq: null, question: '' };
  const id = rating.id ?? null;
  const faq = rating.intent === 'faq' && id && ctx.understander.faqs.has(id) ? id : null;
  const procedure = rating.intent !== 'faq' && id && ctx.understander.procedures.has(id) ? id : null;
  const question = state.rateable?.find((a) => a.n === rating.answer)?.question ?? '';
  return { intent: rating.intent, procedure, faq, question: question || (faq ?? procedure ?? '') };
}

/** Greeting, thanks, help and ratings. */
export const social: Feature = {
  name: 'social',
  payloads: {
    r: async (parts, ctx) => {
      const rating = parseRating(['#r', ...parts].join(':'));
      if (!rating) return null;
      const rated = ratedAnswer(rating, ctx);
      const { msg, deps } = ctx;
      if (!rating.helpful) {
        deps.review?.record({ text: rated.question, intent: rated.intent, procedure: rated.procedure, faq: rated.faq, confidence: 1, reason: 'unhelpful', channel: msg.channel, at: ctx.now });
      }
      deps.log?.info({ rating: rating.helpful ? 'helpful' : 'unhelpful', procedure: rated.procedure, faq: rated.faq, intent: rated.intent, channel: msg.channel }, 'rating');
      return plainTurn(ctx.k.replies.ratingThanks, 'thanks');
    },
    help: async (_args, ctx) => plainTurn(fill(ctx.k.replies.help, siteValues(ctx.k.site)), 'greeting'),
  },
  intents: {
    greeting: async (u, ctx) => ({ ...understood(u), reply: textReply(fill(ctx.k.replies.greeting, siteValues(ctx.k.site)), starterOptions(ctx)) }),
    thanks: async (u, ctx) => ({ ...understood(u), reply: textReply(ctx.k.replies.thanks) }),
  },
};
