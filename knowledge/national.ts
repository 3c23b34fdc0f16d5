/**
 * Reads records of the national TTHC portal shape (`../shared/data/national-tthc-2026.jsonl`:
 * ma_thu_tuc, ten_thu_tuc, cach_thuc_thuc_hien, thanh_phan_ho_so, …) into procedures.
 *
 * The records are messy: page tables flattened into text ("Hình thức nộpThời gianPhí,
 * lệ phíMô tảTrực tuyến1Miễn phí…"), time units lost, only the first fee tier, stale
 * lines. Parsing is tolerant: what parses is kept, what does not is replaced by an honest
 * "see the portal" line, and every section reports how far it got (`sections`), so the
 * importer can say which records parsed fully, partly or not at all. Every imported
 * procedure is marked `needs-review`.
 *
 * Problem and note strings are Vietnamese: they end up in YAML comments and in the
 * import report that knowledge-base staff read.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NATIONAL_CODE, type Channel, type ChannelMethod, type DocumentGroup, type DocumentItem, type LegalBasis, type Procedure } from './schema.ts';

/** The crawler's field names, all optional because real lines miss some. */
export interface NationalRecord {
  ma_thu_tuc?: string;
  ten_thu_tuc?: string;
  so_quyet_dinh?: string;
  cap_thuc_hien?: string;
  linh_vuc?: string;
  doi_tuong_thuc_hien?: string;
  co_quan_thuc_hien?: string;
  co_quan_co_tham_quyen?: string;
  dia_chi_tiep_nhan?: string;
  trinh_tu_thuc_hien?: string;
  cach_thuc_thuc_hien?: string;
  thanh_phan_ho_so?: string;
  can_cu_phap_ly?: string;
  yeu_cau_dieu_kien?: string;
  ket_qua_xu_ly?: string;
  detail_url?: string;
}

/**
 * How far one flattened section got:
 * `ok` structured completely; `partial` structured but some text could not be placed;
 * `missing` the portal has nothing for it; `failed` text present but nothing structured.
 */
export type SectionStatus = 'ok' | 'partial' | 'missing' | 'failed';

/** The four sections the importer parses out of flattened tables. */
export const NATIONAL_SECTIONS = ['channels', 'steps', 'documents', 'legalBasis'] as const;
export type NationalSection = (typeof NATIONAL_SECTIONS)[number];

/** Vietnamese section names for reports and YAML comments. */
export const SECTION_LABELS: Readonly<Record<NationalSection, string>> = Object.freeze({
  channels: 'cách thức thực hiện (thời hạn, lệ phí)',
  steps: 'trình tự thực hiện',
  documents: 'thành phần hồ sơ',
  legalBasis: 'căn cứ pháp lý',
});

/** full: every section `ok`; none: no section yielded anything; partial: the rest. */
export type ParseQuality = 'full' | 'partial' | 'none';

export interface ImportResult {
  procedure: Procedure;
  /** Sections that could not be (fully) parsed, in Vietnamese, one line each. */
  problems: string[];
  /** Smaller doubts staff should check (lost time unit, reworded district offices…). */
  notes: string[];
  sections: Record<NationalSection, SectionStatus>;
  quality: ParseQuality;
}

/** What one section parser returns. */
interface Parsed<T> {
  value: T;
  status: SectionStatus;
  notes: string[];
}

const NO_INFO = /^\s*(?:không có thông tin|khong co thong tin|không|không có|không quy định|--)?\s*[.;]?\s*$/iu;
const PORTAL_HINT = 'Xem chi tiết trên Cổng Dịch vụ công quốc gia hoặc hỏi nơi tiếp nhận hồ sơ.';
/** Longest text kept in one field; longer text is cut with an ellipsis and noted. */
const MAX = Object.freeze({ step: 900, item: 600, group: 150, note: 500, legalName: 250, result: 400, agency: 300, conditions: 800, steps: 15 });

function clean(s: string | undefined): string {
  return (s ?? '')
    .replace(/\u00a0/g, ' ')
    .replace(/<br\s*\/?>/giu, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '‹')
    .replace(/&gt;/g, '›')
    .replace(/&quot;/g, '"')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
}

