/**
 * Turning what other systems and spreadsheets call a status, a date or a code into
 * our record shape. Shared by the HTTP provider (upstream JSON) and the staff CSV
 * import, so both accept the same spellings and reject the same garbage.
 */
import { findDossierCode } from '../../intents/entities.ts';
import { fold } from '../../intents/normalize.ts';
import { DOSSIER_STATUSES, type DossierStatus } from './types.ts';

/** Lower-case, no diacritics, single spaces: the key used to compare labels. */
export function labelKey(s: string): string {
  return fold(s.normalize('NFC')).toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/**
 * Labels seen in provincial one-stop systems (VNPT iGate, OpenCPS, spreadsheets kept by
 * staff) for each national status, as `labelKey` keys. The national names themselves and
 * the sync codes 1–10 are added below.
 */
const STATUS_ALIASES: Record<DossierStatus, string[]> = {
  'Mới đăng ký': ['moi', 'moi nop', 'cho tiep nhan', 'cho tiep nhan truc tuyen', 'new', 'collecting'],
  'Được tiếp nhận': ['da tiep nhan', 'tiep nhan', 'received', 'receiving'],
  'Không được tiếp nhận': ['tu choi tiep nhan', 'tu choi', 'khong tiep nhan', 'denied', 'rejected'],
  'Đang xử lý': ['dang giai quyet', 'thu ly ho so', 'dang thu ly', 'dang xu ly qua han', 'processing', 'waiting', 'handover'],
  'Yêu cầu bổ sung giấy tờ': ['cho bo sung', 'cho bo sung ho so', 'yeu cau bo sung', 'yeu cau cong dan bo sung', 'bo sung', 'correcting'],
  'Yêu cầu thực hiện nghĩa vụ tài chính': ['cho nop phi', 'yeu cau thanh toan', 'nghia vu tai chinh', 'cho thanh toan', 'paying'],
  'Công dân yêu cầu rút hồ sơ': ['rut ho so', 'da rut', 'da huy', 'huy', 'cancelled', 'withdrawn'],
  'Dừng xử lý': ['tam dung', 'dung', 'stopped'],
  'Đã xử lý xong': ['co ket qua', 'cho tra ket qua', 'da co ket qua', 'releasing', 'da xu ly'],
  'Đã trả kết quả': ['da tra', 'hoan thanh', 'da chuyen tra kq', 'done', 'returned'],
};

const BUILTIN_STATUS = new Map<string, DossierStatus>();
DOSSIER_STATUSES.forEach((s, i) => {
  BUILTIN_STATUS.set(labelKey(s), s);
  BUILTIN_STATUS.set(String(i + 1), s);
  for (const a of STATUS_ALIASES[s]) BUILTIN_STATUS.set(a, s);
});

/** The national status for an exact national name (any Unicode form), else undefined. */
export function asNationalStatus(value: string): DossierStatus | undefined {
  const nfc = value.normalize('NFC').trim();
  return (DOSSIER_STATUSES as readonly string[]).includes(nfc) ? (nfc as DossierStatus) : undefined;
}

/**
 * Maps an upstream or spreadsheet status to the national set: first the operator's own
 * map (exact, then folded), then the national names, sync codes and known aliases.
 */
export function toNationalStatus(value: unknown, custom?: ReadonlyMap<string, DossierStatus>): DossierStatus | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const raw = String(value).trim();
  if (!raw) return undefined;
  if (custom) {
    const hit = custom.get(raw) ?? custom.get(labelKey(raw));
    if (hit) return hit;
  }
  return BUILTIN_STATUS.get(labelKey(raw));
}

/**
 * Builds the lookup used by `toNationalStatus` from configuration. Throws with the
 * offending entry when a target is not one of the national statuses.
 */
export function compileStatusMap(map: Record<string, string> | undefined): Map<string, DossierStatus> {
  const out = new Map<string, DossierStatus>();
  for (const [from, to] of Object.entries(map ?? {})) {
    const target = asNationalStatus(to) ?? BUILTIN_STATUS.get(labelKey(to));
    if (!target) throw new Error(`status map: "${to}" (for "${from}") is not a national dossier status`);
    out.set(from.trim(), target);
    out.set(labelKey(from), target);
  }
  return out;
}

const VN_OFFSET_MS = 7 * 3600_000;

function isoDate(y: number, m: number, d: number): string | null {
  if (y < 1990 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return null;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCMonth() !== m - 1) return null;
  return dt.toISOString().slice(0, 10);
}

function fromEpoch(ms: number): string | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms + VN_OFFSET_MS);
  return isoDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * A calendar date (yyyy-mm-dd, Vietnam time) from dd/mm/yyyy, yyyy-mm-dd, a full ISO
 * timestamp or epoch milliseconds. `undefined` for an empty value, `null` for garbage.
 */
export function parseDossierDate(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return fromEpoch(value < 1e11 ? value * 1000 : value);
  if (typeof value !== 'string') return null;
  const s = value.trim();
  if (!s) return undefined;
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[\sT,]+\d{1,2}[:h]\d{2}(?::\d{2})?)?$/.exec(s);
  if (m) return isoDate(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    if (!m[6]) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? null : fromEpoch(ms);
  }
  if (/^\d{10,13}$/.test(s)) return parseDossierDate(Number(s));
  return null;
}

/** The upper-cased code when `value` is exactly one well-formed dossier code, else null. */
export function normalizeDossierCode(value: string): string | null {
  const s = value.normalize('NFC').trim();
  const m = findDossierCode(s);
  return m && m.code === s.toUpperCase() ? m.code : null;
}

/** Characters a code may contain before it is put in a URL or a query (looser than the shape check). */
export function isSafeCode(code: string): boolean {
  return /^[A-Z0-9][A-Z0-9.-]{0,79}$/.test(code);
}

/** Digits of a Vietnamese phone number in the 0… form, or null when it is not one. */
export function normalizePhone(value: string): string | null {
  let d = value.replace(/[\s.()-]/g, '');
  if (d.startsWith('+84')) d = `0${d.slice(3)}`;
  else if (d.startsWith('84') && d.length === 11) d = `0${d.slice(2)}`;
  return /^0\d{9,10}$/.test(d) ? d : null;
}
