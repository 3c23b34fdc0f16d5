/**
 * Telegram rendering, free of network code so it is unit-testable: a channel-neutral
 * Reply becomes HTML messages under Telegram's 4,096-character limit plus an inline
 * keyboard whose callback data fits in 64 bytes. Also the deep-link payload format
 * shared with the QR posters.
 */
import { createHash } from 'node:crypto';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import type { Replies } from '../../../knowledge/replies.ts';
import { ratingPayload, type Reply } from '../../dialogue/types.ts';

/** Telegram's documented text limit (after entity parsing). */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** Telegram's documented callback_data limit, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;
/** Telegram's documented /start payload limit and alphabet. */
export const DEEP_LINK_PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/;

/** Escapes text for Telegram HTML parse mode (`<`, `>`, `&`, and `"` inside attributes). */
export function escapeTelegramHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

/**
 * The `/start` payload that opens a procedure: its id with `.` written as `__`
 * (`ho-tich.khai-sinh` → `ho-tich__khai-sinh`, `1.001193` → `1__001193`). Returns null
 * when the id cannot be carried (more than 64 characters or other characters).
 */
export function deepLinkPayload(procedureId: string): string | null {
  const payload = procedureId.replace(/\./g, '__');
  return DEEP_LINK_PAYLOAD.test(payload) ? payload : null;
}

/** The procedure id a `/start` payload names (the inverse of `deepLinkPayload`), or null. */
export function procedureIdFromPayload(payload: string): string | null {
  if (!DEEP_LINK_PAYLOAD.test(payload) || !payload.includes('__')) return null;
  return payload.replace(/__/g, '.');
}

/** `https://t.me/<bot>?start=<payload>` for a procedure (QR posters at the counter). */
export function deepLink(botUsername: string, procedureId: string): string | null {
  const p = deepLinkPayload(procedureId);
  return p ? `https://t.me/${botUsername.replace(/^@/, '')}?start=${p}` : null;
}

/**
 * Where long callback payloads are kept so that any process can resolve a tap: the
 * process that sent the button is often not the one that polls (several `npm start`
 * processes, or a takeover after a crash). Redis in scaled-out mode (bot/queue).
 */
export interface CallbackStore {
  save(entries: readonly (readonly [key: string, payload: string])[]): Promise<void>;
  load(key: string): Promise<string | null>;
}

/**
 * Callback data for option payloads. Short payloads travel inline (`o:<payload>`); longer
 * ones are replaced by a hash key (`k:<key>`) remembered in a bounded map, and in the
 * shared `store` when there is one (`flush` before sending). A key nobody remembers
 * (restart without a store, eviction) resolves to null and the citizen is asked to type again.
 */
export class CallbackPayloads {
  private readonly keys = new Map<string, string>();
  private pending: [string, string][] = [];

  constructor(
    private readonly max = 20_000,
    private readonly store?: CallbackStore,
  ) {}

  encode(payload: string): string {
    const inline = `o:${payload}`;
    if (Buffer.byteLength(inline, 'utf8') <= CALLBACK_DATA_LIMIT) return inline;
    const key = `k:${createHash('sha256').update(payload).digest('base64url').slice(0, 22)}`;
    if (this.store && !this.keys.has(key)) this.pending.push([key, payload]);
    this.keys.delete(key);
    this.keys.set(key, payload);
    if (this.keys.size > this.max) this.keys.delete(this.keys.keys().next().value as string);
    return key;
  }

  /** Writes the keys encoded since the last flush to the shared store (before the buttons go out). */
  async flush(): Promise<void> {
    if (!this.store || !this.pending.length) return;
    const entries = this.pending;
    this.pending = [];
    await this.store.save(entries);
  }

  /** The payload for callback data from this process's memory, or null when it is not ours or was forgotten. */
  decode(data: string): string | null {
    if (data.startsWith('o:')) return data.slice(2);
    if (data.startsWith('k:')) return this.keys.get(data) ?? null;
    return null;
  }

