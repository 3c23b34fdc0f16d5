/**
 * `npm run kb -- test`: re-runs the golden cases (test/golden.jsonl) and the shared dev
 * set (../shared/eval/dev.jsonl) through `createAssistant`, exactly as `ask` answers, and
 * shows which answers changed since the last run (kept in DATA_DIR/kb-test-last.json
 * with a fingerprint of the knowledge files). Staff run it after editing knowledge to
 * see what their edit changed before it goes live.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAssistant } from '../bot/assistant.ts';
import { DEFAULT_DEV, DEFAULT_GOLDEN, KB_TEST_CLOCK, knowledgeFingerprint, loadCases, passes, type KbAnswer } from '../bot/staff/cases.ts';
import type { Config } from '../bot/config.ts';
import { plainText } from '../bot/dialogue/types.ts';
import { writeFileAtomic } from '../knowledge/staff-files.ts';

export { DEFAULT_DEV, DEFAULT_GOLDEN, KB_TEST_CLOCK, knowledgeFingerprint, loadCases, passes, PROJECT_ROOT, type KbAnswer, type KbCase } from '../bot/staff/cases.ts';

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
