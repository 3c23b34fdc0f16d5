/**
 * The review inbox end to end: the assistant records what it could not answer (without
 * personal data), `kb review` groups similar messages with the assistant's guess,
 * `add-alias` / `add-example` fold them into the data (comments kept, duplicates and
 * invalid edits refused), and `kb test` shows which answers changed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAssistant, KnowledgeHolder } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { JsonlReviewSink, reviewText } from '../bot/review.ts';
import { addAlias, addExample, groupReview, readReviewFile, type ReviewEntry } from '../knowledge/review.ts';
import { formatKbTest, runKbTest } from '../scripts/kbtest.ts';
import { runScript, tempKnowledge } from './helpers/staff.ts';

let kb: ReturnType<typeof tempKnowledge>;
beforeAll(() => {
  kb = tempKnowledge();
});
afterAll(() => kb.cleanup());

const entry = (text: string, extra: Partial<ReviewEntry> = {}): ReviewEntry => ({
  at: '2026-11-20T08:00:00.000Z',
  channel: 'zalo',
  reason: 'unmatched',
  intent: 'out_of_scope',
  procedure: null,
  confidence: 0.2,
  text,
  ...extra,
});

describe('review inbox', () => {
  it('records unmatched messages from the assistant without phone, ID or dossier numbers', async () => {
    const path = join(kb.data, 'review.jsonl');
    const holder = new KnowledgeHolder({ knowledgeDir: kb.knowledge, intentsDir: kb.intents });
    const { engine } = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: kb.data }), { holder, memoryTickets: true, review: new JsonlReviewSink(path) });
    await engine.handle({ channel: 'zalo', conversationId: 'c1', userId: 'zalo-user-987654', messageId: 'm1', text: 'con mèo nhà tôi tên gì, gọi 0912 345 678 nhé', kind: 'text' });
    const { entries } = readReviewFile(path);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ channel: 'zalo', reason: 'unmatched' });
    const raw = readFileSync(path, 'utf8');
    expect(raw).not.toMatch(/0912|345 678|zalo-user|c1/);
    const masked = reviewText('cccd 001203004567, hồ sơ 000.00.19.H04-250312-0007, mail an@vi.vn');
    expect(masked).not.toMatch(/\d{4}|H04|an@vi/);
    expect(masked).toMatch(/cccd .*\[.+\], hồ sơ \[mã hồ sơ\], mail \[email\]/);
  });

  it('groups near-duplicate wordings with counts and the commonest guess', () => {
    const groups = groupReview([
      entry('lam giay khai sinh cho be', { intent: 'procedure.overview', procedure: 'ho-tich.khai-sinh', reason: 'low-confidence', confidence: 0.4 }),
      entry('làm giấy khai sinh cho bé', { intent: 'procedure.overview', procedure: 'ho-tich.khai-sinh', reason: 'low-confidence', confidence: 0.4 }),
      entry('Làm giấy khai sinh cho bé ạ!!', { channel: 'web' }),
      entry('xin mẫu đơn ly hôn'),
      entry('lam giay khai sinh cho be', { intent: 'procedure.overview', procedure: 'ho-tich.khai-sinh', reason: 'low-confidence', confidence: 0.5 }),
    ]);
    expect(groups.map((g) => g.count)).toEqual([4, 1]);
    expect(groups[0]?.text).toBe('lam giay khai sinh cho be');
    expect(groups[0]?.guess).toMatchObject({ intent: 'procedure.overview', procedure: 'ho-tich.khai-sinh' });
    expect(groups[0]?.reasons).toEqual({ 'low-confidence': 3, unmatched: 1 });
    expect(groups[1]?.text).toBe('xin mẫu đơn ly hôn');
  });

  it('kb review lists groups with a suggested command', async () => {
    const data = join(kb.root, 'review-data');
    const sink = new JsonlReviewSink(join(data, 'review.jsonl'));
    for (const t of ['cấp sổ hồng lần đầu', 'cap so hong lan dau', 'cấp sổ hồng lần đầu']) sink.record({ text: t, intent: 'procedure.overview', procedure: 'dat-dai.cap-lan-dau', confidence: 0.3, reason: 'low-confidence', channel: 'telegram', at: Date.now() });
    const run = await runScript('kb.ts', ['review', '--dir', kb.knowledge], { DATA_DIR: data });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/1\. 3 lần — «cấp sổ hồng lần đầu»/);
    expect(run.stdout).toMatch(/Cách viết khác: «cap so hong lan dau»/);
    expect(run.stdout).toMatch(/npm run kb -- add-alias dat-dai\.cap-lan-dau "cấp sổ hồng lần đầu"/);
  });
});

describe('folding review results into the data', () => {
  it('adds an alias, keeps comments, and refuses duplicates and unknown ids', async () => {
    const file = join(kb.knowledge, 'procedures', 'ho-tich.khai-sinh.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('aliases:\n', 'aliases: # cách người dân gọi\n'));
    const run = await runScript('kb.ts', ['add-alias', 'ho-tich.khai-sinh', 'khai sinh cho em bé mới đẻ', '--dir', kb.knowledge]);
    expect(run.stdout).toMatch(/Đã thêm tên gọi "khai sinh cho em bé mới đẻ" vào thủ tục ho-tich\.khai-sinh/);
    expect(run.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# cách người dân gọi');
    // Entries that did not change keep their exact text (flow lists, folded paragraphs).
    expect(text).toContain('keywords: [giấy chứng sinh, trẻ mới sinh, em bé mới sinh]');
    expect(text).toContain('summary: >-\n  Cha, mẹ (hoặc ông bà');
    expect(parse(text).aliases.at(-1)).toBe('khai sinh cho em bé mới đẻ');

    expect(addAlias(kb.knowledge, 'ho-tich.khai-sinh', 'KHAI SINH CHO EM BE MOI DE')).toMatchObject({ ok: false, message: expect.stringMatching(/đã có "khai sinh cho em bé mới đẻ"/) });
    expect(addAlias(kb.knowledge, 'ho-tich.ket-hon', 'làm giấy khai sinh')).toMatchObject({ ok: false, message: expect.stringMatching(/của thủ tục ho-tich\.khai-sinh/) });
    expect(addAlias(kb.knowledge, 'ho-tich.khong-co', 'gì đó')).toMatchObject({ ok: false, message: expect.stringMatching(/Không có thủ tục mã/) });
  });

  it('undoes an alias the validator rejects', () => {
    const file = join(kb.knowledge, 'procedures', 'ho-tich.ket-hon.yaml');
    const before = readFileSync(file, 'utf8');
    const r = addAlias(kb.knowledge, 'ho-tich.ket-hon', 'đăng ký kết hôn ở UBND huyện');
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/hoàn tác/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('adds an intent example and refuses one another intent already has', async () => {
    const r = addExample(kb.intents, 'procedure.fee', 'hết bao nhiêu xiền vậy ad');
    expect(r).toMatchObject({ ok: true });
    expect(parse(readFileSync(join(kb.intents, 'examples.yaml'), 'utf8')).intents['procedure.fee']).toContain('hết bao nhiêu xiền vậy ad');
    expect(readFileSync(join(kb.intents, 'examples.yaml'), 'utf8')).toMatch(/^# Câu mẫu cho từng ý định/m);
    const greeting = parse(readFileSync(join(kb.intents, 'examples.yaml'), 'utf8')).intents.greeting[0] as string;
    expect(addExample(kb.intents, 'thanks', greeting.toUpperCase())).toMatchObject({ ok: false, message: expect.stringMatching(/ý định greeting/) });
    expect(addExample(kb.intents, 'khong-co', 'abc')).toMatchObject({ ok: false, message: expect.stringMatching(/Không có ý định/) });
  });
});

describe('kb test', () => {
  it('scores the golden cases and shows which answers changed since the last run', async () => {
    const golden = join(kb.root, 'golden.jsonl');
    writeFileSync(
      golden,
      [
        { conv: 'g1', text: 'lệ phí đăng ký khai sinh', intents: ['procedure.fee'], procedure: ['ho-tich.khai-sinh'] },
        { conv: 'g2', text: 'xin chào', intent: 'greeting' },
        { conv: 'g3', text: 'đăng ký kết hôn ở đâu', intents: ['procedure.location'], procedure: ['ho-tich.ket-hon'] },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: join(kb.root, 'kbtest'), KNOWLEDGE_DIR: kb.knowledge });
    const opts = { config, golden, dev: join(kb.root, 'no-dev.jsonl'), knowledgeDirs: [kb.knowledge, kb.intents] };
    const first = await runKbTest(opts);
    expect(first.sets[0]).toMatchObject({ name: 'golden', total: 3, passed: 3 });
    expect(first.previous).toBeUndefined();
    expect(existsSync(join(kb.root, 'kbtest', 'kb-test-last.json'))).toBe(true);

    const file = join(kb.knowledge, 'procedures', 'ho-tich.khai-sinh.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('fee: Miễn lệ phí khi đăng ký đúng hạn.\n', 'fee: Miễn lệ phí khi đăng ký đúng hạn (trong 60 ngày).\n'));
    const second = await runKbTest(opts);
    expect(second.previous?.fingerprint).toBe(first.fingerprint);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.changes.map((c) => [c.key, c.fields])).toEqual([['golden:1', ['reply']]]);
    const text = formatKbTest(second);
    expect(text).toMatch(/Bộ câu chuẩn \(golden\) .*: 3\/3 đúng\./);
    expect(text).toMatch(/Câu trả lời thay đổi so với lần trước: 1\./);
    expect(text).toMatch(/\[golden:1\] «lệ phí đăng ký khai sinh»: chỉ lời trả lời đổi \(vẫn đúng\)/);
    expect(text).toMatch(/Không thấy .*no-dev\.jsonl/);
  });
});
