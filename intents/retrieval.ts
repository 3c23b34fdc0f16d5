/**
 * Finds which procedure (or FAQ topic) a message is about.
 *
 * A small hand-made index over folded syllables and syllable pairs of each entry's
 * name, aliases and keywords. A phrase scores by how much of it (IDF-weighted) the
 * message contains, times how much of the message it explains; an entry scores by
 * its best phrase. Candidates come from postings of the message's rarer tokens, so the
 * cost grows with the postings touched, not with the size of the base (measured in
 * ../shared/notes: 0.15 ms at 5,000 procedures vs 100+ ms for a fuse.js scan).
 */
import { bigrams } from './normalize.ts';

/** One searchable phrase of an entry, as folded tokens with fillers removed. */
export interface IndexPhrase {
  tokens: string[];
  /** Multiplier: names and aliases 1, keywords less. */
  weight: number;
  /** The accented form of each token as the knowledge writes it ("tử", "tự"), when known. */
  accents?: (string | null)[];
  /** A keyword rather than a name or alias. */
  keyword?: boolean;
}

export interface IndexEntry {
  id: string;
  phrases: IndexPhrase[];
  /** 0–100; breaks near-ties in favour of the common procedure. */
  priority: number;
}

export interface RetrievalMatch {
  id: string;
  /** How sure (0–1+): thresholds and comparisons with other intents use this. */
  score: number;
  /** Order among candidates: like `score`, but a short alias fully named counts less than more words of a long name. */
  rank: number;
  /** On the FAQ index's scale (name share first): for comparing a procedure with an FAQ topic. */
  faqScale: number;
  /** Query tokens explained by the best phrase. */
  matched: Set<string>;
  /** Share of the best phrase found in the message. */
  coverage: number;
  /** Message words any of the entry's phrases explain (a procedure explaining more of the message wins a tie). */
  explained: ReadonlySet<string>;
  /** Share of the (weighted) message its phrases explain. */
  queryCoverage: number;
  /** Position of the entry in the index. */
  index: number;
  /** Message words only the entry's description explains (weak evidence). */
  described?: string[];
  /** Set when the entry won as a variant of this head (understand.ts). */
  variantOf?: string;
  /** Share of the variant's extra words the message evidenced. */
  variantEvidence?: number;
}

/**
 * Missing words of a long official name cost less than those of a short one: citizens
 * never type "giá trị sử dụng … phổ thông" (length normalization, as BM25's b).
 */
function lengthDiscount(unigrams: number): number {
  return Math.min(1, Math.max(LONG_NAME_FLOOR, LONG_NAME_WORDS / unigrams));
}

/** Share of a phrase the message holds (matched IDF mass m), long names discounted (`disc`: its lengthDiscount). */
function normalizedCoverage(m: number, mass: number, disc: number, weight: number): number {
  return (m / (m + disc * (mass - m) || 1)) * weight;
}

/** Tuning knobs of the entry score. */
export interface Scoring {
  /** `linear`: cov·(1−a+a·qcov); `geometric`: cov^(1−a)·qcov^a. */
  mode: 'linear' | 'geometric';
  a: number;
  /** Softening of short names (IDF mass added to every phrase's). */
  k: number;
}
/** Procedures: long messages and long official names, so the message's share weighs more. */
export const PROCEDURE_SCORING: Scoring = { mode: 'geometric', a: 0.5, k: 10 };
/** FAQ topics: short questions against short phrases. */
export const FAQ_SCORING: Readonly<Scoring> = Object.freeze({ mode: 'linear', a: 0.45, k: 0 });
/** Names longer than this many words have their missing words discounted… */
const LONG_NAME_WORDS = 4;
/** …down to this share of their weight. */
const LONG_NAME_FLOOR = 0.4;
/** IDF mass of a typical three-word name (unigrams and pairs): fully named, it covers 1. */
const REFERENCE_MASS = 30;

/**
 * An entry's score from how much of its best name the message contains (`cov`) and how
 * much of the message its phrases and description explain (`qcov`).
 */
function combine(s: Scoring, cov: number, qcov: number): number {
  return s.mode === 'linear' ? cov * (1 - s.a + s.a * qcov) : cov ** (1 - s.a) * Math.max(qcov, 0.01) ** s.a;
}

/** Descriptions of the entries, looked up for candidates only (see evidence.ts). */
export interface WeakEvidence {
  has(entry: number, term: string): boolean;
  specificity(term: string): number;
  /** Optional fast path: the same answers for a term hashed once (`hashOf`) and looked up for many entries. */
  hashOf?(term: string): number;
  hasHashed?(entry: number, hash: number): boolean;
  specificityHashed?(hash: number): number;
}

