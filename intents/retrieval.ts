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
function lengthDiscount(p: CompiledPhrase): number {
  return Math.min(1, Math.max(LONG_NAME_FLOOR, LONG_NAME_WORDS / p.unigrams.length));
}

/** Share of a phrase the message holds (matched IDF mass m), long names discounted. */
function normalizedCoverage(m: number, p: CompiledPhrase): number {
  return (m / (m + lengthDiscount(p) * (p.mass - m) || 1)) * p.weight;
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
}

interface CompiledPhrase {
  entry: number;
  /** Unique unigrams and bigrams of the phrase, each with its IDF. */
  terms: string[];
  unigrams: string[];
  mass: number;
  weight: number;
  /** A keyword (not a name or alias): words a message only implies do not match it. */
  keyword: boolean;
  /** Accented form of each unigram (same order), null where written without accents; null when none. */
  accents: (string | null)[] | null;
}

/** Postings read per query at most (after the first term): bounds the cost on large bases. */
const POSTING_BUDGET = 1500;
/** Phrases scored exactly after the first, term-at-a-time pass. */
const EXACT_CANDIDATES = 32;
/** A word explained only by an entry's description counts this much of a name word. */
const DESCRIPTION_WEIGHT = 0.35;
/** Entries whose families are added to the exact pass. */
const FAMILY_SEEDS = 4;
/** Members of each seed's family weighed at most. */
const FAMILY_MEMBERS = 24;
/** Entries whose descriptions are read (the best by their names). */
const EVIDENCE_ENTRIES = 16;

/** Inverted index over entries' phrases. Build once per knowledge version. */
export class PhraseIndex {
  private readonly entries: IndexEntry[];
  private readonly phrases: CompiledPhrase[] = [];
  private readonly postings = new Map<string, Int32Array>();
  private readonly df = new Map<string, number>();
  private readonly idfs = new Map<string, number>();
  private readonly maxIdf: number;
  /** Scratch accumulator, one slot per phrase (reset after each query). */
  private readonly acc: Float64Array;
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
    const lists = new Map<string, number[]>();
    entries.forEach((e, ei) => {
      this.byId.set(e.id, ei);
      this.entryPhrases.push([]);
      const terms = new Set<string>();
      for (const p of e.phrases) for (const t of [...p.tokens, ...bigrams(p.tokens)]) terms.add(t);
      for (const t of terms) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      for (const p of e.phrases) {
        if (!p.tokens.length) continue;
        const id = this.phrases.length;
        const unigrams = [...new Set(p.tokens)];
        // Postings for syllables and syllable pairs: pairs ("ho_khau") are rare and specific,
        // so candidates are found without touching the long lists of common syllables.
        const all = [...new Set([...unigrams, ...bigrams(p.tokens)])];
        let accents: (string | null)[] | null = null;
        if (p.accents?.some(Boolean)) accents = unigrams.map((t) => p.accents?.[p.tokens.indexOf(t)] ?? null);
        this.phrases.push({ entry: ei, terms: all, unigrams, mass: 0, weight: p.weight, accents, keyword: !!p.keyword });
        (this.entryPhrases[ei] as number[]).push(id);
        for (const t of unigrams) this.vocabulary.add(t);
        for (const t of all) {
          let list = lists.get(t);
          if (!list) lists.set(t, (list = []));
          list.push(id);
        }
      }
    });
    for (const [t, list] of lists) this.postings.set(t, Int32Array.from(list));
    this.maxIdf = Math.log(1 + n);
    for (const [t, d] of this.df) this.idfs.set(t, Math.log(1 + n / d));
    for (const p of this.phrases) {
      let m = 0;
      for (const t of p.terms) m += this.idf(t);
      p.mass = m || 1;
    }
    this.acc = new Float64Array(this.phrases.length);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Inverse document frequency; unseen terms get the maximum. */
  idf(term: string): number {
    return this.idfs.get(term) ?? this.maxIdf;
  }

  /** IDF of a message word; words no phrase uses count half the maximum. */
  private termIdf(t: string): number {
    return this.df.has(t) ? this.idf(t) : this.maxIdf * 0.5;
  }

