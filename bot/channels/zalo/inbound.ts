/**
 * Zalo listener messages → channel-neutral `IncomingMessage`, and the conversation
 * ids that let the sender find its way back to a 1:1 chat or a group.
 */
import type { IncomingMessage, MessageKind } from '../../dialogue/types.ts';
import { maskUserId } from '../../privacy.ts';
import { ZaloThread, type ZaloMessage, type ZaloThreadType } from './transport.ts';

/** Where a reply goes: a thread id and whether it is a group. */
export interface ZaloTarget {
  threadId: string;
  type: ZaloThreadType;
}

/** `u:<uid>` for 1:1 chats, `g:<groupId>` for groups: unambiguous, and the sender needs the type. */
export function zaloConversationId(t: ZaloTarget): string {
  return `${t.type === ZaloThread.Group ? 'g' : 'u'}:${t.threadId}`;
}

/** The inverse of `zaloConversationId`; null for anything else. */
export function parseZaloConversationId(id: string): ZaloTarget | null {
  const m = /^([ug]):(\S+)$/.exec(id);
  if (!m) return null;
  return { threadId: m[2] as string, type: m[1] === 'g' ? ZaloThread.Group : ZaloThread.User };
}

/** A conversation id fit for logs: `u:12***89`. */
export function maskZaloConversation(id: string): string {
  const t = parseZaloConversationId(id);
  return t ? `${id.slice(0, 2)}${maskUserId(t.threadId)}` : '***';
}

/**
 * zca-js `msgType` values → what the engine needs to know (non-text gets a polite "please
 * type"). A question with a URL in it arrives as "chat.recommended" with the typed text in
 * `content.title` (see `zaloContent`), so that is text too.
 */
export const ZALO_KINDS: Readonly<Record<string, MessageKind>> = Object.freeze({
  webchat: 'text',
  'chat.link': 'text',
  'chat.recommended': 'text',
  'chat.photo': 'image',
  'chat.doodle': 'image',
  'chat.gif': 'image',
  'chat.sticker': 'sticker',
  'chat.voice': 'voice',
  'chat.video.msg': 'video',
  'share.file': 'file',
  'chat.location.new': 'location',
});

/** The id a message is deduplicated by: the server id, else the client id. */
export function zaloMessageId(m: ZaloMessage): string | null {
  const id = m.data.msgId || m.data.cliMsgId;
  return id ? String(id) : null;
}

/**
 * `content.action` of a "chat.recommended" message whose title is what the citizen typed
 * (sic: Zalo spells it "recommened"). Other actions of that type are shared contact cards.
 */
export const ZALO_TYPED_LINK_ACTION = 'recommened.link';

/** Text and kind of a message. A link preview counts as text (its title is what was typed). */
export function zaloContent(m: ZaloMessage): { kind: MessageKind; text: string } {
  const c: unknown = m.data.content;
  const kind = ZALO_KINDS[m.data.msgType] ?? 'other';
  if (typeof c === 'string') return { kind: kind === 'other' || kind === 'text' ? 'text' : kind, text: c };
  if (kind === 'text' && c && typeof c === 'object') {
    const o = c as Record<string, unknown>;
    if (m.data.msgType === 'chat.recommended' && o.action !== ZALO_TYPED_LINK_ACTION) return { kind: 'other', text: '' };
    const title = typeof o.title === 'string' ? o.title.trim() : '';
    const href = typeof o.href === 'string' ? o.href.trim() : '';
    const text = title.includes(href) ? title : [title, href].filter(Boolean).join(' ');
    if (text) return { kind: 'text', text };
    return { kind: 'other', text: '' };
  }
  return { kind: kind === 'text' ? 'other' : kind, text: '' };
}

/**
 * True for a recall ("thu hồi"): content `{ globalMsgId, cliMsgId, deleteMsg, … }`. Live,
 * zca-js turns these into `undo` events; in history pages (cmd 510/511) they arrive as
 * ordinary messages and must not be answered.
 */
export function isZaloRecall(m: ZaloMessage): boolean {
  const c: unknown = m.data.content;
  return m.data.msgType === 'chat.undo' || (!!c && typeof c === 'object' && Object.prototype.hasOwnProperty.call(c, 'deleteMsg'));
}

/** The server id of the message a recall withdraws (null when it names none). */
export function recalledMessageId(m: ZaloMessage): string | null {
  const c = m.data.content as Record<string, unknown> | null;
  const id = c && typeof c === 'object' ? c.globalMsgId : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/** True when a group message mentions the hotline account by uid (not @all). */
export function mentionsAccount(m: ZaloMessage, ownId: string): boolean {
  return (m.data.mentions ?? []).some((x) => x.uid === ownId && x.type !== 1);
}

/** Removes the "@Hotline" spans that mention the account, so the engine sees only the question. */
export function stripOwnMentions(text: string, m: ZaloMessage, ownId: string): string {
  const spans = (m.data.mentions ?? []).filter((x) => x.uid === ownId && x.len > 0 && x.pos >= 0).sort((a, b) => b.pos - a.pos);
  let out = text;
  for (const s of spans) out = out.slice(0, s.pos) + out.slice(s.pos + s.len);
  return out.replace(/\s+/g, ' ').trim();
}

/** Builds the engine's message from a citizen's (non-self) Zalo message. */
export function toIncomingMessage(m: ZaloMessage, ownId: string): IncomingMessage {
  const { kind, text } = zaloContent(m);
  const ts = Number(m.data.ts);
  return {
    channel: 'zalo',
    conversationId: zaloConversationId(m),
    userId: String(m.data.uidFrom),
    messageId: zaloMessageId(m) ?? '',
    text: m.type === ZaloThread.Group && kind === 'text' ? stripOwnMentions(text, m, ownId) : text,
    kind,
    ...(m.data.dName ? { userName: m.data.dName } : {}),
    ...(Number.isFinite(ts) && ts > 0 ? { sentAt: ts } : {}),
  };
}

/** A set that forgets its oldest entries past `max` (dedupe memory that cannot grow forever). */
export class BoundedSet {
  private readonly items = new Set<string>();

  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.items.has(key);
  }

  add(key: string): void {
    this.items.delete(key);
    this.items.add(key);
    while (this.items.size > this.max) this.items.delete(this.items.values().next().value as string);
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }
}
