/**
 * Staff side of the review inbox: read `review.jsonl`, group near-duplicate messages so
 * staff see "12 people asked this" once, and fold what they learn back into the data:
 * `add-alias` (a procedure's aliases) and `add-example` (intents/examples.yaml). Both
 * edit the YAML document in place (comments kept), refuse duplicates, and validate
 * afterwards, undoing the edit if it introduced an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { INTENT_IDS, loadIntentData, type IntentId } from '../intents/data.ts';
import { normalize, type Lexicon } from '../intents/normalize.ts';
import { loadKnowledge, type KnowledgeIssue } from './load.ts';
import { phraseKey, serializeEdited, writeFileAtomic, yamlFiles } from './staff-files.ts';

/** One stored review item (the shape `bot/review.ts` writes). */
export interface ReviewEntry {
  at: string;
  channel: string;
  reason: string;
  intent: string;
  procedure: string | null;
  confidence: number;
  text: string;
}

/** Reads review.jsonl; malformed lines are counted. A missing file is an empty inbox. */
export function readReviewFile(path: string, opts: { since?: string } = {}): { entries: ReviewEntry[]; bad: number } {
  if (!existsSync(path)) return { entries: [], bad: 0 };
  const entries: ReviewEntry[] = [];
  let bad = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as Partial<ReviewEntry>;
      if (typeof o.text !== 'string' || !o.text.trim()) throw new Error('no text');
      const e: ReviewEntry = {
        at: String(o.at ?? ''),
        channel: String(o.channel ?? '?'),
        reason: String(o.reason ?? '?'),
        intent: String(o.intent ?? 'out_of_scope'),
        procedure: typeof o.procedure === 'string' ? o.procedure : null,
        confidence: Number(o.confidence) || 0,
        text: o.text,
      };
      if (opts.since && e.at < opts.since) continue;
      entries.push(e);
    } catch {
      bad++;
    }
  }
  return { entries, bad };
}

/** A cluster of similar messages with what the assistant made of them. */
export interface ReviewGroup {
  /** The most frequent wording. */
  text: string;
  /** Other distinct wordings (up to 5). */
  examples: string[];
  count: number;
  reasons: Record<string, number>;
  channels: Record<string, number>;
  /** The most common understanding at the time. */
  guess: { intent: string; procedure: string | null; confidence: number };
  first: string;
  last: string;
}

export const REVIEW_DEFAULTS = Object.freeze({ threshold: 0.6 });

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (!a.size && !b.size) return 1;
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

function bump(rec: Record<string, number>, key: string): void {
  rec[key] = (rec[key] ?? 0) + 1;
}

/**
 * Groups messages whose folded, abbreviation-expanded tokens overlap (Jaccard ≥
 * threshold), biggest groups first. Exact repeats always fall together.
 */
