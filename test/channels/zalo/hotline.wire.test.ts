/**
 * The Zalo hotline at the wire: the REAL zca-js (cookie login, encrypted HTTP calls, its
 * `Listener` and message parsing) against a local stand-in of Zalo's HTTP and websocket
 * endpoints (`test/helpers/zalo-wire.ts`), with our transport, hotline and sender, the
 * real dialogue engine and the in-process pipeline. Time for backoff, pauses and
 * periodic saves is a hand-driven clock; nothing sleeps.
 *
 * One `describe` per numbered item of issue 13 (Zalo, real-account behaviour), then the
 * everyday behaviour the earlier fake-based tests covered.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, type AssistantParts } from '../../../bot/assistant.ts';
import type { ZaloAlertKind } from '../../../bot/channels/zalo/alerts.ts';
import { readZaloCredentials, writeZaloCredentials } from '../../../bot/channels/zalo/credentials.ts';
import type { ZaloHotlineOptions, ZaloIgnoreReason } from '../../../bot/channels/zalo/hotline.ts';
import { startZaloHotline, type ZaloHotlineHandle } from '../../../bot/channels/zalo/index.ts';
import type { ZaloSendOptions, ZaloUndeliverable } from '../../../bot/channels/zalo/sender.ts';
import type { ZaloCredentials } from '../../../bot/channels/zalo/transport.ts';
import { ZcaTransport } from '../../../bot/channels/zalo/zca-transport.ts';
import { loadConfig, type Config } from '../../../bot/config.ts';
import type { Logger, Turn } from '../../../bot/dialogue/engine.ts';
import type { IncomingMessage } from '../../../bot/dialogue/types.ts';
import type { Ticket } from '../../../bot/handoff/tickets.ts';
import { HealthMonitor } from '../../../bot/health.ts';
import { zaloHandoff } from '../../../bot/main.ts';
import { InProcessPipeline } from '../../../bot/pipeline.ts';
import { ZaloWire, type AccountSend } from '../../helpers/zalo-wire.ts';
import { FakeClock } from './fake-clock.ts';

let root: string;
let config: Config;
let assistant: AssistantParts;
let uidSeq = 0;
const cleanups: (() => Promise<void>)[] = [];

/** A fresh citizen uid per test, so conversations never leak between tests. */
const uid = (): string => String(2_468_000_000_000 + uidSeq++);

/** Resolves with the arguments of the next `event` that satisfies `pred`. */
function next<T extends unknown[]>(emitter: EventEmitter, event: string, pred: (...args: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (...args: unknown[]): void => {
      if (!pred(...(args as T))) return;
      emitter.off(event, on);
      resolve(args as T);
    };
    emitter.on(event, on);
  });
}

interface Rig {
  wire: ZaloWire;
  clock: FakeClock;
  transport: ZcaTransport;
  handle: ZaloHotlineHandle;
  credentialsFile: string;
  submits: IncomingMessage[];
  alerts: [ZaloAlertKind, string][];
  alertEvents: EventEmitter;
  undeliverable: ZaloUndeliverable[];
  tickets: Ticket[];
  errors: object[];
  senderEvents: string[];
  turnFor(messageId: string): Promise<Turn>;
  /** Resolves once the hotline reports `connected`. */
  connected(): Promise<void>;
  /** Delivers a citizen's text and resolves with the account's first send to that thread after it. */
  ask(threadId: string, push: () => unknown): Promise<AccountSend>;
  ignored(reason: ZaloIgnoreReason, id?: string): Promise<unknown>;
  /** The network drops the socket (1006); resolves once the hotline noticed and scheduled its reconnect. */
  drop(): Promise<void>;
}

interface RigOptions {
  wire?: ZaloWire;
  clock?: FakeClock;
  credentials?: ZaloCredentials | null;
  hotline?: Partial<ZaloHotlineOptions>;
  send?: Partial<ZaloSendOptions>;
  acquireLeadership?: () => Promise<boolean>;
}

