/**
 * The review inbox (editor): what the assistant missed, grouped (`ReviewInbox`), with its
 * guess at the time and its understanding now, and one-click teaching — an alias to a
 * procedure, an example to an intent (both through the knowledge editor and its teach
 * guard: a change that alters a checked answer is shown as a diff and refused unless
 * the editor rewords it or forces it), or a new FAQ (the FAQ form, filled in).
 *
 *   GET  /staff/review          the groups (?since=YYYY-MM-DD)
 *   POST /staff/review/teach    kind=alias|example, target, text, action=save|force
 */
import type { FastifyInstance } from 'fastify';
import { INTENT_IDS } from '../../../intents/data.ts';
import type { ReviewGroupView } from '../../staff/review-inbox.ts';
import { draftIntent, outcomeView, runDraft } from './drafts.ts';
import type { ConsoleContext } from './index.ts';
import { attr, html, type Html } from './html.ts';
import { T } from './text.ts';

const MAX_GROUPS = 100;

function understanding(label: string, u: { intent: string; procedure: string | null; faq?: string | null; confidence: number }): Html {
  return html`<p class="meta">${label}: <b>${u.intent}</b>${u.procedure ? html` / ${u.procedure}` : ''}${u.faq ? html` / ${u.faq}` : ''} (${Math.round(u.confidence * 100)}%)</p>`;
}

export function reviewRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  // One list of procedure ids per page (a base with the national file has thousands; a select per group would not do).
  const procedureList = (): Html => html`<datalist id="procedure-ids">${ctx.staff.knowledge.listProcedures().map((p) => html`<option value="${p.id}">${p.name}</option>`)}</datalist>`;
  const procedureInput = (id: string, value: string | null): Html => html`<input id="${id}" name="target" list="procedure-ids" value="${value ?? ''}" required maxlength="120" spellcheck="false">`;
  const intentOptions = (selected: string): Html => html`${INTENT_IDS.map((i) => html`<option value="${i}"${attr('selected', i === selected)}>${i}</option>`)}`;

  /** The two teach forms for a text, the third way as a link to the FAQ form. */
  const teachForms = (csrf: Html, n: number, text: string, procedure: string | null, intent: string): Html => html`<div class="teach">
<form method="post" action="/staff/review/teach">${csrf}<input type="hidden" name="kind" value="alias">
<label for="alias-target-${n}">${T.teachAlias}</label>${procedureInput(`alias-target-${n}`, procedure)}
<label class="sub" for="alias-text-${n}">${T.teachText}</label><input id="alias-text-${n}" name="text" value="${text}" maxlength="300" required>
<button type="submit" name="action" value="save" class="secondary">${T.teachAliasButton}</button></form>
<form method="post" action="/staff/review/teach">${csrf}<input type="hidden" name="kind" value="example">
<label for="example-target-${n}">${T.teachExample}</label><select id="example-target-${n}" name="target">${intentOptions(intent)}</select>
<label class="sub" for="example-text-${n}">${T.teachText}</label><input id="example-text-${n}" name="text" value="${text}" maxlength="300" required>
<button type="submit" name="action" value="save" class="secondary">${T.teachExampleButton}</button></form>
<p><a class="button secondary" href="/staff/knowledge/faq/new?question=${encodeURIComponent(text)}">${T.teachFaq}</a></p>
</div>`;

  const groupView = (csrf: Html, g: ReviewGroupView, n: number): Html => html`<li class="group card">
<h2><span class="count">${T.reviewTimes(g.count)}</span> «${g.text}»</h2>
${g.examples.length ? html`<p>${T.reviewOther}: ${g.examples.map((e, i) => html`${i ? ', ' : ''}«${e}»`)}</p>` : ''}
<p class="meta">${Object.entries(g.reasons).map(([k, v], i) => html`${i ? ', ' : ''}${T.reviewReasons[k] ?? k} ${v}`)} · ${Object.entries(g.channels).map(([k, v], i) => html`${i ? ', ' : ''}${k} ${v}`)} · ${g.first.slice(0, 10)} → ${g.last.slice(0, 10)}</p>
${understanding(T.reviewGuess, g.guess)}
${understanding(T.reviewNow, g.now)}
${teachForms(csrf, n, g.text, g.now.procedure ?? g.guess.procedure, g.now.intent)}
</li>`;

  app.get('/review', { config: { access: 'review' } }, (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const since = typeof q.since === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(q.since) ? q.since : undefined;
    const r = ctx.staff.review.groups({ since });
    const csrf = ctx.csrfField(reply);
    return ctx.page(req, reply, {
      title: T.reviewTitle,
      active: 'review',
      body: html`<h1>${T.reviewTitle}</h1>
<form method="get" action="/staff/review" class="filters"><label for="since">${T.since}</label><input id="since" name="since" type="date" value="${since ?? ''}"><button type="submit" class="secondary">${T.auditFilter}</button></form>
${r.groups.length ? html`<p>${T.reviewTotal(r.total, r.groups.length)}</p><ol class="groups">${r.groups.slice(0, MAX_GROUPS).map((g, i) => groupView(csrf, g, i))}</ol>${procedureList()}` : html`<p class="empty">${T.reviewEmpty}</p>`}`,
    });
  });

  app.post('/review/teach', { config: { access: 'review' } }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const kind = b.kind === 'example' ? 'example' : 'alias';
    const target = typeof b.target === 'string' ? b.target : '';
    const text = typeof b.text === 'string' ? b.text.slice(0, 300) : '';
    const editor = ctx.staff.knowledge;
    const draft = kind === 'alias' ? editor.draftAlias(target, text) : editor.draftExample(target, text);
    const o = await runDraft(ctx, draft, draftIntent(b.action), ctx.account(req).username, text);
    if (o.saved?.ok) return ctx.redirect(req, reply, '/staff/review', { kind: 'ok', text: o.saved.message.split('\n')[0] ?? T.saved });
    const csrf = ctx.csrfField(reply);
    const isAlias = kind === 'alias';
    return ctx.page(req, reply, {
      title: T.teachRefused,
      active: 'review',
      status: o.refused || !draft.ok ? 409 : 200,
      body: html`<h1>${isAlias ? T.teachAlias : T.teachExample}: «${text}»</h1>
${outcomeView(o)}
<form method="post" action="/staff/review/teach" class="card">${csrf}<input type="hidden" name="kind" value="${kind}">
<label for="teach-target">${isAlias ? T.teachAlias : T.teachExample}</label>
${isAlias ? html`${procedureInput('teach-target', target)}${procedureList()}` : html`<select id="teach-target" name="target">${intentOptions(target)}</select>`}
<label for="teach-text">${T.teachText}</label><input id="teach-text" name="text" value="${text}" maxlength="300" required>
<div class="buttons"><button type="submit" name="action" value="save" class="primary">${T.tryAgain}</button>
${o.guard?.changes.length ? html`<button type="submit" name="action" value="force" class="danger">${T.force}</button>` : ''}</div>
</form>
<p><a href="/staff/review">${T.backToReview}</a></p>`,
    });
  });
}
