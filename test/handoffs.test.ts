/**
 * `npm run handoffs` and the staff reply service behind it, in the embedded default
 * (SQLite tickets, no Redis): a real engine opens a ticket, the citizen writes again (it
 * joins the ticket), and `reply` / `release` / `close` from the CLI are carried out by the
 * running assistant's relay — the citizen gets the staff text on their channel, the
 * assistant stays quiet, then resumes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig, type Config } from '../bot/config.ts';
import type { ChannelName, Reply } from '../bot/dialogue/types.ts';
import { ticketDbFile } from '../bot/handoff/factory.ts';
import { StaffCommandQueue, StaffCommandRelay } from '../bot/handoff/relay.ts';
import { SqliteTicketStore } from '../bot/handoff/sqlite-tickets.ts';
import { StaffReplies } from '../bot/handoff/staff-replies.ts';
import type { Ticket } from '../bot/handoff/tickets.ts';
import { AuditLog } from '../bot/staff/audit.ts';
import { openStaffDatabase } from '../bot/staff/accounts.ts';
import { runHandoffs } from '../scripts/handoffs.ts';
import { knowledgeHolder, OPEN_TIME } from './helpers/assistant.ts';

let dir: string;
let config: Config;
let tickets: SqliteTicketStore;
let relay: StaffCommandRelay;
let service: StaffReplies;
let queue: StaffCommandQueue;
const pushed: { channel: ChannelName; conversationId: string; reply: Reply }[] = [];
let parts: ReturnType<typeof createAssistant>;
let handoff: Ticket;
let complaint: Ticket;
let seq = 0;

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runHandoffs(argv, { dataDir: dir, config, waitMs: 5000, out: (l) => out.push(l), err: (l) => err.push(l), now: () => OPEN_TIME + 600_000 });
  return { code, out, err };
}

const say = (text: string, conv = 'web-citizen1') => parts.engine.handle({ channel: 'web', conversationId: conv, userId: 'u1', messageId: `m${++seq}`, text, kind: 'text' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'handoffs-'));
  config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, DOSSIER_PROVIDER: 'memory' });
  tickets = new SqliteTicketStore(ticketDbFile(config), { now: () => OPEN_TIME });
  parts = createAssistant(config, { holder: knowledgeHolder(), tickets, now: () => OPEN_TIME });
  const db = openStaffDatabase(config);
  service = new StaffReplies({
    tickets,
    engine: parts.engine,
    pipeline: { push: async (channel, conversationId, reply) => void pushed.push({ channel, conversationId, reply }) },
    knowledge: () => parts.holder.version.knowledge,
    audit: new AuditLog(db),
    now: () => OPEN_TIME + 60_000,
  });
  queue = new StaffCommandQueue(ticketDbFile(config));
  relay = new StaffCommandRelay(queue, service, { intervalMs: 20 });
  relay.start();

  const t = await say('cho tôi gặp cán bộ');
  handoff = t.ticket as Ticket;
  const quiet = await say('số của tôi là 0912345678, còn đó không ạ');
  expect(quiet.reply).toBeNull();
  complaint = await tickets.create({ kind: 'complaint', channel: 'telegram', conversationId: '3001', citizen: 'we***bc', reason: 'Cán bộ tiếp nhận chậm', excerpt: [] });
  await tickets.update(complaint.id, { status: 'released' });
});

afterAll(async () => {
  await relay.stop();
  queue.close();
  await tickets.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run handoffs', () => {
  it('lists open tickets by default, with Vietnam time', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    expect(r.out[1]).toContain(handoff.id);
    expect(r.out[1]).toContain('2026-11-23 10:00');
    expect(r.out[1]).toContain('10 phút');
    expect(r.out.join('\n')).not.toContain(complaint.id);
  });

  it('filters by status and kind, and prints JSON lines', async () => {
    expect((await run('--status', 'all')).out).toHaveLength(3);
    const released = await run('--status', 'released', '--kind', 'complaint', '--json');
    expect(released.out.map((l) => (JSON.parse(l) as Ticket).id)).toEqual([complaint.id]);
    expect((await run('--status', 'closed')).out).toEqual(['no closed tickets']);
  });

  it('shows the whole conversation: before the hand-off and what the citizen wrote after it (masked)', async () => {
    const r = await run('show', handoff.id.toLowerCase());
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toContain('cho tôi gặp cán bộ');
    expect(text).toContain('sau khi chuyển cán bộ');
    expect(text).toContain('còn đó không ạ');
    expect(text).not.toContain('0912345678');
    expect(text).toContain('đang chờ 10 phút');
  });

  it('reply: the running assistant sends the text to the citizen on their channel and marks the ticket answered', async () => {
    const r = await run('reply', handoff.id, 'Chào bạn, cán bộ đây.', 'Bạn cần hỏi gì?');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain(handoff.id);
    expect(pushed.at(-1)).toMatchObject({ channel: 'web', conversationId: 'web-citizen1' });
    expect(pushed.at(-1)?.reply.text).toContain('Chào bạn, cán bộ đây. Bạn cần hỏi gì?');
    const t = await tickets.get(handoff.id);
    expect(t?.status).toBe('answered');
    expect(t?.firstStaffReplyAt).toBe(OPEN_TIME + 60_000);
    expect(t?.messages.at(-1)).toMatchObject({ from: 'staff', by: expect.stringMatching(/^cli:/) });
    // The assistant stays quiet in that conversation while staff own it.
    expect((await say('cảm ơn, vậy lệ phí bao nhiêu')).reply).toBeNull();
    expect((await tickets.get(handoff.id))?.messages.at(-1)?.text).toContain('lệ phí bao nhiêu');
  });

  it('refuses what cannot be done, with a reason', async () => {
    expect((await run('reply', 'HT-000000-0000', 'x')).code).toBe(1);
    expect((await run('close', handoff.id, 'nonsense')).code).toBe(2);
    const bad = await run('--status', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain('usage: npm run handoffs');
    expect((await run('reply', handoff.id)).code).toBe(2);
  });

  it('close: the ticket gets its outcome and the assistant answers again', async () => {
    const before = pushed.length;
    const r = await run('close', handoff.id, 'resolved', '--note', 'đã hướng dẫn, gọi lại 0987654321');
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('Đã giải quyết');
    const t = await tickets.get(handoff.id);
    expect(t).toMatchObject({ status: 'closed', outcome: 'resolved' });
    expect(t?.outcomeNote).not.toContain('0987654321');
    expect(pushed.slice(before).map((p) => p.reply.text)).toEqual([parts.holder.version.knowledge.replies.handoffReleased]);
    expect(t?.messages.at(-1)).toMatchObject({ from: 'bot', text: parts.holder.version.knowledge.replies.handoffReleased });
    expect((await say('lệ phí làm căn cước')).reply?.text).toBeTruthy();
    expect((await run('reply', handoff.id, 'còn nữa')).code).toBe(1);
  });

  it('says so when no assistant is running to carry out a command', async () => {
    await relay.stop();
    const r = await runHandoffs(['release', complaint.id], { dataDir: dir, config, waitMs: 200, out: () => undefined, err: () => undefined });
    expect(r).toBe(3);
    relay.start();
    await new Promise((res) => setTimeout(res, 200));
  });

  it('offers the canned replies of replies.yaml with the site filled in', () => {
    const canned = service.canned();
    expect(canned.length).toBeGreaterThanOrEqual(3);
    const hotline = canned.find((c) => c.id === 'goi-hotline');
    expect(hotline?.text).toContain(parts.holder.version.knowledge.site.hotline);
    expect(canned.every((c) => !/\{\w+\}/.test(c.text))).toBe(true);
  });

  it('audits every staff action', async () => {
    const db = openStaffDatabase(config);
    const actions = new AuditLog(db).list().map((e) => e.action);
    db.close();
    expect(actions).toEqual(expect.arrayContaining(['ticket.reply', 'ticket.close']));
  });

  it('runs as a script with DATA_DIR from the environment', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/handoffs.ts', '--status', 'all'], { env: { ...process.env, DATA_DIR: dir, REDIS_URL: '' }, cwd: join(import.meta.dirname, '..') });
    expect(stdout).toContain(complaint.id);
  });
});
