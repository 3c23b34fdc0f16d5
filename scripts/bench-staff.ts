/**
 * `npm run bench:staff`: how fast the staff services answer a click, printed (a benchmark,
 * not a test): the teach guard (candidate build + golden/dev pass, first with the live
 * baseline computed, then with it cached), the answer preview, a sign-in check, and the
 * SQLite ticket store (create, append, list open), analytics writes and the 30-day
 * dashboard query; then the console over HTTP (sign-in, the inbox page with 200 open
 * tickets, one ticket, the dashboard page, and how long a new ticket takes to reach 50 open
 * inboxes). Uses a throwaway copy of the knowledge.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KnowledgeHolder } from '../bot/assistant.ts';
import { SqliteTicketStore } from '../bot/handoff/sqlite-tickets.ts';
import { StaffAccounts } from '../bot/staff/accounts.ts';
import { AnalyticsStore } from '../bot/staff/analytics.ts';
import { StaffAuth } from '../bot/staff/auth.ts';
import { buildCandidate, TeachGuard } from '../bot/staff/guard.ts';
import { KnowledgeHistory } from '../bot/staff/history.ts';
import { KnowledgeEditor } from '../bot/staff/knowledge-editor.ts';
import { DEFAULT_INTENTS_DIR } from '../intents/data.ts';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { createTickets } from '../bot/handoff/factory.ts';
import { consoleArea } from '../bot/http/console/index.ts';
import { startWebServer } from '../bot/http/index.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';
import { createStaffServices } from '../bot/staff/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bench-staff-'));
const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;

try {
  const intents = join(tmp, 'intents');
  cpSync(DEFAULT_INTENTS_DIR, intents, { recursive: true, filter: (s) => !s.endsWith('.ts') });
  const source = { intentsDir: intents };
  const holder = new KnowledgeHolder(source);
  const guard = new TeachGuard();
  const editor = new KnowledgeEditor({ source, live: () => holder.version, history: new KnowledgeHistory(new Database(':memory:')), guard });
  console.log(`cases: ${guard.cases().length} (golden${guard.cases().some((c) => c.set === 'dev') ? ' + shared dev' : ''})`);

  let t0 = performance.now();
  buildCandidate(source, []);
  console.log(`candidate build (link files, validate, index)      ${ms(t0)}`);
  const texts = ['lệ phí thế nào', 'tốn phí không', 'phí thế nào vậy'];
  for (const [i, text] of texts.entries()) {
    t0 = performance.now();
    const d = editor.draftExample('procedure.fee', text);
    const built = performance.now() - t0;
    const r = await editor.check(d.id);
    console.log(`guard check ${i === 0 ? '(live baseline computed)' : '(baseline cached)      '}   draft ${built.toFixed(0)} ms + check ${r?.ms} ms  changes ${r?.changes.length}`);
  }
  const d = editor.draftExample('procedure.fee', texts[0] as string);
  t0 = performance.now();
  await editor.preview(d.id, 'lệ phí làm căn cước');
  console.log(`preview (before and after)                         ${ms(t0)}`);

  const db = new Database(join(tmp, 'staff.sqlite'));
  const accounts = new StaffAccounts(db);
  await accounts.add('bench', 'agent', 'mật khẩu đo thời gian', 'bench');
  const auth = new StaffAuth(accounts);
  t0 = performance.now();
  for (let i = 0; i < 5; i++) await auth.verify('bench', 'mật khẩu đo thời gian', '127.0.0.1');
  console.log(`sign-in check (scrypt N=2^15)                      ${((performance.now() - t0) / 5).toFixed(0)} ms each`);

  const tickets = new SqliteTicketStore(join(tmp, 'tickets.sqlite'));
  const n = 2000;
  t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await tickets.create({ kind: 'handoff', channel: 'web', conversationId: `c${i}`, citizen: 'x', reason: 'bench', excerpt: [{ from: 'citizen', text: 'gặp cán bộ', at: i }] })).id);
  const create = performance.now() - t0;
  t0 = performance.now();
  for (const id of ids) await tickets.appendMessage(id, { from: 'citizen', text: 'còn đó không', at: 1 });
  const append = performance.now() - t0;
  t0 = performance.now();
  const open = await tickets.list({ status: ['open', 'answered'] });
  console.log(`sqlite tickets: create ${(n / (create / 1000)).toFixed(0)}/s, append ${(n / (append / 1000)).toFixed(0)}/s, list ${open.length} open ${ms(t0)}`);
  await tickets.close();
  db.close();

  const analytics = new AnalyticsStore(join(tmp, 'analytics.sqlite'));
  const m = 20_000;
  t0 = performance.now();
  for (let i = 0; i < m; i++) analytics.message({ at: Date.now() - (i % 30) * 86_400_000, channel: i % 3 ? 'web' : 'zalo', intent: 'procedure.fee', procedure: `p.${i % 40}`, faq: null, outcome: i % 10 ? 'answered' : 'unanswered' });
  const writes = performance.now() - t0;
  t0 = performance.now();
  analytics.dashboard(30);
  console.log(`analytics: ${(m / (writes / 1000)).toFixed(0)} message rows/s written, 30-day dashboard over ${m} rows ${ms(t0)}`);
  analytics.close();

  await benchConsole(join(tmp, 'console'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** p50/p99 of `runs` calls, in ms. */
