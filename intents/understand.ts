/**
 * The understanding engine: message + conversation context → what the citizen wants.
 *
 * Pipeline (each step cheap, all data editable in YAML):
 *  1. entities on the raw text (dossier codes before punctuation is stripped);
 *  2. normalization (NFC, tone placement, folding, abbreviations) and one-edit typo
 *     correction against the known vocabulary;
 *  3. procedure and FAQ retrieval over names, aliases and keywords;
 *  4. intent classification of what is left once the procedure's words are masked,
 *     so "lệ phí", "ở đâu", "cần gì" decide the aspect whatever the procedure;
 *  5. a decision that weighs both, uses the conversation for follow-ups and pending
 *     numbered options, and says how sure it is.
 * Imports no channel, queue or network code.
 */
import Fuse from 'fuse.js';
import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance/index.js';
import type { Faq, Procedure } from '../knowledge/schema.ts';
import { NaiveBayes } from './classifier.ts';
import { ASPECTS, INTENT_IDS, type Aspect, type IntentData, type IntentId } from './data.ts';
import { findAge, findChannel, findDossierCode } from './entities.ts';
import { describeProcedure } from '../knowledge/describe.ts';
import { contentMask, findPhrases, type CuePhrase } from './cues.ts';
import { EvidenceIndex } from './evidence.ts';
import { Families } from './family.ts';
import { canonicalize, expand, fold, foldTokens, normalize, type Normalized } from './normalize.ts';
import { contentPositions, FAQ_SCORING, PROCEDURE_SCORING, PhraseIndex, TypoCorrector, weigh, type IndexEntry, type RetrievalMatch, type WeightedQuery } from './retrieval.ts';
import { clauseWeights, ROLE_WEIGHTS, splitClauses, type Clause } from './story.ts';
import type { ChannelMethod } from '../knowledge/schema.ts';

/** Tunable thresholds in one frozen object (Fuse.js habit). */
export const UNDERSTANDING_DEFAULTS = Object.freeze({
  /** Procedure score at which we answer without asking. */
  procedureStrong: 0.5,
  /** Share of its best name a strong candidate's message must contain. */
  procedureStrongCoverage: 0.45,
  /** Below this a procedure candidate is not worth mentioning. */
  procedureWeak: 0.3,
  /** Second candidate within this ratio of the first → ask which one. */
  clarifyRatio: 0.9,
  /** …and within this ratio, ask even when the first is named in full. */
  nearTieRatio: 0.97,
  faqStrong: 0.55,
  /** An aspect question naming no procedure goes to an FAQ matching at least this well. */
  faqForBareAspect: 0.45,
  /** A procedure found by a rare typed word beats an FAQ found only by aspect words ("nộp hồ sơ ở đâu") from this score. */
  faqOnlyAsksProcedure: 0.35,
  /** Probability a non-procedure intent needs to override a clearly named procedure. */
  overrideProcedure: 0.75,
  /** Prior weight of procedure aspects over other intents when a procedure is named. */
  aspectPrior: 4,
  /** Below this the aspect is unclear and the answer is the overview. */
  aspectMin: 0.45,
  /** How much likelier a word must be under the chosen aspect than under every other. */
  aspectCueRatio: 3,
  /** Probability for handoff/feedback/dossier/greeting/thanks without a procedure. */
  socialMin: 0.45,
  maxOptions: 3,
  /** A second aspect asked in its own part of the message ("… và nộp ở đâu") needs this probability there. */
  secondAspectMin: 0.6,
  /** Variants of a family offered beside the common one. */
  maxVariants: 3,
  /** Weight of the words a life event implies ("bị mất" → "cấp lại") against the words typed. */
  impliedWeight: 0.6,
  /** Weight of the official words an everyday word stands for ("sổ đỏ" → "giấy chứng nhận quyền sử dụng đất"). */
  termWeight: 0.8,
  /** A sibling done at the level the citizen names beats a leader done elsewhere within this score. */
  toldLevelMargin: 0.06,
  /** Least IDF mass of a qualifier's words for it to be a case (not "cấp" alone). */
  qualifierMinIdf: 4,
  /** Rank factor of a rare variant ("ở nước ngoài") the message gives no sign of. */
  rareVariant: 0.9,
  /** Share of a variant's extra words the message must say or imply for the variant to beat its head. */
  variantEvidence: 0.5,
  /** A sibling record wins when the message evidences its differing words by this much more (0–1). */
  siblingMargin: 0.25,
  /** …or it alone holds differing words the message says, of at least this IDF in all. */
  siblingOwnIdf: 3,
  /** Rank factor of a record naming another action ("Cấp đổi…", "Rút…") the message does not mention. */
  untoldAction: 0.97,
  /** Name coverage a national record named with its action needs to take the lead from a leader found only by what it is about. */
  namedOverMention: 0.9,
  /** A close record naming the action the message tells ("bị mất" → "Cấp lại …") on the leader's subject takes the lead from this share of its rank. */
  toldAction: 0.9,
  /** A candidate whose name holds a case the message tells, and the leader's does not, takes the lead from this share of its score. */
  caseOverTop: 0.75,
  /** Name coverage the asking clauses alone must give a candidate for it to be the one asked about. */
  askedCoverage: 0.75,
  /** …and the score it must reach there: named, not only mentioned ("ở trọ" is where, not what). */
  askedScore: 0.7,
  /** …and the share of the leader's score it must have on the whole message. */
  askedOverStory: 0.7,
  /** Least IDF of a word the asking clauses name and the leader does not explain. */
  askedRareIdf: 3,
  /** Name coverage and score a pointed paper's phrase ("giấy xác nhận hai số" of "xin giấy này") must give its record. */
  pointedCoverage: 0.35,
  pointedScore: 0.45,
  /** The same share when the question points back to the story ("xin giấy đó thế nào"). */
  pointedBack: 0.55,
  /** A more specific close candidate ("… chữ ký người dịch") takes the lead from this share of the leader's score… */
  refinedOverTop: 0.8,
  /** …when the leader is named by two words at most and the candidate by four times as many. */
  refinedOverShort: 0.7,
  /** …when it explains a typed word pair of at least this IDF that the leader does not. */
  refinedPairIdf: 5,
  /** …whose new word has at least this IDF ("dịch", not "giấy"). */
  refinedWordIdf: 2.5,
  /** A close candidate whose name is the leader's without words the message does not say takes the lead from this share of its rank. */
  untoldInsertion: 0.85,
  /** …when the message evidences less than this share of the inserted words (0–1). */
  untoldInsertionEvidence: 0.3,
});

/** A message after normalization, cut into clauses, with the views each matcher uses. */
interface Prepared {
  norm: Normalized;
  /** Normalized, corrected tokens. */
  tokens: string[];
  /** Accented form typed per token (null when typed without accents or rewritten). */
  accents: (string | null)[];
  /** As `accents`, but in a message typed with accents a plain word is its own form ("do" ≠ "đò"). */
  exact: (string | null)[];
  /** Weight per token from the role of its clause (story.ts). */
  weights: number[];
  clauses: Clause[];
  unknown: number;
  /** Tokens for the classifier and for retrieval, words of a different accented reading hidden. */
  cls: string[];
  ret: string[];
}

/** What the dialogue remembers between messages that understanding needs. */
export interface UnderstandingContext {
  lastProcedure?: string;
  lastAspect?: Aspect;
  /** Numbered choices offered in the last reply. */
  pendingOptions?: { ids: string[]; aspect: Aspect };
}

export interface Understanding {
  intent: IntentId;
  procedure: string | null;
  faq: string | null;
  dossierCode: string | null;
  /** Text that looked like a dossier code but has the wrong shape. */
  malformedCode: string | null;
  confidence: number;
  /** Other procedures that fit, best first (for "did you mean"). */
  alternatives: { procedure: string; score: number }[];
  /** True when the reply should ask the citizen to choose among alternatives. */
  clarify: boolean;
  /** The procedure came from the conversation, not from this message. */
  followUp: boolean;
  /** The message chose one of the pending numbered options. */
  choseOption: boolean;
  /** follow / unfollow a dossier. */
  command: 'follow' | 'unfollow' | null;
  entities: { age?: number; channel?: ChannelMethod };
  /** Tokens after normalization and correction (for logs and the review inbox). */
  tokens: string[];
  /**
   * Abusive wording: `strong` when unmistakable, `weak` when only an ambiguous word typed
   * without accents matched ("deo" may be "đeo"): the dialogue adds its polite note only
   * when nothing else in the message makes sense.
   */
  abuse: 'strong' | 'weak' | null;
  /** Other aspects the message asks about as well ("cần giấy tờ gì và nộp ở đâu"). */
  aspects: Aspect[];
  /** Variants of the chosen procedure that differ for a citizen, when the message named none. */
  variants: string[];
}

const CHIT_CHAT: IntentId[] = ['out_of_scope'];
const GREETING_START = /^ (xin chao|chao|hello|hi|alo) /;
const SOCIAL: IntentId[] = ['greeting', 'thanks', 'handoff', 'feedback', 'dossier.status', 'out_of_scope', 'faq'];
const OVERRIDES_PROCEDURE: IntentId[] = ['handoff', 'feedback', 'dossier.status'];
const ORDINALS: Record<string, number> = { mot: 1, nhat: 1, hai: 2, nhi: 2, ba: 3, bon: 4, tu: 4, nam: 5 };

/**
 * Where the core of an official name ends and its qualifications begin: "Cấp giấy phép
 * xây dựng sửa chữa, cải tạo | đối với công trình cấp III…", "Khai thuế | đối với cá nhân…".
 */
