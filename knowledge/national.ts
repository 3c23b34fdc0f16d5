/**
 * Reads records of the national TTHC portal shape (`../shared/data/national-tthc-2026.jsonl`:
 * ma_thu_tuc, ten_thu_tuc, cach_thuc_thuc_hien, thanh_phan_ho_so, …) into procedures.
 *
 * The records are messy: page tables flattened into text, time units lost, only the
 * first fee tier, stale lines. Parsing is tolerant: what parses is kept, what does not
 * is replaced by an honest "see the portal" line and reported in `problems`, and every
 * imported procedure is marked `needs-review`.
 */
import { readFileSync } from 'node:fs';
import { NATIONAL_CODE, type Channel, type ChannelMethod, type DocumentGroup, type Procedure } from './schema.ts';

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

export interface ImportResult {
  procedure: Procedure;
  /** Sections that could not be parsed and were replaced by a pointer to the portal. */
  problems: string[];
}

const NO_INFO = /^\s*(không có thông tin|khong co thong tin)?\s*$/iu;
const METHOD_WORDS: [RegExp, ChannelMethod][] = [
  [/^trực tuyến/iu, 'truc-tuyen'],
  [/^trực tiếp/iu, 'truc-tiep'],
  [/^dịch vụ bưu chính|^bưu chính/iu, 'buu-chinh'],
];
const PORTAL_HINT = 'Xem chi tiết trên Cổng Dịch vụ công quốc gia hoặc hỏi nơi tiếp nhận hồ sơ.';

function clean(s: string | undefined): string {
  return (s ?? '').replace(/\u00a0/g, ' ').replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

/** Removes references to the abolished district level and the old household books. */
function modernize(s: string): string {
  return s
    .replace(/(ủy ban nhân dân|ubnd)\s+cấp huyện/giu, 'UBND cấp xã')
    .replace(/cấp huyện/giu, 'cấp xã')
    .replace(/sổ hộ khẩu|sổ tạm trú/giu, 'thông tin cư trú');
}

/** "Trực tuyến7 Ngày làm việc10,000 Việt Nam Đồng(…)" → channels. */
export function parseChannels(text: string): { channels: Channel[]; ok: boolean } {
  const body = clean(text).replace(/^Hình thức nộp\s*Thời gian\s*Phí, lệ phí\s*Mô tả/iu, '');
  const parts = body.split(/(?=Trực tuyến|Trực tiếp|Dịch vụ bưu chính)/u).filter((p) => p.trim());
  const channels: Channel[] = [];
  for (const part of parts) {
    const m = METHOD_WORDS.find(([re]) => re.test(part));
    if (!m) continue;
    const method = m[1];
    if (channels.some((c) => c.method === method)) continue;
    const rest = part.replace(m[0], '').trim();
    const time = rest.match(/^(\d+(?:[.,]\d+)?)\s*(ngày làm việc|ngày|giờ làm việc|giờ|tháng|năm)?/iu);
    const fee = rest.match(/([\d.,]+)\s*(?:Việt Nam Đồng|VNĐ|đồng)|Miễn phí|Không thu phí/iu);
    const desc = rest.match(/\(([^)]{3,})\)?/u)?.[1];
    const byProvince = /hđnd|hội đồng nhân dân/iu.test(rest);
    const timeText = time ? `${time[1]} ${time[2] ?? 'ngày làm việc (đơn vị không ghi rõ trên cổng)'}` : 'Theo quy định; xem trên Cổng Dịch vụ công quốc gia.';
    let feeText = fee ? (/miễn|không thu/iu.test(fee[0]) ? 'Miễn phí' : `${fee[1]} đồng`) : 'Xem trên Cổng Dịch vụ công quốc gia.';
    if (byProvince) feeText = `Do HĐND tỉnh quy định${fee && !/miễn/iu.test(fee[0]) ? ` (cổng ghi ${fee[1]} đồng)` : ''}.`;
    const amount = fee && !byProvince ? (/miễn|không thu/iu.test(fee[0]) ? 0 : Number((fee[1] ?? '').replace(/[.,]/g, ''))) : undefined;
    channels.push({
      method,
      time: timeText,
      timeDays: time && /ngày/iu.test(time[2] ?? '') ? Number((time[1] ?? '0').replace(',', '.')) : undefined,
      fee: feeText,
      feeAmount: Number.isFinite(amount) ? amount : undefined,
      feeByProvince: byProvince,
      note: desc ? modernize(desc.slice(0, 300)) : undefined,
    });
  }
  return { channels, ok: channels.length > 0 };
}