  /** Number of entries whose phrases contain the term. */
  documentFrequency(term: string): number {
    return this.df.get(term) ?? 0;
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
    for (const [t, w] of q) if (!t.includes('_')) qmass += w * (this.df.has(t) ? this.idf(t) : this.maxIdf * 0.5);

    const terms: { t: string; list: Int32Array; w: number }[] = [];
    for (const [t, w] of q) {
      const list = this.postings.get(t);
      if (list) terms.push({ t, list, w });
    }
    terms.sort((a, b) => a.list.length - b.list.length);
    const acc = this.acc;
    const touched: number[] = [];
    let budget = POSTING_BUDGET;
    for (const { t, list, w: qw } of terms) {
      if (touched.length > 0 && list.length > budget) continue;
      const w = this.idf(t) * qw;
      for (let i = 0; i < list.length; i++) {
        const pid = list[i] as number;
        if (acc[pid] === 0) touched.push(pid);
        acc[pid] = (acc[pid] as number) + w;
      }
      budget -= list.length;
    }
    // Keep the phrases with the best partial coverage for exact scoring.
    // Keep the phrases with the best partial coverage for exact scoring, best first
    // (a bounded insertion: touched phrases can number in the thousands).
    const topPid: number[] = [];
    const topS: number[] = [];
    for (const pid of touched) {
      const sc = normalizedCoverage(acc[pid] as number, this.phrases[pid] as CompiledPhrase);
      if (topS.length === EXACT_CANDIDATES && sc <= (topS[topS.length - 1] as number)) continue;
      let k = topS.length;
      while (k > 0 && (topS[k - 1] as number) < sc) k--;
      topS.splice(k, 0, sc);
      topPid.splice(k, 0, pid);
      if (topS.length > EXACT_CANDIDATES) {
        topS.pop();
        topPid.pop();
      }
    }
    let cands = topPid;
    for (const pid of touched) acc[pid] = 0;
    // Every phrase of a candidate entry is weighed: its full name explains words its core does not.
    {
      const entries = new Set(cands.map((pid) => (this.phrases[pid] as CompiledPhrase).entry));
      const have = new Set(cands);
      const more: number[] = [];
      for (const ei of entries) for (const pid of this.entryPhrases[ei] ?? []) if (!have.has(pid)) more.push(pid);
      cands = [...cands, ...more];
    }
    if (expand) {
      const seen = new Set(cands.map((pid) => (this.phrases[pid] as CompiledPhrase).entry));
      const extra: number[] = [];
      for (const ei of [...seen].slice(0, FAMILY_SEEDS)) {
        for (const fe of expand(ei).slice(0, FAMILY_MEMBERS)) {
          if (seen.has(fe)) continue;
          seen.add(fe);
          for (const pid of this.entryPhrases[fe] ?? []) extra.push(pid);
        }
      }
      cands = [...cands, ...extra];
    }
    return this.scoreExact(q, query, qmass, cands, limit, evidence, softening ?? this.scoring.k, typedAccents(query), expectedCoverage);
  }

