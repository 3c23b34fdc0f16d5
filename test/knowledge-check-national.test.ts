/**
 * `kb check-national`: curated entries against the portal records of their codes. The
 * records in test/fixtures/national-check are invented and written in our own words in
 * the crawler's shape (flattened tables), so the test never depends on ../shared.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkNational, checkNationalFile, formatCheckNational, readNationalRecords, summaryLine, type NationalDifference } from '../knowledge/check-national.ts';
import { DEFAULT_KNOWLEDGE_DIR } from '../knowledge/load.ts';
import { procedureSchema, type Procedure } from '../knowledge/schema.ts';

const FILE = join(import.meta.dirname, 'fixtures', 'national-check', 'records.jsonl');
const tmpRoots: string[] = [];
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A curated entry for the invented record 9.910001, close to it but not the same everywhere. */
function entry(over: Record<string, unknown> = {}): Procedure {
  return procedureSchema.parse({
    version: 1,
    id: 'kiem-thu.xac-nhan',
    nationalCodes: ['9.910001', '9.910002'],
    name: 'Cấp giấy xác nhận mẫu thử',
    field: 'Kiểm thử',
    levels: ['xa', 'tinh'],
    summary: 'Mục mẫu để kiểm thử đối chiếu.',
    applicants: 'Công dân',
    agency: 'Công an cấp xã nơi cư trú',
    steps: ['Điền tờ khai theo mẫu XN01.', 'Nộp hồ sơ.'],
    documents: [
      {
        group: 'Giấy tờ phải nộp',
        items: [
          { name: 'Tờ khai xin xác nhận', form: 'Mẫu XN01 (Thông tư 11/2099/TT-THU)', original: 1 },
          { name: 'Ảnh chân dung', original: 2 },
          { name: 'Giấy tờ về chỗ ở', copy: 1 },
        ],
      },
      { group: 'Giấy tờ phải xuất trình', items: [{ name: 'Thẻ căn cước', showOnly: true }] },
    ],
    channels: [
      { method: 'truc-tiep', time: '5 ngày làm việc', timeDays: 5, fee: '20.000 đồng', feeAmount: 20000 },
      { method: 'truc-tuyen', time: '3 ngày làm việc', timeDays: 3, fee: 'Do HĐND tỉnh quy định', feeByProvince: true },
      { method: 'buu-chinh', time: '5 ngày làm việc', timeDays: 5, fee: '20.000 đồng, cước bưu chính riêng', feeAmount: 20000 },
    ],
    where: ['Công an cấp xã'],
    result: 'Giấy xác nhận',
    legalBasis: [{ code: '11/2099/TT-THU' }],
    online: { available: true, level: 'toan-trinh' },
    lastVerified: '2026-12-01',
    ...over,
  });
}

const { records, lines, badLines } = readNationalRecords(FILE, [entry({ related: ['9.910003'] })]);
const aspects = (ds: NationalDifference[]) => ds.map((d) => `${d.aspect}${d.channel ? `:${d.channel}` : ''}`).sort();

describe('reading the records file', () => {
  it('keeps only the codes the entries need and counts bad lines', () => {
    expect(lines).toBe(5);
    expect(badLines).toBe(2);
    expect([...records.keys()].sort()).toEqual(['9.910001', '9.910002', '9.910003']);
    expect(readNationalRecords(FILE, [entry({ nationalCodes: ['9.910003'] })]).records.size).toBe(1);
  });
});

