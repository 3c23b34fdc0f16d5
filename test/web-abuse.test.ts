/**
 * The web chat under abuse and failure, over real sockets with the real engine: limits per
 * client address (also when it rotates session ids, and behind a trusted proxy), overall
 * and per session, each 429 with Retry-After; a ticket flood from one client; memory that
 * empties once replies are shown and conversations go idle; health that reports ticket
 * writes and refused knowledge reloads; draining on shutdown.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAssistant, KnowledgeHolder, type AssistantOverrides, type AssistantParts } from '../bot/assistant.ts';
import { MemoryWebOutbox, webConversationId } from '../bot/channels/web.ts';
import { HISTORY_DEFAULTS, WebHistory } from '../bot/channels/web/history.ts';
import { loadConfig } from '../bot/config.ts';
import { MemoryConversationStore } from '../bot/dialogue/state.ts';
import { MemoryTicketStore, type NewTicket, type Ticket } from '../bot/handoff/tickets.ts';
import { startWebServer, WEB_ERRORS, type WebServer, type WebServerOptions } from '../bot/http/index.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';
import { MemoryRateLimiter } from '../bot/ratelimit.ts';

const holder = new KnowledgeHolder({});
const running: { web: WebServer; pipeline: InProcessPipeline }[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.web.close();
    await r.pipeline.close();
  }
});

async function serve(web: Partial<WebServerOptions> | ((parts: AssistantParts) => Partial<WebServerOptions>) = {}, overrides: AssistantOverrides = {}): Promise<{ web: WebServer; parts: AssistantParts }> {
  const parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory' }), { holder, memoryTickets: true, ...overrides });
  const pipeline = new InProcessPipeline(parts.engine);
  const extra = typeof web === 'function' ? web(parts) : web;
  const server = await startWebServer({ port: 0, host: '127.0.0.1', pipeline, holder: parts.holder, limits: { messagesPerMinute: 0 }, ...extra });
  running.push({ web: server, pipeline });
  return { web: server, parts };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { replies?: { text: string; seq: number }[]; cursor?: string; error?: string; pending?: boolean; notice?: string };
}

/** POST /api/chat from a chosen loopback address (127.0.0.0/8 is all ours), optionally through "a proxy". */
function post(web: WebServer, body: unknown, opts: { from?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Answer> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: web.port, path: '/api/chat', method: 'POST', localAddress: opts.from, agent: opts.agent ?? false, headers: { 'Content-Type': 'application/json', ...opts.headers } },
      (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (s += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(s) as Answer['body'] }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('limits on one client', () => {
  it('limits one address that rotates session ids: 429 with Retry-After, other addresses unaffected', async () => {
    const { web } = await serve({ limiters: { address: new MemoryRateLimiter(5, 60_000) } });
    const statuses: number[] = [];
    let limited: Answer | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await post(web, { sessionId: `rotating-session-${i}`, text: 'xin chào' }, { from: '127.0.3.1' });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited?.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited?.body.error).toBe(WEB_ERRORS.rateLimited);
    expect((await post(web, { sessionId: 'another-client-1', text: 'xin chào' }, { from: '127.0.3.2' })).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless the proxy is trusted (TRUST_PROXY)', async () => {
    // Not trusted: a client cannot escape its limit by inventing addresses.
    const open = await serve({ limiters: { address: new MemoryRateLimiter(2, 60_000) } });
    const forged = [];
    for (let i = 0; i < 3; i++) forged.push((await post(open.web, { sessionId: `forged-session-${i}`, text: 'xin chào' }, { from: '127.0.4.1', headers: { 'X-Forwarded-For': `203.0.113.${i}` } })).status);
    expect(forged).toEqual([200, 200, 429]);
    // Trusted proxy on 127.0.4.9: each citizen behind it counts on their own.
    const proxied = await serve({ trustProxy: ['127.0.4.9'], limiters: { address: new MemoryRateLimiter(2, 60_000) } });
    const citizens = [];
    for (let i = 0; i < 3; i++) citizens.push((await post(proxied.web, { sessionId: `behind-proxy-${i}`, text: 'xin chào' }, { from: '127.0.4.9', headers: { 'X-Forwarded-For': `198.51.100.${i}` } })).status);
    expect(citizens).toEqual([200, 200, 200]);
    const same = [];
    for (let i = 0; i < 3; i++) same.push((await post(proxied.web, { sessionId: `same-citizen-${i}`, text: 'xin chào' }, { from: '127.0.4.9', headers: { 'X-Forwarded-For': '198.51.100.77' } })).status);
    expect(same).toEqual([200, 200, 429]);
  });

  it('has an overall ceiling across addresses, and a per-session one', async () => {
    const { web } = await serve({ limits: { messagesPerMinute: 2 }, limiters: { overall: new MemoryRateLimiter(3, 60_000) } });
    expect((await post(web, { sessionId: 'session-one-1', text: 'xin chào' }, { from: '127.0.5.1' })).status).toBe(200);
    expect((await post(web, { sessionId: 'session-one-1', text: 'xin chào' }, { from: '127.0.5.1' })).status).toBe(200);
    const session = await post(web, { sessionId: 'session-one-1', text: 'xin chào' }, { from: '127.0.5.1' });
    expect(session.status).toBe(429);
    expect(Number(session.headers['retry-after'])).toBeGreaterThan(0);
    expect((await post(web, { sessionId: 'session-two-1', text: 'xin chào' }, { from: '127.0.5.2' })).status).toBe(200);
    const overall = await post(web, { sessionId: 'session-three-1', text: 'xin chào' }, { from: '127.0.5.3' });
    expect(overall.status).toBe(429);
    expect(Number(overall.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits requests to any route per address (page, files, polls) with 429 and Retry-After', async () => {
    const { web } = await serve({ requestsPerMinutePerAddress: 3 });
    const codes: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${web.url}/static/app.css`);
      codes.push(last.status);
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('a ticket flood from one client', () => {
  it('opens at most the limit of tickets and notifies staff once per ticket; further requests get the latest ticket', async () => {
    const notified: Ticket[] = [];
    const tickets = new MemoryTicketStore();
    const { web } = await serve({}, { tickets, ticketLimiter: new MemoryRateLimiter(2, 3600_000), onTicket: async (t) => void notified.push(t) });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await post(web, { sessionId: `flood-session-${i}`, text: 'cho tôi gặp cán bộ' }, { from: '127.0.6.1' });
      expect(r.status).toBe(200);
      ids.push(/(HT-\d{6}-\d{4})/.exec(r.body.replies?.[0]?.text ?? '')?.[1] ?? 'none');
    }
    expect(await tickets.list()).toHaveLength(2);
    expect(notified.map((t) => t.id)).toEqual(ids.slice(0, 2));
    expect(new Set(ids.slice(2))).toEqual(new Set([ids[1]])); // the latest ticket, not a new one
    // Another citizen is not affected.
    const other = await post(web, { sessionId: 'other-citizen-1', text: 'cho tôi gặp cán bộ' }, { from: '127.0.6.2' });
    expect(other.body.replies?.[0]?.text).toMatch(/HT-\d{6}-\d{4}/);
    expect(await tickets.list()).toHaveLength(3);
  });
});

describe('bounded memory', () => {
  it('keeps no reply once the page has shown it, and forgets idle conversations and their state', async () => {
    let now = Date.now();
    const clock = () => now;
    const outbox = new MemoryWebOutbox({ sweepMs: 0 }, clock);
    const store = new MemoryConversationStore(60 * 60_000, clock);
    const { web } = await serve({ outbox }, { store });
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const texts = ['làm căn cước cần gì', 'đăng ký khai sinh lệ phí bao nhiêu', 'xin chào', 'hộ chiếu mất bao lâu'];
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 30; i++) {
          const sessionId = `bounded-${w}-${i}-session`;
          const a = await post(web, { sessionId, text: texts[i % 4], messageId: 'a' }, { agent, from: `127.0.7.${w + 1}` });
          // The page's next request carries its cursor: what it has shown may go.
          await post(web, { sessionId, text: texts[(i + 1) % 4], messageId: 'b', cursor: a.body.cursor }, { agent, from: `127.0.7.${w + 1}` });
        }
      }),
    );
    agent.destroy();
    // 300 conversations: each still holds its last reply (sent, not yet acknowledged) for a short grace only.
    expect(outbox.size.conversations).toBe(300);
    expect(outbox.size.replies).toBeLessThanOrEqual(300);
    now += 11_000; // past the grace for replies that went out in an answer
    outbox.sweep();
    expect(outbox.size).toMatchObject({ replies: 0, bytes: 0 });
    now += 2 * 3600_000; // idle past every TTL
    outbox.sweep();
    store.sweep();
    expect(outbox.size.conversations).toBe(0);
    expect(await store.get(webConversationId('bounded-0-0-session'))).toBeUndefined();
    expect((store as unknown as { items: Map<string, unknown> }).items.size).toBe(0);
  });
});

describe('the reload transcript (GET /api/history)', () => {
  it('stays within its byte budget and forgets idle conversations', () => {
    let now = 0;
    const history = new WebHistory({ ...HISTORY_DEFAULTS, maxBytes: 50_000, idleMs: 60_000 }, () => now);
    const reply = { text: 'Hồ sơ cần chuẩn bị — '.repeat(100), options: [], links: [] };
    for (let i = 0; i < 100; i++) {
      history.citizen(`c${i}`, 'm1', 'làm căn cước cần gì');
      history.bot(`c${i}`, 1, reply);
    }
    expect(history.size.bytes).toBeLessThanOrEqual(50_000);
    expect(history.entries('c0')).toEqual([]); // the least recently active went first
    expect(history.entries('c99').map((e) => e.from)).toEqual(['citizen', 'bot']);
    expect(history.entries('c99')[1]).toEqual({ from: 'bot', seq: 1, reply });
    now = 120_000;
    history.sweep();
    expect(history.size).toEqual({ conversations: 0, bytes: 0 });
  });
});

describe('health', () => {
  it('reports when tickets cannot be written, until a write works again', async () => {
    // The disk under the ticket database turns read-only, then is fixed by the operator.
    class Disk extends MemoryTicketStore {
      readOnly = true;
      override async create(t: NewTicket): Promise<Ticket> {
        if (this.readOnly) throw Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
        return super.create(t);
      }
    }
    const disk = new Disk();
    const { web } = await serve((parts) => ({ limits: { messagesPerMinute: 0, replyWaitMs: 1000 }, healthChecks: { tickets: () => parts.ticketGuard.health() } }), { tickets: disk });
    expect(((await (await fetch(`${web.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    await post(web, { sessionId: 'health-session-1', text: 'cho tôi gặp cán bộ' });
    const res = await fetch(`${web.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; tickets: { ok: boolean; error: string } };
    expect(body.status).toBe('degraded');
    expect(body.tickets.ok).toBe(false);
    expect(body.tickets.error).toMatch(/SQLITE_READONLY/);
    disk.readOnly = false;
    await post(web, { sessionId: 'health-session-2', text: 'cho tôi gặp cán bộ' });
    expect(((await (await fetch(`${web.url}/healthz`)).json()) as { status: string; tickets: { ok: boolean } }).tickets.ok).toBe(true);
  });

  it('reports a refused knowledge reload while the last good knowledge keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tthc-kb-'));
    cpSync(join(import.meta.dirname, '..', 'knowledge'), dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    const own = new KnowledgeHolder({ knowledgeDir: dir });
    const { web } = await serve({ holder: own });
    const site = join(dir, 'site.yaml');
    const good = readFileSync(site, 'utf8');
    writeFileSync(site, `${good}\nthis is: [not valid yaml\n`);
    expect(own.reload().ok).toBe(false);
    const bad = (await (await fetch(`${web.url}/healthz`)).json()) as { status: string; knowledge: { ok: boolean; procedures: number; reloadRefused: { errors: string[] } } };
    expect(bad.status).toBe('degraded');
    expect(bad.knowledge.ok).toBe(false);
    expect(bad.knowledge.procedures).toBeGreaterThanOrEqual(39);
    expect(bad.knowledge.reloadRefused.errors.join('\n')).toMatch(/site\.yaml/);
    writeFileSync(site, good);
    expect(own.reload().ok).toBe(true);
    expect(((await (await fetch(`${web.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    rmSync(dir, { recursive: true, force: true });
  });
});

/** One keep-alive connection written by hand, so the test sees exactly what goes over it and when it closes. */
function raw(port: number): { send(text: string): Promise<string>; closed: Promise<void>; close(): void } {
  const sock = connect(port, '127.0.0.1');
  let buf = '';
  let waiter: ((s: string) => void) | undefined;
  sock.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('data', (d) => {
    buf += d.toString();
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0 || !waiter) return;
    const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
    if (buf.length < end + 4 + len) return;
    const msg = buf.slice(0, end + 4 + len);
    buf = buf.slice(end + 4 + len);
    const w = waiter;
    waiter = undefined;
    w(msg);
  });
  return {
    send: (text) =>
      new Promise((resolve) => {
        waiter = resolve;
        sock.write(text);
      }),
    closed,
    close: () => sock.destroy(),
  };
}

describe('shutdown', () => {
  it('drains: idle keep-alive connections close, requests in flight answer with Connection: close, new ones get 503 or no connection', async () => {
    const { web } = await serve();
    const idle = raw(web.port);
    const first = await idle.send('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(first).not.toMatch(/connection: close/i);
    // A long poll in flight on a keep-alive connection, with a second request pipelined behind it.
    const busy = raw(web.port);
    const polled = busy.send('GET /api/updates?sessionId=draining-session-1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    web.drain();
    await idle.closed; // the idle one is closed by the server at once
    const answer = await polled;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/connection: close/i);
    await busy.closed;
    // No new connections while draining: the load balancer sends them to another process.
    await expect(fetch(`${web.url}/healthz`)).rejects.toThrow();
  });

  it('closes a keep-alive connection whose response was already under way when draining began, once it ends', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const { web } = await serve({
      routes: [
        {
          method: 'GET',
          url: '/slow',
          handler: (_req, reply) => {
            const body = new PassThrough();
            body.write('a');
            void finished.then(() => body.end('b'));
            return reply.type('text/plain').send(body);
          },
        },
      ],
    });
    const busy = raw(web.port);
    const head = await busy.send('GET /slow HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(head).not.toMatch(/connection: close/i); // sent before draining: it cannot say so
    web.drain();
    finish();
    // Without closing it once idle, the connection (and the close) would wait for the keep-alive timeout.
    await busy.closed;
    await web.close();
  });

  it('answers a request that reaches a draining server with 503 and Connection: close', async () => {
    const { web } = await serve();
    web.drain();
    const res = await web.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers.connection).toBe('close');
  });
});
