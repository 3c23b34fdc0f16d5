/**
 * The inbox (agent): open hand-offs and complaints, the ones nobody has answered first
 * and the longest waiting first, each with its channel, waiting time and the whole
 * conversation — the turns before the hand-off, then everything after it — and the
 * three actions, all through `StaffReplies` (the same service as the Telegram staff
 * group and `npm run handoffs`): reply (with the canned replies of replies.yaml),
 * "Trả lại cho trợ lý", "Đóng" with an outcome.
 *
 *   GET  /staff/inbox            the list (?done=1: tickets finished recently)
 *   GET  /staff/inbox/:id        the list and one ticket
 *   GET  /staff/inbox/events     Server-Sent Events: one `ticket` event per ticket event
 *                                from any process (Redis pub/sub with REDIS_URL); the page
 *                                re-reads itself when one arrives
 *   POST /staff/inbox/:id/reply | /release | /close
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ACTIVE_STATUSES, conversationOf, TICKET_OUTCOMES, waitingMs, type Ticket, type TicketMessage } from '../../handoff/tickets.ts';
import { CHART_LABELS, durationText as duration } from '../../staff/charts.ts';
import type { ConsoleContext } from './index.ts';
import { attr, html, vnClock, vnTime, type Html } from './html.ts';
import { T } from './text.ts';

/** How long one event stream stays open before the browser reconnects (and its session is checked again). */
export const INBOX_STREAM = Object.freeze({ maxMs: 5 * 60_000, pingMs: 25_000, retryMs: 3000 });

const TICKET_PATH = /^(?:HT|PA)-\d{6}-\d{4,}$/;

