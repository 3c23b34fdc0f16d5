/**
 * Facts corrected after the fact audit (issue 14). Each test pins one correction so the
 * wrong content cannot come back unnoticed; the reasons and sources are in the entries'
 * `sources`. Only the shipped knowledge is read (no ../shared).
 */
import { describe, expect, it } from 'vitest';
import { composeFaq, composeProcedure } from '../bot/dialogue/compose.ts';
import { DEFAULT_KNOWLEDGE_DIR, loadKnowledgeOrThrow } from '../knowledge/load.ts';
import type { Faq, Procedure } from '../knowledge/schema.ts';

const k = loadKnowledgeOrThrow(DEFAULT_KNOWLEDGE_DIR);

function procedure(id: string): Procedure {
  const p = k.procedures.find((x) => x.id === id);
  if (!p) throw new Error(`no procedure ${id}`);
  return p;
}

function faq(id: string): Faq {
  const f = k.faqs.find((x) => x.id === id);
  if (!f) throw new Error(`no FAQ ${id}`);
  return f;
}

const items = (p: Procedure) => p.documents.flatMap((g) => g.items);
const fees = (p: Procedure) => p.channels.map((c) => `${c.fee} ${c.note ?? ''}`).join('\n');

describe('hộ tịch: registrations that cannot be delegated', () => {
  it('nhận cha, mẹ, con asks for no letter of authority and says it cannot be delegated', () => {
    const p = procedure('ho-tich.nhan-cha-me-con');
    expect(items(p).filter((i) => /ủy quyền/iu.test(i.name))).toEqual([]);
    expect(p.conditions).toMatch(/không được ủy quyền/u);
    expect(p.legalBasis.map((b) => b.code)).toContain('04/2020/TT-BTP');
  });

  it('the FAQ on delegation agrees with the procedure', () => {
    expect(faq('faq.uy-quyen').answer).toMatch(/Không ủy quyền[^\n]*nhận cha, mẹ, con/u);
  });

  it('the FAQ keeps signature certification for a giấy ủy quyền and sends a hợp đồng ủy quyền to a notary', () => {
    const a = faq('faq.uy-quyen').answer;
    expect(a).not.toMatch(/giấy ủy quyền \(hoặc hợp đồng ủy quyền\)/u);
    expect(a).toMatch(/hợp đồng ủy quyền và công chứng/u);
    expect(a).toMatch(/không có thù lao/u);
  });
});

describe('xây dựng: the new-house permit claims only what it explains', () => {
  const p = procedure('xay-dung.giay-phep');

  it('is not reached by repair or renovation wording', () => {
    const names = [p.name, ...p.aliases, ...p.keywords].join(' | ');
    expect(names).not.toMatch(/sửa|cải tạo/iu);
  });

  it('points to the national records of the permit family', () => {
    for (const code of ['1.013229', '1.013228', '1.013226', '1.013227']) expect(p.related).toContain(code);
    expect(p.conditions).toMatch(/Sửa chữa, cải tạo/u);
  });

  it('claims no number of drawing sets and cites the articles behind 7 days and the exemption', () => {
    const drawings = items(p).find((i) => /bản vẽ/iu.test(i.name));
    expect(drawings?.original).toBe(0);
    const src = p.sources.join('\n');
    expect(src).toMatch(/điểm b khoản 1 Điều 54/u);
    expect(src).toMatch(/điểm g khoản 2 Điều 43/u);
    expect(src).toMatch(/chưa đọc được bản Công báo/u);
  });
});

describe('cư trú: 2026 texts', () => {
  it.each(['cu-tru.tam-tru', 'cu-tru.thuong-tru'])('%s applies the 2026 fee exemption for level-2 accounts', (id) => {
    const p = procedure(id);
    expect(fees(p)).toMatch(/117\/2026\/TT-BTC/u);
    expect(fees(p)).toMatch(/28\/02\/2027/u);
    expect(p.legalBasis.map((b) => b.code)).toContain('117/2026/TT-BTC');
  });

  it.each(['cu-tru.tam-tru', 'cu-tru.thuong-tru', 'cu-tru.luu-tru', 'cu-tru.xoa-thuong-tru'])('%s cites circular 116/2026 and decree 58/2026', (id) => {
    const p = procedure(id);
    const codes = p.legalBasis.map((b) => b.code);
    expect(codes).toContain('116/2026/TT-BCA');
    expect(codes).toContain('58/2026/NĐ-CP');
    expect(codes).not.toContain('55/2021/TT-BCA');
    for (const i of items(p).filter((x) => x.form?.includes('CT01'))) expect(i.form).toMatch(/116\/2026\/TT-BCA/u);
  });

  it('lưu trú is any stay under 30 days, and the guest reports when the host is away', () => {
    const p = procedure('cu-tru.luu-tru');
    expect(p.summary).toMatch(/dưới 30 ngày/u);
    expect(p.summary).toMatch(/không chỉ ngủ qua đêm/u);
    expect(p.conditions).toMatch(/người đến\s+lưu trú phải tự thông báo/u);
  });
});

