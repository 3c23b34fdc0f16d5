/**
 * Spreadsheet round trip for staff who work in Excel or LibreOffice:
 * `npm run kb -- export-sheet FILE.xlsx` writes the FAQ and the key fields of every
 * procedure (name, aliases, fee and time per channel, where, lastVerified);
 * `import-sheet FILE.xlsx` validates each row and writes only valid rows back into the
 * YAML files, editing the YAML document in place so comments and the rest of each file
 * stay as they were. Errors name the sheet, the row and the column, in Vietnamese.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ExcelJS from 'exceljs';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type YAMLMap, type YAMLSeq } from 'yaml';
import { z } from 'zod';
import { CHANNEL_METHODS, faqSchema, procedureSchema, type ChannelMethod } from './schema.ts';
import { checkYamlText, serializeEdited, writeFileAtomic, yamlFiles } from './staff-files.ts';

/** Sheet names staff see; import finds sheets by these names. */
export const SHEET_NAMES = Object.freeze({ procedures: 'Thủ tục', faq: 'Câu hỏi thường gặp', help: 'Hướng dẫn' });

const METHOD_LABEL: Record<ChannelMethod, string> = { 'truc-tiep': 'nộp trực tiếp', 'truc-tuyen': 'trực tuyến', 'buu-chinh': 'bưu chính' };

type ProcedureColumn = 'id' | 'name' | 'aliases' | `fee:${ChannelMethod}` | `time:${ChannelMethod}` | 'where' | 'lastVerified' | 'file';
type FaqColumn = 'id' | 'question' | 'aliases' | 'answer' | 'lastVerified' | 'file';

const PROCEDURE_COLUMNS: { key: ProcedureColumn; header: string; width: number }[] = [
  { key: 'id', header: 'Mã (không sửa)', width: 28 },
  { key: 'name', header: 'Tên thủ tục', width: 40 },
  { key: 'aliases', header: 'Tên gọi khác (mỗi tên một dòng)', width: 40 },
  ...CHANNEL_METHODS.flatMap((m) => [
    { key: `fee:${m}` as const, header: `Lệ phí – ${METHOD_LABEL[m]}`, width: 32 },
    { key: `time:${m}` as const, header: `Thời hạn – ${METHOD_LABEL[m]}`, width: 28 },
  ]),
  { key: 'where', header: 'Nơi nộp (mỗi nơi một dòng)', width: 50 },
  { key: 'lastVerified', header: 'Ngày kiểm tra (YYYY-MM-DD)', width: 16 },
  { key: 'file', header: 'Tệp (không sửa)', width: 36 },
];

const FAQ_COLUMNS: { key: FaqColumn; header: string; width: number }[] = [
  { key: 'id', header: 'Mã (không sửa)', width: 24 },
  { key: 'question', header: 'Câu hỏi', width: 40 },
  { key: 'aliases', header: 'Cách hỏi khác (mỗi cách một dòng)', width: 40 },
  { key: 'answer', header: 'Trả lời', width: 70 },
  { key: 'lastVerified', header: 'Ngày kiểm tra (YYYY-MM-DD)', width: 16 },
  { key: 'file', header: 'Tệp (không sửa)', width: 30 },
];

const HELP_LINES = [
  'Cách dùng bảng tính này',
  '1. Sửa trực tiếp các ô ở trang "Thủ tục" và "Câu hỏi thường gặp". Không sửa cột "Mã" và "Tệp".',
  '2. Ô có nhiều mục (tên gọi khác, nơi nộp): mỗi mục một dòng trong ô (Excel: Alt+Enter; LibreOffice: Ctrl+Enter). Tên gọi khác cũng có thể ngăn bằng dấu ";".',
  '3. Lệ phí: ghi rõ số tiền (vd. 50.000 đồng), "Miễn lệ phí", hoặc "Do HĐND tỉnh quy định…". Để trống ô của cách nộp mà thủ tục không có.',
  '4. Ngày kiểm tra: ngày cán bộ đối chiếu thông tin gần nhất, dạng 2026-11-26.',
  '5. Lưu tệp dạng .xlsx rồi chạy: npm run kb -- import-sheet TEN-TEP.xlsx',
  '6. Dòng có lỗi sẽ không được ghi; chương trình báo trang, số dòng và cột để sửa. Các dòng đúng vẫn được ghi.',
  'Muốn thêm thủ tục mới hoặc sửa giấy tờ, các bước, căn cứ pháp lý: sửa tệp YAML (xem knowledge/HUONG-DAN.md).',
];

