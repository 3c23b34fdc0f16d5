/**
 * Messages the staff import and list commands print, in one module (Fuse.js
 * `errorMessages.ts` habit). They are Vietnamese because the hotline staff who run
 * `npm run dossiers` read them; citizens never see them.
 */
import { DOSSIER_STATUSES } from './types.ts';

const q = (v: string) => `"${v.length > 60 ? `${v.slice(0, 57)}…` : v}"`;

export const IMPORT_MESSAGES = {
  notUtf8: 'Tệp không phải UTF-8. Trong Excel chọn Lưu thành → "CSV UTF-8 (phân cách bằng dấu phẩy)" rồi nhập lại.',
  empty: 'Tệp trống, không có dòng tiêu đề.',
  missingColumns: (cols: string[]) =>
    `Thiếu cột bắt buộc: ${cols.join(', ')}. Dòng đầu tiên phải là tiêu đề, ví dụ: code,procedure,status,received_at,due_at,finished_at,applicant_name,phone,current_step,note (hoặc Mã hồ sơ, Thủ tục, Trạng thái, Ngày nhận, Ngày hẹn trả, Ngày trả, Người nộp, Số điện thoại, Bước hiện tại, Ghi chú).`,
  unknownColumn: (name: string) => `Cột ${q(name)} không dùng đến, bỏ qua.`,
  duplicateColumn: (name: string) => `Cột ${q(name)} xuất hiện hai lần; chỉ dùng cột đầu tiên.`,
  unterminatedQuote: 'Dấu ngoặc kép mở nhưng không đóng; kiểm tra lại ô có dấu " ở dòng này.',
  textAfterQuote: 'Có chữ ngay sau dấu ngoặc kép đóng; ô có dấu " phải được bao trọn trong ngoặc kép.',
  tooManyFields: (got: number, want: number) => `Dòng có ${got} cột nhưng tiêu đề chỉ có ${want} cột (ô có dấu phẩy phải đặt trong ngoặc kép).`,
  badCode: (v: string) => `Mã hồ sơ ${q(v)} không đúng dạng (ví dụ 000.00.19.H04-250312-0007 hoặc H57.132-260804-0583).`,
  missing: (label: string) => `Thiếu ${label}.`,
  badStatus: (v: string) => `Trạng thái ${q(v)} không thuộc danh mục. Dùng một trong: ${DOSSIER_STATUSES.join('; ')}.`,
  overdueIsNotStatus: (v: string) => `${q(v)} không phải trạng thái: quá hạn được tính từ ngày hẹn trả. Ghi trạng thái thật, ví dụ "Đang xử lý".`,
  badDate: (label: string, v: string) => `${label} ${q(v)} không đúng; dùng dd/mm/yyyy (ví dụ 25/03/2026) hoặc yyyy-mm-dd.`,
  dateBefore: (label: string, other: string) => `${label} trước ${other.toLowerCase()}.`,
  badPhone: (masked: string) => `Số điện thoại ${masked} không hợp lệ (cần 10 hoặc 11 số, bắt đầu bằng 0 hoặc +84).`,
  tooLong: (label: string, max: number) => `${label} dài quá ${max} ký tự.`,
  duplicateCode: (code: string, firstLine: number) => `Mã hồ sơ ${code} đã có ở dòng ${firstLine}; dùng dữ liệu của dòng này.`,
} as const;

/** Column labels as staff know them (used in messages). */
export const COLUMN_LABELS = {
  code: 'Mã hồ sơ',
  procedure: 'Thủ tục',
  procedure_id: 'Mã thủ tục trong cơ sở tri thức',
  status: 'Trạng thái',
  received_at: 'Ngày nhận',
  due_at: 'Ngày hẹn trả',
  finished_at: 'Ngày trả',
  applicant_name: 'Người nộp',
  phone: 'Số điện thoại',
  current_step: 'Bước hiện tại',
  note: 'Ghi chú',
} as const;

export const CLI_MESSAGES = {
  usage: `Cách dùng:
  npm run dossiers -- import TỆP.csv [--dry-run]   nhập/cập nhật hồ sơ từ tệp CSV (UTF-8)
  npm run dossiers -- list [--status "Đang xử lý"] [--limit 50]   xem các hồ sơ đã có
  Tùy chọn chung: --db ĐƯỜNG_DẪN (mặc định DOSSIER_DB_FILE hoặc DATA_DIR/dossiers.sqlite)`,
  fileMissing: (file: string) => `Không đọc được tệp ${file}.`,
  rowError: (line: number, message: string) => `  Dòng ${line}: ${message}`,
  rowWarning: (line: number, message: string) => `  Dòng ${line} (lưu ý): ${message}`,
  headerWarning: (message: string) => `  Tiêu đề (lưu ý): ${message}`,
  summary: (ok: number, bad: number, db: string, dry: boolean) =>
    dry
      ? `Kiểm tra xong (chưa ghi): ${ok} dòng hợp lệ, ${bad} dòng lỗi.`
      : `Đã nhập ${ok} hồ sơ vào ${db}; ${bad} dòng lỗi không được nhập${bad ? ' (sửa rồi nhập lại tệp, các dòng đúng sẽ được cập nhật, không bị trùng)' : ''}.`,
  errorsTitle: 'Các dòng lỗi:',
  otherProvider: (p: string) => `Lưu ý: trợ lý đang tra cứu qua DOSSIER_PROVIDER=${p}, nên dữ liệu nhập vào tệp này chưa được dùng để trả lời.`,
  listEmpty: 'Chưa có hồ sơ nào.',
  listHeader: 'Mã hồ sơ | Thủ tục | Trạng thái | Người nộp | Ngày nhận | Ngày hẹn trả',
  listFooter: (shown: number, total: number) => `Hiển thị ${shown}/${total} hồ sơ.`,
  overdue: (days: number) => `quá hạn ${days} ngày`,
  badStatusFilter: (v: string) => `Trạng thái ${q(v)} không thuộc danh mục.`,
  unknownCommand: (c: string) => `Không rõ lệnh ${q(c)}.`,
} as const;
