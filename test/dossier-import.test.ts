/**
 * Staff import of dossier spreadsheets: what staff export from Excel or Google Sheets
 * goes in, good rows are kept, bad rows come back with their file line and a reason in
 * Vietnamese. Ends with the real command line: import, list, and `ask` seeing the import.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../bot/dossier/csv.ts';
import { parseDossierCsv } from '../bot/dossier/import.ts';
import { parseDossierDate } from '../bot/dossier/normalize.ts';
import { SqliteDossierProvider } from '../bot/dossier/sqlite.ts';
import { runDossiersCli } from '../scripts/dossiers.ts';

const CSV = join(import.meta.dirname, 'dossier-support', 'csv');
const read = (name: string) => readFileSync(join(CSV, name));
const tmp = mkdtempSync(join(tmpdir(), 'dossier-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('CSV reader (RFC 4180)', () => {
  it('handles quoted commas, doubled quotes, line breaks inside quotes and CRLF, and tracks lines', () => {
    const { rows, problems } = parseCsv('a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\r\n\r\n3,,\n');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'two\nlines', 'z'] },
      { line: 6, fields: ['3', '', ''] },
    ]);
  });

  it('reports a quote that never closes on the line its record starts, and goes on', () => {
    const { rows, problems } = parseCsv('a,b\n1,"open\n2,ok\n');
    expect(problems).toEqual([{ line: 2, kind: 'unterminatedQuote' }]);
    expect(rows.map((r) => r.line)).toEqual([1, 3]);
  });

  it('reports text glued to a closing quote', () => {
    expect(parseCsv('a,b\n"x"y,1\n').problems).toEqual([{ line: 2, kind: 'textAfterQuote' }]);
  });

  it('reads dates staff type: dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd, timestamps in Vietnam time', () => {
    expect(parseDossierDate('05/03/2026')).toBe('2026-03-05');
    expect(parseDossierDate('5/3/2026')).toBe('2026-03-05');
    expect(parseDossierDate('2026-03-05')).toBe('2026-03-05');
    expect(parseDossierDate('05-03-2026 14:30')).toBe('2026-03-05');
    expect(parseDossierDate('2026-03-04T18:00:00Z')).toBe('2026-03-05');
    expect(parseDossierDate('')).toBeUndefined();
    for (const bad of ['31/02/2026', '2026-13-01', '03/05/26', 'hôm qua', '00/01/2026']) expect(parseDossierDate(bad), bad).toBeNull();
  });
});

describe('dossier spreadsheet', () => {
  it('reads English headers, quoted cells, both date forms, phone forms and status spellings', () => {
    const r = parseDossierCsv(read('good-en.csv'));
    expect(r.fatal).toBeUndefined();
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.line)).toEqual([2, 3, 5, 7]);
    const [first, second, third, fourth] = r.records.map((x) => x.record);
    expect(first).toEqual({
      code: '000.00.19.H57-261101-0001',
      procedureName: 'Đăng ký khai sinh',
      status: 'Đã xử lý xong',
      receivedAt: '2026-11-01',
      dueAt: '2026-11-02',
      finishedAt: '2026-11-02',
      applicantName: 'Nguyễn Văn An',
      phone: '0912345678',
    });
    expect(second).toMatchObject({
      code: 'H57.132-261102-0002',
      procedureName: 'Cấp giấy phép xây dựng, nhà ở riêng lẻ',
      phone: '0905111222',
      note: 'Bổ sung bản vẽ "mặt bằng móng",\ncó chữ ký người thiết kế.',
      currentStep: 'Phòng Kinh tế',
    });
    expect(third).toMatchObject({ status: 'Đang xử lý', receivedAt: '2026-11-03', dueAt: '2026-11-10' });
    expect(third).not.toHaveProperty('phone');
    expect(fourth).toMatchObject({ status: 'Được tiếp nhận' });
  });

  it('reads Vietnamese headers with a BOM and CRLF, and notes a column it does not use', () => {
    const r = parseDossierCsv(read('good-vi-bom.csv'));
    expect(r.errors).toEqual([]);
    expect(r.records).toHaveLength(2);
    expect(r.records[0]!.record).toMatchObject({ code: '000.00.19.H57-261105-0001', status: 'Được tiếp nhận', applicantName: 'Phạm Thị Dung' });
    expect(r.warnings).toEqual([{ line: 1, message: expect.stringContaining('Cán bộ thụ lý') }]);
  });

  it('keeps good rows and reports every bad one with its line and a reason', () => {
    const r = parseDossierCsv(read('bad-rows.csv'));
    expect(r.fatal).toBeUndefined();
    expect(r.records.map((x) => [x.line, x.record.code])).toEqual([
      [13, '000.00.19.H57-261110-0001'],
      [10, '000.00.19.H57-261110-0009'],
      [14, '000.00.19.H57-261110-0011'],
    ]);
    // The later row with the same code wins, with a warning.
    expect(r.records[0]!.record.status).toBe('Đã xử lý xong');
    expect(r.warnings).toEqual([{ line: 13, message: expect.stringContaining('dòng 2') }]);
    const byLine = new Map<number, string[]>();
    for (const e of r.errors) byLine.set(e.line, [...(byLine.get(e.line) ?? []), e.message]);
    expect([...byLine.keys()]).toEqual([3, 4, 5, 6, 7, 8, 9, 12, 15]);
    expect(byLine.get(3)![0]).toMatch(/^Mã hồ sơ "000\.00\.19\.H57-261301-0002" không đúng dạng/);
    expect(byLine.get(4)![0]).toMatch(/^Trạng thái "Chờ duyệt" không thuộc danh mục/);
    expect(byLine.get(5)![0]).toMatch(/quá hạn được tính từ ngày hẹn trả/);
    expect(byLine.get(6)![0]).toMatch(/^Ngày nhận "31\/02\/2026" không đúng/);
    expect(byLine.get(7)![0]).toBe('Ngày hẹn trả trước ngày nhận.');
    expect(byLine.get(8)![0]).toBe('Thiếu Người nộp.');
    expect(byLine.get(9)![0]).toMatch(/^Số điện thoại .* không hợp lệ/);
    expect(byLine.get(12)!.join(' ')).toMatch(/Dòng có 11 cột nhưng tiêu đề chỉ có 10 cột/);
    expect(byLine.get(15)![0]).toMatch(/ngoặc kép mở nhưng không đóng/);
    expect(r.badLines).toBe(9);
    // Reports never repeat a full phone number.
    expect(JSON.stringify(r.errors)).not.toMatch(/\d{7,}/);
  });

  it('refuses a file without the required columns, naming them', () => {
    const r = parseDossierCsv(read('missing-columns.csv'));
    expect(r.fatal).toMatch(/Thiếu cột bắt buộc: procedure \(Thủ tục\), received_at \(Ngày nhận\), applicant_name \(Người nộp\)/);
    expect(r.records).toEqual([]);
  });

  it('refuses a file that is not UTF-8 (an old Windows code page) instead of importing mojibake', () => {
    const latin1 = Buffer.from('code,procedure,status,received_at,applicant_name\n000.00.19.H57-261110-0001,Khai sinh,Moi,10/11/2026,Nguy\xeAn\n', 'latin1');
    expect(parseDossierCsv(latin1).fatal).toMatch(/không phải UTF-8/);
  });

  it('reads Excel "Unicode text" (UTF-16 with BOM, tab-separated) and semicolon-separated files', () => {
    const tsv = 'Mã hồ sơ\tThủ tục\tTrạng thái\tNgày nhận\tNgười nộp\n000.00.19.H57-261110-0001\tKhai sinh\tĐang xử lý\t10/11/2026\tNguyễn Văn An\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tsv, 'utf16le')]);
    expect(parseDossierCsv(utf16).records.map((x) => x.record.applicantName)).toEqual(['Nguyễn Văn An']);
    const semi = 'code;procedure;status;received_at;applicant_name\n000.00.19.H57-261110-0001;"Khai sinh; lần đầu";Đang xử lý;10/11/2026;An\n';
    expect(parseDossierCsv(semi).records[0]!.record.procedureName).toBe('Khai sinh; lần đầu');
  });

  it('accepts decomposed Unicode (as typed on some Mac keyboards) and stores it composed', () => {
    const nfd = 'Mã hồ sơ,Thủ tục,Trạng thái,Ngày nhận,Người nộp\n000.00.19.H57-261110-0001,Khai sinh,Đang xử lý,10/11/2026,Nguyễn Văn An\n'.normalize('NFD');
    const r = parseDossierCsv(Buffer.from(nfd, 'utf8'));
    expect(r.errors).toEqual([]);
    expect(r.records[0]!.record.applicantName).toBe('Nguyễn Văn An'.normalize('NFC'));
    expect(r.records[0]!.record.status).toBe('Đang xử lý');
  });

  it('an empty file is refused with a message', () => {
    expect(parseDossierCsv('').fatal).toMatch(/trống/);
  });
});

describe('npm run dossiers (command line)', () => {
  const run = promisify(execFile);
  const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
  const cwd = join(import.meta.dirname, '..');
  const env = { ...process.env, LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'sqlite' };
  /** The command in this process (fast); the first test also runs it as a real process. */
  const cli = async (args: string[]) => {
    const lines = { stdout: [] as string[], stderr: [] as string[] };
    const code = await runDossiersCli(args, env, { log: (l) => lines.stdout.push(l), error: (l) => lines.stderr.push(l) });
    return { code, stdout: lines.stdout.join('\n'), stderr: lines.stderr.join('\n') };
  };

  it('imports good rows, lists bad ones with lines, exits 1; list masks names; ask sees the import at once', async () => {
    const db = join(tmp, 'cli.sqlite');
    const imported = await run(tsx, ['scripts/dossiers.ts', 'import', join(CSV, 'bad-rows.csv'), '--db', db], { cwd, env }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain('Dòng 3: Mã hồ sơ');
    expect(imported.stdout).toContain('Dòng 15:');
    expect(imported.stdout).toMatch(/Đã nhập 3 hồ sơ vào .*cli\.sqlite; 9 dòng lỗi/);

    const store = new SqliteDossierProvider(db);
    expect(store.count()).toBe(3);
    await store.close();

    const listed = await cli(['list', '--db', db]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('000.00.19.H57-261110-0009 | Đăng ký kết hôn | Yêu cầu bổ sung giấy tờ | Lê T** H** | 10/11/2026 | 20/11/2026');
    expect(listed.stdout).not.toContain('Lê Thị Hoa');
    expect(listed.stdout).not.toMatch(/0912/);
    expect(listed.stdout).toContain('Hiển thị 3/3 hồ sơ.');
    expect((await cli(['list', '--db', db, '--status', 'dang xu ly'])).stdout).toContain('Hiển thị 1/1 hồ sơ.');

    const asked = await run(tsx, ['scripts/ask.ts', 'tra cứu hồ sơ 000.00.19.h57-261110-0009'], { cwd, env: { ...env, DOSSIER_DB_FILE: db } });
    expect(asked.stdout).toContain('Tình trạng: Yêu cầu bổ sung giấy tờ');
    expect(asked.stdout).toContain('giấy xác nhận tình trạng hôn nhân');
  });

  it('--dry-run writes nothing; a missing file, a bad header or an unknown command exits 2', async () => {
    const db = join(tmp, 'dry.sqlite');
    const dry = await cli(['import', join(CSV, 'good-en.csv'), '--db', db, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Kiểm tra xong (chưa ghi): 4 dòng hợp lệ, 0 dòng lỗi.');
    expect(existsSync(db)).toBe(false);
    const good = await cli(['import', join(CSV, 'good-vi-bom.csv'), '--db', db]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('Tiêu đề (lưu ý): Cột "Cán bộ thụ lý" không dùng đến');
    const missing = await cli(['import', join(tmp, 'nope.csv'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Không đọc được tệp');
    writeFileSync(join(tmp, 'bad.csv'), 'foo,bar\n1,2\n');
    const fatal = await cli(['import', join(tmp, 'bad.csv'), '--db', db]);
    expect(fatal.code).toBe(2);
    expect(fatal.stderr).toContain('Thiếu cột bắt buộc');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Cách dùng');
    expect((await cli(['list', '--status', 'Quá hạn', '--db', db])).code).toBe(2);
  });
});