/** Raw data of one YAML file with its parsed document, for export and in-place edits (sheet import, console). */
export interface EntryFile {
  path: string;
  rel: string;
  source: string;
  doc: Document;
  data: Record<string, unknown>;
}

/** The YAML entries of a folder with their parsed documents (unreadable files skipped). */
export function readEntries(dir: string, root: string): EntryFile[] {
  const out: EntryFile[] = [];
  for (const path of yamlFiles(dir)) {
    try {
      const source = readFileSync(path, 'utf8');
      const doc = parseDocument(source, { uniqueKeys: true });
      if (doc.errors.length) continue;
      const data: unknown = doc.toJS();
      if (!data || typeof data !== 'object' || typeof (data as { id?: unknown }).id !== 'string') continue;
      out.push({ path, rel: relative(root, path), source, doc, data: data as Record<string, unknown> });
    } catch {
      // Unreadable files are reported by the validator, not here.
    }
  }
  return out;
}

function asList(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}

function asDate(v: unknown): string {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return v === undefined || v === null ? '' : String(v);
}

function channelOf(data: Record<string, unknown>, method: ChannelMethod): Record<string, unknown> | undefined {
  const channels = Array.isArray(data.channels) ? (data.channels as Record<string, unknown>[]) : [];
  return channels.find((c) => c && c.method === method);
}

function styleSheet(ws: ExcelJS.Worksheet, columns: { header: string; width: number }[]): void {
  ws.columns = columns.map((c) => ({ header: c.header, width: c.width }));
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
  ws.views = [{ state: 'frozen', xSplit: 1, ySplit: 1 }];
}

/** Writes the spreadsheet; returns how many rows each sheet got. */
export async function exportSheet(knowledgeDir: string, file: string): Promise<{ procedures: number; faqs: number }> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'tro-ly-tthc kb export-sheet';
  const help = wb.addWorksheet(SHEET_NAMES.help);
  help.getColumn(1).width = 120;
  HELP_LINES.forEach((l, i) => {
    help.getCell(i + 1, 1).value = l;
    if (i === 0) help.getCell(1, 1).font = { bold: true, size: 14 };
  });

  const ps = wb.addWorksheet(SHEET_NAMES.procedures);
  styleSheet(ps, PROCEDURE_COLUMNS);
  const procedures = readEntries(join(knowledgeDir, 'procedures'), knowledgeDir);
  for (const e of procedures) {
    const d = e.data;
    const values: Record<ProcedureColumn, string> = {
      id: String(d.id),
      name: String(d.name ?? ''),
      aliases: asList(d.aliases).join('\n'),
      where: asList(d.where).join('\n'),
      lastVerified: asDate(d.lastVerified),
      file: e.rel,
      ...(Object.fromEntries(
        CHANNEL_METHODS.flatMap((m) => {
          const c = channelOf(d, m);
          return [
            [`fee:${m}`, c ? String(c.fee ?? '') : ''],
            [`time:${m}`, c ? String(c.time ?? '') : ''],
          ];
        }),
      ) as Record<`fee:${ChannelMethod}` | `time:${ChannelMethod}`, string>),
    };
    const row = ps.addRow(PROCEDURE_COLUMNS.map((c) => values[c.key]));
    row.alignment = { wrapText: true, vertical: 'top' };
  }

  const fs = wb.addWorksheet(SHEET_NAMES.faq);
  styleSheet(fs, FAQ_COLUMNS);
  const faqs = readEntries(join(knowledgeDir, 'faq'), knowledgeDir);
  for (const e of faqs) {
    const d = e.data;
    const values: Record<FaqColumn, string> = {
      id: String(d.id),
      question: String(d.question ?? ''),
      aliases: asList(d.aliases).join('\n'),
      answer: String(d.answer ?? ''),
      lastVerified: asDate(d.lastVerified),
      file: e.rel,
    };
    const row = fs.addRow(FAQ_COLUMNS.map((c) => values[c.key]));
    row.alignment = { wrapText: true, vertical: 'top' };
  }
  for (const ws of [ps, fs]) {
    ws.getColumn(1).font = { color: { argb: 'FF555555' } };
    ws.getColumn(ws.columnCount).font = { color: { argb: 'FF555555' } };
  }
  await wb.xlsx.writeFile(file);
  return { procedures: procedures.length, faqs: faqs.length };
}

