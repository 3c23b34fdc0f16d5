/**
 * Loads and validates the knowledge base from YAML files.
 *
 * One function does both jobs so the running assistant and `npm run kb -- validate`
 * can never disagree about what is valid. Every problem carries the file and line
 * it came from and a hint in Vietnamese for the staff member who edits the file.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode, type Document } from 'yaml';
import type { ZodType } from 'zod';
import { NATIONAL_CODE, faqSchema, procedureSchema, siteSchema, type Faq, type Procedure, type Site } from './schema.ts';
import { repliesSchema, type Replies } from './replies.ts';

/** Where the bundled knowledge lives (this folder). */
export const DEFAULT_KNOWLEDGE_DIR = fileURLToPath(new URL('.', import.meta.url));

export type Severity = 'error' | 'warning';

/** One problem found in a knowledge file, pointing at the line staff should fix. */
export interface KnowledgeIssue {
  severity: Severity;
  file: string;
  line: number;
  message: string;
  hint?: string;
}

/** The whole knowledge base as typed objects. */
export interface Knowledge {
  procedures: Procedure[];
  faqs: Faq[];
  site: Site;
  replies: Replies;
  /** Files each entry came from (id → relative path), for error messages and staff tools. */
  sourceOf: Map<string, string>;
  /** Epoch ms when this knowledge was loaded. */
  loadedAt: number;
}

export interface LoadOptions {
  /** `lastVerified` older than this many days gives a warning. Default 365. */
  maxAgeDays?: number;
  /** Reference date for the age check (tests). */
  today?: Date;
}

export interface LoadResult {
  knowledge: Knowledge | null;
  issues: KnowledgeIssue[];
}

/** Error thrown by `loadKnowledgeOrThrow` when the base has errors. */
export class KnowledgeError extends Error {
  constructor(readonly issues: KnowledgeIssue[]) {
    super(`knowledge base has ${issues.filter((i) => i.severity === 'error').length} error(s):\n${formatIssues(issues)}`);
    this.name = 'KnowledgeError';
  }
}

/** A parsed YAML file with what is needed to point at its lines. */
export interface ParsedFile {
  rel: string;
  doc: Document;
  lines: LineCounter;
}

function listYaml(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

/** Line of the node at `path` (or its nearest existing parent). */
export function lineOf(file: ParsedFile, path: (string | number)[]): number {
  // Walk down as far as the path exists, so a missing key points at its parent.
  let node: unknown = file.doc.contents;
  const rangeLine = (n: unknown) => {
    const r = (n as YamlNode | null)?.range;
    return r ? file.lines.linePos(r[0]).line : undefined;
  };
  let best = rangeLine(node) ?? 1;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      best = rangeLine(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      best = rangeLine(node) ?? best;
    } else break;
  }
  return best;
}

const FIELD_HINTS: Record<string, string> = {
  version: 'Dòng đầu tiên của tệp phải là "version: 1".',
  id: 'Mỗi mục cần một mã (id) không trùng với mục khác.',
  steps: 'Ghi các bước thực hiện, mỗi bước một dòng bắt đầu bằng "- ".',
  documents: 'Ghi thành phần hồ sơ theo nhóm: "- group: Giấy tờ phải nộp" rồi "items:".',
  channels: 'Mỗi cách nộp (truc-tiep, truc-tuyen, buu-chinh) cần "time" (thời hạn) và "fee" (lệ phí).',
  legalBasis: 'Ghi căn cứ pháp lý: "- code: 60/2014/QH13" và "name: Luật Hộ tịch".',
  lastVerified: 'Ghi ngày kiểm tra gần nhất dạng 2026-11-26.',
  method: 'Cách nộp chỉ nhận một trong: truc-tiep, truc-tuyen, buu-chinh.',
  where: 'Ghi nơi nộp hồ sơ (không ghi "UBND huyện": từ 01/7/2025 không còn cấp huyện).',
  levels: 'Cấp thực hiện chỉ nhận: xa, tinh, bo, khac.',
};