function oneLine(s: string): string {
  return s.replace(/\s*\n+\s*/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

function cut(s: string, max: number, notes?: string[], what?: string): string {
  if (s.length <= max) return s;
  if (notes && what) notes.push(`${what} dài, đã cắt bớt: đọc bản đầy đủ trên Cổng.`);
  return `${s.slice(0, max - 1).trimEnd()}…`;
}

const DISTRICT_RULES: [RegExp, string][] = [
  [/(ủy ban nhân dân|uỷ ban nhân dân|ubnd)\s+(?:cấp\s+)?(?:huyện|quận|thị xã)\b/giu, '$1 cấp xã'],
  [/(phòng[^\n.]{0,40}?|công an|chi nhánh[^\n.]{0,40}?)\s+(?:cấp\s+)?(?:huyện|quận|thị xã)\b/giu, '$1 cấp xã'],
  [/\bcấp huyện\b/giu, 'cấp xã'],
];

/**
 * Removes references to the abolished district level (since 1 July 2025), counting what
 * it changed so the report can ask staff to check. Never applied to legal titles: a
 * title is quoted as the text was issued.
 */
function modernize(s: string, notes?: string[]): string {
  let out = s;
  let district = 0;
  for (const [re, to] of DISTRICT_RULES) {
    out = out.replace(re, (...m: unknown[]) => {
      district++;
      return to.replace('$1', String(m[1] ?? ''));
    });
  }
  if (notes && district) notes.push('Đã đổi "cấp huyện/quận" thành "cấp xã" (không còn cấp huyện từ 01/7/2025): kiểm tra cơ quan đúng.');
  return out;
}

/** Household books, one or a list of them ("sổ hộ khẩu, sổ tạm trú"): no longer issued or asked for since 2023. */
const HOUSEHOLD_BOOKS = /(?:sổ hộ khẩu|sổ tạm trú)(?:\s*(?:,|\/|hoặc|và)\s*(?:sổ hộ khẩu|sổ tạm trú))*/giu;
/**
 * The identity card (chứng minh nhân dân) could be used only until 31/12/2024 (Luật Căn
 * cước 2023, Điều 46); the card people hold now is the thẻ căn cước.
 */
const IDENTITY_CARD = /(?:giấy\s+)?(?:chứng minh (?:thư )?nhân dân|CMTND|CMND)/giu;
/** What the rewrites may leave twice in a row ("thẻ căn cước/thẻ căn cước"). */
const REPEATED_PAPER = /(thẻ căn cước|thông tin cư trú)(?:\s*(?:,|\/|hoặc|và)\s*\1)+/giu;

function sameCase(found: string, to: string): string {
  return /^\p{Lu}/u.test(found) ? to.charAt(0).toUpperCase() + to.slice(1) : to;
}

/**
 * Papers a citizen can no longer be asked for, in what a citizen reads (document items,
 * steps, conditions): the identity card becomes the căn cước; in document items the
 * household books become residence information. Repeats the rewrite makes are merged.
 */
function currentPapers(s: string, notes: string[], opts: { householdBooks: boolean }): string {
  let out = s.replace(IDENTITY_CARD, (m) => {
    notes.push('Đã đổi "chứng minh nhân dân" thành "thẻ căn cước" (chứng minh nhân dân hết giá trị từ 01/01/2025): kiểm tra lại câu.');
    return sameCase(m, 'thẻ căn cước');
  });
  if (opts.householdBooks) {
    out = out.replace(HOUSEHOLD_BOOKS, (m) => {
      notes.push('Đã đổi "sổ hộ khẩu/sổ tạm trú" thành "thông tin cư trú": kiểm tra lại câu.');
      return sameCase(m, 'thông tin cư trú');
    });
  }
  return out.replace(REPEATED_PAPER, '$1');
}

function dedupeNotes(notes: string[]): string[] {
  return [...new Set(notes)];
}

// ---------------------------------------------------------------------------
// Channels: "Hình thức nộpThời gianPhí, lệ phíMô tả" + rows "<method><time><fee><description>".

const CHANNEL_HEADER = /^\s*Hình thức nộp\s*Thời gian\s*Phí,?\s*lệ phí\s*Mô tả\s*/iu;
const METHOD_NAMES: Record<string, ChannelMethod> = { 'Trực tuyến': 'truc-tuyen', 'Trực tiếp': 'truc-tiep', 'Dịch vụ bưu chính': 'buu-chinh' };
const AMOUNT = String.raw`(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(Việt Nam Đồng|VNĐ|VND|Đồng|đồng|USD|EUR)`;
const FEE = String.raw`(Miễn phí|Không có thông tin|${AMOUNT})`;
const UNIT = String.raw`([Nn]gày làm việc|[Nn]gày|[Gg]iờ làm việc|[Gg]iờ|[Tt]háng|[Nn]ăm|[Pp]hút)`;
/** A row start: method, then a time (number with optional unit, or no info), then a fee. */
const ROW_STRICT = new RegExp(String.raw`(Trực tuyến|Trực tiếp|Dịch vụ bưu chính)(?:(\d+(?:[.,]\d+)?)\s*${UNIT}?|(Không có thông tin))?${FEE}`, 'uy');
/** A row whose time is free words ("Không phải trả kết quả…") before the fee. */
const ROW_LOOSE = new RegExp(String.raw`(Trực tuyến|Trực tiếp|Dịch vụ bưu chính)([\p{Lu}0-9][^\n]{0,80}?)${FEE}`, 'uy');
const METHOD_START = /Trực tuyến|Trực tiếp|Dịch vụ bưu chính/gu;

interface ChannelRow {
  start: number;
  end: number;
  method: ChannelMethod;
  time: string;
  timeDays?: number;
  fee: string;
  feeAmount?: number;
  feeRaw: string;
  ambiguous: boolean;
  unitLost: boolean;
}

function amountNumber(digits: string): number {
  return Number(digits.replace(/[.,]/g, ''));
}

function viAmount(n: number): string {
  return n.toLocaleString('de-DE');
}

function unitText(unit: string): string {
  return unit.toLowerCase();
}

function rowAt(body: string, pos: number): ChannelRow | null {
  ROW_STRICT.lastIndex = pos;
  const m = ROW_STRICT.exec(body);
  if (m) {
    const method = METHOD_NAMES[m[1] as string] as ChannelMethod;
    const num = m[2];
    const unit = m[3];
    const feeRaw = m[5] as string;
    const amountDigits = m[6];
    const currency = m[7];
    let ambiguous = false;
    let unitLost = false;
    let time: string;
    let timeDays: number | undefined;
    if (num && !unit && amountDigits) {
      // "Trực tuyến120 VNĐ": the time and the amount run together; no way to split them.
      ambiguous = true;
      time = 'Chưa rõ thời hạn; bạn hỏi nơi tiếp nhận hồ sơ.';
    } else if (num && unit) {
      time = `${num} ${unitText(unit)}`;
      if (/^ngày/iu.test(unit)) timeDays = Number(num.replace(',', '.'));
    } else if (num) {
      unitLost = true;
      // The unit is the staff's to check (report, YAML comment); the citizen gets a plain hedge.
      time = `${num} (thường là ngày làm việc; bạn hỏi lại nơi nộp để chắc chắn)`;
    } else {
      time = 'Chưa rõ thời hạn; bạn hỏi nơi tiếp nhận hồ sơ.';
    }
    const { fee, feeAmount } = ambiguous
      ? { fee: 'Chưa rõ lệ phí; bạn hỏi nơi tiếp nhận hồ sơ.', feeAmount: undefined }
      : feeFrom(feeRaw, amountDigits, currency);
    return { start: pos, end: ROW_STRICT.lastIndex, method, time, timeDays, fee, feeAmount, feeRaw, ambiguous, unitLost };
  }
  ROW_LOOSE.lastIndex = pos;
  const l = ROW_LOOSE.exec(body);
  if (l && !/Trực tuyến|Trực tiếp|Dịch vụ bưu chính/u.test(l[2] as string)) {
    const method = METHOD_NAMES[l[1] as string] as ChannelMethod;
    const feeRaw = l[3] as string;
    const amountDigits = l[4];
    const currency = l[5];
    const { fee, feeAmount } = feeFrom(feeRaw, amountDigits, currency);
    return { start: pos, end: ROW_LOOSE.lastIndex, method, time: oneLine(l[2] as string), fee, feeAmount, feeRaw, ambiguous: false, unitLost: false };
  }
  return null;
}

function describe(raw: string): string | undefined {
  let d = oneLine(raw).trim();
  // The description column often comes wrapped in parentheses: unwrap the leading group.
  if (d.startsWith('(')) {
    let depth = 0;
    for (let i = 0; i < d.length; i++) {
      if (d[i] === '(') depth++;
      else if (d[i] === ')' && --depth === 0) {
        d = `${d.slice(1, i).trim()} ${d.slice(i + 1).trim()}`.trim();
        break;
      }
    }
  }
  if (!d || NO_INFO.test(d) || /^\(?\s*không\s*\)?\.?$/iu.test(d)) return undefined;
  return d;
}

function channelsSection(text: string): Parsed<Channel[]> {
  const notes: string[] = [];
  const body = clean(text).replace(CHANNEL_HEADER, '');
  if (NO_INFO.test(body)) return { value: [], status: 'missing', notes };
  const rows: ChannelRow[] = [];
  for (const m of body.matchAll(METHOD_START)) {
    const pos = m.index ?? 0;
    const prev = rows[rows.length - 1];
    if (prev && pos < prev.end) continue;
    const row = rowAt(body, pos);
    if (row) rows.push(row);
  }
  if (!rows.length) return { value: [], status: 'failed', notes };
  let status: SectionStatus = 'ok';
  const lead = body.slice(0, rows[0]!.start).trim();
  if (lead.length > 3) {
    status = 'partial';
    notes.push(`Có đoạn chữ trước bảng cách thức thực hiện chưa xếp được: "${cut(oneLine(lead), 80)}".`);
  }
  const channels: Channel[] = [];
  rows.forEach((row, i) => {
    const descRaw = body.slice(row.end, rows[i + 1]?.start ?? body.length);
    const desc = describe(descRaw);
    if (row.ambiguous) {
      status = 'partial';
      notes.push(`Cách nộp ${row.method}: thời hạn và lệ phí dính liền nhau trên Cổng ("${row.feeRaw}"), không tách được.`);
    }
    if (row.unitLost) notes.push(`Cách nộp ${row.method}: Cổng không ghi đơn vị thời hạn (ngày làm việc hay ngày).`);
    const byProvince = /hđnd|hội đồng nhân dân/iu.test(desc ?? '');
    let fee = row.fee;
    let feeAmount = row.feeAmount;
    if (byProvince) {
      fee = 'Do HĐND tỉnh quy định.';
      feeAmount = undefined;
      const portal = row.ambiguous ? '' : row.feeAmount === 0 ? ' (Cổng ghi "Miễn phí")' : row.feeAmount ? ` (Cổng ghi ${row.fee})` : '';
      notes.push(`Cách nộp ${row.method}: lệ phí do HĐND tỉnh quy định${portal}; ghi mức của tỉnh mình.`);
    }
    const existing = channels.find((c) => c.method === row.method);
    if (existing) {
      // A second row for the same method (another fee tier or case): keep it as a note.
      const extra = `Trường hợp khác: ${row.time}; ${fee}${desc ? ` (${desc})` : ''}`;
      existing.note = cut(modernize(existing.note ? `${existing.note} ${extra}` : extra), MAX.note);
      notes.push(`Cách nộp ${row.method} ghi hai lần trên Cổng: dòng sau đã gộp vào ghi chú.`);
      return;
    }
    const note = desc ? cut(modernize(desc, notes), MAX.note, notes, `Mô tả cách nộp ${row.method}`) : undefined;
    channels.push({
      method: row.method,
      time: modernize(row.time, notes),
      ...(row.timeDays !== undefined && Number.isFinite(row.timeDays) ? { timeDays: row.timeDays } : {}),
      fee,
      ...(feeAmount !== undefined && Number.isFinite(feeAmount) ? { feeAmount } : {}),
      feeByProvince: byProvince,
      ...(note ? { note } : {}),
    });
  });
  return { value: channels, status, notes: dedupeNotes(notes) };
}

/** "Trực tuyến7 Ngày làm việc10,000 Việt Nam Đồng(…)" → channels. */
export function parseChannels(text: string): { channels: Channel[]; ok: boolean; status: SectionStatus; notes: string[] } {
  const r = channelsSection(text);
  return { channels: r.value, ok: r.value.length > 0, status: r.status, notes: r.notes };
}

// ---------------------------------------------------------------------------
// Steps: "Bước 1: …" blocks, or one step per line with "a)"/"-" markers.

const STEP_MARK = /(?:^|\n|\s)(?=Bước\s*\d{1,2}\s*[:.)\-–]?)/giu;
const SUB_BULLET = /^[+•*]\s*/u;
const LEAD_MARK = /^(?:Bước\s*\d{1,2}\s*[:.)\-–]?\s*|[-–•]\s*|[a-zđ]\)\s*|\d{1,2}[.)]\s+)/iu;

