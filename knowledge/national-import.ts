/**
 * `npm run kb -- import-national`: turns national portal records into knowledge files
 * that staff review. Each record becomes `<code>.yaml` (id = national code, status
 * needs-review) with comments saying what could not be parsed; a code that a curated
 * entry already carries is reported instead of duplicated. Every file is checked with
 * the validator's own schema and stale-text rules before it is written.
 *
 * The report is Vietnamese: staff run this command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Document, isMap, isScalar, parse as parseYaml } from 'yaml';
import { fold } from '../intents/normalize.ts';
import { NATIONAL_SECTIONS, SECTION_LABELS, importRecord, nationalDataDate, type ImportResult, type NationalDateSource, NATIONAL_PROVENANCE_FILE, type NationalRecord, type NationalSection, type ParseQuality } from './national.ts';
import { procedureSchema, type Channel, type Procedure } from './schema.ts';
import { PRINT, checkYamlText, scanProcedureFiles, writeFileAtomic, type ProcedureFileInfo } from './staff-files.ts';
import type { KnowledgeIssue } from './load.ts';

export interface ImportNationalOptions {
  /** JSON-lines file of national records. */
  file: string;
  /** Folder the YAML files are written into (usually `<knowledge>/procedures`). */
  outDir: string;
  /** Folders whose procedure files count as existing entries (curated ones first). */
  existingDirs: string[];
  /** Only these national codes (empty = all). */
  codes?: string[];
  /** Only records whose field (lĩnh vực) contains one of these, ignoring case and accents. */
  fields?: string[];
  /** Overwrite files an earlier import wrote that are still `needs-review`. */
  update?: boolean;
  /** When the records' data are from (written as lastVerified); default `nationalDataDate` of the file. */
  dataDate?: string;
  /** NATIONAL_DATA_DATE, when the operator set it. */
  configuredDate?: string;
  /** The knowledge folder whose `national-data.yaml` may date the file. */
  knowledgeDir?: string;
}

/** What happened to one record. */
export type RecordOutcome = 'written' | 'updated' | 'skipped-curated' | 'skipped-exists' | 'invalid';

export interface RecordReport {
  code: string;
  name: string;
  outcome: RecordOutcome;
  quality: ParseQuality;
  file?: string;
  /** Problems and notes (Vietnamese), plus the reason for a skip. */
  lines: string[];
  issues?: KnowledgeIssue[];
}

export interface ImportNationalReport {
  /** The date written as lastVerified, and where it came from. */
  dataDate: { date: string; from: NationalDateSource };
  /** Non-empty lines in the file. */
  lines: number;
  /** Lines that are not JSON objects or lack a usable code/name. */
  unreadable: number;
  /** Records left after --code/--field. */
  selected: number;
  quality: Record<ParseQuality, number>;
  sections: Record<NationalSection, Record<'ok' | 'partial' | 'missing' | 'failed', number>>;
  outcomes: Record<RecordOutcome, number>;
  records: RecordReport[];
}

const HEADER = (code: string, dataDate: string) =>
  [
    ` NHẬP TỰ ĐỘNG từ Cổng Dịch vụ công quốc gia (thủ tục ${code}); dữ liệu ngày ${dataDate}.`,
    ' CẦN RÀ SOÁT: đọc lại từng mục, đối chiếu với Cổng và quy định của tỉnh,',
    ' thêm tên gọi khác (aliases), sửa xong đổi "status: needs-review" thành "status: curated".',
  ].join('\n');

/** Renders one imported procedure as YAML with review comments; starts with `version: 1`. */
export function procedureYaml(r: ImportResult, dataDate: string): string {
  const doc = new Document(r.procedure);
  const comments: Partial<Record<string, string[]>> = {};
  const flagged = (key: NationalSection, text: string) => ((comments[key] ??= []).push(text));
  for (const key of NATIONAL_SECTIONS) {
    const s = r.sections[key];
    if (s === 'missing') flagged(key, `⚠ ${SECTION_LABELS[key]}: Cổng không có thông tin; dòng dưới chỉ là lời nhắn tạm.`);
    if (s === 'failed') flagged(key, `⚠ ${SECTION_LABELS[key]}: không tách được; dòng dưới chỉ là lời nhắn tạm, hãy chép từ Cổng.`);
    if (s === 'partial') flagged(key, `⚠ ${SECTION_LABELS[key]}: chỉ tách được một phần, kiểm tra với Cổng.`);
  }
  const header = [HEADER(r.procedure.id, dataDate)];
  if (r.problems.length) header.push(' Chưa tách được đầy đủ:', ...r.problems.map((p) => `   - ${p}`));
  if (r.notes.length) header.push(' Cần kiểm tra:', ...r.notes.map((n) => `   - ${n}`));
  const root = doc.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (key === 'id') pair.key.commentBefore = header.join('\n');
      const c = comments[key];
      if (c) pair.key.commentBefore = c.map((l) => ` ${l}`).join('\n');
    }
  }
  return doc.toString(PRINT);
}