const NAME_TAIL = /\s(?:đối với|trong trường hợp|thực hiện tại|thực hiện bằng|bằng dịch vụ công|qua dịch vụ công|tại|theo|do|của|để)\s|\s*[(;:]/iu;

/** Folded words of actions and of "to register", which name no thing on their own. */
const ACTION_WORDS: ReadonlySet<string> = new Set(['cap', 'lai', 'doi', 'moi', 'dang', 'ky', 'dieu', 'chinh', 'thay', 'bo', 'sung', 'gia', 'han', 'xoa', 'thu', 'hoi', 'huy', 'tam', 'ngung', 'cham', 'dut', 'xac', 'nhan']);

/** The name without "Thủ tục" and without parenthesised parts ("(thực hiện tại cấp tỉnh)"). */
export function coreName(name: string): string {
  return name.replace(/^thủ tục\s+/iu, '').replace(/\([^)]*\)?/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** The part of a name before its qualifying tail, when that part has two words or more. */
export function nameCore(name: string): string {
  const n = name.replace(/^thủ tục\s+/iu, '');
  const cut = n.search(NAME_TAIL);
  const core = cut > 0 ? n.slice(0, cut).trim() : '';
  return core && core.split(' ').length >= 2 ? core : coreName(n);
}

/** Procedure phrases for the index: name without the "Thủ tục" prefix, its core, aliases, keywords. */
function procedurePhrases(p: Procedure): { text: string; weight: number; name: boolean; cut?: boolean }[] {
  // What a name excludes is not what it names: "… quà tặng là tài sản khác, không phải là bất động sản",
  // "… chuyển quyền sở hữu phương tiện nhưng không thay đổi cơ quan đăng ký" (its sibling "… đồng
  // thời thay đổi cơ quan đăng ký" is the one that names the change).
  const name = p.name.replace(/^thủ tục\s+/iu, '').replace(/,?\s*(?:không phải là|không bao gồm|(?:nhưng\s+)?không\s+(?:làm\s+)?thay đổi)\s[^;,()]*/giu, '').trim();
  const phrases: { text: string; weight: number; name: boolean; cut?: boolean }[] = [
    { text: name, weight: 1, name: true },
    ...p.aliases.map((a) => ({ text: a, weight: 1, name: true })),
    // Keywords are situations and papers ("sắp hết hạn", "mở cửa hàng", "xin việc"), not names: they weigh half.
    ...p.keywords.map((k) => ({ text: k, weight: 0.5, name: false })),
  ];
  // A long official name is mostly qualifications a citizen never types: its core counts too.
  const core = nameCore(name);
  if (core.length < name.length - 3) phrases.push({ text: core, weight: 0.95, name: true, cut: true });
  // "Tách thửa hoặc hợp thửa đất", "Khai quyết toán thuế/ Hoàn thuế…": each alternative is a
  // name of its own ("Đăng ký/Điều chỉnh…": a bare "đăng ký" is not).
  // An alternative that is only an action ("Cấp lại | hoặc điều chỉnh Giấy chứng nhận …") names nothing.
  const alt = coreName(name).split(/\s+hoặc\s+/iu);
  if (alt.length === 2) for (const a of alt) if (a.split(' ').length >= 2 && !fold(a).split(/\s+/u).every((w) => ACTION_WORDS.has(w))) phrases.push({ text: a, weight: 0.95, name: true });
  const slash = coreName(name).split(/\s*\/\s*/u);
  if (slash.length === 2) for (const a of slash) if (a.split(' ').length >= 3) phrases.push({ text: a, weight: 0.95, name: true });
  return phrases;
}

/** Built once per knowledge version; `understand` is then pure and fast. */
export class Understander {
  readonly procedures = new Map<string, Procedure>();
  readonly faqs = new Map<string, Faq>();
  private readonly procIndex: PhraseIndex;
  private readonly faqIndex: PhraseIndex;
  private readonly classifier = new NaiveBayes<IntentId>();
  private readonly corrector: TypoCorrector;
  private readonly known = new Set<string>();
  private readonly aliasFuse: Fuse<{ id: string; text: string }>;
  /** Full tokens of each procedure's names and aliases, for positional masking. */
  private readonly phraseTokens = new Map<string, string[][]>();
  /** Contiguous word runs of each procedure's names, built on first use. */
  private readonly gramCache = new Map<string, Set<string>>();
  /** Single-token fillers ("cần", "gì"): never masked on their own. */
  private readonly fillerWords: Set<string>;
  /** Accented forms behind each folded token, in intent examples and in the knowledge. */
  private readonly exampleForms = new Map<string, Set<string>>();
  private readonly knowledgeForms = new Map<string, Set<string>>();
  /** Every accented word seen anywhere: a typed form in here is a real word, not a typo. */
  private readonly accentedWords = new Set<string>();
  /** Words the knowledge and examples write without accents ("sinh", "visa"). */
  private readonly plainWords = new Set<string>();
  readonly buildMs: number;
  /** Abusive phrases (from abbreviations.yaml), matched accent-aware. */
  readonly abuseList: CuePhrase[];
  /** Folded abusive words that are also ordinary words once folded ("đĩ"/"đi", "đéo"/"đeo"). */
  private readonly ambiguousAbuse = new Set<string>();
  /** The words of rare variants' qualifiers ("ở nước ngoài"), content words only. */
  private readonly rareMeans: string[][];
  /** Content words of each procedure's name (for rare-variant checks). */
  private readonly nameTokens = new Map<string, string[]>();
  /** …and of its core, before a qualifying tail ("Gia hạn tạm trú cho người nước ngoài | tại Việt Nam"). */
  private readonly coreTokens = new Map<string, string[]>();
  /** National level copies of curated entries ("… (thực hiện tại cấp tỉnh)") → the entry. */
  private readonly levelCopyOf = new Map<string, string>();
  /** Procedure ids by index position. */
  private readonly procIds: string[];
  /** Families of procedures derived from their names (same order as the index). */
  private readonly families: Families;
  /** What each procedure's record says about itself (same order as the index). */
  private readonly evidence: EvidenceIndex;
  /** Every entry's cue phrases in one list (matched in one pass), with the entry each belongs to. */
  private readonly allCues: { phrases: CuePhrase[]; owner: number[] };
  private readonly allUnless: { phrases: CuePhrase[]; owner: number[] };
  /** The variants.yaml case of a variant's qualifier against a head (see `variantsOf`), by variant × size + head. */
  private readonly caseMemo = new Map<number, number>();
  /** Variant cues with their implied words, fillers removed. */
  private readonly variantCues: { means: string[][]; cues: CuePhrase[]; unless: CuePhrase[]; weight: number; kind: 'variant' | 'term' }[];

  constructor(
    procedures: readonly Procedure[],
    faqs: readonly Faq[],
    private readonly data: IntentData,
    readonly options = UNDERSTANDING_DEFAULTS,
  ) {
    const t0 = performance.now();
    this.abuseList = data.abuse;
    this.fillerWords = new Set(data.fillers.filter((f) => f.length === 1).map((f) => f[0] as string));
    const tok = (text: string) => expand(foldTokens(canonicalize(text)), data.lexicon);
    // Content words of knowledge text: fillers removed accent-aware ("căn" stays, "cần" goes).
    // A name is tokenized for several uses (phrases, core, family, rare checks): once each.
    const contentMemo = new Map<string, { all: string[]; content: string[]; accents: (string | null)[] }>();
    const content = (text: string) => {
      const hit = contentMemo.get(text);
      if (hit) return hit;
      const n = normalize(text, data.lexicon);
      const keep = contentMask(n.tokens, n.accents, data.fillerPhrases);
      const out = { all: n.tokens, content: n.tokens.filter((_, i) => keep[i]), accents: n.accents.filter((_, i) => keep[i]) };
      contentMemo.set(text, out);
      return out;
    };
    const learnForms = (text: string, into?: Map<string, Set<string>>) => {
      for (const w of canonicalize(text).split(' ')) {
        const f = fold(w);
        if (w && f === w) this.plainWords.add(w);
        if (!w || f === w) continue;
        this.accentedWords.add(w);
        if (!into) continue;
        let set = into.get(f);
        if (!set) into.set(f, (set = new Set()));
        set.add(w);
      }
    };
    for (const p of procedures) this.procedures.set(p.id, p);
    for (const f of faqs) this.faqs.set(f.id, f);

    const procEntries: IndexEntry[] = [];
    const aliasList: { id: string; text: string }[] = [];
    for (const p of this.procedures.values()) {
      for (const ph of procedurePhrases(p)) learnForms(ph.text, this.knowledgeForms);
      if (p.status === 'curated') learnForms(`${p.summary} ${p.steps.join(' ')} ${p.result}`);
      const phrases = procedurePhrases(p).flatMap((ph) => {
        const { all, content: words, accents } = content(ph.text);
        // A core cut down to generic words ("Quyết định hỗ trợ | đối với … chăn nuôi" → "quyết
        // định") names nothing: only the whole name counts.
        if (ph.cut && words.length < Math.max(2, all.length * 0.6)) return [];
        // A phrase reduced to one short word ("mất thẻ" → "mat") is weak evidence on its own.
        const weak = words.length === 1 && (words[0] as string).length < 5;
        return [{ tokens: words, accents, weight: ph.weight * (weak ? 0.6 : 1), full: all, name: ph.name, keyword: !ph.name }];
      });
      // Keywords help find the procedure but are not masked: they may be aspect words.
      this.phraseTokens.set(p.id, phrases.filter((ph) => ph.name).map((ph) => ph.full));
      procEntries.push({ id: p.id, phrases, priority: p.status === 'curated' ? p.priority : Math.min(p.priority, 30) });
      if (p.status === 'curated') for (const a of [p.name, ...p.aliases]) aliasList.push({ id: p.id, text: tok(a).join(' ') });
    }
    this.procIndex = new PhraseIndex(procEntries);
    const procList = [...this.procedures.values()];
    this.procIds = procList.map((p) => p.id);
    const famTokens = (text: string) => content(text).content;
    this.families = new Families(
      procList.map((p) => ({
        // The whole name (parentheses aside): "… của người nước ngoài" is the qualifier.
        core: famTokens(coreName(p.name)),
        short: famTokens(nameCore(p.name)),
        // A curated name without its opening "Đăng ký" heads too: national records often drop it
        // ("Thay đổi, cải chính … có yếu tố nước ngoài" is a variant of "Đăng ký thay đổi, cải chính …").
        heads: p.status === 'curated' ? [...p.aliases.map(famTokens), ...withoutRegister(famTokens(coreName(p.name)))] : undefined,
        curated: p.status === 'curated',
      })),
    );
    this.evidence = new EvidenceIndex(procList.length, (i) => describeProcedure(procList[i] as Procedure), (i) => procList[i] as Procedure);
    this.variantCues = data.variants.map((v) => ({
      means: v.means.map((m) => content(m.text).content).filter((m) => m.length),
      cues: v.cues,
      unless: v.unless,
      weight: v.kind === 'term' ? options.termWeight : options.impliedWeight,
      kind: v.kind,
    }));
    const flatten = (pick: (v: (typeof this.variantCues)[number]) => CuePhrase[]) => {
      const phrases: CuePhrase[] = [];
      const owner: number[] = [];
      this.variantCues.forEach((v, i) => {
        for (const c of pick(v)) {
          phrases.push(c);
          owner.push(i);
        }
      });
      return { phrases, owner };
    };
    this.allCues = flatten((v) => v.cues);
    this.allUnless = flatten((v) => v.unless);
    this.rareMeans = data.variants.filter((v) => v.rare).flatMap((v) => v.means.map((m) => content(m.text).content)).filter((m) => m.length);
    for (const p of procList) {
      this.nameTokens.set(p.id, content(coreName(p.name)).content);
      this.coreTokens.set(p.id, content(coreName(nameCore(p.name))).content);
    }
    // A national record that is a curated entry's procedure done at another level: its name is
    // the entry's name or alias plus "(thực hiện tại cấp tỉnh)" ("Cấp lại thẻ căn cước (thực hiện
    // tại cấp tỉnh)" / the curated "Cấp lại thẻ căn cước").
    const curatedNames = new Map<string, string>();
    for (const p of procList) {
      if (p.status !== 'curated') continue;
      for (const n of [p.name, ...p.aliases]) {
        const key = content(coreName(n)).content.join(' ');
        if (key.split(' ').length >= 3 && !curatedNames.has(key)) curatedNames.set(key, p.id);
      }
    }
    for (const p of procList) {
      if (p.status === 'curated' || !LEVEL_COPY.test(p.name)) continue;
      const of = curatedNames.get((this.nameTokens.get(p.id) ?? []).join(' '));
      if (of) this.levelCopyOf.set(p.id, of);
    }
    this.faqIndex = new PhraseIndex(
      [...this.faqs.values()].map((f) => ({
        id: f.id,
        priority: 50,
        phrases: [
          { tokens: tok(f.question), weight: 0.9 },
          ...f.aliases.map((a) => ({ tokens: tok(a), weight: 1 })),
          ...f.keywords.map((k) => ({ tokens: tok(k), weight: 0.75 })),
        ],
      })),
      FAQ_SCORING,
    );
    for (const f of this.faqs.values()) {
      for (const t of [f.question, ...f.aliases, ...f.keywords]) learnForms(t, this.knowledgeForms);
      learnForms(f.answer);
    }
    for (const intent of INTENT_IDS) {
      for (const ex of data.examples.get(intent) ?? []) {
        learnForms(ex.replace(/\{p\}/g, ' '), this.exampleForms);
        const tokens = maskPrefixVerbs(tok(ex.replace(/\{p\}/g, ' qqpqq ')), (t) => t === 'qqpqq').filter((t) => t !== 'qqpqq');
        if (tokens.length) this.classifier.add(intent, tokens);
        for (const t of tokens) this.known.add(t);
      }
    }
    for (const v of [this.procIndex.vocabulary, this.faqIndex.vocabulary]) for (const t of v) this.known.add(t);
    for (const f of data.fillers) for (const t of f) this.known.add(t);
    for (const [k, v] of data.lexicon.abbreviations) {
      this.known.add(k);
      for (const t of v) this.known.add(t);
    }
    const freq = (w: string) => this.procIndex.documentFrequency(w) + this.faqIndex.documentFrequency(w) + (this.classifier.knows(w) ? 1 : 0);
    this.corrector = new TypoCorrector(this.known, freq, (a, b) => DamerauLevenshteinDistance(a, b));
    this.aliasFuse = new Fuse(aliasList, { keys: ['text'], includeScore: true, ignoreLocation: true, threshold: 0.3 });
    // An abusive word typed without accents is only a guess when the same letters are an
    // ordinary word the knowledge or the examples use ("di" is mostly "đi").
    for (const a of this.abuseList) {
      if (a.folded.length !== 1) continue;
      const f = a.folded[0] as string;
      const forms = [...(this.exampleForms.get(f) ?? []), ...(this.knowledgeForms.get(f) ?? [])];
      if (forms.some((w) => w !== a.accented[0]) || this.known.has(f) || COMMON_FOLDED.has(f)) this.ambiguousAbuse.add(f);
    }
    this.buildMs = performance.now() - t0;
  }

  /** Number of procedures searchable. */
  get size(): number {
    return this.procIndex.size;
  }

  /** Normalizes with this engine's lexicon (for logs and tools). */
  normalize(text: string): Normalized {
    return normalize(text, this.data.lexicon);
  }

  /**
   * Removes the words that name the procedure, by position: the longest runs of the
   * message that appear contiguously in one of its names or aliases. A lone filler
   * ("cần", which folds like "căn") is never masked on its own.
   */
  private maskProcedure(tokens: readonly string[], procedureId: string, out: readonly string[] = tokens, focus?: readonly boolean[], accents?: readonly (string | null)[]): string[] {
    let grams = this.gramCache.get(procedureId);
    if (!grams) {
      grams = new Set<string>();
      for (const ph of this.phraseTokens.get(procedureId) ?? []) for (let i = 0; i < ph.length; i++) for (let j = i + 1; j <= ph.length && j - i <= 8; j++) grams.add(ph.slice(i, j).join(' '));
      if (this.gramCache.size > 2000) this.gramCache.clear();
      this.gramCache.set(procedureId, grams);
    }
    const content = accents ? contentMask(tokens, accents, this.data.fillerPhrases) : contentPositions(tokens, this.data.fillers);
    const keep: string[] = [];
    let i = 0;
    while (i < tokens.length) {
      // The longest run starting here: runs of a name are prefix-closed (every prefix of
      // one is one too), so grow it word by word until it stops being one.
      let len = 0;
      let run = '';
      for (let j = i; j < Math.min(tokens.length, i + 8); j++) {
        run = j === i ? (tokens[j] as string) : `${run} ${tokens[j]}`;
        if (!grams.has(run)) break;
        len = j + 1 - i;
      }
      // A lone word is masked only when it is content, not part of a question phrase ("ở đâu").
      if (len >= 2 || (len === 1 && content[i] && !this.fillerWords.has(tokens[i] as string))) {
        i += len;
        continue;
      }
      if (!focus || focus[i]) keep.push(out[i] as string);
      i++;
    }
    return keep;
  }

  /**
   * Normalized, corrected tokens plus two views of them: for the classifier and for
   * retrieval, a word typed with accents that are a different real word from every form
   * the examples (or the knowledge) know under the same folded key is hidden — "nội"
   * is not "nơi", "cười" is not "cưới". Without accents nothing is hidden.
   */
  private prepare(text: string): Prepared {
    const clauses = splitClauses(text, this.data.lexicon);
    const norm: Normalized = {
      raw: text,
      canon: clauses.map((c) => c.norm.canon).join(' '),
      folded: clauses.flatMap((c) => c.norm.folded),
      tokens: clauses.flatMap((c) => c.norm.tokens),
      accents: clauses.flatMap((c) => c.norm.accents),
    };
    const asTyped = clauses.flatMap((c) => c.norm.asTyped ?? c.norm.tokens.map(() => false));
    // Typed with accents: a word without any is then written as meant ("do", "Loan").
    const accented = norm.accents.filter(Boolean).length;
    const withAccents = accented >= 3 && accented >= norm.tokens.length * 0.3;
    const { tokens, unknown } = this.correct(norm.tokens, norm.accents, withAccents);
    const accents = tokens.map((t, i) => (t === norm.tokens[i] ? (norm.accents[i] ?? null) : null));
    const exact = tokens.map((t, i) => accents[i] ?? (withAccents && asTyped[i] && t === norm.tokens[i] ? t : null));
    const hide = (forms: Map<string, Set<string>>) =>
      tokens.map((t, i) => {
        const a = accents[i];
        if (!a) return t;
        const known = forms.get(t);
        return known && !known.has(a) && this.accentedWords.has(a) ? `§${t}` : t;
      });
    return { norm, tokens, accents, exact, weights: clauseWeights(clauses), clauses, unknown, cls: hide(this.exampleForms), ret: hide(this.knowledgeForms) };
  }

  /**
   * The retrieval query of a prepared message: its content words weighted by the role of
   * their clause, plus the variant words its life events imply (variants.yaml) at a lower
   * weight. `focus` marks the tokens of the clauses that ask (null when all count).
   */
  private query(prep: Prepared): { query: WeightedQuery; content: string[]; focus: boolean[] | null; implied: string[] } {
    // Fillers are found on the tokens as typed (a hidden "§hỗ" is still part of "hỗ trợ").
    const keep = contentMask(prep.tokens, prep.accents, this.data.fillerPhrases);
    // An unaccented filler that forms a known name pair with its neighbour is a name word:
    // "can cuoc" is "căn cước", not "cần".
    const t = prep.tokens;
    for (let i = 0; i < t.length; i++) {
      // Only a one-word filler: the "hết" of "hết bao nhiêu" is not the "hết" of "bằng lái hết hạn".
      if (keep[i] || prep.accents[i] || !this.fillerWords.has(t[i] as string)) continue;
      const pair = (a: number, b: number) => a >= 0 && b < t.length && keep[a === i ? b : a] && this.procIndex.documentFrequency(`${t[a]}_${t[b]}`) > 0;
      if (pair(i - 1, i) || pair(i, i + 1)) keep[i] = true;
    }
    // "… bằng giấy thông hành chứ không làm hộ chiếu": what follows "chứ không" in its clause is not what is asked.
    let at = 0;
    for (const c of prep.clauses) {
      const n = c.norm.tokens.length;
      for (let i = at; i + 1 < at + n; i++) {
        const a = prep.accents[i];
        if (t[i] === 'chu' && (!a || a === 'chứ') && NEGATIONS.has(t[i + 1] as string)) {
          for (let k = i; k < at + n; k++) keep[k] = false;
          break;
        }
        // "không thuộc hộ nghèo hay cận nghèo nhưng …": what the household is not, up to "nhưng".
        if (NEGATIONS.has(t[i] as string) && t[i + 1] === 'thuoc' && (!prep.accents[i + 1] || prep.accents[i + 1] === 'thuộc')) {
          for (let k = i; k < at + n && t[k] !== 'nhung'; k++) keep[k] = false;
          break;
        }
      }
      at += n;
    }
    // "nộp ở xã nơi thường trú", "nơi tạm trú", "về Nam Định nơi em (đang) thường trú": a place, not the residence procedures.
    for (let i = 1; i + 1 < t.length; i++) {
      if (!RESIDENCE_PLACE.has(`${t[i]} ${t[i + 1]}`)) continue;
      let j = i - 1;
      if (t[j] === 'dang') j--;
      if (RESIDENT.has(t[j] as string)) j--;
      // (Not in the paper's name: "giấy xác nhận nơi cư trú".)
      if (t[j] === 'noi' && !(t[j - 2] === 'xac' && t[j - 1] === 'nhan')) keep[i] = keep[i + 1] = false;
    }
    // "báo qua VNeID", "khai trên VNeID được không": the app is the channel, not the account procedure
    // (when the message names something else to do; "tạo tài khoản VNeID" keeps it).
    for (let i = 1; i < t.length; i++) {
      if (t[i] === 'vneid' && t.slice(Math.max(0, i - 6), i).some((x) => CHANNEL_BEFORE.has(x)) && t.some((x, k) => keep[k] && k !== i && !this.fillerWords.has(x) && this.procIndex.idf(x) >= this.options.askedRareIdf)) keep[i] = false;
      // "đăng ký trên dịch vụ công", "nộp qua cổng dịch vụ công": the portal is the channel too.
      if (t[i] === 'dich' && t[i + 1] === 'vu' && t[i + 2] === 'cong' && [t[i - 1], t[i - 2]].some((x) => x !== undefined && (CHANNEL_BEFORE.has(x) || x === 'cong')) && t.some((x, k) => keep[k] && (k < i - 1 || k > i + 2) && !this.fillerWords.has(x) && this.procIndex.idf(x) >= this.options.askedRareIdf)) {
        for (let k = Math.max(0, i - 1); k <= i + 2; k++) if (k >= i || t[k] === 'cong') keep[k] = false;
      }
    }
    const content: string[] = [];
    const weights: number[] = [];
    const accents: (string | null)[] = [];
    const positions: number[] = [];
    prep.ret.forEach((t, i) => {
      if (!keep[i]) return;
      content.push(t);
      weights.push(prep.weights[i] ?? 1);
      accents.push(prep.accents[i] ?? null);
      positions.push(i);
    });
    const segments: { tokens: string[]; weights: number[]; accents?: (string | null)[]; positions?: number[]; explains?: string[]; kind?: 'variant' | 'term'; cue?: number }[] = [{ tokens: content, weights, accents, positions }];
    const caseWords = prep.tokens.map(() => false);
    const implied: string[] = [];
    // One pass over the message for every entry's cues (and one for their `unless` phrases).
    const hits = new Map<number, { start: number; end: number }[]>();
    for (const m of findPhrases(prep.tokens, prep.exact, this.allCues.phrases, CUE_GAP)) {
      const owner = this.allCues.owner[m.phrase] as number;
      const l = hits.get(owner);
      if (l) l.push(m);
      else hits.set(owner, [m]);
    }
    const ruledOut = new Set<number>();
    if (hits.size) for (const m of findPhrases(prep.tokens, prep.exact, this.allUnless.phrases)) ruledOut.add(this.allUnless.owner[m.phrase] as number);
    for (const cue of [...hits.keys()].sort((a, b) => a - b)) {
      const found = hits.get(cue) as { start: number; end: number }[];
      const v = this.variantCues[cue] as (typeof this.variantCues)[number];
      // A case the whole message rules out ("nhập quốc tịch" is always about foreigners).
      if (ruledOut.has(cue)) continue;
      let w = 0;
      const explains = new Set<string>();
      for (const m of found) {
        w = Math.max(w, prep.weights[m.start] ?? 1);
        for (let k = m.start; k < m.end; k++) explains.add(prep.tokens[k] as string);
        if (v.kind === 'variant') for (let k = m.start; k < m.end; k++) caseWords[k] = true;
      }
      if (!w) continue;
      for (const means of v.means) {
        segments.push({ tokens: means, weights: means.map(() => w * v.weight), explains: [...explains], kind: v.kind, cue });
        implied.push(means.join(' '));
      }
    }
    // The words that tell a case ("tại nhà", "già yếu") are not an aspect ("làm tại nhà" is not "online").
    let focused = prep.weights.some((w) => w < 1) ? prep.weights.map((w) => w >= 1) : null;
    if (caseWords.some(Boolean)) focused = (focused ?? prep.weights.map(() => true)).map((f, i) => f && !caseWords[i]);
    return { query: { segments }, content, focus: focused && focused.some(Boolean) ? focused : null, implied };
  }

  /**
   * How much short names are discounted for this message: in a long story a two-word
   * alias ("hộ chiếu") turns up by chance; in a short question it is the question.
   */
  private softening(content: readonly string[]): number {
    return PROCEDURE_SCORING.k * Math.min(1, Math.max(0, content.length - 4) / 8);
  }

  /**
   * Other aspects asked in the same message ("cần giấy tờ gì và nộp ở đâu"): each needs
   * a cue of its own, as the chosen one does.
   */
  private otherAspects(residuals: readonly (readonly string[])[], chosen: Aspect): Aspect[] {
    // Each clause, and each part joined by "và", "với", "còn", "hay", "thêm", is classified on its own.
    const parts: string[][] = [];
    for (const r of residuals) {
      parts.push([]);
      for (const t of r) {
        if (ASPECT_JOINERS.has(t)) parts.push([]);
        else (parts[parts.length - 1] as string[]).push(t);
      }
    }
    if (parts.length < 2) return [];
    const out: Aspect[] = [];
    for (const part of parts) {
      if (part.length < 2) continue;
      const best = this.classifier.classify(part, ASPECTS).ranked[0];
      const a = best?.label as Aspect | undefined;
      if (!a || a === chosen || a === 'procedure.overview' || out.includes(a) || (best?.p ?? 0) < this.options.secondAspectMin) continue;
      // A second question needs a two-word cue of its own ("ở đâu", "bao lâu", "giấy tờ").
      const pairs = part.slice(1).map((t, i) => [part[i] as string, t]).filter((pr) => !NOT_CUE_PAIRS.has(pr.join(' ')));
      if (pairs.some((pr) => this.classifier.distinctive(pr, a, ASPECTS.filter((x) => x !== a), this.options.aspectCueRatio, true))) out.push(a);
    }
    return out;
  }

  /** The words of each clause once the procedure's own words are masked. */
  private clauseResiduals(prep: Prepared, procedureId: string): string[][] {
    const out: string[][] = [];
    let at = 0;
    for (const c of prep.clauses) {
      const n = c.norm.tokens.length;
      out.push(this.maskProcedure(prep.ret.slice(at, at + n), procedureId, prep.cls.slice(at, at + n), undefined, prep.accents.slice(at, at + n)));
      at += n;
    }
    return out;
  }

  /**
   * Variants of the chosen procedure that differ for a citizen, when the message did not
   * name one: the ones retrieval weighed first, then the family's shortest names.
   */
  private variantsOf(top: RetrievalMatch, procs: readonly RetrievalMatch[]): string[] {
    const members = this.families.variants(top.index);
    if (!members.length) return [];
    // The cases variants.yaml knows ("có yếu tố nước ngoài", "lưu động", "lại") differ
    // materially: they come first, then those retrieval weighed, then the rest.
    const caseOf = (i: number) => {
      // Fixed per knowledge version: memoized per (variant, head).
      const key = i * this.procIds.length + top.index;
      let c = this.caseMemo.get(key);
      if (c === undefined) {
        const words = this.families.qualifier(i, top.index).flat();
        c = this.variantCues.findIndex((v) => v.kind === 'variant' && v.means.some((m) => m.every((t) => words.includes(t))));
        this.caseMemo.set(key, c);
      }
      return c;
    };
    const seen = new Set(procs.map((p) => p.index));
    const rank = (i: number) => (caseOf(i) >= 0 ? 0 : 2) + (seen.has(i) ? 0 : 1);
    // One button per case: two "có yếu tố nước ngoài" variants are one choice to offer.
    const cases = new Set<number>();
    const out: string[] = [];
    for (const i of [...members].sort((a, b) => rank(a) - rank(b))) {
      const c = caseOf(i);
      if (c >= 0 && cases.has(c)) continue;
      if (c >= 0) cases.add(c);
      out.push(this.procIds[i] as string);
      if (out.length >= this.options.maxVariants) break;
    }
    return out;
  }

  /**
   * The share of a message one procedure can be expected to explain: all of a short
   * question, a third of a long story (the rest is background no name explains).
   */
  private expectedCoverage(content: readonly string[]): number {
    const n = content.length;
    return n <= 6 ? 1 : Math.max(0.35, 1 - ((n - 6) / 14) * 0.65);
  }

  /**
   * Within a family, the message's evidence for a variant's qualifier decides: a variant
   * whose extra words ("lưu động", "có yếu tố nước ngoài") the message says or implies
   * ranks just above its head; one it does not evidence stays below (never picked
   * silently). Candidates keep their order otherwise.
   */
  private rankVariants(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    if (procs.length < 2) return procs;
    const { q, restated } = caseViews(query);
    const typedSeq = query.segments[0]?.tokens ?? [];
    const typed = new Set(typedSeq);
    const byIndex = new Map(procs.map((m) => [m.index, m]));
    const out = procs.map((m) => ({ ...m }));
    // A rare variant ("… ở nước ngoài") the message gives no sign of ranks below the others.
    const rareFactor = new Map<number, number>();
    for (const v of out) {
      const name = this.nameTokens.get(v.id) ?? [];
      for (const r of this.rareMeans) {
        if (r.every((t) => q.has(t)) || !containsRun(name, r)) continue;
        v.rank *= this.options.rareVariant;
        v.score *= this.options.rareVariant;
        rareFactor.set(v.index, (rareFactor.get(v.index) ?? 1) * this.options.rareVariant);
      }
      // Another action on the same thing ("Cấp đổi…", "Rút yêu cầu…", "Gia hạn…") the message
      // does not mention ranks below the plain one ("Cấp mới…", "Yêu cầu…").
      if (this.untoldAction(v.id, q)) {
        v.rank *= this.options.untoldAction;
        v.score *= this.options.untoldAction;
      }
    }
    for (const v of out) {
      for (const h of this.families.headsOf(v.index)) {
        const head = byIndex.get(h);
        if (!head) continue;
        const qual = this.families.qualifier(v.index, h);
        if (!qual.length) {
          // Another level's copy of a curated entry ("(thực hiện tại cấp tỉnh)") never outranks it.
          if (this.procedures.get(head.id)?.status === 'curated' && v.rank >= head.rank) {
            v.rank = head.rank - 0.01;
            v.score = Math.min(v.score, head.score - 0.01);
          }
          continue;
        }
        // Words and, inside each run, word pairs: "cấp lại" is evidenced by "cấp lại" or
        // "bị mất", not by the "lái" of "bằng lái". Measured on the whole name and on its
        // core (without a tail such as "thực hiện bằng dịch vụ công…"), the better of the two.
        const shortQual = this.families.qualifier(v.index, h, true);
        // Words of the head repeated in the qualifier ("rút yêu cầu trợ giúp pháp lý của người
        // được trợ giúp pháp lý") say nothing about the case.
        const headWords = new Set(this.nameTokens.get(head.id) ?? []);
        const own = (runs: string[][]) => runs.map((r) => r.filter((t) => !headWords.has(t))).filter((r) => r.length);
        // …unless the head names that action too ("Đăng ký thay đổi, cải chính …" heads "Thay đổi, cải chính … có yếu tố nước ngoài").
        const untold = this.untoldAction(v.id, q) && !headWords.has(this.nameTokens.get(v.id)?.[0] ?? '');
        const evidence = untold ? 0 : Math.max(this.caseEvidence(own(qual), q, restated), shortQual.length ? this.caseEvidence(own(shortQual), q, restated) : 0);
        if (evidence < this.options.variantEvidence) {
          // Another action on the same thing ("Rút yêu cầu…", "Cấp đổi…") the message gives no
          // sign of is never answered in place of its head: it ranks just below it.
          if (untold && v.rank >= head.rank && !v.variantOf && qual[0]?.[0] === this.nameTokens.get(v.id)?.[0]) {
            v.rank = head.rank - 0.01;
            v.score = Math.min(v.score, head.score - 0.01);
          }
          // A curated entry's national variant the message gives little sign of, and none of whose
          // own core words the citizen typed ("Cấp Phiếu lý lịch tư pháp | theo yêu cầu của cơ quan
          // nhà nước, tổ chức…"), is offered beside the entry, not answered in its place.
          if (this.procedures.get(head.id)?.status === 'curated' && v.rank >= head.rank && !v.variantOf && evidence < this.options.variantEvidence / 2) {
            const headAll = new Set((this.phraseTokens.get(head.id) ?? []).flat());
            const ownCore = (this.coreTokens.get(v.id) ?? []).filter((t) => !headAll.has(t) && !this.fillerWords.has(t));
            if (!ownCore.some((t) => typed.has(t))) {
              v.rank = head.rank - 0.01;
              v.score = Math.min(v.score, head.score - 0.01);
            }
          }
          continue;
        }
        // The message asks the head's action ("xin cấp lại thẻ" of "Cấp lại, cấp đổi thẻ BHYT"), the
        // variant's name does not hold it ("Đăng ký đóng, cấp thẻ BHYT …"): it is another procedure.
        if (this.dropsToldAction(head.id, v.id, typedSeq, out)) continue;
        // The head is named; the variant is the head with the case the message tells.
        const lift = 0.02 + 0.05 * evidence;
        if ((v.variantEvidence ?? 0) < evidence) {
          v.variantOf = head.id;
          v.variantEvidence = round(evidence);
        }
        v.coverage = Math.max(v.coverage, head.coverage);
        // Evidenced on its core ("gia hạn …") but its full name holds a rare case the message
        // does not tell ("… cấp đặc biệt"): lifted, it keeps that case's discount.
        const rare = rareFactor.get(v.index) ?? 1;
        if ((head.rank + lift) * rare > v.rank) {
          v.rank = (head.rank + lift) * rare;
          v.score = Math.max(v.score, (head.score + lift) * rare);
        }
      }
    }
    out.sort((a, b) => b.rank - a.rank);
    this.siblings(out, q, restated);
    this.typedVariant(out, typed);
    out.sort((a, b) => b.rank - a.rank);
    return this.caseOverTop(this.toldActionOverTop(out, q, query), query);
  }

  /**
   * Retrieval, then the checks that reorder its best few: family variants and siblings,
   * the clauses that ask, a more specific record, a name with untold words inserted.
   */
  private candidates(query: WeightedQuery, content: readonly string[], prep: Prepared): RetrievalMatch[] {
    let found = this.procIndex.search(query, 8, (ei) => this.families.relatives(ei), this.evidence, this.softening(content), this.expectedCoverage(content));
    // In a long letter a short name fully typed is no stronger sign than a long one half typed: the
    // order leans halfway from the softened rank to the plain score (measured: 25 words and more).
    if (content.length >= LONG_LETTER_WORDS) found = found.map((m) => ({ ...m, rank: (m.rank + m.score) / 2 })).sort((a, b) => b.rank - a.rank);
    return this.askedBreaksTie(this.typedOverImplied(this.toldLevelOverTop(this.curatedOverLevelCopy(this.untoldInsertion(this.refinedOverTop(this.namedOverMention(this.askedOverStory(this.rankVariants(found, query), query, prep), query), query), query), query), prep), query), query).slice(0, 6);
  }

  /**
   * Two candidates tie: the other leads when all the leader has that it lacks was told in the
   * story ("nhà tôi thuê căn hộ …") while its own words come from what is asked ("muốn mua lại
   * căn hộ" → "bán nhà ở cũ"), or when it explains all the leader does and more.
   */
  private askedBreaksTie(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const [top, second] = procs;
    const s0 = query.segments[0];
    if (!top || !second || !s0 || top.score - second.score > 0.005) return procs;
    const told = (t: string) => s0.tokens.includes(t) && s0.tokens.every((x, i) => x !== t || !asking(s0.weights[i]));
    const own0 = [...top.matched].filter((t) => !second.matched.has(t) && !this.fillerWords.has(t));
    // (The other's own word may be one a filler shares when typed plain: "bán" implied, "bạn".)
    const own1 = [...second.matched].filter((t) => !top.matched.has(t));
    // (Or the other explains all the leader does and more: "… đồng thời thay đổi cơ quan đăng ký" when the message says so.)
    // (Not over a curated entry: its national copies name its words and their level.)
    const more =
      second.coverage >= top.coverage &&
      second.queryCoverage > top.queryCoverage &&
      [...top.explained].every((t) => second.explained.has(t)) &&
      [...second.explained].some((t) => !top.explained.has(t)) &&
      this.procedures.get(top.id)?.status !== 'curated';
    if (!more && (!own0.length || !own1.length || !own0.every(told) || own1.some(told))) return procs;
    return [{ ...second, rank: top.rank + 0.001, score: Math.max(second.score, top.score) }, top, ...procs.slice(2)];
  }

  /**
   * The citizen says which office they will go to ("làm ở công an xã", "gửi xã", "lên công an
   * tỉnh") in the clauses that ask, and the leader is done at another level: a close sibling
   * done at that level — within `toldLevelMargin` and naming most of what the leader matched —
   * is meant ("giấy thông hành … tại Công an cấp tỉnh" against its commune-level sibling).
   */
  private toldLevelOverTop(procs: RetrievalMatch[], prep: Prepared): RetrievalMatch[] {
    const top = procs[0];
    if (!top || procs.length < 2) return procs;
    const told = toldLevel(prep);
    const levelsOf = (id: string) => this.procedures.get(id)?.levels ?? [];
    if (!told || levelsOf(top.id).includes(told)) return procs;
    let best = -1;
    for (let i = 1; i < procs.length; i++) {
      const v = procs[i] as RetrievalMatch;
      if (!levelsOf(v.id).includes(told) || v.score < top.score - this.options.toldLevelMargin) continue;
      const shared = [...top.matched].filter((t) => v.matched.has(t)).length;
      if (shared < top.matched.size * 0.6) continue;
      // Of several siblings at that level, the one the message names most of (least untold qualifier).
      if (best < 0 || v.coverage > (procs[best] as RetrievalMatch).coverage) best = i;
    }
    if (best < 0) return procs;
    const v = procs[best] as RetrievalMatch;
    const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score), coverage: Math.max(v.coverage, top.coverage) };
    return [lifted, ...procs.slice(0, best), ...procs.slice(best + 1)];
  }

  /**
   * The leader is a curated entry's procedure done at another level ("Cấp lại thẻ căn cước
   * (thực hiện tại cấp tỉnh)") and the entry is a candidate: unless the citizen names that
   * level ("công an tỉnh", "trung ương"), the entry — what the commune or ward does — is meant.
   * (`rankVariants` keeps such copies below a curated head when the families link them; a copy
   * whose name is exactly the entry's name or alias is not a family member, so it is handled here.)
   */
  private curatedOverLevelCopy(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    const of = top && this.levelCopyOf.get(top.id);
    if (!top || !of) return procs;
    const typed = query.segments[0]?.tokens ?? [];
    if (typed.some((t, i) => t === 'tinh' || t === 'cuc' || (t === 'uong' && typed[i - 1] === 'trung'))) return procs;
    const j = procs.findIndex((m) => m.id === of);
    if (j < 0) return procs;
    const c = procs[j] as RetrievalMatch;
    const lifted = { ...c, rank: top.rank + 0.01, score: Math.max(c.score, top.score), coverage: Math.max(c.coverage, top.coverage) };
    return [lifted, ...procs.slice(0, j), ...procs.slice(j + 1)];
  }

  /**
   * The leader's name was found only by words a life event implies ("bố mẹ cho" → "nhận thừa
   * kế, quà tặng"), none the citizen typed; a close candidate is named in full by typed words
   * ("xin giấy phép xây nhà trên đất bố mẹ cho"): what the citizen named is what they ask.
   */
  private typedOverImplied(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    const s0 = query.segments[0];
    if (!top || procs.length < 2 || !s0 || top.variantOf) return procs;
    // (An everyday word's official form counts as typed: "sổ đỏ" names "giấy chứng nhận quyền sử dụng đất".)
    const terms = query.segments.filter((sg) => sg.kind === 'term').flatMap((sg) => sg.tokens);
    const typed = new Set([...s0.tokens, ...terms].filter((t) => !this.fillerWords.has(t)));
    if ([...top.matched].some((t) => typed.has(t))) return procs;
    for (let i = 1; i < Math.min(procs.length, 4); i++) {
      const v = procs[i] as RetrievalMatch;
      if (v.coverage < 0.99 || v.score < top.score * this.options.caseOverTop) continue;
      if ([...v.matched].filter((t) => typed.has(t)).length < 2) continue;
      const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score) };
      return [lifted, ...procs.slice(0, i), ...procs.slice(i + 1)];
    }
    return procs;
  }

  /**
   * The leader was found by the thing it is about ("xe máy mới mua" of "đăng ký xe máy mới
   * mua") without the action its name starts with; a close national record is named nearly in
   * full, its action typed ("khai lệ phí trước bạ"), with a rare word the leader does not
   * explain: the citizen named that procedure and mentioned the thing it is for.
   */
  private namedOverMention(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    const s0 = query.segments[0];
    if (!top || procs.length < 2 || !s0 || top.variantOf) return procs;
    const typed = new Set(s0.tokens);
    const acted = (ph: readonly string[], m: RetrievalMatch) => ph.length > 1 && !this.fillerWords.has(ph[0] as string) && typed.has(ph[0] as string) && m.matched.has(ph[0] as string);
    if ((this.phraseTokens.get(top.id) ?? []).some((ph) => acted(ph, top))) return procs;
    for (let i = 1; i < Math.min(procs.length, 4); i++) {
      const v = procs[i] as RetrievalMatch;
      if (this.procedures.get(v.id)?.status === 'curated' || v.coverage < this.options.namedOverMention || v.score < top.score * this.options.caseOverTop) continue;
      if (!acted(this.nameTokens.get(v.id) ?? [], v)) continue;
      if (![...v.matched].some((t) => typed.has(t) && !top.explained.has(t) && this.procIndex.idf(t) >= this.options.askedRareIdf)) continue;
      const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score), coverage: Math.max(v.coverage, top.coverage) };
      return [lifted, ...procs.slice(0, i), ...procs.slice(i + 1)];
    }
    return procs;
  }

  /**
   * The leader's name is a close candidate's name with words inserted that the message
   * does not say ("Đăng ký giám sát việc giám hộ" / "Đăng ký giám hộ"): the shorter name
   * is the one meant. National records only: a curated entry's names are its aliases.
   */
  private untoldInsertion(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    // (A variant lifted over its head keeps its place: its head's name is its own minus an evidenced qualifier.)
    if (!top || procs.length < 2 || this.procedures.get(top.id)?.status === 'curated') return procs;
    const { q, restated } = caseViews(query);
    const topName = this.nameTokens.get(top.id) ?? [];
    // The leader names the action the message tells ("bị mất" → "Cấp lại …"): the inserted action is the case meant.
    const action = this.actionOf(top.id);
    const toldAction = action.length > 0 && action.every((t) => q.has(t));
    const asked = askedWords(query);
    for (let i = 1; i < Math.min(procs.length, 4); i++) {
      const v = procs[i] as RetrievalMatch;
      if (toldAction && this.actionOf(v.id).join(' ') !== action.join(' ')) continue;
      if (v.rank < top.rank * this.options.untoldInsertion || this.procedures.get(v.id)?.status === 'curated') continue;
      const name = new Set(this.nameTokens.get(v.id) ?? []);
      if (!name.size || ![...name].every((t) => topName.includes(t))) continue;
      // The inserted words, run by run ("sát việc"), as a qualifier: said or implied, they are the case meant.
      const runs: string[][] = [];
      topName.forEach((t, k) => {
        if (name.has(t)) return;
        if (k > 0 && !name.has(topName[k - 1] as string)) (runs[runs.length - 1] as string[]).push(t);
        else runs.push([t]);
      });
      // Generic inserted words ("lại" of "đăng ký lại") are not a case of their own to rule out.
      const mass = this.idfMass(runs.flat());
      if (!runs.length || mass < this.options.qualifierMinIdf || this.caseEvidence(runs, q, restated) >= this.options.untoldInsertionEvidence) continue;
      // A rare pair of the inserted words the citizen typed ("tàu cá" of "Xóa đăng ký tàu cá, tàu phục vụ …") tells the case, however long the rest.
      const toldPair = runs.some((r) => r.some((t, k) => k > 0 && q.has(`${r[k - 1]}_${t}`) && this.procIndex.idf(`${r[k - 1]}_${t}`) >= this.options.refinedPairIdf));
      if (toldPair) continue;
      // …and so does an inserted run typed from its start, joined to the word before it, in the
      // clauses that ask ("giám sát" of "chấm dứt giám sát việc giám hộ"; "chấm dứt việc giám hộ" is not).
      const toldStart = topName.some((t, k) => {
        const a = topName[k - 1];
        if (k === 0 || a === undefined || name.has(t) || !name.has(a) || !asked.has(a) || !asked.has(t)) return false;
        return q.has(`${a}_${t}`) && this.procIndex.idf(`${a}_${t}`) >= this.options.refinedPairIdf - 1.5 && this.procIndex.idf(t) >= this.options.askedRareIdf;
      });
      if (toldStart) continue;
      // A variant of the shorter name that ranked above it on evidence ("… chấm dứt giám hộ có yếu
      // tố nước ngoài" for a grandchild of Australian nationality) is the one meant.
      const vName = this.nameTokens.get(v.id) ?? [];
      const j = procs.findIndex((w, k) => k > 0 && k < i && w.rank > v.rank && this.families.relatives(v.index).includes(w.index) && vName.every((t) => (this.nameTokens.get(w.id) ?? []).includes(t)));
      const pick = j > 0 ? j : i;
      const chosen = procs[pick] as RetrievalMatch;
      const lifted = { ...chosen, rank: top.rank + 0.01, score: Math.max(chosen.score, top.score) };
      return [lifted, ...procs.slice(0, pick), ...procs.slice(pick + 1)];
    }
    return procs;
  }

  /**
   * A close candidate that explains every word the leader was found by and also a rare pair
   * of words the citizen typed that the leader does not ("chứng thực chữ ký" → "… chữ ký
   * người dịch"): the more specific record is the one meant.
   */
  private refinedOverTop(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    const s0 = query.segments[0];
    if (!top || procs.length < 2 || !s0 || top.variantOf) return procs;
    const typed = s0.tokens;
    const literal = [...top.matched].filter((t) => typed.includes(t));
    if (!literal.length) return procs;
    const curatedTop = this.procedures.get(top.id)?.status === 'curated';
    const said = (t: string) => typed.includes(t) && !this.fillerWords.has(t);
    // Between two curated entries the rarity bars of the fresh pair scale with the base: on the
    // 39 bundled entries no pair reaches the IDF a pair reaches among 2,600 national records.
    const scale = Math.min(1, this.procIndex.idfCeiling / NATIONAL_IDF_CEILING);
    for (let i = 1; i < procs.length; i++) {
      const v = procs[i] as RetrievalMatch;
      const curatedV = this.procedures.get(v.id)?.status === 'curated';
      // National candidates from the first five; a curated one from any place (national copies
      // crowd the top), only over a curated leader and only by a fresh pair typed in the question
      // ("sang tên cà vẹt": the transfer entry, not the registration found by "cà vẹt").
      if (curatedV ? !curatedTop : i >= 5) continue;
      // A leader named by two words at most ("cấp sổ") against a record named by four times as
      // many of the message's words, or a curated candidate: a lower bar.
      const bar = curatedV || (top.matched.size <= 2 && v.matched.size >= 4 * top.matched.size) ? this.options.refinedOverShort : this.options.refinedOverTop;
      if (v.score < top.score * bar) continue;
      // (by its name: what a record only describes is weaker evidence than what the leader is named by;
      // a curated one by any of its phrases: "cà vẹt" is a keyword of the transfer entry too)
      if (!literal.every((t) => (curatedV ? v.explained : v.matched).has(t))) continue;
      const pair = () => {
        // …and leaves no rare word the leader explains unexplained ("khai sinh" of "bản sao giấy khai sinh").
        if ([...top.explained].some((t) => typed.includes(t) && !v.explained.has(t) && this.procIndex.idf(t) >= this.options.askedRareIdf)) return false;
        return typed.some((t, k) => {
          const a = typed[k - 1];
          // (By name: the leader may describe the pair, "tàu cá" in the text of "Xóa đăng ký", without being named by it.)
          if (k === 0 || a === undefined || !v.matched.has(t) || !v.matched.has(a) || (top.matched.has(t) && top.matched.has(a))) return false;
          // One word the leader was found by, one new word that says something ("dịch", not "giấy").
          const fresh = top.matched.has(a) ? t : a;
          return (literal.includes(a) || literal.includes(t)) && this.procIndex.idf(fresh) >= this.options.refinedWordIdf && this.procIndex.idf(`${a}_${t}`) >= this.options.refinedPairIdf;
        });
      };
      // …or, in the clauses that ask, a rare pair of its name that the leader explains neither word of
      // ("tích hợp" of "Tích hợp … thông tin trên thẻ căn cước" over "căn cước"), the words only
      // it explains outweighing those only the leader does ("chip", a keyword of the leader).
      const k0 = curatedV ? scale : 1;
      const freshPair = () =>
        this.ownMass(v.explained, top.explained, said) > this.ownMass(top.explained, v.explained, said) &&
        typed.some((t, k) => {
          const a = typed[k - 1];
          if (k === 0 || a === undefined || !asking(s0.weights[k]) || !asking(s0.weights[k - 1])) return false;
          if (!v.matched.has(t) || !v.matched.has(a) || top.explained.has(t) || top.explained.has(a)) return false;
          if (this.fillerWords.has(a) || this.fillerWords.has(t)) return false;
          return Math.max(this.procIndex.idf(a), this.procIndex.idf(t)) >= this.options.askedRareIdf * k0 && this.procIndex.idf(`${a}_${t}`) >= this.options.refinedPairIdf * k0;
        });
      if (curatedV ? !freshPair() : !pair() && !freshPair()) continue;
      const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score), coverage: Math.max(v.coverage, top.coverage), variantOf: top.id, variantEvidence: 1 };
      return [lifted, ...procs.slice(0, i), ...procs.slice(i + 1)];
    }
    return procs;
  }


  /**
   * A story that names things in passing ("đóng BHXH", "nghỉ việc", "sổ hộ khẩu") and a
   * question that names the procedure ("có được hưởng chế độ thai sản không"): the clauses
   * that ask are searched on their own, by names only, and a candidate they name well that
   * the whole message also found (close behind) is the one asked about.
   */
  private askedOverStory(procs: RetrievalMatch[], query: WeightedQuery, prep: Prepared): RetrievalMatch[] {
    // "xin giấy này ở đâu", "thủ tục đó thế nào": the question points back to what the story named.
    const t = prep.tokens;
    const at = t.findIndex((w, i) => i > 0 && (prep.weights[i] ?? 1) >= 1 && ANAPHORA.has(w) && POINTED.has(t[i - 1] as string));
    const pointsBack = at > 0;
    // "… đòi giấy chứng tử của ông. Làm thủ tục gì để có lại giấy này?": a paper pointed back to
    // is the one the story named last ("giấy chứng tử").
    let only: ((pos: number) => boolean) | undefined;
    const noun = t[at - 1] as string;
    if (pointsBack && PAPERS.has(noun)) {
      const spans = clauseSpans(prep);
      const j = t.findLastIndex((w, i) => i < at - 1 && w === noun && (prep.weights[i] ?? 1) < 1 && POINTED_PAPER_NEXT(t[i + 1]));
      const span = spans.find(([a, b]) => j >= a && j < b);
      // From the paper's word to the end of its clause: what the paper is, not who asked for it.
      if (span && (spans[spans.length - 1]?.[1] ?? 0) === t.length) only = (pos) => pos >= j && pos < span[1];
    }
    // Pointed back to, the story's words weigh as background in the whole message: a lower share suffices.
    return this.namedIn(procs, query, pointsBack, pointsBack ? this.options.pointedBack : this.options.askedOverStory, only);
  }

  /**
   * The candidate one part of the message names well on its own (the asking clauses, or
   * the story a question points back to), searched by names only, when the whole message
   * found it close behind the leader and that part names something the leader does not.
   */
  private namedIn(procs: RetrievalMatch[], query: WeightedQuery, storyPart: boolean, share: number, only?: (pos: number) => boolean): RetrievalMatch[] {
    const inPart = storyPart ? (w: number) => w < 1 : (w: number) => w >= 1;
    const top = procs[0];
    const s0 = query.segments[0];
    // Only a candidate close enough behind can take the lead: without one, no second search.
    if (!top || procs.length < 2 || !s0 || !procs.some((m, i) => i > 0 && m.score >= top.score * share)) return procs;
    // Runs of the part's words, each its own segment so no pair spans two clauses.
    const runs: { tokens: string[]; weights: number[]; accents?: (string | null)[] }[] = [];
    let last = -2;
    s0.tokens.forEach((t, i) => {
      if (!inPart(s0.weights[i] ?? 1)) return;
      if (only && !only(s0.positions?.[i] ?? -1)) return;
      if (i !== last + 1 || !runs.length) runs.push({ tokens: [], weights: [], accents: [] });
      const r = runs[runs.length - 1] as (typeof runs)[number];
      r.tokens.push(t);
      r.weights.push(1);
      r.accents?.push(s0.accents?.[i] ?? null);
      last = i;
    });
    const part = runs.flatMap((r) => r.tokens);
    if (part.length < 2 || part.length === s0.tokens.length) return procs;
    const partSet = new Set(part);
    const segments = [...runs, ...query.segments.slice(1).filter((sg) => sg.explains?.some((t) => partSet.has(t)))];
    const aq: WeightedQuery = { segments };
    const found = this.rankVariants(this.procIndex.search(aq, 6, (ei) => this.families.relatives(ei), undefined, this.softening(part), this.expectedCoverage(part)), aq);
    const q = found[0];
    // (A pointed paper is a short, specific phrase: it names its record with less of a long name.)
    if (!q || q.id === top.id || q.coverage < (only ? this.options.pointedCoverage : this.options.askedCoverage) || q.score < (only ? this.options.pointedScore : this.options.askedScore)) return procs;
    // A variant the story told ("chồng là người Nhật") and its head the question names: the variant
    // stands (the question alone cannot tell a family's members apart; the story it points to can).
    // (A relative whose name holds all the leader was found by, and more the question names, is no sibling: "khai thuế cho hộ kinh doanh".)
    const holdsLeader = [...top.matched].every((t) => q.explained.has(t));
    if (top.variantOf === q.id || q.variantOf === top.id || (!storyPart && !holdsLeader && this.families.relatives(top.index).includes(q.index))) return procs;
    // The part must name something the leader does not explain ("thai sản", "chứng tử"), not
    // only restate it: a rare word of its own, or a rare pair of its words not both the leader's.
    // (The words of a life event, "làm lại", tell a case, not what is asked about.)
    const cueWords = new Set(query.segments.filter((sg) => sg.kind === 'variant').flatMap((sg) => sg.explains ?? []));
    const rare = (t: string) => this.procIndex.idf(t) >= this.options.askedRareIdf;
    const ownWord = [...q.explained].some((t) => partSet.has(t) && !cueWords.has(t) && !top.explained.has(t) && rare(t));
    const ownPair = runs.some((r) => r.tokens.some((t, i) => i > 0 && !(cueWords.has(t) && cueWords.has(r.tokens[i - 1] as string)) && q.explained.has(t) && q.explained.has(r.tokens[i - 1] as string) && !(top.explained.has(t) && top.explained.has(r.tokens[i - 1] as string)) && rare(`${r.tokens[i - 1]}_${t}`)));
    if (!ownWord && !ownPair) return procs;
    const topHere = found.find((m) => m.id === top.id);
    // (Unless the candidate's name holds the leader's: "khai thuế cho hộ kinh doanh".)
    if (topHere && topHere.score >= q.score * 0.9 && !holdsLeader) return procs;
    // Of records the part names alike ("Khai lệ phí trước bạ nhà, đất" / "… tài sản khác"),
    // the one the whole message ranked first: the rest of the message tells which ("mảnh đất").
    const qName = this.nameTokens.get(q.id) ?? [];
    const alike = (id: string) => {
      if (id === q.id) return true;
      // (Five words or more in common from the start are one procedure told apart by its tail,
      // "Đăng ký lại việc nuôi con nuôi | trong nước / có yếu tố nước ngoài": the story tells which.)
      const shared = sharedStart(this.nameTokens.get(id) ?? [], qName);
      return shared >= 3 && (shared >= 5 || found.some((f) => f.id === id && f.score >= q.score * 0.9));
    };
    const j = procs.findIndex((m, i) => i > 0 && alike(m.id));
    const v = procs[j];
    if (!v || j === 0 || v.score < top.score * share) return procs;
    const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score), coverage: Math.max(v.coverage, q.coverage) };
    return [lifted, ...procs.slice(0, j), ...procs.slice(j + 1)];
  }

  /**
   * How much of a qualifier ("lưu động", "nhà, đất") the message says or implies: the IDF
   * share of its words and, inside each run, word pairs ("cấp lại" is evidenced by "cấp
   * lại" or "bị mất", not by the "lái" of "bằng lái"). Life events are told in the story,
   * not in the question, so any mention counts; a qualifier word that is only the official
   * form of what the citizen said (`restated`) is neutral; a qualifier of generic words
   * only ("cấp") is no case to tell apart (0).
   */
  private caseEvidence(runs: readonly (readonly string[])[], q: ReadonlyMap<string, number>, restated: ReadonlyMap<string, number>): number {
    let h2 = 0;
    let a2 = 0;
    let words = 0;
    for (const run of runs) {
      run.forEach((t, k) => {
        words += this.procIndex.idf(t);
        const terms = k > 0 ? [t, `${run[k - 1]}_${t}`] : [t];
        for (const term of terms) {
          if (!q.has(term) && restated.has(term)) continue;
          const idf = this.procIndex.idf(term);
          a2 += idf;
          if (q.has(term)) h2 += idf;
        }
      });
    }
    return words < this.options.qualifierMinIdf ? 0 : a2 ? h2 / a2 : 0;
  }

  /**
   * Records that share the start of their names and differ in the rest ("Khai lệ phí
   * trước bạ nhà, đất" / "Khai lệ phí trước bạ … tài sản khác"), with no record naming
   * the shared part alone: the one whose differing words the message evidences clearly
   * better comes first.
   */
  private siblings(out: RetrievalMatch[], q: ReadonlyMap<string, number>, restated: ReadonlyMap<string, number>): void {
    const n = Math.min(out.length, 6);
    for (let i = 0; i < n; i++) {
      const a = out[i] as RetrievalMatch;
      if (a.variantOf || this.procedures.get(a.id)?.status === 'curated') continue;
      const an = this.nameTokens.get(a.id) ?? [];
      for (let j = i + 1; j < n; j++) {
        const b = out[j] as RetrievalMatch;
        if (b.variantOf || this.procedures.get(b.id)?.status === 'curated' || b.rank < a.rank * 0.7) continue;
        const bn = this.nameTokens.get(b.id) ?? [];
        const k = sharedStart(an, bn);
        if (k < 3 || k === an.length || k === bn.length) continue;
        const shared = new Set(an.slice(0, k));
        const rest = (name: readonly string[]) => [name.slice(k).filter((t) => !shared.has(t))];
        const ea = this.caseEvidence(rest(an), q, restated);
        const eb = this.caseEvidence(rest(bn), q, restated);
        // …or, when the differing parts are long, the one whose differing words alone the message
        // says ("tàu cá" / "tàu biển", "vận tải" / "hàng không"): told there, told nowhere in the other.
        const ra = new Set(rest(an)[0]);
        const rb = new Set(rest(bn)[0]);
        const told = (t: string) => q.has(t);
        const onlyB = this.ownMass(rb, ra, told) >= this.options.siblingOwnIdf && this.ownMass(ra, rb, told) === 0;
        if ((eb - ea < this.options.siblingMargin || b.rank < a.rank * 0.8) && !onlyB) continue;
        b.rank = Math.max(b.rank, a.rank + 0.005);
        b.score = Math.max(b.score, a.score + 0.005);
        b.variantEvidence = round(Math.max(eb, b.variantEvidence ?? 0));
      }
    }
  }

  /**
   * True when the citizen typed "cấp lại" or "cấp đổi", the variant's name does not hold it,
   * and its head or another candidate names it: that one is asked. (A life event that only
   * implies the action, "bản hợp đồng bị thất lạc", may be about another paper.)
   */
  private dropsToldAction(head: string, variant: string, typed: readonly string[], candidates: readonly RetrievalMatch[]): boolean {
    const name = this.nameTokens.get(variant) ?? [];
    const holds = (id: string, a: string) => (this.phraseTokens.get(id) ?? []).some((ph) => containsRun(ph, ['cap', a]));
    return (['lai', 'doi'] as const).some((a) => containsRun(typed, ['cap', a]) && !name.includes(a) && (holds(head, a) || candidates.some((c) => c.id !== variant && holds(c.id, a))));
  }

  /**
   * The action a procedure's name begins with ("cấp lại", "cấp đổi", "gia hạn"…; a curated
   * name too: "Cấp lại, cấp đổi thẻ bảo hiểm y tế"), as tokens; empty for the plain issuing
   * ("Cấp …") or a name without one.
   */
  private actionOf(id: string): string[] {
    const name = this.nameTokens.get(id) ?? [];
    const first = name[0] ?? '';
    if (first === 'cap') return name[1] === 'doi' || name[1] === 'lai' ? [first, name[1]] : [];
    return OTHER_ACTIONS.has(first) ? [first] : [];
  }

  /**
   * The message tells an action ("bị mất" → "cấp lại", "hết hạn" → "cấp đổi") the leader's
   * name does not begin with, and a close national record names that action on the same
   * subject ("Cấp lại Giấy chứng nhận kiểm định …" / "Cấp Giấy chứng nhận kiểm định …"):
   * that record is the one meant.
   */
  private toldActionOverTop(procs: RetrievalMatch[], q: ReadonlyMap<string, number>, query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    if (!top || procs.length < 2 || top.variantOf) return procs;
    // A curated leader (its aliases name the subject alone: "thường trú") yields only to an
    // action the citizen typed in a clause that asks or requests ("… làm thủ tục xóa").
    const curatedTop = this.procedures.get(top.id)?.status === 'curated';
    const typedAsked = curatedTop ? askedWords(query) : new Set<string>();
    // …or a life event told there implies ("làm lại trên VNeID được không" → "cấp lại").
    if (curatedTop)
      for (const sg of query.segments)
        if (sg.kind === 'variant' && sg.explains?.some((t) => typedAsked.has(t))) for (const t of sg.tokens) typedAsked.add(t);
    const topAction = this.actionOf(top.id);
    if (topAction.length && topAction.every((t) => q.has(t))) return procs;
    const topName = this.nameTokens.get(top.id) ?? [];
    const topSubject = topName.slice(topAction.length ? topAction.length : topName[0] === 'cap' ? 1 : 0);
    for (let i = 1; i < Math.min(procs.length, 4); i++) {
      const v = procs[i] as RetrievalMatch;
      if (v.rank < top.rank * this.options.toldAction) continue;
      const action = this.actionOf(v.id);
      if (!action.length || !action.every((t) => q.has(t)) || action.join(' ') === topAction.join(' ')) continue;
      if (curatedTop && (!action.every((t) => typedAsked.has(t)) || (this.phraseTokens.get(top.id) ?? []).some((ph) => containsRun(ph, action)))) continue;
      // The same subject: the names go on alike ("Giấy chứng nhận kiểm định …"), or the leader's
      // name holds most of it ("thẻ bảo hiểm y tế" of "Đăng ký đóng, cấp thẻ BHYT …").
      const subject = (this.nameTokens.get(v.id) ?? []).slice(action.length);
      const held = this.idfMass(subject.filter((t) => topName.includes(t))) >= this.idfMass(subject) * 0.8;
      if (sharedStart(subject, topSubject) < 3 && !held) continue;
      const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score + 0.01), coverage: Math.max(v.coverage, top.coverage) };
      return [lifted, ...procs.slice(0, i), ...procs.slice(i + 1)];
    }
    return procs;
  }

  /**
   * Two variants of one head, both evidenced: the one whose own words the citizen typed
   * ("giấy miễn thị thực") comes before the one evidenced only by what a story implies
   * ("quốc tịch Đài Loan" → "người nước ngoài").
   */
  private typedVariant(out: RetrievalMatch[], said: ReadonlySet<string>): void {
    const n = Math.min(out.length, 4);
    const typedWord = (t: string) => said.has(t) && !this.fillerWords.has(t);
    for (let i = 0; i < n; i++) {
      const a = out[i] as RetrievalMatch;
      if (!a.variantOf) continue;
      const an = new Set(this.coreTokens.get(a.id) ?? []);
      for (let j = i + 1; j < n; j++) {
        const b = out[j] as RetrievalMatch;
        if (b.variantOf !== a.variantOf || b.rank < a.rank * 0.9) continue;
        const bn = new Set(this.coreTokens.get(b.id) ?? []);
        if (this.ownMass(bn, an, typedWord) < this.options.siblingOwnIdf || this.ownMass(an, bn, typedWord) > 0) continue;
        b.rank = Math.max(b.rank, a.rank + 0.005);
        b.score = Math.max(b.score, a.score + 0.005);
      }
    }
  }

  /** IDF mass of the words of x that y lacks and the message says (`said`): what only x's name tells. */
  private ownMass(x: ReadonlySet<string>, y: ReadonlySet<string>, said: (t: string) => boolean): number {
    let m = 0;
    for (const t of x) if (!y.has(t) && said(t)) m += this.procIndex.idf(t);
    return m;
  }

  /**
   * True when a national record's name begins with another action on its subject ("Cấp
   * đổi", "Cấp lại", "Rút", "Gia hạn", "Thu hồi"…) that the message (typed or implied by
   * a life event) does not mention. "Cấp" alone is the plain issuing.
   */
  private untoldAction(id: string, q: ReadonlyMap<string, number>): boolean {
    if (this.procedures.get(id)?.status === 'curated') return false;
    // (Or the action done again: "Công bố lại …", "Bổ nhiệm lại …" when the message says no "lại".)
    let action = this.actionOf(id);
    const name = this.nameTokens.get(id) ?? [];
    if (!action.length && name[2] === 'lai' && name.length > 3) action = name.slice(0, 3);
    return action.length > 0 && !action.every((t) => q.has(t));
  }

  /**
   * A case the message tells ("đóng hẳn" → "chấm dứt hoạt động", "ghi sai" → "đính
   * chính") that the leading entry's names do not hold, while a close candidate's name
   * does and explains as much of the message: that candidate is the one meant, family or
   * not. A curated entry claims only what its names say ("hộ kinh doanh" names the
   * registration, not its closing).
   */
  private caseOverTop(procs: RetrievalMatch[], query: WeightedQuery): RetrievalMatch[] {
    const top = procs[0];
    if (!top || top.variantOf) return procs;
    // The words the leader was found by, as the citizen typed them (its official words when none).
    const typed = new Set(query.segments[0]?.tokens ?? []);
    const literal = [...top.matched].filter((t) => typed.has(t));
    const head = literal.length ? literal : [...top.matched];
    // Found only by the official form of an everyday word ("sổ đỏ" → "giấy chứng nhận quyền sử
    // dụng đất"): naming any of that word's official forms ("giấy chứng nhận") names the same thing.
    // The same when the leader was found by the everyday word itself (a curated alias "sổ đỏ").
    const forms: (readonly string[])[] = [];
    const terms = query.segments.filter((sg) => sg.kind === 'term' && sg.cue !== undefined);
    const cues = new Set(terms.filter((sg) => sg.tokens.every((t) => top.matched.has(t)) || (!!sg.explains?.length && sg.explains.every((t) => head.includes(t)))).map((sg) => sg.cue));
    for (const sg of terms) if (cues.has(sg.cue)) forms.push(sg.tokens);
    // One case per variants.yaml entry, told by any of its words ("kết hợp" or "nhận cha, mẹ, con");
    // an everyday word the leader was not found by ("thế chấp" → "biện pháp bảo đảm") is a case too.
    // (Such a case takes the lead for a national record only: curated entries sharing a paper are told apart by their own names.)
    const cases = new Map<number, (readonly string[])[]>();
    const termCases = new Set<readonly string[]>();
    // (An everyday word told in the story only, "công ty môi giới yêu cầu …", is background, not the case asked.)
    const s0 = query.segments[0];
    const askedSet = askedWords(query);
    const asked = (words: readonly string[]) => words.some((t) => askedSet.has(t));
    for (const sg of query.segments) {
      if (sg.cue === undefined || (sg.kind !== 'variant' && (sg.kind !== 'term' || cues.has(sg.cue) || !asked(sg.explains ?? [])))) continue;
      const alts = sg.kind === 'term' && sg.explains?.length ? [sg.tokens, sg.explains] : [sg.tokens];
      if (sg.kind === 'term') for (const a of alts) termCases.add(a);
      const l = cases.get(sg.cue);
      if (l) l.push(...alts);
      else cases.set(sg.cue, alts);
    }
    if (!cases.size) return procs;
    // A national record's name without its parenthesised parts: "(đối tượng là công dân Việt Nam,
    // người nước ngoài …)" says who may apply, not a case of its own.
    const names = (id: string) => (this.procedures.get(id)?.status === 'curated' ? (this.phraseTokens.get(id) ?? []) : [this.nameTokens.get(id) ?? []]);
    // Filler words inside a name ("tài sản gắn liền với thửa đất") do not break the run.
    const holds = (id: string, c: readonly string[]) => names(id).some((ph) => containsRun(ph, c) || containsRun(ph.filter((t) => !this.fillerWords.has(t)), c));
    const told = [...cases.values()].filter((alts) => !alts.some((c) => holds(top.id, c))).flat();
    if (!told.length) return procs;
    // The action the leader names and the citizen typed ("xin cấp lại") outweighs one a life event implies ("ngấm nước" → cấp đổi).
    const topAction = this.actionOf(top.id);
    const typedAction = topAction.length > 0 && containsRun(s0?.tokens ?? [], topAction);
    // A form is named when most of its weight is ("quyền sử dụng đất" of "giấy chứng nhận quyền sử dụng đất").
    const namesForm = (v: RetrievalMatch, f: readonly string[]) => this.idfMass(f.filter((t) => v.matched.has(t))) >= this.idfMass(f) * 0.6;
    // Of the candidates that qualify, the one holding the most specific form of the case
    // ("tài sản gắn liền với thửa đất" over "… với đất"), then the first in rank order.
    let best = -1;
    let bestLen = 0;
    for (let i = 1; i < procs.length; i++) {
      const v = procs[i] as RetrievalMatch;
      if (v.score < top.score * this.options.caseOverTop || v.queryCoverage < top.queryCoverage * 0.65) continue;
      if (typedAction && !containsRun(this.nameTokens.get(v.id) ?? [], topAction)) continue;
      const national = this.procedures.get(v.id)?.status !== 'curated';
      const byCue = v.queryCoverage >= top.queryCoverage * 0.9 ? told.filter((c) => holds(v.id, c) && !termCases.has(c)) : [];
      // An everyday word's case ("thế chấp", "thi bằng lái") is held by a national record that names,
      // by its own name, what the leader was found by ("quyền sử dụng đất" for "sổ đỏ"), not only
      // describes it; the official words it is found by weigh less, so it may explain less of the message.
      const byTerm = national ? told.filter((c) => holds(v.id, c) && termCases.has(c)) : [];
      const held = [...byCue, ...byTerm];
      if (!held.length) continue;
      // …and its name holds (most of) what the leader was found by ("hộ kinh doanh"): the same thing, another case
      // (what a record only describes does not count: "tư pháp" in a text is not the "tử" of "khai tử").
      // Weighed by IDF: "ủy quyền" is what "giấy ủy quyền" names, "giấy" is any paper.
      // (Leaving out typed words that say what the thing is — "thú y" of "chứng chỉ hành nghề thú y" — it names another thing.)
      const named = byCue.length
        ? (this.idfMass(head.filter((t) => v.matched.has(t))) >= this.idfMass(head) * 0.7 && !literal.some((t) => !v.explained.has(t) && !this.fillerWords.has(t) && this.procIndex.idf(t) >= this.options.askedRareIdf)) ||
          forms.some((f) => f.every((t) => v.explained.has(t)))
        : head.every((t) => v.matched.has(t)) || forms.some((f) => namesForm(v, f));
      if (!named) continue;
      const len = Math.max(...held.map((c) => c.length));
      if (len > bestLen) {
        best = i;
        bestLen = len;
      }
    }
    if (best < 0) return procs;
    const v = procs[best] as RetrievalMatch;
    const lifted = { ...v, rank: top.rank + 0.01, score: Math.max(v.score, top.score + 0.01), coverage: Math.max(v.coverage, top.coverage), variantOf: top.id, variantEvidence: 1 };
    return [lifted, ...procs.slice(0, best), ...procs.slice(best + 1)];
  }

  /**
   * How sure we are the message is abusive: `strong` for an unmistakable word, `weak`
   * when the only match is an ambiguous word typed without accents ("deo" may be "đeo").
   */
  private abuseOf(prep: Prepared): 'strong' | 'weak' | null {
    let level: 'strong' | 'weak' | null = null;
    // Read as typed: in a message typed with accents, "con cho đối tác" is "cho", not "chó".
    for (const m of findPhrases(prep.tokens, prep.exact, this.abuseList)) {
      const p = this.abuseList[m.phrase] as CuePhrase;
      const ambiguous = p.folded.length === 1 && prep.accents[m.start] === null && this.ambiguousAbuse.has(p.folded[0] as string);
      if (!ambiguous) return 'strong';
      level = 'weak';
    }
    return level;
  }

  /**
   * True when the words a general answer was found by (`faqWords`) are none of the
   * procedure's and read, in the message's order, as asking where or whether online, and
   * nothing else: the named procedure's own place or channel answers that better than the
   * centre's address or the general online guide.
   */
  private asksOnlyAspect(tokens: readonly string[], faqWords: ReadonlySet<string>, procWords: ReadonlySet<string>): boolean {
    // A shared word typed next to a word only the general answer holds is the answer's ("sơ" of "hồ sơ", not "sổ").
    const faqOwned = (t: string) =>
      tokens.some((x, i) => x === t && [tokens[i - 1], tokens[i + 1]].some((n) => n !== undefined && faqWords.has(n) && !procWords.has(n)));
    if (!faqWords.size || [...faqWords].some((t) => procWords.has(t) && !faqOwned(t))) return false;
    const words = tokens.filter((t) => faqWords.has(t));
    const ranked = this.classifier.classify(words, ASPECTS).ranked;
    const best = ranked[0];
    if (!best || (best.label !== 'procedure.location' && best.label !== 'procedure.online') || best.p < this.options.aspectMin || !this.hasCue(words, best.label)) return false;
    // "thanh toán lệ phí trực tuyến" asks how to pay, a topic of its own: one aspect, clearly.
    return !ranked.some((r) => r.label !== best.label && r.label !== 'procedure.overview' && r.p >= 0.2);
  }

  /** A two-word cue for the aspect ("qua mạng", "ở đâu", "bao lâu") in the tokens. */
  private pairCue(tokens: readonly string[], aspect: IntentId): boolean {
    const others = ASPECTS.filter((x) => x !== aspect);
    return tokens.slice(1).some((t, i) => {
      const pair = `${tokens[i]} ${t}`;
      return !NOT_CUE_PAIRS.has(pair) && this.classifier.distinctive([tokens[i] as string, t], aspect, others, this.options.aspectCueRatio, true);
    });
  }

  /** True when the words carry a cue specific to this aspect (not a common word like "đi"). */
  private hasCue(tokens: readonly string[], aspect: IntentId): boolean {
    // "thu tuc" is "thủ tục": its "thu" is not the "thu" of "thu phí".
    const cues = tokens.filter((t, i) => !NOT_CUES.has(t) && !(t === 'thu' && tokens[i + 1] === 'tuc'));
    const others = ASPECTS.filter((x) => x !== aspect);
    return this.classifier.distinctive(cues, aspect, others, this.options.aspectCueRatio) || this.pairCue(tokens, aspect);
  }

  /** Sum of the IDF of the words (how much they say). */
  private idfMass(tokens: readonly string[]): number {
    let m = 0;
    for (const t of tokens) m += this.procIndex.idf(t);
    return m;
  }

  private correct(tokens: string[], accents: readonly (string | null)[], withAccents = false): { tokens: string[]; unknown: number } {
    let unknown = 0;
    const out = tokens.map((t, i) => {
      if (this.known.has(t) || /^\d+$/.test(t)) return t;
      // Short words, non-Vietnamese letters and words typed with their accents (a real
      // syllable the knowledge does not use, "vuông") are not corrected: too many false friends.
      const c = t.length >= 4 && !/[wfjz]/.test(t) && !accents[i] ? this.corrector.correct(t) : undefined;
      // In a message typed with accents, a plain word is corrected only to a word that is
      // written plain ("sihn" → "sinh"); "Loan" is a name, not "toàn" without its accents.
      if (c && (!withAccents || this.plainWords.has(c))) return c;
      unknown++;
      return t;
    });
    return { tokens: out, unknown };
  }

  private resolveOption(tokens: string[], ctx: UnderstandingContext): string | null {
    const pending = ctx.pendingOptions;
    if (!pending || !pending.ids.length) return null;
    const content = tokens.filter((t) => !['cai', 'so', 'thu', 'chon', 'phuong', 'an', 'muc', 'y', 'la', 'a', 'nhe', 'di'].includes(t));
    if (content.length === 1) {
      const t = content[0] as string;
      const n = /^\d+$/.test(t) ? Number(t) : ORDINALS[t];
      if (n && n >= 1 && n <= pending.ids.length) return pending.ids[n - 1] ?? null;
    }
    if (!content.length || content.length > 8) return null;
    // A partial name of one of the options ("cái cấp lại", "khai sinh").
    const names = pending.ids.map((id) => ({ id, text: expand(foldTokens(canonicalize(this.procedures.get(id)?.name ?? id)), this.data.lexicon).join(' ') }));
    const fuse = new Fuse(names, { keys: ['text'], includeScore: true, ignoreLocation: true, threshold: 0.35 });
    const hit = fuse.search(content.join(' '))[0];
    return hit && (hit.score ?? 1) < 0.35 ? hit.item.id : null;
  }

  /** Developer aid: the raw signals behind a decision (retrieval and classifier scores). */
  explain(text: string): object {
    const prep = this.prepare(text);
    const { tokens, cls, ret } = prep;
    const { query, content, focus, implied } = this.query(prep);
    const procs = this.candidates(query, content, prep);
    const clsFocus = focus ? cls.filter((_, i) => focus[i]) : cls;
    const residual = procs[0] ? this.maskProcedure(ret, procs[0].id, cls, focus ?? undefined, prep.accents) : clsFocus;
    const top = (c: { ranked: { label: string; p: number }[] }) => c.ranked.slice(0, 4).map((x) => `${x.label}:${x.p.toFixed(2)}`);
    const told = caseViews(query).q;
    const u = this.understand(text);
    return {
      decision: { intent: u.intent, procedure: u.procedure, faq: u.faq, confidence: u.confidence, clarify: u.clarify, aspects: u.aspects, variants: u.variants, abuse: u.abuse },
      clauses: prep.clauses.map((c) => `${c.role}: ${c.text.trim()}`),
      tokens,
      content,
      implied,
      procs: procs.map((p) => ({
        id: p.id,
        name: this.procedures.get(p.id)?.name.slice(0, 80),
        score: round(p.score),
        nameCoverage: round(p.coverage),
        messageCoverage: round(p.queryCoverage),
        matched: [...p.matched].join(' '),
        described: (p.described ?? []).join(' '),
        variantOf: p.variantOf,
        variantEvidence: p.variantEvidence,
        // Named another action ("Cấp đổi…", "Rút…") the message does not mention: ranked lower.
        otherAction: this.untoldAction(p.id, told) || undefined,
      })),
      faqs: this.faqIndex.search(ret, 2).map((f) => `${f.id}:${f.score.toFixed(2)}:${[...f.matched].join(' ')}`),
      residual,
      classified: top(this.classifier.classify(clsFocus.length ? clsFocus : cls)),
      residualAll: top(this.classifier.classify(residual)),
      residualAspects: top(this.classifier.classify(residual, ASPECTS)),
    };
  }

  /** Understands one message in its conversation context. Never throws on any string. */
  understand(text: string, ctx: UnderstandingContext = {}): Understanding {
    const o = this.options;
    const raw = text.length > 2000 ? text.slice(0, 2000) : text;
    const prep = this.prepare(raw);
    const { norm, tokens, unknown, cls, ret } = prep;
    const foldedText = fold(norm.canon);
    const code = findDossierCode(raw);
    const base: Understanding = {
      intent: 'out_of_scope',
      procedure: null,
      faq: null,
      dossierCode: code?.code ?? null,
      malformedCode: null,
      confidence: 0,
      alternatives: [],
      clarify: false,
      followUp: false,
      choseOption: false,
      command: null,
      entities: { age: findAge(foldedText), channel: findChannel(tokens) },
      tokens,
      abuse: this.abuseOf(prep),
      aspects: [],
      variants: [],
    };
    const joined = ` ${tokens.join(' ')} `;
    // "theo dõi hồ sơ …", "hủy theo dõi mã …": the words together, not "có người theo dõi" somewhere and "ma túy" elsewhere.
    const followCmd = / theo doi (ho so|ma) /.test(joined) ? (/ (huy|ngung|dung|bo|thoi) theo doi /.test(joined) ? 'unfollow' : 'follow') : null;
    if (code || followCmd) return { ...base, intent: 'dossier.status', command: followCmd, confidence: code ? 0.99 : 0.9 };

    // A reply to numbered options ("2", "cái thứ hai", part of a name).
    const chosen = this.resolveOption(tokens, ctx);
    if (chosen) {
      return { ...base, intent: ctx.pendingOptions?.aspect ?? 'procedure.overview', procedure: chosen, confidence: 0.95, choseOption: true };
    }
    if (!tokens.length) return { ...base, intent: 'out_of_scope', confidence: 0.3 };
    // "ok", "dạ", "vâng", "hả" on their own: an opening is a greeting; after an answer,
    // an acknowledgement (thanks) or, for "hả?", a request to see the procedure again.
    if (tokens.length <= 2 && tokens.every((t) => ACKNOWLEDGEMENTS.has(t))) {
      if (!ctx.lastProcedure) return { ...base, intent: 'greeting', confidence: 0.6 };
      if (tokens.some((t) => PUZZLED.has(t)) && this.procedures.has(ctx.lastProcedure)) {
        return { ...base, intent: 'procedure.overview', procedure: ctx.lastProcedure, followUp: true, confidence: 0.5 };
      }
      return { ...base, intent: 'thanks', confidence: 0.6 };
    }

    const { query, content, focus } = this.query(prep);
    let procs = this.candidates(query, content, prep);
    // Typo fallback: fuzzy alias lookup when nothing fits and some words are unknown, for short
    // messages only (a typo of a short name; over 5 words fuse.js costs 2–13 ms and found nothing
    // on the golden, dev and held-out sets).
    if ((procs[0]?.score ?? 0) < o.procedureWeak && content.length && content.length <= 5 && content.some((t) => t.length >= 3 && !this.known.has(t))) {
      const hit = this.aliasFuse.search(content.join(' '))[0];
      if (hit && (hit.score ?? 1) < 0.3) procs = [{ id: hit.item.id, index: this.procIndex.indexOf(hit.item.id), score: o.procedureStrong, rank: o.procedureStrong, faqScale: o.procedureStrong, matched: new Set(content), coverage: 0.5, explained: new Set(content), queryCoverage: 0.5 }];
    }
    // Two procedures named in full ("đăng ký kết hôn có cần giấy độc thân không"): the
    // one named first is what the question is about.
    const p0 = procs[0];
    const p1 = procs[1];
    const bothNamed = !!(p0 && p1 && p0.coverage >= 0.99 && p1.coverage >= 0.99 && p1.score >= p0.score * 0.7);
    if (p0 && p1 && bothNamed) {
      // Where each one's best name starts in the question ("… có xin bản sao trích lục kết hôn
      // qua mạng được không?"), else in the message: the story before it names things in passing.
      // (A word both names hold, "tạm" of "tạm trú" and "tạm vắng", places neither, when each has a word of its own.)
      const other = (m: RetrievalMatch) => (m === p0 ? p1 : p0).matched;
      const at = (m: RetrievalMatch, asked: boolean, own: boolean) => ret.findIndex((t, i) => (!asked || focus?.[i] === true) && m.matched.has(t) && !(own && other(m).has(t)) && !this.fillerWords.has(t));
      const own = at(p0, false, true) >= 0 && at(p1, false, true) >= 0;
      const first = (m: RetrievalMatch) => {
        const q0 = focus ? at(p0, true, own) : -1;
        const q1 = focus ? at(p1, true, own) : -1;
        return q0 >= 0 && q1 >= 0 ? at(m, true, own) : at(m, false, own);
      };
      const f0 = first(p0);
      const f1 = first(p1);
      // One explains everything the other does and more ("trợ cấp" / "trợ cấp thất nghiệp"): it is the one meant.
      const longer = p1.explained.size > p0.explained.size && [...p0.explained].every((w) => p1.explained.has(w));
      // A variant that won over its head on evidence keeps its place.
      const family = p0.variantOf === p1.id || p1.variantOf === p0.id;
      // …and the first one already explains everything the second does ("liên thông khai tử mai táng phí").
      // (Or the second is a part the first names, and the message names another part too:
      // "khai tử, cắt khẩu và mai táng phí" is the package "Liên thông … khai tử, xóa đăng ký thường trú, … mai táng phí".)
      const p1Name = this.nameTokens.get(p1.id) ?? [];
      const part = p1Name.length >= 2 && containsRun(this.nameTokens.get(p0.id) ?? [], p1Name) && [...p0.matched].some((w) => !p1.explained.has(w) && !this.fillerWords.has(w));
      const covers = part || ([...p1.explained].every((w) => p0.explained.has(w)) && p0.explained.size > p1.explained.size);
      // "… chưa đăng ký tạm trú thì có phải khai báo tạm vắng không": what follows "thì" is asked, what precedes it is the condition.
      const thi = tokens.findLastIndex((t, i) => t === 'thi' && (prep.accents[i] ?? 'thì') === 'thì');
      // (Within one clause: "… thì cần giấy tờ gì, có phải về quê cắt khẩu trước không?" asks the first, and checks the second.)
      const spans = clauseSpans(prep);
      const clauseAt = (i: number) => spans.findIndex(([, e]) => i < e);
      const afterThi = thi > 0 && f0 >= 0 && f0 < thi && f1 > thi && clauseAt(f1) === clauseAt(thi);
      if (!family && !covers && f1 >= 0 && (f0 < 0 || f1 < f0 || longer || afterThi)) procs = [p1, p0, ...procs.slice(2)];
    }
    const faqs = this.faqIndex.search(ret, 3);
    const top = procs[0];
    const ftop = faqs[0];
    // The classifier reads the clauses that ask; the story around them is not the question.
    const clsFocus = focus ? cls.filter((_, i) => focus[i]) : cls;
    const full = this.classifier.classify(clsFocus.length ? clsFocus : cls);
    const fullTop = full.ranked[0] ?? { label: 'out_of_scope' as IntentId, p: 0 };

    const residual = top ? this.maskProcedure(ret, top.id, cls, focus ?? undefined, prep.accents) : clsFocus.length ? clsFocus : cls;
    const aspectOf = (): { aspect: Aspect; p: number; signal: boolean } => {
      const c = this.classifier.classify(residual, ASPECTS);
      const best = c.ranked[0] ?? { label: 'procedure.overview' as Aspect, p: 0 };
      if (c.known === 0) return { aspect: 'procedure.overview', p: 0.6, signal: false };
      const said = ` ${residual.join(' ')} `;
      // "trễ hạn quá 60 ngày thì làm sao": a number of days told, a "how" asked — not how long.
      if (best.label === 'procedure.duration' && HOW_ASKED.test(said) && !DURATION_ASKED.test(said)) return { aspect: 'procedure.overview', p: 0.5, signal: false };
      // "nộp online ở đâu": where to submit online is the online question.
      if ((best.label === 'procedure.location' || best.label === 'procedure.online') && ONLINE_WHERE.test(said)) return { aspect: 'procedure.online', p: best.p, signal: true };
      // "xin gia hạn ở công an tỉnh", "xin ở công an phường thế nào": naming the office is
      // context; a question about the place asks it ("ở đâu", "phường nào", "xã hay tỉnh").
      if (best.label === 'procedure.location' && !asksPlace(residual, clsFocus.length ? clsFocus : cls)) return { aspect: 'procedure.overview', p: 0.5, signal: false };
      const second = c.ranked[1];
      // "em muốn hỏi … ở đâu ạ": polite words lean to the overview; a question cue of its own
      // ("ở đâu", "bao lâu", "mấy tiền") is the question.
      if (best.label === 'procedure.overview' && second && second.label !== 'procedure.overview' && second.p >= 0.3 && this.hasCue(residual, second.label)) {
        if (second.label !== 'procedure.location' || asksPlace(residual, clsFocus.length ? clsFocus : cls)) return { aspect: second.label as Aspect, p: second.p, signal: true };
      }
      // A long residual saturates the classifier on its polite words ("tôi muốn hỏi có … được
      // không hay bắt buộc phải …"): one aspect with a two-word cue of its own ("qua mạng") is the question.
      if (best.label === 'procedure.overview' && residual.length >= 8) {
        const place = asksPlace(residual, clsFocus.length ? clsFocus : cls);
        const cued = ASPECTS.filter((a) => a !== 'procedure.overview' && (a !== 'procedure.location' || place) && this.pairCue(residual, a));
        // "qua mạng được không hay phải về xã": going in person is the alternative to online, the question is online.
        const pick = cued.length === 2 && cued.includes('procedure.online') && cued.includes('procedure.location') ? 'procedure.online' : cued.length === 1 ? cued[0] : undefined;
        if (pick) return { aspect: pick as Aspect, p: 0.6, signal: true };
      }
      // "lệ phí … online": online qualifies the other aspect rather than being the question.
      if (best.label === 'procedure.online' && second && second.label !== 'procedure.overview' && second.p >= 0.1 && this.hasCue(residual, second.label)) {
        return { aspect: second.label as Aspect, p: second.p + best.p / 2, signal: true };
      }
      // A weak signal ("cho khách", "công nhận") is not a question about one aspect, and
      // neither are words shared by several aspects ("được không", "đi"): the chosen aspect
      // needs a cue of its own.
      if (best.p < o.aspectMin) return { aspect: 'procedure.overview', p: 1 - best.p, signal: false };
      if (best.label !== 'procedure.overview' && !this.hasCue(residual, best.label)) {
        // "… ra xã làm được không": "được không" leans online, the place it names is the question.
        if (best.label === 'procedure.online' && asksPlace(residual, clsFocus.length ? clsFocus : cls)) return { aspect: 'procedure.location', p: 0.6, signal: true };
        return { aspect: 'procedure.overview', p: 0.5, signal: false };
      }
      return { aspect: best.label as Aspect, p: best.p, signal: true };
    };

    // Strong means the message names most of the procedure, not only that it explains the message.
    const procStrong = top && top.score >= o.procedureStrong && top.coverage >= o.procedureStrongCoverage;
    const faqStrong = ftop && ftop.score >= o.faqStrong;
    const alternatives = (list: RetrievalMatch[]) =>
      list.filter((m) => m.score >= o.procedureWeak).slice(0, o.maxOptions).map((m) => ({ procedure: m.id, score: round(m.score) }));

    // A clearly named procedure: the rest of the message says which aspect.
    // An FAQ topic beats a procedure only on the same scale: for a short question, the FAQ
    // index's (name share first); a long story is judged on the procedure scale.
    const procVsFaq = content.length <= 6 ? top?.faqScale : top?.score;
    // In a long message, a procedure that explains every word the general answer was found by is the more specific answer.
    // ("More" is a word that says something: "giấy" of "giấy ủy quyền" adds nothing to the ủy quyền FAQ.)
    const faqAddsNothing =
      content.length > 6 && !!ftop && !!top && [...ftop.matched].every((t) => top.explained.has(t)) && [...top.explained].some((t) => !ftop.matched.has(t) && !this.fillerWords.has(t) && this.procIndex.idf(t) >= o.refinedWordIdf);
    // "nộp hồ sơ thai sản ở đâu", "xin xác nhận cư trú online được không": the general answer
    // was found only by the words that ask an aspect, and the message names a procedure: the
    // question is that procedure's place or channel, not the centre's.
    const faqOnlyAsks = !!ftop && !!top && this.asksOnlyAspect(ret, ftop.matched, top.explained);
    // "… có thể tự nộp hoặc ủy quyền cho chủ đầu tư. Tôi tự nộp thì cần giấy tờ gì?": the general
    // topic is only in the story, the question asks an aspect of the procedure the story names.
    // (Evaluated only when the general answer would otherwise win: it classifies the question again.)
    const faqInStory = () => !!focus && !!ftop && !ret.some((t, i) => focus[i] === true && ftop.matched.has(t)) && this.classifier.classify(clsFocus.length ? clsFocus : cls, ASPECTS).ranked[0]?.label !== 'procedure.overview';
    if (procStrong && !(faqStrong && !faqAddsNothing && !faqOnlyAsks && (ftop?.score ?? 0) > (procVsFaq ?? 0) && !faqInStory())) {
      // With a procedure named, its aspects are a priori far more likely than other intents.
      const residualClass = this.classifier.classify(residual);
      const boosted = residualClass.ranked.map((x) => ({ label: x.label, p: x.p * (ASPECTS.includes(x.label as Aspect) ? o.aspectPrior : 1) }));
      const z = boosted.reduce((a, b) => a + b.p, 0) || 1;
      const rTop = boosted.map((x) => ({ label: x.label, p: x.p / z })).sort((a, b) => b.p - a.p)[0];
      if (
        rTop &&
        OVERRIDES_PROCEDURE.includes(rTop.label) &&
        rTop.p >= o.overrideProcedure &&
        this.classifier.distinctive(residual, rTop.label, ASPECTS) &&
        // "làm hồ sơ sao", "chuẩn bị hồ sơ thế nào": a dossier still to be made has no status to look up.
        !(rTop.label === 'dossier.status' && PREPARING.test(` ${residual.join(' ')} `))
      ) {
        return { ...base, intent: rTop.label, procedure: rTop.label === 'dossier.status' ? null : top.id, confidence: round(rTop.p) };
      }
      // "kể chuyện cười" matches "cưới" (kết hôn) once folded: the rest of the message says it is chit-chat.
      if (rTop?.label === 'out_of_scope' && rTop.p >= 0.8 && top.score < 0.65 && this.classifier.distinctive(residual, 'out_of_scope', ASPECTS)) {
        return { ...base, intent: 'out_of_scope', confidence: round(rTop.p * 0.8) };
      }
      // When the rest of the message reads as something else ("cho người đã chuyển đi"),
      // only a clear aspect cue ("hồ sơ") counts; otherwise answer with the overview.
      const asp0 = aspectOf();
      const asp = rTop && CHIT_CHAT.includes(rTop.label) && asp0.p < 0.9 ? { aspect: 'procedure.overview' as Aspect, p: 0.5, signal: false } : asp0;
      let aspect = asp.aspect;
      const { p, signal } = asp;
      const isFollowUpPhrase = / (con|the con) /.test(` ${tokens[0]} `) || / thi sao /.test(joined);
      if (ctx.lastAspect && ctx.lastAspect !== 'procedure.overview' && isFollowUpPhrase && (!signal || aspect === 'procedure.overview')) {
        aspect = ctx.lastAspect;
      }
      const second = procs[1];
      // Close candidates are offered as options; a near tie is offered even when the top one
      // is fully named, unless the two are one family (the variant logic decided) or the
      // message names both (the first named is the topic).
      const related = !!second && (second.variantOf === top.id || top.variantOf === second.id || this.families.relatives(top.index).includes(second.index));
      const nearTie = !!second && !related && !bothNamed && second.score >= top.score * o.nearTieRatio;
      const clarify = !!second && second.score >= o.procedureWeak && ((second.score >= top.score * o.clarifyRatio && top.coverage < 0.999) || nearTie);
      const confidence = Math.min(1, top.score) * (0.6 + 0.4 * p) * (clarify ? 0.7 : 1);
      return {
        ...base,
        intent: aspect,
        procedure: top.id,
        confidence: round(confidence),
        alternatives: alternatives(procs.slice(clarify ? 0 : 1)),
        clarify,
        entities: base.entities,
        aspects: this.otherAspects(this.clauseResiduals(prep, top.id), aspect),
        variants: top.variantOf ? [] : this.variantsOf(top, procs),
      };
    }

    // "Xin chào, tôi cần hỗ trợ": a greeting first, with nothing specific after it.
    if (GREETING_START.test(joined) && fullTop.label === 'greeting' && (!ftop || ftop.score < 0.8) && (!top || top.score < o.procedureStrong)) {
      return { ...base, intent: 'greeting', confidence: 0.7 };
    }

    // A general question (hours, address, online account…).
    // The FAQ wins unless the words outside the FAQ's own phrase ask for something else
    // ("số tổng đài" is the hotline FAQ, not a hand-off).
    const faqRest = ftop ? cls.filter((t) => !ftop.matched.has(t)) : cls;
    // "… có được hỗ trợ thiệt hại không, nộp hồ sơ ở đâu?": the general answer was found only by
    // the words that ask where, and a procedure is found by a rare word the citizen typed: the
    // question is that procedure's place (offered with its close alternatives), not the centre's address.
    const rareNamed = (m: RetrievalMatch) => {
      // (An everyday name's official form counts as typed: "sổ đỏ" names "giấy chứng nhận quyền sử dụng đất".)
      const termWords = new Set(query.segments.filter((sg) => sg.kind === 'term').flatMap((sg) => sg.tokens));
      const typedMatched = [...m.matched].filter((t) => (ret.includes(t) || termWords.has(t)) && !this.fillerWords.has(t));
      // (A rare word, or a long name of common words: "giấy chứng nhận quyền sử dụng đất".)
      return typedMatched.length >= 2 && (typedMatched.some((t) => this.procIndex.idf(t) >= o.askedRareIdf) || this.idfMass(typedMatched) >= 3 * o.askedRareIdf);
    };
    if (faqStrong && faqOnlyAsks && top && top.score >= o.faqOnlyAsksProcedure && rareNamed(top)) {
      const { aspect, p } = aspectOf();
      return { ...base, intent: aspect, procedure: top.id, confidence: round(top.score * (0.5 + 0.3 * p)), clarify: true, alternatives: alternatives(procs) };
    }
    // A procedure that explains every word the general answer was found by, and more, and scores as
    // high ("dời trụ sở công ty" is not the centre's "trụ sở"): the procedure is asked.
    const procCoversFaq = faqAddsNothing && !!top && top.score >= (ftop?.score ?? 0);
    if (faqStrong && !procCoversFaq && !(OVERRIDES_PROCEDURE.includes(fullTop.label) && fullTop.p >= o.overrideProcedure && this.classifier.distinctive(faqRest.filter((t) => !NOT_CUES.has(t)), fullTop.label, ['faq']))) {
      const aspectFollow =
        ctx.lastProcedure && (ftop?.score ?? 0) < 0.95 && ASPECTS.includes(fullTop.label as Aspect) && fullTop.label !== 'procedure.overview' && fullTop.p >= 0.5;
      if (!aspectFollow) return { ...base, intent: 'faq', faq: ftop.id, confidence: round(Math.min(1, ftop.score)) };
    }

    if (full.known === 0 || (unknown > 0 && full.known <= 1 && unknown >= tokens.length / 2)) {
      // Nothing we recognise. A weak procedure guess is still worth offering.
      if (top && top.score >= o.procedureWeak) {
        return { ...base, intent: 'procedure.overview', procedure: top.id, confidence: round(top.score * 0.6), clarify: true, alternatives: alternatives(procs) };
      }
      return { ...base, intent: 'out_of_scope', confidence: 0.5 };
    }

    const label = fullTop.label;
    if (label === 'out_of_scope' && fullTop.p >= 0.8) return { ...base, intent: 'out_of_scope', confidence: round(fullTop.p * 0.8) };
    if (ASPECTS.includes(label as Aspect)) {
      const aspectLabel = label as Aspect;
      if (ctx.lastProcedure && this.procedures.has(ctx.lastProcedure) && (!top || top.score < o.procedureWeak || aspectLabel !== 'procedure.overview')) {
        if (aspectLabel !== 'procedure.overview' || !top) {
          return { ...base, intent: aspectLabel, procedure: ctx.lastProcedure, followUp: true, confidence: round(0.5 + 0.4 * fullTop.p) };
        }
      }
      if (top && top.score >= o.procedureWeak) {
        const { aspect, p } = aspectOf();
        return { ...base, intent: aspect, procedure: top.id, confidence: round(top.score * (0.5 + 0.3 * p)), clarify: true, alternatives: alternatives(procs) };
      }
      if (aspectLabel === 'procedure.overview' || !this.hasCue(cls, aspectLabel)) return { ...base, intent: 'out_of_scope', confidence: 0.3 };
      // "Tôi không biết nộp online": with no procedure in sight, a general answer that fits beats asking which procedure.
      if (ftop && ftop.score >= o.faqForBareAspect) {
        return { ...base, intent: 'faq', faq: ftop.id, confidence: round(ftop.score) };
      }
      return { ...base, intent: aspectLabel, confidence: round(0.4 * fullTop.p) };
    }
    if (label === 'faq') {
      // A weak general answer does not beat a procedure that fits better ("… ở đâu" of a named procedure).
      const procFitsBetter = !!top && top.score >= o.procedureWeak && top.score > (ftop?.score ?? 0);
      if (ftop && ftop.score >= 0.3 && !procFitsBetter) return { ...base, intent: 'faq', faq: ftop.id, confidence: round(ftop.score) };
      if (top && top.score >= o.procedureWeak) {
        return { ...base, intent: 'procedure.overview', procedure: top.id, confidence: round(top.score * 0.6), clarify: true, alternatives: alternatives(procs) };
      }
      return { ...base, intent: 'out_of_scope', confidence: 0.3 };
    }
    // "… làm hồ sơ gì" names a procedure and asks its papers; "tiền" folded is not the "tiến" of "tiến độ hồ sơ".
    const asksPapers = label === 'dossier.status' && !!top && top.score >= o.procedureWeak && (tokens.includes('gi') || tokens.includes('j')) && this.hasCue(clsFocus.length ? clsFocus : cls, 'procedure.documents');
    // "hồ sơ … nộp ở đâu, bao lâu có kết quả": a dossier not yet submitted has no status to look up.
    const asksWhereToFile = label === 'dossier.status' && !!top && top.score >= o.procedureWeak && tokens.some((t, i) => t === 'nop' && tokens.slice(i + 1, i + 5).some((x, k, r) => x === 'dau' || (x === 'nao' && r[k - 1] !== 'the')));
    const preparing = label === 'dossier.status' && !!top && top.score >= o.procedureWeak && PREPARING.test(` ${tokens.join(' ')} `);
    // "Cháu chào cô chú, mẹ cháu … làm đơn gửi ai ạ?": a letter that asks is no greeting and no
    // thank-you, whatever its polite words; with no procedure in sight its question is answered as an aspect.
    const politeLetter = (label === 'greeting' || label === 'thanks') && !!focus && content.length >= LONG_LETTER_WORDS;
    if (SOCIAL.includes(label) && label !== 'out_of_scope' && fullTop.p >= o.socialMin && !asksPapers && !asksWhereToFile && !preparing && !politeLetter) {
      return { ...base, intent: label, confidence: round(fullTop.p) };
    }
    if (top && top.score >= o.procedureWeak) {
      const { aspect, p } = aspectOf();
      return { ...base, intent: aspect, procedure: top.id, confidence: round(top.score * (0.5 + 0.3 * p)), clarify: true, alternatives: alternatives(procs) };
    }
    if (politeLetter) {
      const { aspect, p } = aspectOf();
      return { ...base, intent: aspect, confidence: round(0.4 * p) };
    }
    // An intent that acts (hand the citizen to staff, file a complaint, look up a dossier) is not
    // taken on a weak guess ("că" is no request for a person): below the social threshold it is "not understood".
    return { ...base, intent: label === 'out_of_scope' || OVERRIDES_PROCEDURE.includes(label) ? 'out_of_scope' : label, confidence: round(fullTop.p * 0.8) };
  }
}