/** Steps: split on "Bước n" or lines starting with "-". */
export function parseSteps(text: string): string[] {
  const t = clean(text);
  if (NO_INFO.test(t)) return [];
  let parts = t.split(/(?=Bước\s*\d+\s*[:.])/iu).map((s) => s.trim()).filter(Boolean);
  if (parts.length < 2) parts = t.split(/\n\s*[-–•+]\s*/u).map((s) => s.trim()).filter(Boolean);
  if (parts.length < 2) parts = t.split(/\n+/u).map((s) => s.trim()).filter(Boolean);
  return parts.map((s) => modernize(s.replace(/^Bước\s*\d+\s*[:.]\s*/iu, '').slice(0, 500))).filter((s) => s.length > 3).slice(0, 12);
}

/** Documents: rows end with "N bản chính/bản sao"; group headings start with "*". */
export function parseDocuments(text: string): DocumentGroup[] {
  const t = clean(text).replace(/Tên giấy tờ\s*Mẫu đơn, tờ khai\s*Số lượng/giu, '\n');
  if (NO_INFO.test(t)) return [];
  const groups: DocumentGroup[] = [];
  const sections = t.split(/\*\s*/u).filter((s) => s.trim());
  for (const sec of sections.length ? sections : [t]) {
    const head = sec.match(/^([^:\n]{3,80}):/u);
    const group = head ? head[1]!.trim() : 'Giấy tờ phải nộp';
    const body = head ? sec.slice(head[0].length) : sec;
    const items = [];
    const re = /(.+?)(\d+)\s*(bản chính|bản sao)(?:\s*,?\s*(\d+)\s*(bản sao))?/gsu;
    for (const m of body.matchAll(re)) {
      const name = modernize(m[1]!.replace(/^[\s\-–•]+/u, '').trim());
      if (name.length < 3) continue;
      const n1 = Number(m[2]);
      const n2 = m[4] ? Number(m[4]) : 0;
      items.push({
        name: name.slice(0, 400),
        original: m[3] === 'bản chính' ? n1 : 0,
        copy: m[3] === 'bản sao' ? n1 : n2,
        showOnly: /xuất trình/iu.test(group),
      });
    }
    if (items.length) groups.push({ group: group.slice(0, 120), items });
  }
  return groups;
}

/** Legal basis: "…Mã văn bản" rows where the code looks like 123/2015/NĐ-CP. */
export function parseLegalBasis(text: string): { code: string; name?: string }[] {
  const t = clean(text);
  const seen = new Set<string>();
  const out: { code: string; name?: string }[] = [];
  for (const m of t.matchAll(/(\d{1,4}(?:\.\d+)?\/\d{4}\/[A-ZĐ][A-ZĐa-z0-9-]*)/gu)) {
    const code = m[1] as string;
    if (seen.has(code)) continue;
    seen.add(code);
    out.push({ code });
  }
  return out.slice(0, 12);
}

function levels(cap: string | undefined): Procedure['levels'] {
  const out = new Set<Procedure['levels'][number]>();
  const c = (cap ?? '').toLowerCase();
  if (c.includes('xã')) out.add('xa');
  if (c.includes('tỉnh')) out.add('tinh');
  if (c.includes('bộ')) out.add('bo');
  if (!out.size) out.add('khac');
  return [...out];
}

