/**
 * `npm run kb -- test`: re-runs the golden cases (test/golden.jsonl) and the shared dev
 * set (../shared/eval/dev.jsonl) through `createAssistant`, exactly as `ask` answers, and
 * shows which answers changed since the last run (kept in DATA_DIR/kb-test-last.json
 * with a fingerprint of the knowledge files). Staff run it after editing knowledge to
 * see what their edit changed before it goes live.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAssistant } from '../bot/assistant.ts';
import type { Config } from '../bot/config.ts';
import { plainText } from '../bot/dialogue/types.ts';
import { writeFileAtomic } from '../knowledge/staff-files.ts';

/** Project root (scripts/..). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_GOLDEN = join(PROJECT_ROOT, 'test', 'golden.jsonl');
export const DEFAULT_DEV = join(PROJECT_ROOT, '..', 'shared', 'eval', 'dev.jsonl');
/** A fixed clock (a Wednesday, 09:00 in Vietnam) so office-hours wording does not show up as a change. */
export const KB_TEST_CLOCK = Date.parse('2026-11-25T02:00:00Z');

/** One evaluation case, in the golden/dev shape (`intent` is accepted for `intents`). */
export interface KbCase {
  set: string;
  key: string;
  conv: string;
  text: string;
  intents: string[];
  procedure?: (string | null)[];
  faq?: string | null;
  dossierCode?: string | null;
}

/** What the assistant answered for one case. */
export interface KbAnswer {
  intent: string;
  procedure: string | null;
  faq: string | null;
  dossierCode: string | null;
  reply: string;
  pass: boolean;
}

export interface KbTestRun {
  at: string;
  fingerprint: string;
  results: Record<string, KbAnswer & { set: string; text: string }>;
}

export interface KbChange {
  key: string;
  set: string;
  text: string;
  before: KbAnswer;
  after: KbAnswer;
  fields: string[];
}

export interface KbTestReport {
  sets: { name: string; path: string; total: number; passed: number; failures: { key: string; text: string; expected: string; got: string }[] }[];
  missing: string[];
  fingerprint: string;
  previous?: { fingerprint: string; at: string };
  changes: KbChange[];
  added: number;
  removed: number;
}

/** Reads a cases file; lines that are not valid cases are skipped and counted. */
export function loadCases(path: string, set: string): { cases: KbCase[]; bad: number } {
  const cases: KbCase[] = [];
  let bad = 0;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const intents = Array.isArray(o.intents) ? o.intents.map(String) : typeof o.intent === 'string' ? [o.intent] : [];
        if (typeof o.text !== 'string' || !intents.length) throw new Error('case needs text and intents');
        const c: KbCase = { set, key: `${set}:${typeof o.id === 'string' ? o.id : i + 1}`, conv: `${set}:${String(o.conv ?? `line${i + 1}`)}`, text: o.text, intents };
        if ('procedure' in o) c.procedure = Array.isArray(o.procedure) ? o.procedure.map((p) => (p === null ? null : String(p))) : [o.procedure === null ? null : String(o.procedure)];
        if ('faq' in o) c.faq = o.faq === null ? null : String(o.faq);
        if ('dossierCode' in o) c.dossierCode = o.dossierCode === null ? null : String(o.dossierCode);
        cases.push(c);
      } catch {
        bad++;
      }
    });
  return { cases, bad };
}

/** The scoring rules of ../shared/eval/score.py, per case. */
export function passes(c: KbCase, a: Omit<KbAnswer, 'pass'>): boolean {
  if (!c.intents.includes(a.intent)) return false;
  if (c.procedure && !c.procedure.includes(a.procedure)) return false;
  if (c.faq !== undefined && a.faq !== c.faq) return false;
  if (c.intents.length === 1 && c.intents[0] === 'dossier.status' && c.dossierCode !== undefined) {
    if (c.dossierCode === null ? a.dossierCode !== null : (a.dossierCode ?? '').toUpperCase() !== c.dossierCode.toUpperCase()) return false;
  }
  if (c.intents.length === 1 && c.intents[0] === 'out_of_scope' && a.procedure) return false;
  return true;
}

function walkYaml(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walkYaml(p, out);
    else if (/\.ya?ml$/i.test(name)) out.push(p);
  }
}