// ---------------------------------------------------------------------------
// Import

/** One row-level problem, located for the staff member who fixes the sheet. */
export interface SheetError {
  sheet: string;
  row: number;
  column?: string;
  id?: string;
  message: string;
}

export interface SheetImportReport {
  rows: number;
  /** Files written. */
  changed: string[];
  unchanged: number;
  errors: SheetError[];
  /** Derived values the import also adjusted (feeAmount, timeDays…), for the report. */
  notes: string[];
}

/** Text of a cell whatever Excel or LibreOffice stored in it. */
export function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (Object.prototype.toString.call(v) === '[object Date]') return (v as Date).toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('result' in v) return v.result === undefined ? '' : cellText(v.result as ExcelJS.CellValue);
    if ('error' in v) return '';
    return '';
  }
  return String(v);
}

/** Excel's day number (1900 system) as YYYY-MM-DD. */
function excelSerialDate(n: number): string {
  return new Date(Date.UTC(1899, 11, 30) + Math.round(n) * 86_400_000).toISOString().slice(0, 10);
}

function normalizeCell(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();
}

const dateText = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'ngày phải có dạng YYYY-MM-DD, ví dụ 2026-11-26')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'ngày không có thật');
const required = (what: string) => z.string().min(1, `${what} không được để trống`);
const listOf = (what: string, min: number) =>
  z.array(z.string().min(1).max(300, `mỗi ${what} tối đa 300 ký tự`)).min(min, min ? `cần ít nhất ${min} ${what}` : undefined);

export const procedureRowSchema = z.object({
  id: required('Mã'),
  name: required('Tên thủ tục').max(300, 'tên thủ tục tối đa 300 ký tự'),
  aliases: listOf('tên gọi khác', 0),
  where: listOf('nơi nộp', 1),
  lastVerified: dateText,
  channels: z.array(z.object({ method: z.enum(CHANNEL_METHODS), fee: z.string(), time: z.string() })),
});

export const faqRowSchema = z.object({
  id: required('Mã'),
  question: required('Câu hỏi'),
  aliases: listOf('cách hỏi khác', 1),
  answer: required('Trả lời'),
  lastVerified: dateText,
});

