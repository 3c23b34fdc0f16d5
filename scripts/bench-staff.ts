/**
 * `npm run bench:staff`: how fast the staff services answer a click, printed (a benchmark,
 * not a test): the teach guard (candidate build + golden/dev pass, first with the live
 * baseline computed, then with it cached), the answer preview, a sign-in check, and the
 * SQLite ticket store (create, append, list open), analytics writes and the 30-day
 * dashboard query. Uses a throwaway copy of the knowledge.
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
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
