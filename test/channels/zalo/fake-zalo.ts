/**
 * A small `ZaloTransport` for unit tests of the sender and of message conversion: sends
 * are recorded (or fail with queued real `ZaloApiError`s), and message builders make real
 * zca-js `UserMessage`/`GroupMessage` instances (so `threadId`, `isSelf` and the uid
 * rewriting are the library's own). It has no listener: everything about the socket,
 * login and Zalo's answers is tested against the real zca-js on the wire stand-in
 * (`test/helpers/zalo-wire.ts`, `hotline.wire.test.ts`).
 */
import { EventEmitter } from 'node:events';
import * as zcaModule from 'zca-js';
import type { TGroupMessage, TMention, TMessage } from '../../../node_modules/zca-js/dist/index.js';
import type { Clock } from '../../../bot/channels/zalo/clock.ts';
import { TMESSAGE_DEFAULTS } from '../../helpers/zalo-wire.ts';
import type { ZaloCredentials, ZaloThreadType, ZaloTransport, ZaloTransportEvents } from '../../../bot/channels/zalo/transport.ts';

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

export class FakeZaloApi extends EventEmitter<ZaloTransportEvents> implements ZaloTransport {
  readonly ownId = '7000000000000000001';
  readonly sent: SentMessage[] = [];
  readonly sendAttempts: { text: string; threadId: string; at: number }[] = [];
  /** Next sends fail with these errors, in order. */
  sendErrors: unknown[] = [];
  private credentialsInUse: ZaloCredentials | null = null;
  private nextId = 5_000_000_001;

  constructor(private readonly clock: Clock) {
    super();
  }

  async login(credentials: ZaloCredentials): Promise<void> {
    if (!credentials.imei || !credentials.cookie || !credentials.userAgent) throw new ZaloApiError('Missing required params');
    this.credentialsInUse = credentials;
  }

  async loginQR(): Promise<ZaloCredentials> {
    throw new Error('not used by these tests');
  }

  startListener(): void {
    throw new Error('no listener in this fake: use the wire stand-in');
  }

  stopListener(): void {}

  async sendMessage(text: string, threadId: string, type: ZaloThreadType): Promise<{ msgId: string | null }> {
    if (!this.credentialsInUse) throw new ZaloApiError('Invalid context');
    this.sendAttempts.push({ text, threadId, at: this.clock.now() });
    const err = this.sendErrors.shift();
    if (err) throw err;
    const msgId = this.id();
    this.sent.push({ text, threadId, type, msgId, at: this.clock.now() });
    return { msgId };
  }

  async sendTypingEvent(): Promise<void> {}

  requestOldMessages(): void {}

  getOwnId(): string {
    return this.ownId;
  }

  credentials(): ZaloCredentials | null {
    return this.credentialsInUse;
  }

  dropSession(): void {
    this.credentialsInUse = null;
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

  private id(): string {
    return String(this.nextId++);
  }

  /** A complete zca-js `TMessage`, the way the listener decodes one. */
  private data(over: Partial<TMessage>): TMessage {
    const id = over.msgId ?? this.id();
    return { ...TMESSAGE_DEFAULTS, paramsExt: { ...TMESSAGE_DEFAULTS.paramsExt }, propertyExt: undefined, quote: undefined, actionId: id, msgId: id, cliMsgId: String(Number(id) + 1_000_000), uidFrom: '', idTo: '', ts: String(this.clock.now()), ...over };
  }
}
