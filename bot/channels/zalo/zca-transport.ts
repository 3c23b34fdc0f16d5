/**
 * The real `ZaloTransport` over zca-js: the only module in the project that imports
 * zca-js, so a library upgrade or a swap to another Zalo API touches this file alone.
 */
import { EventEmitter } from 'node:events';
import * as zcaModule from 'zca-js';
import type { API, Credentials, Message } from '../../../node_modules/zca-js/dist/index.js';
import type { ZaloCredentials, ZaloMessage, ZaloQrEvent, ZaloThreadType, ZaloTransport, ZaloTransportEvents } from './transport.ts';

// zca-js 2.2.0's type entry (`index.d.ts`: `export * from "./dist"`) is a directory
// import that NodeNext resolution rejects, so its named exports look missing. The
// runtime module is fine; borrow the declarations straight from `dist/`.
const { LoginQRCallbackEventType, ThreadType, Zalo } = zcaModule as unknown as typeof import('../../../node_modules/zca-js/dist/index.js');

// Compile-time conformance: zca-js messages must satisfy our view of them, and the
// enum values our constants mirror must not drift (a zca-js upgrade fails typecheck here).
const _messageConforms = (m: Message): ZaloMessage => m;
const _threadConforms: [ZaloThreadType, ZaloThreadType] = [ThreadType.User, ThreadType.Group];
void _messageConforms;
void _threadConforms;

/** The options every client is created with: hear our own phone, never hit npm, no console noise. */
export const ZCA_OPTIONS = Object.freeze({ selfListen: true, checkUpdate: false, logging: false });

/** Options of the zca-js transport. */
export interface ZcaTransportOptions {
  userAgent?: string;
  /**
   * The `fetch` zca-js makes every HTTP call with (its `polyfill` option). The
   * websocket address comes from Zalo's login answer, so a stand-in of Zalo's HTTP
   * endpoints reached through this function also decides where the listener connects:
   * that is how the wire tests run the real library offline.
   */
  fetch?: typeof fetch;
}

/** `ZaloTransport` backed by a zca-js `API` session. */
export class ZcaTransport extends EventEmitter<ZaloTransportEvents> implements ZaloTransport {
  private api: API | null = null;
  private detach: (() => void) | null = null;

  constructor(private readonly options: ZcaTransportOptions = {}) {
    super();
    // An 'error' event without a listener would throw; the hotline subscribes, but a
    // script that only sends must not crash on a socket hiccup either.
    this.on('error', () => {});
  }

  async login(credentials: ZaloCredentials): Promise<void> {
    // Our credential type keeps cookies opaque; zca-js validates them itself.
    const api = await this.client().login(credentials as unknown as Credentials);
    this.attach(api);
  }

  async loginQR(options: { userAgent?: string; maxRetries?: number }, onEvent: (event: ZaloQrEvent) => void | Promise<void>): Promise<ZaloCredentials> {
    let got: ZaloCredentials | null = null;
    let expiries = 0;
    const maxRetries = options.maxRetries ?? 3;
    const api = await this.client().loginQR({ userAgent: options.userAgent ?? this.options.userAgent }, (event) => {
      switch (event.type) {
        case LoginQRCallbackEventType.QRCodeGenerated:
          void onEvent({ type: 'generated', imageBase64: event.data.image, code: event.data.code });
          break;
        case LoginQRCallbackEventType.QRCodeExpired: {
          const willRetry = expiries++ < maxRetries;
          void onEvent({ type: 'expired', willRetry });
          if (willRetry) event.actions.retry();
          else event.actions.abort();
          break;
        }
        case LoginQRCallbackEventType.QRCodeScanned:
          void onEvent({ type: 'scanned', displayName: event.data.display_name });
          break;
        case LoginQRCallbackEventType.QRCodeDeclined:
          void onEvent({ type: 'declined' });
          // With a callback zca-js leaves the login pending until we choose; give up.
          event.actions.abort();
          break;
        case LoginQRCallbackEventType.GotLoginInfo:
          got = { cookie: event.data.cookie as unknown as ZaloCredentials['cookie'], imei: event.data.imei, userAgent: event.data.userAgent };
          break;
      }
    });
    this.attach(api);
    if (!got) throw new Error('QR login finished without login info');
    return got;
  }

  startListener(): void {
    this.session().listener.start({ retryOnClose: false });
  }

  stopListener(): void {
    this.api?.listener.stop();
  }

  async sendMessage(text: string, threadId: string, type: ZaloThreadType): Promise<{ msgId: string | null }> {
    const res = await this.session().sendMessage(text, threadId, type === 1 ? ThreadType.Group : ThreadType.User);
    return { msgId: res.message ? String(res.message.msgId) : null };
  }

  async sendTypingEvent(threadId: string, type: ZaloThreadType): Promise<void> {
    await this.session().sendTypingEvent(threadId, type === 1 ? ThreadType.Group : ThreadType.User);
  }

  requestOldMessages(type: ZaloThreadType, lastMsgId?: string | null): void {
    this.session().listener.requestOldMessages(type === 1 ? ThreadType.Group : ThreadType.User, lastMsgId ?? null);
  }

  getOwnId(): string {
    return this.session().getOwnId();
  }

  credentials(): ZaloCredentials | null {
    if (!this.api) return null;
    const ctx = this.api.getContext();
    // tough-cookie's serialized cookies are what zca-js's cookie login parses back.
    const cookies = this.api.getCookie().toJSON()?.cookies ?? [];
    return { imei: ctx.imei, userAgent: ctx.userAgent, cookie: cookies as unknown as Record<string, unknown>[], language: ctx.language };
  }

  dropSession(): void {
    const old = this.api;
    this.detach?.();
    this.detach = null;
    this.api = null;
    try {
      old?.listener.stop();
    } catch {
      // already closed
    }
  }

  private client(): InstanceType<typeof Zalo> {
    return new Zalo({ ...ZCA_OPTIONS, ...(this.options.fetch ? { polyfill: this.options.fetch } : {}) });
  }

  private session(): API {
    if (!this.api) throw new Error('Zalo transport is not logged in');
    return this.api;
  }

  /** Swaps in a new session: the old listener is silenced first, then stopped. */
  private attach(api: API): void {
    const old = this.api;
    this.detach?.();
    if (old) {
      try {
        old.listener.stop();
      } catch {
        // already closed
      }
    }
    this.api = api;
    const l = api.listener;
    // The listener events we forward unchanged, attached and detached together.
    const forwarded = ['connected', 'message', 'old_messages', 'disconnected', 'closed', 'error'] as const;
    // The typed emitter's overloads cannot be picked for a runtime event name: emit through its untyped shape.
    const emit = this.emit.bind(this) as (event: string, ...args: unknown[]) => boolean;
    const handlers = forwarded.map((event) => [event, (...args: unknown[]): void => void emit(event, ...args)] as const);
    const on = l.on.bind(l) as (event: string, fn: (...args: unknown[]) => void) => unknown;
    const off = l.off.bind(l) as (event: string, fn: (...args: unknown[]) => void) => unknown;
    for (const [event, fn] of handlers) on(event, fn);
    this.detach = () => {
      for (const [event, fn] of handlers) off(event, fn);
      // Keep a late socket error on the old listener from becoming an uncaught 'error'.
      l.on('error', () => {});
    };
  }
}
