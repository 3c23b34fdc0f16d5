/**
 * The Zalo hotline end to end: the real dialogue engine and in-process pipeline, our
 * adapter and sender, and a faithful fake of zca-js (its own message classes, error
 * class and close codes). Time is a hand-driven clock; nothing sleeps.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, type AssistantParts } from '../../../bot/assistant.ts';
import { startZaloHotline, type ZaloHotlineHandle } from '../../../bot/channels/zalo/index.ts';
import type { ZaloAlertKind } from '../../../bot/channels/zalo/alerts.ts';
import type { ZaloHotlineOptions } from '../../../bot/channels/zalo/hotline.ts';
import type { ZaloCredentials } from '../../../bot/channels/zalo/transport.ts';
import { loadConfig, type Config } from '../../../bot/config.ts';
import type { Logger, Turn } from '../../../bot/dialogue/engine.ts';
import type { IncomingMessage } from '../../../bot/dialogue/types.ts';
import { InProcessPipeline } from '../../../bot/pipeline.ts';
import { FakeClock, flush } from './fake-clock.ts';
import { FakeZaloApi, ThreadType, ZaloApiError, type SentMessage } from './fake-zalo.ts';

let dataDir: string;
let config: Config;
let assistant: AssistantParts;
let uidSeq = 100_000_000;
const handles: ZaloHotlineHandle[] = [];

/** A fresh citizen uid per test, so conversations never leak between tests. */
const uid = (): string => String(1_234_000_000_000 + uidSeq++);

const creds = (cookieValue = 'v1'): ZaloCredentials => ({
  imei: 'a1b2c3d4-imei',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Test',
  cookie: [{ key: 'zpw_sek', value: cookieValue, domain: 'chat.zalo.me', path: '/' }],
});

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
  senderEvents: string[];
  clock: FakeClock;
  fake: FakeZaloApi;
  pipeline: InProcessPipeline;
  handle: ZaloHotlineHandle;
  submits: IncomingMessage[];
  alerts: [ZaloAlertKind, string][];
  alertEvents: EventEmitter;
  errors: object[];
  setCredentials(c: ZaloCredentials | null): void;
  /** Resolves with the engine's turn for one message id. */
  turnFor(messageId: string): Promise<Turn>;
}

function rig(o: { credentials?: ZaloCredentials | null; loginErrors?: unknown[]; hotline?: Partial<ZaloHotlineOptions>; acquireLeadership?: () => Promise<boolean>; releaseLeadership?: () => Promise<void> } = {}): Rig {
  const clock = new FakeClock();
  const fake = new FakeZaloApi(clock);
  fake.loginErrors = o.loginErrors ?? [];
  const errors: object[] = [];
  const log: Logger = { info: () => {}, warn: () => {}, error: (obj) => errors.push(obj) };
  const pipeline = new InProcessPipeline(assistant.engine, log);
  const turns = new EventEmitter();
  pipeline.onTurn((msg, turn) => turns.emit('turn', msg.messageId, turn));
  const submits: IncomingMessage[] = [];
  const alerts: [ZaloAlertKind, string][] = [];
  const alertEvents = new EventEmitter();
  let current: ZaloCredentials | null = o.credentials === undefined ? creds() : o.credentials;
  const senderEvents: string[] = [];
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
    transport: fake,
    loadCredentials: async () => current,
    clock,
    random: () => 0.5,
    hotlineOptions: o.hotline,
    acquireLeadership: o.acquireLeadership,
    releaseLeadership: o.releaseLeadership,
    sendOptions: { delayMinMs: 0, delayMaxMs: 0, threadMinIntervalMs: 0 },
  });
  handles.push(handle);
  return {
    senderEvents,
    clock,
    fake,
    pipeline,
    handle,
    submits,
    alerts,
    alertEvents,
    errors,
    setCredentials: (c) => {
      current = c;
    },
    turnFor: (id) => next<[string, Turn]>(turns, 'turn', (mid) => mid === id).then(([, t]) => t),
  };
}