/** Converts one record; null when it has no usable code or name. */
export function importRecord(rec: NationalRecord, today: string): ImportResult | null {
  const code = clean(rec.ma_thu_tuc);
  const name = clean(rec.ten_thu_tuc).replace(/^thủ tục\s+/iu, '');
  if (!NATIONAL_CODE.test(code) || name.length < 3) return null;
  const problems: string[] = [];
  const { channels, ok } = parseChannels(rec.cach_thuc_thuc_hien ?? '');
  if (!ok) problems.push('cách thức thực hiện');
  let steps = parseSteps(rec.trinh_tu_thuc_hien ?? '');
  if (!steps.length) {
    problems.push('trình tự');
    steps = [PORTAL_HINT];
  }
  let documents = parseDocuments(rec.thanh_phan_ho_so ?? '');
  if (!documents.length) {
    problems.push('thành phần hồ sơ');
    documents = [{ group: 'Giấy tờ', items: [{ name: PORTAL_HINT, original: 0, copy: 0, showOnly: false }] }];
  }
  let legalBasis = parseLegalBasis(rec.can_cu_phap_ly ?? '');
  if (!legalBasis.length) {
    problems.push('căn cứ pháp lý');
    legalBasis = [{ code: clean(rec.so_quyet_dinh) || 'Xem Cổng Dịch vụ công quốc gia' }];
  }
  const agency = modernize(clean(rec.co_quan_thuc_hien).replace(NO_INFO, '') || clean(rec.co_quan_co_tham_quyen) || 'Xem Cổng Dịch vụ công quốc gia');
  const where = clean(rec.dia_chi_tiep_nhan);
  const result = clean(rec.ket_qua_xu_ly).split(/Mã:|Từ khóa/u)[0]?.trim();
  const url = clean(rec.detail_url);
  const procedure: Procedure = {
    version: 1,
    id: code,
    nationalCodes: [code],
    localCodes: [],
    name,
    aliases: [],
    keywords: [],
    field: clean(rec.linh_vuc) || 'Khác',
    levels: levels(rec.cap_thuc_hien),
    priority: 30,
    summary: `${name} (mã ${code}). Thông tin lấy từ Cổng Dịch vụ công quốc gia, chưa được cán bộ rà soát.`,
    applicants: clean(rec.doi_tuong_thuc_hien) || 'Cá nhân, tổ chức theo quy định',
    agency: agency.slice(0, 300),
    steps,
    documents,
    channels: channels.length ? channels : [{ method: 'truc-tiep', time: 'Xem trên Cổng Dịch vụ công quốc gia.', fee: 'Xem trên Cổng Dịch vụ công quốc gia.', feeByProvince: false }],
    where: [where && !NO_INFO.test(where) ? modernize(where).slice(0, 300) : agency.slice(0, 300)],
    result: result && !NO_INFO.test(result) ? result.slice(0, 300) : 'Xem trên Cổng Dịch vụ công quốc gia.',
    conditions: NO_INFO.test(clean(rec.yeu_cau_dieu_kien)) ? undefined : modernize(clean(rec.yeu_cau_dieu_kien)).slice(0, 600),
    legalBasis,
    online: { available: channels.some((c) => c.method === 'truc-tuyen'), level: channels.some((c) => c.method === 'truc-tuyen') ? 'mot-phan' : 'khong' },
    portalUrl: /^https?:\/\//.test(url) ? url : undefined,
    related: [],
    lastVerified: today,
    status: 'needs-review',
    sources: [`Cổng Dịch vụ công quốc gia, thủ tục ${code}${rec.so_quyet_dinh ? ` (${clean(rec.so_quyet_dinh)})` : ''}`],
  };
  return { procedure, problems };
}

/** Reads a JSON-lines file of national records; bad lines are counted, not fatal. */
export function readNationalFile(path: string, today = new Date().toISOString().slice(0, 10)): { results: ImportResult[]; badLines: number } {
  const results: ImportResult[] = [];
  let badLines = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = importRecord(JSON.parse(line) as NationalRecord, today);
      if (r) results.push(r);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { results, badLines };
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
