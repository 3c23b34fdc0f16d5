/**
 * Knowledge editing for staff, written once for the console and the CLI (`kb add-alias`,
 * `kb add-example`): FAQ list/read/update/create, procedure key fields (aliases, fee and
 * time per channel, where, lastVerified), alias and example teaching, restore.
 *
 * Every edit is first a *draft*: the files as they would be (edited in place with the
 * YAML document, so comments and the rest of each file stay — knowledge/sheet.ts and
 * knowledge/review.ts do the edits), validated by building the candidate knowledge with
 * the same loader as `kb validate` (same messages), with a text diff, a preview of the
 * assistant's answer to any question, and the teach guard's list of golden/dev cases whose
 * answer changes. `save` writes the files atomically, keeps the previous version in the
 * history (who, when), writes the audit log and makes the change live (`onSaved`: the
 * holder's reload and, with Redis, the reload signal). A save is refused when the guard
 * found changed answers, unless forced, and when a file changed on disk since the draft.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Document, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { KnowledgeSource, KnowledgeVersion } from '../assistant.ts';
import { numberedText } from '../dialogue/types.ts';
import { FAQ_ID } from '../../knowledge/schema.ts';
import type { KnowledgeIssue } from '../../knowledge/load.ts';
import { planAlias, planExample, type EditPlan } from '../../knowledge/review.ts';
import { applyFaqRow, applyProcedureRow, faqRowSchema, procedureRowSchema, type FaqFields, type ProcedureKeyFields, type SheetError } from '../../knowledge/sheet.ts';
import { PRINT, serializeEdited, writeFileAtomic } from '../../knowledge/staff-files.ts';
import type { AuditSink } from './audit.ts';
import { answerEngine, buildCandidate, formatGuardReport, sourceDirs, type FileChange, type GuardReport, type KnowledgeRoot, type TeachGuard } from './guard.ts';
import { diffLines, type DiffLine, type KnowledgeHistory } from './history.ts';

export type { FaqFields, ProcedureKeyFields } from '../../knowledge/sheet.ts';

/** A proposed edit (see the module comment). */
export interface Draft {
  id: string;
  action: string;
  /** What the edit does, or why it cannot be made (Vietnamese). */
  message: string;
  /** True when it validates (it may still change answers: see `check`). */
  ok: boolean;
  changes: (FileChange & { before: string | null })[];
  /** Validation errors, with the messages of `npm run kb -- validate`. */
  errors: KnowledgeIssue[];
  /** Warnings about the changed files. */
  warnings: KnowledgeIssue[];
  diff: { root: KnowledgeRoot; rel: string; lines: DiffLine[] }[];
}

export interface SaveResult {
  ok: boolean;
  message: string;
  guard?: GuardReport;
  /** History ids of the saved versions. */
  versions: number[];
}

export interface KnowledgeEditorDeps {
  source: KnowledgeSource;
  /** The live version (the holder's), the guard's baseline and the preview's "before". */
  live: () => KnowledgeVersion;
  history: KnowledgeHistory;
  guard: TeachGuard;
  audit?: AuditSink;
  /** Makes saved files live (reload here, signal other processes). */
  onSaved?: (files: string[]) => void | Promise<void>;
}

interface DraftState extends Draft {
  version?: KnowledgeVersion;
  guard?: Promise<GuardReport>;
}

const KEEP_DRAFTS = 16;

function issuesOfRows(err: z.ZodError, file: string): KnowledgeIssue[] {
  return err.issues.map((i) => ({ severity: 'error' as const, file, line: 1, message: `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}` }));
}

/** The editing service (see the module comment). */
export class KnowledgeEditor {
  private readonly drafts = new Map<string, DraftState>();

  constructor(private readonly deps: KnowledgeEditorDeps) {}

  private get dirs(): Record<KnowledgeRoot, string> {
    return sourceDirs(this.deps.source);
  }

  private path(root: KnowledgeRoot, rel: string): string {
    return join(this.dirs[root], ...rel.split('/'));
  }

