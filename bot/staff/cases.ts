/**
 * The evaluation cases staff tools run: the golden table (test/golden.jsonl) and the
 * shared dev set (../shared/eval/dev.jsonl, optional), their scoring rules (those of
 * ../shared/eval/score.py) and a fingerprint of the knowledge files. Used by
 * `npm run kb -- test` and by the teach guard (bot/staff/guard.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (bot/staff/../..). */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
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

