/**
 * The validator rule that keeps staff notes ("chưa đối chiếu", "nhiều nguồn nêu", "Cổng
 * không ghi"…) out of what citizens read. The broken-fixture table in knowledge.test.ts
 * checks file and line; this file checks where the rule applies and where it does not.
 */
import { describe, expect, it } from 'vitest';
import { checkYamlText } from '../knowledge/staff-files.ts';
import type { ZodType } from 'zod';
import { faqSchema, procedureSchema } from '../knowledge/schema.ts';

const PROCEDURE = (fee: string, extra = '') => `version: 1
id: kiem-thu.ghi-chu
name: Thủ tục mẫu
field: Kiểm thử
levels: [xa]
summary: Một thủ tục mẫu.
applicants: Công dân
agency: UBND cấp xã
steps: [Nộp hồ sơ.]
documents:
  - group: Giấy tờ phải nộp
    items:
      - name: Tờ khai
        original: 1
channels:
  - method: truc-tiep
    time: 3 ngày làm việc
    fee: '${fee}'
where: [Trung tâm Phục vụ hành chính công cấp xã]
result: Giấy xác nhận
legalBasis:
  - code: 01/2025/TT-XX
online:
  available: false
  level: khong
lastVerified: 2026-11-20
${extra}`;

const staffIssues = (text: string, schema: ZodType = procedureSchema) =>
  checkYamlText(text, 'procedures/kiem-thu.ghi-chu.yaml', schema).filter((i) => i.message.includes('dành cho cán bộ'));

describe('staff wording in citizen-facing fields', () => {
  it.each([
    'Mức mới được nhiều nguồn nêu là 20.000 đồng.',
    '20.000 đồng; chưa đối chiếu được văn bản gốc.',
    'Do HĐND tỉnh quy định (Cổng ghi "Miễn phí", cần kiểm tra).',
    'Cổng không ghi lệ phí.',
    'Bản ghi quốc gia vẫn ghi 135.000 đồng.',
    'Mức mới được cho là 50.000 đồng.',
    'Trang thủ tục 2.000986 trên Cổng vẫn mô tả quy trình cũ.',
    'Trang quốc gia ghi 18 ngày: hãy báo theo danh mục thủ tục của tỉnh.',
  ])('refuses %j and points to sources and provinceNote', (fee) => {
    const issues = staffIssues(PROCEDURE(fee));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.severity).toBe('error');
    expect(issues[0]?.line).toBe(18);
    expect(issues[0]?.hint).toMatch(/sources/u);
    expect(issues[0]?.hint).toMatch(/provinceNote/u);
  });

  it.each([
    'Miễn lệ phí; khi cần xác minh thì thêm 05 ngày làm việc.',
    'Bạn cần kiểm tra thẻ còn hạn trước khi nộp.',
    'Số tiền phải nộp hiện ra khi nộp hồ sơ trực tuyến.',
  ])('lets citizen wording %j through', (fee) => {
    expect(staffIssues(PROCEDURE(fee))).toEqual([]);
  });

  it('allows staff notes in sources', () => {
    const text = PROCEDURE('20.000 đồng.', 'sources:\n  - Mức mới nhiều nguồn nêu là 20.000 đồng; chưa đối chiếu Công báo.\n');
    expect(staffIssues(text)).toEqual([]);
    expect(checkYamlText(text, 'procedures/kiem-thu.ghi-chu.yaml', procedureSchema).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('exempts imported records until staff mark them curated', () => {
    const text = PROCEDURE('Do HĐND tỉnh quy định (Cổng ghi "Miễn phí", cần kiểm tra).', 'status: needs-review\n');
    expect(staffIssues(text)).toEqual([]);
    expect(staffIssues(text.replace('status: needs-review', 'status: curated'))).toHaveLength(1);
  });

  it('applies to FAQ answers, and FAQ entries may carry sources', () => {
    const faq = (answer: string) => `version: 1
id: faq.kiem-thu
question: Câu hỏi?
aliases: [câu hỏi kiểm thử]
answer: "${answer}"
lastVerified: 2026-11-20
sources:
  - Nhiều nguồn nêu khác nhau; chưa đối chiếu.
`;
    expect(staffIssues(faq('Làm tại Công an xã; chưa đối chiếu được.'), faqSchema)).toHaveLength(1);
    expect(checkYamlText(faq('Làm tại Công an xã.'), 'faq/faq.kiem-thu.yaml', faqSchema)).toEqual([]);
  });
});