async function rig(o: RigOptions = {}): Promise<Rig> {
  const clock = o.clock ?? new FakeClock();
  const wire = o.wire ?? (await ZaloWire.start({ now: () => clock.now() }));
  if (!o.wire) cleanups.push(() => wire.stop());
  const dir = mkdtempSync(join(root, 'rig-'));
  const credentialsFile = join(dir, 'secret', 'zalo-credentials.json');
  const creds = o.credentials === undefined ? wire.credentials() : o.credentials;
  if (creds) await writeZaloCredentials(credentialsFile, creds);
  const errors: object[] = [];
  const log: Logger = { info: () => {}, warn: () => {}, error: (obj) => errors.push(obj) };
  const pipeline = new InProcessPipeline(assistant.engine, log, { maxSeen: 10_000, sendAttempts: 1, backoffMs: 0 });
  const turns = new EventEmitter();
  pipeline.onTurn((msg, turn) => turns.emit('turn', msg.messageId, turn));
  const submits: IncomingMessage[] = [];
  const alerts: [ZaloAlertKind, string][] = [];
  const alertEvents = new EventEmitter();
  const undeliverable: ZaloUndeliverable[] = [];
  const tickets: Ticket[] = [];
  const senderEvents: string[] = [];
  const transport = new ZcaTransport({ fetch: wire.fetch });
  const handle = startZaloHotline({
    config,
    engine: assistant.engine,
    pipeline: {
      submit: async (m) => {
        submits.push(m);
        await pipeline.submit(m);
      },
      registerSender: (s) => {
        senderEvents.push(`register:${s.channel}`);
        pipeline.registerSender(s);
      },
      unregisterSender: async (channel) => void senderEvents.push(`unregister:${channel}`),
    },
    log,
    onAlert: (kind, detail) => {
      alerts.push([kind, detail]);
      alertEvents.emit('alert', kind, detail);
    },
    onUndeliverable: async (u) => {
      undeliverable.push(u);
      await zaloHandoff(assistant, async (t) => void tickets.push(t), u);
    },
    transport,
    clock,
    random: () => 0.5,
    // No periodic cookie save unless a test is about it, so it does not crowd the timers.
    hotlineOptions: { credentialsFile, credentialsSaveMs: SAVE_MS, ...o.hotline },
    acquireLeadership: o.acquireLeadership,
    releaseLeadership: o.acquireLeadership ? async () => {} : undefined,
    sendOptions: { delayMinMs: 0, delayMaxMs: 0, threadMinIntervalMs: 0, ...o.send },
  });
  cleanups.push(() => handle.stop());
  const hotline = handle.hotline;
  const r: Rig = {
    wire,
    clock,
    transport,
    handle,
    credentialsFile,
    submits,
    alerts,
    alertEvents,
    undeliverable,
    tickets,
    errors,
    senderEvents,
    turnFor: (id) => next<[string, Turn]>(turns, 'turn', (mid) => mid === id).then(([, t]) => t),
    connected: async () => {
      if (hotline.state !== 'connected') await next(hotline, 'state', (s) => s === 'connected');
    },
    ask: async (threadId, push) => {
      const after = wire.sent.length;
      const sent = wire.nextSend((s) => s.threadId === threadId, after);
      push();
      return sent;
    },
    drop: async () => {
      const reconnecting = next(hotline, 'state', (s) => s === 'reconnecting');
      wire.dropSocket();
      await reconnecting;
    },
    ignored: (reason, id) => next<[ZaloIgnoreReason, string | null]>(hotline, 'ignored', (x, mid) => x === reason && (id === undefined || mid === id)),
  };
  return r;
}

const SAVE_MS = 0;

/** The session cookie in a credentials set. */
const sekOf = (c: ZaloCredentials | null): string | undefined => (c?.cookie as { key: string; value: string }[] | undefined)?.find((x) => x.key === 'zpw_sek')?.value;

