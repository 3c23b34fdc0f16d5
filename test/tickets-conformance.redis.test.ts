/**
 * One conformance suite for every TicketStore — memory, SQLite (the embedded default)
 * and Redis (REDIS_URL) — and for both ticket event buses, so `npm start`, a worker and
 * the console behave alike whichever is configured. A new store joins by adding one entry.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EventedTicketStore, InProcessTicketEvents, RedisTicketEvents, type TicketEvent, type TicketEvents } from '../bot/handoff/events.ts';
import { RedisTicketStore } from '../bot/handoff/redis-tickets.ts';
import { SqliteTicketStore } from '../bot/handoff/sqlite-tickets.ts';
import { MemoryTicketStore, TICKET_LIMITS, type NewTicket, type TicketStore } from '../bot/handoff/tickets.ts';
import { cleanupPrefix, connectRedis, randomPrefix, until } from './queue-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tickets-'));
const prefix = randomPrefix('tickets');
let redis: Redis | undefined;
const needRedis = async (): Promise<Redis> => (redis ??= await connectRedis());
let n = 0;

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (redis) {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  }
});

/** A clock the test moves by hand (ticket numbers carry the Vietnam date). */
function clock(start = Date.parse('2026-11-26T03:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A small bound keeps the trimming test light (the production bound is TICKET_LIMITS.messages). */
const MAX = 20;
const STORES: { name: string; make(now: () => number): Promise<TicketStore> }[] = [
  { name: 'memory', make: async (now) => new MemoryTicketStore(now, { maxMessages: MAX }) },
  { name: 'sqlite', make: async (now) => new SqliteTicketStore(join(tmp, `t${++n}.sqlite`), { now, maxMessages: MAX }) },
  { name: 'redis', make: async (now) => new RedisTicketStore(await needRedis(), { prefix: `${prefix}:s${++n}`, now, maxMessages: MAX }) },
];

const handoff = (conv = 'c1', channel = 'web'): NewTicket => ({
  kind: 'handoff',
  channel,
  conversationId: conv,
  citizen: 'Trần T** B***',
  reason: 'Công dân yêu cầu gặp cán bộ',
  excerpt: [
    { from: 'citizen', text: 'làm căn cước', at: 1 },
    { from: 'bot', text: 'Hồ sơ cần chuẩn bị…', at: 2 },
  ],
});

describe.each(STORES)('TicketStore conformance: $name', (impl) => {
  it('creates readable ticket numbers, per kind and day, starting open with no messages', async () => {
    const c = clock();
    const store = await impl.make(c.now);
    const a = await store.create(handoff());
    const b = await store.create({ ...handoff('c2'), kind: 'complaint', reason: 'Cán bộ tiếp nhận chậm' });
    const d = await store.create(handoff('c3'));
    expect([a.id, b.id, d.id]).toEqual(['HT-261126-0001', 'PA-261126-0001', 'HT-261126-0002']);
    c.advance(86_400_000);
    expect((await store.create(handoff('c4'))).id).toBe('HT-261127-0001');
    expect(a).toMatchObject({ status: 'open', messages: [], createdAt: c.now() - 86_400_000, channel: 'web', conversationId: 'c1' });
    expect(await store.get(a.id)).toEqual(a);
    expect(await store.get('HT-000000-0000')).toBeUndefined();
    await store.close?.();
  });

  it('appends messages after the hand-off, in order, and records the first staff reply', async () => {
    const c = clock();
    const store = await impl.make(c.now);
    const t = await store.create(handoff());
    await store.appendMessage(t.id, { from: 'citizen', text: 'còn đó không ạ', at: 10 });
    await store.appendMessage(t.id, { from: 'staff', text: 'Chào bạn', at: 20, by: 'lan' });
    const after = await store.appendMessage(t.id, { from: 'staff', text: 'Bạn cần gì thêm?', at: 30, by: 'lan' });
    expect(after?.messages.map((m) => m.text)).toEqual(['còn đó không ạ', 'Chào bạn', 'Bạn cần gì thêm?']);
    expect(after?.messages[1]).toEqual({ from: 'staff', text: 'Chào bạn', at: 20, by: 'lan' });
    expect(after?.firstStaffReplyAt).toBe(20);
    expect(after?.excerpt).toHaveLength(2);
    expect(await store.appendMessage('HT-000000-0000', { from: 'citizen', text: 'x', at: 1 })).toBeUndefined();
    await store.close?.();
  });

  it('keeps a ticket bounded: long texts cut, only the newest messages kept', async () => {
    const store = await impl.make(clock().now);
    const t = await store.create({ ...handoff(), reason: 'x'.repeat(TICKET_LIMITS.reason * 2) });
    expect((await store.get(t.id))?.reason).toHaveLength(TICKET_LIMITS.reason);
    const cutEmoji = await store.appendMessage(t.id, { from: 'citizen', text: `${'x'.repeat(TICKET_LIMITS.text - 1)}😀`, at: 0 });
    expect(cutEmoji?.messages[0]?.text.isWellFormed()).toBe(true);
    for (let i = 0; i < MAX + 5; i++) await store.appendMessage(t.id, { from: 'citizen', text: i === 0 ? 'y'.repeat(5000) : `m${i}`, at: i });
    const got = await store.get(t.id);
    expect(got?.messages).toHaveLength(MAX);
    expect(got?.messages[0]?.text).toBe('m5');
    expect(got?.messages.at(-1)?.text).toBe(`m${MAX + 4}`);
    await store.close?.();
  });

  it('updates status and outcome, lists by status and kind oldest first, with a limit', async () => {
    const c = clock();
    const store = await impl.make(c.now);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await store.create({ ...handoff(`l${i}`), kind: i === 3 ? 'complaint' : 'handoff' })).id);
      c.advance(1000);
    }
    const [a, b, d, e] = ids as [string, string, string, string];
    await store.update(b, { status: 'answered' });
    const closed = await store.update(d, { status: 'closed', outcome: 'resolved', outcomeNote: 'đã hướng dẫn' });
    expect(closed).toMatchObject({ status: 'closed', outcome: 'resolved', outcomeNote: 'đã hướng dẫn', updatedAt: c.now() });
    expect(await store.update('HT-000000-0000', { status: 'closed' })).toBeUndefined();
    expect((await store.list()).map((t) => t.id)).toEqual([a, b, d, e]);
    expect((await store.list({ status: 'open' })).map((t) => t.id)).toEqual([a, e]);
    expect((await store.list({ status: ['open', 'answered'] })).map((t) => t.id)).toEqual([a, b, e]);
    expect((await store.list({ status: 'open', kind: 'complaint' })).map((t) => t.id)).toEqual([e]);
    expect((await store.list({ limit: 2 })).map((t) => t.id)).toEqual([d, e]);
    expect(await store.list({ status: 'released' })).toEqual([]);
    await store.close?.();
  });

  it('finds the open ticket of a conversation (not a released or closed one, not another channel)', async () => {
    const c = clock();
    const store = await impl.make(c.now);
    const old = await store.create(handoff('conv', 'zalo'));
    c.advance(1000);
    const newer = await store.create({ ...handoff('conv', 'zalo'), kind: 'complaint' });
    expect((await store.findOpen('zalo', 'conv'))?.id).toBe(newer.id);
    await store.update(newer.id, { status: 'closed', outcome: 'resolved' });
    expect((await store.findOpen('zalo', 'conv'))?.id).toBe(old.id);
    await store.update(old.id, { status: 'answered' });
    expect((await store.findOpen('zalo', 'conv'))?.id).toBe(old.id);
    await store.update(old.id, { status: 'released' });
    expect(await store.findOpen('zalo', 'conv')).toBeUndefined();
    expect(await store.findOpen('telegram', 'conv')).toBeUndefined();
    await store.close?.();
  });

  it('never hands out one ticket number twice when tickets are created at once', async () => {
    const store = await impl.make(clock().now);
    const made = await Promise.all(Array.from({ length: 30 }, (_, i) => store.create(handoff(`p${i}`))));
    expect(new Set(made.map((t) => t.id)).size).toBe(30);
    await store.close?.();
  });
});

