/**
 * Hand-off to staff and complaints ("phản ánh, kiến nghị"): tickets, the quiet period
 * while staff own a conversation, and the complaint that first asks for its content.
 */
import { fill } from '../../knowledge/replies.ts';
import type { Ticket, TicketKind } from '../handoff/tickets.ts';
import { maskName, maskUserId, redact } from '../privacy.ts';
import { siteValues } from './compose.ts';
import { textReply, understood, type Feature, type Turn, type TurnContext } from './context.ts';
import { isOpen, nextOpening } from './hours.ts';

async function createTicket(ctx: TurnContext, kind: TicketKind, reason: string): Promise<Ticket> {
  const { msg, state, deps } = ctx;
  const ticket = await deps.tickets.create({
    kind,
    channel: msg.channel,
    conversationId: msg.conversationId,
    citizen: msg.userName ? maskName(msg.userName) : maskUserId(msg.userId),
    reason: redact(reason),
    excerpt: [...state.history.slice(-8), { from: 'citizen', text: redact(String(msg.text).slice(0, 500)), at: ctx.now }],
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
  const { k, state, now } = ctx;
  const ticket = await createTicket(ctx, 'handoff', reason);
  state.handoff = { ticketId: ticket.id, until: now + ctx.cfg.handoffQuietMs };
  const open = isOpen(k.site, now);
  // Out of hours: stay quiet until staff are back, plus the usual quiet period.
  if (!open) state.handoff.until = Math.max(state.handoff.until, now + 16 * 3600_000);
  const text = fill(open ? k.replies.handoff : k.replies.handoffOutOfHours, { ...siteValues(k.site), ticket: ticket.id, nextOpen: nextOpening(k.site, now) });
  return { reply: textReply(text), intent: 'handoff', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
}

async function complaint(ctx: TurnContext, text: string): Promise<Turn> {
  const ticket = await createTicket(ctx, 'complaint', text);
  const reply = fill(ctx.k.replies.complaintReceived, { ...siteValues(ctx.k.site), ticket: ticket.id });
  return { reply: textReply(reply), intent: 'feedback', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [], ticket };
}

/** "Gặp cán bộ" (typed or tapped) and complaints, with the details message a bare "phản ánh" asks for. */
export const handoff: Feature = {
  name: 'handoff',
  payloads: {
    h: (_args, ctx) => openHandoff(ctx, 'Công dân chọn gặp cán bộ'),
  },
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
