/**
 * The embedded default as `npm start` wires it (no Redis, no tokens): a citizen's hand-off
 * on the web chat opens a ticket in DATA_DIR/tickets.sqlite, `npm run handoffs -- reply`
 * from another process is carried out by the running assistant, and the staff text reaches
 * the citizen's open page; the ticket and the dashboard data record it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../bot/config.ts';
import { SqliteTicketStore } from '../bot/handoff/sqlite-tickets.ts';
import { AnalyticsStore } from '../bot/staff/analytics.ts';
import { runHandoffs } from '../scripts/handoffs.ts';
import { ROOT } from './helpers/staff.ts';
import { until } from './queue-helpers.ts';
import { freePort } from './helpers/net.ts';

const dir = mkdtempSync(join(tmpdir(), 'staff-main-'));
let child: ChildProcess | undefined;
let base = '';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const { REDIS_URL: _r, TELEGRAM_BOT_TOKEN: _t, ...env } = process.env;
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bot', 'main.ts')], { cwd: ROOT, env: { ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', KNOWLEDGE_WATCH: 'false', ZALO_DISABLED: 'true' }, stdio: 'ignore' });
  await until(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, 'npm start to listen', 60_000, 200);
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const chat = async (text: string) => (await (await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'citizen-main-1', text }) })).json()) as { replies: { seq: number; text: string }[] };

describe('npm start with staff services (embedded default)', () => {
  it('a web hand-off is answered from npm run handoffs and the reply reaches the open page', async () => {
    const first = await chat('cho tôi gặp cán bộ');
    const id = /HT-\d{6}-\d{4}/.exec(first.replies.map((r) => r.text).join(' '))?.[0] as string;
    expect(id).toBeTruthy();
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir });
    const out: string[] = [];
    const code = await runHandoffs(['reply', id, 'Chào bạn, cán bộ Lan đây.'], { dataDir: dir, config, waitMs: 20_000, out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(out.join('\n')).toContain(`phiếu ${id}`);
    expect(code).toBe(0);
    const updates = (await (await fetch(`${base}/api/updates?sessionId=citizen-main-1`)).json()) as { replies: { text: string }[] };
    expect(updates.replies.map((r) => r.text)).toContain('Cán bộ trả lời:\nChào bạn, cán bộ Lan đây.');
    const tickets = new SqliteTicketStore(join(dir, 'tickets.sqlite'));
    expect(await tickets.get(id)).toMatchObject({ status: 'answered', messages: [{ from: 'staff', text: 'Chào bạn, cán bộ Lan đây.' }] });
    await tickets.close();
    const analytics = new AnalyticsStore(join(dir, 'analytics.sqlite'));
    // Message rows are written in batches within a second; hand-off rows at once.
    await until(() => analytics.dashboard(7).handoffs.answered === 1 && analytics.dashboard(7).totals.messages >= 1, 'the dashboard to count the message, the hand-off and its first reply', 10_000, 100);
    analytics.close();
  });
});