/** Postings read per query at most (after the first term): bounds the cost on large bases. */
const POSTING_BUDGET = 1500;
/**
 * Entries (by their best phrase, one place each) scored exactly after the first,
 * term-at-a-time pass: 24 distinct entries weigh more names than the 32 phrases — often
 * half as many entries — kept before, at about the same cost.
 */
const EXACT_CANDIDATES = 24;
/** …and the phrases holding the most message mass, whatever their length. */
const MASS_CANDIDATES = 8;
/** A word explained only by an entry's description counts this much of a name word. */
const DESCRIPTION_WEIGHT = 0.35;
/** Entries whose families are added to the exact pass. */
const FAMILY_SEEDS = 4;
/** Members of each seed's family weighed at most. */
const FAMILY_MEMBERS = 24;
/** Entries whose descriptions are read (the best by their names). */
const EVIDENCE_ENTRIES = 16;

/** Best phrase and explained words of one entry during exact scoring. */
interface EntryScore {
  cov: number;
  soft: number;
  /** Term ids of the message words any phrase explains, in the order first explained. */
  explainedIds: number[];
  /** Term ids matched by the best phrase. */
  matchedIds: number[];
  /** Term ids of the message pairs any phrase explains. */
  pairIds: number[];
}

/**
 * Inverted index over entries' phrases. Build once per knowledge version.
 *
 * Every index term (syllable or `a_b` pair) is interned to an integer id at build time;
 * phrases are runs of term ids in one flat array ("slots"), with what the exact pass
 * needs per slot precomputed (the phrase's pairs holding a word, for compound clashes;
 * the accented forms the knowledge writes, for accent clashes). A query maps its terms
 * to ids once and the scoring passes read typed arrays, not string-keyed maps.
 */
export class PhraseIndex {
  private readonly entries: IndexEntry[];
  /** Term string → id; ids index the arrays below. */
  private readonly termIds = new Map<string, number>();
  private readonly termStr: string[] = [];
  /** 1 for a word pair (`a_b`), 0 for a word. */
  private readonly termPair: Uint8Array;
  private readonly dfs: Int32Array;
  private readonly idfArr: Float64Array;
  /** Phrase ids of each term's postings: `postings[postStart[t]]`…`postings[postStart[t + 1]]` (one flat array). */
  private readonly postStart: Int32Array;
  private readonly postings: Int32Array;
  private readonly maxIdf: number;
  /** Per phrase: its entry, IDF mass, weight, length discount, keyword flag and first slot (`slotStart[p]`…`slotStart[p + 1]`). */
  private readonly phraseEntry: Int32Array;
  private readonly phraseMass: Float64Array;
  private readonly phraseWeight: Float64Array;
  private readonly phraseDisc: Float64Array;
  private readonly phraseKeyword: Uint8Array;
  private readonly slotStart: Int32Array;
  /** Per slot: the term id (unique unigrams first, then unique pairs, as the phrase has them). */
  private readonly slotTerm: Int32Array;
  /** Per word slot: the phrase's pair terms holding that word (`compList[compStart[s]]`…). */
  private readonly compStart: Int32Array;
  private readonly compList: Int32Array;
  /** Per slot: its words with the accented form the knowledge writes (only words written with accents). */
  private readonly clashStart: Int32Array;
  private readonly clashWord: Int32Array;
  private readonly clashWritten: string[] = [];
  /** Scratch accumulator, one slot per phrase (reset after each query). */
  private readonly acc: Float64Array;
  /** Scratch per term (reset after each query): the query's weight (0: absent), implied-only flags, words the message pairs. */
  private readonly qw: Float64Array;
  private readonly qImpliedOnly: Uint8Array;
  private readonly qPaired: Uint8Array;
  /** Scratch per term: the accented forms the citizen typed for that word; marks of one entry's explained words. */
  private readonly qTyped: (Set<string> | undefined)[];
  private readonly explainedMark: Uint8Array;
  /** Every token that occurs in some phrase. */
  readonly vocabulary = new Set<string>();
  /** Phrase ids of each entry. */
  private readonly entryPhrases: number[][] = [];
  private readonly byId = new Map<string, number>();