function stepsSection(text: string): Parsed<string[]> {
  const notes: string[] = [];
  const t = clean(text);
  if (NO_INFO.test(t)) return { value: [], status: 'missing', notes };
  let parts: string[];
  const marks = [...t.matchAll(/Bước\s*\d{1,2}\s*[:.)\-–]?/giu)];
  if (marks.length >= 2) {
    parts = t.split(STEP_MARK).map((s) => s.trim()).filter(Boolean);
  } else {
    // One step per line; "a) Nộp hồ sơ:" headings join the line after them; "+" lines join the step before.
    parts = [];
    let pendingHead = '';
    for (const raw of t.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      if ((SUB_BULLET.test(line) || /^\p{Ll}/u.test(line)) && !/^[a-zđ]\)/u.test(line) && parts.length) {
        parts[parts.length - 1] = `${parts[parts.length - 1]} ${line}`;
        continue;
      }
      if (/:\s*$/u.test(line) && line.length < 80) {
        pendingHead = pendingHead ? `${pendingHead} ${line}` : line;
        continue;
      }
      parts.push(pendingHead ? `${pendingHead} ${line.replace(LEAD_MARK, '')}` : line);
      pendingHead = '';
    }
    if (pendingHead) parts.push(pendingHead);
  }
  let steps = parts
    .map((s) => oneLine(s.replace(LEAD_MARK, '')))
    .filter((s) => s.length > 3)
    .map((s) => currentPapers(modernize(s, notes), notes, { householdBooks: false }));
  let status: SectionStatus = steps.length ? 'ok' : 'failed';
  if (steps.length === 1 && (steps[0] as string).length > 400) {
    status = 'partial';
    notes.push('Trình tự thực hiện là một đoạn liền, không tách được thành từng bước.');
  }
  if (steps.length > MAX.steps) {
    const rest = steps.slice(MAX.steps - 1).join(' ');
    steps = [...steps.slice(0, MAX.steps - 1), rest];
    notes.push(`Trình tự có hơn ${MAX.steps} đoạn: các đoạn cuối đã gộp thành một bước.`);
  }
  steps = steps.map((s) => cut(s, MAX.step, notes, 'Một bước trong trình tự'));
  return { value: steps, status, notes: dedupeNotes(notes) };
}

