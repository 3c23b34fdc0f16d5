/**
 * Hand-off to staff and complaints ("phản ánh, kiến nghị"): tickets, the quiet period
 * while staff own a conversation, and the complaint that first asks for its content.
 */
import type { Understanding } from '../../intents/understand.ts';
import { fill } from '../../knowledge/replies.ts';
import type { Ticket, TicketKind } from '../handoff/tickets.ts';
import { maskName, maskUserId, redact } from '../privacy.ts';
import { siteValues } from './compose.ts';
import { textReply, understood, type Feature, type Turn, type TurnContext } from './context.ts';
import { dossiers } from './dossiers.ts';
import { isOpen, nextOpening } from './hours.ts';

async function createTicket(ctx: TurnContext, kind: TicketKind, reason: string): Promise<Ticket> {
  const { msg, state, deps } = ctx;
  const ticket = await deps.tickets.create({
    kind,
    channel: msg.channel,
    conversationId: msg.conversationId,
    citizen: msg.userName ? maskName(msg.userName) : maskUserId(msg.userId),
    reason: redact(reason, { names: [msg.userName] }),
    excerpt: [...state.history.slice(-8), { from: 'citizen', text: redact(String(msg.text).slice(0, 500), { names: [msg.userName] }), at: ctx.now }],
  });
  deps.log?.info({ ticket: ticket.id, kind, channel: msg.channel, conversation: msg.conversationId }, 'ticket created');
  if (deps.onTicket) {
    try {
      await deps.onTicket(ticket);
    } catch (err) {
      deps.log?.error({ err, ticket: ticket.id }, 'staff notification failed');
    }
  }
  return ticket;
}

/** Opens a hand-off ticket and makes the assistant quiet in this conversation (also after two failures). */
export async function openHandoff(ctx: TurnContext, reason: string): Promise<Turn> {
  return quietFor(ctx, await createTicket(ctx, 'handoff', reason));
}

/** Staff own the conversation under `ticket` from now on: the assistant says so and goes quiet. */
function quietFor(ctx: TurnContext, ticket: Ticket): Turn {
  const { k, state, now } = ctx;
  state.handoff = { ticketId: ticket.id, until: now + ctx.cfg.handoffQuietMs };
  const open = isOpen(k.site, now);
  // Out of hours: stay quiet until staff are back, plus the usual quiet period.
  if (!open) state.handoff.until = Math.max(state.handoff.until, now + 16 * 3600_000);
  const text = fill(open ? k.replies.handoff : k.replies.handoffOutOfHours, { ...siteValues(k.site), ticket: ticket.id, nextOpen: nextOpening(k.site, now) });
  return { reply: textReply(text), intent: 'handoff', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
}

async function complaint(ctx: TurnContext, text: string): Promise<Turn> {
  const ticket = await createTicket(ctx, 'complaint', text);
  ctx.state.complaint = { ticketId: ticket.id, until: ctx.now + COMPLAINT_DETAILS_MS };
  const reply = fill(ctx.k.replies.complaintReceived, { ...siteValues(ctx.k.site), ticket: ticket.id });
  return { reply: textReply(reply), intent: 'feedback', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
}

/** How long after a complaint the citizen's further details join its ticket. */
const COMPLAINT_DETAILS_MS = 30 * 60_000;
/** Intents that are a complaint's further details when one was just filed (anything else is a new question). */
const DETAILS: ReadonlySet<string> = new Set(['feedback', 'out_of_scope', 'dossier.status', 'handoff']);

/**
 * Details sent after a complaint ("hôm qua lúc 9 giờ…", "mã hồ sơ là …") join the same
 * ticket. A dossier code among them is also looked up; asking for a person hands the
 * conversation over on that same ticket; a clear question about something else is
 * answered as usual.
 */
async function complaintDetails(u: Understanding, ctx: TurnContext): Promise<Turn | null> {
  const open = ctx.state.complaint;
  // A guess the assistant would have to ask about is not a clear new question either.
  const unsure = u.clarify || u.confidence < 0.5;
  if (!open || open.until <= ctx.now || !(DETAILS.has(u.intent) || unsure)) return null;
  if (u.intent === 'dossier.status' && (u.command || u.tokens.length < 6)) return null;
  const ticket = await ctx.deps.tickets.appendMessage(open.ticketId, { from: 'citizen', text: redact(ctx.text.slice(0, 500), { names: [ctx.msg.userName] }), at: ctx.now });
  if (!ticket) return null;
  open.until = ctx.now + COMPLAINT_DETAILS_MS;
  ctx.deps.log?.info({ ticket: ticket.id, channel: ctx.msg.channel, conversation: ctx.msg.conversationId }, 'ticket details added');
  // `Turn.ticket` means a new ticket (metrics count it): a joined one is not repeated there.
  if (u.intent === 'handoff') return { ...quietFor(ctx, ticket), ...understood(u), ticket: undefined };
  const added = fill(ctx.k.replies.complaintAdded, { ticket: ticket.id });
  const lookup = u.intent === 'dossier.status' ? dossiers.intents?.['dossier.status'] : undefined;
  const t = lookup ? await lookup(u, ctx) : null;
  if (t?.reply) return { ...t, reply: { ...t.reply, text: `${added}\n\n${t.reply.text}` } };
  return { ...understood(u), intent: 'feedback', reply: textReply(added) };
}

/** "Gặp cán bộ" (typed or tapped) and complaints, with the details message a bare "phản ánh" asks for. */
export const handoff: Feature = {
  name: 'handoff',
  payloads: {
    h: (_args, ctx) => openHandoff(ctx, 'Công dân chọn gặp cán bộ'),
  },
  claim: complaintDetails,
  awaiting: {
    complaint: async (ctx) => {
      delete ctx.state.awaiting;
      // A short, clear procedure question is not the complaint's content: answer it instead.
      const u = ctx.understander.understand(ctx.text, {});
      const otherQuestion = u.procedure && u.confidence >= 0.6 && ctx.text.split(/\s+/).length <= 8;
      return otherQuestion ? null : complaint(ctx, ctx.text);
    },
  },
  intents: {
    handoff: async (u, ctx) => ({ ...(await openHandoff(ctx, 'Công dân yêu cầu gặp cán bộ')), ...understood(u) }),
    feedback: async (u, ctx) => {
      // A complaint with substance is taken as it is; a bare "phản ánh" asks for content.
      if (u.tokens.length >= 8) return { ...(await complaint(ctx, ctx.text)), ...understood(u) };
      ctx.state.awaiting = 'complaint';
      return { ...understood(u), reply: textReply(ctx.k.replies.complaintAsk) };
    },
  },
};
