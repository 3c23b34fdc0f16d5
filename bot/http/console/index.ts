/**
 * The staff console at `/staff/`: one more area of the Fastify app (bot/http/server.ts),
 * with what only it needs registered in its own scope — @fastify/cookie and
 * @fastify/session (sessions in memory, or Redis with REDIS_URL), @fastify/csrf-protection
 * (a token on every POST), @fastify/formbody and @fastify/multipart (forms and the CSV
 * upload), @fastify/static (its own CSS and script). Security headers and the strict CSP
 * come from the app; the console has no inline script or style and loads nothing from
 * outside.
 *
 * It owns only the web part: every page calls the staff services (bot/staff, bot/handoff)
 * that the CLI calls too. Pages, one module each:
 *
 *   GET  /staff/login, POST /staff/login, POST /staff/logout, GET|POST /staff/password
 *   /staff/inbox…      hand-offs and complaints, live (SSE), reply, release, close   (inbox.ts)
 *   /staff/review…     grouped review inbox, one-click teach through the teach guard   (review.ts)
 *   /staff/knowledge…  FAQ and procedure key fields, preview, history, restore         (knowledge.ts)
 *   /staff/dossiers…   search by code, CSV upload                                      (desk.ts)
 *   /staff/dashboard, /staff/posters…                                                  (desk.ts)
 *   /staff/accounts…, /staff/audit                                                     (admin.ts)
 *
 * Access: every route names the permission it needs (`config.permission`, the role table
 * of bot/staff/accounts.ts) and is checked on the server before anything else runs; a
 * session is checked at every request for its idle and absolute expiry and for its
 * account (disabled or a changed password ends it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { KnowledgeHolder } from '../../assistant.ts';
import type { Config } from '../../config.ts';
import type { Logger } from '../../dialogue/engine.ts';
import { can, PERMISSIONS, ROLE_LABELS, type Permission, type StaffAccount } from '../../staff/accounts.ts';
import { authMessage } from '../../staff/auth.ts';
import type { StaffServices } from '../../staff/index.ts';
import { addressKey } from '../chat.ts';
import type { HttpArea } from '../server.ts';
import { adminRoutes } from './admin.ts';
import { deskRoutes } from './desk.ts';
import { html, type Html } from './html.ts';
import { inboxRoutes } from './inbox.ts';
import { knowledgeRoutes } from './knowledge.ts';
import { reviewRoutes } from './review.ts';
import { MemorySessionStore, RedisSessionStore, SESSION_STORE_LIMITS, sessionSecret } from './sessions.ts';
import { T } from './text.ts';

/** Who may reach a route: a permission of the role table, any signed-in account, or anyone. */
export type Access = Permission | 'signed-in' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The console's access rule for this route (default: any signed-in account). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The signed-in staff member (console routes only). */
    staffAccount: StaffAccount | null;
  }
}

/** The configuration the console reads. */
export type ConsoleConfig = Pick<Config, 'DATA_DIR' | 'QUEUE_PREFIX' | 'STAFF_COOKIE_SECURE' | 'STAFF_SESSION_IDLE_MINUTES' | 'STAFF_SESSION_MAX_HOURS' | 'STAFF_SESSION_SECRET' | 'STAFF_UPLOAD_MAX_MB'>;

export interface ConsoleAreaOptions {
  staff: StaffServices;
  holder: Pick<KnowledgeHolder, 'version'>;
  config: ConsoleConfig;
  /** Sessions in Redis (valid in every process) when given. */
  redis?: Redis;
  log?: Logger;
  /** The clock sessions are checked against (tests move it). */
  now?: () => number;
}

/** Name and path of the session cookie, and the sign-in form's own CSRF cookie. */
export const CONSOLE_COOKIE = Object.freeze({ name: 'tthc_staff', path: '/staff', loginCsrf: 'tthc_staff_login' });
/** A request the page's script makes by itself (a live refresh): it does not count as the staff member's activity. */
export const AUTO_HEADER = 'x-console-auto';