/** Steps: split on "Bước n", else one per line (headings and "+" lines joined). */
export function parseSteps(text: string): string[] {
  return stepsSection(text).value;
}

// ---------------------------------------------------------------------------
// Documents: "[heading]Tên giấy tờMẫu đơn, tờ khaiSố lượng" + rows "<name>[form.docx]<n bản chính[,m bản sao]>".

const DOC_HEADER = /Tên giấy tờ\s*Mẫu đơn,?\s*tờ khai\s*Số lượng/giu;
/** A row ends with its counts; the next row starts right after, with no space. */
const COUNTS = /(\d{1,2}) ?bản chính(?:\s*,\s*(\d{1,2}) ?bản sao)?|(\d{1,2}) ?bản sao/gu;
const FORM_EXT = /\.(?:docx?|pdf|xlsx?|rtf|odt)$/iu;

function splitForm(name: string): { name: string; form?: string } {
  if (!FORM_EXT.test(name)) return { name };
  const extAt = name.search(FORM_EXT);
  // Walk back to the delimiter that ends the document name: ";" ")" or a "." glued to the next word.
  for (let i = extAt - 1; i >= Math.max(0, extAt - 90); i--) {
    const c = name[i] as string;
    const next = name[i + 1] ?? '';
    if (c === ';' || c === ')' || c === ':' || (c === '.' && next !== ' ' && !/\d/u.test(next) && !/\d/u.test(name[i - 1] ?? ''))) {
      const form = name.slice(i + 1).replace(/^[.\s]+/u, '').trim();
      const rest = name.slice(0, i + 1).replace(/[;:]\s*$/u, '').trim();
      if (form.length >= 5 && rest.length >= 3) return { name: rest, form };
      break;
    }
  }
  return { name: name.replace(FORM_EXT, '').trim() };
}

function groupName(raw: string): string {
  let g = oneLine(raw)
    .replace(/^[\s*\-–•]+/u, '')
    .replace(/[\s:]+$/u, '')
    .trim();
  if (!g || /^-+$/u.test(g)) g = 'Giấy tờ phải nộp';
  return cut(g, MAX.group);
}

function itemName(raw: string): string {
  return oneLine(raw)
    .replace(/^[\s\-–•+*]+/u, '')
    .replace(/[\s;,]+$/u, '')
    .trim();
}

function documentsSection(text: string): Parsed<DocumentGroup[]> {
  const notes: string[] = [];
  const t = clean(text);
  if (NO_INFO.test(t)) return { value: [], status: 'missing', notes };
  const headers = [...t.matchAll(DOC_HEADER)];
  // Section k spans from header k to header k+1; its heading is what precedes header k
  // after the last row of section k-1.
  const bodies: { heading: string; body: string }[] = [];
  if (!headers.length) bodies.push({ heading: '', body: t });
  else {
    let heading = t.slice(0, headers[0]!.index).trim();
    headers.forEach((h, k) => {
      const from = (h.index ?? 0) + h[0].length;
      const to = headers[k + 1]?.index ?? t.length;
      bodies.push({ heading, body: t.slice(from, to) });
      heading = '';
    });
  }
  const groups: DocumentGroup[] = [];
  let status: SectionStatus = 'ok';
  let leftover = '';
  for (let k = 0; k < bodies.length; k++) {
    const sec = bodies[k] as { heading: string; body: string };
    const heading = currentPapers(groupName(sec.heading || leftover), notes, { householdBooks: true });
    leftover = '';
    const items: DocumentItem[] = [];
    let last = 0;
    for (const m of sec.body.matchAll(COUNTS)) {
      const at = m.index ?? 0;
      const after = sec.body[at + m[0].length] ?? '';
      // "nộp 01 bản chính hoặc bản sao" inside a name: the real count is glued to the next row.
      const gluedMarker = /^[a-zđ]\)/u.test(sec.body.slice(at + m[0].length, at + m[0].length + 2));
      if (after && !gluedMarker && (/\s/u.test(after) || /[\p{Ll},;]/u.test(after))) continue;
      const raw = itemName(sec.body.slice(last, at));
      last = at + m[0].length;
      if (raw.length < 3) continue;
      const { name, form } = splitForm(raw);
      const original = m[1] !== undefined ? Number(m[1]) : 0;
      const copy = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? Number(m[3]) : 0;
      items.push({
        name: cut(currentPapers(modernize(name, notes), notes, { householdBooks: true }), MAX.item, notes, 'Tên một giấy tờ'),
        ...(form ? { form: cut(form, 120) } : {}),
        original: original > 20 ? original % 10 : original,
        copy: copy > 20 ? copy % 10 : copy,
        showOnly: /xuất trình/iu.test(heading),
      });
    }
    const tail = sec.body.slice(last).trim();
    if (k + 1 < bodies.length) leftover = tail;
    else if (itemName(tail).length > 3) {
      // Text after the last count: a row the portal cut short, or a note. Keep it, flag it.
      // The doubt is the staff's to check (YAML comment, import report), not the citizen's to read.
      items.push({ name: cut(currentPapers(modernize(itemName(tail), notes), notes, { householdBooks: true }), MAX.item, notes, 'Tên một giấy tờ'), original: 0, copy: 0, showOnly: /xuất trình/iu.test(heading) });
      status = 'partial';
      notes.push(`Dòng cuối của thành phần hồ sơ không có số lượng (có thể bị cắt trên Cổng): "${cut(itemName(tail), 60)}".`);
    }
    if (items.length) groups.push({ group: heading, items });
    else if (sec.body.trim().length > 3) {
      status = 'partial';
      notes.push(`Nhóm giấy tờ "${cut(heading, 60)}" không tách được từng dòng.`);
    }
  }
  if (!groups.length) return { value: [], status: 'failed', notes: dedupeNotes(notes) };
  const citizen = citizenDocuments(groups, notes);
  return { value: citizen.length ? citizen : groups, status, notes: dedupeNotes(notes) };
}

