/**
 * The staff console over HTTP, without a browser: what the Chromium tests cannot see or
 * would need to wait for — the `Secure` cookie behind HTTPS, idle and absolute expiry on
 * a moved clock, a password change or a disabled account ending a session, answers to
 * requests without a session, the live event stream and its end at shutdown, the upload
 * limit, the bounded session store and the session key file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySessionStore, sessionKeyFile, sessionSecret } from '../bot/http/console/sessions.ts';
import { PASSWORD, startConsoleRig, type ConsoleRig } from './helpers/console.ts';

/** A tiny browser: cookies by name, the CSRF token of the last page. */
class Client {
  readonly cookies = new Map<string, string>();
  token = '';
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async go(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; body?: BodyInit } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', ...this.headers, ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.base}${path}`, { method: init.method ?? (init.form || init.body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (/Expires=Thu, 01 Jan 1970/i.test(c) || !value) this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
    if (res.headers.get('content-type')?.includes('text/html')) {
      const text = await res.clone().text();
      this.token = /name="csrf-token" content="([^"]+)"/.exec(text)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? this.token;
    }
    return res;
  }

  async signIn(username: string, password = PASSWORD): Promise<Response> {
    await this.go('/staff/login');
    return this.go('/staff/login', { form: { _csrf: this.token, username, password } });
  }
}

let rig: ConsoleRig;
let clock = Date.now();

beforeAll(async () => {
  rig = await startConsoleRig({ env: { STAFF_SESSION_IDLE_MINUTES: '30', STAFF_SESSION_MAX_HOURS: '12', STAFF_UPLOAD_MAX_MB: '1' }, now: () => clock });
  for (const [u, role] of [['lan', 'agent'], ['hoa', 'agent'], ['quantri', 'admin'], ['minh', 'editor']] as const) await rig.staff.accounts.add(u, role, PASSWORD, 'test');
});

afterAll(async () => {
  await rig?.close();
});