/**
 * True when folded words ask where: "ở đâu", "chỗ nào", "phường nào", "cho ai", "xã hay
 * tỉnh", "địa chỉ", "có làm ở xã được không". "Thế nào", "ra sao" ask how, and a
 * statement that names an office ("gia hạn ở công an tỉnh") asks nothing about the place.
 */
export function asksPlace(tokens: readonly string[], asked: readonly string[] = tokens): boolean {
  let how = false;
  let yesNo = false;
  // The place word may have been taken as part of the procedure's name ("… làm ở xã được không").
  let at = asked.some((_, k) => placeWordAt(asked, k));
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const prev = tokens[i - 1];
    if (t === 'dau' && (negatedNowhere(tokens, i) || FIRST_BEFORE.has(prev as string))) continue;
    if (t === 'dau' || t === 'ai' || t === 'hay' || (t === 'noi' && prev !== 'ben')) return true;
    if ((t === 'chi' || t === 'diem') && prev === 'dia') return true;
    if (t === 'nao') {
      if (prev === 'the' || prev === 'cach') how = true;
      else return true;
    }
    if (t === 'sao' && (prev === 'ra' || prev === 'lam')) how = true;
    // "… ở xã được không", "có phải về quê không": a place, then the yes/no ending
    // ("không còn" is a negation, "khai báo với công an xã không" asks whether, not where).
    if (placeWordAt(tokens, i)) at = true;
    if (t === 'khong' && at && tokens.slice(i + 1).every((x) => YES_NO_TAIL.has(x))) yesNo = true;
  }
  // "… phải ra công an xã à / hả": "phải" + a place + the questioning "à", "hả" at the end.
  if (at && (tokens[tokens.length - 1] === 'a' || tokens[tokens.length - 1] === 'ha') && tokens.includes('phai')) yesNo = true;
  return yesNo && !how;
}