// Citizen-grade documents: what a citizen brings, forms first, special cases and notes apart.

/** Sentences written for the officer who receives the dossier, not for the citizen. */
const STAFF_SENTENCE =
  /người tiếp nhận|cán bộ tiếp nhận|công chức tiếp nhận|không được yêu cầu|có trách nhiệm (?:kiểm tra|tiếp nhận|tra cứu|hỗ trợ|đối chiếu|hướng dẫn)|thực hiện khai thác thông tin|cơ quan (?:đăng ký hộ tịch|tiếp nhận|giải quyết|có thẩm quyền)[^.;]{0,60}có trách nhiệm/iu;
/** A document only some applicants bring ("… trong trường hợp ủy quyền", "(nếu có)"). */
const CASE_ITEM = /^(?:trường hợp|đối với trường hợp|trong trường hợp|nếu)(?!\p{L})|(?<!\p{L})(?:trong|đối với) trường hợp(?!\p{L})|\(nếu có\)/iu;
/** A row that is a remark, not a paper ("Trường hợp gửi qua bưu chính thì…", "Cá nhân có quyền…"). */
const NOTE_ITEM = /^(?:trường hợp|đối với|nếu|khi|trong trường hợp|lưu ý|cá nhân|người (?:yêu cầu|có yêu cầu|đề nghị))(?!\p{L})|\sthì\s/iu;
/** The form the citizen fills in: listed first. */
const FORM_ITEM = /^(?:tờ khai|mẫu|đơn|phiếu|bản khai|văn bản đề nghị|giấy đề nghị)(?!\p{L})/iu;
/** Citizen-grade limits: core items shown (the rest behind an option), special items and notes kept. */
const CITIZEN = Object.freeze({ coreItems: 8, caseItems: 8, noteItems: 5, name: 220, note: 260 });
/** Group names the parser gives the special parts (compose.ts shows them behind options). */
const CASES_GROUP = 'Trường hợp đặc biệt';
const NOTES_GROUP = 'Lưu ý';
const MORE_GROUP = 'Thêm giấy tờ khác';

function sentences(t: string): string[] {
  return t.split(/(?<=[.!?])\s+(?=\p{Lu})/u).map((x) => x.trim()).filter(Boolean);
}

function paperKey(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/[^a-z0-9]/g, '');
}

type Kind = 'core' | 'case' | 'note';

/** One row as a citizen reads it: staff sentences out, the first sentence as the name, the rest as its note. */
function citizenItem(it: DocumentItem, notes: string[]): { item: DocumentItem; kind: Kind } | null {
  const all = sentences(it.name);
  const kept = all.filter((x) => !STAFF_SENTENCE.test(x));
  if (kept.length < all.length) notes.push(`Thành phần hồ sơ: bỏ câu dành cho cán bộ tiếp nhận ("${cut(all.find((x) => STAFF_SENTENCE.test(x)) ?? '', 70)}").`);
  if (!kept.length) return null;
  const zero = !it.original && !it.copy;
  const [first0 = '', ...rest] = kept;
  // "(sau đây gọi tắt là giấy tờ tùy thân)": drafting shorthand, not for the citizen.
  const first = first0.replace(/\s*\(sau đây (?:gọi|viết)(?: tắt)? là[^)]*\)/giu, '');
  // "Đối với giấy tờ gửi kèm theo nếu nộp trực tuyến:" with nothing under it: an empty heading.
  if (zero && !rest.length && /:\s*$/u.test(first)) return null;
  const name = cut(first.replace(/[\s;,]+$/u, ''), CITIZEN.name);
  const note = [rest.join(' '), it.note].filter(Boolean).join(' ');
  const item: DocumentItem = { ...it, name, ...(note ? { note: cut(note, CITIZEN.note) } : {}) };
  if (!note) delete item.note;
  const form = !!it.form || FORM_ITEM.test(name);
  if (!form && zero && (NOTE_ITEM.test(first) || first.length > 160)) return { item: { ...item, showOnly: false }, kind: 'note' };
  if (!form && CASE_ITEM.test(first)) return { item, kind: 'case' };
  return { item, kind: 'core' };
}

/**
 * The portal's documents section made readable on a phone: repeated headings merged,
 * duplicate rows dropped, sentences meant for staff removed, empty headings dropped,
 * the form first, papers only some people need and remarks in groups of their own, and
 * at most a few core papers (the rest in a further group). What was removed is noted
 * for the import report.
 */