describe('sessions', () => {
  it('signs in with an HttpOnly, SameSite=Strict session cookie on /staff, and a new session id', async () => {
    const c = new Client(rig.web.url);
    await c.go('/staff/login');
    expect(c.cookies.has('tthc_staff')).toBe(false); // the sign-in page makes no session
    const res = await c.signIn('lan');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/staff/inbox');
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('tthc_staff='));
    expect(cookie).toMatch(/; Path=\/staff/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/; Secure/);
    expect((await c.go('/staff/inbox')).status).toBe(200);
    expect((await c.go('/staff/inbox')).headers.get('cache-control')).toBe('no-store');
  });

  it('marks the cookie Secure when STAFF_COOKIE_SECURE is set, behind an HTTPS proxy', async () => {
    const secure = await startConsoleRig({ share: rig, env: { STAFF_COOKIE_SECURE: 'true' }, trustProxy: true });
    try {
      const c = new Client(secure.web.url, { 'x-forwarded-proto': 'https' });
      const res = await c.signIn('lan');
      expect(res.status).toBe(303);
      expect(res.headers.getSetCookie().find((x) => x.startsWith('tthc_staff='))).toMatch(/; Secure/);
      // Over plain HTTP a Secure cookie is never sent out at all.
      const plain = new Client(secure.web.url);
      expect((await plain.signIn('lan')).headers.getSetCookie().some((x) => x.startsWith('tthc_staff='))).toBe(false);
    } finally {
      await secure.close();
    }
  });

  it('ends a session after the idle time, and after the absolute time however active', async () => {
    const c = new Client(rig.web.url);
    clock = Date.now();
    await c.signIn('lan');
    clock += 29 * 60_000;
    expect((await c.go('/staff/inbox')).status).toBe(200);
    // Requests the page makes by itself do not count as activity.
    clock += 20 * 60_000;
    expect((await c.go('/staff/inbox', { headers: { 'x-console-auto': '1' } })).status).toBe(200);
    clock += 11 * 60_000;
    const idle = await c.go('/staff/inbox');
    expect(idle.status).toBe(303);
    expect(idle.headers.get('location')).toBe('/staff/login?next=%2Fstaff%2Finbox');
    expect(await (await c.go('/staff/login')).text()).toContain('Phiên làm việc đã hết hạn');

    const d = new Client(rig.web.url);
    clock = Date.now();
    await d.signIn('lan');
    const start = clock;
    while (clock + 25 * 60_000 <= start + 12 * 3600_000) {
      clock += 25 * 60_000;
      expect((await d.go('/staff/inbox')).status).toBe(200);
    }
    clock += 25 * 60_000; // past 12 hours since sign-in, 25 minutes after the last request
    expect((await d.go('/staff/inbox')).status).toBe(303);
    clock = Date.now();
  });

  it('ends the sessions of an account whose password changed or that was disabled; the changer stays signed in', async () => {
    const other = new Client(rig.web.url);
    await other.signIn('hoa');
    const self = new Client(rig.web.url);
    await self.signIn('hoa');
    await self.go('/staff/password');
    const changed = await self.go('/staff/password', { form: { _csrf: self.token, current: PASSWORD, password: 'mat-khau-moi-cua-toi-1' } });
    expect(changed.status).toBe(303);
    expect((await self.go('/staff/inbox')).status).toBe(200);
    expect((await other.go('/staff/inbox')).status).toBe(303);

    const admin = new Client(rig.web.url);
    await admin.signIn('quantri');
    await admin.go('/staff/accounts');
    expect((await admin.go('/staff/accounts/hoa/disable', { form: { _csrf: admin.token } })).status).toBe(303);
    expect((await self.go('/staff/inbox')).status).toBe(303);
    expect((await self.signIn('hoa', 'mat-khau-moi-cua-toi-1')).status).toBe(401);
    expect(rig.staff.audit.list({ action: 'account.' }).map((e) => e.action)).toEqual(expect.arrayContaining(['account.passwd', 'account.disable']));
  });

  it('answers requests without a session: sign-in page for pages, 401 for the script and the live stream', async () => {
    const c = new Client(rig.web.url);
    expect((await c.go('/staff/dashboard')).headers.get('location')).toBe('/staff/login?next=%2Fstaff%2Fdashboard');
    expect((await c.go('/staff/inbox/HT-261202-0001/reply', { form: { text: 'x' } })).headers.get('location')).toBe('/staff/login');
    expect((await c.go('/staff/inbox', { headers: { 'x-console-auto': '1' } })).status).toBe(401);
    expect((await c.go('/staff/inbox/events', { headers: { accept: 'text/event-stream' } })).status).toBe(401);
    // After sign-in, only a console path is followed.
    await c.go('/staff/login?next=//evil.example/x');
    const res = await c.go('/staff/login', { form: { _csrf: c.token, username: 'lan', password: PASSWORD, next: '//evil.example/x' } });
    expect(res.headers.get('location')).toBe('/staff/inbox');
  });

  it('refuses the sign-in form without its token', async () => {
    const c = new Client(rig.web.url);
    await c.go('/staff/login');
    const res = await c.go('/staff/login', { form: { username: 'lan', password: PASSWORD } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Trang đăng nhập đã cũ');
    expect(c.cookies.has('tthc_staff')).toBe(false);
  });
});

describe('procedure key fields', () => {
  it('saves a fee typed in the form and the assistant answers with it at once; a bad date gets the validator message', async () => {
    const c = new Client(rig.web.url);
    await c.signIn('minh');
    const page = await (await c.go('/staff/knowledge/procedure/ho-tich.khai-sinh')).text();
    expect(page).toContain('name="fee_truc-tiep"');
    const cur = rig.staff.knowledge.readProcedure('ho-tich.khai-sinh')?.fields;
    if (!cur) throw new Error('no procedure');
    const form: Record<string, string> = { _csrf: c.token, name: cur.name, aliases: cur.aliases.join('\n'), where: cur.where.join('\n'), lastVerified: cur.lastVerified, preview: 'lệ phí khai sinh bao nhiêu' };
    for (const ch of cur.channels) Object.assign(form, { [`fee_${ch.method}`]: ch.fee, [`time_${ch.method}`]: ch.time });
    const bad = await c.go('/staff/knowledge/procedure/ho-tich.khai-sinh', { form: { ...form, lastVerified: '2026-02-30', action: 'save' } });
    expect(bad.status).toBe(409);
    expect(await bad.text()).toContain('ngày không có thật');
    const fee = 'Miễn lệ phí khi đăng ký đúng hạn;\nquá hạn nộp 5.000 đồng theo mức của tỉnh (thử nghiệm).';
    const saved = await c.go('/staff/knowledge/procedure/ho-tich.khai-sinh', { form: { ...form, _csrf: c.token, 'fee_truc-tiep': fee, action: 'save' } });
    expect(saved.status).toBe(303);
    const p = rig.holder.version.knowledge.procedures.find((x) => x.id === 'ho-tich.khai-sinh');
    expect(p?.channels.find((ch) => ch.method === 'truc-tiep')?.fee).toBe(fee.replace(/\s+/g, ' '));
    const turn = await rig.parts.engine.handle({ channel: 'web', conversationId: 'web-fee-check', userId: 'u', messageId: 'fee-1', text: 'lệ phí đăng ký khai sinh bao nhiêu', kind: 'text' });
    expect(turn.reply?.text).toContain('thử nghiệm');
    expect(rig.staff.history.list({ file: 'procedures/ho-tich.khai-sinh.yaml' })[0]?.actor).toBe('minh');
  });
});

describe('live inbox stream', () => {
  it('sends an event per ticket change, and ends at shutdown', async () => {
    const own = await startConsoleRig({ share: rig });
    const c = new Client(own.web.url);
    await c.signIn('lan');
    const chunks: string[] = [];
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    let first!: () => void;
    const gotEvent = new Promise<void>((r) => (first = r));
    const req = request(`${own.web.url}/staff/inbox/events`, { headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/event-stream' } }, (res) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['content-encoding']).toBeUndefined();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        chunks.push(d);
        if (chunks.join('').includes('event: ticket')) first();
      });
      res.on('end', ended);
    });
    req.end();
    await new Promise<void>((r) => setTimeout(r, 0));
    // The stream is open once the retry line arrives.
    while (!chunks.join('').includes('retry:')) await new Promise<void>((r) => setTimeout(r, 20));
    const ticket = await own.tickets.create({ kind: 'handoff', channel: 'web', conversationId: 'web-stream-1', citizen: 'we***1', reason: 'test', excerpt: [] });
    await gotEvent;
    expect(chunks.join('')).toContain(`"id":"${ticket.id}"`);
    expect(chunks.join('')).toContain('"type":"created"');
    await own.close(); // does not hang on the open stream
    await end;
  });
});