/** A word that puts what follows at a place: "ở", "tại", "về", "đến", and "ra" / "lên" before an office ("ra ubnd xã", not "ra kết quả"). */
function placeWordAt(tokens: readonly string[], i: number): boolean {
  const t = tokens[i];
  // (The "ở" of "đất ở", "nhà ở" is the kind of land or housing, not a place.)
  if (t === 'o') return tokens[i - 1] !== 'dat' && tokens[i - 1] !== 'nha';
  return t === 'tai' || t === 've' || t === 'den' || ((t === 'ra' || t === 'len') && PLACE_AFTER_GO.has(tokens[i + 1] as string));
}

/**
 * "Đâu" that says "nowhere" or "not", not "where": "chưa nộp ở đâu cả", "không đi đâu hết",
 * "đâu có biết", "đâu phải lỗi của tôi".
 */
function negatedNowhere(tokens: readonly string[], i: number): boolean {
  const next = tokens[i + 1];
  if (next === 'co' || next === 'phai') return true;
  if (next !== 'ca' && next !== 'het') return false;
  for (let k = Math.max(0, i - 6); k < i; k++) if (NOWHERE_NEGATIONS.has(tokens[k] as string)) return true;
  return false;
}
/** Offices after "ra" / "lên" ("ra ubnd xã", "lên công an tỉnh"); "ra kết quả" is not a place. */
const PLACE_AFTER_GO = new Set(['xa', 'phuong', 'tinh', 'ubnd', 'uy', 'cong', 'so', 'trung', 'buu', 'bo', 'ub']);
/** Words before an "đầu" (first, head) typed plain as "dau": "lần đầu", "ban đầu", "bắt đầu", "hàng đầu". */
const FIRST_BEFORE = new Set(['lan', 'ban', 'bat', 'hang', 'dung', 'mo']);

