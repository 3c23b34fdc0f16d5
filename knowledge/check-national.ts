/**
 * Cross-check of curated procedures against the national portal records of their codes
 * (`npm run kb -- check-national FILE`, and the staff console later): processing time per
 * channel, fee, level and agency, number of documents to hand in, forms and the circular
 * each form comes from. It lists differences for staff to confirm or fix, with a short
 * excerpt of the portal's text beside ours; it never changes a file.
 *
 * The portal is not always right (its records lag behind new circulars, time units get
 * lost, only the first fee tier shows): a difference is a question for staff, not an
 * error. The excerpts are for the report only; nothing from the records is written into
 * the repository. Report text is Vietnamese because staff read it.
 *
 * Decision: the first national code of an entry is the procedure it explains and is
 * compared field by field; further codes are variants (another level, another force)
 * whose details differ by design, so only their presence in the file is checked.
 */
import { readFileSync } from 'node:fs';
import { fold } from '../intents/normalize.ts';
import { parseChannels, parseDocuments, type NationalRecord } from './national.ts';
import { NATIONAL_CODE, type Channel, type ChannelMethod, type DocumentGroup, type Procedure } from './schema.ts';

/** What a difference is about. */
export type DifferenceAspect = 'time' | 'fee' | 'channel' | 'level' | 'agency' | 'documents' | 'forms';

/** Vietnamese names of the aspects, for the report. */
export const ASPECT_LABELS: Readonly<Record<DifferenceAspect, string>> = Object.freeze({
  time: 'thời hạn',
  fee: 'lệ phí',
  channel: 'cách nộp',
  level: 'cấp thực hiện',
  agency: 'cơ quan',
  documents: 'số giấy tờ phải nộp',
  forms: 'mẫu đơn, tờ khai',
});

/** One point where a curated entry and the portal record of its code disagree. */
export interface NationalDifference {
  procedureId: string;
  code: string;
  aspect: DifferenceAspect;
  channel?: ChannelMethod;
  /** What our entry says, shortened. */
  ours: string;
  /** What the portal says, shortened (an excerpt, never stored). */
  portal: string;
  /** What staff should look at, in Vietnamese. */
  note: string;
}

/** Result of checking a set of procedures against a set of national records. */
export interface CheckNationalReport {
  /** Curated entries looked at. */
  checked: number;
  /** Entries whose first code was found and compared. */
  compared: number;
  differences: NationalDifference[];
  /** Entries with codes (own or in `related`) that the file does not hold. */
  missing: { procedureId: string; codes: string[]; related: string[] }[];
  /** Curated entries without any national code: nothing to compare. */
  noCode: string[];
}

/** Longest excerpt shown from either side. */
const EXCERPT = 140;

const METHOD_LABELS: Readonly<Record<ChannelMethod, string>> = Object.freeze({ 'truc-tiep': 'trực tiếp', 'truc-tuyen': 'trực tuyến', 'buu-chinh': 'bưu chính' });

function excerpt(text: string | undefined, max = EXCERPT): string {
  const t = (text ?? '').replace(/\s+/gu, ' ').trim();
  return t.length <= max ? t : `${t.slice(0, max - 1).trimEnd()}…`;
}

function folded(text: string): string {
  return fold(text.toLowerCase());
}

// ---------------------------------------------------------------------------
// Time

interface PortalTime {
  value?: number;
  unit: 'day' | 'hour' | 'month' | 'unknown' | 'none';
}

function portalTime(c: Channel): PortalTime {
  const m = /^(\d+(?:[.,]\d+)?)\s*(ngày|giờ|phút|tháng|năm)?/iu.exec(c.time);
  if (!m) return { unit: 'none' };
  const value = Number((m[1] as string).replace(',', '.'));
  const unit = (m[2] ?? '').toLowerCase();
  if (!unit) return { value, unit: 'unknown' };
  if (unit === 'ngày') return { value, unit: 'day' };
  if (unit === 'giờ' || unit === 'phút') return { value, unit: 'hour' };
  return { value, unit: 'month' };
}