describe('fees stated honestly', () => {
  it.each(['gplx.cap-lai', 'gplx.cap-doi', 'ho-chieu.cap', 'tu-phap.ly-lich'])('%s says where the amount shows instead of guessing it', (id) => {
    const text = fees(procedure(id));
    expect(text).toMatch(/hiện ra khi nộp/u);
    expect(text).not.toMatch(/115\.000|nhiều nguồn|bản ghi/u);
  });

  it('căn cước: the first card is free, said without a hedge', () => {
    const text = fees(procedure('can-cuoc.cap-doi'));
    expect(text).toMatch(/Cấp thẻ lần đầu[^.]*: không thu lệ phí/u);
    expect(text).not.toMatch(/nên hỏi lại/u);
  });

  it('a fee answer says "do HĐND tỉnh quy định" once: the caveat line (each channel reads "theo mức của tỉnh")', () => {
    const reply = composeProcedure(k, procedure('ho-tich.nhan-cha-me-con'), 'procedure.fee');
    expect(reply.text.match(/HĐND tỉnh/gu)?.length).toBe(1);
  });

  it('the fee answer for children under 6 carries no staff note', () => {
    const reply = composeProcedure(k, procedure('lien-thong.tre-duoi-6-tuoi'), 'procedure.fee');
    expect(reply.text).not.toMatch(/Trang thủ tục|vẫn mô tả/u);
  });
});

describe('times and codes', () => {
  it('trợ cấp thất nghiệp gives what is certain and says why no day count is given', () => {
    const p = procedure('lao-dong.that-nghiep');
    expect(p.channels[0]?.time).not.toMatch(/thời hạn luật định/u);
    expect(p.channels[0]?.time).toMatch(/phiếu hẹn/u);
    expect(p.sources.some((s) => s.startsWith('Thời hạn giải quyết') && s.includes('374/2025/NĐ-CP'))).toBe(true);
  });

  it('thẻ BHYT claims only the card: the general record that also covers sổ BHXH (1.002759) stays reachable', () => {
    expect(procedure('bhyt.cap-lai').nationalCodes).not.toContain('1.002759');
    expect(procedure('bhyt.cap-lai').sources.some((s) => s.includes('1.002759'))).toBe(true);
  });

  it('xác nhận tình trạng hôn nhân says how long a verification may hold the file', () => {
    expect(procedure('ho-tich.xac-nhan-hon-nhan').channels[0]?.time).toMatch(/20 ngày/u);
  });
});

describe('re-audit (land)', () => {
  it('land entries carry the national codes they explain, so the portal copies do not show up twice', () => {
    expect(procedure('dat-dai.cap-lai').nationalCodes).toEqual(['1.012786', '1.012783']);
    expect(procedure('dat-dai.chuyen-nhuong').nationalCodes).toEqual(['1.013831']);
  });

  it.each(['dat-dai.cap-lai', 'dat-dai.chuyen-nhuong'])('%s speaks to the citizen in its province note', (id) => {
    expect(procedure(id).provinceNote).not.toMatch(/hãy báo/u);
    expect(procedure(id).provinceNote).toMatch(/giấy\s+hẹn/u);
  });
});

describe('FAQ on VNeID accounts', () => {
  it('level 2 is registered in person at any commune police, not in the app', () => {
    const a = faq('faq.tai-khoan').answer;
    expect(a).not.toMatch(/nếu ứng dụng cho phép/u);
    expect(a).toMatch(/Công an cấp xã bất kỳ/u);
    expect(a).toMatch(/chỉ tự đăng ký được mức 1/u);
  });

  it('the hotline FAQ does not tie VNeID help to the place of residence', () => {
    const text = composeFaq(k, faq('faq.hotline')).text;
    expect(text).toMatch(/VNeID[^\n]*không phụ thuộc nơi cư trú/u);
  });
});