describe('SqliteTicketStore', () => {
  it('creates a private file and imports a legacy tickets.jsonl once', async () => {
    const dir = mkdtempSync(join(tmp, 'legacy-'));
    const legacy = join(dir, 'tickets.jsonl');
    const old = { id: 'HT-261120-0003', kind: 'handoff', status: 'open', channel: 'telegram', conversationId: '42', citizen: 'Lê V** C*', reason: 'Công dân yêu cầu gặp cán bộ', excerpt: [{ from: 'citizen', text: 'cho gặp cán bộ', at: 5 }], createdAt: 100, updatedAt: 100 };
    writeFileSync(legacy, `${JSON.stringify(old)}\n${JSON.stringify({ ...old, status: 'answered', updatedAt: 200 })}\n{"torn`);
    const store = new SqliteTicketStore(join(dir, 'tickets.sqlite'), { legacyFile: legacy, now: () => Date.parse('2026-11-20T03:00:00Z') });
    expect(statSync(join(dir, 'tickets.sqlite')).mode & 0o777).toBe(0o600);
    expect(await store.get('HT-261120-0003')).toMatchObject({ status: 'answered', channel: 'telegram', messages: [], excerpt: [{ text: 'cho gặp cán bộ' }] });
    expect(existsSync(legacy)).toBe(false);
    expect(existsSync(`${legacy}.migrated`)).toBe(true);
    // The counter continues after the imported numbers.
    expect((await store.create(handoff())).id).toBe('HT-261120-0004');
    await store.close();
    const again = new SqliteTicketStore(join(dir, 'tickets.sqlite'), { legacyFile: legacy });
    expect(await again.list()).toHaveLength(2);
    await again.close();
  });

  it('two connections to one file (the CLI and the assistant) see each other', async () => {
    const file = join(tmp, 'shared.sqlite');
    const a = new SqliteTicketStore(file);
    const b = new SqliteTicketStore(file);
    const t = await a.create(handoff());
    await b.appendMessage(t.id, { from: 'staff', text: 'xin chào', at: 3 });
    expect((await a.get(t.id))?.firstStaffReplyAt).toBe(3);
    expect((await b.create(handoff('x'))).id).not.toBe(t.id);
    await a.close();
    await b.close();
  });
});