function citizenDocuments(groups: DocumentGroup[], notes: string[]): DocumentGroup[] {
  const seen = new Set<string>();
  const core: DocumentGroup[] = [];
  const special: Record<'case' | 'note', DocumentItem[]> = { case: [], note: [] };
  let duplicates = 0;
  for (const g of groups) {
    const heading = g.group.replace(/\s+/g, ' ').trim();
    const caseHeading = /^(?:trường hợp|đối với)(?!\p{L})/iu.test(heading);
    for (const raw of g.items) {
      const r = citizenItem(raw, notes);
      if (!r) continue;
      const key = paperKey(r.item.name);
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      const kind: Kind = /^lưu ý/iu.test(heading) ? 'note' : r.kind;
      if (kind !== 'core' && !caseHeading) {
        special[kind].push(r.item);
        continue;
      }
      let target = core.find((x) => paperKey(x.group) === paperKey(heading));
      if (!target) core.push((target = { group: heading, items: [] }));
      target.items.push(r.item);
    }
  }
  if (duplicates) notes.push(`Thành phần hồ sơ: bỏ ${duplicates} dòng trùng.`);
  const isForm = (it: DocumentItem) => !!it.form || FORM_ITEM.test(it.name);
  for (const g of core) g.items = [...g.items.filter(isForm), ...g.items.filter((it) => !isForm(it))];
  const rank = (g: DocumentGroup) => (/^(?:trường hợp|đối với)(?!\p{L})/iu.test(g.group) ? 3 : g.items.some(isForm) ? 0 : /xuất trình/iu.test(g.group) ? 2 : 1);
  core.sort((a, b) => rank(a) - rank(b));
  // At most a few core papers on the first screen; the rest wait in a group of their own.
  const out: DocumentGroup[] = [];
  const more: DocumentItem[] = [];
  let room = CITIZEN.coreItems;
  for (const g of core) {
    if (rank(g) === 3) {
      out.push(g);
      continue;
    }
    const items = g.items.slice(0, Math.max(0, room));
    more.push(...g.items.slice(items.length));
    room -= items.length;
    if (items.length) out.push({ group: g.group, items });
  }
  const capped = (items: DocumentItem[], max: number, what: string) => {
    if (items.length > max) notes.push(`Thành phần hồ sơ: chỉ giữ ${max} ${what} đầu (Cổng có ${items.length}); phần còn lại xem trên Cổng.`);
    return items.slice(0, max);
  };
  if (more.length) out.push({ group: MORE_GROUP, items: capped(more, CITIZEN.caseItems, 'giấy tờ thêm') });
  if (special.case.length) out.push({ group: CASES_GROUP, items: capped(special.case, CITIZEN.caseItems, 'trường hợp đặc biệt') });
  if (special.note.length) out.push({ group: NOTES_GROUP, items: capped(special.note, CITIZEN.noteItems, 'lưu ý') });
  return out;
}

/** Documents: table headers split groups, rows end with "N bản chính[,M bản sao]". */
export function parseDocuments(text: string): DocumentGroup[] {
  return documentsSection(text).value;
}

// ---------------------------------------------------------------------------
// Legal basis: "Tên văn bản pháp lýMã văn bản" + rows "<title><code>".

const LEGAL_HEADER = /^\s*:?\s*Tên văn bản pháp lý\s*Mã văn bản\s*/iu;
/** 60/2014/QH13, 123/2015/NĐ-CP, 72/2011/TTLT-BTC-BGTVT, 66.7/2025/NQ-CP, 30a/2008/NQ-CP, 163/QĐ-BTP, 12/2020/QĐ-TTg. */
const LEGAL_CODE = /(?<!\/)\d{1,4}[a-z]?(?:\.\d{1,2})?\/(?:\d{4}\/)?(?:[A-ZĐ]*QH\d{1,2}|[A-ZĐ]+)(?:-(?:[A-ZĐ]*QH\d{1,2}|TTg|[A-ZĐ]+)){0,4}/gu;
/** Issuer suffixes that end in a letter which could also start the next word. */
const KNOWN_SUFFIX = new Set(['CP', 'BTC', 'BTP', 'BCA', 'BXD', 'BYT', 'BCT', 'BQP', 'BNG', 'BNV', 'NHNN', 'BNNMT', 'BNNPTNT', 'BTNMT', 'BGTVT', 'BKHĐT', 'BLĐTBXH', 'BGDĐT', 'BVHTTDL', 'BTTTT', 'BKHCN', 'UBTVQH', 'VPCP', 'TANDTC', 'VKSNDTC', 'TTLT', 'NĐ', 'TT', 'QĐ', 'NQ', 'QH']);
/** Vietnamese syllable onsets: a capital letter glued after a code starts a new word only if it forms one. */
const ONSET = /^(?:[AĂÂEÊIOÔƠUƯYÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]|Ch|Gh|Gi|Kh|Ng|Nh|Ph|Qu|Th|Tr|[BCDĐGHKLMNRSTVX][aăâeêioôơuưyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ])/u;
const CODE_PREFIX = /(?:(?:Luật|Bộ luật|Nghị định|Nghị quyết|Thông tư(?: liên tịch)?|Quyết định|Pháp lệnh|Văn bản|Chỉ thị)\s*)?(?:số\s*:?\s*)?$/iu;

/** A year and a document number run together before "/<year>/" (the number never starts a 5-8 digit run). */
const GLUED_YEAR = /(?<!\d)((?:19|20)\d{2})(\d{1,4})(?=\/(?:19|20)\d{2}\/)/gu;

interface CodeHit {
  code: string;
  at: number;
  end: number;
}

/** Codes in flattened text, with a glued capital ("TT-BTCNghị định") given back to the next word. */
function legalCodes(t: string): CodeHit[] {
  const hits: CodeHit[] = [];
  for (const m of t.matchAll(LEGAL_CODE)) {
    let code = m[0];
    const at = m.index ?? 0;
    const lastSeg = code.split(/[/-]/u).pop() ?? '';
    if (/^[A-ZĐ]+$/u.test(lastSeg) && !KNOWN_SUFFIX.has(lastSeg)) {
      // "NĐ-CPTHÔNG TƯ", "TT-BTCNghị định": give the glued capitals back to the next word.
      let keep = 0;
      for (let n = lastSeg.length - 1; n >= 1; n--) if (KNOWN_SUFFIX.has(lastSeg.slice(0, n))) { keep = n; break; }
      const rest = t.slice(at + code.length, at + code.length + 3);
      if (keep) code = code.slice(0, code.length - lastSeg.length + keep);
      else if (/^\p{Ll}/u.test(rest) && lastSeg.length > 1 && ONSET.test(code.slice(-1) + rest)) code = code.slice(0, -1);
    }
    if (!/\/\d{4}\/|\/[A-ZĐ]{2}/u.test(code)) continue;
    hits.push({ code, at, end: at + code.length });
  }
  return hits;
}

