/**
 * The teach guard: before an alias, an example or a knowledge edit is saved, the change
 * is tried in-process against the golden table (test/golden.jsonl) and, when present,
 * the shared dev set (../shared/eval/dev.jsonl — optional, never required), and every
 * case whose answer (intent, procedure or FAQ) changes is listed. Callers refuse the
 * change with that list unless the editor rewords it or explicitly forces it.
 *
 * Speed (a console click): the candidate knowledge is built once (`buildCandidate`: the
 * live files linked into a temporary folder, the edited ones written there, one
 * `buildKnowledgeVersion`), and the answers of the live version are computed once per
 * live version and cached, so a check costs one build plus one pass over the cases.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildKnowledgeVersion, KnowledgeLoadError, type KnowledgeSource, type KnowledgeVersion } from '../assistant.ts';
import { DialogueEngine } from '../dialogue/engine.ts';
import { MemoryConversationStore } from '../dialogue/state.ts';
import { sampleDossiers } from '../dossier/sample.ts';
import { MemoryDossierProvider } from '../dossier/types.ts';
import { MemoryTicketStore } from '../handoff/tickets.ts';
import { MemoryRateLimiter } from '../ratelimit.ts';
import { DEFAULT_INTENTS_DIR } from '../../intents/data.ts';
import { DEFAULT_KNOWLEDGE_DIR, type KnowledgeIssue } from '../../knowledge/load.ts';
import { DEFAULT_DEV, DEFAULT_GOLDEN, KB_TEST_CLOCK, loadCases, passes, type KbCase } from './cases.ts';

/** Which tree a file belongs to: the knowledge folder or the intents folder. */
export type KnowledgeRoot = 'knowledge' | 'intents';

/** One file as it would be after an edit (`text: null` deletes it). */
export interface FileChange {
  root: KnowledgeRoot;
  /** Path inside its root, `/`-separated: `faq/faq.hotline.yaml`, `examples.yaml`. */
  rel: string;
  text: string | null;
}

/** What the assistant made of one case. */
export interface CaseAnswer {
  intent: string;
  procedure: string | null;
  faq: string | null;
}

export interface GuardChange {
  key: string;
  set: string;
  text: string;
  before: CaseAnswer;
  after: CaseAnswer;
  passedBefore: boolean;
  passedAfter: boolean;
}

export interface GuardReport {
  /** Cases tried, per set. */
  sets: { name: string; cases: number }[];
  changes: GuardChange[];
  ms: number;
}

/** The knowledge and intents folders of a source. */
export function sourceDirs(src: KnowledgeSource): Record<KnowledgeRoot, string> {
  return { knowledge: src.knowledgeDir ?? DEFAULT_KNOWLEDGE_DIR, intents: src.intentsDir ?? DEFAULT_INTENTS_DIR };
}

function linkTree(from: string, to: string, skip: ReadonlySet<string>, rel = ''): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const src = join(from, name);
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(src).isDirectory()) linkTree(src, join(to, name), skip, r);
    else if (/\.ya?ml$/i.test(name) && !skip.has(r)) symlinkSync(resolve(src), join(to, name));
  }
}

/**
 * Builds the knowledge as it would be with `changes` applied, without touching the live
 * files. Returns the candidate version, or the validator's issues (the same messages as
 * `npm run kb -- validate`) when it would be refused.
 */