/** Validates data against a schema; issues point at file lines. */
export function zodIssues(file: ParsedFile, schema: ZodType, data: unknown): { ok: boolean; value?: unknown; issues: KnowledgeIssue[] } {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, value: r.data, issues: [] };
  const issues = r.error.issues.map((iss) => {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    const field = [...path].reverse().find((p): p is string => typeof p === 'string') ?? '';
    const where = path.length ? `"${path.join('.')}"` : 'tệp';
    let message: string;
    if (iss.code === 'invalid_type' && (iss as { input?: unknown }).input === undefined) message = `Thiếu mục bắt buộc ${where}.`;
    else if (iss.code === 'unrecognized_keys') message = `Mục không được hỗ trợ: ${(iss as { keys: string[] }).keys.join(', ')} (tại ${where}).`;
    else message = `Giá trị không hợp lệ tại ${where}: ${iss.message}.`;
    const hint =
      iss.code === 'unrecognized_keys'
        ? 'Kiểm tra chính tả tên mục (phân biệt hoa thường) hoặc xóa mục thừa.'
        : FIELD_HINTS[field] ?? 'Xem tệp mẫu knowledge/procedures/ho-tich.khai-sinh.yaml để biết cách ghi.';
    return { severity: 'error' as const, file: file.rel, line: lineOf(file, path), message, hint };
  });
  return { ok: false, issues };
}

const SUSPICIOUS: { re: RegExp; message: string; hint: string }[] = [
  {
    re: /(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân|phòng[^\n.]{0,40}|công an|chi nhánh[^\n.]{0,40})\s+(?:cấp\s+)?(?:huyện|quận|thị xã)\b/iu,
    message: 'Nhắc tới cơ quan cấp huyện/quận.',
    hint: 'Từ 01/7/2025 chính quyền địa phương chỉ còn cấp tỉnh và cấp xã; hãy ghi cơ quan cấp xã hoặc cấp tỉnh tương ứng.',
  },
  { re: /\bcấp huyện\b/iu, message: 'Nhắc tới "cấp huyện".', hint: 'Không còn cấp huyện từ 01/7/2025; sửa thành cấp xã hoặc cấp tỉnh.' },
  { re: /<\/?[a-z][a-z0-9]*(?:\s[^>]*)?>|&(?:nbsp|amp|lt|gt|quot);/i, message: 'Còn sót thẻ HTML hoặc ký tự mã hóa HTML.', hint: 'Xóa thẻ HTML (<p>, <br>, &nbsp;…) và chỉ để lại chữ.' },
  { re: /sổ hộ khẩu|sổ tạm trú/iu, message: 'Nhắc tới sổ hộ khẩu/sổ tạm trú (đã bỏ từ 01/01/2023).', hint: 'Thay bằng thông tin cư trú trong Cơ sở dữ liệu quốc gia về dân cư / VNeID, trừ khi đang giải thích rằng không còn dùng sổ.' },
];

/** Question words do not belong in aliases: they would hide what the citizen asks about. */
const ALIAS_QUESTION_WORDS = /ở đâu|bao nhiêu|bao lâu|cần gì|cần những|thế nào|lệ phí|mấy ngày|online|trực tuyến|hồ sơ/iu;

/** Text fields where a mention of the old paper books is an explanation, not a stale fact. */
const ALLOW_HOUSEHOLD_BOOK_IN = new Set(['aliases', 'keywords', 'question']);

function walkStrings(value: unknown, path: (string | number)[], out: { path: (string | number)[]; text: string }[]): void {
  if (typeof value === 'string') out.push({ path, text: value });
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], out);
}