const sentTo = (r: Rig, threadId: string): AccountSend[] => r.wire.sent.filter((s) => s.threadId === threadId && s.msgId);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'zalo-wire-'));
  config = loadConfig({ DATA_DIR: root });
  assistant = createAssistant(config, { memoryTickets: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('1. a question with a URL (chat.recommended) is text', () => {
  it('answers the typed text of a link message instead of "please type", and still says "please type" to a contact card', async () => {
    const r = await rig();
    await r.connected();
    const nonText = assistant.holder.version.knowledge.replies.nonText;
    const a = uid();
    const reply = await r.ask(a, () => r.wire.pushLink(a, 'đăng ký tạm trú trên https://dichvucong.gov.vn được không', 'https://dichvucong.gov.vn'));
    expect(r.submits[0]).toMatchObject({ kind: 'text', text: 'đăng ký tạm trú trên https://dichvucong.gov.vn được không' });
    expect(reply.text).not.toBe(nonText);
    expect(reply.text).toMatch(/tạm trú/i);

    const b = uid();
    const card = await r.ask(b, () => r.wire.pushMessage(r.wire.message({ uidFrom: b, idTo: '0', msgType: 'chat.recommended', content: { action: 'recommened.user', title: 'Nguyễn Văn B', href: '', description: '', thumb: '', params: '{}' } })));
    expect(card.text).toBe(nonText);
  });
});

describe('2. recalls in history pages, and the once-a-minute 1006 drop', () => {
  it('drops recalls in a history page after a reconnect, and does not answer the recalled message', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    const b = uid();
    await r.drop();
    // While disconnected: A asks and recalls it, B asks. Only the history page carries them.
    const recalledQuestion = r.wire.pushText(a, 'làm căn cước cần gì');
    const recall = r.wire.pushRecall(recalledQuestion);
    const missed = r.wire.pushText(b, 'đăng ký khai sinh cần giấy tờ gì');
    const recallDropped = r.ignored('recall', recall.msgId);
    const summary = next<[{ received: number; passed: number; skipped: number }]>(r.handle.hotline, 'catchup', (s) => s.received > 0 && r.wire.connections === 2);
    const answer = r.wire.nextSend((s) => s.threadId === b);
    await r.clock.fireNext(); // the reconnect backoff
    await r.connected();
    expect((await answer).text).toMatch(/khai sinh/i);
    await recallDropped;
    expect((await summary)[0]).toMatchObject({ passed: 1 });
    await r.handle.hotline.idle();
    expect(r.submits.map((m) => m.messageId)).toEqual([missed.msgId]);
    expect(sentTo(r, a)).toEqual([]);
    // A live recall is zca-js's `undo` event: nothing reaches the engine either.
    const c = uid();
    const q = r.wire.pushText(c, 'xin chào');
    await r.wire.nextSend((s) => s.threadId === c);
    r.wire.pushRecall(q);
    await r.ask(c, () => r.wire.pushText(c, 'cảm ơn'));
    expect(r.submits.filter((m) => m.conversationId === `u:${c}`)).toHaveLength(2);
  });

  it('survives a 1006 drop every minute: reconnects with backoff, catches up once, never answers twice', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    const missedIds: string[] = [];
    const asked = ['làm căn cước cần gì', 'lệ phí làm căn cước bao nhiêu', 'làm căn cước ở đâu'];
    const missedTopics = ['kết hôn', 'hộ chiếu', 'khai sinh'];
    for (let round = 0; round < 3; round++) {
      await r.ask(a, () => r.wire.pushText(a, asked[round] as string));
      await r.drop(); // zca-js sees 1006 and emits `closed`; its retryOnClose would ignore it
      const topic = missedTopics[round] as string;
      const missed = r.wire.pushText(a, `cho hỏi làm ${topic} cần giấy tờ gì`);
      missedIds.push(missed.msgId);
      const wait = await r.clock.fireNext();
      expect(wait).toBeGreaterThanOrEqual(500);
      expect(wait).toBeLessThanOrEqual(1000); // the first backoff step, not growing: each drop followed a good connection
      await r.wire.nextSend((s) => s.threadId === a && s.text.toLowerCase().includes(topic), r.wire.sent.length - 1);
      await r.connected();
      await r.handle.hotline.idle();
      await r.clock.advance(60_000);
    }
    expect(r.wire.connections).toBe(4);
    // Every citizen message answered exactly once, although every history page repeated the earlier ones and our echoes.
    const ids = r.submits.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(6);
    expect(ids).toEqual(expect.arrayContaining(missedIds));
    expect(sentTo(r, a)).toHaveLength(6);
    expect(await assistant.engine.isHandedOff(`u:${a}`)).toBe(false); // no echo in a history page was taken for staff
    expect(r.alerts).toEqual([]);
    expect(r.handle.hotline.health()).toEqual({ ok: true, detail: 'connected' });
  });
});