async function connected(r: Rig): Promise<void> {
  if (r.handle.hotline.state !== 'connected') await next(r.handle.hotline, 'state', (s) => s === 'connected');
}

/** Delivers a message and resolves with the first reply sent to its thread. */
async function ask(r: Rig, m: Parameters<FakeZaloApi['deliver']>[0]): Promise<SentMessage> {
  const sent = next<[SentMessage]>(r.fake.probe, 'sent', (s) => s.threadId === m.threadId);
  r.fake.deliver(m);
  return (await sent)[0];
}

const sentTo = (r: Rig, threadId: string): SentMessage[] => r.fake.sent.filter((s) => s.threadId === threadId);

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'zalo-hotline-'));
  config = loadConfig({ DATA_DIR: dataDir });
  assistant = createAssistant(config, { memoryTickets: true });
});

afterEach(async () => {
  for (const h of handles.splice(0)) await h.stop();
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Zalo hotline: answering citizens', () => {
  it('answers a 1:1 text once, in the right thread, and ignores the echo of its own reply', async () => {
    const r = rig();
    await connected(r);
    const a = uid();
    const echoIgnored = next(r.handle.hotline, 'ignored', (reason) => reason === 'own-echo');
    const first = await ask(r, r.fake.userText(a, 'làm căn cước cần gì'));
    expect(first.type).toBe(ThreadType.User);
    expect(first.text).toMatch(/căn cước/i);
    expect(first.text.length).toBeLessThanOrEqual(2000);
    await echoIgnored; // selfListen delivered our own reply back: not mistaken for staff
    expect(r.fake.typing).toContain(a);
    // Still answering in that thread (the echo did not make the bot go quiet).
    const second = await ask(r, r.fake.userText(a, 'đăng ký khai sinh cần giấy tờ gì'));
    expect(second.text).toMatch(/khai sinh/i);
    expect(sentTo(r, a).map((s) => s.text)).toEqual([first.text, second.text]);
    expect(r.submits.map((m) => m.conversationId)).toEqual([`u:${a}`, `u:${a}`]);
    expect(r.submits[0]).toMatchObject({ channel: 'zalo', userId: a, kind: 'text', userName: 'Nguyễn Văn An' });
    expect(r.errors).toEqual([]);
  });

  it('answers a duplicate delivery only once', async () => {
    const r = rig();
    await connected(r);
    const a = uid();
    const m = r.fake.userText(a, 'lệ phí làm hộ chiếu bao nhiêu');
    const dup = next(r.handle.hotline, 'ignored', (reason, id) => reason === 'duplicate' && id === m.data.msgId);
    const reply = ask(r, m);
    r.fake.deliver(r.fake.redeliver(m));
    await dup;
    await reply;
    // A later message in the same thread is answered after anything queued before it.
    await ask(r, r.fake.userText(a, 'cảm ơn'));
    expect(r.submits.filter((s) => s.messageId === m.data.msgId)).toHaveLength(1);
    expect(sentTo(r, a)).toHaveLength(2);
  });

  it('answers a sticker (and a photo) with the polite "please type" reply', async () => {
    const r = rig();
    await connected(r);
    const nonText = assistant.holder.version.knowledge.replies.nonText;
    const a = uid();
    const s = await ask(r, r.fake.userAttachment(a, 'chat.sticker', { id: 21, catId: 3, type: 7 }));
    expect(s.text).toBe(nonText);
    expect(r.submits[0]?.kind).toBe('sticker');
    const b = uid();
    const p = await ask(r, r.fake.userAttachment(b, 'chat.photo', { title: '', description: '', href: 'https://photo.example/x.jpg', thumb: '', childnumber: 0, action: '', params: '{}', type: '' }));
    expect(p.text).toBe(nonText);
    expect(r.submits[1]?.kind).toBe('image');
  });

  it('stays out of group chats unless the hotline is mentioned', async () => {
    const r = rig();
    await connected(r);
    const groupId = uid();
    const plain = r.fake.group(groupId, uid(), 'làm căn cước cần gì');
    const skipped = next(r.handle.hotline, 'ignored', (reason, id) => reason === 'group-not-mentioned' && id === plain.data.msgId);
    r.fake.deliver(plain);
    await skipped;
    expect(r.submits).toHaveLength(0);

    const label = '@Hotline Phường';
    const mentioned = r.fake.group(groupId, uid(), `${label} làm căn cước cần gì`, r.fake.mentionAtStart(label));
    const reply = await ask(r, mentioned);
    expect(reply.type).toBe(ThreadType.Group);
    expect(reply.threadId).toBe(groupId);
    expect(r.submits).toHaveLength(1);
    expect(r.submits[0]).toMatchObject({ conversationId: `g:${groupId}`, text: 'làm căn cước cần gì' });
    expect(sentTo(r, groupId)).toHaveLength(1);
  });

  it('goes quiet in a thread where staff replied from the hotline phone, and keeps answering elsewhere', async () => {
    const r = rig();
    await connected(r);
    const a = uid();
    const b = uid();
    const staff = next<[string]>(r.handle.hotline, 'staff');
    r.fake.deliver(r.fake.staffText(a, 'Chào anh, em là cán bộ một cửa, anh cần hỗ trợ gì ạ?'));
    expect((await staff)[0]).toBe(`u:${a}`);
    expect(await assistant.engine.isHandedOff(`u:${a}`)).toBe(true);

    const q = r.fake.userText(a, 'làm căn cước cần gì');
    const turn = r.turnFor(q.data.msgId);
    r.fake.deliver(q);
    expect((await turn).reply).toBeNull();

    const other = await ask(r, r.fake.userText(b, 'làm căn cước cần gì'));
    expect(other.text).toMatch(/căn cước/i);
    expect(sentTo(r, a)).toHaveLength(0);
  });
});

