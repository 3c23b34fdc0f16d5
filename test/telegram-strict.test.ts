/**
 * What Telegram refuses, checked without a network: the fake Bot API's HTML parser says
 * what Telegram says about broken markup, and everything the bot renders from the
 * bundled knowledge (every procedure and aspect, every FAQ, every reply template, any
 * citizen text) passes it, fits 4,096 characters and carries callback data of 1–64 bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallbackPayloads, renderReply, TELEGRAM_TEXT_LIMIT, type TelegramMessage } from '../bot/channels/telegram/render.ts';
import { composeFaq, composeProcedure } from '../bot/dialogue/compose.ts';
import type { Reply } from '../bot/dialogue/types.ts';
import { fill, REPLY_KEYS } from '../knowledge/replies.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { parseTelegramHtml } from './helpers/telegram-html.ts';

const ASPECTS = ['procedure.overview', 'procedure.steps', 'procedure.documents', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online'] as const;

describe("the fake Bot API's HTML parser", () => {
  it.each([
    ['<b>đậm</b> <i>nghiêng</i> <a href="https://x.vn/?a=1&amp;b=2">liên kết</a>', 'đậm nghiêng liên kết'],
    ['a &lt; b &amp;&amp; c &gt; &quot;d&quot; &#65;&#x42;', 'a < b && c > "d" AB'],
    // Telegram keeps an ampersand that starts no entity it knows.
    ['Tom & Jerry &nbsp; &copy', 'Tom & Jerry &nbsp; &copy'],
    ['<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler><pre><code>z</code></pre>', 'xyz'],
  ])('accepts %s', (html, visible) => {
    expect(parseTelegramHtml(html)).toEqual({ ok: true, text: visible });
  });

  it.each([
    ['a < b', `can't parse entities: Unsupported start tag "" at byte offset 2`],
    ['<< Tiêu đề >>', `can't parse entities: Unsupported start tag "<" at byte offset 0`],
    ['<script>x</script>', `can't parse entities: Unsupported start tag "script" at byte offset 0`],
    ['đậm <b>x', `can't parse entities: Can't find end tag corresponding to start tag "b"`],
    ['<b>x</i>', `can't parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`],
    ['x</b>', `can't parse entities: Unexpected end tag at byte offset 1`],
    ['Lệ phí <b', `can't parse entities: Unclosed start tag at byte offset 10`],
    ['<b>x</b', `can't parse entities: Unclosed end tag at byte offset 4`],
    ['<a href>x</a>', `can't parse entities: Expected equal sign in declaration of an attribute of the tag "a" at byte offset 7`],
    ['<a href="x>y</a>', `can't parse entities: Unclosed start tag at byte offset 0`],
    ['<span>x</span>', `can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`],
  ])('refuses %s as Telegram does', (html, error) => {
    expect(parseTelegramHtml(html)).toEqual({ ok: false, error });
  });
});

/** Everything Telegram would check about one rendered message. */
function expectTelegramAccepts(m: TelegramMessage): void {
  const parsed = parseTelegramHtml(m.html);
  expect(parsed).toMatchObject({ ok: true });
  if (!parsed.ok) return;
  expect(parsed.text.trim().length).toBeGreaterThan(0);
  expect(parsed.text.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
  expect(m.plain.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
  for (const b of m.keyboard?.inline_keyboard.flat() ?? []) {
    expect(b.text.length).toBeGreaterThan(0);
    if ('callback_data' in b) {
      const bytes = Buffer.byteLength(b.callback_data, 'utf8');
      expect(bytes).toBeGreaterThanOrEqual(1);
      expect(bytes).toBeLessThanOrEqual(64);
    }
  }
}

describe('everything the bot renders for Telegram is accepted', () => {
  const v = knowledgeHolder().version;
  const k = v.knowledge;
  const render = (reply: Reply): TelegramMessage[] => renderReply(reply, k.replies, new CallbackPayloads());

  it('every bundled procedure, in every aspect, with the rating row', () => {
    let messages = 0;
    for (const p of k.procedures) {
      for (const aspect of ASPECTS) {
        const reply = composeProcedure(k, p, aspect, {});
        reply.rating = { procedure: p.id, intent: aspect };
        for (const m of render(reply)) {
          expectTelegramAccepts(m);
          messages++;
        }
      }
    }
    expect(messages).toBeGreaterThanOrEqual(k.procedures.length * ASPECTS.length);
  });

  it('every FAQ and every reply template', () => {
    for (const faq of k.faqs) for (const m of render(composeFaq(k, faq))) expectTelegramAccepts(m);
    const values = { code: '000.00.19.H04-250312-0007', ticket: 'HT-261126-0007', minutes: 5, aspect: 'lệ phí', text: 'Chào <anh> & chị', hotline: '1900 0000', nextOpen: '7:30 thứ Hai' };
    for (const key of REPLY_KEYS) {
      const text = fill(k.replies[key], values);
      if (!text.trim()) continue;
      for (const m of render({ text, options: [], links: [] })) expectTelegramAccepts(m);
    }
  });

  it('callback answers (the toast after a tap) fit 200 characters', () => {
    for (const key of ['telegramButtonExpired', 'staffReleased', 'staffUnknownTicket'] as const) {
      expect([...fill(k.replies[key], { ticket: 'HT-261126-0007' })].length).toBeLessThanOrEqual(200);
    }
  });

  it('any text a citizen or a staff member could type, with options and links', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 6000 }), fc.array(fc.string({ minLength: 1, maxLength: 80 }), { maxLength: 5 }), (text, labels) => {
        const reply: Reply = {
          text: text.trim() ? text : '…',
          options: labels.filter((l) => l.trim()).map((label, i) => ({ label, payload: `#p:${'x'.repeat(i * 20)}:procedure.fee` })),
          links: [{ title: text.slice(0, 30) || 'Cổng', url: 'https://dichvucong.gov.vn/p/home/dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=1&x="y"' }],
        };
        for (const m of render(reply)) expectTelegramAccepts(m);
      }),
      { numRuns: 150 },
    );
  });
});
