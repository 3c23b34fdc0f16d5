/**
 * Knowledge editing for staff: the teach guard (a change that flips a golden answer is
 * refused with the list, unless forced — the staff guide's old `add-example` example is
 * one; its new example passes), FAQ and procedure edits with the validator's own
 * messages, a preview of the answer, saves that keep comments, go live through the reload
 * and keep history (diff, restore), and the CLI faces.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeHolder } from '../bot/assistant.ts';
import { AuditLog } from '../bot/staff/audit.ts';
import { TeachGuard } from '../bot/staff/guard.ts';
import { diffLines, formatDiff, KnowledgeHistory } from '../bot/staff/history.ts';
import { KnowledgeEditor } from '../bot/staff/knowledge-editor.ts';
import { openStaffDatabase } from '../bot/staff/accounts.ts';
import { exportSheet, SHEET_NAMES } from '../knowledge/sheet.ts';
import { ROOT, runScript, tempKnowledge } from './helpers/staff.ts';

const kb = tempKnowledge();
const source = { knowledgeDir: kb.knowledge, intentsDir: kb.intents };
let holder: KnowledgeHolder;
let editor: KnowledgeEditor;
let history: KnowledgeHistory;
let audit: AuditLog;
let reloads = 0;
// The golden table only (the shared dev set is optional and never required by npm test).
const guard = new TeachGuard({ dev: null });

beforeAll(() => {
  holder = new KnowledgeHolder(source);
  const db = new Database(':memory:');
  history = new KnowledgeHistory(db);
  audit = new AuditLog(db);
  editor = new KnowledgeEditor({
    source,
    live: () => holder.version,
    history,
    guard,
    audit,
    onSaved: () => {
      reloads++;
      expect(holder.reload().ok).toBe(true);
    },
  });
});

afterAll(() => kb.cleanup());

const examples = () => readFileSync(join(kb.intents, 'examples.yaml'), 'utf8');

describe('teach guard', () => {
  it("refuses the staff guide's old example, listing the golden case it flips, and saves it only when forced", async () => {
    const before = examples();
    const draft = editor.draftExample('procedure.fee', 'hết bao nhiêu tiền vậy');
    expect(draft.ok).toBe(true);
    expect(draft.diff[0]?.lines.filter((l) => l.op === '+').map((l) => l.text.trim())).toEqual(['- hết bao nhiêu tiền vậy']);
    const report = await editor.check(draft.id);
    expect(report?.changes.length).toBeGreaterThan(0);
    expect(report?.changes.every((c) => c.set === 'golden')).toBe(true);
    expect(report?.changes.some((c) => c.passedBefore && !c.passedAfter)).toBe(true);
    const refused = await editor.save(draft.id, { actor: 'lan' });
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/Thay đổi này làm đổi câu trả lời của \d+ câu kiểm tra/);
    expect(refused.message).toContain(`[${report?.changes[0]?.key}]`);
    expect(refused.message).toContain('NAY SAI');
    expect(examples()).toBe(before);

    const forced = await editor.save(draft.id, { actor: 'lan', force: true });
    expect(forced.ok).toBe(true);
    expect(examples()).toContain('hết bao nhiêu tiền vậy');
    expect(audit.list({ action: 'knowledge.' })[0]).toMatchObject({ actor: 'lan', action: 'knowledge.example', target: 'examples.yaml' });
    // Put it back for the other tests (restore is a recorded save too).
    const restore = editor.draftRestore(forced.versions[0] as number, 'before');
    expect((await editor.save(restore.id, { actor: 'lan', force: true })).ok).toBe(true);
    expect(examples()).toBe(before);
  });

  it("passes the staff guide's example as written in HUONG-DAN.md", async () => {
    const guide = readFileSync(join(ROOT, 'knowledge', 'HUONG-DAN.md'), 'utf8');
    const m = /npm run kb -- add-example (\S+) "([^"]+)"/.exec(guide);
    expect(m).not.toBeNull();
    const draft = editor.draftExample(m?.[1] as string, m?.[2] as string);
    expect(draft.ok).toBe(true);
    expect((await editor.check(draft.id))?.changes).toEqual([]);
  });

  it('works with knowledge folders given as relative paths (KNOWLEDGE_DIR=./…)', () => {
    const rel = { knowledgeDir: `./${relative(process.cwd(), kb.knowledge)}`, intentsDir: `./${relative(process.cwd(), kb.intents)}` };
    const e = new KnowledgeEditor({ source: rel, live: () => holder.version, history, guard });
    const d = e.draftAlias('ho-tich.khai-sinh', 'giấy khai sinh cho bé');
    expect(d.errors).toEqual([]);
    expect(d.changes[0]?.rel).toBe('procedures/ho-tich.khai-sinh.yaml');
    expect(d.ok).toBe(true);
  });

  it('reports duplicates and unknown intents before trying anything', () => {
    const dup = editor.draftExample('thanks', 'XIN CHÀO');
    expect(dup.ok).toBe(false);
    expect(editor.draftExample('nope', 'abc').message).toMatch(/Không có ý định/);
    expect(editor.draftAlias('ho-tich.khong-co', 'gì đó').message).toMatch(/Không có thủ tục mã/);
  });
});

describe('FAQ editing', () => {
  it('previews, saves (comments and other fields kept), goes live, and keeps history with diff and restore', async () => {
    const file = join(kb.knowledge, 'faq', 'faq.hotline.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('aliases:\n', 'aliases: # cách người dân hỏi\n'));
    holder.reload();
    const original = readFileSync(file, 'utf8');
    const cur = editor.readFaq('faq.hotline');
    expect(cur?.file).toBe('faq/faq.hotline.yaml');
    const fields = { ...(cur?.fields as NonNullable<typeof cur>['fields']) };
    const draft = editor.draftFaq('faq.hotline', { ...fields, answer: `${fields.answer}\n\nNgoài giờ, để lại lời nhắn tại đây: cán bộ gọi lại trong ngày làm việc kế tiếp.` });
    expect(draft.ok).toBe(true);
    const preview = await editor.preview(draft.id, 'số hotline là gì');
    expect(preview.before.faq).toBe('faq.hotline');
    expect(preview.before.reply).not.toContain('gọi lại trong ngày làm việc kế tiếp');
    expect(preview.after?.reply).toContain('gọi lại trong ngày làm việc kế tiếp');
    const saved = await editor.save(draft.id, { actor: 'mai' });
    expect(saved.message).toContain('Đã lưu');
    expect(saved.ok).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# cách người dân hỏi');
    expect(text).toContain('keywords: [hotline, điện thoại, liên hệ, tổng đài, gọi điện]');
    expect(reloads).toBeGreaterThan(0);
    expect((await editor.preview(null, 'số hotline là gì')).before.reply).toContain('gọi lại trong ngày làm việc kế tiếp');

    const versions = history.list({ file: 'faq/faq.hotline.yaml' });
    expect(versions[0]).toMatchObject({ actor: 'mai', action: 'faq', root: 'knowledge' });
    const v = history.get(versions[0]?.id as number);
    const diff = formatDiff(diffLines(v?.before ?? '', v?.after ?? ''));
    expect(diff).toMatch(/^\+ .*gọi lại trong ngày làm việc kế tiếp/m);
    expect(diff.split('\n').length).toBeLessThan(15);
    const restore = editor.draftRestore(versions[0]?.id as number, 'before');
    expect((await editor.save(restore.id, { actor: 'mai' })).ok).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('refuses an edit with the validator’s own message (file and line), and a stale draft', async () => {
    const cur = editor.readFaq('faq.dia-chi');
    const bad = editor.draftFaq('faq.dia-chi', { ...(cur?.fields as NonNullable<typeof cur>['fields']), answer: 'Nộp tại UBND huyện nơi cư trú.' });
    expect(bad.ok).toBe(false);
    expect(bad.errors[0]).toMatchObject({ file: 'faq/faq.dia-chi.yaml', message: 'Nhắc tới cơ quan cấp huyện/quận.' });
    expect(bad.errors[0]?.line).toBeGreaterThan(1);
    expect((await editor.save(bad.id, { actor: 'x' })).ok).toBe(false);
    expect(editor.draftFaq('faq.dia-chi', { ...(cur?.fields as NonNullable<typeof cur>['fields']), aliases: [] }).errors[0]?.message).toMatch(/cách hỏi khác/);

    const ok = editor.draftFaq('faq.dia-chi', { ...(cur?.fields as NonNullable<typeof cur>['fields']), lastVerified: '2026-11-20' });
    const file = join(kb.knowledge, 'faq', 'faq.dia-chi.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# sửa tay\n`);
    const stale = await editor.save(ok.id, { actor: 'x' });
    expect(stale).toMatchObject({ ok: false, message: expect.stringMatching(/vừa được sửa ở nơi khác/) });
  });

  it('creates a new FAQ that the assistant answers once saved', async () => {
    const draft = editor.draftNewFaq({ id: 'faq.gui-xe', question: 'Trung tâm có chỗ gửi xe máy không?', aliases: ['chỗ gửi xe máy', 'gửi xe ở trung tâm', 'bãi đỗ xe máy'], answer: 'Có chỗ gửi xe máy miễn phí trong khuôn viên trung tâm.', lastVerified: '2026-11-26' });
    expect(draft.errors).toEqual([]);
    expect(draft.ok).toBe(true);
    expect((await editor.preview(draft.id, 'chỗ gửi xe máy ở trung tâm')).after?.faq).toBe('faq.gui-xe');
    const saved = await editor.save(draft.id, { actor: 'mai', force: true });
    expect(saved.ok).toBe(true);
    expect(editor.listFaqs().map((f) => f.id)).toContain('faq.gui-xe');
    expect(editor.draftNewFaq({ id: 'faq.gui-xe', question: 'x', aliases: ['y'], answer: 'z', lastVerified: '2026-11-26' }).message).toMatch(/Đã có câu hỏi/);
    expect(editor.draftNewFaq({ id: 'Gửi xe', question: 'x', aliases: ['y'], answer: 'z', lastVerified: '2026-11-26' }).ok).toBe(false);
  });
});

describe('procedure key fields', () => {
  it('changes a fee per channel, keeps feeAmount consistent, and the preview shows the new fee', async () => {
    const cur = editor.readProcedure('ho-tich.khai-sinh');
    expect(cur?.fields.channels.length).toBeGreaterThan(0);
    const fields = cur?.fields as NonNullable<typeof cur>['fields'];
    const channels = fields.channels.map((c) => (c.method === 'truc-tiep' ? { ...c, fee: '8.000 đồng (đăng ký quá hạn)' } : c));
    const draft = editor.draftProcedure('ho-tich.khai-sinh', { ...fields, channels, lastVerified: '2026-11-26' });
    expect(draft.errors).toEqual([]);
    const preview = await editor.preview(draft.id, 'lệ phí đăng ký khai sinh');
    expect(preview.after?.reply).toContain('8.000 đồng (đăng ký quá hạn)');
    expect((await editor.save(draft.id, { actor: 'mai', force: true })).ok).toBe(true);
    const text = readFileSync(join(kb.knowledge, 'procedures', 'ho-tich.khai-sinh.yaml'), 'utf8');
    expect(text).toContain('fee: 8.000 đồng (đăng ký quá hạn)');
    expect(text).toMatch(/feeAmount: 8000/);
    expect(editor.draftProcedure('ho-tich.khai-sinh', { ...fields, where: [] }).ok).toBe(false);
  });
});

describe('npm run kb -- add-example / add-alias (the CLI face)', () => {
  it('refuses a change that flips a golden answer, with the list, and leaves the file as it was', async () => {
    const before = examples();
    const run = await runScript('kb.ts', ['add-example', 'procedure.fee', 'hết bao nhiêu tiền vậy', '--intents', kb.intents, '--dir', kb.knowledge, '--dev', join(kb.root, 'no-dev.jsonl')], { DATA_DIR: kb.data });
    expect(run.stdout).toMatch(/Thay đổi này làm đổi câu trả lời/);
    expect(run.stdout).toContain('--force');
    expect(run.code).toBe(1);
    expect(examples()).toBe(before);
  }, 90_000);
});

describe('npm run kb -- import-sheet, history, restore (the CLI face of history)', () => {
  it('saves a spreadsheet edit through the editor, lists it in the history and restores it', async () => {
    const file = join(kb.knowledge, 'procedures', 'ho-tich.ket-hon.yaml');
    const original = readFileSync(file, 'utf8');
    const xlsx = join(kb.root, 'sheet.xlsx');
    await exportSheet(kb.knowledge, xlsx);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.getWorksheet(SHEET_NAMES.procedures)!;
    let col = 0;
    ws.getRow(1).eachCell((c, i) => {
      if (String(c.value).startsWith('Ngày kiểm tra')) col = i;
    });
    ws.eachRow((row) => {
      if (row.getCell(1).value === 'ho-tich.ket-hon') row.getCell(col).value = '2026-11-20';
    });
    await wb.xlsx.writeFile(xlsx);
    const env = { DATA_DIR: kb.data };
    const dev = ['--dev', join(kb.root, 'no-dev.jsonl')];
    const imported = await runScript('kb.ts', ['import-sheet', xlsx, '--dir', kb.knowledge, ...dev], env);
    expect(imported.stdout).toContain('Đã lưu');
    expect(imported.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('lastVerified: 2026-11-20');
    const db = openStaffDatabase({ DATA_DIR: kb.data });
    const saved = new KnowledgeHistory(db).list({ file: 'procedures/ho-tich.ket-hon.yaml' })[0];
    db.close();
    expect(saved).toMatchObject({ action: 'sheet', actor: expect.stringMatching(/^cli:/) });
    const listed = await runScript('kb.ts', ['history', '--dir', kb.knowledge, ...dev], env);
    expect(listed.stdout).toMatch(new RegExp(`${saved?.id}\\s+.*sheet\\s+procedures/ho-tich\\.ket-hon\\.yaml`));
    const restored = await runScript('kb.ts', ['restore', String(saved?.id), '--before', '--dir', kb.knowledge, ...dev], env);
    expect(restored.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  }, 180_000); // three runs of the CLI (tsx start-up each) on a shared two-core machine
});
