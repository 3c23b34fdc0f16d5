/**
 * Personal data where staff and operators read it: names masked in ticket reasons and
 * excerpts, the staff-group post and the review inbox; the rating payload validated;
 * control characters never stored or printed; review.jsonl and dossiers.sqlite private.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Api } from 'grammy';
import { afterAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { StaffDesk } from '../bot/channels/telegram/staff.ts';
import { loadConfig } from '../bot/config.ts';
import { openDossierDatabase } from '../bot/dossier/sqlite.ts';
import { maskNames, redact, stripControl } from '../bot/privacy.ts';
import { parseRating } from '../bot/rating.ts';
import { JsonlReviewSink } from '../bot/review.ts';
import { knowledgeHolder, OPEN_TIME, testAssistant } from './helpers/assistant.ts';

const ESC = String.fromCharCode(27);
const dir = mkdtempSync(join(tmpdir(), 'tthc-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('names in free text', () => {
  it.each([
    ['tên tôi là Nguyễn Văn An, sđt 0912345678', 'tên tôi là Nguyễn V** A*, sđt [sđt]'],
    ['toi ten la nguyen van an muon hoi ve khai sinh', 'toi ten la nguyen v** a* muon hoi ve khai sinh'],
    ['Em là Trần Thị Bình ạ', 'Em là Trần T** B*** ạ'],
    ['họ và tên: Lê Minh Tuấn', 'họ và tên: Lê M*** T***'],
    ['người nộp hồ sơ Hoàng Văn Nam', 'người nộp hồ sơ Hoàng V** N**'],
    ['Chị Phạm Thu Hà ở đường Lê Lợi, Hà Nội muốn đăng ký kết hôn', 'Chị Phạm T** H* ở đường Lê Lợi, Hà Nội muốn đăng ký kết hôn'],
  ])('masks %s', (text, masked) => {
    expect(redact(text)).toBe(masked);
  });

  it.each(['tôi là sinh viên năm 2', 'tên trong giấy khai sinh bị sai', 'Thành phố Hồ Chí Minh', 'Mai tôi đến nộp', 'đăng ký khai sinh cần giấy tờ gì'])('leaves %s alone', (text) => {
    expect(redact(text)).toBe(text);
  });

  it("masks the citizen's own display name wherever two of its words appear", () => {
    expect(maskNames('anh Văn An gọi lại giúp, An đây', ['Nguyễn Văn An'])).toBe('anh V** A* gọi lại giúp, An đây');
  });
});

describe('control characters', () => {
  it('are removed before anything is stored or printed; newlines stay', () => {
    expect(stripControl('a\u001b[31mđỏ\u001b[0m\r\nb\u202Ec\u009b\u0007')).toBe('a[31mđỏ[0m\nbc');
    expect(redact('xin chào\u001b]0;pwned\u0007')).toBe('xin chào]0;pwned');
  });
});

describe('the rating payload', () => {
  it('accepts only the shape the buttons carry', () => {
    expect(parseRating('#r:0:procedure.fee')).toEqual({ helpful: false, intent: 'procedure.fee' });
    expect(parseRating('#r:1:procedure.documents')).toEqual({ helpful: true, intent: 'procedure.documents' });
    expect(parseRating('#r:0:3:procedure.fee:ho-tich.khai-sinh')).toEqual({ helpful: false, intent: 'procedure.fee', answer: 3, id: 'ho-tich.khai-sinh' });
    expect(parseRating('#r:1:2:faq:gio-lam-viec')).toEqual({ helpful: true, intent: 'faq', answer: 2, id: 'gio-lam-viec' });
    expect(parseRating('#r:1:7:procedure.online:1.001193')).toEqual({ helpful: true, intent: 'procedure.online', answer: 7, id: '1.001193' });
    for (const bad of [
      '#r:0:0912345678', '#r:2:procedure.fee', '#r:0:procedure.fee:x', '#r:0:\u001b[2J', '#r:0:', '#r:0:procedure.fees', '#r:0:faq',
      '#r:0:1:procedure.fee:tôi là Lê Văn Tám 0912345678', '#r:0:x:procedure.fee:a', '#r:0:1:procedure.fee:a:b', '#r:0:1:nonsense:a', '#r:0:1:procedure.fee:\u001b[2J',
    ]) expect(parseRating(bad)).toBeNull();
  });
});

describe('tickets, the staff post and the review inbox', () => {
  it('a hand-off from a citizen who gives their name: masked in the reason, the excerpt and the staff post', async () => {
    const a = testAssistant({ now: () => OPEN_TIME });
    const userName = 'Trần Thị Bình';
    await a.say('c1', 'chào bạn, tôi là Trần Thị Bình', { userName });
    const t = await a.say('c1', 'cho tôi gặp cán bộ \u001b[2J', { userName });
    expect(t.ticket).toBeDefined();
    const ticket = t.ticket!;
    expect(ticket.excerpt.map((e) => e.text)).toEqual(expect.arrayContaining(['chào bạn, tôi là Trần T** B***']));
    const stored = [ticket.citizen, ticket.reason, ...ticket.excerpt.map((e) => e.text)].join('\n');
    expect(stored).not.toContain('Thị Bình');
    expect(stored).not.toContain(ESC);
    expect(ticket.citizen).toBe('Trần T** B***');
    const posts: string[] = [];
    const api = { sendMessage: async (_chat: number, text: string) => (posts.push(text), { message_id: 1 }) } as unknown as Api;
    const desk = new StaffDesk({ api, chatId: '-100', tickets: a.tickets, engine: a.engine, pipeline: { push: async () => undefined }, replies: () => a.holder.version.knowledge.replies });
    await desk.notify(ticket);
    expect(posts[0]).toContain('Trần T** B***');
    expect(posts[0]).not.toContain('Thị Bình');
    expect(posts[0]).not.toContain(ESC);
  });

  it('the review inbox: names masked, labels validated, controls stripped, file 0600', () => {
    const path = join(dir, 'review.jsonl');
    const sink = new JsonlReviewSink(path);
    sink.record({ text: 'tôi là Lê Văn Tám \u001b[31m hỏi 0912345678', intent: 'procedure.fee\u001b[2J', procedure: 'ho-tich.khai-sinh', confidence: 0.3, reason: 'unmatched', channel: 'web', at: OPEN_TIME });
    const line = JSON.parse(readFileSync(path, 'utf8').trim()) as Record<string, unknown>;
    expect(line.text).toBe('tôi là Lê V** T** [31m hỏi [sđt]');
    expect(line.intent).toBe('procedure.fee[2J');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('an unhelpful rating records the aspect; a forged rating payload records nothing as a rating', async () => {
    const records: { intent: string; reason: string; text: string }[] = [];
    const holder = knowledgeHolder();
    const parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory' }), { holder, memoryTickets: true, review: { record: (r) => records.push(r) }, now: () => OPEN_TIME });
    let seq = 0;
    const say = (text: string) => parts.engine.handle({ channel: 'web', conversationId: 'r', userId: 'u', messageId: `m${++seq}`, text, kind: 'text' });
    const thanks = holder.version.knowledge.replies.ratingThanks;
    await say('lệ phí đăng ký khai sinh');
    expect((await say('#r:0:procedure.fee')).reply?.text).toBe(thanks);
    expect(records.filter((r) => r.reason === 'unhelpful').map((r) => r.intent)).toEqual(['procedure.fee']);
    const forged = await say('#r:0:0912345678\u001b[2J');
    expect(forged.reply?.text).not.toBe(thanks);
    expect(records.filter((r) => r.reason === 'unhelpful')).toHaveLength(1);
    const recorded = records.map((r) => `${r.intent} ${r.text}`).join('\n');
    expect(recorded).not.toContain('0912345678');
    expect(recorded).not.toContain(ESC);
  });
});

describe('files with personal data', () => {
  it('dossiers.sqlite and its WAL files are created readable by the owner only', () => {
    const file = join(dir, 'data', 'dossiers.sqlite');
    const db = openDossierDatabase(file);
    db.exec('CREATE TABLE t (x TEXT); INSERT INTO t VALUES (1)');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
    db.close();
  });
});
