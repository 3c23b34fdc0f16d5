/**
 * Replies a citizen can read on a phone (~450 characters a screen), through the dialogue
 * engine on the bundled knowledge: the answer first, special cases behind an option, the
 * sources line once per procedure, links as links, options once, short follow-ups.
 */
import { describe, expect, it } from 'vitest';
import { COMPOSE_LIMITS, gist, shortLegalName, sourcesLine } from '../bot/dialogue/compose.ts';
import { plainText, type Reply } from '../bot/dialogue/types.ts';
import { knowledgeHolder, testAssistant } from './helpers/assistant.ts';

const replies = () => knowledgeHolder().version.knowledge.replies;
const SOURCES = /^Căn cứ: /m;
const URL = /https?:\/\//;

function repeatedLine(r: Reply): string | undefined {
  const seen = new Set<string>();
  for (const l of plainText(r).split('\n').map((x) => x.trim()).filter((x) => x.length > 3)) {
    if (seen.has(l)) return l;
    seen.add(l);
  }
  return undefined;
}

describe('documents', () => {
  it('start with the form, keep special cases behind an option, and tapping it shows them', async () => {
    const a = testAssistant();
    const t = await a.say('c', 'đăng ký khai sinh cần giấy tờ gì');
    const lines = t.reply!.text.split('\n');
    expect(lines[0]).toBe('Hồ sơ cần chuẩn bị — Đăng ký khai sinh:');
    expect(lines.find((l) => l.startsWith('☐'))).toMatch(/^☐ Tờ khai đăng ký khai sinh/);
    expect(t.reply!.text).not.toContain('trẻ bị bỏ rơi');
    const special = t.reply!.options.find((o) => o.label === 'Trường hợp đặc biệt (3)');
    expect(special).toBeDefined();
    const more = await a.say('c', special!.payload);
    expect(more.reply!.text).toContain('trẻ bị bỏ rơi');
    expect(more.reply!.text).not.toContain('☐ Tờ khai đăng ký khai sinh');
    // From the special cases the main list is one tap away.
    expect(more.reply!.options.map((o) => o.label)).toContain('Giấy tờ cần mang');
  });

  it('give each situation its own option when there are a few (thường trú: own house, relatives, renting)', async () => {
    const a = testAssistant();
    const t = await a.say('c', 'đăng ký thường trú cần gì');
    const labels = t.reply!.options.map((o) => o.label);
    expect(labels.slice(0, 3)).toEqual(['Trường hợp ở nhà của mình (1)', 'Trường hợp về ở với người thân (1)', 'Trường hợp nhà thuê, mượn, ở nhờ (2)']);
    const renting = await a.say('c', '3');
    expect(renting.reply!.text.split('\n')[0]).toMatch(/^Trường hợp nhà thuê, mượn, ở nhờ — Đăng ký thường trú:/);
    expect(renting.reply!.text).toContain('Hợp đồng hoặc văn bản cho thuê');
  });
});

