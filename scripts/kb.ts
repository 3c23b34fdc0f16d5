/**
 * Staff command for the knowledge base: `npm run kb -- <command>`.
 *
 *   validate [--dir DIR] [--intents DIR] [--max-age DAYS]   check every file (knowledge and intents/); exit 1 on error
 *   explain "câu hỏi" [--national FILE]    the signals behind one decision
 *   import-national FILE [--code C…] [--field "Hộ tịch"…] [--out DIR] [--update] [--verbose]
 *   check-national FILE [--dir DIR] [--id ID…] [--limit N] [--json]   curated entries vs portal records (report)
 *   export-sheet FILE.xlsx [--dir DIR]      FAQ and key procedure fields to a spreadsheet
 *   import-sheet FILE.xlsx [--dir DIR]      valid rows back into the YAML files
 *   review [--file F] [--since YYYY-MM-DD] [--top N] [--json] [--archive]
 *   add-alias PROCEDURE_ID "text" [--force] a citizen's wording → the procedure's aliases
 *   add-example INTENT_ID "text" [--force]  → intents/examples.yaml
 *     (both refused when they change a golden/dev answer, unless --force; see bot/staff/guard.ts)
 *   history [FILE] · diff ID [ID2] · restore ID [--before] [--force]   saves made through the staff tools
 *   test [--golden F] [--dev F] [--no-save] golden + dev cases; what changed since last run
 *   reload                                  tell every running process to reload (Redis)
 *
 * Commands print Vietnamese for the staff who run them. Commands that change knowledge
 * also publish a reload signal when REDIS_URL is set.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { Redis } from 'ioredis';
import { buildKnowledgeVersion, type KnowledgeVersion } from '../bot/assistant.ts';
import { openStaffDatabase } from '../bot/staff/accounts.ts';
import { AuditLog, cliActor } from '../bot/staff/audit.ts';
import { TeachGuard } from '../bot/staff/guard.ts';
import { diffLines, formatDiff, KnowledgeHistory } from '../bot/staff/history.ts';
import { KnowledgeEditor, type Draft } from '../bot/staff/knowledge-editor.ts';
import { loadConfig, type Config } from '../bot/config.ts';
import { stripControl } from '../bot/privacy.ts';
import { publishReload } from '../bot/reload.ts';
import { DEFAULT_INTENTS_DIR, loadIntentData } from '../intents/data.ts';
import { formatImportReport, importNational, isKnowledgeDir } from '../knowledge/national-import.ts';
import { checkNationalFile, formatCheckNational } from '../knowledge/check-national.ts';
import { formatReview, groupReview, readReviewFile } from '../knowledge/review.ts';
import { ReviewInbox } from '../bot/staff/review-inbox.ts';
import { reviewFile } from '../bot/review.ts';
import { exportSheet, formatSheetReport, importSheet } from '../knowledge/sheet.ts';
import { formatKbTest, runKbTest } from './kbtest.ts';
import { DEFAULT_KNOWLEDGE_DIR, formatIssues, loadKnowledge } from '../knowledge/load.ts';

type Command = (args: string[]) => Promise<number> | number;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const validate: Command = (args) => {
  const dir = option(args, '--dir') ?? DEFAULT_KNOWLEDGE_DIR;
  const maxAge = Number(option(args, '--max-age') ?? process.env.KB_MAX_AGE_DAYS ?? 365);
  const loaded = loadKnowledge(dir, { maxAgeDays: maxAge });
  // The understanding's own files (abbreviations, variants, examples) are staff-edited too.
  const intents = loadIntentData(option(args, '--intents') ?? DEFAULT_INTENTS_DIR);
  const issues = [...loaded.issues, ...intents.issues];
  const knowledge = intents.data ? loaded.knowledge : null;
  if (issues.length) console.log(formatIssues(issues));
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  if (!knowledge) {
    console.log(`\nKhông hợp lệ: ${errors} lỗi, ${warnings} cảnh báo. Sửa các lỗi trên rồi chạy lại "npm run kb -- validate".`);
    return 1;
  }
  console.log(
    `Hợp lệ: ${knowledge.procedures.length} thủ tục, ${knowledge.faqs.length} câu hỏi thường gặp, ${warnings} cảnh báo.`,
  );
  return 0;
};

/** Every value after `name` up to the next flag, repeated flags merged, commas split. */
function options(args: string[], name: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a !== name) return;
    for (let j = i + 1; j < args.length && !(args[j] as string).startsWith('--'); j++) out.push(...(args[j] as string).split(',').map((v) => v.trim()).filter(Boolean));
  });
  return out;
}

