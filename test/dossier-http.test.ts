/**
 * The HTTP provider against a local fake one-stop system that is slow, fails with 500,
 * answers garbage, or answers valid data: timeouts end slow calls, 5xx and network
 * errors are retried, garbage is "unavailable", and the circuit breaker stops calling a
 * dead upstream until its cool-down ends. No sleeps: timeouts are the client's own, the
 * breaker's clock is injected.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../bot/config.ts';
import { CachedDossierProvider, MemoryDossierCache, type DossierCache } from '../bot/dossier/cache.ts';
import { createDossierProvider } from '../bot/dossier/factory.ts';
import { HttpDossierProvider, readPath, type HttpDossierOptions } from '../bot/dossier/http.ts';
import { DossierUnavailableError, type DossierRecord, type DossierStatusProvider } from '../bot/dossier/types.ts';
import { FIELD_MAP, startFakeUpstream, STATUS_MAP, type FakeUpstream, upstreamOptions } from './dossier-support/fake-upstream.ts';
import { testRecords, UNKNOWN_CODE } from './dossier-support/records.ts';

const records = testRecords();
const A = records[1]!;
const B = records[4]!;
let fake: FakeUpstream;
let clock: number;
const logs: { level: string; msg?: string }[] = [];
const log = {
  info: (_o: object, msg?: string) => logs.push({ level: 'info', msg }),
  warn: (_o: object, msg?: string) => logs.push({ level: 'warn', msg }),
  error: (_o: object, msg?: string) => logs.push({ level: 'error', msg }),
};

function provider(over: Partial<HttpDossierOptions> = {}): HttpDossierProvider {
  return new HttpDossierProvider({
    ...upstreamOptions(fake),
    timeoutMs: 2000,
    retries: 0,
    backoffMs: 1,
    breakerFailures: 100,
    now: () => clock,
    log,
    ...over,
  });
}

async function unavailable(p: DossierStatusProvider, code: string): Promise<DossierUnavailableError> {
  const err = await p.lookup(code).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DossierUnavailableError);
  return err as DossierUnavailableError;
}

beforeEach(async () => {
  fake = await startFakeUpstream(records);
  clock = 1_000_000;
  logs.length = 0;
});
afterEach(async () => {
  await fake.close();
});

describe('valid data', () => {
  it('maps fields, statuses and dates from the configured paths, sending the auth header', async () => {
    expect(await provider().lookup(A.code)).toEqual(A);
    expect(fake.hits).toEqual([A.code]);
  });

  it('keeps the base URL path prefix and URL-encodes the code', async () => {
    await provider().lookup(A.code.toLowerCase());
    expect(fake.hits).toEqual([A.code]);
  });

  it('404 is "no such dossier", and so is a JSON null or an empty list where the record should be', async () => {
    const p = provider();
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    fake.script = ['data-null'];
    expect(await p.lookup(A.code)).toBeNull();
    fake.script = ['list'];
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(p.circuit).toBe('closed');
  });

  it('takes the matching entry from a search answer that lists several dossiers', async () => {
    fake.script = ['list'];
    expect(await provider().lookup(A.code)).toEqual(A);
  });

  it('never sends code-unlike input upstream', async () => {
    const p = provider();
    for (const bad of ['', '../x', 'A B', `${A.code}&admin=1`, '%2e%2e']) expect(await p.lookup(bad)).toBeNull();
    expect(fake.hits).toEqual([]);
  });

  it('without a field map, reads our own field names from the body', async () => {
    const p = new HttpDossierProvider({ baseUrl: 'http://127.0.0.1:9', fieldMap: {} });
    expect(readPath({ a: { b: [{ c: 1 }] } }, 'a.b.0.c')).toBe(1);
    expect(readPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(p.name).toBe('http');
  });
});

describe('slow upstream', () => {
  it('gives up after the timeout and says "unavailable"; the upstream sees the request dropped', async () => {
    fake.fallback = 'slow';
    const dropped = fake.nextAbort();
    const err = await unavailable(provider({ timeoutMs: 150 }), A.code);
    expect(err.message).toMatch(/did not answer within 150 ms/);
    await dropped;
    expect(fake.aborted).toBe(1);
  });

  it('retries a timeout, then succeeds when the upstream recovers', async () => {
    fake.script = ['slow'];
    expect(await provider({ timeoutMs: 150, retries: 1 }).lookup(A.code)).toEqual(A);
    expect(fake.hits).toEqual([A.code, A.code]);
  });

  it('stops retrying when the whole-lookup deadline is used up', async () => {
    fake.fallback = '500';
    let t = 0;
    // Each reading of the clock moves it on 1 s: the 2.5 s deadline allows two attempts.
    const p = provider({ retries: 10, deadlineMs: 2500, now: () => (t += 1000) });
    await unavailable(p, A.code);
    expect(fake.hits.length).toBeLessThan(11);
    expect(fake.hits.length).toBeGreaterThanOrEqual(1);
  });
});

describe('failing upstream', () => {
  it('retries 5xx with backoff and returns the record once the upstream answers', async () => {
    fake.script = ['500', '503'];
    const waits: number[] = [];
    const p = provider({ retries: 2, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
    expect(await p.lookup(A.code)).toEqual(A);
    expect(fake.hits).toHaveLength(3);
    expect(waits).toHaveLength(2);
    // Exponential with jitter: the second wait is drawn from a range twice as high.
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(150);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(300);
  });

  it('500 every time: tries 1 + retries times, then "unavailable"', async () => {
    fake.fallback = '500';
    const err = await unavailable(provider({ retries: 2 }), A.code);
    expect(err.message).toMatch(/HTTP 500/);
    expect(fake.hits).toHaveLength(3);
  });

  it('a refused connection is retried and then "unavailable"', async () => {
    const url = fake.baseUrl;
    await fake.close();
    const p = provider({ baseUrl: url, retries: 1 });
    const err = await unavailable(p, A.code);
    expect(err.message).toMatch(/unreachable/);
    fake = await startFakeUpstream(records);
  });

  it('a reset connection counts as a network error', async () => {
    fake.script = ['reset'];
    expect(await provider({ retries: 1 }).lookup(A.code)).toEqual(A);
    expect(fake.hits).toHaveLength(2);
  });

  it('wrong credentials are not retried', async () => {
    const err = await unavailable(provider({ authValue: 'wrong', retries: 3 }), A.code);
    expect(err.message).toMatch(/HTTP 401/);
    expect(fake.hits).toHaveLength(1);
  });
});

describe('garbage', () => {
  it('an HTML maintenance page is "unavailable" and not retried', async () => {
    fake.fallback = 'html';
    const err = await unavailable(provider({ retries: 3 }), A.code);
    expect(err.message).toMatch(/not JSON/);
    expect(fake.hits).toHaveLength(1);
  });

  it('JSON without the configured fields is "unavailable", not "not found"', async () => {
    fake.fallback = 'json-garbage';
    await unavailable(provider(), A.code);
  });

  it('a status missing from the status map is "unavailable" and tells the operator what to add', async () => {
    fake.fallback = 'unmapped-status';
    const err = await unavailable(provider(), A.code);
    expect(err.message).toContain('"ST99"');
    expect(err.message).toContain('DOSSIER_HTTP_STATUS_MAP');
  });

  it('an answer about a different dossier is refused (never show someone else\'s dossier)', async () => {
    fake.fallback = 'wrong-code';
    const err = await unavailable(provider(), A.code);
    expect(err.message).toMatch(/different code/);
  });

  it('a redirect is not followed, so the auth header never travels elsewhere', async () => {
    fake.fallback = 'redirect';
    await unavailable(provider(), A.code);
    expect(fake.hits).toEqual([A.code]);
    expect(fake.redirected).toBe(0);
  });

  it('an endless answer is cut off at the size limit', async () => {
    fake.fallback = 'huge';
    const err = await unavailable(provider({ maxBodyBytes: 200_000 }), A.code);
    expect(err.message).toMatch(/larger than 200000 bytes/);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures and then answers at once without calling the upstream', async () => {
    fake.fallback = '500';
    const p = provider({ breakerFailures: 3, breakerCooldownMs: 30_000 });
    for (let i = 0; i < 3; i++) await unavailable(p, A.code);
    expect(p.circuit).toBe('open');
    expect(fake.hits).toHaveLength(3);
    const err = await unavailable(p, B.code);
    expect(err.message).toMatch(/circuit open/);
    expect(fake.hits).toHaveLength(3);
    expect(logs.some((l) => l.level === 'warn' && /circuit open/.test(l.msg ?? ''))).toBe(true);
  });

  it('after the cool-down lets one trial through; success closes it', async () => {
    fake.fallback = '500';
    const p = provider({ breakerFailures: 2, breakerCooldownMs: 30_000 });
    await unavailable(p, A.code);
    await unavailable(p, A.code);
    clock += 29_999;
    await unavailable(p, A.code);
    expect(fake.hits).toHaveLength(2);
    clock += 1;
    fake.fallback = 'ok';
    expect(await p.lookup(A.code)).toEqual(A);
    expect(p.circuit).toBe('closed');
    expect(await p.lookup(B.code)).toEqual(B);
  });

  it('a failed trial opens it again for another cool-down', async () => {
    fake.fallback = '500';
    const p = provider({ breakerFailures: 1, breakerCooldownMs: 1000 });
    await unavailable(p, A.code);
    clock += 1000;
    await unavailable(p, A.code);
    expect(p.circuit).toBe('open');
    expect(fake.hits).toHaveLength(2);
    await unavailable(p, A.code);
    expect(fake.hits).toHaveLength(2);
  });

  it('half-open lets exactly one of several concurrent lookups through', async () => {
    fake.fallback = '500';
    const p = provider({ breakerFailures: 1, breakerCooldownMs: 1000 });
    await unavailable(p, A.code);
    clock += 1000;
    fake.fallback = 'ok';
    const results = await Promise.allSettled([p.lookup(A.code), p.lookup(B.code), p.lookup(A.code)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(fake.hits).toHaveLength(2);
    expect(p.circuit).toBe('closed');
  });

  it('"not found" answers count as healthy', async () => {
    const p = provider({ breakerFailures: 1 });
    for (let i = 0; i < 3; i++) expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(p.circuit).toBe('closed');
  });
});

describe('configuration', () => {
  const env = () => ({
    DOSSIER_PROVIDER: 'http',
    DOSSIER_HTTP_BASE_URL: fake.baseUrl,
    DOSSIER_HTTP_PATH: fake.path,
    DOSSIER_HTTP_AUTH_HEADER: fake.authHeader,
    DOSSIER_HTTP_AUTH_VALUE: fake.authValue,
    DOSSIER_HTTP_RECORD_PATH: 'data',
    DOSSIER_HTTP_FIELD_MAP: JSON.stringify(FIELD_MAP),
    DOSSIER_HTTP_STATUS_MAP: JSON.stringify(STATUS_MAP),
  });

  it('the factory builds a cached HTTP provider from environment variables', async () => {
    const p = createDossierProvider(loadConfig(env()));
    expect(p.name).toBe('http+cache');
    expect(await p.lookup(A.code)).toEqual(A);
    expect(await p.lookup(A.code)).toEqual(A);
    expect(fake.hits).toEqual([A.code]);
    await p.close?.();
  });

  it('DOSSIER_CACHE_SECONDS=0 turns the cache off', async () => {
    const p = createDossierProvider(loadConfig({ ...env(), DOSSIER_CACHE_SECONDS: '0' }));
    expect(p.name).toBe('http');
  });

  it('refuses incomplete or wrong settings at startup with a named error', () => {
    expect(() => createDossierProvider(loadConfig({ DOSSIER_PROVIDER: 'http' }))).toThrow(ConfigError);
    expect(() => createDossierProvider(loadConfig({ ...env(), DOSSIER_HTTP_AUTH_VALUE: '' }))).toThrow(/both/);
    expect(() => createDossierProvider(loadConfig({ ...env(), DOSSIER_HTTP_STATUS_MAP: '{"X":"Đang chờ"}' }))).toThrow(/not a national dossier status/);
    expect(() => createDossierProvider(loadConfig({ ...env(), DOSSIER_HTTP_FIELD_MAP: '{"statut":"x"}' }))).toThrow(/unknown field/);
    expect(() => createDossierProvider(loadConfig({ ...env(), DOSSIER_HTTP_PATH: '/api/dossiers' }))).toThrow(/\{code\}/);
    expect(() => loadConfig({ ...env(), DOSSIER_HTTP_FIELD_MAP: 'status=x' })).toThrow(ConfigError);
  });

  it('the status map accepts labels with or without diacritics, and common labels need no entry', async () => {
    const p = provider({ statusMap: { ...STATUS_MAP, 'chờ bổ sung hồ sơ': 'Yêu cầu bổ sung giấy tờ' } });
    expect(p.name).toBe('http');
    const { toNationalStatus, compileStatusMap } = await import('../bot/dossier/normalize.ts');
    const map = compileStatusMap({ 'Chờ bổ sung hồ sơ': 'yeu cau bo sung giay to' });
    expect(toNationalStatus('CHO BO SUNG HO SO', map)).toBe('Yêu cầu bổ sung giấy tờ');
    expect(toNationalStatus('Đã trả kết quả')).toBe('Đã trả kết quả');
    expect(toNationalStatus('4')).toBe('Đang xử lý');
    expect(toNationalStatus('Chờ tiếp nhận')).toBe('Mới đăng ký');
    expect(toNationalStatus('Quá hạn')).toBeUndefined();
  });
});

describe('cache', () => {
  class CountingProvider implements DossierStatusProvider {
    readonly name = 'counting';
    calls = 0;
    fail = false;
    constructor(private readonly recs: Map<string, DossierRecord>) {}
    async lookup(code: string): Promise<DossierRecord | null> {
      this.calls++;
      if (this.fail) throw new DossierUnavailableError('down');
      return this.recs.get(code) ?? null;
    }
  }

  it('serves repeats from the cache, keeps "not found" shorter, and never caches errors', async () => {
    let now = 0;
    const inner = new CountingProvider(new Map([[A.code, A]]));
    const p = new CachedDossierProvider(inner, new MemoryDossierCache(100, () => now), { ttlMs: 60_000, notFoundTtlMs: 5_000 });
    expect(await p.lookup(A.code.toLowerCase())).toEqual(A);
    expect(await p.lookup(A.code)).toEqual(A);
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(inner.calls).toBe(2);
    now = 5_000;
    expect(await p.lookup(UNKNOWN_CODE)).toBeNull();
    expect(await p.lookup(A.code)).toEqual(A);
    expect(inner.calls).toBe(3);
    now = 60_000;
    inner.fail = true;
    await expect(p.lookup(A.code)).rejects.toBeInstanceOf(DossierUnavailableError);
    inner.fail = false;
    expect(await p.lookup(A.code)).toEqual(A);
    expect(inner.calls).toBe(5);
  });

  it('a broken or hanging cache is skipped, and the lookup still answers', async () => {
    const broken: DossierCache = { get: () => Promise.reject(new Error('boom')), set: () => Promise.reject(new Error('boom')) };
    const hanging: DossierCache = { get: () => new Promise(() => undefined), set: () => new Promise(() => undefined) };
    for (const cache of [broken, hanging]) {
      const inner = new CountingProvider(new Map([[A.code, A]]));
      const p = new CachedDossierProvider(inner, cache, { ttlMs: 60_000, cacheTimeoutMs: 20, log });
      expect(await p.lookup(A.code)).toEqual(A);
    }
    expect(logs.some((l) => /dossier cache unavailable/.test(l.msg ?? ''))).toBe(true);
  });
});