function splitLines(s: string, alsoSemicolon: boolean): string[] {
  return s
    .split(alsoSemicolon ? /\n|;/ : /\n/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Header text → column index, so staff may reorder or add columns. */
function headerMap(ws: ExcelJS.Worksheet): Map<string, number> {
  const out = new Map<string, number>();
  ws.getRow(1).eachCell((cell, col) => {
    const h = normalizeCell(cellText(cell.value));
    if (h) out.set(h, col);
  });
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Replaces a sequence's items, reusing the nodes (and comments) of items that stay. */
function setList(doc: Document, path: (string | number)[], values: readonly string[]): void {
  const node = doc.getIn(path, true);
  if (!isSeq(node)) {
    doc.setIn(path, doc.createNode([...values]));
    return;
  }
  const pool = [...(node as YAMLSeq).items];
  (node as YAMLSeq).items = values.map((v) => {
    const i = pool.findIndex((n) => isScalar(n) && String(n.value) === v);
    if (i >= 0) return pool.splice(i, 1)[0] as YamlNode;
    return doc.createNode(v);
  });
}

/** Amount in đồng when the fee text states exactly one, 0 when it says free. */
export function feeAmountOf(fee: string): number | undefined {
  const amounts = [...fee.matchAll(/(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(?:đ\b|đồng|vnđ)/giu)].map((m) => Number((m[1] as string).replace(/[.,]/g, '')));
  if (amounts.length === 1) return amounts[0];
  if (!amounts.length && /miễn|không (?:thu|mất)/iu.test(fee)) return 0;
  return undefined;
}

/** Working days when the time text starts with "N ngày". */
export function timeDaysOf(time: string): number | undefined {
  const m = time.match(/^(?:trong\s+|không quá\s+|tối đa\s+)?(\d{1,3})\s*ngày/iu);
  return m ? Number(m[1]) : undefined;
}

export interface RowContext {
  sheet: string;
  row: number;
  id?: string;
  errors: SheetError[];
}

function zodRowErrors(ctx: RowContext, err: z.ZodError, columnOf: (path: PropertyKey[]) => string | undefined): void {
  for (const iss of err.issues) {
    ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, column: columnOf(iss.path), message: iss.message });
  }
}

function applyChannel(doc: Document, method: ChannelMethod, fee: string, time: string, ctx: RowContext, notes: string[]): boolean {
  const channels = doc.get('channels', true);
  const seq = isSeq(channels) ? (channels as YAMLSeq) : undefined;
  const index = seq ? seq.items.findIndex((n) => isMap(n) && (n as YAMLMap).get('method') === method) : -1;
  const label = METHOD_LABEL[method];
  if (index < 0) {
    if (!fee && !time) return false;
    if (!fee || !time) {
      ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, column: !fee ? `Lệ phí – ${label}` : `Thời hạn – ${label}`, message: `Thêm cách nộp ${label} cần ghi cả lệ phí và thời hạn.` });
      return false;
    }
    const channel: Record<string, unknown> = { method, time, fee };
    const days = timeDaysOf(time);
    if (days !== undefined) channel.timeDays = days;
    const amount = feeAmountOf(fee);
    if (amount !== undefined) channel.feeAmount = amount;
    if (/hđnd|hội đồng nhân dân/iu.test(fee)) channel.feeByProvince = true;
    if (seq) seq.items.push(doc.createNode(channel));
    else doc.set('channels', doc.createNode([channel]));
    notes.push(`${ctx.id}: thêm cách nộp ${label}.`);
    return true;
  }
  const path = ['channels', index];
  if (!fee || !time) {
    ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, column: !fee ? `Lệ phí – ${label}` : `Thời hạn – ${label}`, message: `Cách nộp ${label} đang có trong tệp nên không được để trống; muốn bỏ cách nộp này hãy sửa tệp YAML.` });
    return false;
  }
  let changed = false;
  if (doc.getIn([...path, 'fee']) !== fee) {
    doc.setIn([...path, 'fee'], fee);
    const amount = feeAmountOf(fee);
    const byProvince = /hđnd|hội đồng nhân dân/iu.test(fee);
    if (amount !== undefined && !byProvince) doc.setIn([...path, 'feeAmount'], amount);
    else doc.deleteIn([...path, 'feeAmount']);
    if (byProvince) doc.setIn([...path, 'feeByProvince'], true);
    else if (doc.hasIn([...path, 'feeByProvince'])) doc.setIn([...path, 'feeByProvince'], false);
    notes.push(`${ctx.id} (${label}): lệ phí mới; feeAmount ${amount !== undefined && !byProvince ? `= ${amount}` : 'bỏ'}${byProvince ? ', feeByProvince = true' : ''}.`);
    changed = true;
  }
  if (doc.getIn([...path, 'time']) !== time) {
    doc.setIn([...path, 'time'], time);
    const days = timeDaysOf(time);
    if (days !== undefined) doc.setIn([...path, 'timeDays'], days);
    else doc.deleteIn([...path, 'timeDays']);
    notes.push(`${ctx.id} (${label}): thời hạn mới; timeDays ${days !== undefined ? `= ${days}` : 'bỏ'}.`);
    changed = true;
  }
  return changed;
}

function setScalar(doc: Document, key: string, value: string | undefined): boolean {
  const cur = doc.get(key);
  const curText = cur instanceof Date ? cur.toISOString().slice(0, 10) : cur === undefined || cur === null ? undefined : String(cur);
  if (curText === value) return false;
  doc.set(key, value);
  return true;
}

/** The key fields of a procedure as staff edit them (sheet row, console form). */
export type ProcedureKeyFields = z.infer<typeof procedureRowSchema>;
/** The fields of an FAQ as staff edit them. */
export type FaqFields = z.infer<typeof faqRowSchema>;

/**
 * Applies a procedure's key fields to its YAML document in place (comments and the rest
 * of the file kept; feeAmount/timeDays/feeByProvince kept consistent). Returns whether
 * anything changed; problems go to `ctx.errors`.
 */
