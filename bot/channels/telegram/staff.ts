/**
 * The staff desk in a Telegram group: new hand-off and complaint tickets are posted there
 * with the (already redacted) excerpt; a staff member answers a citizen by replying to the
 * ticket message, and hands the conversation back with the button or `/release`. The
 * citizen gets the answer on their own channel (web, Zalo or Telegram) through the pipeline.
 */
import type { Api } from 'grammy';
import type { Message } from 'grammy/types';
import { fill, type Replies } from '../../../knowledge/replies.ts';
import type { DialogueEngine, Logger } from '../../dialogue/engine.ts';
import type { TicketEvents } from '../../handoff/events.ts';
import { StaffReplies, type StaffOutcome as ServiceOutcome } from '../../handoff/staff-replies.ts';
import type { Ticket, TicketMessage, TicketStore } from '../../handoff/tickets.ts';
import type { Pipeline } from '../../pipeline.ts';
import { escapeTelegramHtml, splitText, TELEGRAM_TEXT_LIMIT } from './render.ts';

/** Ticket numbers as `ticketId()` makes them (HT-261126-0007, PA-…). */
export const TICKET_ID = /\b(?:HT|PA)-\d{6}-\d{4,}\b/;
/** Callback data of the release button. */
export const RELEASE_PREFIX = 's:rel:';

const EXCERPT_ICON: Record<string, string> = { citizen: '👤', bot: '🤖', staff: '🧑‍💼' };

export interface StaffDeskDeps {
  api: Api;
  chatId: string;
  tickets: TicketStore;
  engine: Pick<DialogueEngine, 'staffReplied' | 'release'>;
  pipeline: Pick<Pipeline, 'push'>;
  replies: () => Replies;
  log?: Logger;
  /** Ticket messages remembered (older ones still work through the ticket number in their text). */
  maxRemembered?: number;
  /** The shared staff reply service (built from the deps above when not given). */
  service?: StaffReplies;
}

/** What a staff action did, for the caller to acknowledge. */
export type StaffOutcome = { ok: true; ticket: Ticket; notice: string } | { ok: false; notice: string };

/** Posts tickets to the staff group and turns staff replies into messages to citizens. */
export class StaffDesk {
  /** Telegram message id in the staff group → ticket id. */
  private readonly byMessage = new Map<number, string>();

  private readonly service: StaffReplies;

  constructor(private readonly deps: StaffDeskDeps) {
    this.service = deps.service ?? new StaffReplies({ tickets: deps.tickets, engine: deps.engine, pipeline: deps.pipeline, knowledge: () => ({ replies: deps.replies() }), log: deps.log });
  }

  get chatId(): string {
    return this.deps.chatId;
  }

  /** True for updates from the staff group. */
  isStaffChat(chatId: number | string | undefined): boolean {
    return chatId !== undefined && String(chatId) === this.deps.chatId;
  }

  /** Operator alerts for staff (Zalo session expired, sending paused…): plain text, no buttons. */
  async notice(text: string): Promise<void> {
    const html = escapeTelegramHtml(splitText(text, TELEGRAM_TEXT_LIMIT)[0] ?? text);
    await this.deps.api.sendMessage(Number(this.deps.chatId), html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
  }

  /** The engine's `onTicket` hook: one message per ticket, with the release button. */
  async notify(ticket: Ticket): Promise<void> {
    const r = this.deps.replies();
    const excerpt = ticket.excerpt.map((e) => `${EXCERPT_ICON[e.from] ?? '•'} ${e.text}`).join('\n');
    const text = fill(r.staffTicket, {
      kind: ticket.kind === 'complaint' ? r.staffKindComplaint : r.staffKindHandoff,
      ticket: ticket.id,
      channel: ticket.channel,
      citizen: ticket.citizen,
      reason: ticket.reason,
      excerpt,
    });
    // A huge excerpt must not lose the ticket number: keep the first chunk only.
    const html = escapeTelegramHtml(splitText(text, TELEGRAM_TEXT_LIMIT)[0] ?? ticket.id);
    const sent = await this.deps.api.sendMessage(Number(this.deps.chatId), html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      reply_markup: { inline_keyboard: [[{ text: r.staffReleaseButton, callback_data: `${RELEASE_PREFIX}${ticket.id}` }]] },
    });
    this.remember(sent.message_id, ticket.id);
  }

  /** The ticket a staff message refers to: by the replied-to message, or a number in the text. */
  async ticketFor(message: Message, argument?: string): Promise<Ticket | undefined> {
    const replied = message.reply_to_message;
    const candidates = [
      argument?.match(TICKET_ID)?.[0],
      replied ? this.byMessage.get(replied.message_id) : undefined,
      replied?.text?.match(TICKET_ID)?.[0],
      replied?.caption?.match(TICKET_ID)?.[0],
    ];
    for (const id of candidates) {
      if (!id) continue;
      const t = await this.deps.tickets.get(id);
      if (t) return t;
    }
    return undefined;
  }

