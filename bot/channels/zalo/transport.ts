/**
 * Our own small view of the Zalo personal-account API (zca-js). The hotline adapter,
 * the sender and the tests speak only this interface; `zca-transport.ts` is the one
 * file that imports zca-js. The message and event shapes mirror zca-js 2.2 exactly
 * (structural subsets of its `UserMessage`/`GroupMessage`), so a fake built from
 * zca-js's own exported classes drives the adapter the way the real listener does.
 */
import type { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';

/** zca-js `ThreadType`: a 1:1 chat or a group. */
export const ZaloThread = Object.freeze({ User: 0, Group: 1 } as const);
export type ZaloThreadType = (typeof ZaloThread)[keyof typeof ZaloThread];

/** zca-js `CloseReason`: why the listener's websocket closed. */
export const ZaloClose = Object.freeze({
  /** We called `stopListener()`. */
  Manual: 1000,
  /** The socket dropped; Zalo does this about once a minute. Reconnect. */
  Abnormal: 1006,
  /** Another Zalo Web listener for the same account took over. Do not fight it. */
  Duplicate: 3000,
  /** Zalo kicked this session. */
  Kicked: 3003,
} as const);

/** A mention inside a group message (`type` 1 = @all). */
export interface ZaloMention {
  uid: string;
  pos: number;
  len: number;
  type: 0 | 1;
}

/** The fields of zca-js `TMessage` the adapter reads. */
export interface ZaloMessageData {
  msgId: string;
  cliMsgId: string;
  /** "webchat" for text; "chat.photo", "chat.sticker", "chat.voice", "share.file", … */
  msgType: string;
  uidFrom: string;
  idTo: string;
  dName: string;
  /** Epoch milliseconds, as a string. */
  ts: string;
  /** A string for text; an object for attachments, stickers, links, locations. */
  content: unknown;
  mentions?: ZaloMention[] | undefined;
}

/** One message as the listener delivers it (zca-js `UserMessage | GroupMessage`). */
export interface ZaloMessage {
  type: ZaloThreadType;
  /** The other person's uid in 1:1 chats (also for our own messages); the group id in groups. */
  threadId: string;
  /** Sent by the logged-in account: the bot itself or staff on the hotline phone. */
  isSelf: boolean;
  data: ZaloMessageData;
}

/** Cookie + imei + user agent: what a QR login yields and a cookie login needs. */
export interface ZaloCredentials {
  imei: string;
  userAgent: string;
  /** Serialized cookies, kept opaque: zca-js accepts browser-extension and tough-cookie shapes. */
  cookie: Record<string, unknown>[] | { url: string; cookies: Record<string, unknown>[] };
  language?: string;
}

/** Progress of a QR login, for the `zalo:login` script. */
export type ZaloQrEvent =
  | { type: 'generated'; imageBase64: string; code: string }
  | { type: 'expired'; willRetry: boolean }
  | { type: 'scanned'; displayName: string }
  | { type: 'declined' };

/** Listener events, named and typed as zca-js emits them. */
export interface ZaloTransportEvents {
  connected: [];
  message: [message: ZaloMessage];
  old_messages: [messages: ZaloMessage[], type: ZaloThreadType];
  disconnected: [code: number, reason: string];
  closed: [code: number, reason: string];
  error: [error: unknown];
}

/**
 * The Zalo operations the hotline needs. Events come from the current session's
 * listener; after `login()` replaces the session, events come from the new one only.
 */
export interface ZaloTransport extends Pick<EventEmitter<ZaloTransportEvents>, 'on' | 'off'> {
  /** Logs in with stored credentials (replacing any current session). */
  login(credentials: ZaloCredentials): Promise<void>;
  /** Logs in by QR code and resolves with credentials worth storing. */
  loginQR(options: { userAgent?: string; maxRetries?: number }, onEvent: (event: ZaloQrEvent) => void | Promise<void>): Promise<ZaloCredentials>;
  /** Opens the listener websocket; throws if not logged in or already started. */
  startListener(): void;
  /** Closes the listener (a `closed` event with 1000 follows). */
  stopListener(): void;
  sendMessage(text: string, threadId: string, type: ZaloThreadType): Promise<{ msgId: string | null }>;
  sendTypingEvent(threadId: string, type: ZaloThreadType): Promise<void>;
  /** Asks for recent messages of one thread type; they arrive as `old_messages`. */
  requestOldMessages(type: ZaloThreadType, lastMsgId?: string | null): void;
  /** The hotline account's own uid (valid after login). */
  getOwnId(): string;
  /**
   * The current session as credentials worth storing: zca-js rotates the cookies on
   * every Zalo answer, so the jar from login time goes stale. Null when not logged in.
   */
  credentials(): ZaloCredentials | null;
  /** Forgets the session (listener stopped, sends refused) without logging out at Zalo. */
  dropSession(): void;
}

/** How a failed login should be handled. */
export type LoginFailure = 'auth' | 'transient';

/**
 * zca-js throws `ZaloApiError` (name "ZcaApiError") both when Zalo refuses the session
 * and for a bad HTTP answer, often with the same "Failed to fetch …" prefix; network
 * failures are plain `TypeError`s. A dead session shows as error 600 / "zpw_sek bị thiếu
 * hoặc không đúng" (the session cookie is missing or expired, e.g. "Failed to fetch
 * server info: zpw_sek …"), error 102 (session key timed out) or "Đăng nhập thất bại":
 * a person has to scan a QR again. HTTP status errors ("Failed to fetch …: Bad Gateway",
 * "Request failed with status code 502") and network errors are worth retrying. Any
 * other zca-js refusal counts as auth, so a dead session is never retried forever.
 */
export function classifyLoginError(err: unknown): LoginFailure {
  if (!(err instanceof Error) || err.name !== 'ZcaApiError') return 'transient';
  const code = zaloErrorCode(err);
  if (code !== null && ZALO_SESSION_ERROR_CODES.includes(code)) return 'auth';
  if (/zpw_sek/i.test(err.message)) return 'auth';
  // "Failed to fetch server info: X": X is the HTTP status text when the request failed
  // (worth a retry), else Zalo's own error message — a refusal of the session.
  const fetchFailure = /^Failed to fetch [a-z ]+: ?(.*)$/i.exec(err.message);
  if (fetchFailure) return HTTP_REASONS.has((fetchFailure[1] ?? '').trim().toLowerCase()) ? 'transient' : 'auth';
  if (/Request failed|fetch failed|Failed to parse response/i.test(err.message)) return 'transient';
  return 'auth';
}

/** HTTP reason phrases (and the empty one HTTP/2 gives): what zca-js appends when a request itself failed. */
const HTTP_REASONS: ReadonlySet<string> = new Set(['', ...Object.values(STATUS_CODES).map((t) => String(t).toLowerCase())]);

/** `ZaloApiError.code`s that mean the session is gone: 600 zpw_sek missing or wrong, 102 session key timeout. */
export const ZALO_SESSION_ERROR_CODES: readonly number[] = Object.freeze([600, 102]);

/** The numeric `code` of a zca-js `ZaloApiError`, or null for anything else. */
export function zaloErrorCode(err: unknown): number | null {
  if (!(err instanceof Error)) return null;
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'number' ? code : null;
}
