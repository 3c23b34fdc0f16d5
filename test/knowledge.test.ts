import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_KNOWLEDGE_DIR, loadKnowledge } from '../knowledge/load.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'broken');
const tmpRoots: string[] = [];

/** A copy of the shipped knowledge with one extra (broken) file. */
function withFile(folder: string, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-'));
  tmpRoots.push(dir);
  cpSync(DEFAULT_KNOWLEDGE_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  writeFileSync(join(dir, folder, name), text);
  return dir;
}

afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

describe('shipped knowledge', () => {
  const r = loadKnowledge(DEFAULT_KNOWLEDGE_DIR);

  it('validates without errors', () => {
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.knowledge).not.toBeNull();
  });

  it('has every procedure and FAQ id of the spec with the sections a hotline officer needs', () => {
    const k = r.knowledge!;
    const spec = readFileSync(join(import.meta.dirname, 'fixtures', 'spec-ids.txt'), 'utf8').split('\n').filter(Boolean);
    const ids = new Set([...k.procedures.map((p) => p.id), ...k.faqs.map((f) => f.id)]);
    expect(spec.filter((id) => !ids.has(id))).toEqual([]);
    for (const p of k.procedures) {
      expect(p.steps.length, p.id).toBeGreaterThan(0);
      expect(p.documents.length, p.id).toBeGreaterThan(0);
      expect(p.channels.every((c) => c.time && c.fee), p.id).toBe(true);
      expect(p.where.length, p.id).toBeGreaterThan(0);
      expect(p.legalBasis.length, p.id).toBeGreaterThan(0);
      expect(p.lastVerified, p.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('never sends anyone to a district office', () => {
    const text = readdirSync(join(DEFAULT_KNOWLEDGE_DIR, 'procedures'))
      .map((f) => readFileSync(join(DEFAULT_KNOWLEDGE_DIR, 'procedures', f), 'utf8'))
      .join('\n');
    expect(text).not.toMatch(/UBND (cấp )?huyện|Ủy ban nhân dân (cấp )?huyện/iu);
  });

  it('loads in milliseconds', () => {
    // Not a timing assertion: the benchmark prints the number; this only checks it reports one.
    expect(r.knowledge!.loadedAt).toBeGreaterThan(0);
  });
});

describe('validator on broken fixtures', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));

  it('has fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s is refused with file and line', (file) => {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const m = text.match(/^# expect: (\w+) line (\d+): (.+)$/m);
    if (!m) throw new Error(`${file} has no "# expect:" header`);
    const [, folder, line, fragment] = m as unknown as [string, string, string, string];
    const dir = withFile(folder, file, text);
    const r = loadKnowledge(dir);
    expect(r.knowledge).toBeNull();
    const here = r.issues.filter((i) => i.severity === 'error' && i.file === join(folder, file));
    expect(here.length, JSON.stringify(r.issues)).toBeGreaterThan(0);
    expect(here.some((i) => i.line === Number(line) && `${i.message} ${i.hint ?? ''}`.includes(fragment)), JSON.stringify(here)).toBe(true);
    expect(here.every((i) => i.hint && i.hint.length > 10)).toBe(true);
  });

  it('the CLI exits non-zero and prints file:line', () => {
    const text = readFileSync(join(FIXTURES, 'bad-method.yaml'), 'utf8');
    const dir = withFile('procedures', 'bad-method.yaml', text);
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'scripts', 'kb.ts'), 'validate', '--dir', dir], { encoding: 'utf8' });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      code = e.status;
      out = e.stdout;
    }
    expect(code).toBe(1);
    expect(out).toMatch(/procedures\/bad-method\.yaml:21: \[lỗi\]/);
  });

  it('warns about stale entries past the configured age', () => {
    const r = loadKnowledge(DEFAULT_KNOWLEDGE_DIR, { maxAgeDays: 1, today: new Date('2027-06-01') });
    expect(r.knowledge).not.toBeNull();
    expect(r.issues.some((i) => i.severity === 'warning' && i.message.includes('đã quá 1 ngày'))).toBe(true);
  });
});