export function applyProcedureRow(entry: Pick<EntryFile, 'doc' | 'data'>, row: ProcedureKeyFields, ctx: RowContext, notes: string[]): boolean {
  const doc = entry.doc;
  let changed = setScalar(doc, 'name', row.name);
  if (!sameList(asList(entry.data.aliases), row.aliases)) {
    setList(doc, ['aliases'], row.aliases);
    changed = true;
  }
  if (!sameList(asList(entry.data.where), row.where)) {
    setList(doc, ['where'], row.where);
    changed = true;
  }
  changed = setScalar(doc, 'lastVerified', row.lastVerified) || changed;
  for (const c of row.channels) changed = applyChannel(doc, c.method, c.fee, c.time, ctx, notes) || changed;
  return changed;
}

/** Applies an FAQ's fields to its YAML document in place; returns whether anything changed. */
export function applyFaqRow(entry: Pick<EntryFile, 'doc' | 'data'>, row: FaqFields): boolean {
  const doc = entry.doc;
  let changed = setScalar(doc, 'question', row.question);
  if (!sameList(asList(entry.data.aliases), row.aliases)) {
    setList(doc, ['aliases'], row.aliases);
    changed = true;
  }
  changed = setScalar(doc, 'answer', row.answer) || changed;
  changed = setScalar(doc, 'lastVerified', row.lastVerified) || changed;
  return changed;
}

function writeIfValid(e: EntryFile, schema: z.ZodType, ctx: RowContext, report: SheetImportReport): void {
  const text = serializeEdited(e.source, e.doc);
  const issues = checkYamlText(text, e.rel, schema).filter((i) => i.severity === 'error');
  if (issues.length) {
    for (const i of issues) ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, message: `${i.message}${i.hint ? ` (${i.hint})` : ''}` });
    return;
  }
  writeFileAtomic(e.path, text);
  report.changed.push(e.rel);
}

/**
 * Reads the spreadsheet and writes valid rows into the YAML files; rows with errors are
 * reported and leave their file untouched.
 */
export async function importSheet(knowledgeDir: string, file: string): Promise<SheetImportReport> {
  const report: SheetImportReport = { rows: 0, changed: [], unchanged: 0, errors: [], notes: [] };
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(file);
  } catch (err) {
    report.errors.push({ sheet: '-', row: 0, message: `Không mở được tệp ${file}: ${(err as Error).message}. Hãy lưu lại dạng Excel .xlsx.` });
    return report;
  }

  const procedureSheet = wb.getWorksheet(SHEET_NAMES.procedures);
  const faqSheet = wb.getWorksheet(SHEET_NAMES.faq);
  if (!procedureSheet && !faqSheet) {
    report.errors.push({ sheet: '-', row: 0, message: `Không thấy trang "${SHEET_NAMES.procedures}" hay "${SHEET_NAMES.faq}". Đừng đổi tên các trang khi sửa.` });
    return report;
  }

  if (procedureSheet) {
    const entries = new Map(readEntries(join(knowledgeDir, 'procedures'), knowledgeDir).map((e) => [String(e.data.id), e]));
    importRows(procedureSheet, PROCEDURE_COLUMNS, report, (get, ctx) => {
      const entry = entries.get(ctx.id ?? '');
      if (!entry) {
        ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, column: PROCEDURE_COLUMNS[0]?.header, message: `Không có thủ tục mã "${ctx.id}" trong knowledge/procedures. Thủ tục mới phải tạo bằng tệp YAML.` });
        return;
      }
      const row = {
        id: get('id'),
        name: get('name'),
        aliases: splitLines(get('aliases'), true),
        where: splitLines(get('where'), false),
        lastVerified: get('lastVerified'),
        channels: CHANNEL_METHODS.map((m) => ({ method: m, fee: get(`fee:${m}`), time: get(`time:${m}`) })),
      };
      const parsed = procedureRowSchema.safeParse(row);
      if (!parsed.success) {
        zodRowErrors(ctx, parsed.error, (path) => {
          const key = path[0];
          if (key === 'channels') return undefined;
          return PROCEDURE_COLUMNS.find((c) => c.key === key)?.header;
        });
        return;
      }
      const before = ctx.errors.length;
      const changed = applyProcedureRow(entry, parsed.data, ctx, report.notes);
      if (ctx.errors.length > before) return;
      if (!changed) {
        report.unchanged++;
        return;
      }
      writeIfValid(entry, procedureSchema, ctx, report);
    });
  }

  if (faqSheet) {
    const entries = new Map(readEntries(join(knowledgeDir, 'faq'), knowledgeDir).map((e) => [String(e.data.id), e]));
    importRows(faqSheet, FAQ_COLUMNS, report, (get, ctx) => {
      const entry = entries.get(ctx.id ?? '');
      if (!entry) {
        ctx.errors.push({ sheet: ctx.sheet, row: ctx.row, id: ctx.id, column: FAQ_COLUMNS[0]?.header, message: `Không có câu hỏi mã "${ctx.id}" trong knowledge/faq. Câu hỏi mới phải tạo bằng tệp YAML.` });
        return;
      }
      const row = { id: get('id'), question: get('question'), aliases: splitLines(get('aliases'), true), answer: get('answer'), lastVerified: get('lastVerified') };
      const parsed = faqRowSchema.safeParse(row);
      if (!parsed.success) {
        zodRowErrors(ctx, parsed.error, (path) => FAQ_COLUMNS.find((c) => c.key === path[0])?.header);
        return;
      }
      const changed = applyFaqRow(entry, parsed.data);
      if (!changed) {
        report.unchanged++;
        return;
      }
      writeIfValid(entry, faqSchema, ctx, report);
    });
  }
  return report;
}