function legalSection(text: string): Parsed<LegalBasis[]> {
  const notes: string[] = [];
  // "Luật Cư trú 202068/2020/QH14": a title ending in its year glued to the code column.
  const t = oneLine(clean(text).replace(LEGAL_HEADER, '')).replace(GLUED_YEAR, '$1 $2');
  if (NO_INFO.test(t) || /^không có thông tin/iu.test(t)) return { value: [], status: 'missing', notes };
  const hits = legalCodes(t);
  const out: LegalBasis[] = [];
  const seen = new Set<string>();
  let rowStart = 0;
  let end = 0;
  hits.forEach((h, i) => {
    const next = t.slice(h.end, h.end + 2);
    const gluedSame = hits[i + 1]?.at === h.end && hits[i + 1]?.code === h.code;
    // The code column is glued to the next title, or ends the text, or is followed by " Capital".
    // Codes inside a title are followed by " ngày", " của", ";", ")"…
    const isColumn = !gluedSame && (next === '' || /^[^\s.,;:)\]]/u.test(next) || /^ \p{Lu}/u.test(next));
    if (!isColumn) return;
    const title = t.slice(rowStart, h.at).replace(CODE_PREFIX, '').replace(/[\s,;:–-]+$/u, '').trim();
    rowStart = h.end;
    end = h.end;
    if (seen.has(h.code)) return;
    seen.add(h.code);
    const name = title && title !== h.code && title.length > 2 ? cut(title, MAX.legalName) : undefined;
    out.push(name ? { code: h.code, name } : { code: h.code });
  });
  if (!out.length) return { value: [], status: 'failed', notes };
  let status: SectionStatus = 'ok';
  const tail = t.slice(end).trim();
  if (tail.length > 12) {
    status = 'partial';
    notes.push(`Căn cứ pháp lý còn đoạn không có số hiệu văn bản: "${cut(tail, 80)}".`);
  }
  return { value: out.slice(0, 20), status, notes };
}

/** Legal basis: title + code rows, codes like 123/2015/NĐ-CP, deduplicated. */
export function parseLegalBasis(text: string): { code: string; name?: string }[] {
  return legalSection(text).value;
}

// ---------------------------------------------------------------------------

function levels(cap: string | undefined): Procedure['levels'] {
  const out = new Set<Procedure['levels'][number]>();
  const c = (cap ?? '').toLowerCase();
  if (c.includes('xã')) out.add('xa');
  if (c.includes('tỉnh')) out.add('tinh');
  if (c.includes('bộ')) out.add('bo');
  if (!out.size) out.add('khac');
  return [...out];
}

/** "Giấy khai sinhMã: KQ.G15.000031Từ khóa…" → "Giấy khai sinh". */
function results(text: string | undefined): string | undefined {
  const t = oneLine(clean(text)).split(/Từ khóa|Chọn cơ quan thực hiện/u)[0] ?? '';
  const names = t
    .split(/Mã\s*:\s*[A-Z0-9][A-Z0-9.\-_]*\d/u)
    .map((s) => s.replace(/^[\s;,.]+|[\s;,]+$/gu, ''))
    .filter((s) => s.length > 2 && !NO_INFO.test(s));
  return names.length ? [...new Set(names)].join('; ') : undefined;
}

function qualityOf(sections: Record<NationalSection, SectionStatus>): ParseQuality {
  const values = Object.values(sections);
  if (values.every((s) => s === 'ok')) return 'full';
  if (values.some((s) => s === 'ok' || s === 'partial')) return 'partial';
  return 'none';
}

