/**
 * Telegram's HTML parse mode, as strict as Telegram itself, for the fake Bot API: the
 * same tags, the same entity decoding (an `&` that starts no known entity stays a
 * literal `&`, as in Telegram) and the same error texts, with UTF-8 byte offsets.
 * Modelled on the behaviour of Telegram's own parser (tdlib `parse_html`); what it
 * returns is the visible text, whose length is what Telegram's 4,096 limit counts.
 */

const TAGS = new Set(['a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins', 'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code', 'blockquote']);
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** The visible text, or Telegram's error description (without the "Bad Request: " prefix). */
export type HtmlParse = { ok: true; text: string } | { ok: false; error: string };

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === '\t' || c === '\r';

/** Decodes the entity at `text[i] === '&'`; null when it is none Telegram knows. */
function entityAt(text: string, i: number): { ch: string; next: number } | null {
  let end = i + 1;
  let ch: string | undefined;
  if (text[end] === '#') {
    end++;
    const hex = text[end] === 'x' || text[end] === 'X';
    if (hex) end++;
    const start = end;
    while (end < text.length && (hex ? /[0-9a-fA-F]/ : /[0-9]/).test(text[end] as string)) end++;
    if (end === start || end - start > 7) return null;
    const code = Number.parseInt(text.slice(start, end), hex ? 16 : 10);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null;
    ch = String.fromCodePoint(code);
  } else {
    while (end < text.length && /[A-Za-z]/.test(text[end] as string)) end++;
    ch = NAMED[text.slice(i + 1, end)];
    if (ch === undefined) return null;
  }
  if (text[end] === ';') end++;
  return { ch, next: end };
}

/** Parses `html` as Telegram does with `parse_mode: "HTML"`. */
export function parseTelegramHtml(html: string): HtmlParse {
  const bytesBefore = (i: number): number => Buffer.byteLength(html.slice(0, i), 'utf8');
  const fail = (error: string): HtmlParse => ({ ok: false, error: `can't parse entities: ${error}` });
  const decode = (s: string): string => {
    let out = '';
    for (let i = 0; i < s.length; ) {
      const e = s[i] === '&' ? entityAt(s, i) : null;
      if (e) {
        out += e.ch;
        i = e.next;
      } else {
        out += s[i];
        i++;
      }
    }
    return out;
  };
  const stack: string[] = [];
  let out = '';
  let i = 0;
  while (i < html.length) {
    const c = html[i] as string;
    if (c === '&') {
      const e = entityAt(html, i);
      if (e) {
        out += e.ch;
        i = e.next;
        continue;
      }
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }
    const begin = i;
    i++;
    if (html[i] === '/') {
      i++;
      const nameStart = i;
      while (i < html.length && html[i] !== '>') i++;
      if (i >= html.length) return fail(`Unclosed end tag at byte offset ${bytesBefore(begin)}`);
      const name = html.slice(nameStart, i).toLowerCase().trim();
      i++;
      const open = stack.pop();
      if (open === undefined) return fail(`Unexpected end tag at byte offset ${bytesBefore(begin)}`);
      if (name !== open) return fail(`Unmatched end tag at byte offset ${bytesBefore(begin)}, expected "</${open}>", found "</${name}>"`);
      continue;
    }
    const nameStart = i;
    while (i < html.length && !isSpace(html[i]) && html[i] !== '>') i++;
    if (i >= html.length) return fail(`Unclosed start tag at byte offset ${bytesBefore(begin)}`);
    const name = html.slice(nameStart, i).toLowerCase();
    if (!TAGS.has(name)) return fail(`Unsupported start tag "${name}" at byte offset ${bytesBefore(begin)}`);
    const attributes = new Map<string, string>();
    while (html[i] !== '>') {
      while (isSpace(html[i])) i++;
      if (i >= html.length) return fail(`Unclosed start tag at byte offset ${bytesBefore(begin)}`);
      if (html[i] === '>') break;
      const attrStart = i;
      while (i < html.length && !isSpace(html[i]) && html[i] !== '=' && html[i] !== '>') i++;
      const attr = html.slice(attrStart, i).toLowerCase();
      if (!attr) return fail(`Empty attribute name in the tag "${name}" at byte offset ${bytesBefore(i)}`);
      while (isSpace(html[i])) i++;
      if (html[i] !== '=') return fail(`Expected equal sign in declaration of an attribute of the tag "${name}" at byte offset ${bytesBefore(i)}`);
      i++;
      while (isSpace(html[i])) i++;
      if (i >= html.length) return fail(`Unclosed start tag at byte offset ${bytesBefore(begin)}`);
      let value: string;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        if (close < 0) return fail(`Unclosed start tag at byte offset ${bytesBefore(begin)}`);
        value = html.slice(i + 1, close);
        i = close + 1;
      } else {
        const valueStart = i;
        while (i < html.length && !isSpace(html[i]) && html[i] !== '>') i++;
        value = html.slice(valueStart, i);
      }
      attributes.set(attr, decode(value));
    }
    i++;
    if (name === 'span' && attributes.get('class') !== 'tg-spoiler') return fail(`Tag "span" must have class "tg-spoiler" at byte offset ${bytesBefore(begin)}`);
    stack.push(name);
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) return fail(`Can't find end tag corresponding to start tag "${unclosed}"`);
  return { ok: true, text: out };
}