/** Flags stale or broken text: district-level offices, HTML remnants, abolished books. */
export function suspiciousText(file: ParsedFile, data: unknown): KnowledgeIssue[] {
  const strings: { path: (string | number)[]; text: string }[] = [];
  walkStrings(data, [], strings);
  const issues: KnowledgeIssue[] = [];
  for (const s of strings) {
    for (const rule of SUSPICIOUS) {
      if (!rule.re.test(s.text)) continue;
      const top = s.path[0];
      if (rule.re.source.startsWith('sổ') && typeof top === 'string' && ALLOW_HOUSEHOLD_BOOK_IN.has(top)) continue;
      if (rule.re.source.startsWith('sổ') && /không (?:còn )?(?:cần|phải|sử dụng|dùng)|đã bỏ|thay (?:thế )?(?:cho|bằng)/iu.test(s.text)) continue;
      const isError = !rule.re.source.startsWith('sổ');
      issues.push({ severity: isError ? 'error' : 'warning', file: file.rel, line: lineOf(file, s.path), message: rule.message, hint: rule.hint });
      break;
    }
  }
  return issues;
}

/**
 * Wording meant for staff ("chưa đối chiếu", "nhiều nguồn nêu", "Cổng không ghi"…): notes about
 * how a fact was checked. Citizens read every field of a curated entry except the ones in
 * STAFF_ONLY_FIELDS, so such notes belong in `sources` or in a YAML comment; a caution the
 * citizen needs ("số tiền hiển thị khi nộp") is written for them in `provinceNote`.
 */
export const STAFF_WORDING: readonly RegExp[] = Object.freeze([
  /(?<!(?:bạn|dân|anh|chị|em|mình|hãy|nên|ông|bà)\s)cần (?:kiểm tra|đối chiếu)(?: lại)?(?=[\s).,;:]|$)/iu,
  /nhiều nguồn (?:nêu|ghi|cho rằng|cho biết|đưa tin|nói)/iu,
  /chưa (?:đối chiếu|kiểm chứng|xác minh được|xác nhận được|tra được)/iu,
  /\bcổng(?: dịch vụ công(?: quốc gia)?| dvc(?:qg)?)? (?:không|chưa|vẫn|còn|vẫn còn) (?:ghi|nêu|dẫn|mô tả)\b/iu,
  /\(cổng(?: dịch vụ công(?: quốc gia)?)? ghi|cổng ghi liền/iu,
  /\bbản ghi (?:quốc gia|trên cổng|của cổng|cổng)/iu,
  /trang thủ tục(?:[^.\n]|\.(?=\d)){0,80}\b(?:vẫn|còn|có thể còn) (?:ghi|mô tả|dẫn)/iu,
  /bên thứ ba|được cho là|theo báo chí|theo (?:bài|tin) (?:báo|tổng hợp)/iu,
  /\bhãy (?:báo|trả lời|ghi|nói) theo\b/iu,
  /\b(?:TODO|FIXME)\b/u,
]);

/** Fields no citizen reads: notes about sources and checks go here. */
const STAFF_ONLY_FIELDS = new Set(['sources', 'aliases', 'keywords', 'id', 'nationalCodes', 'localCodes', 'portalUrl', 'status', 'version', 'lastVerified', 'related']);

/**
 * Refuses staff wording in the fields citizens read of curated procedures and FAQ entries.
 * Imported records (`status: needs-review`) are exempt until staff mark them curated: the
 * importer's own notes tell staff what to check, and the rule then makes sure they did.
 */
export function staffWording(file: ParsedFile, data: unknown): KnowledgeIssue[] {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  if ((data as { status?: unknown }).status === 'needs-review') return [];
  const strings: { path: (string | number)[]; text: string }[] = [];
  walkStrings(data, [], strings);
  const issues: KnowledgeIssue[] = [];
  for (const s of strings) {
    const top = s.path[0];
    if (typeof top === 'string' && STAFF_ONLY_FIELDS.has(top)) continue;
    if (s.path[s.path.length - 1] === 'url') continue;
    for (const re of STAFF_WORDING) {
      const m = re.exec(s.text);
      if (!m) continue;
      issues.push({
        severity: 'error',
        file: file.rel,
        line: lineOf(file, s.path),
        message: `Câu ghi chú dành cho cán bộ ("${m[0].trim()}") nằm trong mục người dân đọc (${s.path.join('.')}).`,
        hint: 'Ghi chú về việc đối chiếu nguồn chuyển sang "sources" hoặc dòng chú thích bắt đầu bằng #. Nếu người dân cần được báo trước (khác nhau giữa các tỉnh, số tiền hiển thị khi nộp…), viết một câu dành cho người dân trong provinceNote.',
      });
      break;
    }
  }
  return issues;
}

