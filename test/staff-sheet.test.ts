/**
 * Spreadsheet round trip: `kb export-sheet` then `import-sheet` on a throwaway copy of
 * the knowledge base. An untouched sheet changes nothing; edited cells land in the YAML
 * with comments kept; bad rows are reported with sheet, row and column and leave their
 * file alone, while good rows are still written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadKnowledge } from '../knowledge/load.ts';
import { SHEET_NAMES, cellText, formatSheetReport, importSheet } from '../knowledge/sheet.ts';
import { runScript, tempKnowledge } from './helpers/staff.ts';

let kb: ReturnType<typeof tempKnowledge>;
let xlsx: string;
const KS = () => join(kb.knowledge, 'procedures', 'ho-tich.khai-sinh.yaml');

function rowOf(ws: ExcelJS.Worksheet, id: string): ExcelJS.Row {
  let found: ExcelJS.Row | undefined;
  ws.eachRow((row) => {
    if (cellText(row.getCell(1).value) === id) found = row;
  });
  if (!found) throw new Error(`no row for ${id}`);
  return found;
}

function column(ws: ExcelJS.Worksheet, header: string): number {
  let col = 0;
  ws.getRow(1).eachCell((cell, c) => {
    if (cellText(cell.value) === header) col = c;
  });
  if (!col) throw new Error(`no column ${header}`);
  return col;
}

beforeAll(async () => {
  kb = tempKnowledge();
  xlsx = join(kb.root, 'kien-thuc.xlsx');
  // A comment staff wrote in the file must survive the import.
  const text = readFileSync(KS(), 'utf8').replace('aliases:\n', '# Cán bộ Lan: tên gọi lấy từ hộp thư rà soát tháng 11\naliases:\n');
  writeFileSync(KS(), text);
  const run = await runScript('kb.ts', ['export-sheet', xlsx, '--dir', kb.knowledge]);
  expect(run.stdout).toMatch(/Đã ghi .*kien-thuc\.xlsx: \d+ thủ tục, \d+ câu hỏi thường gặp/);
  expect(run.code).toBe(0);
});
afterAll(() => kb.cleanup());

describe('spreadsheet round trip', () => {
  it('exports every procedure and FAQ with its key fields', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ps = wb.getWorksheet(SHEET_NAMES.procedures)!;
    const row = rowOf(ps, 'ho-tich.khai-sinh');
    expect(cellText(row.getCell(column(ps, 'Tên thủ tục')).value)).toBe('Đăng ký khai sinh');
    expect(cellText(row.getCell(column(ps, 'Tên gọi khác (mỗi tên một dòng)')).value).split('\n')).toContain('làm giấy khai sinh');
    expect(cellText(row.getCell(column(ps, 'Ngày kiểm tra (YYYY-MM-DD)')).value)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const { knowledge } = loadKnowledge(kb.knowledge);
    expect(ps.actualRowCount - 1).toBe(knowledge?.procedures.length);
    expect(wb.getWorksheet(SHEET_NAMES.faq)!.actualRowCount - 1).toBe(knowledge?.faqs.length);
  });

  it('an untouched sheet changes no file', async () => {
    const before = readFileSync(KS(), 'utf8');
    const r = await importSheet(kb.knowledge, xlsx);
    expect(r.errors).toEqual([]);
    expect(r.changed).toEqual([]);
    expect(r.unchanged).toBe(r.rows);
    expect(readFileSync(KS(), 'utf8')).toBe(before);
  });

  it('writes edited rows in place, keeps comments, and reports bad rows by sheet, row and column', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ps = wb.getWorksheet(SHEET_NAMES.procedures)!;
    const ks = rowOf(ps, 'ho-tich.khai-sinh');
    const aliasCol = column(ps, 'Tên gọi khác (mỗi tên một dòng)');
    ks.getCell(aliasCol).value = `${cellText(ks.getCell(aliasCol).value)}\nđăng ký khai sinh cho em bé`;
    ks.getCell(column(ps, 'Lệ phí – trực tuyến')).value = '10.000 đồng';
    ks.getCell(column(ps, 'Ngày kiểm tra (YYYY-MM-DD)')).value = new Date(Date.UTC(2026, 10, 20));
    const kh = rowOf(ps, 'ho-tich.ket-hon');
    kh.getCell(column(ps, 'Ngày kiểm tra (YYYY-MM-DD)')).value = '2026-13-40';
    const fs = wb.getWorksheet(SHEET_NAMES.faq)!;
    const hotline = rowOf(fs, 'faq.hotline');
    hotline.getCell(column(fs, 'Trả lời')).value = '';
    const hours = rowOf(fs, 'faq.gio-lam-viec');
    hours.getCell(column(fs, 'Câu hỏi')).value = 'Trung tâm làm việc giờ nào, có làm thứ Bảy không?';
    await wb.xlsx.writeFile(xlsx);
    const marriageBefore = readFileSync(join(kb.knowledge, 'procedures', 'ho-tich.ket-hon.yaml'), 'utf8');

    const r = await importSheet(kb.knowledge, xlsx);
    const report = formatSheetReport(r);
    expect(report).toContain(`Trang "${SHEET_NAMES.procedures}", dòng ${kh.number} (ho-tich.ket-hon), cột "Ngày kiểm tra (YYYY-MM-DD)"`);
    expect(report).toContain(`Trang "${SHEET_NAMES.faq}", dòng ${hotline.number} (faq.hotline), cột "Trả lời": Trả lời không được để trống`);
    expect(r.errors, report).toHaveLength(2);
    expect(r.changed.sort()).toEqual(['faq/faq.gio-lam-viec.yaml', 'procedures/ho-tich.khai-sinh.yaml']);

    const text = readFileSync(KS(), 'utf8');
    expect(text).toContain('# Cán bộ Lan: tên gọi lấy từ hộp thư rà soát tháng 11\naliases:');
    // Entries the sheet did not change keep their exact text.
    expect(text).toContain('summary: >-\n  Cha, mẹ (hoặc ông bà');
    expect(text).toContain('keywords: [giấy chứng sinh, trẻ mới sinh, em bé mới sinh]');
    const ks2 = parse(text);
    expect(ks2.aliases).toContain('đăng ký khai sinh cho em bé');
    expect(ks2.lastVerified).toBe('2026-11-20');
    expect(ks2.channels.find((c: { method: string }) => c.method === 'truc-tuyen')).toMatchObject({ fee: '10.000 đồng', feeAmount: 10000 });
    expect(readFileSync(join(kb.knowledge, 'procedures', 'ho-tich.ket-hon.yaml'), 'utf8')).toBe(marriageBefore);
    expect(parse(readFileSync(join(kb.knowledge, 'faq', 'faq.gio-lam-viec.yaml'), 'utf8')).question).toBe('Trung tâm làm việc giờ nào, có làm thứ Bảy không?');
    expect(loadKnowledge(kb.knowledge).knowledge).not.toBeNull();
  });

  it('refuses an unknown id and a sheet whose headers were renamed', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet(SHEET_NAMES.faq);
    ws.addRow(['Mã (không sửa)', 'Câu hỏi', 'Cách hỏi khác (mỗi cách một dòng)', 'Trả lời', 'Ngày kiểm tra (YYYY-MM-DD)']);
    ws.addRow(['faq.khong-co', 'Hỏi?', 'hỏi', 'Đáp.', '2026-11-01']);
    const ps = wb.addWorksheet(SHEET_NAMES.procedures);
    ps.addRow(['Mã', 'Tên']);
    const file = join(kb.root, 'sai.xlsx');
    await wb.xlsx.writeFile(file);
    const r = await importSheet(kb.knowledge, file);
    const report = formatSheetReport(r);
    expect(report).toMatch(/Trang "Thủ tục", dòng 1: Thiếu cột: "Mã \(không sửa\)"/);
    expect(report).toMatch(/dòng 2 \(faq\.khong-co\).*Không có câu hỏi mã "faq\.khong-co"/);
    expect(r.changed).toEqual([]);
  });
});