/** Arguments that are neither flags nor flag values (`multi` flags take every value up to the next flag). */
function positional(args: string[], single: readonly string[], multi: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) {
      out.push(a);
      continue;
    }
    if (single.includes(a)) i++;
    else if (multi.includes(a)) while (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) i++;
  }
  return out;
}

function config(): Config {
  return loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
}

function knowledgeDir(args: string[], cfg: Config): string {
  return resolve(option(args, '--dir') ?? cfg.KNOWLEDGE_DIR ?? DEFAULT_KNOWLEDGE_DIR);
}

/** With REDIS_URL, tells running processes to reload; never fails the command. */
async function announceReload(cfg: Config, reason: string): Promise<void> {
  if (!cfg.REDIS_URL) return;
  const redis = new Redis(cfg.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const n = await publishReload(redis, cfg.KNOWLEDGE_RELOAD_CHANNEL, { origin: 'kb', reason });
    console.log(`Đã báo ${n} tiến trình đang chạy nạp lại kiến thức.`);
  } catch (err) {
    console.log(`Không báo được qua Redis (${(err as Error).message}); các tiến trình tự nạp lại khi thấy tệp đổi.`);
  } finally {
    redis.disconnect();
  }
}

function validateSummary(dir: string, maxAgeDays: number): number {
  const { knowledge, issues } = loadKnowledge(dir, { maxAgeDays });
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) {
    console.log(formatIssues(errors.slice(0, 30)));
    console.log(`Kho kiến thức ${dir}: ${errors.length} lỗi. Sửa rồi chạy "npm run kb -- validate".`);
    return 1;
  }
  console.log(`Kiểm tra kho kiến thức: hợp lệ (${knowledge?.procedures.length ?? 0} thủ tục, ${knowledge?.faqs.length ?? 0} câu hỏi thường gặp).`);
  return 0;
}

const importNationalCmd: Command = async (args) => {
  const [file] = positional(args, ['--out', '--dir'], ['--code', '--field']);
  if (!file || !existsSync(file)) {
    console.log('Cách dùng: npm run kb -- import-national TỆP.jsonl [--code 1.001193 …] [--field "Hộ tịch" …] [--out THƯ-MỤC] [--update]');
    if (file) console.log(`Không thấy tệp ${file}.`);
    return 2;
  }
  const cfg = config();
  const kdir = knowledgeDir(args, cfg);
  const outDir = resolve(option(args, '--out') ?? join(kdir, 'procedures'));
  const report = importNational({
    file,
    outDir,
    existingDirs: [join(kdir, 'procedures')],
    codes: options(args, '--code'),
    fields: options(args, '--field'),
    update: args.includes('--update'),
    configuredDate: cfg.NATIONAL_DATA_DATE,
    knowledgeDir: kdir,
  });
  console.log(formatImportReport(report, { verbose: args.includes('--verbose') }));
  let code = report.outcomes.invalid ? 1 : 0;
  const written = report.outcomes.written + report.outcomes.updated;
  const parent = resolve(outDir, '..');
  if (written && isKnowledgeDir(parent)) {
    code = Math.max(code, validateSummary(parent, cfg.KB_MAX_AGE_DAYS));
    if (parent === kdir) await announceReload(cfg, 'import-national');
  } else if (written) console.log(`Các tệp đã ghi vào ${outDir}; chạy "npm run kb -- validate --dir <thư mục kiến thức>" để kiểm tra cả kho.`);
  return code;
};

/**
 * `kb -- check-national FILE`: lists where curated entries differ from the portal records
 * of their codes. A report: exits 0 whatever it finds (CI prints it), 1 only when the
 * knowledge base itself does not load, 2 on bad usage.
 */