describe('checkNational', () => {
  it('finds nothing when the entry says what the portal says', () => {
    const r = checkNational([entry()], records);
    expect(r.differences).toEqual([]);
    expect(r.compared).toBe(1);
    expect(summaryLine(r)).toMatch(/^Đối chiếu với Cổng: 0 khác biệt ở 0\/1 thủ tục/u);
  });

  it('compares time per channel, also when the portal lost the unit', () => {
    const p = entry({
      channels: [
        { method: 'truc-tiep', time: '3 ngày làm việc', timeDays: 3, fee: '20.000 đồng', feeAmount: 20000 },
        { method: 'truc-tuyen', time: '5 ngày làm việc', timeDays: 5, fee: 'Do HĐND tỉnh quy định', feeByProvince: true },
        { method: 'buu-chinh', time: '5 ngày làm việc', timeDays: 5, fee: '20.000 đồng', feeAmount: 20000 },
      ],
    });
    const ds = checkNational([p], records).differences;
    expect(aspects(ds)).toEqual(['time:truc-tiep', 'time:truc-tuyen']);
    expect(ds.find((d) => d.channel === 'truc-tuyen')?.note).toMatch(/không ghi đơn vị/u);
    expect(ds.find((d) => d.channel === 'truc-tiep')).toMatchObject({ ours: '3 ngày làm việc', portal: '5 ngày làm việc' });
  });

  it('compares fees: amount, free, set by the province', () => {
    const p = entry({
      channels: [
        { method: 'truc-tiep', time: '5 ngày làm việc', timeDays: 5, fee: '30.000 đồng', feeAmount: 30000 },
        { method: 'truc-tuyen', time: '3 ngày làm việc', timeDays: 3, fee: 'Miễn lệ phí', feeAmount: 0 },
        { method: 'buu-chinh', time: '5 ngày làm việc', timeDays: 5, fee: 'Như nộp trực tiếp' },
      ],
    });
    const ds = checkNational([p], records).differences;
    expect(aspects(ds)).toEqual(['fee:buu-chinh', 'fee:truc-tiep', 'fee:truc-tuyen']);
    expect(ds.find((d) => d.channel === 'truc-tuyen')?.note).toMatch(/HĐND tỉnh/u);
    expect(ds.find((d) => d.channel === 'truc-tiep')?.portal).toMatch(/20\.000 đồng/u);
    // "Như nộp trực tiếp" borrows the direct channel's 30.000 đồng, which differs from the portal.
    expect(ds.find((d) => d.channel === 'buu-chinh')?.note).toMatch(/Số tiền khác/u);
  });

  it('lists channels, levels and agencies that do not match', () => {
    const p = entry({
      levels: ['xa'],
      agency: 'Ủy ban nhân dân cấp xã',
      where: ['Trung tâm Phục vụ hành chính công cấp xã'],
      channels: [{ method: 'truc-tiep', time: '5 ngày làm việc', timeDays: 5, fee: '20.000 đồng', feeAmount: 20000 }],
      online: { available: false, level: 'khong' },
    });
    const ds = checkNational([p], records).differences;
    expect(aspects(ds)).toEqual(['agency', 'channel:buu-chinh', 'channel:truc-tuyen', 'level']);
    expect(ds.find((d) => d.aspect === 'agency')?.note).toMatch(/Công an/u);
    expect(ds.find((d) => d.aspect === 'level')?.note).toMatch(/Cổng có thêm: tinh/u);
  });

  it('counts the papers to hand in and checks forms and the circular that issues them', () => {
    const p = entry({
      steps: ['Nộp hồ sơ.'],
      documents: [{ group: 'Giấy tờ phải nộp', items: [{ name: 'Tờ khai xin xác nhận', form: 'Mẫu XN01 (Thông tư 12/2100/TT-THU)', original: 1 }] }],
    });
    const ds = checkNational([p], records).differences;
    expect(aspects(ds)).toEqual(['documents', 'forms']);
    expect(ds.find((d) => d.aspect === 'documents')).toMatchObject({ ours: '1 giấy tờ phải nộp', portal: '3 giấy tờ' });
    expect(ds.find((d) => d.aspect === 'forms')).toMatchObject({ ours: 'Mẫu XN01 (12/2100/TT-THU)', portal: 'Mẫu XN01 (11/2099/TT-THU)' });
  });

  it('reads a form number with the copy count glued to it', () => {
    const glued = new Map(records);
    const base = records.get('9.910001');
    glued.set('9.910001', { ...base, thanh_phan_ho_so: '* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượng- Đơn theo Mẫu số 18 ban hành kèm theo Thông tư số 11/2099/TT-THU.1 bản chính' });
    const p = entry({ documents: [{ group: 'Giấy tờ phải nộp', items: [{ name: 'Đơn', form: 'Mẫu số 18 (Thông tư 11/2099/TT-THU)', original: 1 }] }] });
    expect(checkNational([p], glued).differences.filter((d) => d.aspect === 'forms')).toEqual([]);
  });

  it('compares only the first code; the others are variants checked for presence', () => {
    const p = entry({ nationalCodes: ['9.910001', '9.910002', '9.919999'] });
    const r = checkNational([p], records);
    expect(r.differences).toEqual([]);
    expect(r.missing).toEqual([{ procedureId: 'kiem-thu.xac-nhan', codes: ['9.919999'], related: [] }]);
  });

  it('lists missing codes, missing related national codes and entries without codes; skips imported ones', () => {
    const r = checkNational(
      [
        entry({ id: 'kiem-thu.mat-ma', nationalCodes: ['9.919998'], related: ['9.910003', '9.919997'] }),
        entry({ id: 'kiem-thu.khong-ma', nationalCodes: [] }),
        entry({ id: 'kiem-thu.nhap', status: 'needs-review', nationalCodes: ['9.919996'] }),
      ],
      records,
    );
    expect(r.checked).toBe(2);
    expect(r.compared).toBe(0);
    expect(r.missing).toEqual([{ procedureId: 'kiem-thu.mat-ma', codes: ['9.919998'], related: ['9.919997'] }]);
    expect(r.noCode).toEqual(['kiem-thu.khong-ma']);
    const text = formatCheckNational(r);
    expect(text).toMatch(/kiem-thu\.mat-ma: mã 9\.919998; liên quan 9\.919997/u);
    expect(text).toMatch(/Chưa có mã thủ tục quốc gia[^\n]*kiem-thu\.khong-ma/u);
    expect(text.split('\n').pop()).toBe(summaryLine(r));
  });

  it('formats differences with ours and the portal side by side, and shortens long text', () => {
    const long = 'Lệ phí ghi rất dài. '.repeat(30);
    const p = entry({ channels: [{ method: 'truc-tiep', time: '5 ngày làm việc', timeDays: 5, fee: long, feeAmount: 1 }, ...entry().channels.slice(1)] });
    const text = formatCheckNational(checkNational([p], records));
    expect(text).toMatch(/kiem-thu\.xac-nhan \(mã 9\.910001\): 1 khác biệt/u);
    expect(text).toMatch(/mục này: Lệ phí ghi rất dài\.[^\n]*…\n\s+Cổng:\s+20\.000 đồng/u);
    expect(text).toMatch(/1 khác biệt ở 1\/1 thủ tục/u);
  });
});

