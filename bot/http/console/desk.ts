/**
 * The everyday desk pages: dossiers (agent: search by code, CSV upload through the
 * importer — bad rows listed, good rows kept), the dashboard (every role: 7 or 30 days,
 * the server-side SVG charts of bot/staff/charts.ts), and the QR posters (list,
 * download as SVG or PNG).
 *
 *   GET  /staff/dossiers?code=…    search (audited, name and phone masked)
 *   POST /staff/dossiers/import    multipart: file, dryRun
 *   GET  /staff/dashboard?days=7|30
 *   GET  /staff/posters, GET /staff/posters/:name.svg|.png
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DossierImportReport, DossierSearch } from '../../staff/dossiers.ts';
import { dashboardCharts, durationText } from '../../staff/charts.ts';
import type { ConsoleContext } from './index.ts';
import { attr, html, raw, type Html } from './html.ts';
import { T } from './text.ts';

const MAX_BAD_ROWS = 500;

function dossierCard(r: DossierSearch): Html {
  if (!r.ok) return html`<p class="flash error" role="alert">${r.message}</p>`;
  const d = r.dossier;
  const F = T.dossierFields;
  const row = (label: string, value: string | null | undefined) => (value ? html`<dt>${label}</dt><dd>${value}</dd>` : '');
  return html`<section class="card dossier" aria-label="${d.code}"><h2>${d.code}</h2><dl class="facts">
${row(F.procedure, d.procedureName)}${row(F.status, d.status)}${row(F.received, d.receivedAt)}${row(F.due, d.dueAt)}${row(F.finished, d.finishedAt)}
${d.overdueDays > 0 ? row(F.overdue, T.overdueDays(d.overdueDays)) : ''}${row(F.applicant, d.applicant)}${row(F.phone, d.phone)}${row(F.step, d.currentStep)}${row(F.note, d.note)}
</dl></section>`;
}

function importReport(r: DossierImportReport, dryRun: boolean): Html {
  if (r.fatal) return html`<p class="flash error" role="alert">${r.fatal}</p>`;
  const rows = (list: DossierImportReport['errors'], cls: string) =>
    html`<table class="list ${cls}"><thead><tr><th>${T.line}</th><th>${T.problem}</th></tr></thead><tbody>${list.slice(0, MAX_BAD_ROWS).map((e) => html`<tr><td>${e.line}</td><td>${e.message}</td></tr>`)}</tbody></table>`;
  return html`<section class="import-report" aria-live="polite"><p class="flash ${r.badLines ? 'error' : 'ok'}" role="status">${T.dossierReport(r.good, r.imported, r.badLines, dryRun)}</p>
${r.errors.length ? html`<h3>${T.errors}</h3>${rows(r.errors, 'bad-rows')}` : ''}
${r.warnings.length ? html`<h3>${T.warnings}</h3>${rows(r.warnings, 'warn-rows')}` : ''}</section>`;
}

export function deskRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const dossiersPage = (req: FastifyRequest, reply: FastifyReply, code: string, result?: Html) =>
    ctx.page(req, reply, {
      title: T.dossiersTitle,
      active: 'dossiers',
      body: html`<h1>${T.dossiersTitle}</h1>
<section class="card"><h2>${T.dossierSearch}</h2>
<form method="get" action="/staff/dossiers" class="filters"><label for="code">${T.dossierCode}</label><input id="code" name="code" value="${code}" maxlength="200" spellcheck="false" placeholder="000.00.19.H04-250312-0007"><button type="submit" class="primary">${T.search}</button></form>
${result ?? ''}</section>
<section class="card"><h2>${T.dossierImport}</h2><p class="hint">${T.dossierImportHint}</p>
<form method="post" action="/staff/dossiers/import" enctype="multipart/form-data">${ctx.csrfField(reply)}
<label for="file">${T.dossierFile}</label><input id="file" name="file" type="file" accept=".csv,text/csv" required>
<label class="check"><input type="checkbox" name="dryRun" value="1"> ${T.dossierDryRun}</label>
<button type="submit" class="primary">${T.dossierUpload}</button></form></section>`,
    });

  app.get('/dossiers', { config: { access: 'dossiers' } }, async (req, reply) => {
    const code = String((req.query as Record<string, unknown>).code ?? '').slice(0, 200);
    const result = code.trim() ? dossierCard(await ctx.staff.dossiers.search(code, ctx.account(req).username)) : undefined;
    return dossiersPage(req, reply, code, result);
  });

  app.post('/dossiers/import', { config: { access: 'dossiers' } }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const file = b.file;
    const dryRun = b.dryRun === '1';
    if (!Buffer.isBuffer(file) || !file.length) return dossiersPage(req, reply, '', html`<p class="flash error" role="alert">${T.noFile}</p>`);
    const report = ctx.staff.dossiers.importCsv(file, ctx.account(req).username, { dryRun });
    return dossiersPage(req, reply, '', importReport(report, dryRun));
  });

  app.get('/dashboard', { config: { access: 'dashboard' } }, (req, reply) => {
    const days = (req.query as Record<string, unknown>).days === '30' ? 30 : 7;
    const d = ctx.staff.analytics.dashboard(days);
    const procedures = ctx.holder.version.understander.procedures;
    const charts = dashboardCharts(d, (id) => procedures.get(id)?.name ?? id);
    const own = d.totals.messages - d.totals.quiet;
    const pct = (n: number, of: number) => (of ? `${Math.round((n / of) * 100)}%` : T.none);
    const K = T.totals;
    const tile = (label: string, value: string | number, cls = '') => html`<div class="tile ${cls}"><span class="value">${value}</span><span class="label">${label}</span></div>`;
    return ctx.page(req, reply, {
      title: T.dashboardTitle,
      active: 'dashboard',
      body: html`<h1>${T.dashboardTitle}</h1>
<p class="switch">${[7, 30].map((n) => html`<a href="/staff/dashboard?days=${n}"${attr('aria-current="page"', n === days)}>${T.days(n)}</a> `)}</p>
<div class="tiles" id="totals">
${tile(K.messages, d.totals.messages, 'messages')}${tile(K.answered, pct(d.totals.answered, own))}${tile(K.clarified, pct(d.totals.clarified, own))}${tile(K.unanswered, pct(d.totals.unanswered, own))}
${tile(K.handoffs, d.handoffs.total, 'handoffs')}${tile(K.medianReply, d.handoffs.medianFirstReplyMs === null ? T.none : durationText(d.handoffs.medianFirstReplyMs))}${tile(K.ratings, d.ratings.share === null ? T.none : `${Math.round(d.ratings.share * 100)}%`)}
</div>
<ul class="notes">${charts.notes.map((n) => html`<li>${n}</li>`)}</ul>
<div class="charts">${Object.entries(charts.svg).map(([name, svg]) => html`<figure class="chart ${name}">${raw(svg)}</figure>`)}</div>`,
    });
  });

  app.get('/posters', { config: { access: 'posters' } }, (req, reply) => {
    const list = ctx.staff.posters.list();
    return ctx.page(req, reply, {
      title: T.postersTitle,
      active: 'posters',
      body: html`<h1>${T.postersTitle}</h1><p class="hint">${T.postersHint}</p>
<table class="list posters"><thead><tr><th>${T.name}</th><th>${T.link}</th><th></th></tr></thead><tbody>
${list.map((p) => html`<tr><td>${p.title}${p.draft ? html` <span class="tag">${T.posterDraft}</span>` : ''}</td><td><code>${p.url}</code></td>
<td class="downloads"><a href="/staff/posters/${encodeURIComponent(p.name)}.svg" download>SVG</a> <a href="/staff/posters/${encodeURIComponent(p.name)}.png" download>PNG</a></td></tr>`)}
</tbody></table>`,
    });
  });

  app.get<{ Params: { file: string } }>('/posters/:file', { config: { access: 'posters' } }, (req, reply) => {
    const m = /^([A-Za-z0-9._-]{1,160})\.(svg|png)$/.exec(req.params.file);
    const body = m ? ctx.staff.posters.render(m[1] as string, m[2] as 'svg' | 'png') : undefined;
    if (!m || !body) return reply.code(404).send({ error: T.notFound });
    return reply
      .type(m[2] === 'svg' ? 'image/svg+xml' : 'image/png')
      .header('Content-Disposition', `attachment; filename="${m[1]}.${m[2]}"`)
      .send(body);
  });
}