function compareTime(p: Procedure, code: string, ours: Channel, portal: Channel, out: NationalDifference[]): void {
  const t = portalTime(portal);
  const diff = (note: string) =>
    out.push({ procedureId: p.id, code, aspect: 'time', channel: ours.method, ours: excerpt(ours.time), portal: excerpt(portal.time), note });
  if (t.value === undefined) return;
  if (ours.timeDays === undefined) {
    diff('Cổng có thời hạn bằng số, mục này không ghi timeDays: kiểm tra rồi ghi số ngày nếu đúng.');
    return;
  }
  if (t.unit === 'hour') {
    if (ours.timeDays > 1) diff('Cổng tính bằng giờ, mục này ghi nhiều ngày.');
    return;
  }
  if (t.unit === 'month') {
    diff('Cổng tính thời hạn theo tháng hoặc năm: kiểm tra cách ghi.');
    return;
  }
  if (t.value !== ours.timeDays) {
    diff(t.unit === 'unknown' ? 'Số ngày khác với Cổng (Cổng không ghi đơn vị).' : 'Số ngày khác với Cổng.');
  }
}

// ---------------------------------------------------------------------------
// Fee

const AMOUNT = /(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(?:đồng|đ\b|vnđ)/giu;

function amountsIn(text: string): number[] {
  return [...text.matchAll(AMOUNT)].map((m) => Number((m[1] as string).replace(/[.,]/gu, '')));
}

/** Amounts a channel states; "Như nộp trực tiếp" borrows them from the channel it names. */
function statedAmounts(p: Procedure, c: Channel, depth = 0): number[] {
  if (c.feeAmount !== undefined) return [c.feeAmount];
  const own = amountsIn(c.fee);
  if (own.length || depth > 1) return own;
  const like = /^như nộp (trực tiếp|trực tuyến)/iu.exec(c.fee)?.[1]?.toLowerCase();
  const other = like ? p.channels.find((x) => x.method === (like === 'trực tiếp' ? 'truc-tiep' : 'truc-tuyen')) : undefined;
  return other && other !== c ? statedAmounts(p, other, depth + 1) : own;
}

function compareFee(p: Procedure, code: string, ours: Channel, portal: Channel, out: NationalDifference[]): void {
  const diff = (note: string) =>
    out.push({ procedureId: p.id, code, aspect: 'fee', channel: ours.method, ours: excerpt(ours.fee), portal: excerpt(`${portal.fee}${portal.note ? ` ${portal.note}` : ''}`), note });
  if (portal.feeByProvince) {
    if (!ours.feeByProvince) diff('Cổng ghi lệ phí do HĐND tỉnh quy định; mục này chưa đặt feeByProvince: true.');
    return;
  }
  if (portal.feeAmount === undefined) return;
  if (ours.feeByProvince) {
    if (portal.feeAmount > 0) diff('Mục này ghi do HĐND tỉnh quy định; Cổng ghi một mức chung.');
    return;
  }
  const stated = statedAmounts(p, ours);
  if (portal.feeAmount === 0) {
    if (stated.some((n) => n > 0) && !/miễn|không thu/iu.test(ours.fee)) {
      // The portal writes 0 as a placeholder next to a text that names the fee circular.
      diff(/mức thu|lệ phí|TT-BTC/iu.test(portal.note ?? '') ? 'Cổng ghi "Miễn phí" nhưng phần mô tả dẫn văn bản quy định mức thu (thường là chỗ trống của Cổng): xác nhận mức thu.' : 'Cổng ghi "Miễn phí"; mục này nêu một mức thu.');
    }
    return;
  }
  if (!stated.length) diff('Cổng ghi một số tiền; mục này không nêu số tiền.');
  else if (!stated.includes(portal.feeAmount)) diff('Số tiền khác với Cổng (Cổng chỉ hiện mức đầu tiên).');
}

// ---------------------------------------------------------------------------
// Level and agency

function portalLevels(cap: string | undefined): Set<string> {
  const c = folded(cap ?? '');
  const out = new Set<string>();
  if (c.includes('xa')) out.add('xa');
  if (c.includes('tinh')) out.add('tinh');
  if (/\bbo\b/u.test(c)) out.add('bo');
  if (c.includes('co quan khac')) out.add('khac');
  return out;
}

/** Families of agencies: if the portal names one that our text never mentions, staff should look. */
const AGENCY_FAMILIES: readonly { name: string; re: RegExp }[] = [
  { name: 'Công an', re: /cong an|canh sat/u },
  { name: 'Ủy ban nhân dân', re: /uy ban nhan dan|\bubnd\b/u },
  { name: 'Bảo hiểm xã hội', re: /bao hiem xa hoi|\bbhxh\b/u },
  { name: 'Văn phòng đăng ký đất đai', re: /dang ky dat dai/u },
  { name: 'Cơ quan đăng ký kinh doanh', re: /dang ky kinh doanh/u },
  { name: 'Tòa án', re: /toa an/u },
  { name: 'Trung tâm dịch vụ việc làm', re: /dich vu viec lam/u },
];

function compareLevelAndAgency(p: Procedure, code: string, rec: NationalRecord, out: NationalDifference[]): void {
  const theirs = portalLevels(rec.cap_thuc_hien);
  if (theirs.size) {
    const ours = new Set<string>(p.levels);
    const onlyTheirs = [...theirs].filter((l) => !ours.has(l));
    const onlyOurs = [...ours].filter((l) => !theirs.has(l));
    if (onlyTheirs.length || onlyOurs.length) {
      out.push({
        procedureId: p.id,
        code,
        aspect: 'level',
        ours: p.levels.join(', '),
        portal: excerpt(rec.cap_thuc_hien),
        note: `Cấp thực hiện khác${onlyTheirs.length ? `; Cổng có thêm: ${onlyTheirs.join(', ')}` : ''}${onlyOurs.length ? `; mục này có thêm: ${onlyOurs.join(', ')}` : ''}.`,
      });
    }
  }
  const portalAgency = [rec.co_quan_thuc_hien, rec.co_quan_co_tham_quyen].filter(Boolean).join('; ');
  if (!portalAgency.trim()) return;
  const theirText = folded(portalAgency);
  const ourText = folded([p.agency, ...p.where].join(' '));
  const unnamed = AGENCY_FAMILIES.filter((f) => f.re.test(theirText) && !f.re.test(ourText)).map((f) => f.name);
  if (unnamed.length) {
    out.push({ procedureId: p.id, code, aspect: 'agency', ours: excerpt(p.agency), portal: excerpt(portalAgency), note: `Cổng nêu ${unnamed.join(', ')}; mục này không nhắc tới.` });
  }
}

// ---------------------------------------------------------------------------
// Documents and forms

/** Papers to hand in per group: shown-only papers and rows without a count are left out. */
function handedIn(groups: readonly DocumentGroup[]): number[] {
  return groups.map((g) => g.items.filter((i) => !i.showOnly && !/xuất trình/iu.test(g.group) && i.original + i.copy > 0).length).filter((n) => n > 0);
}

function compareDocuments(p: Procedure, code: string, rec: NationalRecord, out: NationalDifference[]): void {
  const portal = handedIn(parseDocuments(rec.thanh_phan_ho_so ?? ''));
  if (!portal.length) return;
  const ours = p.documents.flatMap((g) => g.items).filter((i) => !i.showOnly && i.original + i.copy > 0).length;
  const total = portal.reduce((a, b) => a + b, 0);
  const smallest = Math.min(...portal);
  if (ours < smallest || ours > total) {
    out.push({
      procedureId: p.id,
      code,
      aspect: 'documents',
      ours: `${ours} giấy tờ phải nộp`,
      portal: portal.length > 1 ? `${total} giấy tờ trong ${portal.length} nhóm trường hợp (nhóm ít nhất ${smallest})` : `${total} giấy tờ`,
      note: ours < smallest ? 'Mục này ít giấy tờ hơn nhóm trường hợp ít nhất trên Cổng.' : 'Mục này nhiều giấy tờ hơn tổng trên Cổng.',
    });
  }
}

/** "Mẫu CT01", "Mẫu số 1", "mẫu TK01", "Mẫu ĐKX10", "Mẫu số 01/2025/LLTP" → a comparable code. */
// A count glued to the form number ("Mẫu số 181 bản chính" = form 18, 1 copy) is left out.
const FORM = /m[ẫẩ]u\s*(?:số\s*)?([A-ZĐ]{1,4}\d{1,2}[a-zđ]?|\d{1,2}[a-zđ]?)(?!\/)(?!\d(?!\s?bản))/giu;
const LEGAL = /\d{1,4}\/\d{4}\/[A-ZĐ]+(?:-[A-ZĐ]+)*/u;

/** "31/2023/TT-BCA" and a cut-off "31/2023/TT-B" are the same document: compare number and year. */
function legalKey(code: string): string {
  return /^\d{1,4}\/\d{4}/u.exec(code)?.[0] ?? code;
}

function formKey(raw: string): string {
  return raw.toUpperCase().replace(/^0+(?=\d)/u, '');
}

/** Form codes in a text, each with the legal document named shortly after it (if any). */
function formsIn(text: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const m of text.matchAll(FORM)) {
    const key = formKey(m[1] as string);
    const after = text.slice((m.index ?? 0) + m[0].length, (m.index ?? 0) + m[0].length + 120);
    const source = LEGAL.exec(after)?.[0];
    if (!out.has(key) || (source && !out.get(key))) out.set(key, source);
  }
  return out;
}