  constructor(
    entries: IndexEntry[],
    private readonly scoring: Readonly<Scoring> = PROCEDURE_SCORING,
  ) {
    this.entries = entries;
    const n = entries.length || 1;
    const intern = (t: string): number => {
      let id = this.termIds.get(t);
      if (id === undefined) {
        id = this.termStr.length;
        this.termIds.set(t, id);
        this.termStr.push(t);
      }
      return id;
    };
    const df: number[] = [];
    const lists: number[][] = [];
    const pEntry: number[] = [];
    const pWeight: number[] = [];
    const pDisc: number[] = [];
    const pKeyword: number[] = [];
    const sStart: number[] = [0];
    const sTerm: number[] = [];
    const cStart: number[] = [0];
    const cList: number[] = [];
    const kStart: number[] = [0];
    const kWord: number[] = [];
    entries.forEach((e, ei) => {
      this.byId.set(e.id, ei);
      this.entryPhrases.push([]);
      const terms = new Set<string>();
      for (const p of e.phrases) for (const t of [...p.tokens, ...bigrams(p.tokens)]) terms.add(t);
      for (const t of terms) {
        const id = intern(t);
        df[id] = (df[id] ?? 0) + 1;
      }
      for (const p of e.phrases) {
        if (!p.tokens.length) continue;
        const id = pEntry.length;
        const unigrams = [...new Set(p.tokens)];
        // Postings for syllables and syllable pairs: pairs ("ho_khau") are rare and specific,
        // so candidates are found without touching the long lists of common syllables.
        const all = [...new Set([...unigrams, ...bigrams(p.tokens)])];
        let accents: (string | null)[] | null = null;
        if (p.accents?.some(Boolean)) accents = unigrams.map((t) => p.accents?.[p.tokens.indexOf(t)] ?? null);
        pEntry.push(ei);
        pWeight.push(p.weight);
        pDisc.push(lengthDiscount(unigrams.length));
        pKeyword.push(p.keyword ? 1 : 0);
        (this.entryPhrases[ei] as number[]).push(id);
        for (const t of unigrams) this.vocabulary.add(t);
        // The two words of each pair term (null for a word).
        const halves = all.map((t) => {
          const u = t.indexOf('_');
          return u < 0 ? null : [t.slice(0, u), t.slice(u + 1)];
        });
        all.forEach((t, k) => {
          const tid = intern(t);
          sTerm.push(tid);
          (lists[tid] ??= []).push(id);
          // The phrase's pairs that hold this word (a word only: pairs have none).
          if (!halves[k]) {
            all.forEach((pt, j) => {
              const h = halves[j];
              if (h && (h[0] === t || h[1] === t)) cList.push(intern(pt));
            });
          }
          cStart.push(cList.length);
          // Words of the term the knowledge writes with accents ("tự"): a typed "tử" clashes.
          if (accents) {
            for (const w of t.includes('_') ? t.split('_') : [t]) {
              const at = unigrams.indexOf(w);
              const written = accents[at];
              if (!written) continue;
              kWord.push(intern(unigrams[at] as string));
              this.clashWritten.push(written);
            }
          }
          kStart.push(kWord.length);
        });
        sStart.push(sTerm.length);
      }
    });
    const terms = this.termStr.length;
    this.termPair = new Uint8Array(terms);
    this.dfs = new Int32Array(terms);
    this.idfArr = new Float64Array(terms);
    this.maxIdf = Math.log(1 + n);
    this.postStart = new Int32Array(terms + 1);
    for (let t = 0; t < terms; t++) this.postStart[t + 1] = (this.postStart[t] as number) + (lists[t]?.length ?? 0);
    this.postings = new Int32Array(this.postStart[terms] as number);
    for (let t = 0; t < terms; t++) {
      this.termPair[t] = (this.termStr[t] as string).includes('_') ? 1 : 0;
      const d = df[t] ?? 0;
      this.dfs[t] = d;
      this.idfArr[t] = d ? Math.log(1 + n / d) : this.maxIdf;
      this.postings.set(lists[t] ?? [], this.postStart[t] as number);
    }
    this.phraseEntry = Int32Array.from(pEntry);
    this.phraseWeight = Float64Array.from(pWeight);
    this.phraseDisc = Float64Array.from(pDisc);
    this.phraseKeyword = Uint8Array.from(pKeyword);
    this.slotStart = Int32Array.from(sStart);
    this.slotTerm = Int32Array.from(sTerm);
    this.compStart = Int32Array.from(cStart);
    this.compList = Int32Array.from(cList);
    this.clashStart = Int32Array.from(kStart);
    this.clashWord = Int32Array.from(kWord);
    this.phraseMass = new Float64Array(pEntry.length);
    for (let p = 0; p < pEntry.length; p++) {
      let m = 0;
      for (let s = this.slotStart[p] as number; s < (this.slotStart[p + 1] as number); s++) m += this.idfArr[this.slotTerm[s] as number] as number;
      this.phraseMass[p] = m || 1;
    }
    this.acc = new Float64Array(pEntry.length);
    this.qw = new Float64Array(terms);
    this.qImpliedOnly = new Uint8Array(terms);
    this.qPaired = new Uint8Array(terms);
    this.explainedMark = new Uint8Array(terms);
    this.qTyped = new Array<Set<string> | undefined>(terms).fill(undefined);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The largest IDF in this index (a term of one entry): thresholds set for the national base scale by it. */
  get idfCeiling(): number {
    return this.maxIdf;
  }

  /** Inverse document frequency; unseen terms get the maximum. */
  idf(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? this.maxIdf : (this.idfArr[id] as number);
  }

  /** IDF of a message word; words no phrase uses count half the maximum. */
  private termIdf(t: string): number {
    const id = this.termIds.get(t);
    return id === undefined ? this.maxIdf * 0.5 : (this.idfArr[id] as number);
  }

  /** Number of entries whose phrases contain the term. */
  documentFrequency(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? 0 : (this.dfs[id] as number);
  }

  /**
   * Best entries for the query, best first. A plain token list weighs every token 1; a
   * weighted query lets the sentence that asks count more than the story around it and
   * adds the variant words its life events imply ("bị mất" → "cấp lại") at a lower weight.
   *
   * Two passes: term-at-a-time accumulation over the rarer terms' postings (within a
   * budget), then exact scoring of the best few dozen phrases — plus, through `expand`,
   * the other members of the best entries' families, so a variant whose name shares
   * little with the message is still weighed.
   */
  search(
    query: readonly string[] | WeightedQuery,
    limit = 5,
    expand?: (entry: number) => readonly number[],
    evidence?: WeakEvidence,
    softening?: number,
    /** Share of a message an entry can be expected to explain (long stories: well under 1). */
    expectedCoverage = 1,
  ): RetrievalMatch[] {
    const q = weigh(query);
    if (!q.size) return [];
    let qmass = 0;
    // The query's terms the index knows, with their weights (in query order).
    const qIds: number[] = [];
    const qWs: number[] = [];
    for (const [t, w] of q) {
      const id = this.termIds.get(t);
      if (!t.includes('_')) qmass += w * (id !== undefined ? (this.idfArr[id] as number) : this.maxIdf * 0.5);
      if (id === undefined) continue;
      qIds.push(id);
      qWs.push(w);
    }

    // Rarest terms first (a stable sort: ties keep the query order).
    const order = qIds.map((_, i) => i);
    const postings = this.postings;
    const postStart = this.postStart;
    const lengths = qIds.map((id) => (postStart[id + 1] as number) - (postStart[id] as number));
    order.sort((a, b) => (lengths[a] as number) - (lengths[b] as number));
    const acc = this.acc;
    const touched: number[] = [];
    let budget = POSTING_BUDGET;
    for (const k of order) {
      const id = qIds[k] as number;
      const length = lengths[k] as number;
      if (touched.length > 0 && length > budget) continue;
      const w = (this.idfArr[id] as number) * (qWs[k] as number);
      const end = (postStart[id] as number) + length;
      for (let i = postStart[id] as number; i < end; i++) {
        const pid = postings[i] as number;
        if (acc[pid] === 0) touched.push(pid);
        acc[pid] = (acc[pid] as number) + w;
      }
      budget -= length;
    }
    // Keep the phrases with the best partial coverage for exact scoring, best first
    // (a bounded insertion: touched phrases can number in the thousands).
    // One place per entry: an entry with many aliases ("căn cước", "thẻ căn cước", "cccd"…)
    // does not crowd out other entries (its other phrases are weighed anyway, below).
    const topPid: number[] = [];
    const topS: number[] = [];
    const topEntry: number[] = [];
    const mass = this.phraseMass;
    const disc = this.phraseDisc;
    const weight = this.phraseWeight;
    const entryOf = this.phraseEntry;
    // The final score weighs how much of the message an entry explains as much as how much of
    // its name the message holds: a long official name that lists cases ("… bảo vệ an ninh,
    // trật tự ở cơ sở chưa tham gia bảo hiểm y tế mà bị ốm đau, bị tai nạn…") covers little
    // of itself but much of the story. The phrases holding the most message mass join the
    // exact pass too (kept in the same pass over the touched phrases).
    const massPid: number[] = [];
    const massS: number[] = [];
    for (const pid of touched) {
      const ms = (acc[pid] as number) * (weight[pid] as number);
      if (massS.length < MASS_CANDIDATES || ms > (massS[massS.length - 1] as number)) {
        let k = massS.length;
        while (k > 0 && (massS[k - 1] as number) < ms) k--;
        massS.splice(k, 0, ms);
        massPid.splice(k, 0, pid);
        if (massS.length > MASS_CANDIDATES) {
          massS.pop();
          massPid.pop();
        }
      }
      const sc = normalizedCoverage(acc[pid] as number, mass[pid] as number, disc[pid] as number, weight[pid] as number);
      if (topS.length === EXACT_CANDIDATES && sc <= (topS[topS.length - 1] as number)) continue;
      const ei = entryOf[pid] as number;
      const j = topEntry.indexOf(ei);
      if (j >= 0) {
        if ((topS[j] as number) >= sc) continue;
        topS.splice(j, 1);
        topPid.splice(j, 1);
        topEntry.splice(j, 1);
      }
      let k = topS.length;
      while (k > 0 && (topS[k - 1] as number) < sc) k--;
      topS.splice(k, 0, sc);
      topPid.splice(k, 0, pid);
      topEntry.splice(k, 0, ei);
      if (topS.length > EXACT_CANDIDATES) {
        topS.pop();
        topPid.pop();
        topEntry.pop();
      }
    }
    const cands = topPid;
    // (An entry already a candidate brings all its phrases below.)
    for (const pid of massPid) if (!topEntry.includes(entryOf[pid] as number)) cands.push(pid);
    for (const pid of touched) acc[pid] = 0;
    // Every phrase of a candidate entry is weighed: its full name explains words its core does not.
    {
      const entries = new Set<number>();
      for (const pid of cands) entries.add(entryOf[pid] as number);
      // The top candidates, marked in the (zeroed) accumulator: their entries' other phrases follow.
      for (const pid of cands) acc[pid] = 1;
      const top = cands.length;
      for (const ei of entries) for (const pid of this.entryPhrases[ei] ?? []) if (acc[pid] === 0) cands.push(pid);
      for (let i = 0; i < top; i++) acc[cands[i] as number] = 0;
      if (expand) {
        const seen = entries;
        const seeds: number[] = [];
        for (const ei of seen) {
          if (seeds.length === FAMILY_SEEDS) break;
          seeds.push(ei);
        }
        for (const ei of seeds) {
          const family = expand(ei);
          for (let f = 0; f < family.length && f < FAMILY_MEMBERS; f++) {
            const fe = family[f] as number;
            if (seen.has(fe)) continue;
            seen.add(fe);
            for (const pid of this.entryPhrases[fe] ?? []) cands.push(pid);
          }
        }
      }
    }
    const qw = this.qw;
    for (let i = 0; i < qIds.length; i++) qw[qIds[i] as number] = qWs[i] as number;
    try {
      return this.scoreExact(q, query, qmass, cands, limit, evidence, softening ?? this.scoring.k, typedAccents(query), expectedCoverage);
    } finally {
      for (const id of qIds) qw[id] = 0;
    }
  }

  /** Exact scores of the given phrases' entries for a weighted query (its weights by term id in `this.qw`). */
  private scoreExact(
    q: ReadonlyMap<string, number>,
    query: readonly string[] | WeightedQuery,
    qmass: number,
    cands: readonly number[],
    limit: number,
    evidence: WeakEvidence | undefined,
    k: number,
    typed: ReadonlyMap<string, Set<string>>,
    expected: number,
  ): RetrievalMatch[] {
    // Per entry: its best phrase (how much of that name the message contains) and the
    // union of message words any of its phrases explain (how much of the message it covers).
    const implied = implications(query);
    const impliedOnly = this.qImpliedOnly;
    const paired = this.qPaired;
    const marked: number[] = [];
    // Words only a life event implies name a procedure's name, not a keyword ("nước ngoài"
    // implied by "người Hàn" is not the "đi nước ngoài" of the passport entry).
    if (implied.length) {
      const lit = weigh({ segments: (query as WeightedQuery).segments.filter((sg) => !sg.explains?.length) });
      for (const t of q.keys()) {
        if (lit.has(t)) continue;
        const id = this.termIds.get(t);
        if (id === undefined) continue;
        impliedOnly[id] = 1;
        marked.push(id);
      }
    }
    // Words the message uses in a pair, to tell "ly hôn" from the "kết hôn" of a name.
    for (const t of q.keys()) {
      const u = t.indexOf('_');
      if (u < 0) continue;
      for (const w of [t.slice(0, u), t.slice(u + 1)]) {
        const id = this.termIds.get(w);
        if (id === undefined || paired[id]) continue;
        paired[id] = 1;
        marked.push(id);
      }
    }
    // The typed forms by term id, for the accent check of each slot.
    const checkAccents = typed.size > 0;
    const typedIds: number[] = [];
    for (const [w, forms] of typed) {
      const id = this.termIds.get(w);
      if (id === undefined) continue;
      this.qTyped[id] = forms;
      typedIds.push(id);
    }
    try {
      return this.scoreSlots(q, implied, qmass, cands, limit, evidence, k, checkAccents, expected);
    } finally {
      for (const id of marked) {
        impliedOnly[id] = 0;
        paired[id] = 0;
      }
      for (const id of typedIds) this.qTyped[id] = undefined;
    }
  }

  private scoreSlots(
    q: ReadonlyMap<string, number>,
    implied: readonly { tokens: readonly string[]; explains: readonly string[] }[],
    qmass: number,
    cands: readonly number[],
    limit: number,
    evidence: WeakEvidence | undefined,
    k: number,
    checkAccents: boolean,
    expected: number,
  ): RetrievalMatch[] {
    const qw = this.qw;
    const impliedOnly = this.qImpliedOnly;
    const paired = this.qPaired;
    const idf = this.idfArr;
    const isPair = this.termPair;
    const termStr = this.termStr;
    const slotTerm = this.slotTerm;
    const compStart = this.compStart;
    const compList = this.compList;
    const perEntry = new Map<number, EntryScore>();
    const matched: number[] = [];
    const pairs: number[] = [];
    for (const pid of cands) {
      const keyword = this.phraseKeyword[pid] === 1;
      let m = 0;
      matched.length = 0;
      pairs.length = 0;
      const end = this.slotStart[pid + 1] as number;
      for (let s = this.slotStart[pid] as number; s < end; s++) {
        const id = slotTerm[s] as number;
        const w = qw[id] as number;
        if (w === 0) continue;
        // Typed with accents that differ from the name's ("tử" typed, "tự" written): a different word.
        if (checkAccents && this.accentClash(s)) continue;
        if (keyword && impliedOnly[id] === 1) continue;
        if (isPair[id] === 0) {
          // A syllable of a two-syllable word counts half when the message uses it in another
          // word: "hôn" of "ly hôn" is not the "hôn" of "kết hôn".
          if (paired[id] === 1) {
            let inPhrase = false;
            let shared = false;
            for (let c = compStart[s] as number; c < (compStart[s + 1] as number); c++) {
              if (qw[compList[c] as number] !== 0) {
                shared = true;
                break;
              }
              inPhrase = true;
            }
            if (!shared && inPhrase) {
              m += (idf[id] as number) * w * 0.5;
              matched.push(id);
              continue;
            }
          }
          m += (idf[id] as number) * w;
          matched.push(id);
        } else {
          m += (idf[id] as number) * w;
          pairs.push(id);
        }
      }
      if (!matched.length) continue;
      // How much of the name the message holds, softened for short names: naming three
      // words of a long name is more evidence than naming the two words of a short alias.
      // Missing words of a long official name cost less than those of a short one: citizens
      // never type "giá trị sử dụng … phổ thông" (length normalization, as BM25's b).
      const mass = this.phraseMass[pid] as number;
      const disc = this.phraseDisc[pid] as number;
      const weight = this.phraseWeight[pid] as number;
      const cov = normalizedCoverage(m, mass, disc, weight);
      const soft = (m / (m + disc * (mass - m) + k)) * (1 + k / REFERENCE_MASS) * weight;
      const ei = this.phraseEntry[pid] as number;
      let e = perEntry.get(ei);
      if (!e) perEntry.set(ei, (e = { cov: 0, soft: 0, explainedIds: [], matchedIds: [], pairIds: [] }));
      for (const id of matched) if (!e.explainedIds.includes(id)) e.explainedIds.push(id);
      for (const id of pairs) if (!e.pairIds.includes(id)) e.pairIds.push(id);
      if (cov > e.cov) {
        e.cov = cov;
        e.matchedIds = matched.slice();
      }
      if (soft > e.soft) e.soft = soft;
    }
    const words = (ids: readonly number[]) => new Set(ids.map((id) => termStr[id] as string));
    // Names first; then, for the best few, what their records say about themselves.
    const scored = [...perEntry].map(([ei, e]) => {
      const explained = words(e.explainedIds);
      let explainedMass = 0;
      for (const id of e.explainedIds) explainedMass += (idf[id] as number) * (qw[id] as number);
      // The words of a life event ("ra ở riêng") are explained by a name saying what they imply ("tách hộ").
      const pairSet = implied.length ? words(e.pairIds) : undefined;
      for (const im of implied) {
        // The implied phrase must be named as a phrase: its word pairs too ("cấp lại", not the "lái" of "bằng lái").
        const named = im.tokens.filter((t) => explained.has(t)).length;
        const pairs = im.tokens.slice(1).filter((t, i) => pairSet?.has(`${im.tokens[i]}_${t}`)).length;
        if (named < Math.ceil(im.tokens.length * 0.67) || (im.tokens.length > 1 && pairs < Math.ceil((im.tokens.length - 1) * 0.67))) continue;
        for (const t of im.explains) if (!explained.has(t)) explainedMass += this.termIdf(t) * (q.get(t) ?? 0);
      }
      return { ei, e, explained, explainedMass, pre: combine(this.scoring, Math.min(1.05, e.soft), Math.min(1, explainedMass / (qmass || 1) / expected)) };
    });
    scored.sort((a, b) => b.pre - a.pre);
    // The message's words with their IDF-like weight, for the description pass.
    const messageWords: { t: string; id: number; w: number; wi: number; h: number; spec: number }[] = [];
    const hashed = !!(evidence?.hashOf && evidence.hasHashed && evidence.specificityHashed);
    if (evidence) {
      for (const [t, w] of q) {
        if (t.includes('_')) continue;
        messageWords.push({ t, id: this.termIds.get(t) ?? -1, w, wi: this.termIdf(t), h: hashed ? (evidence.hashOf?.(t) as number) : 0, spec: -1 });
      }
    }
    const out: RetrievalMatch[] = [];
    const mark = this.explainedMark;
    scored.forEach(({ ei, e, explained, explainedMass: named }, rank) => {
      let explainedMass = named;
      // What the record says about itself explains story words its names do not, weakly.
      let described: string[] | undefined;
      if (evidence && rank < EVIDENCE_ENTRIES) {
        described = [];
        // The entry's explained words, marked by id (every one is an index word).
        for (const id of e.explainedIds) mark[id] = 1;
        for (const word of messageWords) {
          const { t, id, w, wi, h } = word;
          if ((id >= 0 && mark[id] === 1) || !(hashed ? (evidence.hasHashed?.(ei, h) as boolean) : evidence.has(ei, t))) continue;
          // The same for every entry: computed once per message word.
          if (word.spec < 0) word.spec = hashed ? (evidence.specificityHashed?.(h) as number) : evidence.specificity(t);
          explainedMass += DESCRIPTION_WEIGHT * w * wi * word.spec;
          described.push(t);
        }
        for (const id of e.explainedIds) mark[id] = 0;
      }
      const qcov = Math.min(1, explainedMass / (qmass || 1) / expected);
      const entry = this.entries[ei] as IndexEntry;
      const prio = (entry.priority / 100) * 0.02;
      // One common syllable ("sửa", "trợ") shared with a name is a coincidence, not a mention.
      if (e.explainedIds.length === 1 && (this.dfs[e.explainedIds[0] as number] as number) >= 3) {
        e.cov *= 0.7;
        e.soft *= 0.7;
      }
      out.push({ id: entry.id, index: ei, faqScale: combine(FAQ_SCORING, Math.min(1, e.cov), qcov) + prio, score: combine(this.scoring, Math.min(1, e.cov), qcov) + prio, rank: combine(this.scoring, Math.min(1.05, e.soft), qcov) + prio, matched: words(e.matchedIds), coverage: Math.min(1, e.cov), explained, queryCoverage: qcov, described });
    });
    out.sort((a, b) => b.rank - a.rank);
    return out.slice(0, limit);
  }

  /**
   * True when the citizen typed a word of the slot's term only with accents that differ
   * from the phrase's ("tử" typed, "tự" written): folding made them one key, but they are
   * different words.
   */
  private accentClash(slot: number): boolean {
    for (let c = this.clashStart[slot] as number; c < (this.clashStart[slot + 1] as number); c++) {
      const forms = this.qTyped[this.clashWord[c] as number];
      if (forms && !forms.has(this.clashWritten[c] as string)) return true;
    }
    return false;
  }

  /** Position of an entry id in this index (for families and evidence lookups). */
  indexOf(id: string): number {
    return this.byId.get(id) ?? -1;
  }
}

/**
 * A query with a weight per token: segments are runs of adjacent tokens (pairs are
 * formed inside a segment only), e.g. the message itself and each implied variant phrase.
 */
export interface WeightedQuery {
  segments: readonly {
    tokens: readonly string[];
    weights: readonly number[];
    accents?: readonly (string | null)[];
    /** Where each token stands in the message (its token index), when the caller needs to map back. */
    positions?: readonly number[];
    /** Set on implied segments: the message words they stand for. */
    explains?: readonly string[];
    /** Implied by a life event (`variant`) or an everyday word's official form (`term`). */
    kind?: 'variant' | 'term';
    /** Which variants.yaml entry implied it: its words are alternatives ("kết hợp" or "nhận cha, mẹ, con"). */
    cue?: number;
  }[];
}

/** Implied segments with the message words they stand for. */
function implications(query: readonly string[] | WeightedQuery): { tokens: readonly string[]; explains: readonly string[] }[] {
  if (Array.isArray(query)) return [];
  return (query as WeightedQuery).segments.filter((s) => s.explains?.length).map((s) => ({ tokens: s.tokens, explains: s.explains as readonly string[] }));
}

/** The accented forms the citizen typed for each folded word of a query (absent when typed without accents). */
export function typedAccents(query: readonly string[] | WeightedQuery): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (Array.isArray(query)) return out;
  for (const s of (query as WeightedQuery).segments) {
    s.accents?.forEach((a, i) => {
      if (!a) return;
      const t = s.tokens[i] as string;
      let set = out.get(t);
      if (!set) out.set(t, (set = new Set()));
      set.add(a);
    });
  }
  return out;
}

