/**
 * The web channel's HTTP surface, through the real pipeline and dialogue engine:
 * the JSON chat API, exactly-once answers, late replies by long poll, health, extra
 * routes, and bad input of every kind.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, type AssistantParts } from '../bot/assistant.ts';
import { MemoryWebOutbox, startWebServer, WEB_ERRORS, webConversationId, type WebReply, type WebServer } from '../bot/channels/web.ts';
import { loadConfig } from '../bot/config.ts';
import type { Turn } from '../bot/dialogue/engine.ts';
import type { IncomingMessage } from '../bot/dialogue/types.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';

let parts: AssistantParts;
let pipeline: InProcessPipeline;
let web: WebServer;
const turns: { msg: IncomingMessage; turn: Turn }[] = [];

interface ChatResponse {
  replies: WebReply[];
  cursor: string;
  pending: boolean;
}

async function chat(body: unknown): Promise<{ status: number; json: ChatResponse & { error?: string } }> {
  const res = await fetch(`${web.url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as ChatResponse & { error?: string } };
}

/** Sends raw bytes as a POST body (invalid UTF-8 cannot go through fetch's string body). */
async function postBytes(path: string, bytes: Buffer): Promise<{ status: number; json: ChatResponse & { error?: string } }> {
  const res = await fetch(`${web.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: new Uint8Array(bytes) });
  return { status: res.status, json: (await res.json()) as ChatResponse & { error?: string } };
}

beforeAll(async () => {
  parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent' }), { memoryTickets: true });
  pipeline = new InProcessPipeline(parts.engine);
  pipeline.onTurn((msg, turn) => turns.push({ msg, turn }));
  web = await startWebServer({
    port: 0,
    host: '127.0.0.1',
    pipeline,
    holder: parts.holder,
    extraRoutes: [{ method: 'GET', path: '/metrics', handler: (_req, res) => void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('up 1\n') }],
    limits: { messagesPerMinute: 1000 },
  });
});

afterAll(async () => {
  await web?.close();
  await pipeline?.close();
});

describe('POST /api/chat', () => {
  it('answers a question with the documents checklist, options, links and a rating', async () => {
    const { status, json } = await chat({ sessionId: 'session-aaaa-1', text: 'đăng ký khai sinh cần giấy tờ gì', messageId: 'm1' });
    expect(status).toBe(200);
    expect(json.pending).toBe(false);
    expect(json.replies).toHaveLength(1);
    const r = json.replies[0] as WebReply;
    expect(r.text).toContain('Hồ sơ cần chuẩn bị — Đăng ký khai sinh');
    expect(r.text).toContain('☐');
    expect(r.options).toContainEqual({ label: 'Lệ phí', payload: '#p:ho-tich.khai-sinh:procedure.fee' });
    expect(r.links.every((l) => /^https?:\/\//.test(l.url))).toBe(true);
    expect(r.rating?.options.map((o) => o.payload)).toEqual(['#r:1:1:procedure.documents:ho-tich.khai-sinh', '#r:0:1:procedure.documents:ho-tich.khai-sinh']);
    expect(r.seq).toBe(1);
    expect(json.cursor).toMatch(/^[A-Za-z0-9_-]+\.1$/);
  });

  it('keeps the context for a follow-up and answers a tapped payload', async () => {
    const first = await chat({ sessionId: 'session-aaaa-1', text: 'thế lệ phí bao nhiêu?', messageId: 'm2' });
    expect(first.json.replies.map((r) => r.text.split('\n')[0])).toEqual(['Phí, lệ phí — Đăng ký khai sinh:']);
    const tap = await chat({ sessionId: 'session-aaaa-1', text: '#p:ho-tich.khai-sinh:procedure.steps', messageId: 'm3', cursor: first.json.cursor });
    expect(tap.json.replies.map((r) => r.text.split('\n')[0])).toEqual(['Các bước thực hiện — Đăng ký khai sinh:']);
    const rate = await chat({ sessionId: 'session-aaaa-1', text: tap.json.replies[0]!.rating!.options[0]!.payload, messageId: 'm4', cursor: tap.json.cursor });
    expect(rate.json.replies[0]?.text).toBe(parts.holder.version.knowledge.replies.ratingThanks);
  });

  it('answers each message once: a retried POST gets the first answer back, not a second one', async () => {
    const body = { sessionId: 'session-retry-1', text: 'làm hộ chiếu cần gì', messageId: 'same-id' };
    const [a, b] = await Promise.all([chat(body), chat(body)]);
    expect(a.json.replies).toHaveLength(1);
    expect(b.json.replies).toEqual(a.json.replies);
    const again = await chat({ ...body, cursor: a.json.cursor });
    expect(again.status).toBe(200);
    expect(again.json.replies).toEqual([]);
    expect(turns.filter((t) => t.msg.messageId === 'session-retry-1_same-id')).toHaveLength(1);
  });

  it('keeps sessions apart and never lets a session id name another channel’s conversation', async () => {
    const other = await chat({ sessionId: 'session-bbbb-1', text: 'thế lệ phí bao nhiêu?' });
    expect(other.json.replies[0]?.text).not.toContain('Đăng ký khai sinh');
    const t = turns.at(-1) as { msg: IncomingMessage };
    expect(t.msg.conversationId).toBe(webConversationId('session-bbbb-1'));
    expect(t.msg.channel).toBe('web');
  });

  it('refuses bad JSON, non-objects, bad session ids and non-string text with 400 and a clear message', async () => {
    expect(await chat('{"sessionId": "x",')).toEqual({ status: 400, json: { error: WEB_ERRORS.badJson } });
    expect(await chat('')).toEqual({ status: 400, json: { error: WEB_ERRORS.badJson } });
    for (const body of ['[]', 'null', '42', '"text"']) expect(await chat(body)).toEqual({ status: 400, json: { error: WEB_ERRORS.notObject } });
    expect((await chat({ text: 'hi' })).json.error).toBe(WEB_ERRORS.sessionId);
    expect((await chat({ sessionId: 'short', text: 'hi' })).json.error).toBe(WEB_ERRORS.sessionId);
    expect((await chat({ sessionId: '../../etc/passwd', text: 'hi' })).json.error).toBe(WEB_ERRORS.sessionId);
    expect((await chat({ sessionId: 'session-cccc-1', text: 42 })).json.error).toBe(WEB_ERRORS.text);
    expect((await chat({ sessionId: 'session-cccc-1', text: 'hi', messageId: 'a:b' })).json.error).toBe(WEB_ERRORS.messageId);
  });

  it('refuses a body over the limit with 413 without reading it all', async () => {
    const huge = JSON.stringify({ sessionId: 'session-dddd-1', text: 'a'.repeat(20_000) });
    const r = await chat(huge);
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/larger than 16384 bytes/);
    // A body that lies about its length (chunked, no Content-Length) is cut off too.
    const status = await new Promise<string>((resolve, reject) => {
      const sock = connect(web.port, '127.0.0.1', () => {
        sock.write('POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = 'b'.repeat(8000);
        for (let i = 0; i < 4; i++) sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n')) {
          resolve(data.split('\r\n')[0] as string);
          sock.destroy();
        }
      });
      sock.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('answers empty text, emoji, broken surrogates and invalid UTF-8 without failing', async () => {
    const r = parts.holder.version.knowledge.replies;
    expect((await chat({ sessionId: 'session-eeee-1', text: '' })).json.replies[0]?.text).toBe(r.empty);
    expect((await chat({ sessionId: 'session-eeee-1', text: '   \n\t ' })).json.replies[0]?.text).toBe(r.empty);
    const emoji = await chat({ sessionId: 'session-eeee-2', text: '👍🏻👨‍👩‍👧 làm căn cước cần gì 🙏' });
    expect(emoji.status).toBe(200);
    expect(emoji.json.replies[0]?.text).toContain('căn cước');
    const surrogates = await chat('{"sessionId":"session-eeee-3","text":"\\ud800 khai sinh \\udfff cần gì \\ud83d"}');
    expect(surrogates.status).toBe(200);
    expect(surrogates.json.replies).toHaveLength(1);
    const bytes = Buffer.concat([Buffer.from('{"sessionId":"session-eeee-4","text":"ho chieu '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' can gi"}')]);
    const invalid = await postBytes('/api/chat', bytes);
    expect(invalid.status).toBe(200);
    expect(invalid.json.replies).toHaveLength(1);
    const long = await chat({ sessionId: 'session-eeee-5', text: `khai sinh cần gì ${'x'.repeat(5000)}` });
    expect(long.json.replies[0]?.text.startsWith(r.tooLong)).toBe(true);
  });

  it('limits how fast one session may send (429 with Retry-After)', async () => {
    const p2 = new InProcessPipeline(parts.engine);
    const limited = await startWebServer({ port: 0, host: '127.0.0.1', pipeline: p2, holder: parts.holder, limits: { messagesPerMinute: 2 } });
    try {
      const send = (i: number) => fetch(`${limited.url}/api/chat`, { method: 'POST', body: JSON.stringify({ sessionId: 'session-ffff-1', text: 'xin chào', messageId: `r${i}` }) });
      expect((await send(1)).status).toBe(200);
      expect((await send(2)).status).toBe(200);
      const third = await send(3);
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
      await p2.close();
    }
  });
});

describe('when the pipeline refuses work', () => {
  it('answers 503 with a clear message and lets the same message be retried', async () => {
    const p3 = new InProcessPipeline(parts.engine);
    const errors: string[] = [];
    const srv = await startWebServer({ port: 0, host: '127.0.0.1', pipeline: p3, holder: parts.holder, log: { info: () => {}, warn: () => {}, error: (_o, m) => void errors.push(String(m)) } });
    try {
      await p3.close();
      const res = await fetch(`${srv.url}/api/chat`, { method: 'POST', body: JSON.stringify({ sessionId: 'session-gggg-1', text: 'xin chào', messageId: 'x1' }) });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: WEB_ERRORS.unavailable });
      expect(errors).toEqual(['web message not queued']);
      const again = await fetch(`${srv.url}/api/chat`, { method: 'POST', body: JSON.stringify({ sessionId: 'session-gggg-1', text: 'xin chào', messageId: 'x1' }) });
      expect(again.status).toBe(503); // tried again, not served from a failed attempt
      expect(errors).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });
});

describe('late replies (staff) and quiet turns', () => {
  it('delivers a pushed reply to a waiting long poll, and a hand-off turn ends its request without a reply', async () => {
    const sessionId = 'session-handoff-1';
    const conv = webConversationId(sessionId);
    const h = await chat({ sessionId, text: 'cho tôi gặp cán bộ', messageId: 'h1' });
    expect(h.json.replies[0]?.text).toMatch(/HT-\d{6}-\d{4}/);
    // Staff own the conversation now: the next message is recorded but not answered.
    const quiet = await chat({ sessionId, text: 'alo', messageId: 'h2', cursor: h.json.cursor });
    expect(quiet.status).toBe(200);
    expect(quiet.json).toEqual({ replies: [], cursor: h.json.cursor, pending: true });
    expect(turns.find((t) => t.msg.messageId === `${sessionId}_h2`)?.turn.reply).toBeNull();

    const poll = fetch(`${web.url}/api/updates?sessionId=${sessionId}&cursor=${encodeURIComponent(h.json.cursor)}`).then((r) => r.json() as Promise<ChatResponse>);
    await pipeline.push('web', conv, { text: 'Cán bộ trả lời:\nChào anh', options: [], links: [] });
    const got = await poll;
    expect(got.replies.map((r) => r.text)).toEqual(['Cán bộ trả lời:\nChào anh']);
    // The next message's answer carries only what is new after the client's cursor.
    await parts.engine.release(conv);
    const next = await chat({ sessionId, text: 'xin chào', messageId: 'h3', cursor: got.cursor });
    expect(next.json.replies.map((r) => r.seq)).toEqual([got.replies[0]!.seq + 1]);
  });

  it('starts from zero when the cursor comes from another server run', async () => {
    const sessionId = 'session-epoch-1';
    await chat({ sessionId, text: 'xin chào', messageId: 'e1' });
    const res = (await (await fetch(`${web.url}/api/updates?sessionId=${sessionId}&cursor=oldepoch.99`)).json()) as ChatResponse;
    expect(res.replies.map((r) => r.seq)).toEqual([1]);
  });
});

describe('GET /api/history (what the page showed, for a reload)', () => {
  it('gives the citizen’s messages (a tapped button by its label) and the replies in order, with the cursor after them', async () => {
    const sid = 'session-hist-01';
    const q = await chat({ sessionId: sid, text: 'đăng ký khai sinh cần giấy tờ gì', messageId: 'h1' });
    const fee = q.json.replies[0]!.options.find((o) => o.label === 'Lệ phí')!;
    const tap = await chat({ sessionId: sid, text: fee.payload, shown: fee.label, messageId: 'h2', cursor: q.json.cursor });
    // A retried message is one bubble.
    await chat({ sessionId: sid, text: fee.payload, shown: fee.label, messageId: 'h2', cursor: q.json.cursor });
    const res = await fetch(`${web.url}/api/history?sessionId=${sid}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: ({ from: 'citizen'; text: string } | { from: 'bot'; reply: WebReply })[]; cursor: string };
    expect(body.items.map((i) => (i.from === 'citizen' ? `citizen: ${i.text}` : `bot: ${i.reply.text.split('\n')[0]}`))).toEqual([
      'citizen: đăng ký khai sinh cần giấy tờ gì',
      'bot: Hồ sơ cần chuẩn bị — Đăng ký khai sinh:',
      'citizen: Lệ phí',
      'bot: Phí, lệ phí — Đăng ký khai sinh:',
    ]);
    expect(body.cursor).toBe(tap.json.cursor);
  });

  it('is empty for a new session, masks phone numbers, and refuses a bad session id', async () => {
    const empty = (await (await fetch(`${web.url}/api/history?sessionId=session-none-01`)).json()) as { items: unknown[] };
    expect(empty.items).toEqual([]);
    await chat({ sessionId: 'session-hist-02', text: 'số tôi 0912345678, gọi lại giúp', messageId: 'p1' });
    const h = (await (await fetch(`${web.url}/api/history?sessionId=session-hist-02`)).json()) as { items: { text?: string }[] };
    expect(JSON.stringify(h.items)).not.toContain('0912345678');
    expect((await fetch(`${web.url}/api/history?sessionId=x`)).status).toBe(400);
  });

  it('serves our own icon at /favicon.ico', async () => {
    const res = await fetch(`${web.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
  });
});

describe('memory outbox', () => {
  it('keeps a bounded number of replies and conversations', async () => {
    let now = 0;
    const box = new MemoryWebOutbox({ outboxPerConversation: 2, outboxConversations: 2, outboxIdleMs: 1000 }, () => now);
    const r = { text: 't', options: [], links: [] };
    for (let i = 0; i < 3; i++) await box.append('a', r);
    expect((await box.after('a', 0)).map((e) => e.seq)).toEqual([2, 3]);
    await box.append('b', r);
    await box.append('c', r);
    expect(await box.lastSeq('a')).toBe(0); // evicted: least recently written
    now = 5000;
    await box.append('d', r);
    expect(await box.lastSeq('b')).toBe(0); // idle too long
    expect(await box.lastSeq('d')).toBe(1);
  });

  it('wakes a waiter on append and on abort', async () => {
    const box = new MemoryWebOutbox();
    const ac = new AbortController();
    const w = box.wait('x', 0, ac.signal);
    await box.append('x', { text: 't', options: [], links: [] });
    await w;
    const ac2 = new AbortController();
    const w2 = box.wait('x', 1, ac2.signal);
    ac2.abort();
    await w2;
  });
});

describe('page, health and routes', () => {
  it('serves the chat page in Vietnamese with no external resources and a strict CSP', async () => {
    const res = await fetch(`${web.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('name="viewport"');
    expect(html).toContain(parts.holder.version.knowledge.replies.webTitle);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/\{\{\w+\}\}/);
    for (const path of ['/static/app.js', '/static/app.css']) {
      const a = await fetch(`${web.url}${path}`);
      expect(a.status).toBe(200);
      expect(await a.text()).not.toMatch(/https?:\/\/|@import/);
    }
    const js = await (await fetch(`${web.url}/static/app.js`)).text();
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it('reports health with knowledge details, and registered checks can degrade it', async () => {
    const ok = await fetch(`${web.url}/healthz`);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { status: string; knowledge: { procedures: number; loadedAt: string } };
    expect(body.status).toBe('ok');
    expect(body.knowledge.procedures).toBeGreaterThanOrEqual(39);
    expect(new Date(body.knowledge.loadedAt).toISOString()).toBe(body.knowledge.loadedAt);

    web.addHealthCheck('redis', () => ({ ok: true, latencyMs: 1 }));
    expect(((await (await fetch(`${web.url}/healthz`)).json()) as Record<string, unknown>).redis).toEqual({ ok: true, latencyMs: 1 });
    web.addHealthCheck('queue', async () => {
      throw new Error('backlog unknown');
    });
    const degraded = await fetch(`${web.url}/healthz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ status: 'degraded', queue: { ok: false, error: 'backlog unknown' } });
    web.addHealthCheck('runtime', () => ({ status: 'down', problems: ['redis: connection refused'] }));
    const down = await fetch(`${web.url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'down', runtime: { problems: ['redis: connection refused'] } });
    web.addHealthCheck('queue', () => ({ ok: true }));
    web.addHealthCheck('runtime', () => ({ status: 'ok' }));
    expect(((await (await fetch(`${web.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
  });

  it('serves extra routes and answers unknown paths and wrong methods clearly', async () => {
    expect(await (await fetch(`${web.url}/metrics`)).text()).toBe('up 1\n');
    web.addRoute({ method: 'POST', path: '/hook', handler: (_req, res) => void res.writeHead(204).end() });
    expect((await fetch(`${web.url}/hook`, { method: 'POST' })).status).toBe(204);
    expect((await fetch(`${web.url}/hook`)).status).toBe(405);
    expect((await fetch(`${web.url}/api/chat`)).status).toBe(405);
    const nf = await fetch(`${web.url}/nothing-here`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: WEB_ERRORS.notFound });
  });
});