  /** Like `decode`, and asks the shared store for a key this process does not know. */
  async resolve(data: string): Promise<string | null> {
    const local = this.decode(data);
    if (local !== null || !data.startsWith('k:') || !this.store) return local;
    return await this.store.load(data);
  }
}

/** One Telegram message: HTML text and, on the last one, the keyboard. */
export interface TelegramMessage {
  html: string;
  /** The same content without markup (fallback when Telegram refuses the HTML). */
  plain: string;
  keyboard?: InlineKeyboardMarkup;
}

interface Line {
  plain: string;
  html: string;
}

/** Cuts one overlong line at spaces (or anywhere, never inside a surrogate pair). */
function cutLine(line: string, limit: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    let at = rest.lastIndexOf(' ', limit);
    if (at < limit / 2) at = limit;
    const code = rest.charCodeAt(at - 1);
    if (at === limit && code >= 0xd800 && code <= 0xdbff) at -= 1; // keep the pair together
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^ /, '');
  }
  out.push(rest);
  return out;
}

/**
 * Splits text into chunks of at most `limit` characters, on line boundaries where it can.
 * Lengths are counted in UTF-16 code units, which is never less than Telegram's count.
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  return packLines(
    text.split('\n').map((plain) => ({ plain, html: plain })),
    limit,
  ).map((c) => c.plain);
}

function packLines(lines: Line[], limit: number): Line[] {
  const pieces: Line[] = [];
  for (const l of lines) {
    if (l.plain.length <= limit) pieces.push(l);
    else for (const part of cutLine(l.plain, limit)) pieces.push({ plain: part, html: escapeTelegramHtml(part) });
  }
  const chunks: Line[] = [];
  let cur: Line | undefined;
  for (const p of pieces) {
    if (cur && cur.plain.length + 1 + p.plain.length <= limit) {
      cur.plain += `\n${p.plain}`;
      cur.html += `\n${p.html}`;
    } else {
      if (cur) chunks.push(cur);
      cur = { ...p };
    }
  }
  if (cur) chunks.push(cur);
  return chunks.filter((c) => c.plain.trim().length > 0);
}

/**
 * Renders a reply as Telegram messages: escaped HTML, links as anchors, the rating
 * question, then options and rating buttons as an inline keyboard on the last message.
 */
export function renderReply(reply: Reply, replies: Pick<Replies, 'ratingAsk' | 'labels'>, callbacks: CallbackPayloads, limit = TELEGRAM_TEXT_LIMIT): TelegramMessage[] {
  const lines: Line[] = reply.text.split('\n').map((plain) => ({ plain, html: escapeTelegramHtml(plain) }));
  const links = reply.links.filter((l) => /^https?:\/\/\S+$/i.test(l.url) && !reply.text.includes(l.url));
  if (links.length) lines.push({ plain: '', html: '' });
  for (const l of links) lines.push({ plain: `🔗 ${l.title}`, html: `🔗 <a href="${escapeTelegramHtml(l.url)}">${escapeTelegramHtml(l.title)}</a>` });
  const rows: InlineKeyboardButton[][] = reply.options.map((o) => [{ text: o.label, callback_data: callbacks.encode(o.payload) }]);
  if (reply.rating) {
    lines.push({ plain: '', html: '' }, { plain: replies.ratingAsk, html: `<i>${escapeTelegramHtml(replies.ratingAsk)}</i>` });
    rows.push([
      { text: replies.labels.ratingYes, callback_data: callbacks.encode(ratingPayload(reply.rating, true)) },
      { text: replies.labels.ratingNo, callback_data: callbacks.encode(ratingPayload(reply.rating, false)) },
    ]);
  }
  const chunks = packLines(lines, limit);
  if (!chunks.length) chunks.push({ plain: '…', html: '…' });
  const messages: TelegramMessage[] = chunks.map((c) => ({ html: c.html, plain: c.plain }));
  if (rows.length) (messages[messages.length - 1] as TelegramMessage).keyboard = { inline_keyboard: rows };
  return messages;
}
