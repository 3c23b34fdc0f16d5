/** `npm run handoffs`: listing, filtering, showing and releasing tickets in the ticket file. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTicketStore, type Ticket } from '../bot/handoff/tickets.ts';
import { runHandoffs } from '../scripts/handoffs.ts';

let dir: string;
let handoff: Ticket;
let complaint: Ticket;

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runHandoffs(argv, { dataDir: dir, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'handoffs-'));
  const store = new FileTicketStore(join(dir, 'tickets.jsonl'), () => Date.UTC(2026, 10, 26, 3, 0));
  handoff = await store.create({ kind: 'handoff', channel: 'telegram', conversationId: '3001', citizen: 'Trần T** B***', reason: 'Công dân yêu cầu gặp cán bộ', excerpt: [{ from: 'citizen', text: 'cho tôi gặp cán bộ', at: Date.UTC(2026, 10, 26, 3, 0) }] });
  complaint = await store.create({ kind: 'complaint', channel: 'web', conversationId: 'web-abc', citizen: 'we***bc', reason: 'Cán bộ tiếp nhận chậm', excerpt: [] });
  await store.update(complaint.id, { status: 'answered' });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run handoffs', () => {
  it('lists open tickets by default, with Vietnam time', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    expect(r.out[1]).toContain(handoff.id);
    expect(r.out[1]).toContain('2026-11-26 10:00');
    expect(r.out.join('\n')).not.toContain(complaint.id);
  });

  it('filters by status and kind, and prints JSON lines', async () => {
    expect((await run('--status', 'all')).out).toHaveLength(3);
    const answered = await run('--status', 'answered', '--kind', 'complaint', '--json');
    expect(answered.out.map((l) => (JSON.parse(l) as Ticket).id)).toEqual([complaint.id]);
    expect((await run('--status', 'closed')).out).toEqual(['no closed tickets']);
  });

  it('shows one ticket with its excerpt', async () => {
    const r = await run('show', handoff.id.toLowerCase());
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('cho tôi gặp cán bộ');
  });

  it('marks a ticket released, in the file', async () => {
    const r = await run('release', handoff.id);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('marked released (was open)');
    expect((await new FileTicketStore(join(dir, 'tickets.jsonl')).get(handoff.id))?.status).toBe('released');
    expect((await run('release', handoff.id)).out[0]).toContain('already released');
    expect((await run()).out).toEqual(['no open tickets']);
  });

  it('fails clearly on unknown tickets and arguments', async () => {
    const missing = await run('release', 'HT-000000-0000');
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toContain('no ticket HT-000000-0000');
    const bad = await run('--status', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain('usage: npm run handoffs');
    expect((await run('release')).code).toBe(2);
  });

  it('runs as a script with DATA_DIR from the environment', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/handoffs.ts', '--status', 'all'], { env: { ...process.env, DATA_DIR: dir }, cwd: join(import.meta.dirname, '..') });
    expect(stdout).toContain(complaint.id);
  });
});
