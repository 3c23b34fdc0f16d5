/**
 * Admin pages: staff accounts (the `StaffAccounts` service `npm run staff` uses: add,
 * role, disable/enable, new password, lift a sign-in lockout) and the audit log (who did
 * what, when, from which address). Only roles with the `accounts` / `audit` permission
 * reach them; everyone else gets 403 from the access check before a handler runs.
 *
 *   GET  /staff/accounts, POST /staff/accounts (add)
 *   POST /staff/accounts/:username/role | /disable | /enable | /password | /unlock
 *   GET  /staff/audit?actor=&action=&since=
 */
import type { FastifyInstance } from 'fastify';
import { AccountError, ROLE_LABELS, ROLES } from '../../staff/accounts.ts';
import type { ConsoleContext } from './index.ts';
import { attr, html, vnTime } from './html.ts';
import { T } from './text.ts';

export function adminRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { staff } = ctx;
  const roleOptions = (selected: string) => html`${ROLES.map((r) => html`<option value="${r}"${attr('selected', r === selected)}>${ROLE_LABELS[r]}</option>`)}`;

  app.get('/accounts', { config: { access: 'accounts' } }, (req, reply) => {
    const csrf = ctx.csrfField(reply);
    const me = ctx.account(req).username;
    const form = (u: string, what: string, body: ReturnType<typeof html>) => html`<form method="post" action="/staff/accounts/${encodeURIComponent(u)}/${what}" class="inline">${csrf}${body}</form>`;
    return ctx.page(req, reply, {
      title: T.accountsTitle,
      active: 'accounts',
      body: html`<h1>${T.accountsTitle}</h1>
<table class="list accounts"><thead><tr><th>${T.username}</th><th>${T.role}</th><th>${T.state}</th><th>${T.lastLogin}</th><th></th></tr></thead><tbody>
${staff.accounts.list().map(
  (a) => html`<tr data-user="${a.username}"><td><b>${a.username}</b>${a.username === me ? ' ✓' : ''}</td>
<td>${form(a.username, 'role', html`<label class="visually-hidden" for="role-${a.username}">${T.role}</label><select id="role-${a.username}" name="role">${roleOptions(a.role)}</select> <button type="submit" class="secondary">${T.change}</button>`)}</td>
<td>${a.disabled ? T.disabled : T.active}</td><td>${a.lastLoginAt ? vnTime(a.lastLoginAt) : T.none}</td>
<td class="row-actions">${form(a.username, a.disabled ? 'enable' : 'disable', html`<button type="submit" class="secondary">${a.disabled ? T.enable : T.disable}</button>`)}
${form(a.username, 'unlock', html`<button type="submit" class="secondary">${T.unlock}</button>`)}
${form(a.username, 'password', html`<label class="visually-hidden" for="pw-${a.username}">${T.setPassword}</label><input id="pw-${a.username}" name="password" type="password" autocomplete="new-password" minlength="10" required placeholder="${T.setPassword}"> <button type="submit" class="secondary">${T.setPassword}</button>`)}</td></tr>`,
)}
</tbody></table>
<section class="card narrow"><h2>${T.addAccount}</h2>
<form method="post" action="/staff/accounts">${csrf}
<label for="new-username">${T.username}</label><input id="new-username" name="username" required maxlength="32" autocapitalize="none" spellcheck="false">
<label for="new-role">${T.role}</label><select id="new-role" name="role">${roleOptions('agent')}</select>
<label for="new-password">${T.password}</label><input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="10">
<p class="hint">${T.passwordRule}</p>
<button type="submit" class="primary">${T.add}</button></form></section>`,
    });
  });

  /** Runs an account change; the service's own Vietnamese message on refusal. */
  const change = async (run: () => unknown, done: string): Promise<{ kind: 'ok' | 'error'; text: string }> => {
    try {
      await run();
      return { kind: 'ok', text: T.accountDone(done) };
    } catch (err) {
      if (err instanceof AccountError) return { kind: 'error', text: err.message };
      throw err;
    }
  };
  const field = (b: unknown, k: string): string => {
    const v = (b as Record<string, unknown> | undefined)?.[k];
    return typeof v === 'string' ? v : '';
  };

  app.post('/accounts', { config: { access: 'accounts' } }, async (req, reply) => {
    const me = ctx.account(req).username;
    const u = field(req.body, 'username');
    const flash = await change(() => staff.accounts.add(u, field(req.body, 'role'), field(req.body, 'password'), me), `${T.add.toLowerCase()} ${u.trim().toLowerCase()}`);
    return ctx.redirect(req, reply, '/staff/accounts', flash);
  });

  app.post<{ Params: { username: string; what: string } }>('/accounts/:username/:what', { config: { access: 'accounts' } }, async (req, reply) => {
    const me = ctx.account(req).username;
    const u = req.params.username;
    const b = req.body;
    const actions: Record<string, [() => unknown, string]> = {
      role: [() => staff.accounts.setRole(u, field(b, 'role'), me), `${T.change.toLowerCase()} ${T.role.toLowerCase()} ${u}`],
      disable: [() => staff.accounts.setDisabled(u, true, me), `${T.disable.toLowerCase()} ${u}`],
      enable: [() => staff.accounts.setDisabled(u, false, me), `${T.enable.toLowerCase()} ${u}`],
      password: [() => staff.accounts.setPassword(u, field(b, 'password'), me), `${T.setPassword.toLowerCase()} ${u}`],
      unlock: [() => (staff.accounts.get(u) ? staff.auth.unlock(u, me) : Promise.reject(new AccountError(`Không có tài khoản "${u}".`))), `${T.unlock.toLowerCase()} ${u}`],
    };
    const action = Object.hasOwn(actions, req.params.what) ? actions[req.params.what] : undefined;
    if (!action) return reply.code(404).send({ error: T.notFound });
    return ctx.redirect(req, reply, '/staff/accounts', await change(...action));
  });

  app.get('/audit', { config: { access: 'audit' } }, (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const actor = typeof q.actor === 'string' ? q.actor.slice(0, 80) : '';
    const action = typeof q.action === 'string' ? q.action.slice(0, 60) : '';
    const since = typeof q.since === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(q.since) ? q.since : '';
    const rows = staff.audit.list({ actor: actor || undefined, action: action || undefined, since: since ? Date.parse(`${since}T00:00:00+07:00`) : undefined, limit: 300 });
    return ctx.page(req, reply, {
      title: T.auditTitle,
      active: 'audit',
      body: html`<h1>${T.auditTitle}</h1>
<form method="get" action="/staff/audit" class="filters">
<label for="a-since">${T.since}</label><input id="a-since" name="since" type="date" value="${since}">
<label for="a-actor">${T.actor}</label><input id="a-actor" name="actor" value="${actor}">
<label for="a-action">${T.actionPrefix}</label><input id="a-action" name="action" value="${action}">
<button type="submit" class="secondary">${T.auditFilter}</button></form>
<table class="list audit"><thead><tr><th>${T.when}</th><th>${T.actor}</th><th>${T.action}</th><th>${T.target}</th><th>${T.detail}</th><th>${T.address}</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${vnTime(r.at)}</td><td>${r.actor}</td><td><code>${r.action}</code></td><td>${r.target ?? ''}</td><td>${r.detail ?? ''}</td><td>${r.address ?? ''}</td></tr>`)}
</tbody></table>`,
    });
  });
}