function fieldMatches(field: string, wanted: readonly string[]): boolean {
  if (!wanted.length) return true;
  const f = fold(field.toLowerCase());
  return wanted.some((w) => f.includes(fold(w.toLowerCase().trim())));
}

function channelLine(c: Channel): string {
  return `${c.method}: ${c.time} / ${c.fee}`;
}

function compareWithCurated(national: Procedure, curatedPath: string): string[] {
  try {
    const parsed = procedureSchema.safeParse(parseYaml(readFileSync(curatedPath, 'utf8')));
    if (!parsed.success) return [];
    const out: string[] = [];
    for (const nc of national.channels) {
      const cc = parsed.data.channels.find((c) => c.method === nc.method);
      if (!cc) out.push(`Cổng có cách nộp ${nc.method} (${nc.time} / ${nc.fee}) mà tệp chưa có.`);
      else if ((nc.feeAmount !== undefined && cc.feeAmount !== undefined && nc.feeAmount !== cc.feeAmount) || (nc.timeDays !== undefined && cc.timeDays !== undefined && nc.timeDays !== cc.timeDays)) {
        out.push(`Khác với Cổng: tệp ghi ${channelLine(cc)}; Cổng ghi ${channelLine(nc)}.`);
      }
    }
    return out;
  } catch {
    return [];
  }
}

