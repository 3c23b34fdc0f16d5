/**
 * Loads the editable understanding data: abbreviations, filler phrases and intent
 * examples (`intents/*.yaml`). Validated with the same machinery as the knowledge
 * base, so staff get file-and-line errors for these too.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { lineOf, parseFile, zodIssues, type KnowledgeIssue } from '../knowledge/load.ts';
import { compilePhrase, type CuePhrase } from './cues.ts';
import { canonicalize, foldTokens, type ContextRule, type Lexicon } from './normalize.ts';

/** Where the bundled understanding data lives (this folder). */
export const DEFAULT_INTENTS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The intent ids of the public contract (`../shared/spec/intents.tsv`). */
export const INTENT_IDS = [
  'greeting',
  'thanks',
  'procedure.overview',
  'procedure.steps',
  'procedure.documents',
  'procedure.fee',
  'procedure.duration',
  'procedure.location',
  'procedure.online',
  'dossier.status',
  'faq',
  'handoff',
  'feedback',
  'out_of_scope',
] as const;
export type IntentId = (typeof INTENT_IDS)[number];
export type Aspect = Extract<IntentId, `procedure.${string}`>;
export const ASPECTS = INTENT_IDS.filter((i): i is Aspect => i.startsWith('procedure.'));

const phrase = z.string().trim().min(1);

/** The accented word a context rule restores: its meaning is one word, the token with accents. */
function accentOf(token: string, means: string): string | undefined {
  const word = canonicalize(means);
  return !word.includes(' ') && word !== token && foldTokens(word).join(' ') === token ? word : undefined;
}

const abbreviationsSchema = z
  .object({
    version: z.literal(1),
    abbreviations: z.record(z.string().regex(/^[a-z0-9đ ]+$/u, 'cách gõ viết thường, không dấu'), phrase),
    contextual: z
      .array(
        z
          .object({
            token: z.string().regex(/^[a-z0-9]+$/),
            means: phrase,
            after: z.array(phrase).optional(),
            near: z.array(phrase).optional(),
            before: z.array(phrase).optional(),
            atEnd: z.boolean().optional(),
          })
          .strict(),
      )
      .default([]),
    fillers: z.array(phrase).default([]),
    stopwords: z.array(phrase).default([]),
    abuse: z.array(phrase).default([]),
  })
  .strict();

const cueSchema = z
  .object({
    means: z.array(phrase).min(1),
    cues: z.array(phrase).min(1),
    unless: z.array(phrase).default([]),
    rare: z.boolean().default(false),
  })
  .strict();
const variantsSchema = z
  .object({
    version: z.literal(1),
    variants: z.array(cueSchema).default([]),
    terms: z.array(cueSchema).default([]),
  })
  .strict();

/**
 * A variant qualifier ("cấp lại", "có yếu tố nước ngoài") and the life events that
 * imply it ("bị móc túi", "chồng người Hàn"), from `intents/variants.yaml`.
 */
export interface VariantCue {
  /** Words the variants' names use. */
  means: CuePhrase[];
  cues: CuePhrase[];
  /** A message holding one of these phrases does not imply it ("nhập quốc tịch" stories involve foreigners anyway). */
  unless: CuePhrase[];
  /** `variant`: a life event selecting a variant; `term`: an everyday word for an official one. */
  kind: 'variant' | 'term';
  /** A variant chosen only on evidence ("ở nước ngoài" for a centre in Vietnam): without it, it ranks lower. */
  rare: boolean;
}

const examplesSchema = z
  .object({
    version: z.literal(1),
    intents: z.record(z.enum(INTENT_IDS as unknown as [IntentId, ...IntentId[]]), z.array(z.union([phrase, z.number()]).transform(String)).min(3)),
  })
  .strict();

/** Everything the understanding engine reads from `intents/`. */
export interface IntentData {
  lexicon: Lexicon;
  /** Filler phrases as folded token arrays, longest first. */
  fillers: string[][];
  /** The same fillers with their accents, plus the stopwords that count only when typed with accents; longest first. */
  fillerPhrases: CuePhrase[];
  /** Abusive words/phrases (accent-aware), answered with a short polite reply. */
  abuse: CuePhrase[];
  /** Life events → the procedure variant they select. */
  variants: VariantCue[];
  /** Intent → example sentences (raw, with `{p}` placeholders). */
  examples: Map<IntentId, string[]>;
}

function foldPhrase(p: string): string[] {
  return foldTokens(canonicalize(p));
}

