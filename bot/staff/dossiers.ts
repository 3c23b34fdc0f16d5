/**
 * Dossiers for staff (console "Hồ sơ" page; `npm run dossiers` does the same at a
 * terminal): search by code through the configured `DossierStatusProvider` (embedded
 * SQLite or the province's one-stop system — the same lookup citizens get, without their
 * rate limit), and CSV import through the existing importer (bad rows listed with line
 * and reason, good rows kept). Names and phone numbers are shown masked: staff confirm
 * them with the citizen, they do not read them out. Every search and import is audited.
 */
import { findDossierCode, findMalformedCode } from '../../intents/entities.ts';
import { parseDossierCsv, type ImportIssue } from '../dossier/import.ts';
import { overdueDays, type DossierRecord, type DossierStatusProvider } from '../dossier/types.ts';
import { maskName, maskPhone } from '../privacy.ts';
import type { AuditSink } from './audit.ts';

/** A dossier as staff see it. */
export interface StaffDossierView {
  code: string;
  procedureId: string | null;
  procedureName: string;
  status: string;
  receivedAt: string;
  dueAt: string | null;
  finishedAt: string | null;
  overdueDays: number;
  applicant: string;
  phone: string | null;
  currentStep: string | null;
  note: string | null;
}

export type DossierSearch =
  | { ok: true; dossier: StaffDossierView }
  | { ok: false; reason: 'malformed' | 'not-found' | 'unavailable'; message: string };

export interface DossierImportReport {
  /** Rows written (0 for a dry run). */
  imported: number;
  /** Good rows read. */
  good: number;
  errors: ImportIssue[];
  warnings: ImportIssue[];
  badLines: number;
  fatal?: string;
}

/** The part of the SQLite provider an import needs. */
export interface DossierWriter {
  upsert(records: readonly DossierRecord[]): number;
}

export const DOSSIER_DESK_MESSAGES = Object.freeze({
  malformed: (code: string) => `"${code}" chưa đúng dạng mã hồ sơ (ví dụ 000.00.19.H04-250312-0007).`,
  notFound: (code: string) => `Không tìm thấy hồ sơ ${code}.`,
  unavailable: 'Hệ thống tra cứu hồ sơ đang không trả lời; thử lại sau ít phút.',
  noWriter: 'Nguồn hồ sơ đang dùng (DOSSIER_PROVIDER) không nhận tải lên; chỉ cơ sở dữ liệu nhúng (sqlite) nhận tệp CSV.',
});

/** The staff dossier service (see the module comment). */
export class DossierDesk {
  constructor(
    private readonly deps: { provider: DossierStatusProvider; writer?: DossierWriter; audit?: AuditSink; now?: () => number },
  ) {}

  /** Looks a dossier up by the code staff typed (any case, surrounding text allowed). */
  async search(query: string, actor: string): Promise<DossierSearch> {
    const raw = String(query ?? '').slice(0, 200);
    const code = findDossierCode(raw)?.code;
    this.deps.audit?.record({ actor, action: 'dossier.search', target: code ?? null });
    if (!code) return { ok: false, reason: 'malformed', message: DOSSIER_DESK_MESSAGES.malformed(findMalformedCode(raw) ?? raw.trim().slice(0, 60)) };
    let rec: DossierRecord | null;
    try {
      rec = await this.deps.provider.lookup(code);
    } catch {
      return { ok: false, reason: 'unavailable', message: DOSSIER_DESK_MESSAGES.unavailable };
    }
    if (!rec) return { ok: false, reason: 'not-found', message: DOSSIER_DESK_MESSAGES.notFound(code) };
    const now = new Date((this.deps.now ?? Date.now)());
    return {
      ok: true,
      dossier: {
        code: rec.code,
        procedureId: rec.procedureId ?? null,
        procedureName: rec.procedureName,
        status: rec.status,
        receivedAt: rec.receivedAt,
        dueAt: rec.dueAt ?? null,
        finishedAt: rec.finishedAt ?? null,
        overdueDays: overdueDays(rec, now),
        applicant: maskName(rec.applicantName),
        phone: rec.phone ? maskPhone(rec.phone) : null,
        currentStep: rec.currentStep ?? null,
        note: rec.note ?? null,
      },
    };
  }

  /** Imports a CSV upload: good rows are written, bad rows listed (nothing written on a dry run). */
  importCsv(bytes: Uint8Array | string, actor: string, opts: { dryRun?: boolean } = {}): DossierImportReport {
    const r = parseDossierCsv(bytes);
    const report: DossierImportReport = { imported: 0, good: r.records.length, errors: r.errors, warnings: r.warnings, badLines: r.badLines, ...(r.fatal ? { fatal: r.fatal } : {}) };
    if (r.fatal) return report;
    if (!opts.dryRun && r.records.length) {
      if (!this.deps.writer) return { ...report, fatal: DOSSIER_DESK_MESSAGES.noWriter };
      report.imported = this.deps.writer.upsert(r.records.map((x) => x.record));
    }
    this.deps.audit?.record({ actor, action: opts.dryRun ? 'dossier.import-check' : 'dossier.import', detail: `${report.good} dòng tốt, ${report.badLines} dòng lỗi` });
    return report;
  }
}