  /** Exact scores of the given phrases' entries for a weighted query. */
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
    // Words only a life event implies name a procedure's name, not a keyword ("nước ngoài"
    // implied by "người Hàn" is not the "đi nước ngoài" of the passport entry).
    const impliedOnly = new Set<string>();
    if (implied.length) {
      const lit = weigh({ segments: (query as WeightedQuery).segments.filter((sg) => !sg.explains?.length) });
      for (const t of q.keys()) if (!lit.has(t)) impliedOnly.add(t);
    }
    // Message pairs by word, to tell "ly hôn" from the "kết hôn" of a name.
    const pairsOf = new Map<string, string[]>();
    for (const t of q.keys()) {
      const u = t.indexOf('_');
      if (u < 0) continue;
      for (const w of [t.slice(0, u), t.slice(u + 1)]) {
        const l = pairsOf.get(w);
        if (l) l.push(t);
        else pairsOf.set(w, [t]);
      }
    }
    const perEntry = new Map<number, { cov: number; soft: number; explained: Set<string>; matched: Set<string>; pairs: Set<string> }>();
    for (const pid of cands) {
      const p = this.phrases[pid] as CompiledPhrase;
      let m = 0;
      const matched: string[] = [];
      const pairs: string[] = [];
      for (const t of p.terms) {
        const w = q.get(t);
        if (w === undefined || accentClash(typed, p, t) || (p.keyword && impliedOnly.has(t))) continue;
        // A syllable of a two-syllable word counts half when the message uses it in another
        // word: "hôn" of "ly hôn" is not the "hôn" of "kết hôn".
        if (!t.includes('_') && compoundClash(p, t, pairsOf.get(t), q)) {
          m += this.idf(t) * w * 0.5;
          matched.push(t);
          continue;
        }
        m += this.idf(t) * w;
        if (!t.includes('_')) matched.push(t);
        else pairs.push(t);
      }
      if (!matched.length) continue;
      // How much of the name the message holds, softened for short names: naming three
      // words of a long name is more evidence than naming the two words of a short alias.
      // Missing words of a long official name cost less than those of a short one: citizens
      // never type "giá trị sử dụng … phổ thông" (length normalization, as BM25's b).
      const cov = normalizedCoverage(m, p);
      const soft = (m / (m + lengthDiscount(p) * (p.mass - m) + k)) * (1 + k / REFERENCE_MASS) * p.weight;
      let e = perEntry.get(p.entry);
      if (!e) perEntry.set(p.entry, (e = { cov: 0, soft: 0, explained: new Set(), matched: new Set(), pairs: new Set() }));
      for (const t of matched) e.explained.add(t);
      for (const t of pairs) e.pairs.add(t);
      if (cov > e.cov) {
        e.cov = cov;
        e.matched = new Set(matched);
      }
      if (soft > e.soft) e.soft = soft;
    }
    // Names first; then, for the best few, what their records say about themselves.
    const scored = [...perEntry].map(([ei, e]) => {
      let explainedMass = 0;
      for (const t of e.explained) explainedMass += this.idf(t) * (q.get(t) ?? 0);
      // The words of a life event ("ra ở riêng") are explained by a name saying what they imply ("tách hộ").
      for (const im of implied) {
        // The implied phrase must be named as a phrase: its word pairs too ("cấp lại", not the "lái" of "bằng lái").
        const words = im.tokens.filter((t) => e.explained.has(t)).length;
        const pairs = im.tokens.slice(1).filter((t, i) => e.pairs.has(`${im.tokens[i]}_${t}`)).length;
        if (words < Math.ceil(im.tokens.length * 0.67) || (im.tokens.length > 1 && pairs < Math.ceil((im.tokens.length - 1) * 0.67))) continue;
        for (const t of im.explains) if (!e.explained.has(t)) explainedMass += this.termIdf(t) * (q.get(t) ?? 0);
      }
      return { ei, e, explainedMass, pre: combine(this.scoring, Math.min(1.05, e.soft), Math.min(1, explainedMass / (qmass || 1) / expected)) };
    });
    scored.sort((a, b) => b.pre - a.pre);
    const out: RetrievalMatch[] = [];
    scored.forEach(({ ei, e, explainedMass: named }, rank) => {
      let explainedMass = named;
      // What the record says about itself explains story words its names do not, weakly.
      let described: string[] | undefined;
      if (evidence && rank < EVIDENCE_ENTRIES) {
        described = [];
        for (const [t, w] of q) {
          if (t.includes('_') || e.explained.has(t) || !evidence.has(ei, t)) continue;
          explainedMass += DESCRIPTION_WEIGHT * w * (this.df.has(t) ? this.idf(t) : this.maxIdf * 0.5) * evidence.specificity(t);
          described.push(t);
        }
      }
      const qcov = Math.min(1, explainedMass / (qmass || 1) / expected);
      const entry = this.entries[ei] as IndexEntry;
      const prio = (entry.priority / 100) * 0.02;
      // One common syllable ("sửa", "trợ") shared with a name is a coincidence, not a mention.
      if (e.explained.size === 1 && this.documentFrequency([...e.explained][0] as string) >= 3) {
        e.cov *= 0.7;
        e.soft *= 0.7;
      }
      out.push({ id: entry.id, index: ei, faqScale: combine(FAQ_SCORING, Math.min(1, e.cov), qcov) + prio, score: combine(this.scoring, Math.min(1, e.cov), qcov) + prio, rank: combine(this.scoring, Math.min(1.05, e.soft), qcov) + prio, matched: e.matched, coverage: Math.min(1, e.cov), explained: e.explained, queryCoverage: qcov, described });
    });
    out.sort((a, b) => b.rank - a.rank);
    return out.slice(0, limit);
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

/** True when the phrase uses the word only in pairs the message lacks, and the message pairs it otherwise. */
function compoundClash(p: CompiledPhrase, word: string, messagePairs: readonly string[] | undefined, q: ReadonlyMap<string, number>): boolean {
  if (!messagePairs?.length) return false;
  let inPhrase = false;
  for (const t of p.terms) {
    if (!t.includes('_')) continue;
    const u = t.indexOf('_');
    if (t.slice(0, u) !== word && t.slice(u + 1) !== word) continue;
    if (q.has(t)) return false;
    inPhrase = true;
  }
  return inPhrase;
}

/**
 * True when the citizen typed this word only with accents that differ from the phrase's
 * ("tử" typed, "tự" written): folding made them one key, but they are different words.
 */
function accentClash(typed: ReadonlyMap<string, Set<string>>, phrase: CompiledPhrase, term: string): boolean {
  if (!phrase.accents || !typed.size) return false;
  const words = term.includes('_') ? term.split('_') : [term];
  return words.some((w) => {
    const forms = typed.get(w);
    if (!forms) return false;
    const written = phrase.accents?.[phrase.unigrams.indexOf(w)];
    return !!written && !forms.has(written);
  });
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