/** Particles that may follow the "không" of a yes/no question. */
const YES_NO_TAIL = new Set(['a', 'nhi', 'nhe', 'vay', 'ha', 'the', 'chi', 'em', 'anh', 'ad']);

/** True when `run` occurs contiguously in `tokens`. */
function containsRun(tokens: readonly string[], run: readonly string[]): boolean {
  for (let i = 0; i + run.length <= tokens.length; i++) if (run.every((t, k) => tokens[i + k] === t)) return true;
  return false;
}

/**
 * First words of a name that make it another action on the same thing ("Rút yêu cầu trợ
 * giúp pháp lý", "Cấp đổi giấy chứng nhận…", "Gia hạn…"): without a sign of it in the
 * message, such a variant is not answered in place of its head.
 */
const OTHER_ACTIONS = new Set(['rut', 'huy', 'thu', 'cham', 'tam', 'gia', 'xoa', 'dieu', 'thay', 'dinh', 'khoi', 'doi', 'ngung', 'dung', 'truy', 'uy']);

/** Folded words that acknowledge or ask "huh?" and say nothing else. */
const ACKNOWLEDGEMENTS = new Set(['ok', 'oke', 'okie', 'okay', 'da', 'vang', 'u', 'uh', 'uhm', 'um', 'ung', 'a', 'ha', 'ho', 'hu', 'yes', 'vay']);
const PUZZLED = new Set(['ha', 'ho', 'hu']);