  private read(root: KnowledgeRoot, rel: string): string | null {
    const p = this.path(root, rel);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  // ── reading ──────────────────────────────────────────────────────────────

  /** FAQ entries of the live knowledge. */
  listFaqs(): { id: string; question: string; file: string; lastVerified: string }[] {
    const k = this.deps.live().knowledge;
    return k.faqs.map((f) => ({ id: f.id, question: f.question, file: k.sourceOf.get(f.id) ?? '', lastVerified: f.lastVerified }));
  }

  /** One FAQ's editable fields, from its file. */
  readFaq(id: string): { id: string; file: string; fields: FaqFields } | undefined {
    const f = this.deps.live().knowledge.faqs.find((x) => x.id === id);
    const file = f && this.deps.live().knowledge.sourceOf.get(f.id);
    if (!f || !file) return undefined;
    return { id, file, fields: { id, question: f.question, aliases: [...f.aliases], answer: f.answer, lastVerified: f.lastVerified } };
  }

  /** Curated procedures with a file (national records are edited by importing). */
  listProcedures(): { id: string; name: string; file: string; lastVerified: string; status: string }[] {
    const k = this.deps.live().knowledge;
    return k.procedures.map((p) => ({ id: p.id, name: p.name, file: k.sourceOf.get(p.id) ?? '', lastVerified: p.lastVerified, status: p.status }));
  }

  /** One procedure's key fields. */
  readProcedure(id: string): { id: string; file: string; fields: ProcedureKeyFields } | undefined {
    const k = this.deps.live().knowledge;
    const p = k.procedures.find((x) => x.id === id);
    const file = p && k.sourceOf.get(p.id);
    if (!p || !file) return undefined;
    return {
      id,
      file,
      fields: { id, name: p.name, aliases: [...p.aliases], where: [...p.where], lastVerified: p.lastVerified, channels: p.channels.map((c) => ({ method: c.method, fee: c.fee, time: c.time })) },
    };
  }

  // ── drafts ───────────────────────────────────────────────────────────────

  private draft(action: string, message: string, changes: FileChange[], refusal?: KnowledgeIssue[]): Draft {
    const withBefore = changes.map((c) => ({ ...c, before: this.read(c.root, c.rel) }));
    const id = createHash('sha256').update(JSON.stringify([action, message, changes])).digest('hex').slice(0, 16);
    const cached = this.drafts.get(id);
    if (cached && cached.changes.every((c, i) => c.before === withBefore[i]?.before)) return publicDraft(cached);
    const diff = withBefore.map((c) => ({ root: c.root, rel: c.rel, lines: diffLines(c.before ?? '', c.text ?? '') }));
    let state: DraftState;
    if (refusal?.length || !changes.length) {
      state = { id, action, message, ok: false, changes: withBefore, errors: refusal ?? [], warnings: [], diff };
    } else {
      const built = buildCandidate(this.deps.source, changes);
      const changed = new Set(changes.map((c) => c.rel));
      const errors = built.issues.filter((i) => i.severity === 'error');
      const warnings = built.issues.filter((i) => i.severity === 'warning' && changed.has(i.file));
      state = { id, action, message: errors.length ? `Chưa lưu được: ${errors.length} lỗi.` : message, ok: !errors.length && !!built.version, changes: withBefore, errors, warnings, diff, version: built.version };
    }
    this.drafts.set(id, state);
    while (this.drafts.size > KEEP_DRAFTS) this.drafts.delete(this.drafts.keys().next().value as string);
    return publicDraft(state);
  }

  private fromPlan(action: string, root: KnowledgeRoot, plan: EditPlan): Draft {
    if (!plan.ok) return this.draft(action, plan.message, [], [{ severity: 'error', file: plan.file ?? '', line: 1, message: plan.message }]);
    const rel = relative(this.dirs[root], plan.path).split(sep).join('/');
    return this.draft(action, plan.message, [{ root, rel, text: plan.after }]);
  }

  /** Teach an alias (a citizen's name for a procedure). */
  draftAlias(procedureId: string, text: string): Draft {
    return this.fromPlan('alias', 'knowledge', planAlias(this.dirs.knowledge, procedureId, text));
  }

  /** Teach an intent example. */
  draftExample(intentId: string, text: string): Draft {
    return this.fromPlan('example', 'intents', planExample(this.dirs.intents, intentId, text));
  }

  /** Change an FAQ's question, ways of asking, answer, lastVerified. */
  draftFaq(id: string, fields: Omit<FaqFields, 'id'>): Draft {
    const cur = this.readFaq(id);
    if (!cur) return this.draft('faq', `Không có câu hỏi mã "${id}".`, [], [{ severity: 'error', file: '', line: 1, message: `Không có câu hỏi mã "${id}".` }]);
    const parsed = faqRowSchema.safeParse({ ...fields, id });
    if (!parsed.success) return this.draft('faq', 'Chưa lưu được: thông tin chưa hợp lệ.', [], issuesOfRows(parsed.error, cur.file));
    const source = this.read('knowledge', cur.file) ?? '';
    const doc = parseDocument(source);
    if (!applyFaqRow({ doc, data: (doc.toJS() ?? {}) as Record<string, unknown> }, parsed.data)) return this.draft('faq', 'Không có gì thay đổi.', []);
    return this.draft('faq', `Sửa câu hỏi ${id}.`, [{ root: 'knowledge', rel: cur.file, text: serializeEdited(source, doc) }]);
  }

  /** A new FAQ file `faq/<id>.yaml`. */
  draftNewFaq(fields: FaqFields): Draft {
    const rel = `faq/${fields.id}.yaml`;
    const refuse = (message: string) => this.draft('faq.create', message, [], [{ severity: 'error', file: rel, line: 1, message }]);
    if (!FAQ_ID.test(fields.id)) return refuse('Mã câu hỏi có dạng faq.ten-chu-de (chữ thường không dấu, số, dấu "-").');
    if (this.readFaq(fields.id) || this.read('knowledge', rel) !== null) return refuse(`Đã có câu hỏi mã "${fields.id}".`);
    const parsed = faqRowSchema.safeParse(fields);
    if (!parsed.success) return this.draft('faq.create', 'Chưa lưu được: thông tin chưa hợp lệ.', [], issuesOfRows(parsed.error, rel));
    const f = parsed.data;
    const doc = new Document({ version: 1, id: f.id, question: f.question, aliases: f.aliases, keywords: [], answer: f.answer, links: [], legalBasis: [], related: [], lastVerified: f.lastVerified });
    return this.draft('faq.create', `Thêm câu hỏi ${f.id}.`, [{ root: 'knowledge', rel, text: doc.toString(PRINT) }]);
  }

  /** Change a procedure's key fields. */
  draftProcedure(id: string, fields: Omit<ProcedureKeyFields, 'id'>): Draft {
    const cur = this.readProcedure(id);
    if (!cur) return this.draft('procedure', `Không có thủ tục mã "${id}".`, [], [{ severity: 'error', file: '', line: 1, message: `Không có thủ tục mã "${id}".` }]);
    const parsed = procedureRowSchema.safeParse({ ...fields, id });
    if (!parsed.success) return this.draft('procedure', 'Chưa lưu được: thông tin chưa hợp lệ.', [], issuesOfRows(parsed.error, cur.file));
    const source = this.read('knowledge', cur.file) ?? '';
    const doc = parseDocument(source);
    const errors: SheetError[] = [];
    const changed = applyProcedureRow({ doc, data: (doc.toJS() ?? {}) as Record<string, unknown> }, parsed.data, { sheet: '-', row: 0, id, errors }, []);
    if (errors.length) return this.draft('procedure', 'Chưa lưu được.', [], errors.map((e) => ({ severity: 'error' as const, file: cur.file, line: 1, message: `${e.column ? `${e.column}: ` : ''}${e.message}` })));
    if (!changed) return this.draft('procedure', 'Không có gì thay đổi.', []);
    return this.draft('procedure', `Sửa thủ tục ${id}.`, [{ root: 'knowledge', rel: cur.file, text: serializeEdited(source, doc) }]);
  }

  /** Whole files as another staff tool produced them (the spreadsheet import), checked and saved the same way. */
  draftFiles(action: string, message: string, changes: FileChange[]): Draft {
    return this.draft(action, message, changes);
  }

  /** Put a file back as it was after (or before) a recorded save. */
  draftRestore(versionId: number, side: 'after' | 'before' = 'after'): Draft {
    const v = this.deps.history.get(versionId);
    if (!v) return this.draft('restore', `Không có phiên bản số ${versionId}.`, [], [{ severity: 'error', file: '', line: 1, message: `Không có phiên bản số ${versionId}.` }]);
    return this.draft('restore', `Khôi phục ${v.file} như ${side === 'after' ? 'sau' : 'trước'} lần lưu số ${v.id}.`, [{ root: v.root, rel: v.file, text: side === 'after' ? v.after : v.before }]);
  }

  /** A draft made earlier (the console refers to drafts by id between requests). */
  getDraft(id: string): Draft | undefined {
    const d = this.drafts.get(id);
    return d ? publicDraft(d) : undefined;
  }

  // ── checking ─────────────────────────────────────────────────────────────

  /** The teach guard's verdict for a valid draft (computed once per draft). */
  async check(draftId: string): Promise<GuardReport | undefined> {
    const d = this.drafts.get(draftId);
    if (!d?.version) return undefined;
    d.guard ??= this.deps.guard.compare(this.deps.live(), d.version);
    return d.guard;
  }

  /** How the assistant would answer `question`, now and with the draft applied. */
  async preview(draftId: string | null, question: string): Promise<{ before: PreviewAnswer; after?: PreviewAnswer }> {
    const before = await answer(this.deps.live(), question);
    const d = draftId ? this.drafts.get(draftId) : undefined;
    return d?.version ? { before, after: await answer(d.version, question) } : { before };
  }

  // ── saving ───────────────────────────────────────────────────────────────

  /** Writes a draft (see the module comment). */
  async save(draftId: string, opts: { actor: string; force?: boolean }): Promise<SaveResult> {
    const d = this.drafts.get(draftId);
    if (!d) return { ok: false, message: 'Bản nháp đã hết hạn; hãy mở lại và sửa lần nữa.', versions: [] };
    if (!d.ok || !d.version) return { ok: false, message: [d.message, ...d.errors.map((i) => `  ${i.file}:${i.line}: ${i.message}${i.hint ? ` — ${i.hint}` : ''}`)].join('\n'), versions: [] };
    for (const c of d.changes) {
      if (this.read(c.root, c.rel) !== c.before) return { ok: false, message: `Tệp ${c.rel} vừa được sửa ở nơi khác; hãy mở lại để xem bản mới rồi sửa lại.`, versions: [] };
    }
    const guard = await this.check(draftId);
    if (guard?.changes.length && !opts.force) return { ok: false, message: formatGuardReport(guard), guard, versions: [] };
    const versions: number[] = [];
    for (const c of d.changes) {
      const path = this.path(c.root, c.rel);
      if (c.text === null) rmSync(path, { force: true });
      else writeFileAtomic(path, c.text);
      versions.push(this.deps.history.record({ actor: opts.actor, action: d.action, root: c.root, file: c.rel, before: c.before, after: c.text }));
    }
    this.drafts.delete(draftId);
    this.deps.audit?.record({ actor: opts.actor, action: `knowledge.${d.action}`, target: d.changes.map((c) => c.rel).join(', '), detail: `${d.message}${opts.force && guard?.changes.length ? ` (bắt buộc, đổi ${guard.changes.length} câu kiểm tra)` : ''}` });
    await this.deps.onSaved?.(d.changes.map((c) => this.path(c.root, c.rel)));
    const guardNote = guard ? `\n${formatGuardReport(guard, { forced: opts.force })}` : '';
    return { ok: true, message: `${d.message} Đã lưu (phiên bản ${versions.join(', ')}).${guardNote}`, guard, versions };
  }
}

/** The assistant's answer to one question on one version. */
export interface PreviewAnswer {
  intent: string;
  procedure: string | null;
  faq: string | null;
  reply: string;
}

async function answer(v: KnowledgeVersion, question: string): Promise<PreviewAnswer> {
  const t = await answerEngine(v).handle({ channel: 'cli', conversationId: 'preview', userId: 'preview', messageId: 'preview', text: question, kind: 'text' });
  return { intent: t.intent, procedure: t.procedure, faq: t.faq, reply: t.reply ? numberedText(t.reply) : '' };
}

function publicDraft(d: DraftState): Draft {
  const { version: _v, guard: _g, ...rest } = d;
  return rest;
}