describe('sources, links and options', () => {
  it('show the sources line once per procedure, then a "Nguồn" option with the full list and the portal link', async () => {
    const a = testAssistant();
    const first = await a.say('c', 'đăng ký kết hôn cần gì');
    const line = first.reply!.text.split('\n').find((l) => SOURCES.test(l))!;
    expect(line.length).toBeLessThanOrEqual(COMPOSE_LIMITS.sourcesLine);
    expect(first.reply!.options.map((o) => o.label)).not.toContain('Nguồn');
    const fee = await a.say('c', 'thế lệ phí bao nhiêu');
    expect(fee.reply!.text).not.toMatch(SOURCES);
    const nguon = fee.reply!.options.find((o) => o.label === 'Nguồn')!;
    const sources = await a.say('c', nguon.payload);
    expect(sources.reply!.text).toMatch(/^Nguồn — Đăng ký kết hôn:/);
    expect(sources.reply!.text).toContain('60/2014/QH13');
    expect(sources.reply!.text).toMatch(/Thông tin cập nhật ngày \d{2}\/\d{2}\/\d{4}/);
    expect(sources.reply!.links[0]?.url).toMatch(/^https:\/\/dichvucong\.gov\.vn\//);
    // Another procedure gets its own sources line.
    const other = await a.say('c', 'còn làm căn cước thì cần gì');
    expect(other.reply!.text).toMatch(SOURCES);
  });

  it('never paste a web address into the text: the portal is a link (a button on web and Telegram, an address on Zalo)', async () => {
    const a = testAssistant();
    const online = await a.say('c', 'khai sinh nộp trực tuyến được không');
    expect(online.intent).toBe('procedure.online');
    expect(online.reply!.text).not.toMatch(URL);
    expect(online.reply!.links.length).toBeGreaterThan(0);
    expect(plainText(online.reply!)).toContain(online.reply!.links[0]!.url);
  });

  it('list options once: buttons carry them, and only the plain rendering numbers them', async () => {
    const a = testAssistant();
    for (const q of ['làm hộ chiếu', 'lệ phí bao nhiêu', 'xin chào']) {
      const t = await a.say(q, q);
      expect(t.reply!.options.length, q).toBeGreaterThan(0);
      expect(t.reply!.text, q).not.toMatch(/^1\. /m);
      const plain = plainText(t.reply!);
      t.reply!.options.forEach((o, i) => expect(plain, q).toContain(`${i + 1}. ${o.label}`));
    }
  });

  it('cut the sources line to its limit whatever the legal texts are called', () => {
    const long = Array.from({ length: 9 }, (_, i) => ({ code: `${i + 10}/2025/NĐ-CP`, name: 'Nghị định rất dài '.repeat(10) }));
    const line = sourcesLine(replies(), long, '2026-06-10', true);
    expect(line.length).toBeLessThanOrEqual(COMPOSE_LIMITS.sourcesLine);
    expect(line).toContain('dữ liệu ngày 10/06/2026, chưa được cán bộ rà soát');
    expect(shortLegalName({ code: '60/2014/QH13', name: 'Luật Hộ tịch' })).toBe('Luật Hộ tịch 2014');
    expect(shortLegalName({ code: '76/2025/QH15', name: 'Luật sửa đổi, bổ sung một số điều của Luật Doanh nghiệp' })).toBe('Luật 76/2025/QH15');
    expect(shortLegalName({ code: '123/2015/NĐ-CP' })).toBe('Nghị định 123/2015/NĐ-CP');
  });

  it('gist keeps a short first sentence and cuts a long one at a word', () => {
    expect(gist('Một câu ngắn. Câu thứ hai dài hơn nhiều so với giới hạn cho phép của một dòng tóm tắt trên điện thoại.', 30)).toBe('Một câu ngắn.');
    expect(gist('a '.repeat(100), 21)).toMatch(/^(a ){9}a…$/);
    // No number left hanging, no bracket left open.
    expect(gist('Cấp đổi khoảng 5 ngày làm việc, cấp lại do mất tối đa 20 ngày làm việc kể từ khi nhận hồ sơ', 60)).toBe('Cấp đổi khoảng 5 ngày làm việc…');
    expect(gist('Cấp thẻ lần đầu (kể cả người trước đây chỉ có chứng minh nhân dân, và trẻ em): không thu', 60)).toBe('Cấp thẻ lần đầu…');
  });
});

describe('follow-ups and fees', () => {
  it('a follow-up answers in a few lines without repeating the footer', async () => {
    const a = testAssistant();
    await a.say('c', 'đăng ký khai sinh cần giấy tờ gì');
    const fee = await a.say('c', 'thế lệ phí bao nhiêu');
    expect(fee.intent).toBe('procedure.fee');
    expect(fee.reply!.text.split('\n')[0]).toBe('Phí, lệ phí — Đăng ký khai sinh:');
    expect(fee.reply!.text).not.toMatch(SOURCES);
    expect(fee.reply!.text).not.toMatch(URL);
    expect(plainText(fee.reply!).length).toBeLessThan(COMPOSE_LIMITS.screen + 150);
  });

  it('a fee set by the province says "do HĐND tỉnh quy định" once, with one caveat line', async () => {
    const a = testAssistant();
    const t = await a.say('c', 'lệ phí đăng ký hộ kinh doanh');
    const fees = t.reply!.text.split('\n').filter((l) => l.startsWith('• '));
    expect(fees.length).toBeGreaterThan(0);
    expect(fees.every((l) => !/HĐND/.test(l))).toBe(true);
    expect(fees.every((l) => l.includes(replies().feeByProvinceShort))).toBe(true);
    // One caveat line (here the entry's own province note, which replaces the template).
    expect(t.reply!.text.split('\n').filter((l) => /HĐND tỉnh quy định/.test(l))).toHaveLength(1);
  });

  it('channels with the same fee share one line', async () => {
    const a = testAssistant();
    const t = await a.say('c', 'lệ phí cấp lại thẻ bảo hiểm y tế');
    const bullets = t.reply!.text.split('\n').filter((l) => l.startsWith('• '));
    expect(new Set(bullets).size).toBe(bullets.length);
  });
});

describe('every procedure answer of the bundled knowledge', () => {
  it('fits the phone budget and repeats no line', async () => {
    const a = testAssistant();
    const k = knowledgeHolder().version.knowledge;
    const aspects = ['procedure.overview', 'procedure.documents', 'procedure.steps', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online'];
    const lengths: number[] = [];
    for (const p of k.procedures) {
      for (const aspect of aspects) {
        const t = await a.say(`${p.id}-${aspect}`, `#p:${p.id}:${aspect}`);
        expect(repeatedLine(t.reply!), `${p.id} ${aspect}`).toBeUndefined();
        expect(t.reply!.text, `${p.id} ${aspect}`).not.toMatch(URL);
        lengths.push(plainText(t.reply!).length);
      }
    }
    lengths.sort((x, y) => x - y);
    // Measured on 2026-12-02 (every aspect of the 39 curated procedures, first answer of a
    // conversation): median 643, p90 911. The bounds leave room for knowledge edits.
    expect(lengths[Math.floor(lengths.length / 2)]).toBeLessThanOrEqual(750);
    expect(lengths[Math.floor(lengths.length * 0.9)]).toBeLessThanOrEqual(1200);
  });
});
