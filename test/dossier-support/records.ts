/** Dossiers used by the dossier tests: every national status, optional fields present and absent. */
import { DOSSIER_STATUSES, type DossierRecord, type DossierStatus } from '../../bot/dossier/types.ts';

/** Thursday 26 November 2026, 10:00 in Vietnam. */
export const NOW = Date.parse('2026-11-26T10:00:00+07:00');

/** One dossier per status; codes in both national shapes. */
export function testRecords(): DossierRecord[] {
  const extra: Partial<Record<DossierStatus, Partial<DossierRecord>>> = {
    'Đang xử lý': { dueAt: '2026-11-22', currentStep: 'Văn phòng đăng ký đất đai đo đạc', procedureId: 'dat-dai.cap-lan-dau' },
    'Yêu cầu bổ sung giấy tờ': { note: 'Bổ sung bản vẽ mặt bằng, có chữ ký "người thiết kế"; gọi 0912 345 678 nếu cần.\nMang bản chính để đối chiếu.' },
    'Đã xử lý xong': { finishedAt: '2026-11-20', dueAt: '2026-11-21' },
    'Đã trả kết quả': { finishedAt: '2026-11-18', dueAt: '2026-11-21' },
    'Mới đăng ký': { phone: undefined },
  };
  return DOSSIER_STATUSES.map((status, i) => {
    const n = String(i + 1).padStart(4, '0');
    const code = i % 3 === 2 ? `H57.132-261110-${n}` : `000.00.19.H57-261110-${n}`;
    const base: DossierRecord = {
      code,
      procedureName: i % 2 ? 'Đăng ký thường trú' : 'Cấp Giấy chứng nhận quyền sử dụng đất lần đầu',
      status,
      receivedAt: '2026-11-10',
      dueAt: '2026-12-01',
      applicantName: i % 2 ? 'Trần Thị Bình' : 'Nguyễn Văn An',
      phone: `09876543${String(i).padStart(2, '0')}`,
    };
    const rec = { ...base, ...extra[status] };
    for (const k of Object.keys(rec) as (keyof DossierRecord)[]) if (rec[k] === undefined) delete rec[k];
    return rec;
  });
}

/** A well-formed code that no test data uses. */
export const UNKNOWN_CODE = '000.00.19.H57-261110-9999';