function importRows<K extends string>(
  ws: ExcelJS.Worksheet,
  columns: { key: K; header: string }[],
  report: SheetImportReport,
  apply: (get: (key: K) => string, ctx: RowContext) => void,
): void {
  const headers = headerMap(ws);
  const missing = columns.filter((c) => !headers.has(c.header) && c.key !== ('file' as K));
  if (missing.length) {
    report.errors.push({ sheet: ws.name, row: 1, message: `Thiếu cột: ${missing.map((c) => `"${c.header}"`).join(', ')}. Đừng đổi tên dòng tiêu đề.` });
    return;
  }
  const seen = new Map<string, number>();
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (rowNumber === 1) return;
    const get = (key: K) => {
      const col = headers.get(columns.find((c) => c.key === key)?.header ?? '');
      if (!col) return '';
      const value = row.getCell(col).value;
      // A date typed into a cell without a date format comes back as an Excel serial number.
      if (key === ('lastVerified' as K) && typeof value === 'number' && value > 20000 && value < 80000) return excelSerialDate(value);
      return normalizeCell(cellText(value));
    };
    const values = columns.map((c) => get(c.key));
    if (values.every((v) => !v)) return;
    report.rows++;
    const id = get(columns[0]!.key);
    const ctx: RowContext = { sheet: ws.name, row: rowNumber, id: id || undefined, errors: report.errors };
    if (!id) {
      report.errors.push({ sheet: ws.name, row: rowNumber, column: columns[0]?.header, message: 'Thiếu mã; không sửa hay xóa cột mã.' });
      return;
    }
    const prev = seen.get(id);
    if (prev) {
      report.errors.push({ sheet: ws.name, row: rowNumber, id, column: columns[0]?.header, message: `Mã "${id}" đã có ở dòng ${prev}; mỗi mã chỉ một dòng.` });
      return;
    }
    seen.set(id, rowNumber);
    apply(get, ctx);
  });
}

/** One line per error: `Trang "Thủ tục", dòng 5 (ho-tich.khai-sinh), cột "…": message`. */
export function formatSheetReport(r: SheetImportReport): string {
  const lines = r.errors.map((e) => `Trang "${e.sheet}", dòng ${e.row}${e.id ? ` (${e.id})` : ''}${e.column ? `, cột "${e.column}"` : ''}: ${e.message}`);
  if (lines.length) lines.push('');
  if (r.notes.length) lines.push(...r.notes.map((n) => `Ghi chú: ${n}`), '');
  lines.push(`Đã đọc ${r.rows} dòng: ${r.changed.length} tệp được cập nhật, ${r.unchanged} dòng không đổi, ${new Set(r.errors.map((e) => `${e.sheet}:${e.row}`)).size} dòng có lỗi (không ghi).`);
  if (r.changed.length) lines.push(`Tệp đã ghi: ${r.changed.join(', ')}`);
  return lines.join('\n');
}
