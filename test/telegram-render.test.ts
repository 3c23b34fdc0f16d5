/** Telegram rendering without a network: HTML escaping, splitting, callback data, deep links, group addressing. */
import fc from 'fast-check';
import type { Message } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { loadKnowledge, DEFAULT_KNOWLEDGE_DIR } from '../knowledge/load.ts';
import { addressedText, messageKind } from '../bot/channels/telegram.ts';
import {
  CALLBACK_DATA_LIMIT,
  CallbackPayloads,
  deepLink,
  deepLinkPayload,
  escapeTelegramHtml,
  procedureIdFromPayload,
  renderReply,
  splitText,
  TELEGRAM_TEXT_LIMIT,
} from '../bot/channels/telegram/render.ts';

const replies = { ratingAsk: 'Thông tin này có hữu ích với bạn không?', labels: { ratingYes: '👍 Hữu ích', ratingNo: '👎 Chưa hữu ích' } } as Parameters<typeof renderReply>[1];

describe('HTML rendering', () => {
  it('escapes <, > and & in text and " in link addresses', () => {
    expect(escapeTelegramHtml('a < b && c > "d"')).toBe('a &lt; b &amp;&amp; c &gt; &quot;d&quot;');
    const [m] = renderReply(
      { text: 'Mẫu <TK1-TS> & "tờ khai"', options: [], links: [{ title: 'Cổng <DVC>', url: 'https://x.vn/a?b=1&c="2"' }, { title: 'bad', url: 'javascript:alert(1)' }] },
      replies,
      new CallbackPayloads(),
    );
    expect(m?.html).toBe('Mẫu &lt;TK1-TS&gt; &amp; &quot;tờ khai&quot;\n\n🔗 <a href="https://x.vn/a?b=1&amp;c=&quot;2&quot;">Cổng &lt;DVC&gt;</a>');
    expect(m?.plain).toContain('🔗 Cổng <DVC>');
  });

  it('does not repeat a link already written in the text, and adds the rating question and buttons', () => {
    const url = 'https://dichvucong.gov.vn/p/1';
    const [m] = renderReply({ text: `Chi tiết: ${url}`, options: [{ label: 'Lệ phí', payload: '#p:a.b:procedure.fee' }], links: [{ title: 'Cổng', url }], rating: { procedure: 'a.b', intent: 'procedure.fee', answer: 3 } }, replies, new CallbackPayloads());
    expect(m?.html).toBe(`Chi tiết: ${url}\n\n<i>${replies.ratingAsk}</i>`);
    expect(m?.keyboard?.inline_keyboard).toEqual([
      [{ text: 'Lệ phí', callback_data: 'o:#p:a.b:procedure.fee' }],
      [
        { text: '👍 Hữu ích', callback_data: 'o:#r:1:3:procedure.fee:a.b' },
        { text: '👎 Chưa hữu ích', callback_data: 'o:#r:0:3:procedure.fee:a.b' },
      ],
    ]);
  });

  it('splits long replies under 4,096 characters on line boundaries, keyboard on the last part', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `☐ Giấy tờ số ${i} <bản chính> & bản sao`);
    const parts = renderReply({ text: lines.join('\n'), options: [{ label: 'A', payload: 'a' }], links: [] }, replies, new CallbackPayloads());
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.plain.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(parts.map((p) => p.plain).join('\n')).toBe(lines.join('\n'));
    expect(parts.every((p) => p.plain.split('\n').every((l) => lines.includes(l)))).toBe(true);
    expect(parts.slice(0, -1).every((p) => !p.keyboard)).toBe(true);
    expect(parts.at(-1)?.keyboard).toBeDefined();
  });

  it('cuts a single overlong line without breaking an emoji', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', ' ', '\n', '😀', 'ệ', '<', '&'), { maxLength: 600 }), fc.integer({ min: 8, max: 80 }), (chars, limit) => {
        const text = chars.join('');
        const chunks = splitText(text, limit);
        for (const c of chunks) {
          expect(c.length).toBeLessThanOrEqual(limit);
          expect(c.isWellFormed()).toBe(true);
          expect(c.trim().length).toBeGreaterThan(0);
        }
        // Nothing but whitespace is lost.
        expect(chunks.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
    );
  });
});