const BUSES: { name: string; make(): Promise<{ a: TicketEvents; b: TicketEvents }> }[] = [
  {
    name: 'in-process',
    make: async () => {
      const bus = new InProcessTicketEvents();
      return { a: bus, b: bus };
    },
  },
  {
    name: 'redis',
    make: async () => {
      const r = await needRedis();
      const a = new RedisTicketEvents(r, { prefix });
      const b = new RedisTicketEvents(r, { prefix });
      await Promise.all([a.start(), b.start()]);
      return { a, b };
    },
  },
];

describe.each(BUSES)('ticket events: $name', (impl) => {
  it('publishes created, message, answered, released, closed from an evented store to every subscriber', async () => {
    const { a, b } = await impl.make();
    const seen: TicketEvent[] = [];
    const off = b.subscribe((e) => seen.push(e));
    const store = new EventedTicketStore(new MemoryTicketStore(), a);
    const t = await store.create(handoff());
    await store.appendMessage(t.id, { from: 'citizen', text: 'còn đó không', at: 5 });
    await store.update(t.id, { status: 'answered' });
    await store.update(t.id, { status: 'answered' }); // no change, no event
    await store.update(t.id, { status: 'released' });
    await store.update(t.id, { status: 'closed', outcome: 'resolved' });
    await until(() => seen.length >= 5, 'five ticket events', 5000);
    expect(seen.map((e) => e.type)).toEqual(['created', 'message', 'answered', 'released', 'closed']);
    expect(seen[0]?.ticket).toMatchObject({ id: t.id, channel: 'web', messageCount: 0 });
    expect(seen[0]?.ticket).not.toHaveProperty('excerpt');
    expect(seen[1]?.message).toEqual({ from: 'citizen', text: 'còn đó không', at: 5 });
    off();
    await a.close();
    await b.close();
  });

  it('lets exactly one process claim an event', async () => {
    const { a, b } = await impl.make();
    const key = `post-${Math.random()}`;
    const results = await Promise.all([a.claim(key, 10_000), b.claim(key, 10_000), a.claim(key, 10_000)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    await a.close();
    await b.close();
  });
});