describe('uploads', () => {
  it('refuses a file over STAFF_UPLOAD_MAX_MB with a clear page, after the session and before reading it all', async () => {
    const c = new Client(rig.web.url);
    await c.signIn('lan');
    await c.go('/staff/dossiers');
    const form = new FormData();
    form.set('_csrf', c.token);
    form.set('file', new Blob([Buffer.alloc(1.5 * 2 ** 20, 'a')]), 'big.csv');
    const res = await c.go('/staff/dossiers/import', { body: form });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('Tệp lớn quá 1 MB');
  });
});

describe('session store and key', () => {
  const s = (staff: boolean): Session => ({ cookie: { originalMaxAge: 1000 }, ...(staff ? { staff: { username: 'lan', issuedAt: 1, signedInAt: 1, lastSeen: 1 } } : {}) }) as Session;
  const get = (store: MemorySessionStore, id: string) => new Promise<Session | null | undefined>((r) => store.get(id, (_e, v) => r(v)));

  it('keeps signed-in sessions when sign-in pages flood it, and forgets sessions after their time', async () => {
    let now = 0;
    const store = new MemorySessionStore({ signedInMs: 60_000, anonymousMs: 10_000 }, { signedIn: 10, anonymous: 5 }, () => now);
    store.set('staff-1', s(true), () => undefined);
    for (let i = 0; i < 100; i++) store.set(`visitor-${i}`, s(false), () => undefined);
    expect(store.size).toEqual({ signedIn: 1, anonymous: 5 });
    expect((await get(store, 'staff-1'))?.staff?.username).toBe('lan');
    expect(await get(store, 'visitor-0')).toBeNull();
    now = 30_000;
    expect(await get(store, 'visitor-99')).toBeNull();
    expect(await get(store, 'staff-1')).not.toBeNull();
    now = 61_000;
    expect(await get(store, 'staff-1')).toBeNull();
  });

  it('keeps the cookie key in a private file under DATA_DIR, the same for every process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-key-'));
    try {
      const key = sessionSecret({ DATA_DIR: dir });
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect(statSync(sessionKeyFile(dir)).mode & 0o777).toBe(0o600);
      expect(sessionSecret({ DATA_DIR: dir })).toBe(key);
      expect(readFileSync(sessionKeyFile(dir), 'utf8')).toBe(key);
      expect(sessionSecret({ DATA_DIR: dir, STAFF_SESSION_SECRET: 'x'.repeat(40) })).toBe('x'.repeat(40));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
