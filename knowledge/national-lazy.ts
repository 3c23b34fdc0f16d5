/**
 * Loads a national records file for the running assistant without parsing every
 * record's flattened sections up front: only the code and name are read at startup
 * (what the index needs); steps, documents, channels… are parsed by `importRecord`
 * the first time a reply needs them, then kept. Startup with 2,642 records stays well
 * under the budget (`npm run bench`).
 */
import { readFileSync } from 'node:fs';
import { describeRecordSections } from './describe.ts';
import { importRecord, type NationalRecord } from './national.ts';
import { NATIONAL_CODE, type Procedure } from './schema.ts';

const LAZY_KEYS = [
  'localCodes', 'field', 'levels', 'summary', 'applicants', 'agency', 'steps', 'documents', 'channels', 'where',
  'result', 'conditions', 'legalBasis', 'online', 'portalUrl', 'provinceNote', 'related', 'lastVerified', 'sources',
] as const;

/** A procedure backed by its raw record; heavy fields are getters on the prototype (one closure per class, not per record). */
class LazyProcedure {
  readonly version = 1;
  readonly nationalCodes: string[];
  readonly aliases: string[] = [];
  readonly keywords: string[] = [];
  readonly priority: number;
  readonly status = 'needs-review';
  #rec: NationalRecord | null;
  #full: Procedure | null = null;
  /** Who it is for, conditions, documents, result: kept as text for the index (see describe.ts). */
  #description: string;

  constructor(
    readonly id: string,
    readonly name: string,
    rec: NationalRecord,
    private readonly today: string,
  ) {
    this.nationalCodes = [id];
    this.priority = nationalPriority(name, rec.cap_thuc_hien ?? '');
    this.#rec = rec;
    this.#description = describeRecordSections([rec.doi_tuong_thuc_hien, rec.yeu_cau_dieu_kien, resultNames(rec.ket_qua_xu_ly), rec.thanh_phan_ho_so, rec.trinh_tu_thuc_hien]);
  }

  /** Descriptive text for the understanding index; read once when the index is built. */
  describe(): string {
    const d = this.#description;
    this.#description = '';
    return d;
  }

  /** Parses the record on first use and drops the raw text. */
  full(): Procedure {
    if (!this.#full) {
      this.#full = importRecord(this.#rec as NationalRecord, this.today)?.procedure ?? null;
      this.#rec = null;
      if (!this.#full) throw new Error(`national record ${this.id} could not be parsed`);
    }
    return this.#full;
  }
}
for (const key of LAZY_KEYS) {
  Object.defineProperty(LazyProcedure.prototype, key, {
    enumerable: true,
    get(this: LazyProcedure) {
      return (this.full() as Record<string, unknown>)[key];
    },
  });
}

/**
 * Tie-break weight of a national record for a provincial or commune centre: the version
 * done here (commune, province, "ở trong nước") before the ministry's, the abroad one or
 * one still named after the abolished district level.
 */
export function nationalPriority(name: string, levels: string): number {
  let p = 28;
  if (/cấp xã|cấp tỉnh/iu.test(levels)) p += 2;
  // Done only by a ministry ("tại Cục Quản lý xuất nhập cảnh"): on a near tie its provincial or
  // commune copy is what a provincial centre files (measured: the small step of 2 did not decide).
  else if (/cấp bộ/iu.test(levels)) p = 0;
  if (/ở trong nước|tại việt nam/iu.test(name)) p += 1;
  if (/ở nước ngoài/iu.test(name)) p -= 3;
  if (/cấp huyện/iu.test(name)) p -= 8;
  return p;
}

/** The result section without the portal's page furniture after the result names ("Mã: KQ…", "Từ khóa…"). */
function resultNames(s: string | undefined): string {
  return (s ?? '').split(/Từ khóa/u)[0]?.replace(/Mã:\s*KQ[.\w]*/gu, '. ') ?? '';
}

/** Procedures whose heavy fields are parsed on first access. Bad lines are skipped and counted. */
export function readNationalFileLazy(path: string, today = new Date().toISOString().slice(0, 10)): { procedures: Procedure[]; badLines: number } {
  const procedures: Procedure[] = [];
  let badLines = 0;
  // Line by line from the bytes: decoding the whole 20 MB file into one string first
  // doubled the peak memory of startup (a newline byte never occurs inside a UTF-8 sequence).
  const bytes = readFileSync(path);
  for (let start = 0; start <= bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.toString('utf8', start, end);
    start = end + 1;
    if (!line.trim()) continue;
    let rec: NationalRecord;
    try {
      rec = JSON.parse(line) as NationalRecord;
    } catch {
      badLines++;
      continue;
    }
    const code = (rec.ma_thu_tuc ?? '').trim();
    const name = (rec.ten_thu_tuc ?? '').replace(/\s+/g, ' ').trim().replace(/^thủ tục\s+/iu, '');
    if (!NATIONAL_CODE.test(code) || name.length < 3) {
      badLines++;
      continue;
    }
    procedures.push(new LazyProcedure(code, name, rec, today) as unknown as Procedure);
  }
  return { procedures, badLines };
}