function ourFormText(p: Procedure): string {
  return [
    ...p.documents.flatMap((g) => g.items.flatMap((i) => [i.name, i.form ?? '', i.note ?? ''])),
    ...p.steps,
    p.conditions ?? '',
  ].join('\n');
}

function compareForms(p: Procedure, code: string, rec: NationalRecord, out: NationalDifference[]): void {
  const theirs = formsIn(rec.thanh_phan_ho_so ?? '');
  if (!theirs.size) return;
  const text = ourFormText(p);
  const ours = formsIn(text);
  const upper = text.toUpperCase();
  for (const [key, source] of theirs) {
    // "TK01a" named without the word "mẫu" still counts; bare numbers ("1") do not.
    const named = ours.has(key) || (/[A-ZĐ]/u.test(key) && new RegExp(`(?<![A-ZĐ0-9])${key}(?![0-9])`, 'u').test(upper));
    if (!named) {
      out.push({ procedureId: p.id, code, aspect: 'forms', ours: '(không nhắc)', portal: `Mẫu ${key}${source ? ` (${source})` : ''}`, note: `Cổng nêu mẫu ${key}; mục này không nhắc tới.` });
      continue;
    }
    const mine = ours.get(key);
    if (source && mine && legalKey(source) !== legalKey(mine)) {
      out.push({ procedureId: p.id, code, aspect: 'forms', ours: `Mẫu ${key} (${mine})`, portal: `Mẫu ${key} (${source})`, note: 'Văn bản ban hành mẫu khác với Cổng: kiểm tra văn bản nào đang có hiệu lực.' });
    }
  }
}