/** Term → weight (the highest of its occurrences; a pair weighs as its lighter word). */
export function weigh(query: readonly string[] | WeightedQuery): Map<string, number> {
  const segments = Array.isArray(query) ? [{ tokens: query as readonly string[], weights: (query as readonly string[]).map(() => 1) }] : (query as WeightedQuery).segments;
  const out = new Map<string, number>();
  const put = (t: string, w: number) => {
    if (w > (out.get(t) ?? 0)) out.set(t, w);
  };
  for (const s of segments) {
    for (let i = 0; i < s.tokens.length; i++) {
      const w = s.weights[i] ?? 1;
      put(s.tokens[i] as string, w);
      if (i > 0) put(`${s.tokens[i - 1]}_${s.tokens[i]}`, Math.min(w, s.weights[i - 1] ?? 1));
    }
  }
  return out;
}

/** Positions of tokens that are not part of a filler phrase (longest filler first). */
export function contentPositions(tokens: readonly string[], fillers: readonly string[][]): boolean[] {
  const keep = tokens.map(() => true);
  let i = 0;
  outer: while (i < tokens.length) {
    for (const f of fillers) {
      if (f.length && i + f.length <= tokens.length && f.every((w, k) => tokens[i + k] === w)) {
        for (let k = 0; k < f.length; k++) keep[i + k] = false;
        i += f.length;
        continue outer;
      }
    }
    i++;
  }
  return keep;
}