describe('3. an expired session (zpw_sek) is an auth failure', () => {
  it('stops retrying, alerts staff to run npm run zalo:login, shows it on /healthz, and resumes on new credentials', async () => {
    const r = await rig({ hotline: { reloginAfterFailures: 1 } });
    await r.connected();
    const health = new HealthMonitor();
    r.handle.hotline.on('state', () => health.setListener('zalo', r.handle.hotline.health()));
    const logins: boolean[] = [];
    r.wire.on('login', (ok) => logins.push(ok));
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    r.wire.expireSession(); // the socket drops and the listener cannot come back
    await r.clock.fireWhen((ms) => ms <= 1000); // reconnect: refused (401 → 1006)
    await r.clock.fireWhen((ms) => ms <= 2000); // second failure: log in again from the stored credentials
    const [kind, detail] = await alert;
    expect(kind).toBe('credentials-expired');
    expect(detail).toMatch(/Failed to fetch server info: zpw_sek/);
    expect(detail).toMatch(/npm run zalo:login/);
    expect(r.handle.hotline.state).toBe('waiting-credentials');
    expect(logins).toEqual([false]);
    const report = await health.check();
    expect(report.status).toBe('degraded');
    expect(report.listeners.zalo).toMatchObject({ ok: false, detail: expect.stringMatching(/zpw_sek.*npm run zalo:login/) });
    // Re-reading the same dead credentials does not knock on Zalo's door again.
    expect(await r.clock.fireNext()).toBe(60_000);
    expect(await r.clock.fireNext()).toBe(60_000);
    expect(logins).toEqual([false]);
    // Staff scan a new QR: the hotline picks the file up by itself.
    await writeZaloCredentials(r.credentialsFile, r.wire.credentials());
    await r.clock.fireNext();
    await r.connected();
    expect(logins).toEqual([false, true]);
    expect(r.alerts).toHaveLength(1);
    expect((await health.check()).listeners.zalo).toEqual({ ok: true, detail: 'connected' });
  });

  it('a send refused for the session (600) re-logs in at once and meets the same verdict', async () => {
    const r = await rig({ hotline: { reloginAfterFailures: 5 } });
    await r.connected();
    const a = uid();
    const reconnecting = next(r.handle.hotline, 'state', (s) => s === 'reconnecting');
    r.wire.expireSession();
    await reconnecting;
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    // A reply still on its way meets the dead session: Zalo answers 600, the hotline logs in again at once.
    await expect(r.handle.sender.send(`u:${a}`, { text: 'Chào bạn', options: [], links: [] })).rejects.toMatchObject({ code: 600, message: expect.stringMatching(/zpw_sek/) });
    await r.clock.fireWhen((ms) => ms <= 1000); // the reconnect backoff, now with a login
    expect((await alert)[0]).toBe('credentials-expired');
    expect(r.handle.hotline.state).toBe('waiting-credentials');
    // The dead session is dropped: later sends fail here, not at Zalo.
    const before = r.wire.sent.length;
    await expect(r.handle.sender.send(`u:${a}`, { text: 'Lần nữa', options: [], links: [] })).rejects.toThrow(/not logged in/);
    expect(r.wire.sent.length).toBe(before);
  });
});

