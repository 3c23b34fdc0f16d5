/**
 * The dossier lookup gate (bot/dossier/access.ts) on a controlled clock: the global
 * ceiling absorbs a burst and never locks everyone out for the rest of the minute, the
 * per-user limit comes first, and phone-digit attempts are counted per dossier code.
 */
import { describe, expect, it } from 'vitest';
import { burstable, DossierAccess, globalLookupLimiter, type LimiterFactory } from '../bot/dossier/access.ts';
import { MemoryDossierProvider } from '../bot/dossier/types.ts';
import { MemoryRateLimiter } from '../bot/ratelimit.ts';
import { testRecords, UNKNOWN_CODE } from './dossier-support/records.ts';

function clocked() {
  let now = 1_000_000;
  const make: LimiterFactory = (_name, max, windowMs) => new MemoryRateLimiter(max, windowMs, () => now);
  const sleep = async (ms: number) => {
    now += ms;
  };
  return { make, sleep, advance: (ms: number) => (now += ms) };
}

const recs = testRecords();
const withPhone = recs.find((r) => r.phone)!;

describe('global lookup ceiling', () => {
  it('a burst spends the reserve; then lookups go on at the steady rate instead of stopping for a minute', async () => {
    const c = clocked();
    const access = new DossierAccess({
      dossiers: new MemoryDossierProvider(recs),
      userLookups: new MemoryRateLimiter(10, 3600_000),
      globalLookups: globalLookupLimiter(c.make, 120, 60),
      maxInPlaceWaitMs: 0,
      sleep: c.sleep,
    });
    // 200 different citizens in the same instant: 2 steady + 60 reserve pass.
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => access.admit(`web:u${i}`)));
    expect(first.filter((a) => a.ok)).toHaveLength(62);
    for (const a of first) if (!a.ok) expect(a.waitMs).toBeLessThanOrEqual(1000);
    // A second later someone new gets through: nobody is locked out for the minute.
    c.advance(1000);
    expect(await access.admit('web:late')).toEqual({ ok: true });
  });

  it('a short global wait is waited out in place, a long one is refused with its wait', async () => {
    const c = clocked();
    const steady = c.make('s', 1, 1000);
    const access = new DossierAccess({ dossiers: new MemoryDossierProvider(recs), userLookups: new MemoryRateLimiter(10, 3600_000), globalLookups: steady, sleep: c.sleep });
    expect(await access.admit('web:a')).toEqual({ ok: true });
    expect(await access.admit('web:b')).toEqual({ ok: true }); // waited ≤ 1 s
    const slow = new DossierAccess({ dossiers: new MemoryDossierProvider(recs), userLookups: new MemoryRateLimiter(10, 3600_000), globalLookups: c.make('m', 1, 60_000), sleep: c.sleep });
    expect(await slow.admit('web:a')).toEqual({ ok: true });
    expect(await slow.admit('web:b')).toMatchObject({ ok: false, scope: 'global' });
  });

  it('the per-user limit applies first and does not spend the global budget', async () => {
    const c = clocked();
    const global = c.make('g', 3, 60_000);
    const access = new DossierAccess({ dossiers: new MemoryDossierProvider(recs), userLookups: new MemoryRateLimiter(1, 3600_000, () => 0), globalLookups: global, sleep: c.sleep });
    expect(await access.admit('web:a')).toEqual({ ok: true });
    expect(await access.admit('web:a')).toMatchObject({ ok: false, scope: 'user' });
    expect(await access.admit('web:b')).toEqual({ ok: true });
    expect(await access.admit('web:c')).toEqual({ ok: true });
  });

  it('burstable: the reserve only pays for what the steady limiter refuses', async () => {
    const c = clocked();
    const l = burstable(c.make('s', 1, 1000), c.make('r', 1, 60_000));
    expect([await l.hit('k'), await l.hit('k')]).toEqual([0, 0]);
    expect(await l.hit('k')).toBeGreaterThan(0);
    c.advance(1000);
    expect(await l.hit('k')).toBe(0);
  });
});

describe('phone-digit verification', () => {
  it('counts attempts per dossier code, in any case of letters; unknown codes and wrong digits read the same', async () => {
    const c = clocked();
    const access = new DossierAccess({
      dossiers: new MemoryDossierProvider(recs),
      userLookups: new MemoryRateLimiter(10, 3600_000),
      globalLookups: c.make('g', 100, 60_000),
      verifyAttempts: c.make('v', 2, 86_400_000),
    });
    expect(await access.verify(UNKNOWN_CODE, '1234')).toEqual({ kind: 'refused' });
    expect(await access.verify(withPhone.code, '0000')).toEqual({ kind: 'refused' });
    expect(await access.verify(withPhone.code.toLowerCase(), withPhone.phone!.slice(-4))).toEqual({ kind: 'verified', record: withPhone });
    expect(await access.verify(withPhone.code, withPhone.phone!.slice(-4))).toMatchObject({ kind: 'limited' });
  });
});
