/**
 * Generates a synthetic base of national-shape procedure records (default 10,000) for
 * scale benchmarks: `npx tsx scripts/gen-synthetic.ts [N] [OUT.jsonl]`.
 * Names combine real-looking actions, objects and qualifiers so postings lists and
 * vocabulary grow the way a real catalogue's do. Deterministic (seeded).
 */
import { writeFileSync } from 'node:fs';

const ACTIONS = ['Cấp', 'Cấp lại', 'Cấp đổi', 'Gia hạn', 'Điều chỉnh', 'Thu hồi', 'Đăng ký', 'Đăng ký thay đổi', 'Xác nhận', 'Công nhận', 'Thẩm định', 'Phê duyệt', 'Chấp thuận', 'Hỗ trợ', 'Giải quyết', 'Thông báo', 'Chứng nhận', 'Bổ sung', 'Hủy bỏ', 'Tạm ngừng'];
const OBJECTS = ['giấy phép hoạt động', 'chứng chỉ hành nghề', 'giấy chứng nhận đủ điều kiện', 'giấy phép khai thác', 'giấy phép vận tải', 'chứng nhận đăng ký', 'quyết định công nhận', 'hồ sơ dự án', 'giấy phép môi trường', 'giấy phép nhập khẩu', 'phương án sản xuất', 'chứng nhận hợp quy', 'giấy phép kinh doanh dịch vụ', 'giấy phép thành lập', 'mã số', 'giấy xác nhận', 'hạn mức', 'chế độ trợ cấp', 'danh mục', 'quy hoạch chi tiết'];
const DOMAINS = ['cơ sở giáo dục', 'cơ sở y tế', 'thủy sản', 'lâm nghiệp', 'khoáng sản', 'tài nguyên nước', 'xuất bản', 'báo chí', 'viễn thông', 'đường thủy nội địa', 'hàng hải', 'hàng không', 'điện lực', 'hóa chất', 'vật liệu nổ', 'du lịch', 'thể thao', 'văn hóa', 'chứng khoán', 'bảo hiểm', 'ngân hàng', 'hải quan', 'thuế', 'kho bạc', 'đấu thầu', 'giá', 'kế toán', 'kiểm toán', 'người có công', 'trẻ em', 'dân tộc', 'tôn giáo', 'thi đua', 'lưu trữ', 'đo lường', 'tiêu chuẩn', 'an toàn lao động', 'việc làm', 'giáo dục nghề nghiệp', 'phòng cháy'];
const QUALIFIERS = ['', 'cho tổ chức', 'cho cá nhân', 'có yếu tố nước ngoài', 'cấp tỉnh', 'cấp xã', 'trong khu công nghiệp', 'trên địa bàn', 'lần đầu', 'trực tuyến toàn trình', 'đối với doanh nghiệp nhỏ và vừa', 'tại cửa khẩu'];
const LEVELS = ['Cấp bộ', 'Cấp tỉnh', 'Cấp xã', 'Cấp tỉnh, Cấp xã'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Records in the crawler's shape (see knowledge/national.ts). */
export function syntheticRecords(n: number, seed = 42): object[] {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)] as T;
  const out: object[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${pick(ACTIONS)} ${pick(OBJECTS)} ${pick(DOMAINS)} ${pick(QUALIFIERS)}`.replace(/\s+/g, ' ').trim();
    const days = 1 + Math.floor(r() * 30);
    out.push({
      ma_thu_tuc: `${1 + Math.floor(r() * 3)}.${String(100000 + i).padStart(6, '0')}`,
      ten_thu_tuc: name,
      so_quyet_dinh: `${100 + (i % 900)}/QĐ-BXX`,
      cap_thuc_hien: pick(LEVELS),
      linh_vuc: pick(DOMAINS),
      doi_tuong_thuc_hien: 'Cá nhân, Tổ chức',
      co_quan_thuc_hien: 'Sở chuyên ngành',
      trinh_tu_thuc_hien: 'Bước 1: Chuẩn bị hồ sơ.\nBước 2: Nộp hồ sơ.\nBước 3: Nhận kết quả.',
      cach_thuc_thuc_hien: `Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến${days} Ngày làm việcMiễn phíTrực tiếp${days} Ngày làm việc${(1 + Math.floor(r() * 50)) * 10000} Việt Nam Đồng`,
      thanh_phan_ho_so: '* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượngĐơn đề nghị theo mẫu1 bản chínhBản sao giấy tờ liên quan1 bản sao',
      can_cu_phap_ly: `Tên văn bản pháp lýMã văn bảnNghị định quy định chi tiết${10 + (i % 90)}/2025/NĐ-CP`,
      ket_qua_xu_ly: 'Văn bản chấp thuận',
      detail_url: '',
    });
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const n = Number(process.argv[2] ?? 10_000);
  const path = process.argv[3] ?? `/tmp/synthetic-${n}.jsonl`;
  writeFileSync(path, syntheticRecords(n).map((x) => JSON.stringify(x)).join('\n') + '\n');
  console.log(`wrote ${n} records to ${path}`);
}