const checkNationalCmd: Command = (args) => {
  const [file] = positional(args, ['--dir', '--limit'], ['--id']);
  if (!file || !existsSync(file)) {
    console.log('Cách dùng: npm run kb -- check-national TỆP.jsonl [--dir THƯ-MỤC-KIẾN-THỨC] [--id MÃ-THỦ-TỤC …] [--limit N] [--json]');
    if (file) console.log(`Không thấy tệp ${file}.`);
    return 2;
  }
  const cfg = config();
  const { knowledge, issues } = loadKnowledge(knowledgeDir(args, cfg), { maxAgeDays: cfg.KB_MAX_AGE_DAYS });
  if (!knowledge) {
    console.log(formatIssues(issues.filter((i) => i.severity === 'error').slice(0, 30)));
    console.log('Kho kiến thức đang có lỗi; sửa theo "npm run kb -- validate" rồi đối chiếu lại.');
    return 1;
  }
  const { report, lines, badLines, found } = checkNationalFile(knowledge.procedures, file, options(args, '--id'));
  if (args.includes('--json')) console.log(JSON.stringify(report, null, 1));
  else {
    console.log(`Tệp ${file}: ${lines} dòng${badLines ? ` (${badLines} dòng không đọc được)` : ''}; tìm thấy ${found} bản ghi cần đối chiếu.`);
    const limit = option(args, '--limit');
    console.log(formatCheckNational(report, limit ? { limit: Number(limit) } : {}));
  }
  return 0;
};

const exportSheetCmd: Command = async (args) => {
  const [file] = positional(args, ['--dir']);
  if (!file || !/\.xlsx$/i.test(file)) {
    console.log('Cách dùng: npm run kb -- export-sheet TỆP.xlsx [--dir THƯ-MỤC-KIẾN-THỨC]');
    return 2;
  }
  const r = await exportSheet(knowledgeDir(args, config()), file);
  console.log(`Đã ghi ${file}: ${r.procedures} thủ tục, ${r.faqs} câu hỏi thường gặp. Sửa xong chạy: npm run kb -- import-sheet ${file}`);
  return 0;
};

/**
 * `kb import-sheet`: valid rows are applied to a staging copy first, then the changed files
 * go through the knowledge editor like any staff edit (validated, guarded against changed
 * golden/dev answers unless --force, kept in the history); rows with errors are reported.
 */