describe('Zalo hotline: staying connected', () => {
  it('reconnects with backoff after an abnormal close (1006) and catches up', async () => {
    const r = rig();
    await connected(r);
    expect(r.fake.starts).toBe(1);
    r.fake.serverClose(1006, 'socket dropped');
    expect(r.handle.hotline.state).toBe('reconnecting');
    const wait = await r.clock.fireNext();
    expect(wait).toBeGreaterThanOrEqual(500);
    expect(wait).toBeLessThanOrEqual(1000);
    await connected(r);
    expect(r.fake.starts).toBe(2);
    expect(r.fake.logins).toHaveLength(1);
    expect(r.fake.oldRequests.map((x) => x.type).sort()).toEqual([ThreadType.User, ThreadType.Group]);
    expect(r.alerts).toEqual([]);
  });

  it('restarts a listener whose handshake hangs', async () => {
    const r = rig();
    r.fake.hangOnStart = 1;
    expect(await r.clock.fireNext()).toBe(60_000); // the watchdog
    expect(r.fake.listening).toBe(false);
    await r.clock.fireNext(); // backoff after the close that followed
    await connected(r);
    expect(r.fake.starts).toBe(2);
    expect(r.clock.pending).toEqual([]);
  });

  it('stops and alerts on 3000 (another Zalo Web listener took over) without a reconnect loop', async () => {
    const r = rig();
    await connected(r);
    const alert = next(r.alertEvents, 'alert');
    r.fake.serverClose(3000, '');
    expect((await alert)[0]).toBe('duplicate-connection');
    await flush();
    expect(r.handle.hotline.state).toBe('halted');
    expect(r.clock.pending).toEqual([]); // nothing scheduled
    expect(r.fake.starts).toBe(1);
    expect(r.alerts).toHaveLength(1);
    // An operator can resume once Zalo Web is closed.
    r.handle.hotline.resume();
    await connected(r);
    expect(r.fake.starts).toBe(2);
  });

  it('alerts when kicked (3003) and does not reconnect', async () => {
    const r = rig();
    await connected(r);
    r.fake.serverClose(3003, 'kicked');
    await flush();
    expect(r.alerts.map((a) => a[0])).toEqual(['kicked']);
    expect(r.clock.pending).toEqual([]);
    expect(r.fake.starts).toBe(1);
  });

  it('alerts on expired credentials, does not retry them, and resumes when new ones are saved', async () => {
    const r = rig({ loginErrors: [new ZaloApiError('Đăng nhập thất bại')] });
    const [kind, detail] = await next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    expect(kind).toBe('credentials-expired');
    expect(detail).toMatch(/zalo:login/);
    expect(r.handle.hotline.state).toBe('waiting-credentials');
    // Re-reading the same dead credentials does not hammer Zalo.
    expect(await r.clock.fireNext()).toBe(60_000);
    expect(r.fake.logins).toHaveLength(1);
    // The operator scans a new QR: the hotline picks the file up by itself.
    r.setCredentials(creds('v2'));
    await r.clock.fireNext();
    await connected(r);
    expect(r.fake.logins).toHaveLength(2);
    expect(r.alerts).toHaveLength(1);
  });

  it('alerts when no credentials are stored', async () => {
    const r = rig({ credentials: null });
    const [kind] = await next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    expect(kind).toBe('credentials-missing');
    expect(r.fake.logins).toHaveLength(0);
  });

  it('retries a login that failed on the network, without alerting', async () => {
    const r = rig({ loginErrors: [new TypeError('fetch failed'), new TypeError('fetch failed')] });
    await r.clock.fireNext();
    await r.clock.fireNext();
    await connected(r);
    expect(r.fake.logins).toHaveLength(3);
    expect(r.alerts).toEqual([]);
  });

  it('re-logs in with the stored credentials when reconnects keep failing, and alerts if Zalo refuses them', async () => {
    const r = rig();
    await connected(r);
    r.fake.closeOnStart = [1006, 1006, 1006];
    r.fake.loginErrors = [new ZaloApiError('Đăng nhập thất bại')];
    r.fake.serverClose(1006);
    for (let i = 0; i < 10 && r.alerts.length === 0; i++) await r.clock.fireNext();
    expect(r.fake.starts).toBe(4); // first start + three failed reconnects
    expect(r.fake.logins).toHaveLength(2); // then a fresh session from the stored credentials
    expect(r.alerts.map((a) => a[0])).toEqual(['credentials-expired']);
  });

  it('re-creates the session when the sender reports it expired, then catches up', async () => {
    const r = rig();
    await connected(r);
    r.handle.hotline.sessionLost();
    await r.clock.fireNext();
    await connected(r);
    expect(r.fake.logins).toHaveLength(2);
    expect(r.fake.starts).toBe(2);
    expect(r.fake.oldRequests).toHaveLength(2);
  });

  it('logs in only while holding the listener lock, and stops quietly when the lock is lost', async () => {
    const answers = [false, true, true];
    let released = 0;
    const r = rig({ acquireLeadership: async () => answers.shift() ?? false, releaseLeadership: async () => void released++, hotline: { leadershipRetryMs: 30_000 } });
    expect(await r.clock.nextSleep()).toBe(30_000);
    expect(r.handle.hotline.state).toBe('waiting-leadership');
    expect(r.fake.logins).toHaveLength(0);
    expect(r.senderEvents).toEqual([]); // a standby process does not send for Zalo
    await r.clock.fireNext();
    await connected(r);
    expect(r.fake.logins).toHaveLength(1);
    expect(r.senderEvents).toEqual(['register:zalo']);
    r.handle.hotline.leadershipLost();
    await flush();
    expect(r.fake.listening).toBe(false);
    expect(r.handle.hotline.state).toBe('waiting-leadership');
    expect(r.senderEvents).toEqual(['register:zalo', 'unregister:zalo']);
    await r.clock.fireNext();
    await connected(r);
    expect(r.fake.logins).toHaveLength(2);
    expect(r.alerts).toEqual([]);
    await r.handle.stop();
    expect(released).toBe(1);
  });

  it('stop() closes the listener and schedules nothing', async () => {
    const r = rig();
    await connected(r);
    await r.handle.stop();
    await flush();
    expect(r.handle.hotline.state).toBe('stopped');
    expect(r.fake.listening).toBe(false);
    expect(r.clock.pending).toEqual([]);
    expect(r.fake.starts).toBe(1);
  });

  it('after a reconnect answers missed messages once, skips answered, old and staff-handled ones', async () => {
    const r = rig();
    await connected(r);
    const a = uid();
    const b = uid();
    const c = uid();
    const answered = r.fake.userText(a, 'làm căn cước cần gì');
    await ask(r, answered);
    const tooOld = r.fake.userText(c, 'đăng ký kết hôn cần gì', { ts: String(r.clock.now() - 3_600_000) });

    r.fake.serverClose(1006);
    // Missed while disconnected:
    const missed = r.fake.userText(a, 'lệ phí làm hộ chiếu bao nhiêu');
    const handledByStaff = r.fake.userText(b, 'cho hỏi đăng ký thường trú');
    const staffAnswer = r.fake.staffText(b, 'Dạ chị mang sổ hộ khẩu cũ đến UBND phường ạ', { ts: String(r.clock.now() + 1) });
    r.fake.oldMessages = (type) => (type === ThreadType.User ? [staffAnswer, r.fake.redeliver(answered), missed, tooOld, handledByStaff] : []);
    const summary = next<[{ received: number; passed: number; skipped: number }]>(r.handle.hotline, 'catchup', (s) => s.received > 0);
    const reply = next<[SentMessage]>(r.fake.probe, 'sent', (s) => s.threadId === a && r.fake.sent.filter((x) => x.threadId === a).length === 2);
    const staff = next<[string]>(r.handle.hotline, 'staff');
    await r.clock.fireNext();
    await connected(r);
    expect((await summary)[0]).toEqual({ received: 5, passed: 2, skipped: 3 });
    expect((await reply)[0].text).toMatch(/hộ chiếu/i);
    expect((await staff)[0]).toBe(`u:${b}`);
    await r.handle.hotline.idle();
    await ask(r, r.fake.userText(a, 'cảm ơn'));
    expect(r.submits.map((m) => m.messageId)).toEqual([answered.data.msgId, missed.data.msgId, expect.any(String)]);
    expect(sentTo(r, a)).toHaveLength(3);
    expect(sentTo(r, b)).toHaveLength(0);
    expect(sentTo(r, c)).toHaveLength(0);
  });
});

describe('Zalo hotline: sending', () => {
  it('pauses all sending and alerts staff when Zalo rate-limits (221), then delivers the reply', async () => {
    const r = rig();
    await connected(r);
    const a = uid();
    r.fake.sendErrors = [new ZaloApiError('Vượt quá số request cho phép', 221)];
    const alert = next<[ZaloAlertKind, string]>(r.alertEvents, 'alert');
    const pausedAt = r.clock.now();
    const reply = next<[SentMessage]>(r.fake.probe, 'sent', (s) => s.threadId === a);
    r.fake.deliver(r.fake.userText(a, 'làm căn cước cần gì'));
    expect((await alert)[0]).toBe('send-paused');
    expect(r.handle.sender.isPaused()).toBe(true);
    expect(await r.clock.nextSleep()).toBe(30 * 60_000);
    expect(r.fake.sendAttempts).toHaveLength(1);
    await r.clock.fireNext();
    const [s] = await reply;
    expect(s.at - pausedAt).toBeGreaterThanOrEqual(30 * 60_000);
    expect(r.fake.sendAttempts).toHaveLength(2);
  });
});
