/**
 * Reads the staff dossier spreadsheet (CSV) into records. Good rows are kept and bad
 * rows are reported with their file line and a reason staff can act on, so one typo
 * never blocks a whole day's import. English or Vietnamese headers, dd/mm/yyyy or
 * yyyy-mm-dd dates, national status names (with or without diacritics) or sync codes.
 */
import { maskPhone } from '../privacy.ts';
import { CsvEncodingError, decodeCsv, detectDelimiter, parseCsv } from './csv.ts';
import { COLUMN_LABELS, IMPORT_MESSAGES as M } from './messages.ts';
import { labelKey, normalizeDossierCode, normalizePhone, parseDossierDate, toNationalStatus } from './normalize.ts';
import type { DossierRecord } from './types.ts';

export type ImportColumn = keyof typeof COLUMN_LABELS;

/** Header spellings accepted for each column, as `labelKey` keys. */
const HEADER_ALIASES: Record<ImportColumn, string[]> = {
  code: ['code', 'dossier code', 'ma ho so', 'so ho so', 'ma so ho so', 'ma'],
  procedure: ['procedure', 'procedure name', 'thu tuc', 'ten thu tuc', 'thu tuc hanh chinh'],
  procedure_id: ['procedure id'],
  status: ['status', 'trang thai', 'tinh trang', 'trang thai ho so'],
  received_at: ['received at', 'received', 'ngay nhan', 'ngay tiep nhan', 'ngay nop'],
  due_at: ['due at', 'due', 'ngay hen tra', 'ngay hen', 'ngay hen tra ket qua'],
  finished_at: ['finished at', 'finished', 'ngay tra', 'ngay tra ket qua', 'ngay co ket qua', 'ngay hoan thanh'],
  applicant_name: ['applicant name', 'applicant', 'nguoi nop', 'ho ten', 'ho va ten', 'ten nguoi nop', 'chu ho so'],
  phone: ['phone', 'so dien thoai', 'dien thoai', 'sdt', 'so dt'],
  current_step: ['current step', 'buoc hien tai', 'dang o', 'buoc xu ly', 'noi dang xu ly'],
  note: ['note', 'ghi chu', 'yeu cau', 'noi dung can bo sung'],
};

const REQUIRED: ImportColumn[] = ['code', 'procedure', 'status', 'received_at', 'applicant_name'];

const HEADER_INDEX = new Map<string, ImportColumn>();
for (const [col, aliases] of Object.entries(HEADER_ALIASES) as [ImportColumn, string[]][]) for (const a of aliases) HEADER_INDEX.set(a, col);

const MAX_LENGTH: Partial<Record<ImportColumn, number>> = { procedure: 300, applicant_name: 200, current_step: 300, note: 1000, procedure_id: 100 };

/** A reason a line was rejected or needs a look, in Vietnamese for staff. */
export interface ImportIssue {
  /** File line (1-based); 1 is the header. */
  line: number;
  message: string;
}

export interface ImportResult {
  /** Good rows, one per code (a later row with the same code wins). */
  records: { line: number; record: DossierRecord }[];
  /** Rejected rows (several issues may share a line). */
  errors: ImportIssue[];
  warnings: ImportIssue[];
  /** Lines rejected (distinct), for the summary. */
  badLines: number;
  /** Set when nothing could be read at all (encoding, header). */
  fatal?: string;
}