const importSheetCmd: Command = async (args) => {
  const [file] = positional(args, ['--dir', '--intents', '--dev']);
  if (!file) {
    console.log('Cách dùng: npm run kb -- import-sheet TỆP.xlsx [--dir THƯ-MỤC-KIẾN-THỨC] [--force]');
    return 2;
  }
  const cfg = config();
  const dir = knowledgeDir(args, cfg);
  const stage = mkdtempSync(join(tmpdir(), 'kb-sheet-'));
  try {
    cpSync(dir, stage, { recursive: true, filter: (src) => statSync(src).isDirectory() || /\.ya?ml$/i.test(src) });
    const r = await importSheet(stage, file);
    console.log(formatSheetReport(r).replace('Tệp đã ghi:', 'Tệp sẽ ghi (sau khi kiểm tra):'));
    const code = r.errors.length ? 1 : 0;
    if (!r.changed.length) return code;
    const changes = r.changed.map((rel) => ({ root: 'knowledge' as const, rel: rel.split(sep).join('/'), text: readFileSync(join(stage, rel), 'utf8') }));
    const saved = await withEditor(args, (editor, _h, c) => saveDraft(editor, editor.draftFiles('sheet', `Nhập bảng tính ${basename(file)}: ${changes.length} tệp.`, changes), args, c, 'import-sheet'));
    return Math.max(code, saved);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
};

const review: Command = (args) => {
  const cfg = config();
  const file = option(args, '--file') ?? reviewFile(cfg);
  const { entries, bad } = readReviewFile(file, { since: option(args, '--since') });
  const intentsDir = resolve(option(args, '--intents') ?? DEFAULT_INTENTS_DIR);
  const lexicon = loadIntentData(intentsDir).data?.lexicon;
  const groups = groupReview(entries, { lexicon });
  if (args.includes('--json')) {
    console.log(JSON.stringify({ total: entries.length, bad, groups }, null, 1));
  } else {
    let current;
    try {
      const v = buildKnowledgeVersion({ knowledgeDir: knowledgeDir(args, cfg), intentsDir, nationalFile: cfg.NATIONAL_FILE, nationalDataDate: cfg.NATIONAL_DATA_DATE, maxAgeDays: cfg.KB_MAX_AGE_DAYS });
      const inbox = new ReviewInbox({ file, intentsDir, live: () => v });
      current = (text: string) => inbox.understand(text);
    } catch {
      console.log('(Kho kiến thức đang có lỗi nên không hiện được cách trợ lý hiểu bây giờ.)');
    }
    console.log(`Hộp thư rà soát: ${file}`);
    // Citizens' words reach the terminal: no escape sequences, even from an old file.
    console.log(stripControl(formatReview(groups, { total: entries.length, bad, top: Number(option(args, '--top') ?? 30), current })));
  }
  if (args.includes('--archive') && existsSync(file)) {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const to = file.replace(/\.jsonl$/, '') + `-${stamp}.jsonl`;
    renameSync(file, to);
    console.log(`Đã chuyển hộp thư sang ${to}; tin nhắn mới sẽ vào tệp mới.`);
  }
  return 0;
};

/**
 * Teaching through the knowledge editor, so the CLI and the console share one path: the
 * change is validated, tried against the golden table (and the shared dev set when
 * present) and refused with the list of changed answers unless `--force` is given; a
 * saved change is kept in the history (DATA_DIR/staff.sqlite) and audited.
 */
async function withEditor(args: string[], run: (editor: KnowledgeEditor, history: KnowledgeHistory, cfg: Config) => Promise<number>): Promise<number> {
  const cfg = config();
  const source = { knowledgeDir: knowledgeDir(args, cfg), intentsDir: resolve(option(args, '--intents') ?? DEFAULT_INTENTS_DIR), nationalFile: cfg.NATIONAL_FILE, maxAgeDays: cfg.KB_MAX_AGE_DAYS };
  let live: KnowledgeVersion;
  try {
    live = buildKnowledgeVersion(source);
  } catch (err) {
    console.log(`Kho kiến thức đang có lỗi nên chưa lưu thay đổi qua công cụ được; chạy "npm run kb -- validate" và sửa trước.\n${(err as Error).message}`);
    return 1;
  }
  const db = openStaffDatabase(cfg);
  try {
    const history = new KnowledgeHistory(db);
    const editor = new KnowledgeEditor({ source, live: () => live, history, guard: new TeachGuard({ dev: option(args, '--dev') ?? undefined }), audit: new AuditLog(db) });
    return await run(editor, history, cfg);
  } finally {
    db.close();
  }
}

/** Saves a draft (guarded: see `teach`), printing what happened. */
async function saveDraft(editor: KnowledgeEditor, draft: Draft, args: string[], cfg: Config, reason: string): Promise<number> {
  if (!draft.ok) {
    console.log([draft.message, ...draft.errors.filter((e) => e.message !== draft.message).map((i) => `  ${i.file}:${i.line}: ${i.message}${i.hint ? ` — ${i.hint}` : ''}`)].join('\n'));
    return 1;
  }
  const saved = await editor.save(draft.id, { actor: cliActor(), force: args.includes('--force') });
  console.log(saved.message);
  if (!saved.ok) return 1;
  await announceReload(cfg, reason);
  return 0;
}

async function teach(args: string[], make: (editor: KnowledgeEditor) => Draft, reason: string): Promise<number> {
  return withEditor(args, (editor, _history, cfg) => saveDraft(editor, make(editor), args, cfg, reason));
}

function vnTime(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

/** `kb history [FILE] [--limit N]`: saves made through the staff tools, newest first. */
const historyCmd: Command = (args) =>
  withEditor(args, async (_e, history) => {
    const [file] = positional(args, ['--limit', '--dir', '--intents', '--dev']);
    const rows = history.list({ file, limit: Number(option(args, '--limit') ?? 30) || 30 });
    if (!rows.length) console.log('Chưa có lần lưu nào qua công cụ cán bộ.');
    for (const r of rows) console.log(`${String(r.id).padStart(5)}  ${vnTime(r.at)}  ${r.actor.padEnd(16)} ${r.action.padEnd(10)} ${r.root === 'intents' ? 'intents/' : ''}${r.file}`);
    if (rows.length) console.log('Xem thay đổi: npm run kb -- diff SỐ · Khôi phục: npm run kb -- restore SỐ [--before]');
    return 0;
  });

/** `kb diff ID [ID2]`: what one save changed, or the difference between two saved versions. */
const diffCmd: Command = (args) =>
  withEditor(args, async (_e, history) => {
    const [a, b] = positional(args, ['--dir', '--intents', '--dev']).map(Number);
    const va = a ? history.get(a) : undefined;
    const vb = b ? history.get(b) : undefined;
    if (!va || (b && !vb)) {
      console.log('Cách dùng: npm run kb -- diff SỐ [SỐ-KHÁC]  (số lấy từ "npm run kb -- history")');
      return 2;
    }
    console.log(formatDiff(vb ? diffLines(va.after ?? '', vb.after ?? '') : diffLines(va.before ?? '', va.after ?? '')) || '(không khác nhau)');
    return 0;
  });

/** `kb restore ID [--before] [--force]`: put a file back as it was after (or before) a save. */
const restoreCmd: Command = (args) =>
  withEditor(args, async (editor, _h, cfg) => {
    const [id] = positional(args, ['--dir', '--intents', '--dev']).map(Number);
    if (!id) {
      console.log('Cách dùng: npm run kb -- restore SỐ [--before] [--force]');
      return 2;
    }
    return saveDraft(editor, editor.draftRestore(id, args.includes('--before') ? 'before' : 'after'), args, cfg, 'restore');
  });

const addAliasCmd: Command = async (args) => {
  const [id, ...words] = positional(args, ['--dir', '--dev']);
  const text = words.join(' ');
  if (!id || !text) {
    console.log('Cách dùng: npm run kb -- add-alias MÃ-THỦ-TỤC "cách người dân gọi" [--force]  (vd. add-alias dat-dai.cap-lan-dau "làm sổ đỏ")');
    return 2;
  }
  return teach(args, (e) => e.draftAlias(id, text), 'add-alias');
};

const addExampleCmd: Command = async (args) => {
  const [intent, ...words] = positional(args, ['--intents', '--dev']);
  const text = words.join(' ');
  if (!intent || !text) {
    console.log('Cách dùng: npm run kb -- add-example Ý-ĐỊNH "câu mẫu" [--force]  (vd. add-example procedure.fee "nộp phí bao nhiêu tiền vậy")');
    return 2;
  }
  return teach(args, (e) => e.draftExample(intent, text), 'add-example');
};

const testCmd: Command = async (args) => {
  const cfg = config();
  const kdir = knowledgeDir(args, cfg);
  if (option(args, '--dir')) cfg.KNOWLEDGE_DIR = kdir;
  const report = await runKbTest({
    config: cfg,
    golden: option(args, '--golden'),
    dev: option(args, '--dev'),
    knowledgeDirs: [kdir, DEFAULT_INTENTS_DIR],
    noSave: args.includes('--no-save'),
  });
  console.log(formatKbTest(report));
  const golden = report.sets.find((s) => s.name === 'golden');
  return golden && golden.failures.length ? 1 : 0;
};

const reloadCmd: Command = async () => {
  const cfg = config();
  if (!cfg.REDIS_URL) {
    console.log('Chưa đặt REDIS_URL: mỗi tiến trình tự nạp lại khi tệp kiến thức thay đổi (KNOWLEDGE_WATCH).');
    return 0;
  }
  await announceReload(cfg, 'kb reload');
  return 0;
};

/** `kb -- explain "câu hỏi"`: the signals behind one decision (tokens, retrieval, classifier), for whoever tunes examples and aliases. */
const explainCmd: Command = (args) => {
  const valued = new Set(['--dir', '--national']);
  const text = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? '')).join(' ');
  if (!text) {
    console.log('Cách dùng: npm run kb -- explain "câu hỏi của người dân" [--national TỆP]');
    return 2;
  }
  const v = buildKnowledgeVersion({ knowledgeDir: option(args, '--dir'), nationalFile: option(args, '--national') });
  const u = v.understander.understand(text, {});
  console.log(JSON.stringify({ intent: u.intent, procedure: u.procedure, faq: u.faq, confidence: u.confidence, alternatives: u.alternatives }, null, 1));
  console.log(JSON.stringify(v.understander.explain(text), null, 1));
  return 0;
};

export const COMMANDS: Record<string, Command> = {
  validate,
  explain: explainCmd,
  'import-national': importNationalCmd,
  'check-national': checkNationalCmd,
  'export-sheet': exportSheetCmd,
  'import-sheet': importSheetCmd,
  review,
  'add-alias': addAliasCmd,
  'add-example': addExampleCmd,
  test: testCmd,
  reload: reloadCmd,
  history: historyCmd,
  diff: diffCmd,
  restore: restoreCmd,
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? COMMANDS[name] : undefined;
  if (!cmd) {
    console.log(`Cách dùng: npm run kb -- <lệnh>\nCác lệnh: ${Object.keys(COMMANDS).join(', ')}`);
    process.exitCode = name ? 2 : 0;
    return;
  }
  process.exitCode = await cmd(rest);
}

await main();