/** Words that join two questions in one message ("giấy tờ gì và nộp ở đâu"). */
const ASPECT_JOINERS = new Set(['va', 'voi', 'con', 'hay', 'them', 'cung']);

/** Folded forms of abusive words that are everyday words too ("đi", "đeo", "cụt"). */
const COMMON_FOLDED = new Set(['di', 'deo', 'cut']);

/** Words too common to be an aspect cue on their own (pairs such as "ở đâu", "cần gì" still are). */
export const NOT_CUES = new Set(['phai', 'dong', 'xa', 'phuong', 'tinh', 'cong', 'an', 'uy', 'ban', 'di', 'cho', 'co', 'khong', 'duoc', 'lam', 'la', 'thi', 'toi', 'em', 'minh', 'ban', 'a', 'o', 'nay', 'nhe', 'voi', 'con', 'lai', 'sao', 'the', 'nao', 'gi', 'can', 'xin', 'muon', 've', 'den', 'va', 'hay', 'roi', 'chua', 'han', 'het', 'tren', 'khi', 'gio', 'truoc']);

/**
 * The query as evidence for a case: what the citizen wrote or a life event implies (`q`);
 * an everyday word's official form ("bằng lái" → "giấy phép lái xe") names, it tells no
 * case (`restated`, neutral).
 */
