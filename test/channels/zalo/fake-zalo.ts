/**
 * A faithful fake of the zca-js surface the hotline uses. Messages are real zca-js
 * `UserMessage`/`GroupMessage` instances (so `threadId`, `isSelf` and the uid rewriting
 * are the library's own), errors are real `ZaloApiError`s, close codes are zca-js
 * `CloseReason`s, and the listener behaves like zca-js's: `start` throws when already
 * started, every close emits `disconnected` then `closed`, `selfListen` echoes our own
 * sends back as self messages, and `old_messages` answers `requestOldMessages`.
 */
import { EventEmitter } from 'node:events';
import * as zcaModule from 'zca-js';
import type { TGroupMessage, TMention, TMessage } from '../../../node_modules/zca-js/dist/index.js';
import type { Clock } from '../../../bot/channels/zalo/clock.ts';
import type { ZaloCredentials, ZaloMessage, ZaloThreadType, ZaloTransport, ZaloTransportEvents } from '../../../bot/channels/zalo/transport.ts';

// zca-js 2.2.0's declared entry does not resolve under NodeNext (see zca-transport.ts).
export const zca = zcaModule as unknown as typeof import('../../../node_modules/zca-js/dist/index.js');
const { UserMessage, GroupMessage, ThreadType, CloseReason, ZaloApiError } = zca;
export { CloseReason, ThreadType, ZaloApiError };

export interface SentMessage {
  text: string;
  threadId: string;
  type: ZaloThreadType;
  msgId: string;
  at: number;
}

interface Probe {
  sent: [SentMessage];
  sendAttempt: [text: string, threadId: string];
  start: [];
  login: [ZaloCredentials];
  oldRequest: [type: ZaloThreadType];
}

export class FakeZaloApi extends EventEmitter<ZaloTransportEvents> implements ZaloTransport {
  readonly ownId = '7000000000000000001';
  /** Test-side signals (what the adapter did). */
  readonly probe = new EventEmitter<Probe>();
  readonly sent: SentMessage[] = [];
  readonly sendAttempts: { text: string; threadId: string; at: number }[] = [];
  readonly logins: ZaloCredentials[] = [];
  readonly typing: string[] = [];
  readonly oldRequests: { type: ZaloThreadType; lastMsgId: string | null }[] = [];
  starts = 0;
  /** Next logins fail with these errors, in order. */
  loginErrors: unknown[] = [];
  /** Next sends fail with these errors, in order. */
  sendErrors: unknown[] = [];
  /** Next listener starts close at once with these codes instead of connecting. */
  closeOnStart: number[] = [];
  /** Next listener starts hang (neither connect nor close), like a stuck handshake. */
  hangOnStart = 0;
  /** What `requestOldMessages` answers with. */
  oldMessages: (type: ZaloThreadType) => ZaloMessage[] = () => [];
  selfListen = true;
  private loggedIn = false;
  private running = false;
  private nextId = 5_000_000_001;

  constructor(private readonly clock: Clock) {
    super();
  }

  // ── ZaloTransport ─────────────────────────────────────────────────────────────

  async login(credentials: ZaloCredentials): Promise<void> {
    this.logins.push(credentials);
    this.probe.emit('login', credentials);
    // Like ZcaTransport: the old session's listener is silenced and dropped.
    this.running = false;
    const err = this.loginErrors.shift();
    if (err) {
      this.loggedIn = false;
      throw err;
    }
    if (!credentials.imei || !credentials.cookie || !credentials.userAgent) throw new ZaloApiError('Missing required params');
    this.loggedIn = true;
  }

  async loginQR(): Promise<ZaloCredentials> {
    throw new Error('not used by the hotline');
  }

  startListener(): void {
    if (!this.loggedIn) throw new ZaloApiError('Cookie is not available');
    if (this.running) throw new ZaloApiError('Already started');
    this.running = true;
    this.starts++;
    this.probe.emit('start');
    if (this.hangOnStart > 0) {
      this.hangOnStart--;
      return;
    }
    const code = this.closeOnStart.shift();
    setImmediate(() => {
      if (!this.running) return;
      if (code !== undefined) this.serverClose(code);
      else this.emit('connected');
    });
  }

  stopListener(): void {
    if (!this.running) return;
    this.running = false;
    setImmediate(() => {
      this.emit('disconnected', CloseReason.ManualClosure, '');
      this.emit('closed', CloseReason.ManualClosure, '');
    });
  }

  async sendMessage(text: string, threadId: string, type: ZaloThreadType): Promise<{ msgId: string | null }> {
    if (!this.loggedIn) throw new ZaloApiError('Invalid context');
    this.sendAttempts.push({ text, threadId, at: this.clock.now() });
    this.probe.emit('sendAttempt', text, threadId);
    const err = this.sendErrors.shift();
    if (err) throw err;
    const msgId = this.id();
    const s = { text, threadId, type, msgId, at: this.clock.now() };
    this.sent.push(s);
    this.probe.emit('sent', s);
    if (this.selfListen && this.running) {
      const echo = type === ThreadType.Group ? this.group(threadId, '0', text, [], msgId) : new UserMessage(this.ownId, this.data({ msgId, uidFrom: '0', idTo: threadId, content: text }));
      setImmediate(() => this.emit('message', echo));
    }
    return { msgId };
  }