// ---------------------------------------------------------------------------

function compareChannels(p: Procedure, code: string, rec: NationalRecord, out: NationalDifference[]): void {
  const portal = parseChannels(rec.cach_thuc_thuc_hien ?? '').channels;
  if (!portal.length) return;
  for (const pc of portal) {
    const ours = p.channels.find((c) => c.method === pc.method);
    if (!ours) {
      out.push({ procedureId: p.id, code, aspect: 'channel', channel: pc.method, ours: '(không có)', portal: excerpt(`${pc.time}; ${pc.fee}`), note: `Cổng có cách nộp ${METHOD_LABELS[pc.method]}; mục này không có.` });
      continue;
    }
    compareTime(p, code, ours, pc, out);
    compareFee(p, code, ours, pc, out);
  }
  for (const c of p.channels) {
    if (!portal.some((pc) => pc.method === c.method)) {
      out.push({ procedureId: p.id, code, aspect: 'channel', channel: c.method, ours: excerpt(`${c.time}; ${c.fee}`), portal: '(không có)', note: `Mục này có cách nộp ${METHOD_LABELS[c.method]}; Cổng không ghi.` });
    }
  }
}

/**
 * Compares every curated procedure with the national records of its codes. Records are
 * looked up by `ma_thu_tuc`; procedures still `needs-review` are skipped (they are copies
 * of the portal). Pure: the caller reads the files.
 */
export function checkNational(procedures: readonly Procedure[], records: ReadonlyMap<string, NationalRecord>): CheckNationalReport {
  const report: CheckNationalReport = { checked: 0, compared: 0, differences: [], missing: [], noCode: [] };
  for (const p of procedures) {
    if (p.status !== 'curated') continue;
    report.checked++;
    const relatedCodes = p.related.filter((r) => NATIONAL_CODE.test(r));
    const missingCodes = p.nationalCodes.filter((c) => !records.has(c));
    const missingRelated = relatedCodes.filter((c) => !records.has(c));
    if (missingCodes.length || missingRelated.length) report.missing.push({ procedureId: p.id, codes: missingCodes, related: missingRelated });
    if (!p.nationalCodes.length) {
      report.noCode.push(p.id);
      continue;
    }
    const primary = p.nationalCodes.find((c) => records.has(c));
    const rec = primary ? records.get(primary) : undefined;
    if (!primary || !rec) continue;
    report.compared++;
    compareChannels(p, primary, rec, report.differences);
    compareLevelAndAgency(p, primary, rec, report.differences);
    compareDocuments(p, primary, rec, report.differences);
    compareForms(p, primary, rec, report.differences);
  }
  return report;
}

