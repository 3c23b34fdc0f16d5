/**
 * Staff answering citizens, written once for every face: the Telegram staff group
 * (bot/channels/telegram/staff.ts), the staff console, and `npm run handoffs -- reply`.
 *
 * A reply goes to the citizen on their own channel through the pipeline's `push` — the
 * same outbound path as the assistant's replies (throttled, retried, send-once; with
 * REDIS_URL a BullMQ send job that whichever process owns the channel sends, so a reply
 * typed in one process reaches a citizen whose Zalo session or web page another process
 * holds). The engine is told first, so the assistant stays quiet in that conversation.
 */
import { siteValues } from '../dialogue/compose.ts';
import type { DialogueEngine, Logger } from '../dialogue/engine.ts';
import type { ChannelName } from '../dialogue/types.ts';
import type { Pipeline } from '../pipeline.ts';
import { redact } from '../privacy.ts';
import type { AuditSink } from '../staff/audit.ts';
import { fill, type CannedReply } from '../../knowledge/replies.ts';
import type { Replies as ReplyTemplates } from '../../knowledge/replies.ts';
import type { Site } from '../../knowledge/schema.ts';
import { isTicketOutcome, TICKET_LIMITS, TICKET_OUTCOMES, type Ticket, type TicketOutcome, type TicketStore } from './tickets.ts';

const CHANNELS = new Set<ChannelName>(['web', 'telegram', 'zalo', 'cli']);

/** Why a staff action was refused (the console maps these to HTTP answers). */
export type StaffRefusal = 'unknown-ticket' | 'closed' | 'empty' | 'too-long' | 'bad-outcome' | 'unknown-channel';

/** What a staff action did, with a Vietnamese notice for the staff member. */
export type StaffOutcome = { ok: true; ticket: Ticket; notice: string } | { ok: false; code: StaffRefusal; notice: string };

export interface StaffRepliesDeps {
  tickets: TicketStore;
  engine: Pick<DialogueEngine, 'staffReplied' | 'release'>;
  pipeline: Pick<Pipeline, 'push'>;
  /** Reply templates and (for canned replies) the site file, read at each call so reloads apply. */
  knowledge: () => { replies: ReplyTemplates; site?: Site };
  audit?: AuditSink;
  log?: Logger;
  now?: () => number;
}

/** The staff reply, release and close operations (see the module comment). */
export class StaffReplies {
  constructor(private readonly deps: StaffRepliesDeps) {}

  private get r() {
    return this.deps.knowledge().replies;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private async ticket(id: string): Promise<Ticket | StaffOutcome> {
    const t = await this.deps.tickets.get(id.trim().toUpperCase());
    return t ?? { ok: false, code: 'unknown-ticket', notice: this.r.staffUnknownTicket };
  }

  private channelOf(t: Ticket): ChannelName | null {
    return CHANNELS.has(t.channel as ChannelName) ? (t.channel as ChannelName) : null;
  }

  /** Sends `text` to the citizen of the ticket and marks it answered. */
  async reply(ticketId: string, rawText: string, by: string): Promise<StaffOutcome> {
    const found = await this.ticket(ticketId);
    if ('ok' in found) return found;
    const r = this.r;
    const text = String(rawText ?? '').toWellFormed().trim();
    if (!text) return { ok: false, code: 'empty', notice: r.staffTextOnly };
    if (text.length > TICKET_LIMITS.text) return { ok: false, code: 'too-long', notice: fill(r.staffTooLong, { max: TICKET_LIMITS.text }) };
    if (found.status === 'closed') return { ok: false, code: 'closed', notice: fill(r.staffTicketClosed, { ticket: found.id }) };
    const channel = this.channelOf(found);
    if (!channel) return { ok: false, code: 'unknown-channel', notice: r.staffUnknownTicket };
    await this.deps.engine.staffReplied(found.conversationId, text);
    await this.deps.pipeline.push(channel, found.conversationId, { text: fill(r.staffToCitizen, { text }), options: [], links: [] });
    await this.deps.tickets.appendMessage(found.id, { from: 'staff', text: redact(text), at: this.now(), by });
    const ticket = found.status === 'answered' ? await this.deps.tickets.get(found.id) : await this.deps.tickets.update(found.id, { status: 'answered' });
    this.deps.audit?.record({ actor: by, action: 'ticket.reply', target: found.id, detail: `${channel}, ${text.length} ký tự` });
    this.deps.log?.info({ ticket: found.id, channel }, 'staff reply sent');
    return { ok: true, ticket: ticket ?? found, notice: fill(r.staffSent, { ticket: found.id }) };
  }

  /** Hands the conversation back to the assistant ("Trả lại cho trợ lý") and tells the citizen. */
  async release(ticketId: string, by: string): Promise<StaffOutcome> {
    const found = await this.ticket(ticketId);
    if ('ok' in found) return found;
    await this.resume(found);
    const ticket = found.status === 'released' ? found : await this.deps.tickets.update(found.id, { status: 'released' });
    this.deps.audit?.record({ actor: by, action: 'ticket.release', target: found.id });
    this.deps.log?.info({ ticket: found.id, channel: found.channel }, 'ticket released to the assistant');
    return { ok: true, ticket: ticket ?? found, notice: fill(this.r.staffReleased, { ticket: found.id }) };
  }

  /** Closes the ticket with an outcome ("Đóng"); the assistant resumes the conversation. */
  async close(ticketId: string, outcome: string, by: string, note?: string): Promise<StaffOutcome> {
    const found = await this.ticket(ticketId);
    if ('ok' in found) return found;
    if (!isTicketOutcome(outcome)) return { ok: false, code: 'bad-outcome', notice: `Kết quả không hợp lệ; chọn một trong: ${Object.keys(TICKET_OUTCOMES).join(', ')}.` };
    if (found.status !== 'closed') await this.resume(found);
    const ticket = await this.deps.tickets.update(found.id, { status: 'closed', outcome, ...(note?.trim() ? { outcomeNote: redact(note.trim()).slice(0, TICKET_LIMITS.note) } : {}) });
    this.deps.audit?.record({ actor: by, action: 'ticket.close', target: found.id, detail: outcome });
    return { ok: true, ticket: ticket ?? found, notice: fill(this.r.staffClosed, { ticket: found.id, outcome: TICKET_OUTCOMES[outcome as TicketOutcome] }) };
  }

  /** Ends the hand-off in the dialogue; the citizen hears the assistant is back (when it was quiet). */
  private async resume(t: Ticket): Promise<void> {
    const notice = await this.deps.engine.release(t.conversationId);
    const channel = this.channelOf(t);
    if (!notice || !channel) return;
    await this.deps.pipeline.push(channel, t.conversationId, notice);
    await this.deps.tickets.appendMessage(t.id, { from: 'bot', text: notice.text, at: this.now() });
  }

  /** The canned replies of replies.yaml with site placeholders filled. */
  canned(): CannedReply[] {
    const k = this.deps.knowledge();
    const values = k.site ? siteValues(k.site) : {};
    return (k.replies.canned ?? []).map((c) => ({ ...c, text: fill(c.text, values) }));
  }
}