/** What the page modules get: the services, the clock, and the page frame. */
export interface ConsoleContext {
  staff: StaffServices;
  holder: Pick<KnowledgeHolder, 'version'>;
  config: ConsoleConfig;
  log?: Logger;
  now(): number;
  /** Sends a full page inside the console frame (navigation, flash notice, CSRF token). */
  page(req: FastifyRequest, reply: FastifyReply, p: PageSpec): FastifyReply;
  /** A hidden `_csrf` field for a form. */
  csrfField(reply: FastifyReply): Html;
  /** Keeps a notice for the next page and redirects there (POST, then GET). */
  redirect(req: FastifyRequest, reply: FastifyReply, to: string, flash?: { kind: 'ok' | 'error'; text: string }): FastifyReply;
  /** The signed-in account (routes behind an access rule always have one). */
  account(req: FastifyRequest): StaffAccount;
  /** The client address as the limits count it. */
  address(req: FastifyRequest): string;
}

export interface PageSpec {
  title: string;
  /** The navigation entry to highlight, and `data-page` for the script. */
  active?: Permission | 'password' | 'login';
  body: Html;
  status?: number;
}

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');

/** The navigation: one entry per permission, shown to the roles that have it. */
const NAV: { perm: Permission; path: string }[] = PERMISSIONS.map((perm) => ({ perm, path: `/staff/${perm}` }));

/** The first page a role may open (where `/staff/` leads). */
export function homeOf(account: StaffAccount): string {
  return NAV.find((n) => can(account.role, n.perm))?.path ?? '/staff/password';
}

/** A `next` target after sign-in: only a console path on this site. */
function safeNext(raw: unknown): string | null {
  return typeof raw === 'string' && /^\/staff(?:\/[^\s\\]*)?$/.test(raw) && !raw.startsWith('//') && !raw.includes('/..') ? raw : null;
}

const versionOf = (file: string): string => createHash('sha256').update(readFileSync(join(STATIC_DIR, file))).digest('base64url').slice(0, 12);