/**
 * Reads the national records a set of procedures needs (their codes and national codes
 * in `related`) from a JSON-lines file; other lines are skipped without parsing their
 * sections. Bad lines are counted, not fatal.
 */
export function readNationalRecords(path: string, procedures: readonly Procedure[]): { records: Map<string, NationalRecord>; lines: number; badLines: number } {
  const wanted = new Set(procedures.flatMap((p) => [...p.nationalCodes, ...p.related.filter((r) => NATIONAL_CODE.test(r))]));
  const records = new Map<string, NationalRecord>();
  let lines = 0;
  let badLines = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    lines++;
    try {
      const rec = JSON.parse(line) as NationalRecord | null;
      const code = typeof rec?.ma_thu_tuc === 'string' ? rec.ma_thu_tuc.trim() : '';
      if (!rec || !NATIONAL_CODE.test(code)) badLines++;
      else if (wanted.has(code) && !records.has(code)) records.set(code, rec);
    } catch {
      badLines++;
    }
  }
  return { records, lines, badLines };
}

/** What `checkNationalFile` returns: the report plus what was read. */
export interface CheckNationalFileResult {
  report: CheckNationalReport;
  lines: number;
  badLines: number;
  /** Records found for the entries' codes. */
  found: number;
}

/**
 * The whole check for one file, as the CLI and the staff console run it: reads the records
 * the procedures need and compares. `ids` narrows it to some procedures.
 */
export function checkNationalFile(procedures: readonly Procedure[], file: string, ids: readonly string[] = []): CheckNationalFileResult {
  const chosen = ids.length ? procedures.filter((p) => ids.includes(p.id)) : procedures;
  const { records, lines, badLines } = readNationalRecords(file, chosen);
  return { report: checkNational(chosen, records), lines, badLines, found: records.size };
}

/** The one line CI and staff look for: how many differences, how many entries could not be compared. */
export function summaryLine(r: CheckNationalReport): string {
  const withDiff = new Set(r.differences.map((d) => d.procedureId)).size;
  return `Đối chiếu với Cổng: ${r.differences.length} khác biệt ở ${withDiff}/${r.compared} thủ tục đã so sánh; ${r.missing.length} thủ tục có mã không có trong tệp; ${r.noCode.length} thủ tục chưa có mã quốc gia (${r.checked} thủ tục đã rà soát).`;
}

/** Staff-readable report: differences grouped by procedure, portal text beside ours, then what could not be checked. */
export function formatCheckNational(r: CheckNationalReport, opts: { limit?: number } = {}): string {
  const lines: string[] = [];
  const byProcedure = new Map<string, NationalDifference[]>();
  for (const d of r.differences) {
    const list = byProcedure.get(d.procedureId) ?? [];
    list.push(d);
    byProcedure.set(d.procedureId, list);
  }
  const limit = opts.limit ?? Infinity;
  let shown = 0;
  for (const [id, diffs] of byProcedure) {
    if (shown >= limit) break;
    shown++;
    lines.push(`\n${id} (mã ${diffs[0]?.code}): ${diffs.length} khác biệt`);
    for (const d of diffs) {
      const where = d.channel ? `${ASPECT_LABELS[d.aspect]}, ${METHOD_LABELS[d.channel]}` : ASPECT_LABELS[d.aspect];
      lines.push(`  • [${where}] ${d.note}`, `      mục này: ${d.ours}`, `      Cổng:     ${d.portal}`);
    }
  }
  if (byProcedure.size > shown) lines.push(`\n… và ${byProcedure.size - shown} thủ tục khác (bỏ --limit để xem hết).`);
  if (r.missing.length) {
    lines.push('\nMã không có trong tệp bản ghi quốc gia:');
    for (const m of r.missing) {
      const parts = [m.codes.length ? `mã ${m.codes.join(', ')}` : '', m.related.length ? `liên quan ${m.related.join(', ')}` : ''].filter(Boolean);
      lines.push(`  • ${m.procedureId}: ${parts.join('; ')}`);
    }
  }
  if (r.noCode.length) lines.push(`\nChưa có mã thủ tục quốc gia (không đối chiếu được): ${r.noCode.join(', ')}`);
  lines.push('', summaryLine(r));
  return lines.join('\n').replace(/^\n/u, '');
}
