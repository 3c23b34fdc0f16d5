/**
 * Sample dossiers so a fresh install can demonstrate lookups. Codes, names and dates
 * are invented; dates are relative to today so "overdue" and "done" stay meaningful.
 */
import type { DossierRecord } from './types.ts';

function day(offset: number, now: number): string {
  return new Date(now + offset * 86_400_000 + 7 * 3600_000).toISOString().slice(0, 10);
}

function yymmdd(iso: string): string {
  return iso.slice(2).replace(/-/g, '');
}

/** A handful of dossiers in different states. */
export function sampleDossiers(now = Date.now()): DossierRecord[] {
  const mk = (offsetReceived: number, counter: string, r: Omit<DossierRecord, 'code' | 'receivedAt'>): DossierRecord => {
    const received = day(offsetReceived, now);
    return { code: `000.00.19.H99-${yymmdd(received)}-${counter}`, receivedAt: received, ...r };
  };
  return [
    mk(-3, '0001', { procedureId: 'ho-tich.khai-sinh', procedureName: 'Đăng ký khai sinh', status: 'Đã xử lý xong', dueAt: day(-2, now), finishedAt: day(-2, now), applicantName: 'Nguyễn Văn An', phone: '0912345678' }),
    mk(-5, '0002', { procedureId: 'cu-tru.thuong-tru', procedureName: 'Đăng ký thường trú', status: 'Đang xử lý', dueAt: day(3, now), applicantName: 'Trần Thị Bình', phone: '0987654321', currentStep: 'Công an xã thẩm định hồ sơ' }),
    mk(-10, '0003', { procedureId: 'xay-dung.giay-phep', procedureName: 'Cấp giấy phép xây dựng nhà ở riêng lẻ', status: 'Yêu cầu bổ sung giấy tờ', dueAt: day(5, now), applicantName: 'Lê Văn Cường', phone: '0905111222', note: 'Bổ sung bản vẽ mặt bằng móng có chữ ký của người thiết kế.' }),
    mk(-20, '0004', { procedureId: 'dat-dai.cap-lan-dau', procedureName: 'Cấp Giấy chứng nhận quyền sử dụng đất lần đầu', status: 'Đang xử lý', dueAt: day(-4, now), applicantName: 'Phạm Thị Dung', phone: '0978000111', currentStep: 'Văn phòng đăng ký đất đai đo đạc' }),
    mk(-2, '0005', { procedureId: 'ho-tich.ket-hon', procedureName: 'Đăng ký kết hôn', status: 'Được tiếp nhận', dueAt: day(1, now), applicantName: 'Hoàng Minh Em', phone: '0911222333' }),
    mk(-6, '0006', {
      procedureName: 'Đăng ký biến động quyền sử dụng đất (chuyển nhượng)',
      status: 'Yêu cầu thực hiện nghĩa vụ tài chính',
      dueAt: day(4, now),
      applicantName: 'Đỗ Thị Giang',
      phone: '0933444555',
      currentStep: 'Chi nhánh Văn phòng đăng ký đất đai',
      note: 'Nộp lệ phí trước bạ và thuế thu nhập cá nhân theo Thông báo của cơ quan thuế, rồi gửi chứng từ đã nộp.',
    }),
    // The shorter provincial code shape (agency prefix without the 000.00.xx part).
    { ...mk(-9, '0007', { procedureName: 'Cấp Phiếu lý lịch tư pháp số 1', status: 'Đã trả kết quả', dueAt: day(1, now), finishedAt: day(-1, now), applicantName: 'Vũ Đức Hải', phone: '0944555666' }), code: `H99.132-${yymmdd(day(-9, now))}-0007` },
  ];
}
