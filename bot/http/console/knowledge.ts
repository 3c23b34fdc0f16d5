/**
 * Knowledge editing (editor), through the knowledge editor (bot/staff/knowledge-editor.ts)
 * that `kb add-alias`, `kb add-example` and the spreadsheet import use too: FAQ list and
 * form, a new FAQ, procedure key fields (name, aliases, fee and time per channel, where,
 * lastVerified). Every form can be checked first (validation with the messages of
 * `kb validate`, the teach guard, a preview of the assistant's answer before and after)
 * and is saved through the same guard; a save goes live at once (the reload) and keeps
 * the previous version: history, diff, restore.
 *
 *   GET  /staff/knowledge                      lists (?q= filters)
 *   GET|POST /staff/knowledge/faq/new          a new FAQ (?question= fills it in)
 *   GET|POST /staff/knowledge/faq/:id          one FAQ
 *   GET|POST /staff/knowledge/procedure/:id    one procedure's key fields
 *   GET  /staff/knowledge/history              saves, newest first (?file=)
 *   GET  /staff/knowledge/history/:id          one save: who, when, the diff
 *   POST /staff/knowledge/history/:id/restore  side=after|before, action=save|force
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CHANNEL_METHODS } from '../../../knowledge/schema.ts';
import type { FaqFields, ProcedureKeyFields } from '../../staff/knowledge-editor.ts';
import { diffLines } from '../../staff/history.ts';
import { diffView, draftButtons, draftIntent, outcomeView, runDraft, type DraftOutcome } from './drafts.ts';
import type { ConsoleContext } from './index.ts';
import { html, vnTime, type Html } from './html.ts';
import { T } from './text.ts';

const MAX_ROWS = 300;

/** Lines of a textarea as a list (empty lines dropped). */
function lines(v: unknown): string[] {
  return typeof v === 'string' ? v.split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : [];
}

function str(b: Record<string, unknown>, k: string, max = 20_000): string {
  return typeof b[k] === 'string' ? (b[k] as string).slice(0, max) : '';
}

/** Today in Vietnam (the default "date checked" of a new entry). */
function today(now: number): string {
  return new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
}