async function timed(runs: number, call: () => Promise<unknown>): Promise<string> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await call();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const at = (q: number) => (t[Math.min(t.length - 1, Math.floor(q * t.length))] as number).toFixed(1);
  return `p50 ${at(0.5)} ms  p99 ${at(0.99)} ms`;
}

/** The console as `npm start` serves it, measured over loopback HTTP. */
async function benchConsole(dataDir: string): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, DOSSIER_PROVIDER: 'memory', KNOWLEDGE_WATCH: 'false' });
  const { tickets, events } = createTickets(config);
  const parts = createAssistant(config, { tickets });
  const pipeline = new InProcessPipeline(parts.engine);
  const staff = createStaffServices(config, { holder: parts.holder, source: {}, engine: parts.engine, pipeline, tickets, events, dossiers: parts.dossiers });
  const web = await startWebServer({ port: 0, host: '127.0.0.1', pipeline, holder: parts.holder, areas: [consoleArea({ staff, holder: parts.holder, config })] });
  try {
    await staff.accounts.add('bench', 'agent', 'mật khẩu đo thời gian', 'bench');
    let first = '';
    for (let i = 0; i < 200; i++) {
      const t = await tickets.create({ kind: i % 5 ? 'handoff' : 'complaint', channel: ['web', 'telegram', 'zalo'][i % 3] as string, conversationId: `c${i}`, citizen: 'Ng*** V** A*', reason: 'Công dân yêu cầu gặp cán bộ', excerpt: Array.from({ length: 8 }, (_, k) => ({ from: k % 2 ? 'bot' : 'citizen', text: 'đăng ký khai sinh cần giấy tờ gì '.repeat(3), at: k }) as const) });
      first ||= t.id;
    }
    const login = await fetch(`${web.url}/staff/login`);
    const csrfCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const token = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
    let t0 = performance.now();
    const signed = await fetch(`${web.url}/staff/login`, { method: 'POST', redirect: 'manual', headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token, username: 'bench', password: 'mật khẩu đo thời gian' }) });
    console.log(`console: sign-in (form POST, scrypt included)      ${ms(t0)}`);
    const cookie = signed.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const get = (path: string) => fetch(`${web.url}${path}`, { headers: { cookie } }).then((r) => r.text());
    console.log(`console: inbox page, 200 open tickets   ${await timed(50, () => get('/staff/inbox'))}  (${((await get('/staff/inbox')).length / 1024).toFixed(0)} KB)`);
    console.log(`console: one ticket with its list       ${await timed(50, () => get(`/staff/inbox/${first}`))}`);
    console.log(`console: dashboard page (5 SVG charts)  ${await timed(20, () => get('/staff/dashboard?days=30'))}`);
    // 50 open inboxes: how long until every one has the event of a new ticket.
    const streams = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await fetch(`${web.url}/staff/inbox/events`, { headers: { cookie, accept: 'text/event-stream' } });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        await reader.read(); // the retry line: the stream is open
        return reader;
      }),
    );
    t0 = performance.now();
    const got = streams.map(async (r) => {
      const dec = new TextDecoder();
      let text = '';
      while (!text.includes('event: ticket')) text += dec.decode((await r.read()).value);
      return performance.now() - t0;
    });
    await tickets.create({ kind: 'handoff', channel: 'web', conversationId: 'c-new', citizen: 'x', reason: 'bench', excerpt: [] });
    const lat = (await Promise.all(got)).sort((a, b) => a - b);
    console.log(`console: a new ticket reaches 50 open inboxes      last after ${(lat[lat.length - 1] as number).toFixed(1)} ms (median ${(lat[25] as number).toFixed(1)} ms)`);
    for (const r of streams) await r.cancel();
  } finally {
    await web.close();
    await pipeline.close();
    await staff.close();
    await events.close();
    await tickets.close();
  }
}
