/**
 * "Theo dõi hồ sơ": both follow stores pass one suite; the poller pushes exactly one
 * message per status change (also across restarts and with two pollers on one file),
 * survives a broken provider or a failed push, and stops. Polls are run by calling
 * `tick()`; the timer loop is checked with fake timers. No sleeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import type { ChannelName, IncomingMessage, Reply } from '../bot/dialogue/types.ts';
import { DossierFollowPoller, MAX_FOLLOWS_PER_CONVERSATION, MemoryFollowStore, SqliteFollowStore, type FollowRegistry, type FollowSubscription } from '../bot/dossier/follow.ts';
import { DossierUnavailableError, MemoryDossierProvider, type DossierRecord, type DossierStatusProvider } from '../bot/dossier/types.ts';
import { InProcessPipeline } from '../bot/pipeline.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { NOW, testRecords } from './dossier-support/records.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dossier-follow-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const knowledge = () => knowledgeHolder().version.knowledge;
const sub = (code: string, conversationId = 'c1', lastStatus = 'Đang xử lý') => ({ code, conversationId, channel: 'telegram', userId: `u-${conversationId}`, lastStatus });

const STORES: [string, () => FollowRegistry][] = [
  ['memory', () => new MemoryFollowStore(() => NOW)],
  ['sqlite', () => new SqliteFollowStore(join(tmp, `f${++n}.sqlite`), () => NOW)],
];

describe.each(STORES)('FollowRegistry conformance: %s', (_name, make) => {
  let s: FollowRegistry;
  beforeEach(() => {
    s = make();
  });
  afterEach(async () => {
    await s.close?.();
  });

  it('subscribes, lists and re-subscribes without duplicates', async () => {
    await s.subscribe(sub('A-1'));
    await s.subscribe(sub('A-1', 'c2'));
    await s.subscribe({ ...sub('A-1'), lastStatus: 'Đã xử lý xong' });
    const list = await s.list();
    expect(list).toHaveLength(2);
    expect(list.find((x) => x.conversationId === 'c1')).toEqual({ ...sub('A-1'), lastStatus: 'Đã xử lý xong', since: NOW });
  });

  it('unsubscribes one code or every code of a conversation, and says which', async () => {
    await s.subscribe(sub('A-1'));
    await s.subscribe(sub('B-2'));
    await s.subscribe(sub('A-1', 'c2'));
    expect(await s.unsubscribe('c1', 'a-1')).toEqual(['A-1']);
    expect(await s.unsubscribe('c1', 'A-1')).toEqual([]);
    await s.subscribe(sub('C-3'));
    expect((await s.unsubscribe('c1')).sort()).toEqual(['B-2', 'C-3']);
    expect(await s.unsubscribe('c1')).toEqual([]);
    expect((await s.list()).map((x) => x.conversationId)).toEqual(['c2']);
  });

  it('moves lastStatus only from the status the caller saw (compare-and-set)', async () => {
    await s.subscribe(sub('A-1'));
    expect(await s.transition('c1', 'A-1', 'Đang xử lý', 'Đã xử lý xong')).toBe(true);
    expect(await s.transition('c1', 'A-1', 'Đang xử lý', 'Đã xử lý xong')).toBe(false);
    expect(await s.transition('c9', 'A-1', 'Đã xử lý xong', 'Dừng xử lý')).toBe(false);
    expect((await s.list())[0]!.lastStatus).toBe('Đã xử lý xong');
  });

  it(`keeps at most ${MAX_FOLLOWS_PER_CONVERSATION} follows per conversation`, async () => {
    // Re-subscribing X-00 makes it the newest; X-01…X-03 are the oldest and go.
    for (let i = 0; i < MAX_FOLLOWS_PER_CONVERSATION; i++) await s.subscribe(sub(`X-${String(i).padStart(2, '0')}`));
    await s.subscribe(sub('X-00'));
    for (let i = 0; i < 3; i++) await s.subscribe(sub(`Y-${i}`));
    await s.subscribe(sub('Z', 'c2'));
    const codes = (await s.list()).filter((x) => x.conversationId === 'c1').map((x) => x.code).sort();
    expect(codes).toHaveLength(MAX_FOLLOWS_PER_CONVERSATION);
    expect(codes).toContain('X-00');
    expect(codes).toContain('Y-2');
    expect(codes).not.toContain('X-01');
    expect(codes).not.toContain('X-03');
  });
});

describe('DossierFollowPoller', () => {
  const recs = testRecords();
  const A = { ...recs[3]!, status: 'Đang xử lý' as const };
  const B = { ...recs[4]! };
  let provider: MemoryDossierProvider;
  let pushed: { sub: FollowSubscription; record: DossierRecord; text: string }[];
  const notify = async (s: FollowSubscription, record: DossierRecord, text: string) => {
    pushed.push({ sub: s, record, text });
  };
  const poller = (follows: FollowRegistry, p: DossierStatusProvider = provider, fn = notify) =>
    new DossierFollowPoller(p, follows, fn, { intervalMs: 60_000, knowledge, now: () => NOW });

  beforeEach(() => {
    provider = new MemoryDossierProvider([A, B]);
    pushed = [];
  });

  it('pushes one message per change, with the new status, the next step, masked name and no phone', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code, 'c1', A.status));
    await follows.subscribe(sub(A.code, 'c2', A.status));
    const p = poller(follows);
    expect(await p.tick()).toMatchObject({ codes: 1, changed: 0, pushed: 0 });
    provider.upsert({ ...A, status: 'Đã xử lý xong', finishedAt: '2026-11-25' });
    expect(await p.tick()).toMatchObject({ changed: 2, pushed: 2 });
    expect(pushed.map((x) => x.sub.conversationId).sort()).toEqual(['c1', 'c2']);
    const text = pushed[0]!.text;
    expect(text.split('\n')[0]).toBe(`Cập nhật hồ sơ ${A.code}: Đã xử lý xong.`);
    expect(text).toContain('Đã có kết quả: bạn mang Giấy tiếp nhận');
    expect(text).toContain('Ngày có kết quả: 25/11/2026');
    expect(text).toContain('Trần T** B***');
    expect(text).not.toContain('Trần Thị Bình');
    expect(text).not.toContain(A.phone!.slice(-6));
    expect(text).not.toMatch(/\d{7,}/);
    // The same change is never pushed again.
    expect(await p.tick()).toMatchObject({ changed: 0, pushed: 0 });
    expect(pushed).toHaveLength(2);
  });

  it('survives a provider that throws, and pushes the change once it answers again', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code));
    await follows.subscribe(sub(B.code, 'c1', B.status));
    let down = true;
    const flaky: DossierStatusProvider = {
      name: 'flaky',
      lookup: async (code) => {
        if (down && code === A.code) throw new DossierUnavailableError('upstream down');
        if (down) throw new Error('unexpected bug');
        return provider.lookup(code);
      },
    };
    const logs: string[] = [];
    const p = new DossierFollowPoller(flaky, follows, notify, {
      intervalMs: 1000,
      knowledge,
      now: () => NOW,
      log: { info: () => undefined, warn: (_o, m) => logs.push(`warn ${m}`), error: (_o, m) => logs.push(`error ${m}`) },
    });
    provider.upsert({ ...A, status: 'Dừng xử lý' });
    expect(await p.tick()).toMatchObject({ lookupFailures: 2, pushed: 0 });
    expect(logs).toEqual(['warn dossier follow lookup failed; will retry next poll', 'error dossier follow lookup failed; will retry next poll']);
    down = false;
    expect(await p.tick()).toMatchObject({ lookupFailures: 0, pushed: 1 });
    expect(pushed[0]!.record.status).toBe('Dừng xử lý');
  });

  it('a failed push is retried on the next poll and then sent once', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code));
    let fail = 1;
    const p = poller(follows, provider, async (s, r, t) => {
      if (fail-- > 0) throw new Error('telegram 502');
      await notify(s, r, t);
    });
    provider.upsert({ ...A, status: 'Yêu cầu bổ sung giấy tờ', note: 'Bổ sung sổ hộ khẩu' });
    expect(await p.tick()).toMatchObject({ changed: 1, pushed: 0, pushFailures: 1 });
    expect(await p.tick()).toMatchObject({ changed: 1, pushed: 1 });
    expect(await p.tick()).toMatchObject({ changed: 0 });
    expect(pushed).toHaveLength(1);
  });

  it('gives up on a change after repeated push failures instead of retrying forever', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code));
    const p = new DossierFollowPoller(provider, follows, async () => Promise.reject(new Error('blocked')), { intervalMs: 1, knowledge, maxPushAttempts: 2 });
    provider.upsert({ ...A, status: 'Dừng xử lý' });
    expect(await p.tick()).toMatchObject({ pushFailures: 1 });
    expect(await p.tick()).toMatchObject({ pushFailures: 1 });
    expect(await p.tick()).toMatchObject({ changed: 0 });
  });

  it('ends the follow after a final status', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code));
    provider.upsert({ ...A, status: 'Đã trả kết quả', finishedAt: '2026-11-26' });
    await poller(follows).tick();
    expect(pushed).toHaveLength(1);
    expect(await follows.list()).toEqual([]);
  });

  it('with SQLite, a restart does not push the same change again, and two pollers on one file push it once', async () => {
    const f = join(tmp, 'restart.sqlite');
    const s1 = new SqliteFollowStore(f);
    await s1.subscribe(sub(A.code));
    provider.upsert({ ...A, status: 'Đã xử lý xong' });
    const s2 = new SqliteFollowStore(f);
    const [r1, r2] = await Promise.all([poller(s1).tick(), poller(s2).tick()]);
    expect(r1.pushed + r2.pushed).toBe(1);
    expect(pushed).toHaveLength(1);
    await s1.close();
    await s2.close();
    const restarted = new SqliteFollowStore(f);
    expect(await poller(restarted).tick()).toMatchObject({ changed: 0, pushed: 0 });
    expect(pushed).toHaveLength(1);
    await restarted.close();
  });

  it('concurrent tick() calls share one poll', async () => {
    const follows = new MemoryFollowStore();
    await follows.subscribe(sub(A.code));
    provider.upsert({ ...A, status: 'Dừng xử lý' });
    const p = poller(follows);
    const [a, b] = await Promise.all([p.tick(), p.tick()]);
    expect(a).toBe(b);
    expect(pushed).toHaveLength(1);
  });

  it('start() polls every interval until stop()', async () => {
    vi.useFakeTimers();
    try {
      const follows = new MemoryFollowStore();
      await follows.subscribe(sub(A.code));
      let lookups = 0;
      const counting: DossierStatusProvider = { name: 'counting', lookup: async (c) => (lookups++, provider.lookup(c)) };
      const p = new DossierFollowPoller(counting, follows, notify, { intervalMs: 60_000, knowledge });
      p.start();
      await vi.advanceTimersByTimeAsync(59_999);
      expect(lookups).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(lookups).toBe(1);
      await vi.advanceTimersByTimeAsync(120_000);
      expect(lookups).toBe(3);
      await p.stop();
      await vi.advanceTimersByTimeAsync(600_000);
      expect(lookups).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('follow end to end', () => {
  it('"theo dõi hồ sơ" in chat, a status change, and the update goes out through the pipeline to the same channel', async () => {
    const rec = { ...testRecords()[3]!, status: 'Đang xử lý' as const };
    const provider = new MemoryDossierProvider([rec]);
    const follows = new MemoryFollowStore();
    const { engine } = createAssistant(loadConfig({ LOG_LEVEL: 'silent' }), { holder: knowledgeHolder(), memoryTickets: true, dossiers: provider, follows });
    const pipeline = new InProcessPipeline(engine);
    const sent: { channel: ChannelName; conversationId: string; reply: Reply }[] = [];
    pipeline.registerSender({ channel: 'telegram', send: async (conversationId, reply) => void sent.push({ channel: 'telegram', conversationId, reply }) });
    const answered = new Promise<void>((resolve) => pipeline.onTurn(() => resolve()));
    const msg: IncomingMessage = { channel: 'telegram', conversationId: 'chat-42', userId: '42', messageId: '1', text: `theo dõi hồ sơ ${rec.code.toLowerCase()}`, kind: 'text' };
    await pipeline.submit(msg);
    await answered;
    await pipeline.close();
    expect(sent[0]!.reply.text).toContain(`Đã bật theo dõi hồ sơ ${rec.code}`);

    const live = new InProcessPipeline(engine);
    live.registerSender({ channel: 'telegram', send: async (conversationId, reply) => void sent.push({ channel: 'telegram', conversationId, reply }) });
    const poll = new DossierFollowPoller(provider, follows, (s, _r, text) => live.push(s.channel as ChannelName, s.conversationId, { text, options: [], links: [] }), {
      intervalMs: 1000,
      knowledge,
    });
    provider.upsert({ ...rec, status: 'Yêu cầu bổ sung giấy tờ', note: 'Bổ sung giấy chứng sinh bản chính.' });
    await poll.tick();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ channel: 'telegram', conversationId: 'chat-42' });
    expect(sent[1]!.reply.text).toContain('Yêu cầu bổ sung giấy tờ');
    expect(sent[1]!.reply.text).toContain('Ghi chú: Bổ sung giấy chứng sinh bản chính.');
  });
});