/** Parses a dossier CSV (bytes as read from disk, or already-decoded text). */
export function parseDossierCsv(input: Uint8Array | string): ImportResult {
  const result: ImportResult = { records: [], errors: [], warnings: [], badLines: 0 };
  let text: string;
  try {
    text = typeof input === 'string' ? input.normalize('NFC') : decodeCsv(input);
  } catch (err) {
    if (err instanceof CsvEncodingError) return { ...result, fatal: M.notUtf8 };
    throw err;
  }
  const { rows, problems } = parseCsv(text, detectDelimiter(text));
  const header = rows[0];
  if (!header) return { ...result, fatal: problems.length ? M.unterminatedQuote : M.empty };
  // A broken quote before the first good row means the header itself is unreadable.
  if (problems.some((p) => p.line < header.line)) return { ...result, fatal: M.unterminatedQuote };

  // Map header cells to columns.
  const columns: (ImportColumn | null)[] = [];
  const seen = new Set<ImportColumn>();
  for (const cell of header.fields) {
    const col = HEADER_INDEX.get(labelKey(cell)) ?? null;
    if (col && seen.has(col)) {
      result.warnings.push({ line: header.line, message: M.duplicateColumn(cell) });
      columns.push(null);
      continue;
    }
    if (!col && cell.trim()) result.warnings.push({ line: header.line, message: M.unknownColumn(cell.trim()) });
    if (col) seen.add(col);
    columns.push(col);
  }
  const missing = REQUIRED.filter((c) => !seen.has(c));
  if (missing.length) return { ...result, fatal: M.missingColumns(missing.map((c) => `${c} (${COLUMN_LABELS[c]})`)) };

  const bad = new Set<number>();
  const fail = (line: number, message: string) => {
    result.errors.push({ line, message });
    bad.add(line);
  };
  for (const p of problems) fail(p.line, p.kind === 'unterminatedQuote' ? M.unterminatedQuote : M.textAfterQuote);

  const byCode = new Map<string, number>();
  for (const row of rows.slice(1)) {
    const cell: Partial<Record<ImportColumn, string>> = {};
    columns.forEach((col, i) => {
      if (col) cell[col] = (row.fields[i] ?? '').trim();
    });
    const extra = row.fields.slice(columns.length);
    if (extra.some((f) => f.trim() !== '')) {
      fail(row.line, M.tooManyFields(row.fields.length, columns.length));
      continue;
    }
    const rec = validateRow(cell, (m) => fail(row.line, m));
    if (!rec) {
      // Empty cells past the header usually mean an unquoted comma shifted the row.
      if (row.fields.length > columns.length) fail(row.line, M.tooManyFields(row.fields.length, columns.length));
      continue;
    }
    const earlier = byCode.get(rec.code);
    if (earlier !== undefined) {
      result.warnings.push({ line: row.line, message: M.duplicateCode(rec.code, result.records[earlier]?.line ?? 0) });
      result.records[earlier] = { line: row.line, record: rec };
      continue;
    }
    byCode.set(rec.code, result.records.length);
    result.records.push({ line: row.line, record: rec });
  }
  result.errors.sort((a, b) => a.line - b.line);
  result.badLines = bad.size;
  return result;
}

/** One row's cells → a record, or null after reporting every problem in the row. */
function validateRow(cell: Partial<Record<ImportColumn, string>>, fail: (message: string) => void): DossierRecord | null {
  let ok = true;
  const problem = (m: string) => {
    ok = false;
    fail(m);
  };
  const v = (c: ImportColumn) => cell[c] ?? '';

  const code = v('code') ? normalizeDossierCode(v('code')) : null;
  if (!v('code')) problem(M.missing(COLUMN_LABELS.code));
  else if (!code) problem(M.badCode(v('code')));

  if (!v('procedure')) problem(M.missing(COLUMN_LABELS.procedure));

  const status = toNationalStatus(v('status'));
  if (!v('status')) problem(M.missing(COLUMN_LABELS.status));
  else if (!status) problem(labelKey(v('status')).startsWith('qua han') ? M.overdueIsNotStatus(v('status')) : M.badStatus(v('status')));

  const date = (c: 'received_at' | 'due_at' | 'finished_at', required: boolean): string | undefined => {
    const raw = v(c);
    if (!raw) {
      if (required) problem(M.missing(COLUMN_LABELS[c]));
      return undefined;
    }
    const d = parseDossierDate(raw);
    if (!d) {
      problem(M.badDate(COLUMN_LABELS[c], raw));
      return undefined;
    }
    return d;
  };
  const receivedAt = date('received_at', true);
  const dueAt = date('due_at', false);
  const finishedAt = date('finished_at', false);
  if (receivedAt && dueAt && dueAt < receivedAt) problem(M.dateBefore(COLUMN_LABELS.due_at, COLUMN_LABELS.received_at));
  if (receivedAt && finishedAt && finishedAt < receivedAt) problem(M.dateBefore(COLUMN_LABELS.finished_at, COLUMN_LABELS.received_at));

  if (!v('applicant_name')) problem(M.missing(COLUMN_LABELS.applicant_name));

  let phone: string | undefined;
  if (v('phone')) {
    phone = normalizePhone(v('phone')) ?? undefined;
    if (!phone) problem(M.badPhone(maskPhone(v('phone'))));
  }
  for (const [c, max] of Object.entries(MAX_LENGTH) as [ImportColumn, number][]) {
    if (v(c).length > max) problem(M.tooLong(COLUMN_LABELS[c], max));
  }
  if (!ok || !code || !status || !receivedAt) return null;

  const rec: DossierRecord = { code, procedureName: v('procedure'), status, receivedAt, applicantName: v('applicant_name').replace(/\s+/g, ' ') };
  if (v('procedure_id')) rec.procedureId = v('procedure_id');
  if (dueAt) rec.dueAt = dueAt;
  if (finishedAt) rec.finishedAt = finishedAt;
  if (phone) rec.phone = phone;
  if (v('current_step')) rec.currentStep = v('current_step');
  if (v('note')) rec.note = v('note');
  return rec;
}