describe('callback data', () => {
  it('keeps short payloads inline and maps long ones through a short key', () => {
    const cb = new CallbackPayloads();
    expect(cb.encode('#p:ho-tich.khai-sinh:procedure.fee')).toBe('o:#p:ho-tich.khai-sinh:procedure.fee');
    const long = `theo dõi hồ sơ 000.00.19.H04-250312-0007 và báo cho tôi khi có kết quả nhé`;
    const data = cb.encode(long);
    expect(data.startsWith('k:')).toBe(true);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(CALLBACK_DATA_LIMIT);
    expect(cb.decode(data)).toBe(long);
    expect(cb.decode('k:unknown')).toBeNull();
    expect(cb.decode('s:rel:HT-1')).toBeNull();
    // Bytes, not characters: 30 Vietnamese letters are more than 64 bytes.
    const accented = 'ệ'.repeat(30);
    expect(cb.encode(accented).startsWith('k:')).toBe(true);
  });

  it('forgets the oldest keys past its bound', () => {
    const cb = new CallbackPayloads(2);
    const keys = ['x'.repeat(70), 'y'.repeat(70), 'z'.repeat(70)].map((p) => cb.encode(p));
    expect(cb.decode(keys[0] as string)).toBeNull();
    expect(cb.decode(keys[2] as string)).toBe('z'.repeat(70));
  });
});

describe('deep links', () => {
  it('round-trips every procedure id in the knowledge base and national codes', () => {
    const k = loadKnowledge(DEFAULT_KNOWLEDGE_DIR).knowledge;
    const ids = [...(k?.procedures.map((p) => p.id) ?? []), '1.001193'];
    expect(ids.length).toBeGreaterThan(30);
    for (const id of ids) {
      const payload = deepLinkPayload(id);
      expect(payload).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(procedureIdFromPayload(payload as string)).toBe(id);
    }
    expect(deepLinkPayload('ho-tich.khai-sinh')).toBe('ho-tich__khai-sinh');
    expect(deepLink('@tthc_bot', 'ho-tich.khai-sinh')).toBe('https://t.me/tthc_bot?start=ho-tich__khai-sinh');
  });

  it('refuses what cannot be carried or named', () => {
    expect(deepLinkPayload(`a.${'b'.repeat(70)}`)).toBeNull();
    expect(deepLinkPayload('có dấu.x')).toBeNull();
    expect(procedureIdFromPayload('plain-start')).toBeNull();
    expect(procedureIdFromPayload('a__b<script>')).toBeNull();
    expect(procedureIdFromPayload('x'.repeat(65))).toBeNull();
  });
});

describe('group addressing and message kinds', () => {
  const me = { id: 42, username: 'tthc_bot' };
  const group = { id: -5, type: 'group', title: 'g' } as const;
  const msg = (m: Partial<Message>): Message => ({ message_id: 1, date: 0, chat: group, ...m }) as Message;

  it('answers mentions, replies to the bot and commands; strips the mention', () => {
    expect(addressedText(msg({ text: 'lệ phí hộ chiếu' }), me)).toEqual({ addressed: false, text: 'lệ phí hộ chiếu' });
    expect(addressedText(msg({ text: 'hỏi @TTHC_bot lệ phí', entities: [{ type: 'mention', offset: 4, length: 9 }] }), me)).toEqual({ addressed: true, text: 'hỏi lệ phí' });
    expect(addressedText(msg({ text: '@other_bot lệ phí', entities: [{ type: 'mention', offset: 0, length: 10 }] }), me).addressed).toBe(false);
    expect(addressedText(msg({ text: 'Bot ơi lệ phí', entities: [{ type: 'text_mention', offset: 0, length: 3, user: { id: 42, is_bot: true, first_name: 'Bot' } }] }), me)).toEqual({ addressed: true, text: 'ơi lệ phí' });
    expect(addressedText(msg({ text: 'thế lệ phí?', reply_to_message: { message_id: 9, date: 0, chat: group, from: { id: 42, is_bot: true, first_name: 'b' } } as Message['reply_to_message'] }), me).addressed).toBe(true);
    expect(addressedText(msg({ text: '/help@tthc_bot', entities: [{ type: 'bot_command', offset: 0, length: 14 }] }), me).addressed).toBe(true);
    expect(addressedText(msg({ text: '/help@other_bot', entities: [{ type: 'bot_command', offset: 0, length: 15 }] }), me).addressed).toBe(false);
    expect(addressedText({ ...msg({ text: 'xin chào' }), chat: { id: 1, type: 'private', first_name: 'a' } } as Message, me).addressed).toBe(true);
  });

  it('classifies non-text messages', () => {
    expect(messageKind(msg({ text: 'x' }))).toBe('text');
    expect(messageKind(msg({ photo: [] }))).toBe('image');
    expect(messageKind(msg({ voice: { file_id: 'v', file_unique_id: 'v', duration: 1 } }))).toBe('voice');
    expect(messageKind(msg({ document: { file_id: 'd', file_unique_id: 'd' } }))).toBe('file');
    expect(messageKind(msg({ location: { latitude: 1, longitude: 2 } }))).toBe('location');
    expect(messageKind(msg({}))).toBe('other');
  });
});