describe('checkNationalFile (what the CLI and the staff console call)', () => {
  it('reads the file and narrows to the ids asked for', () => {
    const other = entry({ id: 'kiem-thu.khac', nationalCodes: ['9.919995'] });
    const all = checkNationalFile([entry(), other], FILE);
    expect(all).toMatchObject({ lines: 5, badLines: 2, found: 2 });
    expect(all.report.missing.map((m) => m.procedureId)).toEqual(['kiem-thu.khac']);
    const one = checkNationalFile([entry(), other], FILE, ['kiem-thu.xac-nhan']);
    expect(one.report.checked).toBe(1);
    expect(one.report.missing).toEqual([]);
  });
});

describe('npm run kb -- check-national', () => {
  it('prints the report and the summary line, and exits 0 on differences', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-check-'));
    tmpRoots.push(dir);
    cpSync(DEFAULT_KNOWLEDGE_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    const p = entry({ channels: [{ method: 'truc-tiep', time: '9 ngày làm việc', timeDays: 9, fee: '20.000 đồng', feeAmount: 20000 }, ...entry().channels.slice(1)] });
    writeFileSync(join(dir, 'procedures', 'kiem-thu.xac-nhan.yaml'), JSON.stringify(p));
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'scripts', 'kb.ts'), 'check-national', FILE, '--dir', dir], {
      encoding: 'utf8',
      env: { ...process.env, KNOWLEDGE_DIR: '' },
    });
    expect(out).toMatch(/kiem-thu\.xac-nhan \(mã 9\.910001\): 1 khác biệt/u);
    expect(out).toMatch(/mục này: 9 ngày làm việc\n\s+Cổng:\s+5 ngày làm việc/u);
    // Every shipped entry's codes are absent from the small fixture: they are listed, not compared.
    expect(out).toMatch(/Mã không có trong tệp bản ghi quốc gia:\n\s+• bhyt\.cap-lai: mã 1\.001294/u);
    expect(out).toMatch(/Đối chiếu với Cổng: 1 khác biệt ở 1\/1 thủ tục đã so sánh; \d+ thủ tục có mã không có trong tệp/u);
  });
});