/** Converts one record, dated `dataDate` (when its data were captured); null when it has no usable code or name. */
export function importRecord(rec: NationalRecord, dataDate: string): ImportResult | null {
  const code = clean(rec.ma_thu_tuc);
  const bare = oneLine(clean(rec.ten_thu_tuc)).replace(/^thủ tục\s+/iu, '');
  if (!NATIONAL_CODE.test(code) || bare.length < 3) return null;
  const notes: string[] = [];
  const name = cut(modernize(bare.charAt(0).toUpperCase() + bare.slice(1), notes), 300);
  const problems: string[] = [];
  const ch = channelsSection(rec.cach_thuc_thuc_hien ?? '');
  const st = stepsSection(rec.trinh_tu_thuc_hien ?? '');
  const dc = documentsSection(rec.thanh_phan_ho_so ?? '');
  const lb = legalSection(rec.can_cu_phap_ly ?? '');
  const sections: Record<NationalSection, SectionStatus> = { channels: ch.status, steps: st.status, documents: dc.status, legalBasis: lb.status };
  for (const key of NATIONAL_SECTIONS) {
    const s = sections[key];
    if (s === 'missing') problems.push(`${SECTION_LABELS[key]}: Cổng không có thông tin.`);
    else if (s === 'failed') problems.push(`${SECTION_LABELS[key]}: không tách được, đã thay bằng lời nhắn xem Cổng.`);
    else if (s === 'partial') problems.push(`${SECTION_LABELS[key]}: chỉ tách được một phần.`);
  }
  notes.push(...ch.notes, ...st.notes, ...dc.notes, ...lb.notes);

  const channels = ch.value.length
    ? ch.value
    : [{ method: 'truc-tiep' as const, time: 'Xem trên Cổng Dịch vụ công quốc gia.', fee: 'Xem trên Cổng Dịch vụ công quốc gia; lệ phí theo quy định.', feeByProvince: false }];
  const steps = st.value.length ? st.value : [PORTAL_HINT];
  const documents = dc.value.length ? dc.value : [{ group: 'Giấy tờ', items: [{ name: PORTAL_HINT, original: 0, copy: 0, showOnly: false }] }];
  const decision = oneLine(clean(rec.so_quyet_dinh));
  const legalBasis = lb.value.length ? lb.value : [{ code: decision && !NO_INFO.test(decision) ? decision : 'Xem Cổng Dịch vụ công quốc gia' }];

  const agencyRaw = [rec.co_quan_thuc_hien, rec.co_quan_co_tham_quyen].map((s) => oneLine(clean(s))).find((s) => s && !NO_INFO.test(s));
  const agency = cut(modernize(agencyRaw ?? 'Xem Cổng Dịch vụ công quốc gia', notes), MAX.agency);
  const whereRaw = oneLine(clean(rec.dia_chi_tiep_nhan));
  const result = results(rec.ket_qua_xu_ly);
  const conditionsRaw = oneLine(clean(rec.yeu_cau_dieu_kien));
  const url = clean(rec.detail_url);
  const online = channels.some((c) => c.method === 'truc-tuyen');
  const applicants = oneLine(clean(rec.doi_tuong_thuc_hien));
  const field = oneLine(clean(rec.linh_vuc));
  const procedure: Procedure = {
    version: 1,
    id: code,
    nationalCodes: [code],
    localCodes: [],
    name,
    aliases: [],
    keywords: [],
    field: field || 'Khác',
    levels: levels(rec.cap_thuc_hien),
    priority: 30,
    // Where the data came from and when is said once, in the sources line (`status: needs-review`).
    summary: `Mã thủ tục ${code}${field ? `, lĩnh vực ${field}` : ''}.`,
    applicants: applicants && !NO_INFO.test(applicants) ? cut(applicants, 300) : 'Cá nhân, tổ chức theo quy định',
    agency,
    steps,
    documents,
    channels,
    where: [whereRaw && !NO_INFO.test(whereRaw) ? cut(modernize(whereRaw, notes), MAX.agency) : agency],
    result: result ? cut(modernize(result, notes), MAX.result) : 'Xem trên Cổng Dịch vụ công quốc gia.',
    ...(conditionsRaw && !NO_INFO.test(conditionsRaw) ? { conditions: cut(currentPapers(modernize(conditionsRaw, notes), notes, { householdBooks: false }), MAX.conditions, notes, 'Yêu cầu, điều kiện') } : {}),
    legalBasis,
    online: { available: online, level: online ? 'mot-phan' : 'khong' },
    ...(/^https?:\/\//.test(url) ? { portalUrl: url } : {}),
    related: [],
    // For a needs-review record this is the date of the portal data, not a check by staff.
    lastVerified: dataDate,
    status: 'needs-review',
    sources: [`Cổng Dịch vụ công quốc gia, thủ tục ${code}${decision && !NO_INFO.test(decision) ? ` (${decision})` : ''}`],
  };
  return { procedure, problems, notes: dedupeNotes(notes), sections, quality: qualityOf(sections) };
}

// ---------------------------------------------------------------------------
// The date of the data: a national file does not say when its records were captured.

/** Where the date of a national file came from (said in logs and the import report). */
export type NationalDateSource = 'configured' | 'provenance' | 'file';

export interface NationalDataDate {
  /** ISO date the records were captured (never the day they were loaded). */
  date: string;
  from: NationalDateSource;
}

/** `knowledge/national-data.yaml`: the capture date of known national files, since the files carry none. */
export const NATIONAL_PROVENANCE_FILE = 'national-data.yaml';
const provenanceSchema = z.object({
  version: z.literal(1),
  files: z.array(
    z.object({
      name: z.string().min(1),
      /** The file's size: a different file under the same name does not get this date. */
      bytes: z.number().int().positive(),
      date: z.union([z.string(), z.date()]).transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)).pipe(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)),
      source: z.string().min(1),
    }),
  ),
});

/** The day (Vietnam time, UTC+7) of an instant, as an ISO date. */
function vietnamDay(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
}

/**
 * When a national file's data are from: `configured` (NATIONAL_DATA_DATE, the operator's
 * word) first, then the provenance table in the knowledge folder (name and size of a
 * known file), then the file's modification date. Never the day it is loaded.
 */
export function nationalDataDate(path: string, opts: { configured?: string; knowledgeDir?: string } = {}): NationalDataDate {
  if (opts.configured) return { date: opts.configured, from: 'configured' };
  const stat = statSync(path);
  const table = opts.knowledgeDir ? join(opts.knowledgeDir, NATIONAL_PROVENANCE_FILE) : undefined;
  if (table && existsSync(table)) {
    const parsed = provenanceSchema.safeParse(parseYaml(readFileSync(table, 'utf8')));
    const hit = parsed.success ? parsed.data.files.find((f) => f.name === basename(path) && f.bytes === stat.size) : undefined;
    if (hit) return { date: hit.date, from: 'provenance' };
  }
  return { date: vietnamDay(stat.mtimeMs), from: 'file' };
}

/** Parses JSON-lines text of national records, dated `dataDate` (see `nationalDataDate`); bad lines are counted, not fatal. */
export function parseNationalLines(text: string, dataDate: string): { results: ImportResult[]; badLines: number } {
  const results: ImportResult[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      const r = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? importRecord(parsed as NationalRecord, dataDate) : null;
      if (r) results.push(r);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { results, badLines };
}

/** Reads a JSON-lines file of national records (dated by `nationalDataDate` unless given); bad lines are counted, not fatal. */
export function readNationalFile(path: string, dataDate = nationalDataDate(path).date): { results: ImportResult[]; badLines: number } {
  return parseNationalLines(readFileSync(path, 'utf8'), dataDate);
}

/**
 * Curated entries win: national records whose code a curated procedure carries are
 * dropped, the rest are added.
 */
export function mergeNational(curated: readonly Procedure[], imported: readonly Procedure[]): Procedure[] {
  const taken = new Set(curated.flatMap((p) => [p.id, ...p.nationalCodes]));
  const seen = new Set<string>();
  const extra = imported.filter((p) => {
    if (taken.has(p.id) || seen.has(p.id)) return false;
    seen.add(p.id);
    return true;
  });
  return [...curated, ...extra];
}

/** The fee cell of one channel row: "Miễn phí", "Không có thông tin" or an amount and currency. */
function feeFrom(feeRaw: string, amountDigits: string | undefined, currency: string | undefined): { fee: string; feeAmount: number | undefined } {
  if (/^miễn phí$/iu.test(feeRaw)) return { fee: 'Miễn phí', feeAmount: 0 };
  if (/^không có thông tin$/iu.test(feeRaw)) return { fee: 'Chưa rõ lệ phí; bạn hỏi nơi tiếp nhận hồ sơ.', feeAmount: undefined };
  const n = amountNumber(amountDigits ?? '');
  const isDong = !/USD|EUR/u.test(currency ?? '');
  return { fee: isDong ? `${viAmount(n)} đồng` : `${viAmount(n)} ${currency}`, feeAmount: isDong ? n : undefined };
}