/** Builds the console area (see the module comment). */
export function consoleArea(opts: ConsoleAreaOptions): HttpArea {
  const { staff, config } = opts;
  const now = opts.now ?? Date.now;
  const idleMs = config.STAFF_SESSION_IDLE_MINUTES * 60_000;
  const maxMs = config.STAFF_SESSION_MAX_HOURS * 3600_000;
  const ttl = { signedInMs: idleMs, anonymousMs: Math.min(idleMs, SESSION_STORE_LIMITS.anonymousTtlMs) };
  const store = opts.redis ? new RedisSessionStore(opts.redis, { prefix: config.QUEUE_PREFIX, ttl }) : new MemorySessionStore(ttl);
  const assets = { css: versionOf('console.css'), js: versionOf('console.js') };

  // One token per response: in the sign-in scope each `generateCsrf` call without a secret cookie yet would make a new secret.
  const tokens = new WeakMap<FastifyReply, string>();
  const csrfToken = (reply: FastifyReply): string => {
    let t = tokens.get(reply);
    if (!t) tokens.set(reply, (t = reply.generateCsrf()));
    return t;
  };
  const csrfField = (reply: FastifyReply): Html => html`<input type="hidden" name="_csrf" value="${csrfToken(reply)}">`;

  const frame = (req: FastifyRequest, reply: FastifyReply, p: PageSpec): Html => {
    const account = req.staffAccount;
    const token = csrfToken(reply);
    const flash = req.session?.flash;
    if (flash) delete req.session.flash;
    const site = opts.holder.version.knowledge.site;
    const nav = account
      ? html`<nav class="nav" aria-label="Các trang">${NAV.filter((n) => can(account.role, n.perm)).map((n) => html`<a href="${n.path}"${n.perm === p.active ? html` aria-current="page"` : ''}>${T.nav[n.perm]}</a>`)}</nav>
<div class="me"><a href="/staff/password"${p.active === 'password' ? html` aria-current="page"` : ''} title="${T.myPassword}">${account.username} · ${ROLE_LABELS[account.role]}</a>
<form method="post" action="/staff/logout" class="inline"><input type="hidden" name="_csrf" value="${token}"><button type="submit" class="quiet">${T.signOut}</button></form></div>`
      : '';
    return html`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="csrf-token" content="${token}">
<title>${p.title} — ${T.product}</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/staff/static/console.css?v=${assets.css}">
<script src="/staff/static/console.js?v=${assets.js}" defer></script>
</head>
<body data-page="${p.active ?? ''}">
<header class="top"><a class="brand" href="/staff/">${T.product}</a><span class="centre">${site.centreName}</span>${nav}</header>
<div id="live-lost" class="flash error" role="alert" hidden>${T.liveLost}</div>
<main id="main" class="main">
${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
${p.body}
</main>
</body>
</html>
`;
  };

  const ctx: ConsoleContext = {
    staff,
    holder: opts.holder,
    config,
    log: opts.log,
    now,
    page: (req, reply, p) => reply.code(p.status ?? 200).type('text/html; charset=utf-8').send(frame(req, reply, p).value),
    csrfField,
    redirect(req, reply, to, flash) {
      if (flash && req.session) req.session.flash = flash;
      return reply.redirect(to, 303);
    },
    account(req) {
      if (!req.staffAccount) throw new Error('console route without an account');
      return req.staffAccount;
    },
    address: (req) => addressKey(req.ip),
  };

  const loginPage = (req: FastifyRequest, reply: FastifyReply, message?: string, status = 200, username = ''): FastifyReply => {
    const next = safeNext((req.query as Record<string, unknown>)?.next) ?? safeNext((req.body as Record<string, unknown> | undefined)?.next) ?? '';
    const none = staff.accounts.list().length === 0;
    return ctx.page(req, reply, {
      title: T.signIn,
      active: 'login',
      status,
      body: html`<section class="login card">
<h1>${T.signIn}</h1>
${message ? html`<p class="flash error" role="alert">${message}</p>` : ''}
${none ? html`<p class="flash error">${T.noAccounts}</p>` : ''}
<form method="post" action="/staff/login">
${csrfField(reply)}
<input type="hidden" name="next" value="${next}">
<label for="username">${T.username}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" value="${username}" autofocus>
<label for="password">${T.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200">
<button type="submit" class="primary">${T.signIn}</button>
</form>
</section>`,
    });
  };

  const errorHandler = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      opts.log?.warn({ path: req.url.slice(0, 100), user: req.staffAccount?.username }, 'staff console: request without a valid CSRF token refused');
      if (req.routeOptions.url === '/staff/login') return loginPage(req, reply, T.staleLogin, 403);
      if (req.routeOptions.url === '/staff/logout') return reply.redirect('/staff/login', 303);
      if (req.headers[AUTO_HEADER] || !req.headers.accept?.includes('text/html')) return reply.code(403).send({ error: T.staleForm });
      return ctx.page(req, reply, { title: T.staleForm, status: 403, body: html`<section class="card"><h1>403</h1><p>${T.staleForm}</p></section>` });
    }
    if (err.code === 'FST_REQ_FILE_TOO_LARGE' || err.code === 'FST_PARTS_LIMIT' || err.code === 'FST_FILES_LIMIT' || err.code === 'FST_FIELDS_LIMIT') {
      const text = err.code === 'FST_REQ_FILE_TOO_LARGE' ? T.tooLarge(config.STAFF_UPLOAD_MAX_MB) : T.failed;
      return ctx.page(req, reply, { title: text, status: 413, body: html`<section class="card"><p class="flash error" role="alert">${text}</p></section>` });
    }
    throw err; // the app's handler answers everything else
  };

  /** Every state-changing request of a scope carries its CSRF token (form field `_csrf` or header `x-csrf-token`). */
  const requireCsrf = (scope: FastifyInstance) =>
    scope.addHook('preHandler', (req, reply, done) => {
      if (req.method !== 'POST') return done();
      scope.csrfProtection(req, reply, done);
    });

  const plugin: FastifyPluginAsync = async (app: FastifyInstance) => {
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: sessionSecret(config),
      cookieName: CONSOLE_COOKIE.name,
      store,
      saveUninitialized: false,
      rolling: true,
      cookie: { path: CONSOLE_COOKIE.path, httpOnly: true, sameSite: 'strict', secure: config.STAFF_COOKIE_SECURE, maxAge: idleMs },
    });
    await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
    app.decorateRequest('staffAccount', null);
    app.setErrorHandler(errorHandler);
    // Pages hold citizens' conversations and staff data: never cached, never indexed.
    app.addHook('onSend', async (req, reply, payload) => {
      if (!req.url.startsWith('/staff/static/')) reply.header('Cache-Control', 'no-store').header('X-Robots-Tag', 'noindex, nofollow');
      return payload;
    });

    // Sign-in, in a scope of its own: its CSRF secret lives in a cookie of its own, so a
    // visitor who is not signed in never gets a session — and a page reached from another
    // site (which arrives without the SameSite=Strict session cookie) never replaces the
    // session cookie of a staff member signed in in the same browser.
    await app.register(async (login) => {
      await login.register(fastifyCsrf, { sessionPlugin: '@fastify/cookie', cookieKey: CONSOLE_COOKIE.loginCsrf, cookieOpts: { path: '/staff/login', httpOnly: true, sameSite: 'strict', secure: config.STAFF_COOKIE_SECURE } });
      requireCsrf(login);
      login.get('/login', (req, reply) => {
        const s = req.session.staff;
        if (s && staff.auth.sessionAccount(s.username, s.issuedAt) && now() - s.lastSeen <= idleMs && now() - s.signedInAt <= maxMs) return reply.redirect('/staff/', 303);
        return loginPage(req, reply);
      });
      login.post('/login', async (req, reply) => {
        const b = (req.body ?? {}) as Record<string, unknown>;
        const username = typeof b.username === 'string' ? b.username : '';
        const result = await staff.auth.verify(username, typeof b.password === 'string' ? b.password : '', ctx.address(req));
        if (!result.ok) {
          const status = result.reason === 'throttled' || result.reason === 'locked' ? 429 : 401;
          return loginPage(req, reply, authMessage(result), status, username.slice(0, 64));
        }
        // A new session id at sign-in: a session fixed before it is worth nothing.
        await req.session.regenerate();
        const t = now();
        req.session.staff = { username: result.account.username, issuedAt: Date.now(), signedInAt: t, lastSeen: t };
        req.staffAccount = result.account;
        return reply.redirect(safeNext(b.next) ?? homeOf(result.account), 303);
      });
    });

    await app.register(async (work) => {
      await work.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
      await work.register(fastifyMultipart, {
        attachFieldsToBody: 'keyValues',
        limits: { fileSize: config.STAFF_UPLOAD_MAX_MB * 2 ** 20, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 },
      });
      await work.register(fastifyStatic, { root: STATIC_DIR, prefix: '/static/', maxAge: '1d', index: false });
      requireCsrf(work);
      await workRoutes(work);
    });
  };

  const workRoutes = async (app: FastifyInstance): Promise<void> => {
    // Who is asking, before anything else runs (also before a body is read).
    app.addHook('onRequest', async (req, reply) => {
      const access = req.routeOptions.config.access ?? 'signed-in';
      if (access === 'public' || req.url.startsWith('/staff/static/')) return;
      const s = req.session.staff;
      const t = now();
      const fresh = !!s && t - s.lastSeen <= idleMs && t - s.signedInAt <= maxMs;
      const account = s && fresh ? staff.auth.sessionAccount(s.username, s.issuedAt) : undefined;
      if (!account || !s) {
        if (s) {
          delete req.session.staff;
          req.session.flash = { kind: 'error', text: T.sessionExpired };
        }
        if (req.method === 'GET' && !req.headers[AUTO_HEADER] && !req.headers.accept?.includes('text/event-stream')) {
          return reply.redirect(`/staff/login?next=${encodeURIComponent(req.url.slice(0, 300))}`, 303);
        }
        if (req.method === 'POST' && !req.headers[AUTO_HEADER]) return reply.redirect('/staff/login', 303);
        return reply.code(401).type('application/json').send({ error: T.sessionExpired });
      }
      req.staffAccount = account;
      if (access !== 'signed-in' && !can(account.role, access)) {
        return ctx.page(req, reply, { title: T.forbidden, status: 403, body: html`<section class="card"><h1>403</h1><p>${T.forbidden}</p><p><a href="${homeOf(account)}">${T.product}</a></p></section>` });
      }
      if (!req.headers[AUTO_HEADER]) s.lastSeen = t;
    });

    app.get('/', (req, reply) => reply.redirect(req.staffAccount ? homeOf(req.staffAccount) : '/staff/login', 303));

    app.post('/logout', { config: { access: 'public' } }, async (req, reply) => {
      const who = req.session.staff?.username;
      if (who) staff.audit.record({ actor: who, action: 'login.logout', target: who, address: ctx.address(req) });
      await req.session.destroy();
      reply.clearCookie(CONSOLE_COOKIE.name, { path: CONSOLE_COOKIE.path });
      return reply.redirect('/staff/login', 303);
    });

    // Any signed-in staff member: change their own password.
    const passwordPage = (req: FastifyRequest, reply: FastifyReply, message?: { kind: 'ok' | 'error'; text: string }) =>
      ctx.page(req, reply, {
        title: T.myPassword,
        active: 'password',
        body: html`<section class="card narrow"><h1>${T.myPassword}</h1>
${message ? html`<p class="flash ${message.kind}" role="alert">${message.text}</p>` : ''}
<form method="post" action="/staff/password">${csrfField(reply)}
<label for="current">${T.currentPassword}</label><input id="current" name="current" type="password" autocomplete="current-password" required>
<label for="fresh">${T.newPassword}</label><input id="fresh" name="password" type="password" autocomplete="new-password" required minlength="10">
<p class="hint">${T.passwordRule}</p>
<button type="submit" class="primary">${T.myPassword}</button></form></section>`,
      });
    app.get('/password', (req, reply) => passwordPage(req, reply));
    app.post('/password', async (req, reply) => {
      const me = ctx.account(req);
      const b = (req.body ?? {}) as Record<string, unknown>;
      const check = await staff.auth.verify(me.username, typeof b.current === 'string' ? b.current : '', ctx.address(req));
      if (!check.ok) return passwordPage(req, reply, { kind: 'error', text: authMessage(check) });
      try {
        await staff.accounts.setPassword(me.username, typeof b.password === 'string' ? b.password : '', me.username);
      } catch (err) {
        return passwordPage(req, reply, { kind: 'error', text: (err as Error).message });
      }
      // Other sessions of this account end (they were issued before the change); this one goes on.
      const s = req.session.staff;
      if (s) s.issuedAt = Date.now() + 1;
      return ctx.redirect(req, reply, '/staff/password', { kind: 'ok', text: T.passwordChanged });
    });

    inboxRoutes(app, ctx);
    reviewRoutes(app, ctx);
    knowledgeRoutes(app, ctx);
    deskRoutes(app, ctx);
    adminRoutes(app, ctx);
  };

  return { name: 'console', plugin, prefix: '/staff' };
}