/** Short hash of every knowledge and intent YAML file (names and contents). */
export function knowledgeFingerprint(dirs: readonly string[]): string {
  const h = createHash('sha256');
  for (const dir of dirs) {
    const files: string[] = [];
    walkYaml(dir, files);
    for (const f of files) {
      h.update(relative(dir, f));
      h.update('\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  return h.digest('hex').slice(0, 12);
}

export interface KbTestOptions {
  config: Config;
  golden?: string;
  dev?: string;
  /** Where the last run is kept (default DATA_DIR/kb-test-last.json). */
  lastFile?: string;
  knowledgeDirs: string[];
  /** Keep the previous run file as is (dry run). */
  noSave?: boolean;
}

/** Runs every available case set and compares with the previous run. */
export async function runKbTest(opts: KbTestOptions): Promise<KbTestReport> {
  const golden = opts.golden ?? DEFAULT_GOLDEN;
  const dev = opts.dev ?? DEFAULT_DEV;
  const lastFile = opts.lastFile ?? join(opts.config.DATA_DIR, 'kb-test-last.json');
  const report: KbTestReport = { sets: [], missing: [], fingerprint: knowledgeFingerprint(opts.knowledgeDirs), changes: [], added: 0, removed: 0 };
  const { engine } = createAssistant(opts.config, { memoryTickets: true, now: () => KB_TEST_CLOCK });
  const run: KbTestRun = { at: new Date().toISOString(), fingerprint: report.fingerprint, results: {} };
  let seq = 0;
  for (const [name, path] of [
    ['golden', golden],
    ['dev', dev],
  ] as const) {
    if (!existsSync(path)) {
      report.missing.push(path);
      continue;
    }
    const { cases } = loadCases(path, name);
    const set = { name, path, total: cases.length, passed: 0, failures: [] as KbTestReport['sets'][number]['failures'] };
    for (const c of cases) {
      const turn = await engine.handle({ channel: 'cli', conversationId: c.conv, userId: c.conv, messageId: `kbtest-${++seq}`, text: c.text, kind: 'text' });
      const answer = { intent: turn.intent, procedure: turn.procedure, faq: turn.faq, dossierCode: turn.dossierCode, reply: turn.reply ? plainText(turn.reply) : '' };
      const pass = passes(c, answer);
      if (pass) set.passed++;
      else
        set.failures.push({
          key: c.key,
          text: c.text,
          expected: `${c.intents.join('|')}${c.procedure ? ` / ${c.procedure.map((p) => p ?? '∅').join('|')}` : ''}${c.faq !== undefined ? ` / ${c.faq ?? '∅'}` : ''}`,
          got: `${answer.intent}${answer.procedure ? ` / ${answer.procedure}` : ''}${answer.faq ? ` / ${answer.faq}` : ''}`,
        });
      run.results[c.key] = { ...answer, pass, set: name, text: c.text };
    }
    report.sets.push(set);
  }

  let previous: KbTestRun | undefined;
  try {
    if (existsSync(lastFile)) previous = JSON.parse(readFileSync(lastFile, 'utf8')) as KbTestRun;
  } catch {
    previous = undefined;
  }
  if (previous?.results) {
    report.previous = { fingerprint: previous.fingerprint, at: previous.at };
    for (const [key, after] of Object.entries(run.results)) {
      const before = previous.results[key];
      if (!before) {
        report.added++;
        continue;
      }
      const fields = (['intent', 'procedure', 'faq', 'dossierCode', 'reply'] as const).filter((f) => before[f] !== after[f]);
      if (fields.length) report.changes.push({ key, set: after.set, text: after.text, before, after, fields });
    }
    report.removed = Object.keys(previous.results).filter((k) => !(k in run.results)).length;
  }
  if (!opts.noSave) writeFileAtomic(lastFile, `${JSON.stringify(run, null, 1)}\n`);
  return report;
}

function answerLine(a: KbAnswer): string {
  return `${a.intent}${a.procedure ? ` / ${a.procedure}` : ''}${a.faq ? ` / ${a.faq}` : ''}${a.dossierCode ? ` / ${a.dossierCode}` : ''}`;
}

/** The report staff read: scores, then what changed, then what fails. */
export function formatKbTest(r: KbTestReport, opts: { maxFailures?: number } = {}): string {
  const out: string[] = [];
  const label: Record<string, string> = { golden: 'Bộ câu chuẩn (golden)', dev: 'Bộ câu dev dùng chung' };
  for (const s of r.sets) out.push(`${label[s.name] ?? s.name} (${s.path}): ${s.passed}/${s.total} đúng.`);
  for (const m of r.missing) out.push(`Không thấy ${m}: bỏ qua bộ này.`);
  out.push(
    r.previous
      ? `Phiên bản kiến thức: ${r.fingerprint} (lần chạy trước: ${r.previous.fingerprint}, lúc ${r.previous.at.slice(0, 16).replace('T', ' ')}${r.previous.fingerprint === r.fingerprint ? '; kiến thức không đổi' : ''}).`
      : `Phiên bản kiến thức: ${r.fingerprint} (chưa có lần chạy trước để so sánh).`,
  );
  if (r.previous) {
    out.push(`Câu trả lời thay đổi so với lần trước: ${r.changes.length}${r.added ? `; ${r.added} câu mới` : ''}${r.removed ? `; ${r.removed} câu đã bỏ` : ''}.`);
    for (const c of r.changes) {
      const verdict = c.before.pass === c.after.pass ? (c.after.pass ? 'vẫn đúng' : 'vẫn sai') : c.after.pass ? 'NAY ĐÚNG' : 'NAY SAI';
      const understood = c.fields.some((f) => f !== 'reply') ? `${answerLine(c.before)} → ${answerLine(c.after)}` : 'chỉ lời trả lời đổi';
      out.push(`  [${c.key}] «${c.text}»: ${understood} (${verdict})`);
    }
  }
  const max = opts.maxFailures ?? 40;
  for (const s of r.sets) {
    if (!s.failures.length) continue;
    out.push(`Sai ở ${label[s.name] ?? s.name}: ${s.failures.length}`);
    for (const f of s.failures.slice(0, max)) out.push(`  [${f.key}] «${f.text}»: cần ${f.expected}, được ${f.got}`);
    if (s.failures.length > max) out.push(`  … và ${s.failures.length - max} câu nữa.`);
  }
  return out.join('\n');
}