describe('4. the rotated cookie jar is saved', () => {
  it('after login and periodically (0600), so a re-login days later needs no new QR scan', async () => {
    const clock = new FakeClock();
    const wire = await ZaloWire.start({ now: () => clock.now() });
    cleanups.push(() => wire.stop());
    const qr = wire.credentials();
    const r = await rig({ wire, clock, credentials: qr, hotline: { credentialsSaveMs: 10 * 60_000 } });
    await r.connected();
    const qrSek = (qr.cookie as { value: string }[])[0]?.value;
    const saved = async (): Promise<string | undefined> => sekOf(await readZaloCredentials(r.credentialsFile));
    // Saved right after login: the cookie Zalo rotated during the login itself.
    expect(await saved()).not.toBe(qrSek);
    expect(statSync(r.credentialsFile).mode & 0o777).toBe(0o600);
    // Conversations rotate it further; the periodic save catches up.
    const a = uid();
    await r.ask(a, () => wire.pushText(a, 'làm căn cước cần gì'));
    await expect.poll(() => sekOf(r.transport.credentials())).toBe(wire.currentSek);
    expect(await saved()).not.toBe(wire.currentSek);
    await clock.advance(10 * 60_000);
    await expect.poll(saved).toBe(wire.currentSek);
    expect(statSync(r.credentialsFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(r.credentialsFile, 'utf8'))).toMatchObject({ imei: qr.imei, userAgent: qr.userAgent });
    // Days pass: only the newest cookie still works. A restart logs in from the file.
    await r.handle.stop();
    wire.ageCookies();
    const logins: boolean[] = [];
    wire.on('login', (ok) => logins.push(ok));
    const again = await rig({ wire, clock: new FakeClock(clock.now()), credentials: await readZaloCredentials(r.credentialsFile) });
    await again.connected();
    expect(logins).toEqual([true]);
    expect(again.alerts).toEqual([]);
    // The cookie from the QR scan alone would have needed a new scan.
    await expect(new ZcaTransport({ fetch: wire.fetch }).login(qr)).rejects.toThrow(/zpw_sek/);
  });
});

describe('5. error 123 hands the conversation to staff', () => {
  it('opens a hand-off ticket with the undelivered reply, counts toward the account pause, and does not block the citizen for a day', async () => {
    const r = await rig({ send: { refusalsBeforePause: 2, undeliverableHoldMs: 30 * 60_000 } });
    await r.connected();
    const a = uid();
    r.wire.failNextSend(123);
    const q = r.wire.pushText(a, 'làm căn cước cần gì');
    const refused = await r.wire.nextSend((s) => s.threadId === a);
    expect(refused.error).toBe(123);
    await expect.poll(() => r.tickets.length).toBe(1);
    const [ticket] = r.tickets;
    expect(ticket).toMatchObject({ kind: 'handoff', channel: 'zalo', conversationId: `u:${a}`, status: 'open' });
    expect(ticket?.reason).toMatch(/error 123/);
    expect(ticket?.citizen).not.toContain(a);
    expect(ticket?.excerpt.at(-1)).toMatchObject({ from: 'bot', text: expect.stringMatching(/căn cước/i) });
    expect(r.undeliverable).toEqual([{ conversationId: `u:${a}`, text: refused.text, code: 123 }]);
    expect(r.submits.map((m) => m.messageId)).toEqual([q.msgId]);
    expect(r.handle.sender.isPaused()).toBe(false);
    // A second refusal (another citizen) within the window: the account looks limited, all sending pauses.
    const b = uid();
    r.wire.failNextSend(123);
    const paused = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert', (k) => k === 'send-paused');
    r.wire.pushText(b, 'đăng ký khai sinh cần gì');
    await paused;
    expect(r.handle.sender.isPaused()).toBe(true);
    await expect.poll(() => r.tickets.length).toBe(2);
    expect(r.tickets.map((t) => t.conversationId)).toEqual([`u:${a}`, `u:${b}`]);
    // After the pause and the hold (not 24 hours), the citizen is answered again.
    await r.clock.advance(31 * 60_000);
    const later = await r.ask(a, () => r.wire.pushText(a, 'lệ phí làm căn cước bao nhiêu'));
    expect(later.error).toBeNull();
    expect(later.text).toMatch(/căn cước/i);
  });
});