  /** A staff member replied to a ticket message: forward the text to the citizen. */
  async forward(message: Message): Promise<StaffOutcome> {
    const r = this.deps.replies();
    const ticket = await this.ticketFor(message);
    if (!ticket) return { ok: false, notice: r.staffUnknownTicket };
    if (!message.text?.trim()) return { ok: false, notice: r.staffTextOnly };
    return plain(await this.service.reply(ticket.id, message.text, staffName(message)));
  }

  /** Hands the conversation back to the assistant and tells the citizen. */
  async release(ticket: Ticket, by = 'telegram'): Promise<StaffOutcome> {
    return plain(await this.service.release(ticket.id, by));
  }

  /** Release by ticket number (the button's callback data). */
  async releaseById(id: string): Promise<StaffOutcome> {
    return plain(await this.service.release(id, 'telegram'));
  }

  /** A citizen wrote again after the hand-off, or staff answered from the console: show it in the group under the ticket number. */
  async followUp(ticket: Pick<Ticket, 'id'>, message: TicketMessage): Promise<void> {
    const r = this.deps.replies();
    const text = message.from === 'staff' ? fill(r.staffAnsweredElsewhere, { ticket: ticket.id, by: message.by ?? '', text: message.text }) : fill(r.staffFollowUp, { ticket: ticket.id, text: message.text });
    const html = escapeTelegramHtml(splitText(text, TELEGRAM_TEXT_LIMIT)[0] ?? ticket.id);
    const sent = await this.deps.api.sendMessage(Number(this.deps.chatId), html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    this.remember(sent.message_id, ticket.id);
  }

  /** Remembers a staff-group message as belonging to a ticket (replies to it reach the citizen). */
  remember(messageId: number, ticketId: string): void {
    this.byMessage.set(messageId, ticketId);
    const max = this.deps.maxRemembered ?? 5000;
    if (this.byMessage.size > max) this.byMessage.delete(this.byMessage.keys().next().value as number);
  }
}

/** Who answered, as the audit log and the ticket record it. */
function staffName(m: Message): string {
  const u = m.from;
  return `telegram:${u?.username ?? u?.id ?? 'staff'}`;
}

/** The service's outcome in the shape the Telegram adapter acknowledges. */
function plain(o: ServiceOutcome): StaffOutcome {
  return o.ok ? o : { ok: false, notice: o.notice };
}

/**
 * Fans one `onTicket` hook out to notifiers added later. `createAssistant` needs the hook
 * before the Telegram bot (which needs the engine) exists.
 */
export class TicketNotifiers {
  private readonly notifiers: ((t: Ticket) => Promise<void>)[] = [];

  add(notifier: (t: Ticket) => Promise<void>): void {
    this.notifiers.push(notifier);
  }

  /** Pass as `onTicket`; a failing notifier does not stop the others, and the first error is rethrown for the engine to log. */
  readonly notify = async (ticket: Ticket): Promise<void> => {
    const results = await Promise.allSettled(this.notifiers.map((n) => n(ticket)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

/**
 * Posts tickets to the staff group from ticket events, so tickets created in any process
 * (a `npm run worker`, another `npm start`) reach the group through the process that owns
 * Telegram (issue 13 item 10), and a citizen's follow-ups after the hand-off — and answers
 * staff gave from the console or the CLI — appear under the ticket. With several Telegram-owning processes, `claim` makes exactly one post.
 */
export function postTicketEvents(events: TicketEvents, tickets: Pick<TicketStore, 'get'>, desk: Pick<StaffDesk, 'notify' | 'followUp'>, log?: Logger): () => void {
  const day = 86_400_000;
  return events.subscribe((e) => {
    void (async () => {
      if (e.type === 'created') {
        if (!(await events.claim(`staff-post:${e.ticket.id}`, day))) return;
        const t = await tickets.get(e.ticket.id);
        if (t) await desk.notify(t);
      } else if (e.type === 'message' && (e.message?.from === 'citizen' || (e.message?.from === 'staff' && !e.message.by?.startsWith('telegram:')))) {
        if (!(await events.claim(`staff-msg:${e.ticket.id}:${e.ticket.messageCount}`, day))) return;
        await desk.followUp(e.ticket, e.message);
      }
    })().catch((err: unknown) => log?.error({ err, ticket: e.ticket.id, type: e.type }, 'staff group post failed'));
  });
}