function caseViews(query: WeightedQuery): { q: Map<string, number>; restated: Map<string, number> } {
  return { q: weigh({ segments: query.segments.filter((sg) => sg.kind !== 'term') }), restated: weigh({ segments: query.segments.filter((sg) => sg.kind === 'term') }) };
}

/** How many leading tokens two names share. */
function sharedStart(a: readonly string[], b: readonly string[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/** The name's tokens without a leading "đăng ký", when at least three remain (as a list of 0 or 1 head phrases). */
function withoutRegister(tokens: readonly string[]): string[][] {
  return tokens[0] === 'dang' && tokens[1] === 'ky' && tokens.length >= 5 ? [tokens.slice(2)] : [];
}

/** Each clause's [start, end) token positions in the prepared message, in order. */
function clauseSpans(prep: Pick<Prepared, 'clauses'>): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  for (const c of prep.clauses) {
    spans.push([start, start + c.norm.tokens.length]);
    start += c.norm.tokens.length;
  }
  return spans;
}

/** A token of a clause that asks or says what the citizen wants, by its weight (not the story). */
function asking(weight: number | undefined): boolean {
  return (weight ?? 1) >= ROLE_WEIGHTS.request;
}

/**
 * The level of the office the citizen says they will go to, in the clauses that ask or
 * request: "công an xã", "gửi xã", "lên phường", "ubnd tỉnh", "cấp tỉnh". "Ở xã" counts when
 * typed "xã" ("ở xa" is far away); "ở tỉnh khác" is where someone lives, not an office.
 */
export function toldLevel(prep: Pick<Prepared, 'tokens' | 'weights' | 'accents' | 'exact'>): 'xa' | 'tinh' | null {
  const t = prep.tokens;
  for (let i = 1; i < t.length; i++) {
    if (!asking(prep.weights[i])) continue;
    const w = t[i] as string;
    const prev = t[i - 1] as string;
    // "ubnd" is read as "ủy ban nhân dân".
    const office = LEVEL_OFFICE.has(prev) || (prev === 'dan' && t[i - 2] === 'nhan');
    if (w === 'phuong' || w === 'xa') {
      if (office) return 'xa';
      if (LEVEL_GO.has(prev) && (w === 'phuong' || prev !== 'o' || (prep.exact[i] ?? prep.accents[i]) === 'xã')) return 'xa';
    }
    if (w === 'tinh' && (office || prev === 'len')) return 'tinh';
  }
  // "Bị công an xã ra quyết định xử phạt sai, muốn khiếu nại …": the office the story names
  // ("công an xã", "ủy ban xã") says the level when the question names none.
  let story: 'xa' | 'tinh' | null = null;
  for (let i = 1; i < t.length; i++) {
    const w = t[i] as string;
    const office = LEVEL_OFFICE.has(t[i - 1] as string) && t[i - 1] !== 'cap';
    if (!office || (w !== 'xa' && w !== 'phuong' && w !== 'tinh')) continue;
    const level = w === 'tinh' ? 'tinh' : 'xa';
    if (story && story !== level) return null;
    story = level;
  }
  return story;
}
/** Words that name an office before its level ("công an xã", "ủy ban xã", "cấp xã"). */
const LEVEL_OFFICE = new Set(['an', 'ubnd', 'ban', 'cap', 'ub']);
/** Words of going or filing before a level ("gửi xã", "lên phường", "ở xã"). */
const LEVEL_GO = new Set(['gui', 'len', 'ra', 'o', 'tai', 've', 'den', 'nop', 'qua']);

/** The typed words of the clauses that ask or request. */
function askedWords(query: WeightedQuery): Set<string> {
  const s0 = query.segments[0];
  return new Set(s0 ? s0.tokens.filter((_, k) => asking(s0.weights[k])) : []);
}

/** The IDF ceiling of the bundled knowledge plus the national file (≈ ln 2,600), the scale the rarity thresholds were set on. */
const NATIONAL_IDF_CEILING = 7.9;

/** "không" as typed or abbreviated. */
const NEGATIONS = new Set(['khong', 'ko', 'k', 'hong', 'khg']);
/** …and the other words that negate before a "đâu cả" ("chưa nộp ở đâu cả", "chẳng đi đâu hết"). */
const NOWHERE_NEGATIONS = new Set([...NEGATIONS, 'kg', 'chua', 'chang', 'cha']);

/** Folded residual views: a "how" question, a "how long" question, "online … where". */
const HOW_ASKED = / (lam sao|the nao|ra sao|nhu the nao|ntn|lam gi|phai lam gi) /;
const DURATION_ASKED = / (bao lau|may ngay|bao nhieu ngay|khi nao|bao gio|lau khong|mat bao lau|nhanh khong|trong bao lau) /;
const ONLINE_WHERE = / (online|truc tuyen|qua mang|tren mang) (o dau|cho nao|trang nao|o trang nao) /;

/** Words a citizen puts inside a life-event phrase without changing it ("chưa bao giờ được làm", "mua lại chiếc ghe", "mua lại căn hộ này của Nhà nước"). */
const CUE_GAP: ReadonlySet<string> = new Set(['duoc', 'dc', 'di', 'chiec', 'cai', 'can', 'nay', 'ay', 'cung']);

/** After "nơi", a place ("nơi thường trú"), not a procedure. */
const RESIDENCE_PLACE = new Set(['thuong tru', 'tam tru', 'cu tru']);
/** Who lives there, between "nơi" and the residence word ("nơi em thường trú"). */
const RESIDENT: ReadonlySet<string> = new Set(['em', 'toi', 'minh', 'chau', 'con']);
/** A national name's level part: "(thực hiện tại cấp tỉnh)", "(cấp trung ương)". */
const LEVEL_COPY = /\((?:thực hiện )?tại cấp|\(cấp (?:tỉnh|trung ương|huyện|xã)\)/iu;
/** Words before an app's name that make it the channel ("qua VNeID", "trên app VNeID", "bằng VNeID"). */
const CHANNEL_BEFORE = new Set(['qua', 'tren', 'bang', 'app', 'dung']);

/** "giấy này", "thủ tục đó", "việc ấy": a question pointing back to what the story named. */
const ANAPHORA = new Set(['nay', 'do', 'ay', 'kia', 'tren']);
const POINTED = new Set(['giay', 'thu', 'tuc', 'viec', 'cai', 'loai', 'so', 'the', 'dich', 'vu', 'muc']);
/** Pointed papers ("giấy này", "sổ đó", "thẻ ấy"): the story's last mention of the paper is the one meant. */
const PAPERS = new Set(['giay', 'so', 'the']);
/** A mention of the paper names which one ("giấy chứng tử"), not a generic "giấy tờ". */
const POINTED_PAPER_NEXT = (next: string | undefined) => next !== undefined && next !== 'to' && !ANAPHORA.has(next);

/** Content words from which a message is a long letter (candidates ordered halfway by score). */
const LONG_LETTER_WORDS = 25;

/** Folded words that say a dossier is still being made ("làm hồ sơ sao", "chuẩn bị hồ sơ"). */
const PREPARING = / (?:lam|chuan bi|soan|lap) (?:bo )?ho so (?!(?:cua (?:toi|em|minh) )?(?:den|toi|xong|roi|lau|bi|da))/;

/** Pairs that end any yes/no question ("… được không?"): not a cue for "online". */
const NOT_CUE_PAIRS = new Set(['duoc khong', 'co khong', 'khong a', 'co duoc', 'phai khong', 'thi co', 'co phai']);

/** Verbs that only introduce a procedure ("làm căn cước", "xin giấy phép"): masked with it. */
const PREFIX_VERBS = new Set(['lam', 'xin', 'dang', 'ky', 'di', 'thu', 'tuc']);

/** Drops prefix verbs that stand right before a token the predicate marks as the procedure. */
function maskPrefixVerbs(tokens: string[], isProcedure: (t: string) => boolean): string[] {
  const drop = new Set<number>();
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i] as string;
    if (isProcedure(t)) {
      let j = i - 1;
      while (j >= 0 && (PREFIX_VERBS.has(tokens[j] as string) || drop.has(j)) && !isProcedure(tokens[j] as string)) {
        if (PREFIX_VERBS.has(tokens[j] as string)) drop.add(j);
        j--;
      }
    }
  }
  return tokens.filter((_, i) => !drop.has(i));
}



function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