describe('6. own-account messages after our sends are echoes, not staff', () => {
  it('matches the text echo that beats the HTTP answer and a link-card echo; a real staff message still mutes the assistant', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    // The echo reaches the socket before the HTTP answer: the stand-in holds the answer until the hotline has judged it.
    r.wire.beforeAnswer = async () => void (await r.ignored('own-echo'));
    await r.ask(a, () => r.wire.pushText(a, 'làm căn cước cần gì'));
    await r.handle.hotline.idle();
    // Zalo renders a reply with a URL as a link card (chat.recommended) whose title may not be the text we sent.
    r.wire.echo = 'link-card';
    const link = await r.ask(a, () => r.wire.pushLink(a, 'nộp online ở https://dichvucong.gov.vn được không', 'https://dichvucong.gov.vn'));
    expect(link.msgId).not.toBeNull();
    await r.handle.hotline.idle();
    expect(await assistant.engine.isHandedOff(`u:${a}`)).toBe(false);
    const third = await r.ask(a, () => r.wire.pushText(a, 'lệ phí bao nhiêu'));
    expect(third.error).toBeNull();
    // Staff typing on the hotline phone is still a staff reply.
    r.wire.beforeAnswer = null;
    const staff = next<[string]>(r.handle.hotline, 'staff');
    r.wire.pushStaffText(a, 'Dạ em là cán bộ một cửa, anh cần hỗ trợ gì ạ?');
    expect((await staff)[0]).toBe(`u:${a}`);
    expect(await assistant.engine.isHandedOff(`u:${a}`)).toBe(true);
    expect(r.errors).toEqual([]);
  });
});

describe('7. losing the listener lock stops this process sending', () => {
  it('aborts sends waiting for a slot and drops the session; the standby process takes over and answers', async () => {
    const clock = new FakeClock();
    const wire = await ZaloWire.start({ now: () => clock.now() });
    cleanups.push(() => wire.stop());
    const creds = wire.credentials();
    let holder: 'A' | 'B' = 'A';
    const lease = (me: 'A' | 'B') => async () => holder === me;
    const A = await rig({ wire, clock, credentials: creds, acquireLeadership: lease('A'), send: { threadMinIntervalMs: 5000 }, hotline: { leadershipRetryMs: 30_000 } });
    await A.connected();
    const bClock = new FakeClock(clock.now());
    const B = await rig({ wire, clock: bClock, credentials: creds, acquireLeadership: lease('B'), hotline: { leadershipRetryMs: 30_000 } });
    expect(await bClock.nextSleep()).toBe(30_000);
    expect(B.handle.hotline.state).toBe('waiting-leadership');
    expect(B.handle.hotline.health().ok).toBe(true); // standby is healthy
    expect(B.senderEvents).toEqual([]); // a standby process does not send for Zalo
    const c = uid();
    await A.ask(c, () => wire.pushText(c, 'làm căn cước cần gì'));
    // The next reply in that thread waits 5 s for its slot…
    const waiting = A.handle.sender.send(`u:${c}`, { text: 'Bạn cần thêm thông tin gì nữa không?', options: [], links: [] });
    const aborted = expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(await clock.nextSleep()).toBe(5000);
    // …when the lock moves to B.
    holder = 'B';
    A.handle.hotline.leadershipLost();
    await aborted;
    expect(A.transport.credentials()).toBeNull();
    expect(A.senderEvents).toEqual(['register:zalo', 'unregister:zalo']);
    const sentByA = wire.sent.length;
    await clock.advance(6000);
    await expect(A.handle.sender.send(`u:${c}`, { text: 'Vẫn còn đây', options: [], links: [] })).rejects.toMatchObject({ name: 'AbortError' });
    expect(wire.sent.length).toBe(sentByA);
    // B takes the lock at its next try, logs in and answers; A hears nothing any more.
    await bClock.fireNext();
    await B.connected();
    expect(B.senderEvents).toEqual(['register:zalo']);
    const reply = await B.ask(c, () => wire.pushText(c, 'lệ phí bao nhiêu'));
    expect(reply.error).toBeNull();
    expect(A.submits).toHaveLength(1);
    expect(B.submits.map((m) => m.text)).toEqual(['lệ phí bao nhiêu']);
    // Later A gets the lock back: it logs in again and may send again.
    holder = 'A';
    await B.handle.stop();
    await clock.advance(30_000);
    await A.connected();
    expect(A.senderEvents).toEqual(['register:zalo', 'unregister:zalo', 'register:zalo']);
    const again = await A.ask(c, () => wire.pushText(c, 'làm ở đâu'));
    expect(again.error).toBeNull();
  });
});