  async sendTypingEvent(threadId: string): Promise<void> {
    this.typing.push(threadId);
  }

  requestOldMessages(type: ZaloThreadType, lastMsgId?: string | null): void {
    this.oldRequests.push({ type, lastMsgId: lastMsgId ?? null });
    this.probe.emit('oldRequest', type);
    const msgs = this.oldMessages(type);
    setImmediate(() => this.emit('old_messages', msgs, type));
  }

  getOwnId(): string {
    if (!this.loggedIn) throw new Error('not logged in');
    return this.ownId;
  }

  credentials(): ZaloCredentials | null {
    return this.loggedIn ? (this.logins.at(-1) ?? null) : null;
  }

  dropSession(): void {
    this.running = false;
    this.loggedIn = false;
  }

  // ── test controls ────────────────────────────────────────────────────────────

  /** The server closes the socket (zca-js emits `disconnected` then `closed`). */
  serverClose(code: number, reason = ''): void {
    this.running = false;
    this.emit('disconnected', code, reason);
    this.emit('closed', code, reason);
  }

  /** The listener delivers a message. */
  deliver(m: ZaloMessage): void {
    this.emit('message', m);
  }

  get listening(): boolean {
    return this.running;
  }

  // ── message builders (real zca-js classes) ──────────────────────────────────

  /** A citizen's text in a 1:1 chat. */
  userText(uid: string, text: string, over: Partial<TMessage> = {}): InstanceType<typeof UserMessage> {
    return new UserMessage(this.ownId, this.data({ uidFrom: uid, idTo: '0', content: text, dName: 'Nguyễn Văn An', ...over }));
  }

  /** A citizen's non-text message (msgType as zca-js names it). */
  userAttachment(uid: string, msgType: string, content: TMessage['content']): InstanceType<typeof UserMessage> {
    return new UserMessage(this.ownId, this.data({ uidFrom: uid, idTo: '0', msgType, content }));
  }

  /** Staff typing on the hotline phone in a 1:1 chat with `uid` (zca-js: uidFrom "0"). */
  staffText(uid: string, text: string, over: Partial<TMessage> = {}): InstanceType<typeof UserMessage> {
    return new UserMessage(this.ownId, this.data({ uidFrom: '0', idTo: uid, content: text, ...over }));
  }

  /** A group message; mention the hotline with `this.mention(text)`. */
  group(groupId: string, uid: string, text: string, mentions: TMention[] = [], msgId?: string, over: Partial<TMessage> = {}): InstanceType<typeof GroupMessage> {
    const data: TGroupMessage = { ...this.data({ uidFrom: uid, idTo: groupId, content: text, dName: 'Trần Thị Bình', ...over }), mentions };
    if (msgId) data.msgId = msgId;
    return new GroupMessage(this.ownId, data);
  }

  /** A mention of the hotline account at the start of `text` ("@Hotline …"). */
  mentionAtStart(label: string): TMention[] {
    return [{ uid: this.ownId, pos: 0, len: label.length, type: 0 }];
  }

  /** A copy of a message as Zalo would deliver it again (same ids, fresh object). */
  redeliver(m: ZaloMessage): ZaloMessage {
    const data = { ...(m.data as TMessage), uidFrom: m.isSelf ? '0' : m.data.uidFrom, idTo: m.type === ThreadType.User && !m.isSelf ? '0' : m.data.idTo };
    return m.type === ThreadType.Group ? new GroupMessage(this.ownId, { ...data, mentions: m.data.mentions }) : new UserMessage(this.ownId, data);
  }

  private id(): string {
    return String(this.nextId++);
  }

  /** A complete zca-js `TMessage`, the way the listener decodes one. */
  private data(over: Partial<TMessage>): TMessage {
    const id = over.msgId ?? this.id();
    return {
      actionId: id,
      msgId: id,
      cliMsgId: String(Number(id) + 1_000_000),
      msgType: 'webchat',
      uidFrom: '',
      idTo: '',
      dName: '',
      ts: String(this.clock.now()),
      status: 1,
      content: '',
      notify: '1',
      ttl: 0,
      userId: '0',
      uin: '0',
      topOut: '0',
      topOutTimeOut: '0',
      topOutImprTimeOut: '0',
      propertyExt: undefined,
      paramsExt: { countUnread: 1, containType: 0, platformType: 1 },
      cmd: 501,
      st: 3,
      at: 5,
      realMsgId: '0',
      quote: undefined,
      ...over,
    };
  }
}