export function knowledgeRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const editor = ctx.staff.knowledge;
  const access = { config: { access: 'knowledge' as const } };

  app.get('/knowledge', access, (req, reply) => {
    const q = String((req.query as Record<string, unknown>).q ?? '').trim().toLowerCase().slice(0, 100);
    const match = (...fields: string[]) => !q || fields.some((f) => f.toLowerCase().includes(q));
    const faqs = editor.listFaqs().filter((f) => match(f.id, f.question));
    const procedures = editor.listProcedures().filter((p) => match(p.id, p.name));
    return ctx.page(req, reply, {
      title: T.knowledgeTitle,
      active: 'knowledge',
      body: html`<h1>${T.knowledgeTitle}</h1>
<form method="get" action="/staff/knowledge" class="filters"><label for="q">${T.filterHint}</label><input id="q" name="q" value="${q}" type="search"><button type="submit" class="secondary">${T.search}</button></form>
<p class="links"><a class="button primary" href="/staff/knowledge/faq/new">${T.newFaq}</a> <a class="button secondary" href="/staff/knowledge/history">${T.history}</a></p>
<section><h2>${T.faqs} (${faqs.length})</h2>
<table class="list"><thead><tr><th>${T.id}</th><th>${T.question}</th><th>${T.lastVerified}</th><th></th></tr></thead><tbody>
${faqs.slice(0, MAX_ROWS).map((f) => html`<tr><td><code>${f.id}</code></td><td>${f.question}</td><td>${f.lastVerified}</td><td><a href="/staff/knowledge/faq/${encodeURIComponent(f.id)}">${T.edit}</a></td></tr>`)}
</tbody></table></section>
<section><h2>${T.procedures} (${procedures.length})</h2>
<table class="list"><thead><tr><th>${T.id}</th><th>${T.name}</th><th>${T.lastVerified}</th><th></th></tr></thead><tbody>
${procedures.slice(0, MAX_ROWS).map((p) => html`<tr><td><code>${p.id}</code></td><td>${p.name}${p.status !== 'curated' ? html` <span class="tag">${p.status}</span>` : ''}</td><td>${p.lastVerified}</td><td>${p.file ? html`<a href="/staff/knowledge/procedure/${encodeURIComponent(p.id)}">${T.edit}</a>` : ''}</td></tr>`)}
</tbody></table>${procedures.length > MAX_ROWS ? html`<p class="hint">… ${procedures.length - MAX_ROWS} (${T.filterHint})</p>` : ''}</section>`,
    });
  });

  // ── FAQ ────────────────────────────────────────────────────────────────

  const faqForm = (reply: FastifyReply, action: string, f: FaqFields, isNew: boolean, question: string, o?: DraftOutcome): Html => html`<form method="post" action="${action}" class="card edit">${ctx.csrfField(reply)}
${isNew ? html`<label for="f-id">${T.id}</label><input id="f-id" name="id" value="${f.id}" required placeholder="faq.ten-chu-de" spellcheck="false">` : html`<p class="meta">${T.id}: <code>${f.id}</code></p>`}
<label for="f-question">${T.question}</label><input id="f-question" name="question" value="${f.question}" required maxlength="300">
<label for="f-aliases">${T.aliasesFaq}</label><textarea id="f-aliases" name="aliases" rows="4">${f.aliases.join('\n')}</textarea>
<label for="f-answer">${T.answer}</label><textarea id="f-answer" name="answer" rows="10" required>${f.answer}</textarea>
<label for="f-date">${T.lastVerified}</label><input id="f-date" name="lastVerified" type="date" value="${f.lastVerified}" required>
<label for="f-preview">${T.previewQuestion}</label><input id="f-preview" name="preview" value="${question}" maxlength="500">
${draftButtons(o)}
</form>`;

  const faqFields = (b: Record<string, unknown>, id: string): FaqFields => ({ id, question: str(b, 'question', 300).trim(), aliases: lines(b.aliases), answer: str(b, 'answer').replace(/\r\n/g, '\n').trim(), lastVerified: str(b, 'lastVerified', 10) });

  const faqPage = (req: FastifyRequest, reply: FastifyReply, f: FaqFields, isNew: boolean, question: string, o?: DraftOutcome) =>
    ctx.page(req, reply, {
      title: isNew ? T.newFaq : f.question,
      active: 'knowledge',
      status: o && (o.refused || !o.draft.ok) ? 409 : 200,
      body: html`<p><a href="/staff/knowledge">${T.knowledgeTitle}</a></p><h1>${isNew ? T.newFaq : f.question}</h1>
${o ? outcomeView(o) : ''}
${faqForm(reply, isNew ? '/staff/knowledge/faq/new' : `/staff/knowledge/faq/${encodeURIComponent(f.id)}`, f, isNew, question, o)}
${isNew ? '' : html`<p><a href="/staff/knowledge/history?file=${encodeURIComponent(editor.readFaq(f.id)?.file ?? '')}">${T.history}</a></p>`}`,
    });

  app.get('/knowledge/faq/new', access, (req, reply) => {
    const question = String((req.query as Record<string, unknown>).question ?? '').slice(0, 300);
    return faqPage(req, reply, { id: '', question, aliases: question ? [question] : [], answer: '', lastVerified: today(ctx.now()) }, true, question);
  });

  app.post('/knowledge/faq/new', access, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const f = faqFields(b, str(b, 'id', 80).trim());
    const question = str(b, 'preview', 500) || f.question;
    const o = await runDraft(ctx, editor.draftNewFaq(f), draftIntent(b.action), ctx.account(req).username, question);
    if (o.saved?.ok) return ctx.redirect(req, reply, `/staff/knowledge/faq/${encodeURIComponent(f.id)}`, { kind: 'ok', text: `${o.saved.message.split('\n')[0]} ${T.saved}` });
    return faqPage(req, reply, f, true, question, o);
  });

  app.get<{ Params: { id: string } }>('/knowledge/faq/:id', access, (req, reply) => {
    const cur = editor.readFaq(req.params.id);
    if (!cur) return ctx.redirect(req, reply, '/staff/knowledge', { kind: 'error', text: T.notFound });
    return faqPage(req, reply, cur.fields, false, cur.fields.question);
  });

  app.post<{ Params: { id: string } }>('/knowledge/faq/:id', access, async (req, reply) => {
    const cur = editor.readFaq(req.params.id);
    if (!cur) return ctx.redirect(req, reply, '/staff/knowledge', { kind: 'error', text: T.notFound });
    const b = (req.body ?? {}) as Record<string, unknown>;
    const f = faqFields(b, cur.id);
    const question = str(b, 'preview', 500) || f.question;
    const { id: _id, ...fields } = f;
    const o = await runDraft(ctx, editor.draftFaq(cur.id, fields), draftIntent(b.action), ctx.account(req).username, question);
    if (o.saved?.ok) return ctx.redirect(req, reply, `/staff/knowledge/faq/${encodeURIComponent(cur.id)}`, { kind: 'ok', text: `${o.saved.message.split('\n')[0]} ${T.saved}` });
    return faqPage(req, reply, f, false, question, o);
  });

  // ── Procedures ─────────────────────────────────────────────────────────

  const procedurePage = (req: FastifyRequest, reply: FastifyReply, p: ProcedureKeyFields, file: string, question: string, o?: DraftOutcome) => {
    const channel = (m: (typeof CHANNEL_METHODS)[number]) => p.channels.find((c) => c.method === m) ?? { method: m, fee: '', time: '' };
    return ctx.page(req, reply, {
      title: p.name,
      active: 'knowledge',
      status: o && (o.refused || !o.draft.ok) ? 409 : 200,
      body: html`<p><a href="/staff/knowledge">${T.knowledgeTitle}</a></p><h1>${p.name}</h1>
${o ? outcomeView(o) : ''}
<form method="post" action="/staff/knowledge/procedure/${encodeURIComponent(p.id)}" class="card edit">${ctx.csrfField(reply)}
<p class="meta">${T.id}: <code>${p.id}</code> · ${T.file}: <code>${file}</code></p>
<label for="p-name">${T.name}</label><input id="p-name" name="name" value="${p.name}" required maxlength="300">
<label for="p-aliases">${T.aliasesProcedure}</label><textarea id="p-aliases" name="aliases" rows="5">${p.aliases.join('\n')}</textarea>
<fieldset class="channels"><legend>${T.fee} · ${T.time}</legend><p class="hint">${T.methodHint}</p>
${CHANNEL_METHODS.map((m) => {
  const c = channel(m);
  return html`<div class="channel-row"><h3>${T.methods[m] ?? m}</h3>
<div><label for="fee-${m}">${T.fee}</label><textarea id="fee-${m}" name="fee_${m}" rows="2" maxlength="500">${c.fee}</textarea></div>
<div><label for="time-${m}">${T.time}</label><textarea id="time-${m}" name="time_${m}" rows="2" maxlength="300">${c.time}</textarea></div></div>`;
})}</fieldset>
<label for="p-where">${T.where}</label><textarea id="p-where" name="where" rows="4" required>${p.where.join('\n')}</textarea>
<label for="p-date">${T.lastVerified}</label><input id="p-date" name="lastVerified" type="date" value="${p.lastVerified}" required>
<label for="p-preview">${T.previewQuestion}</label><input id="p-preview" name="preview" value="${question}" maxlength="500">
${draftButtons(o)}
</form>
<p><a href="/staff/knowledge/history?file=${encodeURIComponent(file)}">${T.history}</a></p>`,
    });
  };

  app.get<{ Params: { id: string } }>('/knowledge/procedure/:id', access, (req, reply) => {
    const cur = editor.readProcedure(req.params.id);
    if (!cur) return ctx.redirect(req, reply, '/staff/knowledge', { kind: 'error', text: T.notFound });
    return procedurePage(req, reply, cur.fields, cur.file, `${cur.fields.name} lệ phí bao nhiêu`);
  });

  app.post<{ Params: { id: string } }>('/knowledge/procedure/:id', access, async (req, reply) => {
    const cur = editor.readProcedure(req.params.id);
    if (!cur) return ctx.redirect(req, reply, '/staff/knowledge', { kind: 'error', text: T.notFound });
    const b = (req.body ?? {}) as Record<string, unknown>;
    const fields: Omit<ProcedureKeyFields, 'id'> = {
      name: str(b, 'name', 300).trim(),
      aliases: lines(b.aliases),
      where: lines(b.where),
      lastVerified: str(b, 'lastVerified', 10),
      // One line each in the file: a line break typed in the box is a space.
      channels: CHANNEL_METHODS.map((m) => ({ method: m, fee: str(b, `fee_${m}`, 500).replace(/\s+/g, ' ').trim(), time: str(b, `time_${m}`, 300).replace(/\s+/g, ' ').trim() })),
    };
    const question = str(b, 'preview', 500) || fields.name;
    const o = await runDraft(ctx, editor.draftProcedure(cur.id, fields), draftIntent(b.action), ctx.account(req).username, question);
    if (o.saved?.ok) return ctx.redirect(req, reply, `/staff/knowledge/procedure/${encodeURIComponent(cur.id)}`, { kind: 'ok', text: `${o.saved.message.split('\n')[0]} ${T.saved}` });
    return procedurePage(req, reply, { id: cur.id, ...fields }, cur.file, question, o);
  });

  // ── History ────────────────────────────────────────────────────────────

  app.get('/knowledge/history', access, (req, reply) => {
    const file = String((req.query as Record<string, unknown>).file ?? '').slice(0, 300);
    const rows = ctx.staff.history.list({ file: file || undefined, limit: 200 });
    return ctx.page(req, reply, {
      title: T.history,
      active: 'knowledge',
      body: html`<p><a href="/staff/knowledge">${T.knowledgeTitle}</a></p><h1>${T.history}${file ? html` — <code>${file}</code>` : ''}</h1>
${rows.length ? html`<table class="list"><thead><tr><th>#</th><th>${T.when}</th><th>${T.who}</th><th>${T.action}</th><th>${T.file}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><a href="/staff/knowledge/history/${r.id}">${T.version(r.id)}</a></td><td>${vnTime(r.at)}</td><td>${r.actor}</td><td>${r.action}</td><td><code>${r.root}/${r.file}</code></td></tr>`)}
</tbody></table>` : html`<p class="empty">${T.historyEmpty}</p>`}`,
    });
  });

  const versionPage = (req: FastifyRequest, reply: FastifyReply, id: number, o?: DraftOutcome, side?: 'after' | 'before') => {
    const v = ctx.staff.history.get(id);
    if (!v) return ctx.redirect(req, reply, '/staff/knowledge/history', { kind: 'error', text: T.notFound });
    const csrf = ctx.csrfField(reply);
    const restore = (s: 'after' | 'before', label: string) => html`<form method="post" action="/staff/knowledge/history/${v.id}/restore" class="inline">${csrf}<input type="hidden" name="side" value="${s}">
<button type="submit" name="action" value="save" class="secondary">${label}</button>${o?.guard?.changes.length && side === s ? html` <button type="submit" name="action" value="force" class="danger">${T.force}</button>` : ''}</form>`;
    return ctx.page(req, reply, {
      title: T.version(v.id),
      active: 'knowledge',
      status: o && (o.refused || !o.draft.ok) ? 409 : 200,
      body: html`<p><a href="/staff/knowledge/history">${T.history}</a></p><h1>${T.version(v.id)}: <code>${v.root}/${v.file}</code></h1>
<p class="meta">${vnTime(v.at)} · ${v.actor} · ${v.action}</p>
${o ? outcomeView(o) : ''}
${diffView([{ root: v.root, rel: v.file, lines: diffLines(v.before ?? '', v.after ?? '') }])}
<div class="buttons">${v.after !== null ? restore('after', T.restoreAfter) : ''}${v.before !== null ? restore('before', T.restoreBefore) : ''}</div>`,
    });
  };

  app.get<{ Params: { id: string } }>('/knowledge/history/:id', access, (req, reply) => versionPage(req, reply, Number(req.params.id)));

  app.post<{ Params: { id: string } }>('/knowledge/history/:id/restore', access, async (req, reply) => {
    const id = Number(req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const side = b.side === 'before' ? 'before' : 'after';
    const o = await runDraft(ctx, editor.draftRestore(id, side), draftIntent(b.action), ctx.account(req).username);
    if (o.saved?.ok) return ctx.redirect(req, reply, '/staff/knowledge/history', { kind: 'ok', text: `${o.saved.message.split('\n')[0]} ${T.saved}` });
    return versionPage(req, reply, id, o, side);
  });
}