/** Removes filler phrases (longest first) from folded tokens. */
export function removeFillers(tokens: readonly string[], fillers: readonly string[][]): string[] {
  const keep = contentPositions(tokens, fillers);
  return tokens.filter((_, i) => keep[i]);
}

/**
 * Corrects one-edit typos against a vocabulary (symmetric delete: O(1) lookups,
 * so it stays fast on a 10,000-procedure base).
 */
export class TypoCorrector {
  private readonly deletes = new Map<string, string[]>();

  constructor(
    words: Iterable<string>,
    private readonly rank: (word: string) => number,
    private readonly distance: (a: string, b: string) => number,
  ) {
    for (const w of words) {
      if (w.length < 3 || /\d/.test(w)) continue;
      for (const d of [w, ...deletions(w)]) {
        let list = this.deletes.get(d);
        if (!list) this.deletes.set(d, (list = []));
        if (!list.includes(w)) list.push(w);
      }
    }
  }

  /** The most frequent vocabulary word one edit away, or undefined. */
  correct(token: string): string | undefined {
    if (token.length < 3 || /\d/.test(token)) return undefined;
    let best: string | undefined;
    let bestRank = -1;
    for (const d of [token, ...deletions(token)]) {
      for (const w of this.deletes.get(d) ?? []) {
        if (w === token || this.distance(token, w) > 1) continue;
        const r = this.rank(w);
        if (r > bestRank) {
          best = w;
          bestRank = r;
        }
      }
    }
    return best;
  }
}

function deletions(w: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < w.length; i++) out.push(w.slice(0, i) + w.slice(i + 1));
  return out;
}
