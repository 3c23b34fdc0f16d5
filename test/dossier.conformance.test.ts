/**
 * One conformance suite for every DossierStatusProvider: in-memory, embedded SQLite,
 * and the HTTP provider against a local fake one-stop system (with its own field names,
 * status codes and date formats mapped by configuration), with and without the cache.
 * A new provider joins by adding one entry to PROVIDERS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedDossierProvider, MemoryDossierCache } from '../bot/dossier/cache.ts';
import { HttpDossierProvider } from '../bot/dossier/http.ts';
import { SqliteDossierProvider } from '../bot/dossier/sqlite.ts';
import { MemoryDossierProvider, type DossierRecord, type DossierStatusProvider } from '../bot/dossier/types.ts';
import { startFakeUpstream, type FakeUpstream, upstreamOptions } from './dossier-support/fake-upstream.ts';
import { testRecords, UNKNOWN_CODE } from './dossier-support/records.ts';

interface Harness {
  provider: DossierStatusProvider;
  dispose(): Promise<void>;
}

const tmp = mkdtempSync(join(tmpdir(), 'dossier-conf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

async function httpHarness(records: DossierRecord[], cached: boolean): Promise<Harness> {
  const fake: FakeUpstream = await startFakeUpstream(records);
  const http = new HttpDossierProvider({
    ...upstreamOptions(fake),
    timeoutMs: 5000,
    backoffMs: 1,
  });
  const provider = cached ? new CachedDossierProvider(http, new MemoryDossierCache(), { ttlMs: 60_000 }) : http;
  return { provider, dispose: () => fake.close() };
}

const PROVIDERS: [string, (records: DossierRecord[]) => Promise<Harness>][] = [
  ['memory', async (records) => ({ provider: new MemoryDossierProvider(records), dispose: async () => undefined })],
  [
    'sqlite',
    async (records) => {
      const p = new SqliteDossierProvider(join(tmp, `conf-${++seq}.sqlite`));
      p.upsert(records);
      return { provider: p, dispose: () => p.close() };
    },
  ],
  ['http', (records) => httpHarness(records, false)],
  ['http+cache', (records) => httpHarness(records, true)],
];

describe.each(PROVIDERS)('DossierStatusProvider conformance: %s', (_name, make) => {
  let h: Harness;
  const records = testRecords();

  beforeEach(async () => {
    h = await make(records);
  });
  afterEach(async () => {
    await h.provider.close?.();
    await h.dispose();
  });

  it('returns every stored dossier exactly, one per national status', async () => {
    for (const r of records) expect(await h.provider.lookup(r.code), r.status).toEqual(r);
  });

  it('finds a code typed in lower case or with spaces around it', async () => {
    const r = records[3]!;
    expect(await h.provider.lookup(`  ${r.code.toLowerCase()} `)).toEqual(r);
  });

  it('answers null for a well-formed code it does not hold', async () => {
    expect(await h.provider.lookup(UNKNOWN_CODE)).toBeNull();
  });

  it('answers null, without throwing, for hostile or empty input', async () => {
    const hostile = ['', '   ', "' OR 1=1 --", '../../etc/passwd', `${records[0]!.code}/../x`, `${records[0]!.code}?x=1`, '%00', 'Mã hồ sơ', 'x'.repeat(5000), '\u0000'];
    for (const code of hostile) expect(await h.provider.lookup(code), JSON.stringify(code.slice(0, 20))).toBeNull();
  });

  it('leaves absent optional fields absent (not null, not empty)', async () => {
    const bare = (await h.provider.lookup(records[0]!.code))!;
    expect(Object.keys(bare).sort()).toEqual(Object.keys(records[0]!).sort());
    expect('phone' in bare).toBe(false);
    expect(Object.values(bare).every((v) => v !== null && v !== '')).toBe(true);
  });

  it('keeps Vietnamese text, quotes and line breaks intact', async () => {
    const r = records.find((x) => x.note)!;
    expect((await h.provider.lookup(r.code))!.note).toBe(r.note);
  });

  it('gives each caller its own copy', async () => {
    const r = records[1]!;
    const first = (await h.provider.lookup(r.code))!;
    first.status = 'Dừng xử lý';
    first.applicantName = 'changed';
    expect(await h.provider.lookup(r.code)).toEqual(r);
  });

  it('serves concurrent lookups consistently', async () => {
    const codes = [...records.map((r) => r.code), UNKNOWN_CODE, ...records.map((r) => r.code)];
    const got = await Promise.all(codes.map((c) => h.provider.lookup(c)));
    expect(got.map((g) => g?.code ?? null)).toEqual(codes.map((c) => (c === UNKNOWN_CODE ? null : c)));
  });

  it('has a name for operator logs', () => {
    expect(h.provider.name).toMatch(/^[a-z+]+$/);
  });
});