/** Reads and parses one YAML file, recording syntax errors as issues. */
export function parseFile(root: string, path: string, issues: KnowledgeIssue[]): { file: ParsedFile; data: unknown } | null {
  const rel = relative(root, path) || basename(path);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({ severity: 'error', file: rel, line: 1, message: `Không đọc được tệp: ${(err as Error).message}`, hint: 'Kiểm tra quyền đọc tệp.' });
    return null;
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file: ParsedFile = { rel, doc, lines };
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
      issues.push({
        severity: 'error',
        file: rel,
        line,
        message: `Lỗi cú pháp YAML: ${e.message.split('\n')[0]}`,
        hint: 'Kiểm tra thụt lề (dùng dấu cách, không dùng Tab), dấu ":" sau tên mục, và đặt câu có dấu ":" trong ngoặc kép.',
      });
    }
    return null;
  }
  if (source.includes('\uFFFD')) {
    issues.push({ severity: 'error', file: rel, line: 1, message: 'Tệp có ký tự lỗi mã hóa (\uFFFD).', hint: 'Lưu tệp ở dạng UTF-8.' });
  }
  return { file, data: doc.toJS({ maxAliasCount: 50 }) };
}

function ageIssue(file: ParsedFile, lastVerified: string, opts: Required<LoadOptions>): KnowledgeIssue | null {
  const ageDays = (opts.today.getTime() - Date.parse(`${lastVerified}T00:00:00Z`)) / 86_400_000;
  if (ageDays > opts.maxAgeDays) {
    return {
      severity: 'warning',
      file: file.rel,
      line: lineOf(file, ['lastVerified']),
      message: `Thông tin kiểm tra lần cuối ngày ${lastVerified}, đã quá ${opts.maxAgeDays} ngày.`,
      hint: 'Đối chiếu lại với Cổng Dịch vụ công quốc gia rồi cập nhật lastVerified.',
    };
  }
  if (ageDays < -1) {
    return { severity: 'error', file: file.rel, line: lineOf(file, ['lastVerified']), message: `Ngày kiểm tra ${lastVerified} ở tương lai.`, hint: 'Ghi ngày thực tế đã kiểm tra.' };
  }
  return null;
}

/**
 * Reads every knowledge file under `dir`. Returns the knowledge only when there is
 * no error (warnings allowed), so a caller can keep serving the last good base.
 */