/** Open first (nobody has answered), then answered; the longest waiting first in each. */
export function inboxOrder(tickets: readonly Ticket[]): Ticket[] {
  return [...tickets].sort((a, b) => Number(a.status !== 'open') - Number(b.status !== 'open') || a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

function channelLabel(channel: string): string {
  return CHART_LABELS.channels[channel] ?? channel;
}

function kindLabel(t: Pick<Ticket, 'kind'>): string {
  return t.kind === 'complaint' ? T.kindComplaint : T.kindHandoff;
}

function waitText(t: Ticket, now: number): string {
  return t.firstStaffReplyAt === undefined ? T.waiting(duration(waitingMs(t, now))) : T.answeredAfter(duration(waitingMs(t, now)));
}

function listItem(t: Ticket, now: number, current?: string): Html {
  return html`<li class="ticket ${t.status}"><a href="/staff/inbox/${t.id}"${attr('aria-current="true"', t.id === current)} data-ticket="${t.id}">
<span class="row"><span class="kind ${t.kind}">${kindLabel(t)}</span> <b class="id">${t.id}</b> <span class="channel">${channelLabel(t.channel)}</span></span>
<span class="row"><span class="wait">${waitText(t, now)}</span> · <span class="status">${T.status[t.status] ?? t.status}</span></span>
<span class="reason">${t.citizen} — ${t.reason.slice(0, 140)}</span></a></li>`;
}

function who(m: TicketMessage): string {
  return m.from === 'citizen' ? T.citizen : m.from === 'bot' ? T.bot : T.staffBy(m.by ?? '');
}

function message(m: TicketMessage): Html {
  return html`<li class="m ${m.from}"><span class="who">${who(m)} · ${vnTime(m.at)}</span><p class="text">${m.text}</p></li>`;
}

/** The conversation as staff read it: before the hand-off, the moment of the hand-off, after it. */
function conversation(t: Ticket): Html {
  return html`<ol id="conversation" class="conversation" aria-live="polite" data-count="${conversationOf(t).length}">
${t.excerpt.map(message)}
<li class="m handoff" aria-label="${T.handedOff(vnClock(t.createdAt))}"><span>${T.handedOff(vnTime(t.createdAt))}</span></li>
${t.messages.map(message)}
</ol>`;
}

function ticketHead(t: Ticket, now: number): Html {
  return html`<header id="ticket-head" class="ticket-head">
<h2><span class="kind ${t.kind}">${kindLabel(t)}</span> ${t.id}</h2>
<dl class="facts">
<dt>${T.channel}</dt><dd class="channel">${channelLabel(t.channel)}</dd>
<dt>${T.citizen}</dt><dd>${t.citizen}</dd>
<dt>${T.opened}</dt><dd>${vnTime(t.createdAt)} · ${waitText(t, now)}</dd>
<dt>${T.state}</dt><dd class="status ${t.status}">${T.status[t.status] ?? t.status}${t.outcome ? html` — ${T.closedOutcome(TICKET_OUTCOMES[t.outcome])}` : ''}${t.outcomeNote ? html` (${t.outcomeNote})` : ''}</dd>
<dt>${T.reason}</dt><dd>${t.reason}</dd>
</dl></header>`;
}

export function inboxRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { staff } = ctx;

  const render = async (req: FastifyRequest, reply: FastifyReply, selected?: Ticket) => {
    const now = ctx.now();
    const done = (req.query as Record<string, unknown>).done === '1';
    const tickets = done ? (await staff.tickets.list({ status: ['released', 'closed'], limit: 50 })).reverse() : inboxOrder(await staff.tickets.list({ status: ACTIVE_STATUSES, limit: 500 }));
    const waitingCount = tickets.filter((t) => t.status === 'open').length;
    const list = html`<section class="inbox-list" aria-labelledby="list-title">
<h1 id="list-title">${done ? T.inboxDone : T.inboxActive} <span id="open-count" class="count" data-open="${done ? 0 : waitingCount}">${tickets.length}</span></h1>
<p class="switch"><a href="/staff/inbox${done ? '' : '?done=1'}">${done ? T.inboxActive : T.inboxDone}</a></p>
<ul id="ticket-list" class="tickets" aria-live="polite">
${tickets.length ? tickets.map((t) => listItem(t, now, selected?.id)) : html`<li class="empty">${T.inboxEmpty}</li>`}
</ul></section>`;
    const detail = selected ? ticketView(reply, selected, now) : html`<section class="ticket-view empty"><p>${T.inboxPick}</p></section>`;
    return ctx.page(req, reply, { title: selected ? `${selected.id} — ${T.nav.inbox}` : T.inboxTitle, active: 'inbox', body: html`<div class="inbox" data-ticket="${selected?.id ?? ''}">${list}${detail}</div>` });
  };

  const ticketView = (reply: FastifyReply, t: Ticket, now: number): Html => {
    const canned = staff.replies.canned();
    const csrf = ctx.csrfField(reply);
    const actions =
      t.status === 'closed'
        ? ''
        : html`<form method="post" action="/staff/inbox/${t.id}/reply" class="reply">${csrf}
<h3>${T.replyLabel}</h3>
${canned.length ? html`<label class="sub" for="canned">${T.cannedLabel}</label><select id="canned" name="canned" data-canned="reply-text"><option value="">${T.cannedNone}</option>${canned.map((c) => html`<option value="${c.id}" data-text="${c.text}">${c.title}</option>`)}</select>` : ''}
<label class="sub" for="reply-text">${T.replyText}</label>
<textarea id="reply-text" name="text" rows="3" maxlength="2000"></textarea>
<p class="hint">${T.replyHint}</p>
<button type="submit" class="primary">${T.send}</button>
</form>
<div class="actions">
${t.status !== 'released' ? html`<form method="post" action="/staff/inbox/${t.id}/release" class="inline">${csrf}<button type="submit" class="secondary" title="${T.releaseHint}">${T.release}</button></form>` : ''}
<form method="post" action="/staff/inbox/${t.id}/close" class="close">${csrf}
<label for="outcome">${T.closeLabel}</label>
<select id="outcome" name="outcome" required>${Object.entries(TICKET_OUTCOMES).map(([id, label]) => html`<option value="${id}">${label}</option>`)}</select>
<label class="sub" for="note">${T.note}</label><input id="note" name="note" maxlength="500">
<button type="submit" class="secondary">${T.close}</button>
</form></div>`;
    return html`<section class="ticket-view" aria-label="${t.id}">${ticketHead(t, now)}${conversation(t)}${actions}</section>`;
  };

  app.get('/inbox', { config: { access: 'inbox' } }, (req, reply) => render(req, reply));

  app.get<{ Params: { id: string } }>('/inbox/:id', { config: { access: 'inbox' } }, async (req, reply) => {
    const id = req.params.id.toUpperCase();
    const t = TICKET_PATH.test(id) ? await staff.tickets.get(id) : undefined;
    if (!t) return ctx.redirect(req, reply, '/staff/inbox', { kind: 'error', text: ctx.holder.version.knowledge.replies.staffUnknownTicket });
    return render(req, reply, t);
  });

  const act = (name: 'reply' | 'release' | 'close') =>
    app.post<{ Params: { id: string } }>(`/inbox/:id/${name}`, { config: { access: 'inbox' } }, async (req, reply) => {
      const me = ctx.account(req).username;
      const b = (req.body ?? {}) as Record<string, unknown>;
      const id = req.params.id.toUpperCase();
      const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
      let out;
      if (name === 'reply') {
        // Without the page's script, a canned reply picked and nothing typed sends the canned text.
        const text = str('text').trim() || staff.replies.canned().find((c) => c.id === str('canned'))?.text || '';
        out = await staff.replies.reply(id, text, me);
      } else if (name === 'release') out = await staff.replies.release(id, me);
      else out = await staff.replies.close(id, str('outcome'), me, str('note'));
      const back = out.ok && name !== 'reply' ? '/staff/inbox' : `/staff/inbox/${encodeURIComponent(id)}`;
      if (req.headers.accept?.includes('application/json')) return reply.code(out.ok ? 200 : 409).send({ ok: out.ok, notice: out.notice });
      return ctx.redirect(req, reply, back, { kind: out.ok ? 'ok' : 'error', text: out.notice });
    });
  act('reply');
  act('release');
  act('close');

  // Live updates: every open page holds one stream; shutdown ends them all.
  const streams = new Set<PassThrough>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });
  app.get('/inbox/events', { config: { access: 'inbox' }, compress: false }, (req, reply) => {
    const stream = new PassThrough();
    streams.add(stream);
    const write = (chunk: string): void => {
      if (!stream.writableEnded) stream.write(chunk);
    };
    const off = staff.events.subscribe((e) => write(`event: ticket\ndata: ${JSON.stringify({ type: e.type, id: e.ticket.id, status: e.ticket.status })}\n\n`));
    const ping = setInterval(() => write(': ping\n\n'), INBOX_STREAM.pingMs);
    const end = setTimeout(() => stream.end(), INBOX_STREAM.maxMs);
    const cleanup = (): void => {
      off();
      clearInterval(ping);
      clearTimeout(end);
      streams.delete(stream);
      if (!stream.writableEnded) stream.end();
    };
    req.raw.once('close', cleanup);
    stream.once('close', cleanup);
    write(`retry: ${INBOX_STREAM.retryMs}\n\n`);
    reply.header('Content-Type', 'text/event-stream; charset=utf-8').header('X-Accel-Buffering', 'no');
    return reply.send(stream);
  });
}