export function buildCandidate(src: KnowledgeSource, changes: readonly FileChange[]): { version?: KnowledgeVersion; issues: KnowledgeIssue[] } {
  const dirs = sourceDirs(src);
  const tmp = mkdtempSync(join(tmpdir(), 'tthc-candidate-'));
  try {
    const out: Record<KnowledgeRoot, string> = { knowledge: join(tmp, 'knowledge'), intents: join(tmp, 'intents') };
    for (const root of ['knowledge', 'intents'] as const) {
      const mine = changes.filter((c) => c.root === root);
      linkTree(dirs[root], out[root], new Set(mine.map((c) => c.rel)));
      for (const c of mine) {
        if (c.text === null) continue;
        const path = join(out[root], ...c.rel.split('/'));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, c.text, 'utf8');
      }
    }
    try {
      const version = buildKnowledgeVersion({ ...src, knowledgeDir: out.knowledge, intentsDir: out.intents });
      return { version, issues: version.issues ?? [] };
    } catch (err) {
      if (err instanceof KnowledgeLoadError) return { issues: err.issues };
      throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** An engine on one knowledge version with nothing shared: the guard's and the preview's. */
export function answerEngine(v: KnowledgeVersion): DialogueEngine {
  const now = () => KB_TEST_CLOCK;
  return new DialogueEngine({
    knowledge: () => v.knowledge,
    understander: () => v.understander,
    store: new MemoryConversationStore(3600_000, now),
    tickets: new MemoryTicketStore(now),
    dossiers: new MemoryDossierProvider(sampleDossiers(KB_TEST_CLOCK)),
    userLookups: new MemoryRateLimiter(1_000_000, 3600_000),
    globalLookups: new MemoryRateLimiter(1_000_000, 60_000),
    now,
    config: { ratingChannels: new Set() },
  });
}

export interface TeachGuardOptions {
  golden?: string;
  /** The shared dev set; `null` turns it off. Missing files are skipped. */
  dev?: string | null;
}

/** Runs the cases against knowledge versions and lists what changes (see the module comment). */
export class TeachGuard {
  private readonly files: { name: string; path: string }[];
  private casesCache?: { key: string; cases: KbCase[] };
  private readonly baselines = new WeakMap<KnowledgeVersion, { key: string; answers: Map<string, CaseAnswer> }>();

  constructor(opts: TeachGuardOptions = {}) {
    this.files = [{ name: 'golden', path: opts.golden ?? DEFAULT_GOLDEN }];
    if (opts.dev !== null) this.files.push({ name: 'dev', path: opts.dev ?? DEFAULT_DEV });
  }

  /** The cases of every set present, re-read when a file changes. */
  cases(): KbCase[] {
    const present = this.files.filter((f) => existsSync(f.path));
    const key = present.map((f) => `${f.path}:${statSync(f.path).mtimeMs}`).join('|');
    if (this.casesCache?.key !== key) this.casesCache = { key, cases: present.flatMap((f) => loadCases(f.path, f.name).cases) };
    return this.casesCache.cases;
  }

  /** The answers of one knowledge version to every case (conversations in order). */
  async answers(v: KnowledgeVersion, cases: readonly KbCase[] = this.cases()): Promise<Map<string, CaseAnswer>> {
    const engine = answerEngine(v);
    const out = new Map<string, CaseAnswer>();
    let seq = 0;
    for (const c of cases) {
      const t = await engine.handle({ channel: 'cli', conversationId: c.conv, userId: c.conv, messageId: `guard-${++seq}`, text: c.text, kind: 'text' });
      out.set(c.key, { intent: t.intent, procedure: t.procedure, faq: t.faq });
    }
    return out;
  }

  private async baseline(v: KnowledgeVersion, cases: readonly KbCase[]): Promise<Map<string, CaseAnswer>> {
    const key = this.casesCache?.key ?? '';
    const hit = this.baselines.get(v);
    if (hit && hit.key === key) return hit.answers;
    const answers = await this.answers(v, cases);
    this.baselines.set(v, { key, answers });
    return answers;
  }

  /** Every case whose intent, procedure or FAQ differs between the live and the candidate version. */
  async compare(live: KnowledgeVersion, candidate: KnowledgeVersion): Promise<GuardReport> {
    const t0 = performance.now();
    const cases = this.cases();
    const before = await this.baseline(live, cases);
    const after = await this.answers(candidate, cases);
    const changes: GuardChange[] = [];
    for (const c of cases) {
      const b = before.get(c.key);
      const a = after.get(c.key);
      if (!a || !b || (a.intent === b.intent && a.procedure === b.procedure && a.faq === b.faq)) continue;
      changes.push({ key: c.key, set: c.set, text: c.text, before: b, after: a, passedBefore: passes(c, { ...b, dossierCode: null, reply: '' }), passedAfter: passes(c, { ...a, dossierCode: null, reply: '' }) });
    }
    const sets = [...new Set(cases.map((c) => c.set))].map((name) => ({ name, cases: cases.filter((c) => c.set === name).length }));
    return { sets, changes, ms: Math.round(performance.now() - t0) };
  }
}

function answerText(a: CaseAnswer): string {
  return `${a.intent}${a.procedure ? ` / ${a.procedure}` : ''}${a.faq ? ` / ${a.faq}` : ''}`;
}

/** The guard's verdict for staff, in Vietnamese. */
export function formatGuardReport(r: GuardReport, opts: { forced?: boolean } = {}): string {
  const tried = r.sets.map((s) => `${s.cases} câu ${s.name === 'golden' ? 'chuẩn (golden)' : 'dev dùng chung'}`).join(', ');
  if (!r.changes.length) return `Đã thử trên ${tried}: không câu trả lời nào thay đổi.`;
  const lines = [`Thay đổi này làm đổi câu trả lời của ${r.changes.length} câu kiểm tra (đã thử ${tried}):`];
  for (const c of r.changes) {
    const verdict = c.passedBefore === c.passedAfter ? (c.passedAfter ? 'vẫn đúng' : 'vẫn sai') : c.passedAfter ? 'NAY ĐÚNG' : 'NAY SAI';
    lines.push(`  [${c.key}] «${c.text}»: ${answerText(c.before)} → ${answerText(c.after)} (${verdict})`);
  }
  lines.push(
    opts.forced
      ? 'Đã lưu vì bạn chọn lưu bắt buộc (--force).'
      : 'Chưa lưu. Hãy sửa lại cho cụ thể hơn (ví dụ thêm tên thủ tục hoặc bớt từ chung chung), hoặc nếu chắc chắn các thay đổi trên là đúng thì chạy lại với --force.',
  );
  return lines.join('\n');
}
