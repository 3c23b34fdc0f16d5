import { describe, expect, it } from 'vitest';
import { loadIntentData } from '../intents/data.ts';
import { canonicalTone, canonicalize, fold, normalize } from '../intents/normalize.ts';

const data = loadIntentData().data;
if (!data) throw new Error('intent data does not load');

describe('tone placement', () => {
  it.each([
    ['hoà', 'hòa'],
    ['thuỷ', 'thủy'],
    ['uỷ', 'ủy'],
    ['qúy', 'quý'],
    ['hoàn', 'hoàn'],
    ['khoẻ', 'khỏe'],
    ['ngoáy', 'ngoáy'],
    ['lựơng', 'lượng'],
    ['giấy', 'giấy'],
  ])('%s → %s', (input, want) => {
    expect(canonicalTone(input)).toBe(want);
  });

  it('treats NFD input like NFC', () => {
    expect(canonicalize('Đăng ký khai sinh'.normalize('NFD'))).toBe('đăng ký khai sinh');
  });
});

describe('folding and cleaning', () => {
  it('removes diacritics and maps đ', () => {
    expect(fold('Đăng ký hộ kinh doanh')).toBe('Dang ky ho kinh doanh');
  });

  it('drops emoji, punctuation and URLs, collapses repeated vowels but not consonants', () => {
    const n = normalize('Cho em hỏiii 🙏🙏 làm CCCD ở đâuuuu ạ??? https://x.vn/a', data.lexicon);
    expect(n.tokens).toEqual(['cho', 'em', 'hoi', 'lam', 'can', 'cuoc', 'cong', 'dan', 'o', 'dau', 'a']);
  });

  it('maps the Icelandic eth people paste for đ', () => {
    expect(normalize('Ðăng ký', data.lexicon).tokens).toEqual(['dang', 'ky']);
  });
});

describe('abbreviations', () => {
  const t = (s: string) => normalize(s, data.lexicon).tokens.join(' ');
  it('expands the domain table', () => {
    expect(t('dk gks cho be')).toBe('dang ky giay khai sinh cho be');
    expect(t('le phi gplx bn')).toBe('le phi giay phep lai xe bao nhieu');
    expect(t('chứng chỉ môi giới bđs')).toBe('chung chi moi gioi bat dong san');
  });
  it('applies context rules: hk means hộ khẩu only near nhập/tách', () => {
    expect(t('nhap hk cho con')).toBe('nhap ho khau cho con');
    expect(t('hk')).toBe('hk');
  });
  it('reads k at the end as không, not elsewhere', () => {
    expect(t('lam online dc k')).toBe('lam truc tuyen duoc khong');
    expect(t('k tuoi')).toBe('k tuoi');
  });
  it('keeps the accents typed for each token, and none for expansions', () => {
    const n = normalize('làm cccd ở đâu', data.lexicon);
    expect(n.accents).toEqual(['làm', null, null, null, null, 'ở', 'đâu']);
  });
});

describe('robustness', () => {
  it('handles lone surrogates and control characters', () => {
    expect(() => normalize('\ud800abc\u0000\u200b', data.lexicon)).not.toThrow();
  });
});

describe('numbers and the understanding files', () => {
  it('"09 số" and "9 số" are one number', () => {
    expect(normalize('CMND 09 số').tokens).toEqual(normalize('cmnd 9 so').tokens);
  });
  it('an accented example and its accent-free copy are not reported as duplicates; the same sentence twice is', async () => {
    const { mkdtempSync, cpSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    expect(loadIntentData().issues.filter((i) => i.file === 'examples.yaml')).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'intents-'));
    cpSync(join(import.meta.dirname, '..', 'intents'), dir, { recursive: true });
    const ex = join(dir, 'examples.yaml');
    writeFileSync(ex, readFileSync(ex, 'utf8').replace('    - "{p} o dau"\n', '    - "{p} o dau"\n    - "{p} o dau"\n'));
    expect(loadIntentData(dir).issues.some((i) => i.file === 'examples.yaml' && /lặp lại/.test(i.message))).toBe(true);
  });
});