/** Imports national records into YAML files; never throws for bad records, only for an unreadable input file. */
export function importNational(opts: ImportNationalOptions): ImportNationalReport {
  const dated = opts.dataDate ? { date: opts.dataDate, from: 'configured' as const } : nationalDataDate(opts.file, { configured: opts.configuredDate, knowledgeDir: opts.knowledgeDir });
  const dataDate = dated.date;
  const outDir = resolve(opts.outDir);
  const report: ImportNationalReport = {
    dataDate: dated,
    lines: 0,
    unreadable: 0,
    selected: 0,
    quality: { full: 0, partial: 0, none: 0 },
    sections: Object.fromEntries(NATIONAL_SECTIONS.map((k) => [k, { ok: 0, partial: 0, missing: 0, failed: 0 }])) as ImportNationalReport['sections'],
    outcomes: { written: 0, updated: 0, 'skipped-curated': 0, 'skipped-exists': 0, invalid: 0 },
    records: [],
  };
  const codes = new Set((opts.codes ?? []).map((c) => c.trim()).filter(Boolean));
  const fields = opts.fields ?? [];
  const existing = scanProcedureFiles([...opts.existingDirs, outDir].map((d) => resolve(d)));
  const owners = new Map<string, ProcedureFileInfo>();
  for (const info of existing) for (const code of new Set([info.id, ...info.nationalCodes])) if (!owners.has(code)) owners.set(code, info);
  const done = new Set<string>();

  for (const line of readFileSync(opts.file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    report.lines++;
    let rec: NationalRecord;
    try {
      const parsed: unknown = JSON.parse(line);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      rec = parsed as NationalRecord;
    } catch {
      report.unreadable++;
      continue;
    }
    if (codes.size && !codes.has(String(rec.ma_thu_tuc ?? '').trim())) continue;
    if (!fieldMatches(String(rec.linh_vuc ?? ''), fields)) continue;
    const r = importRecord(rec, dataDate);
    if (!r) {
      report.unreadable++;
      continue;
    }
    const code = r.procedure.id;
    if (done.has(code)) continue;
    done.add(code);
    report.selected++;
    report.quality[r.quality]++;
    for (const k of NATIONAL_SECTIONS) report.sections[k][r.sections[k]]++;
    const target = join(outDir, `${code}.yaml`);
    const rel = relative(process.cwd(), target) || target;
    const entry: RecordReport = { code, name: r.procedure.name, quality: r.quality, outcome: 'written', file: rel, lines: [...r.problems, ...r.notes] };
    const owner = owners.get(code);
    if (owner && resolve(owner.path) !== target) {
      entry.outcome = 'skipped-curated';
      entry.file = relative(process.cwd(), owner.path) || owner.path;
      entry.lines = [`Đã có trong ${entry.file} (id ${owner.id}): không tạo bản trùng.`, ...(opts.update ? compareWithCurated(r.procedure, owner.path) : [])];
    } else if (owner) {
      if (owner.status !== 'needs-review') {
        entry.outcome = 'skipped-curated';
        entry.lines = [`Tệp đã được rà soát (status: ${owner.status}): không ghi đè; sửa trực tiếp tệp.`, ...(opts.update ? compareWithCurated(r.procedure, owner.path) : [])];
      } else if (!opts.update) {
        entry.outcome = 'skipped-exists';
        entry.lines = ['Tệp đã có từ lần nhập trước: thêm --update để ghi đè bằng dữ liệu mới.'];
      } else entry.outcome = 'updated';
    }
    if (entry.outcome === 'written' || entry.outcome === 'updated') {
      const text = procedureYaml(r, dataDate);
      const issues = checkYamlText(text, rel, procedureSchema).filter((i) => i.severity === 'error');
      if (issues.length) {
        entry.outcome = 'invalid';
        entry.issues = issues;
        entry.lines = [...issues.map((i) => `${i.message}${i.hint ? ` (${i.hint})` : ''}`), ...entry.lines];
      } else {
        writeFileAtomic(target, text);
        owners.set(code, { path: target, id: code, nationalCodes: [code], status: 'needs-review' });
      }
    }
    report.outcomes[entry.outcome]++;
    report.records.push(entry);
  }
  return report;
}

const OUTCOME_LABEL: Record<RecordOutcome, string> = {
  written: 'đã tạo',
  updated: 'đã cập nhật',
  'skipped-curated': 'đã có mục biên tập, bỏ qua',
  'skipped-exists': 'đã có tệp, bỏ qua',
  invalid: 'không hợp lệ, không ghi',
};
const QUALITY_LABEL: Record<ParseQuality, string> = { full: 'đầy đủ', partial: 'một phần', none: 'không tách được' };

/** The report staff read: totals first, then one line per record that needs attention. */
export function formatImportReport(r: ImportNationalReport, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  for (const rec of r.records) {
    const attention = rec.outcome !== 'written' && rec.outcome !== 'updated' ? true : rec.quality !== 'full';
    if (!attention && !opts.verbose) continue;
    out.push(`${rec.code} [${OUTCOME_LABEL[rec.outcome]}; tách ${QUALITY_LABEL[rec.quality]}] ${rec.name.slice(0, 80)}`);
    for (const l of rec.lines.slice(0, opts.verbose ? 50 : 6)) out.push(`    - ${l}`);
  }
  if (out.length) out.push('');
  const s = r.sections;
  const sec = (k: NationalSection) => `${SECTION_LABELS[k]}: ${s[k].ok} đủ, ${s[k].partial} một phần, ${s[k].missing} Cổng không có, ${s[k].failed} không tách được`;
  const from = { configured: 'theo biến NATIONAL_DATA_DATE', provenance: `theo bảng ${NATIONAL_PROVENANCE_FILE}`, file: 'theo ngày sửa tệp — đặt NATIONAL_DATA_DATE nếu biết ngày thu thập' }[r.dataDate.from];
  out.push(
    `Ngày dữ liệu ghi vào các tệp: ${r.dataDate.date} (${from}).`,
    `Đọc ${r.lines} dòng; ${r.unreadable} dòng không đọc được (không phải bản ghi hoặc thiếu mã/tên); ${r.selected} thủ tục được chọn.`,
    `Kết quả tách: ${r.quality.full} đầy đủ, ${r.quality.partial} một phần, ${r.quality.none + r.unreadable} không tách được.`,
    ...NATIONAL_SECTIONS.map((k) => `  ${sec(k)}`),
    `Tệp: ${r.outcomes.written} tạo mới, ${r.outcomes.updated} cập nhật, ${r.outcomes['skipped-curated']} bỏ qua vì đã có mục biên tập, ${r.outcomes['skipped-exists']} bỏ qua vì đã có tệp, ${r.outcomes.invalid} không hợp lệ.`,
  );
  return out.join('\n');
}

/** True when `dir` looks like a knowledge folder (so the whole base can be validated after an import). */
export function isKnowledgeDir(dir: string): boolean {
  return existsSync(join(dir, 'site.yaml')) && existsSync(join(dir, 'replies.yaml'));
}