/** Loads and checks `abbreviations.yaml` and `examples.yaml`; returns null data on error. */
export function loadIntentData(dir: string = DEFAULT_INTENTS_DIR): { data: IntentData | null; issues: KnowledgeIssue[] } {
  const issues: KnowledgeIssue[] = [];
  let lexicon: Lexicon | null = null;
  let fillers: string[][] = [];
  let fillerPhrases: CuePhrase[] = [];
  let abuse: CuePhrase[] = [];
  let variants: VariantCue[] = [];
  const abbrPath = join(dir, 'abbreviations.yaml');
  const exPath = join(dir, 'examples.yaml');
  for (const p of [abbrPath, exPath]) {
    if (!existsSync(p)) issues.push({ severity: 'error', file: p, line: 1, message: 'Thiếu tệp.', hint: 'Khôi phục tệp từ bản phát hành.' });
  }
  const abbr = existsSync(abbrPath) ? parseFile(dir, abbrPath, issues) : null;
  if (abbr) {
    const r = zodIssues(abbr.file, abbreviationsSchema, abbr.data);
    issues.push(...r.issues);
    if (r.ok) {
      const v = r.value as z.infer<typeof abbreviationsSchema>;
      const abbreviations = new Map<string, string[]>();
      for (const [k, meaning] of Object.entries(v.abbreviations)) {
        const key = foldPhrase(k);
        // Multi-word keys ("cam on") are rewritten at the token level by joining them.
        abbreviations.set(key.join(' '), foldPhrase(meaning));
      }
      const rules: ContextRule[] = v.contextual.map((c) => ({
        token: c.token,
        means: foldPhrase(c.means),
        after: c.after?.flatMap((a) => foldPhrase(a).slice(-1)),
        near: c.near?.flatMap(foldPhrase),
        before: c.before?.flatMap((a) => foldPhrase(a).slice(0, 1)),
        atEnd: c.atEnd,
        // "means: cần" for token "can": one accented word only tells which word the bare token is.
        accent: accentOf(c.token, c.means),
      }));
      lexicon = { abbreviations, rules };
      fillers = v.fillers.map(foldPhrase).sort((a, b) => b.length - a.length);
      fillerPhrases = [...v.fillers.map((f) => compilePhrase(f)), ...v.stopwords.map((f) => compilePhrase(f, true))].sort((a, b) => b.folded.length - a.folded.length);
      abuse = v.abuse.map((p) => compilePhrase(p));
    }
  }
  const varPath = join(dir, 'variants.yaml');
  const vr = existsSync(varPath) ? parseFile(dir, varPath, issues) : null;
  if (vr) {
    const r = zodIssues(vr.file, variantsSchema, vr.data);
    issues.push(...r.issues);
    if (r.ok) {
      const value = r.value as z.infer<typeof variantsSchema>;
      const compile = (kind: 'variant' | 'term') => (v: z.infer<typeof cueSchema>): VariantCue => ({
        means: v.means.map((p) => compilePhrase(p)),
        cues: v.cues.map((p) => compilePhrase(p)),
        unless: v.unless.map((p) => compilePhrase(p)),
        kind,
        rare: v.rare,
      });
      variants = [...value.variants.map(compile('variant')), ...value.terms.map(compile('term'))];
    }
  }
  const examples = new Map<IntentId, string[]>();
  const ex = existsSync(exPath) ? parseFile(dir, exPath, issues) : null;
  if (ex) {
    const r = zodIssues(ex.file, examplesSchema, ex.data);
    issues.push(...r.issues);
    if (r.ok) {
      const v = r.value as z.infer<typeof examplesSchema>;
      const seen = new Map<string, string>();
      // The same sentence written twice; an accented sentence and its accent-free copy are
      // both kept on purpose (the accents tell "cần" from "căn", the copy is how many type).
      const written = new Set<string>();
      for (const [intent, list] of Object.entries(v.intents) as [IntentId, string[]][]) {
        list.forEach((sentence, i) => {
          const key = foldPhrase(sentence).join(' ');
          const prev = seen.get(key);
          const exact = `${intent}\u0000${sentence.normalize('NFC').toLowerCase().trim()}`;
          const twice = written.has(exact);
          written.add(exact);
          if (prev !== undefined && (prev !== intent || twice)) {
            issues.push({
              severity: prev === intent ? 'warning' : 'error',
              file: ex.file.rel,
              line: lineOf(ex.file, ['intents', intent, i]),
              message: prev === intent ? `Câu mẫu "${sentence}" lặp lại.` : `Câu mẫu "${sentence}" đã có ở ý định "${prev}".`,
              hint: 'Một câu mẫu chỉ thuộc một ý định; xóa một trong hai dòng.',
            });
          } else seen.set(key, intent);
        });
        examples.set(intent, list);
      }
      for (const id of INTENT_IDS) {
        if (!examples.has(id)) issues.push({ severity: 'error', file: ex.file.rel, line: 1, message: `Thiếu câu mẫu cho ý định "${id}".`, hint: 'Mỗi ý định cần ít nhất 3 câu mẫu.' });
      }
    }
  }
  if (issues.some((i) => i.severity === 'error') || !lexicon) return { data: null, issues };
  return { data: { lexicon, fillers, fillerPhrases, abuse, variants, examples }, issues };
}