export function groupReview(entries: readonly ReviewEntry[], opts: { lexicon?: Lexicon; threshold?: number } = {}): ReviewGroup[] {
  const threshold = opts.threshold ?? REVIEW_DEFAULTS.threshold;
  // Exact keys first, most frequent first, so each cluster is seeded by its commonest wording.
  const byKey = new Map<string, { tokens: Set<string>; items: ReviewEntry[] }>();
  for (const e of entries) {
    const tokens = normalize(e.text, opts.lexicon).tokens;
    const key = tokens.join(' ');
    const slot = byKey.get(key) ?? { tokens: new Set(tokens), items: [] };
    slot.items.push(e);
    byKey.set(key, slot);
  }
  const seeds = [...byKey.values()].sort((a, b) => b.items.length - a.items.length);
  const clusters: { tokens: Set<string>; members: { tokens: Set<string>; items: ReviewEntry[] }[] }[] = [];
  for (const s of seeds) {
    let best: (typeof clusters)[number] | undefined;
    let bestScore = threshold;
    for (const c of clusters) {
      const score = jaccard(c.tokens, s.tokens);
      if (score >= bestScore) {
        best = c;
        bestScore = score;
      }
    }
    if (best) best.members.push(s);
    else clusters.push({ tokens: s.tokens, members: [s] });
  }
  const groups = clusters.map((c) => {
    const items = c.members.flatMap((m) => m.items);
    // Every distinct wording, commonest first ("làm giấy khai sinh" and "lam giay khai sinh" both show).
    const texts = new Map<string, number>();
    for (const i of items) texts.set(i.text, (texts.get(i.text) ?? 0) + 1);
    const wordings = [...texts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
    const reasons: Record<string, number> = {};
    const channels: Record<string, number> = {};
    const guesses = new Map<string, { intent: string; procedure: string | null; n: number; conf: number }>();
    for (const i of items) {
      bump(reasons, i.reason);
      bump(channels, i.channel);
      const k = `${i.intent}|${i.procedure ?? ''}`;
      const g = guesses.get(k) ?? { intent: i.intent, procedure: i.procedure, n: 0, conf: 0 };
      g.n++;
      g.conf += i.confidence;
      guesses.set(k, g);
    }
    const top = [...guesses.values()].sort((a, b) => b.n - a.n)[0] ?? { intent: 'out_of_scope', procedure: null, n: 1, conf: 0 };
    const times = items.map((i) => i.at).filter(Boolean).sort();
    return {
      text: wordings[0] ?? '',
      examples: wordings.slice(1, 6),
      count: items.length,
      reasons,
      channels,
      guess: { intent: top.intent, procedure: top.procedure, confidence: Math.round((top.conf / top.n) * 100) / 100 },
      first: times[0] ?? '',
      last: times[times.length - 1] ?? '',
    };
  });
  return groups.sort((a, b) => b.count - a.count || a.text.localeCompare(b.text));
}

const REASON_LABEL: Record<string, string> = { unmatched: 'chưa hiểu', 'low-confidence': 'độ tin cậy thấp', clarify: 'phải hỏi lại', unhelpful: 'bị đánh giá chưa hữu ích' };

/** How the current knowledge understands a text (filled in by the caller, which owns the understander). */
export type CurrentGuess = (text: string) => { intent: string; procedure: string | null; faq: string | null; confidence: number };

function shellQuote(s: string): string {
  return `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** The review listing for staff, with a suggested command per group. */
export function formatReview(groups: readonly ReviewGroup[], opts: { total: number; bad?: number; top?: number; current?: CurrentGuess } = { total: 0 }): string {
  const top = opts.top ?? 30;
  const lines: string[] = [];
  if (!groups.length) return 'Hộp thư rà soát trống: chưa có tin nhắn nào trợ lý không hiểu.';
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  groups.slice(0, top).forEach((g, i) => {
    lines.push(`${i + 1}. ${g.count} lần — «${g.text}»`);
    if (g.examples.length) lines.push(`   Cách viết khác: ${g.examples.map((e) => `«${e}»`).join(', ')}`);
    lines.push(
      `   Lý do: ${Object.entries(g.reasons)
        .map(([k, n]) => `${REASON_LABEL[k] ?? k} ${n}`)
        .join(', ')} · Kênh: ${Object.entries(g.channels)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')} · ${g.first.slice(0, 10)} → ${g.last.slice(0, 10)}`,
    );
    lines.push(`   Lúc đó trợ lý đoán: ${g.guess.intent}${g.guess.procedure ? ` / ${g.guess.procedure}` : ''} (độ tin cậy ${pct(g.guess.confidence)})`);
    const now = opts.current?.(g.text);
    if (now) lines.push(`   Bây giờ trợ lý hiểu: ${now.intent}${now.procedure ? ` / ${now.procedure}` : ''}${now.faq ? ` / ${now.faq}` : ''} (độ tin cậy ${pct(now.confidence)})`);
    const procedure = now?.procedure ?? g.guess.procedure;
    if (procedure) lines.push(`   Nếu đúng là thủ tục này: npm run kb -- add-alias ${procedure} ${shellQuote(g.text)}`);
    else lines.push(`   Nếu là câu hỏi chung: npm run kb -- add-example <ý định, vd. faq hoặc out_of_scope> ${shellQuote(g.text)}`);
  });
  if (groups.length > top) lines.push(`… và ${groups.length - top} nhóm nhỏ hơn (thêm --top ${groups.length} để xem hết).`);
  lines.push('', `Tổng: ${opts.total} tin nhắn, ${groups.length} nhóm${opts.bad ? `, ${opts.bad} dòng hỏng bị bỏ qua` : ''}.`);
  lines.push('Tên gọi khác (add-alias) nên là cách người dân gọi tên thủ tục, bỏ phần hỏi như "ở đâu", "bao nhiêu tiền".');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Folding staff decisions back into the data.

export interface FoldResult {
  ok: boolean;
  /** Vietnamese, for the staff member. */
  message: string;
  file?: string;
  /** Errors that made the change be undone. */
  issues?: KnowledgeIssue[];
}

function errorKeys(issues: readonly KnowledgeIssue[]): Set<string> {
  return new Set(issues.filter((i) => i.severity === 'error').map((i) => `${i.file}|${i.message}`));
}

function newErrors(before: Set<string>, after: readonly KnowledgeIssue[]): KnowledgeIssue[] {
  return after.filter((i) => i.severity === 'error' && !before.has(`${i.file}|${i.message}`));
}

/** An edit worked out but not written: the file's text before and after (for the teach guard and the console). */
export type EditPlan = { ok: false; message: string; file?: string } | { ok: true; path: string; before: string; after: string; message: string };

/** Adds `text` to a procedure's aliases. Refuses duplicates (here or on another procedure). */
export function addAlias(knowledgeDir: string, procedureId: string, rawText: string): FoldResult {
  const plan = planAlias(knowledgeDir, procedureId, rawText);
  if (!plan.ok) return plan;
  return writeAndValidate(plan.path, plan.before, plan.after, () => loadKnowledge(knowledgeDir).issues, knowledgeDir, plan.message);
}