export function loadKnowledge(dir: string = DEFAULT_KNOWLEDGE_DIR, options: LoadOptions = {}): LoadResult {
  const opts: Required<LoadOptions> = { maxAgeDays: options.maxAgeDays ?? 365, today: options.today ?? new Date() };
  const issues: KnowledgeIssue[] = [];
  const procedures: Procedure[] = [];
  const faqs: Faq[] = [];
  const sourceOf = new Map<string, string>();
  const lineRef = new Map<string, { file: ParsedFile; data: unknown }>();

  const load = <T>(path: string, schema: ZodType): { value: T; file: ParsedFile } | null => {
    const parsed = parseFile(dir, path, issues);
    if (!parsed) return null;
    issues.push(...suspiciousText(parsed.file, parsed.data));
    if (schema === procedureSchema || schema === faqSchema) issues.push(...staffWording(parsed.file, parsed.data));
    const r = zodIssues(parsed.file, schema, parsed.data);
    issues.push(...r.issues);
    if (!r.ok) return null;
    return { value: r.value as T, file: parsed.file };
  };

  const procDir = join(dir, 'procedures');
  const codeOwner = new Map<string, string>();
  for (const path of listYaml(procDir)) {
    const r = load<Procedure>(path, procedureSchema);
    if (!r) continue;
    const p = r.value;
    const prev = sourceOf.get(p.id);
    if (prev) {
      issues.push({ severity: 'error', file: r.file.rel, line: lineOf(r.file, ['id']), message: `Mã thủ tục "${p.id}" trùng với tệp ${prev}.`, hint: 'Đổi id hoặc gộp hai tệp.' });
      const first = lineRef.get(p.id);
      if (first) issues.push({ severity: 'error', file: first.file.rel, line: lineOf(first.file, ['id']), message: `Mã thủ tục "${p.id}" trùng với tệp ${r.file.rel}.`, hint: 'Đổi id hoặc gộp hai tệp.' });
      continue;
    }
    const expected = `${p.id}.yaml`;
    if (basename(path) !== expected) {
      issues.push({ severity: 'warning', file: r.file.rel, line: lineOf(r.file, ['id']), message: `Tên tệp nên là ${expected} cho dễ tìm.`, hint: 'Đổi tên tệp theo id.' });
    }
    p.nationalCodes.forEach((code, i) => {
      const owner = codeOwner.get(code);
      if (owner && owner !== p.id) {
        issues.push({ severity: 'error', file: r.file.rel, line: lineOf(r.file, ['nationalCodes', i]), message: `Mã quốc gia ${code} đã thuộc thủ tục "${owner}".`, hint: 'Một mã thủ tục quốc gia chỉ gắn với một mục.' });
        const first = lineRef.get(owner);
        const j = (first?.data as Procedure | undefined)?.nationalCodes.indexOf(code) ?? -1;
        if (first) issues.push({ severity: 'error', file: first.file.rel, line: lineOf(first.file, ['nationalCodes', Math.max(0, j)]), message: `Mã quốc gia ${code} cũng được ghi ở thủ tục "${p.id}".`, hint: 'Một mã thủ tục quốc gia chỉ gắn với một mục.' });
      } else codeOwner.set(code, p.id);
    });
    const methods = new Set<string>();
    p.channels.forEach((c, i) => {
      if (methods.has(c.method)) {
        issues.push({ severity: 'error', file: r.file.rel, line: lineOf(r.file, ['channels', i, 'method']), message: `Cách nộp "${c.method}" ghi hai lần.`, hint: 'Mỗi cách nộp chỉ ghi một lần, gộp ghi chú vào "note".' });
      }
      methods.add(c.method);
      if (c.feeAmount === undefined && !c.feeByProvince && /\d{1,3}(?:[.,]\d{3})+\s*(?:đ|đồng|vnđ)/iu.test(c.fee) === false && !/miễn|không (?:thu|mất)|0 đồng|theo quy định|hđnd|hội đồng nhân dân|từng|^như nộp/iu.test(c.fee)) {
        issues.push({ severity: 'warning', file: r.file.rel, line: lineOf(r.file, ['channels', i, 'fee']), message: 'Lệ phí không nêu số tiền, miễn phí hay do HĐND tỉnh quy định.', hint: 'Ghi rõ số tiền, "Miễn lệ phí", hoặc đặt feeByProvince: true khi HĐND tỉnh quy định.' });
      }
    });
    p.aliases.forEach((a, i) => {
      if (ALIAS_QUESTION_WORDS.test(a)) {
        issues.push({ severity: 'warning', file: r.file.rel, line: lineOf(r.file, ['aliases', i]), message: `Tên gọi khác "${a}" chứa từ hỏi (ở đâu, lệ phí, online…).`, hint: 'Tên gọi khác chỉ ghi tên thủ tục; phần hỏi (lệ phí, ở đâu…) trợ lý tự nhận ra. Chuyển sang keywords nếu cần.' });
      }
    });
    if (p.online.available && !p.channels.some((c) => c.method === 'truc-tuyen')) {
      issues.push({ severity: 'error', file: r.file.rel, line: lineOf(r.file, ['online', 'available']), message: 'Ghi là làm trực tuyến được nhưng không có cách nộp "truc-tuyen" với thời hạn và lệ phí.', hint: 'Thêm một mục channels với method: truc-tuyen, hoặc sửa online.available: false.' });
    }
    const age = ageIssue(r.file, p.lastVerified, opts);
    if (age) issues.push(age);
    sourceOf.set(p.id, r.file.rel);
    lineRef.set(p.id, { file: r.file, data: p });
    procedures.push(p);
  }

  for (const path of listYaml(join(dir, 'faq'))) {
    const r = load<Faq>(path, faqSchema);
    if (!r) continue;
    const prev = sourceOf.get(r.value.id);
    if (prev) {
      issues.push({ severity: 'error', file: r.file.rel, line: lineOf(r.file, ['id']), message: `Mã "${r.value.id}" trùng với tệp ${prev}.`, hint: 'Đổi id cho khác.' });
      continue;
    }
    const age = ageIssue(r.file, r.value.lastVerified, opts);
    if (age) issues.push(age);
    sourceOf.set(r.value.id, r.file.rel);
    lineRef.set(r.value.id, { file: r.file, data: r.value });
    faqs.push(r.value);
  }

  let site: Site | null = null;
  const sitePath = join(dir, 'site.yaml');
  if (!existsSync(sitePath)) {
    issues.push({ severity: 'error', file: 'site.yaml', line: 1, message: 'Thiếu tệp site.yaml (thông tin địa phương).', hint: 'Sao chép tệp site.yaml mẫu và sửa theo địa phương.' });
  } else {
    const r = load<Site>(sitePath, siteSchema);
    if (r) {
      site = r.value;
      if (site.sample) {
        issues.push({ severity: 'warning', file: r.file.rel, line: lineOf(r.file, ['sample']), message: 'site.yaml vẫn là địa phương mẫu.', hint: 'Thay bằng thông tin thật của Trung tâm và đặt sample: false.' });
      }
    }
  }

  let replies: Replies | null = null;
  const repliesPath = join(dir, 'replies.yaml');
  if (!existsSync(repliesPath)) {
    issues.push({ severity: 'error', file: 'replies.yaml', line: 1, message: 'Thiếu tệp replies.yaml (mẫu câu trả lời).', hint: 'Khôi phục tệp replies.yaml từ bản phát hành.' });
  } else {
    const r = load<Replies>(repliesPath, repliesSchema);
    if (r) replies = r.value;
  }

  // Cross references: related ids must exist. A national code (1.013229) may also name a
  // record that only the national file supplies at run time; `kb check-national` checks those.
  const known = new Set(procedures.map((p) => p.id));
  for (const entry of [...procedures, ...faqs]) {
    const ref = lineRef.get(entry.id);
    if (!ref) continue;
    entry.related.forEach((rid, i) => {
      if (!known.has(rid) && !NATIONAL_CODE.test(rid)) {
        issues.push({ severity: 'error', file: ref.file.rel, line: lineOf(ref.file, ['related', i]), message: `Tham chiếu tới thủ tục không tồn tại: "${rid}".`, hint: 'Sửa id cho đúng tên tệp trong knowledge/procedures/, hoặc xóa dòng này.' });
      }
    });
  }

  if (procedures.length === 0 && listYaml(procDir).length === 0) {
    issues.push({ severity: 'error', file: 'procedures/', line: 1, message: 'Không có thủ tục nào.', hint: 'Thêm ít nhất một tệp vào knowledge/procedures/.' });
  }

  const hasError = issues.some((i) => i.severity === 'error');
  if (hasError || !site || !replies) return { knowledge: null, issues };
  return { knowledge: { procedures, faqs, site, replies, sourceOf, loadedAt: Date.now() }, issues };
}

/** Loads the base or throws a `KnowledgeError` listing every error. */
export function loadKnowledgeOrThrow(dir: string = DEFAULT_KNOWLEDGE_DIR, options: LoadOptions = {}): Knowledge {
  const r = loadKnowledge(dir, options);
  if (!r.knowledge) throw new KnowledgeError(r.issues);
  return r.knowledge;
}

/** Renders issues one per line as `file:line: [lỗi] message — hint`. */
export function formatIssues(issues: KnowledgeIssue[]): string {
  return issues
    .map((i) => `${i.file}:${i.line}: [${i.severity === 'error' ? 'lỗi' : 'cảnh báo'}] ${i.message}${i.hint ? ` — Gợi ý: ${i.hint}` : ''}`)
    .join('\n');
}

/** True when the path is a directory (used by CLI tools). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