describe('the hotline on the wire: everyday behaviour', () => {
  it('answers a 1:1 text once in the right thread, shows typing, and ignores a redelivery', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    const q = r.wire.message({ uidFrom: a, idTo: '0', content: 'làm căn cước cần gì', dName: 'Nguyễn Văn An' });
    const dup = r.ignored('duplicate', q.msgId);
    const first = await r.ask(a, () => {
      r.wire.pushMessage(q);
      r.wire.pushMessage({ ...q });
    });
    await dup;
    expect(first).toMatchObject({ type: 0, error: null });
    expect(first.text).toMatch(/căn cước/i);
    expect(first.text.length).toBeLessThanOrEqual(2000);
    expect(r.submits).toEqual([expect.objectContaining({ channel: 'zalo', conversationId: `u:${a}`, userId: a, kind: 'text', userName: 'Nguyễn Văn An', messageId: q.msgId })]);
    await r.handle.hotline.idle();
    expect(sentTo(r, a)).toHaveLength(1);
  });

  it('says "please type" to a sticker and a photo, and stays out of groups unless mentioned', async () => {
    const r = await rig();
    await r.connected();
    const nonText = assistant.holder.version.knowledge.replies.nonText;
    const a = uid();
    const s = await r.ask(a, () => r.wire.pushMessage(r.wire.message({ uidFrom: a, idTo: '0', msgType: 'chat.sticker', content: { id: 21979, catId: 10, type: 7 } })));
    expect(s.text).toBe(nonText);
    const b = uid();
    const p = await r.ask(b, () => r.wire.pushMessage(r.wire.message({ uidFrom: b, idTo: '0', msgType: 'chat.photo', content: { title: '', description: '', href: 'https://photo-stal.zadn.vn/a.jpg', thumb: '', childnumber: 0, action: '', params: '{}', type: '' } })));
    expect(p.text).toBe(nonText);
    const group = uid();
    const plain = r.wire.message({ uidFrom: uid(), idTo: group, content: 'ai biết thủ tục khai sinh' });
    const skipped = r.ignored('group-not-mentioned', plain.msgId);
    r.wire.pushMessage(plain, 1);
    await skipped;
    const label = '@Hotline Phường';
    const reply = await r.ask(group, () => r.wire.pushGroupText(group, uid(), `${label} làm căn cước cần gì`, label.length));
    expect(reply.type).toBe(1);
    expect(r.submits.at(-1)).toMatchObject({ conversationId: `g:${group}`, text: 'làm căn cước cần gì' });
  });

  it('goes quiet where staff replied from the hotline phone, and keeps answering elsewhere', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    const b = uid();
    const staff = next<[string]>(r.handle.hotline, 'staff');
    r.wire.pushStaffText(a, 'Chào anh, em là cán bộ một cửa');
    expect((await staff)[0]).toBe(`u:${a}`);
    const q = r.wire.message({ uidFrom: a, idTo: '0', content: 'làm căn cước cần gì' });
    const turn = r.turnFor(q.msgId);
    r.wire.pushMessage(q);
    expect((await turn).reply).toBeNull();
    const other = await r.ask(b, () => r.wire.pushText(b, 'làm căn cước cần gì'));
    expect(other.text).toMatch(/căn cước/i);
    expect(sentTo(r, a)).toEqual([]);
  });

  it('after a reconnect skips messages already answered, too old, or answered by staff', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    const b = uid();
    const c = uid();
    await r.ask(a, () => r.wire.pushText(a, 'làm căn cước cần gì'));
    await r.drop();
    r.wire.pushText(c, 'đăng ký kết hôn cần gì', { ts: String(r.clock.now() - 3_600_000) });
    r.wire.pushText(b, 'cho hỏi đăng ký thường trú');
    r.wire.pushStaffText(b, 'Dạ chị mang giấy tờ đến UBND phường ạ', { ts: String(r.clock.now() + 1) });
    const missed = r.wire.pushText(a, 'lệ phí làm hộ chiếu bao nhiêu', { ts: String(r.clock.now() + 2) });
    const staff = next<[string]>(r.handle.hotline, 'staff');
    const reply = r.wire.nextSend((s) => s.threadId === a, r.wire.sent.length);
    await r.clock.fireNext();
    await r.connected();
    expect((await reply).text).toMatch(/hộ chiếu/i);
    expect((await staff)[0]).toBe(`u:${b}`);
    await r.handle.hotline.idle();
    expect(r.submits.map((m) => m.messageId)).toEqual([r.submits[0]?.messageId, missed.msgId]);
    expect(sentTo(r, b)).toEqual([]);
    expect(sentTo(r, c)).toEqual([]);
  });

  it('stop() saves the session, closes the listener and schedules nothing', async () => {
    const r = await rig({ hotline: { credentialsSaveMs: 10 * 60_000 } });
    await r.connected();
    const a = uid();
    await r.ask(a, () => r.wire.pushText(a, 'làm căn cước cần gì'));
    // The send's HTTP answer (with its rotated cookie) has reached zca-js's jar.
    await expect.poll(() => sekOf(r.transport.credentials())).toBe(r.wire.currentSek);
    await r.handle.stop();
    expect(r.handle.hotline.state).toBe('stopped');
    expect(r.clock.pending).toEqual([]);
    await expect.poll(() => r.wire.listening).toBe(false);
    expect(sekOf(await readZaloCredentials(r.credentialsFile))).toBe(r.wire.currentSek);
  });

  it('restarts a listener whose handshake hangs', async () => {
    const clock = new FakeClock();
    const wire = await ZaloWire.start({ now: () => clock.now() });
    cleanups.push(() => wire.stop());
    wire.hangHandshakes = 1;
    const r = await rig({ wire, clock });
    expect(await clock.fireNext()).toBe(60_000); // the watchdog
    await clock.fireNext(); // the backoff after the close that followed
    await r.connected();
    expect(wire.connections).toBe(1);
  });

  it('stops and alerts on 3000 (another Zalo Web session took over) without a reconnect loop; resume() starts again', async () => {
    const r = await rig();
    await r.connected();
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    r.wire.closeSocket(3000);
    expect((await alert)[0]).toBe('duplicate-connection');
    expect(r.handle.hotline.state).toBe('halted');
    expect(r.handle.hotline.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/Zalo Web/) });
    expect(r.clock.pending).toEqual([]); // nothing scheduled
    r.handle.hotline.resume();
    await r.connected();
    expect(r.wire.connections).toBe(2);
  });

  it('alerts when kicked (3003) and does not reconnect', async () => {
    const r = await rig();
    await r.connected();
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    r.wire.closeSocket(3003, 'kicked');
    expect((await alert)[0]).toBe('kicked');
    expect(r.clock.pending).toEqual([]);
    expect(r.wire.connections).toBe(1);
  });

  it('alerts when no credentials are stored, and retries a login that failed on the network without alerting', async () => {
    const none = await rig({ credentials: null });
    const [kind] = await next<[ZaloAlertKind, string]>(none.alertEvents, 'alert');
    expect(kind).toBe('credentials-missing');
    expect(none.handle.hotline.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/npm run zalo:login/) });

    const clock = new FakeClock();
    const wire = await ZaloWire.start({ now: () => clock.now() });
    cleanups.push(() => wire.stop());
    wire.networkFailures = 2;
    const r = await rig({ wire, clock });
    await clock.fireNext();
    await clock.fireNext();
    await r.connected();
    expect(r.alerts).toEqual([]);
  });

  it('pauses all sending and alerts staff when Zalo rate-limits (221), then delivers the reply', async () => {
    const r = await rig();
    await r.connected();
    const a = uid();
    r.wire.failNextSend(221);
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    const reply = r.wire.nextSend((s) => s.threadId === a && s.error === null);
    r.wire.pushText(a, 'làm căn cước cần gì');
    expect((await alert)[0]).toBe('send-paused');
    expect(r.handle.sender.isPaused()).toBe(true);
    expect(await r.clock.nextSleep()).toBe(30 * 60_000);
    await r.clock.fireNext();
    expect((await reply).text).toMatch(/căn cước/i);
    expect(r.wire.sent.filter((s) => s.threadId === a).map((s) => s.error)).toEqual([221, null]);
  });
});
