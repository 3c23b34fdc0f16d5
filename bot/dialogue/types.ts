/**
 * Channel-neutral message and reply model. Channel adapters translate to and from
 * these; the dialogue engine never sees a Telegram update or a Zalo event.
 */

/** Where a message came from. */
export type ChannelName = 'web' | 'telegram' | 'zalo' | 'cli';

/** What kind of message arrived; non-text kinds get a polite "please type" reply. */
export type MessageKind = 'text' | 'image' | 'sticker' | 'voice' | 'video' | 'file' | 'location' | 'other';

export interface IncomingMessage {
  channel: ChannelName;
  /** Stable id of the conversation on its channel (chat id, thread id, session id). */
  conversationId: string;
  /** Platform user id (for rate limits and tickets; never logged in full). */
  userId: string;
  /** Platform message id, used to deduplicate redeliveries. */
  messageId: string;
  text: string;
  kind: MessageKind;
  /** Display name if the platform gives one (staff see it in hand-off tickets). */
  userName?: string;
  /** Epoch ms when the platform says it was sent. */
  sentAt?: number;
}

/** A choice the citizen can tap (web, Telegram) or answer by number (Zalo, CLI). */
export interface ReplyOption {
  label: string;
  /** What choosing it sends back: an internal payload (`#p:…`) or plain text. */
  payload: string;
}

export interface ReplyLink {
  title: string;
  url: string;
}

/** One reply, rendered by each channel in its own way. */
export interface Reply {
  text: string;
  options: ReplyOption[];
  /** A line before the options where they are numbered lines (Zalo, CLI); buttons need none. */
  optionsTitle?: string;
  links: ReplyLink[];
  /** Offer the one-tap "có hữu ích không?" rating under this reply; says which answer is rated. */
  rating?: ReplyRating;
}

/** The answer a rating rates: the procedure aspect or FAQ entry, and its number in the conversation. */
export interface ReplyRating {
  procedure: string | null;
  faq?: string | null;
  intent: string;
  /** The answer's number in its conversation (finds the question that was asked). */
  answer?: number;
}

/**
 * What a rating button sends back: `#r:<1|0>:<answer>:<intent>:<procedure or FAQ id>`, so
 * the rating lands on the answer rated, not on whatever the conversation said last.
 */
export function ratingPayload(rating: ReplyRating, helpful: boolean): string {
  return `#r:${helpful ? 1 : 0}:${rating.answer ?? 0}:${rating.intent}:${rating.faq ?? rating.procedure ?? ''}`;
}

/** Shorthand to build a reply. */
export function reply(text: string, options: ReplyOption[] = [], links: ReplyLink[] = []): Reply {
  return { text, options, links };
}

/** Renders options as numbered lines (Zalo, CLI, plain text fallback), after their title if any. */
export function numberedText(r: Reply): string {
  if (!r.options.length) return r.text;
  const title = r.optionsTitle ? `\n\n${r.optionsTitle}` : '';
  return `${r.text}${title}\n${r.options.map((o, i) => `${i + 1}. ${o.label}`).join('\n')}`;
}

/**
 * The reply as the plainest channel shows it (Zalo, the terminal, `ask`): the text, the
 * options as numbered lines, then the address of each link the text does not already show.
 */
export function plainText(r: Reply): string {
  // Some replies already list their options as numbered lines in the text.
  const listed = r.options.length > 0 && r.options.every((o, i) => r.text.includes(`${i + 1}. ${o.label}`));
  let text = listed ? r.text : numberedText(r);
  const links = r.links.filter((l) => l.url && !text.includes(l.url));
  if (links.length) text += `\n\n${links.map((l) => (l.title ? `${l.title}: ${l.url}` : l.url)).join('\n')}`;
  return text.trim();
}
