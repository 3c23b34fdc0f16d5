/**
 * Knowledge reload across processes over real Redis pub/sub: a change applied in one
 * process is announced and every other process reloads; a process ignores its own
 * announcement. Uses a random channel; fails (never skips) when Redis is unreachable.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onReloadSignal, publishReload, startLiveReload, type ReloadSignal } from '../bot/reload.ts';
import { writeFileAtomic } from '../knowledge/staff-files.ts';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANNEL = `test:knowledge-reload:${randomUUID()}`;
const connections: Redis[] = [];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function connect(): Redis {
  const r = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  connections.push(r);
  return r;
}

/** A stand-in for KnowledgeHolder that counts reloads and lets a test await the next one. */
function fakeHolder() {
  let waiters: (() => void)[] = [];
  const h = {
    count: 0,
    reload() {
      h.count++;
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
      return { ok: true, issues: [] };
    },
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
  return h;
}

beforeAll(async () => {
  const probe = connect();
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${URL} (${(err as Error).message}). These tests need a real Redis: start one with ` +
        `"redis-server --daemonize yes --port 6379 --save '' --appendonly no" or set REDIS_URL.`,
      { cause: err },
    );
  }
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
});

describe('reload signal over Redis pub/sub', () => {
  it('delivers a published signal to a subscriber', async () => {
    const pub = connect();
    const sub = connect();
    await Promise.all([pub.connect(), sub.connect()]);
    const got = new Promise<ReloadSignal>((resolve) => {
      void onReloadSignal(sub, CHANNEL, resolve).then(async () => {
        expect(await publishReload(pub, CHANNEL, { origin: 'p1', reason: 'test' })).toBe(1);
      });
    });
    const signal = await got;
    expect(signal).toMatchObject({ origin: 'p1', reason: 'test' });
  });

  it('a file change in one process reloads the others, and nobody reloads twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reload-'));
    const channel = `${CHANNEL}:live`;
    const a = fakeHolder();
    const b = fakeHolder();
    const [pa, sa, pb, sb, pc] = [connect(), connect(), connect(), connect(), connect()];
    await Promise.all([pa, sa, pb, sb, pc].map((c) => c.connect()));
    const procA = await startLiveReload({ holder: a, dirs: [dir], log: silent, watch: true, debounceMs: 50, redis: { publisher: pa, subscriber: sa, channel }, origin: 'A' });
    const procB = await startLiveReload({ holder: b, dirs: [], log: silent, watch: false, redis: { publisher: pb, subscriber: sb, channel }, origin: 'B' });
    try {
      const aReloaded = a.next();
      const bReloaded = b.next();
      // One whole-file write (temporary file + rename) is one change, however slow the machine.
      writeFileAtomic(join(dir, 'faq.moi.yaml'), 'version: 1\n');
      await aReloaded;
      await bReloaded;
      // A marker signal from a third process reaches both after anything A sent itself.
      const aMarker = a.next();
      const bMarker = b.next();
      await publishReload(pc, channel, { origin: 'C', reason: 'marker' });
      await Promise.all([aMarker, bMarker]);
      expect(a.count).toBe(2);
      expect(b.count).toBe(2);
    } finally {
      await procA.close();
      await procB.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores malformed messages', async () => {
    const channel = `${CHANNEL}:bad`;
    const pub = connect();
    const sub = connect();
    await Promise.all([pub.connect(), sub.connect()]);
    const seen: ReloadSignal[] = [];
    let done!: () => void;
    const good = new Promise<void>((r) => (done = r));
    await onReloadSignal(sub, channel, (s) => {
      seen.push(s);
      if (s.origin === 'ok') done();
    });
    await pub.publish(channel, '{not json');
    await publishReload(pub, channel, { origin: 'ok' });
    await good;
    expect(seen.map((s) => s.origin)).toEqual(['ok']);
  });
});
