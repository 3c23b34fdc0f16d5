/**
 * Dossier status lookup: the one interface every source of dossier data implements
 * (embedded SQLite, a province's one-stop-shop HTTP API, test doubles).
 */

/** The national status set (Cổng DVC quốc gia sync codes 1–10). "Quá hạn" is computed. */
export const DOSSIER_STATUSES = [
  'Mới đăng ký',
  'Được tiếp nhận',
  'Không được tiếp nhận',
  'Đang xử lý',
  'Yêu cầu bổ sung giấy tờ',
  'Yêu cầu thực hiện nghĩa vụ tài chính',
  'Công dân yêu cầu rút hồ sơ',
  'Dừng xử lý',
  'Đã xử lý xong',
  'Đã trả kết quả',
] as const;
export type DossierStatus = (typeof DOSSIER_STATUSES)[number];

export interface DossierRecord {
  /** Upper-case dossier code. */
  code: string;
  /** Knowledge-base procedure id when known. */
  procedureId?: string;
  procedureName: string;
  status: DossierStatus;
  /** ISO dates (yyyy-mm-dd or full ISO). */
  receivedAt: string;
  dueAt?: string;
  finishedAt?: string;
  /** Full name as stored; only ever shown masked. */
  applicantName: string;
  /** Stored for verification only; never shown or logged. */
  phone?: string;
  currentStep?: string;
  /** What the citizen must do (papers to add, fee to pay, what to bring). */
  note?: string;
}

export interface DossierStatusProvider {
  readonly name: string;
  /** The record, or null when no dossier has that code. Throws DossierUnavailableError when the source is down. */
  lookup(code: string): Promise<DossierRecord | null>;
  close?(): Promise<void>;
}

/** The upstream system did not answer in time or answered garbage. */
export class DossierUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DossierUnavailableError';
  }
}

/** True when the dossier is past its due date and not finished. */
export function overdueDays(r: DossierRecord, today: Date): number {
  if (!r.dueAt) return 0;
  if (['Đã xử lý xong', 'Đã trả kết quả', 'Không được tiếp nhận', 'Công dân yêu cầu rút hồ sơ', 'Dừng xử lý'].includes(r.status)) return 0;
  const due = Date.parse(r.dueAt.length === 10 ? `${r.dueAt}T23:59:59+07:00` : r.dueAt);
  if (Number.isNaN(due)) return 0;
  const diff = today.getTime() - due;
  return diff > 0 ? Math.ceil(diff / 86_400_000) : 0;
}

/** What the citizen should do next, in plain words, by status. */
export const NEXT_STEP: Record<DossierStatus, string> = {
  'Mới đăng ký': 'Hồ sơ đang chờ cán bộ kiểm tra và tiếp nhận; bạn chưa cần làm gì thêm.',
  'Được tiếp nhận': 'Hồ sơ đã được tiếp nhận; bạn chờ đến ngày hẹn trả.',
  'Không được tiếp nhận': 'Hồ sơ không được tiếp nhận; xem lý do bên dưới hoặc gọi đường dây nóng để được hướng dẫn nộp lại.',
  'Đang xử lý': 'Hồ sơ đang được giải quyết; bạn chờ đến ngày hẹn trả.',
  'Yêu cầu bổ sung giấy tờ': 'Bạn cần bổ sung giấy tờ theo ghi chú bên dưới, tại nơi đã nộp hoặc trên Cổng Dịch vụ công.',
  'Yêu cầu thực hiện nghĩa vụ tài chính': 'Bạn cần nộp phí, lệ phí hoặc thuế theo thông báo rồi gửi chứng từ để hồ sơ được tiếp tục.',
  'Công dân yêu cầu rút hồ sơ': 'Hồ sơ đã được rút theo yêu cầu của bạn.',
  'Dừng xử lý': 'Hồ sơ đã dừng xử lý; xem lý do bên dưới hoặc gọi đường dây nóng.',
  'Đã xử lý xong': 'Đã có kết quả: bạn mang Giấy tiếp nhận hồ sơ và hẹn trả kết quả cùng giấy tờ tùy thân đến nhận (hoặc chờ bưu điện nếu đã đăng ký).',
  'Đã trả kết quả': 'Kết quả đã được trả.',
};

/** In-process dossiers (tests, `DOSSIER_PROVIDER=memory`): nothing to install, nothing kept. */
export class MemoryDossierProvider implements DossierStatusProvider {
  readonly name = 'memory';
  private readonly records = new Map<string, DossierRecord>();

  constructor(records: DossierRecord[] = []) {
    for (const r of records) this.upsert(r);
  }

  upsert(r: DossierRecord): void {
    const code = r.code.trim().toUpperCase();
    this.records.set(code, { ...r, code });
  }

  async lookup(code: string): Promise<DossierRecord | null> {
    const r = this.records.get(code.trim().toUpperCase());
    // A copy, so a caller that edits the record cannot change what the next one sees.
    return r ? { ...r } : null;
  }
}