/** The alias edit `addAlias` would make, without writing it. */
export function planAlias(knowledgeDir: string, procedureId: string, rawText: string): EditPlan {
  const text = rawText.replace(/\s+/g, ' ').trim();
  const key = phraseKey(text);
  if (!key) return { ok: false, message: 'Tên gọi trống: hãy ghi một cụm từ, ví dụ "làm sổ đỏ".' };
  const procDir = join(knowledgeDir, 'procedures');
  let target: { path: string; source: string } | undefined;
  for (const path of yamlFiles(procDir)) {
    let data: { id?: unknown; name?: unknown; aliases?: unknown; keywords?: unknown };
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
      data = (parseDocument(source).toJS() ?? {}) as typeof data;
    } catch {
      continue;
    }
    const phrases = [data.name, ...(Array.isArray(data.aliases) ? data.aliases : []), ...(Array.isArray(data.keywords) ? data.keywords : [])].filter((p): p is string => typeof p === 'string');
    const clash = phrases.find((p) => phraseKey(p) === key);
    if (data.id === procedureId) {
      target = { path, source };
      if (clash) return { ok: false, message: `Thủ tục ${procedureId} đã có "${clash}" (trùng với "${text}" khi bỏ dấu). Không thêm.`, file: relative(knowledgeDir, path) };
    } else if (clash) {
      return { ok: false, message: `"${text}" trùng với "${clash}" của thủ tục ${String(data.id)}. Một tên gọi chỉ nên thuộc một thủ tục; không thêm.`, file: relative(knowledgeDir, path) };
    }
  }
  if (!target) return { ok: false, message: `Không có thủ tục mã "${procedureId}" trong ${procDir}. Xem mã ở dòng "id:" của tệp thủ tục.` };

  const doc = parseDocument(target.source);
  const seq = doc.get('aliases', true);
  if (isSeq(seq)) (seq as YAMLSeq).add(doc.createNode(text));
  else doc.set('aliases', doc.createNode([text]));
  return { ok: true, path: target.path, before: target.source, after: serializeEdited(target.source, doc), message: `Đã thêm tên gọi "${text}" vào thủ tục ${procedureId}.` };
}

/** Adds `text` as an example of an intent in intents/examples.yaml. Refuses duplicates in any intent. */
export function addExample(intentsDir: string, intentId: string, rawText: string): FoldResult {
  const plan = planExample(intentsDir, intentId, rawText);
  if (!plan.ok) return plan;
  return writeAndValidate(plan.path, plan.before, plan.after, () => loadIntentData(intentsDir).issues, intentsDir, plan.message);
}

/** The example edit `addExample` would make, without writing it. */
export function planExample(intentsDir: string, intentId: string, rawText: string): EditPlan {
  const text = rawText.replace(/\s+/g, ' ').trim();
  if (!(INTENT_IDS as readonly string[]).includes(intentId)) {
    return { ok: false, message: `Không có ý định "${intentId}". Các ý định: ${INTENT_IDS.join(', ')}.` };
  }
  const key = phraseKey(text);
  if (!key) return { ok: false, message: 'Câu mẫu trống.' };
  const path = join(intentsDir, 'examples.yaml');
  if (!existsSync(path)) return { ok: false, message: `Không thấy tệp ${path}.` };
  const source = readFileSync(path, 'utf8');
  const doc = parseDocument(source);
  const intents = doc.get('intents', true);
  if (!isMap(intents)) return { ok: false, message: 'Tệp examples.yaml không có mục "intents:".' };
  for (const pair of (intents as YAMLMap).items) {
    const id = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
    const list = isSeq(pair.value) ? (pair.value as YAMLSeq).toJSON() : [];
    const clash = (Array.isArray(list) ? list : []).find((s: unknown) => phraseKey(String(s)) === key);
    if (clash !== undefined) {
      return { ok: false, message: id === intentId ? `Ý định ${intentId} đã có câu mẫu "${String(clash)}". Không thêm.` : `Câu "${text}" đã là câu mẫu của ý định ${id} ("${String(clash)}"). Một câu mẫu chỉ thuộc một ý định; không thêm.`, file: 'examples.yaml' };
    }
  }
  const seq = (intents as YAMLMap).get(intentId as IntentId, true);
  if (isSeq(seq)) (seq as YAMLSeq).add(doc.createNode(text));
  else (intents as YAMLMap).set(intentId, doc.createNode([text]));
  return { ok: true, path, before: source, after: serializeEdited(source, doc), message: `Đã thêm câu mẫu "${text}" cho ý định ${intentId}.` };
}

function writeAndValidate(path: string, before: string, after: string, validate: () => KnowledgeIssue[], root: string, okMessage: string): FoldResult {
  const was = errorKeys(validate());
  writeFileAtomic(path, after);
  const added = newErrors(was, validate());
  const file = relative(root, path);
  if (added.length) {
    writeFileAtomic(path, before);
    return { ok: false, message: `Thay đổi gây lỗi nên đã hoàn tác:\n${added.map((i) => `  ${i.file}:${i.line}: ${i.message}${i.hint ? ` — ${i.hint}` : ''}`).join('\n')}`, file, issues: added };
  }
  return { ok: true, message: `${okMessage} (tệp ${file}; kiểm tra hợp lệ: đạt${was.size ? `; kho vẫn còn ${was.size} lỗi cũ, chạy "npm run kb -- validate" để xem` : ''}).`, file };
}
