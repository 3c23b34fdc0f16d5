/**
 * The embedded SQLite store beyond the shared conformance suite: created with sample
 * data on first start (once, even when two processes start together), never reseeded,
 * the national status set enforced by the schema, and the default in createAssistant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { createDossierProvider, createFollowStore, dossierDbFile } from '../bot/dossier/factory.ts';
import { sampleDossiers } from '../bot/dossier/sample.ts';
import { SqliteDossierProvider } from '../bot/dossier/sqlite.ts';
import { DOSSIER_STATUSES, type DossierRecord } from '../bot/dossier/types.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { testRecords } from './dossier-support/records.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dossier-sqlite-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = () => join(tmp, `d${++n}`, 'dossiers.sqlite');

describe('SqliteDossierProvider', () => {
  it('creates the file (and its folder) on first start with the sample dossiers, once', async () => {
    const f = file();
    const samples = sampleDossiers();
    const first = new SqliteDossierProvider(f, { seed: () => samples });
    expect(first.count()).toBe(samples.length);
    expect(await first.lookup(samples[2]!.code)).toEqual(samples[2]);
    // Staff change a sample; a restart must not put the original back.
    first.upsert([{ ...samples[2]!, status: 'Đang xử lý' }]);
    await first.close();
    const again = new SqliteDossierProvider(f, { seed: () => samples.map((s) => ({ ...s, code: s.code.replace('H99', 'H98') })) });
    expect(again.count()).toBe(samples.length);
    expect((await again.lookup(samples[2]!.code))!.status).toBe('Đang xử lý');
    await again.close();
  });

  it('two processes opening a new file together seed it once', async () => {
    const f = file();
    const a = new SqliteDossierProvider(f, { seed: () => sampleDossiers() });
    const b = new SqliteDossierProvider(f, { seed: () => sampleDossiers() });
    expect(b.count()).toBe(sampleDossiers().length);
    await a.close();
    await b.close();
  });

  it('has the agreed schema, and the schema itself refuses statuses outside the national set and lower-case codes', async () => {
    const f = file();
    const p = new SqliteDossierProvider(f);
    const db = new Database(f, { readonly: true });
    const cols = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('dossiers')").all().map((c) => c.name);
    db.close();
    expect(cols).toEqual(['code', 'procedure_id', 'procedure_name', 'status', 'received_at', 'due_at', 'finished_at', 'applicant_name', 'phone', 'current_step', 'note', 'updated_at']);
    const base = testRecords()[0]!;
    expect(() => p.upsert([{ ...base, status: 'Quá hạn' as DossierRecord['status'] }])).toThrow(/CHECK constraint/);
    expect(() => p.upsert([{ ...base, status: DOSSIER_STATUSES[3].normalize('NFD') as DossierRecord['status'] }])).toThrow(/CHECK constraint/);
    // upsert upper-cases codes itself; raw SQL with a lower-case code is refused.
    const raw = new Database(f);
    expect(() =>
      raw.prepare("INSERT INTO dossiers (code, procedure_name, status, received_at, applicant_name, updated_at) VALUES ('abc.1-260101-0001', 'x', 'Đang xử lý', '2026-01-01', 'A', 'now')").run(),
    ).toThrow(/CHECK constraint/);
    raw.close();
    // A failed batch writes nothing.
    expect(() => p.upsert([testRecords()[1]!, { ...base, status: 'x' as DossierRecord['status'] }])).toThrow();
    expect(p.count()).toBe(0);
    await p.close();
  });

  it('lists newest first with a status filter and paging', async () => {
    const p = new SqliteDossierProvider(file());
    const recs = testRecords().map((r, i) => ({ ...r, receivedAt: `2026-11-${String(10 + i).padStart(2, '0')}` }));
    p.upsert(recs);
    expect(p.list({ limit: 3 }).map((r) => r.code)).toEqual([recs[9]!.code, recs[8]!.code, recs[7]!.code]);
    expect(p.list({ status: 'Đang xử lý' }).map((r) => r.code)).toEqual([recs[3]!.code]);
    expect(p.count('Đang xử lý')).toBe(1);
    expect(p.list({ limit: 2, offset: 9 })).toHaveLength(1);
    await p.close();
    await p.close();
    await expect(p.lookup(recs[0]!.code)).rejects.toThrow(/closed/);
  });
});

describe('factory', () => {
  it('SQLite under DATA_DIR by default, with samples unless DOSSIER_SAMPLE_DATA=false', async () => {
    const dir = join(tmp, 'data-default');
    const config = loadConfig({ DATA_DIR: dir });
    expect(dossierDbFile(config)).toBe(join(dir, 'dossiers.sqlite'));
    const p = createDossierProvider(config);
    expect(p.name).toBe('sqlite');
    expect(await p.lookup(sampleDossiers()[1]!.code)).not.toBeNull();
    await p.close?.();
    const empty = createDossierProvider(loadConfig({ DATA_DIR: join(tmp, 'data-empty'), DOSSIER_SAMPLE_DATA: 'false' }));
    expect(await empty.lookup(sampleDossiers()[1]!.code)).toBeNull();
    await empty.close?.();
    const mem = createDossierProvider(loadConfig({ DOSSIER_PROVIDER: 'memory' }));
    expect(mem.name).toBe('memory');
    expect(await mem.lookup(sampleDossiers()[1]!.code)).not.toBeNull();
  });

  it('follows go to the same SQLite file (or memory with the memory provider)', async () => {
    const config = loadConfig({ DOSSIER_DB_FILE: join(tmp, 'shared.sqlite') });
    const follows = createFollowStore(config);
    await follows.subscribe({ code: 'H57.132-261110-0001', conversationId: 'c', channel: 'web', userId: 'u', lastStatus: 'Đang xử lý' });
    await follows.close?.();
    const db = new Database(join(tmp, 'shared.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM dossier_follows').get()).toEqual({ n: 1 });
    db.close();
    expect(createFollowStore(loadConfig({ DOSSIER_PROVIDER: 'memory' })).constructor.name).toBe('MemoryFollowStore');
  });

  it('createAssistant answers from the configured provider by default', async () => {
    const f = join(tmp, 'assistant.sqlite');
    const store = new SqliteDossierProvider(f);
    const rec = testRecords()[4]!;
    store.upsert([rec]);
    const { engine, dossiers } = createAssistant(loadConfig({ DOSSIER_DB_FILE: f, LOG_LEVEL: 'silent' }), { holder: knowledgeHolder(), memoryTickets: true });
    expect(dossiers.name).toBe('sqlite');
    const t = await engine.handle({ channel: 'web', conversationId: 'c', userId: 'u', messageId: 'm1', text: `tra cứu hồ sơ ${rec.code}`, kind: 'text' });
    expect(t.reply!.text).toContain(`Tình trạng: ${rec.status}`);
    // A later import shows up without a restart.
    store.upsert([{ ...rec, status: 'Đã xử lý xong' }]);
    const t2 = await engine.handle({ channel: 'web', conversationId: 'c2', userId: 'u2', messageId: 'm2', text: rec.code, kind: 'text' });
    expect(t2.reply!.text).toContain('Tình trạng: Đã xử lý xong');
    await store.close();
    await dossiers.close?.();
  });
});
