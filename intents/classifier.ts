/**
 * Intent classifier: multinomial naive Bayes over folded syllable unigrams and bigrams,
 * trained from `intents/examples.yaml` in a few milliseconds at startup.
 *
 * Why not natural's BayesClassifier: it counts only present features against a
 * per-example denominator, builds a dense vector over the whole vocabulary for every
 * message, and returns unnormalized scores (measured in ../shared/notes: 0.84 accuracy).
 * This one is sparse, Laplace-smoothed, returns a normalized distribution and says how
 * many of the message's features it has ever seen — the out-of-scope signal.
 */
import { bigrams } from './normalize.ts';

export interface Classification<L extends string> {
  /** Labels with probabilities summing to 1, best first. */
  ranked: { label: L; p: number }[];
  /** How many of the message's features occur in the training data. */
  known: number;
  /** How many features the message had. */
  total: number;
}

/** Features of a token list: unigrams plus bigrams. */
export function features(tokens: readonly string[]): string[] {
  return [...tokens, ...bigrams(tokens)];
}

export class NaiveBayes<L extends string> {
  private readonly counts = new Map<L, Map<string, number>>();
  private readonly totals = new Map<L, number>();
  private readonly vocabulary = new Set<string>();
  private readonly labels: L[] = [];
  private readonly labelIndex = new Map<L, number>();
  /** Per known feature: its log-likelihood under each label (in `labels` order), computed on first use; cleared by `add`. */
  private readonly logCache = new Map<string, Float64Array>();

  constructor(private readonly alpha = 0.3) {}

  /** Adds one training example (already normalized tokens). */
  add(label: L, tokens: readonly string[]): void {
    if (!this.counts.has(label)) {
      this.counts.set(label, new Map());
      this.totals.set(label, 0);
      this.labelIndex.set(label, this.labels.length);
      this.labels.push(label);
    }
    this.logCache.clear();
    const c = this.counts.get(label) as Map<string, number>;
    // Each example weighs the same whatever its length, so classes with long examples
    // are not penalised against classes with short ones.
    const feats = features(tokens);
    const w = feats.length ? 3 / Math.sqrt(feats.length) : 0;
    for (const f of feats) {
      c.set(f, (c.get(f) ?? 0) + w);
      this.totals.set(label, (this.totals.get(label) ?? 0) + w);
      this.vocabulary.add(f);
    }
  }

  /** True when the feature was seen in training. */
  knows(feature: string): boolean {
    return this.vocabulary.has(feature);
  }

  /**
   * True when some feature of the message is at least `ratio` times likelier under
   * `label` than under every label in `against` — evidence specific to that label
   * ("tra cứu" for dossier status), not shared with them ("hồ sơ").
   */
  distinctive(tokens: readonly string[], label: L, against: readonly L[], ratio = 4, pairsOnly = false): boolean {
    const v = this.vocabulary.size || 1;
    const p = (l: L, f: string) => ((this.counts.get(l)?.get(f) ?? 0) + this.alpha) / ((this.totals.get(l) ?? 0) + this.alpha * v);
    const feats = pairsOnly ? features(tokens).filter((f) => f.includes('_')) : features(tokens);
    return feats.some((f) => this.vocabulary.has(f) && against.every((o) => p(label, f) >= ratio * p(o, f)));
  }

  /** Log-likelihood of a feature under each label, `v` the vocabulary size. */
  private featureLogs(f: string, v: number): Float64Array {
    let row = this.logCache.get(f);
    if (!row) {
      row = new Float64Array(this.labels.length);
      this.labels.forEach((label, i) => {
        const c = this.counts.get(label);
        const total = this.totals.get(label) ?? 0;
        (row as Float64Array)[i] = Math.log(((c?.get(f) ?? 0) + this.alpha) / (total + this.alpha * v));
      });
      this.logCache.set(f, row);
    }
    return row;
  }

  /** Distribution over labels (uniform prior), optionally restricted to some labels. */
  classify(tokens: readonly string[], only?: readonly L[]): Classification<L> {
    const feats = features(tokens);
    const labels = only ?? this.labels;
    const v = this.vocabulary.size || 1;
    const seen = feats.filter((f) => this.vocabulary.has(f));
    const known = seen.length;
    const rows = seen.map((f) => this.featureLogs(f, v));
    const logs = labels.map((label) => {
      const li = this.labelIndex.get(label);
      let lp = 0;
      if (li === undefined) {
        // A label never trained: every feature has the smoothing mass only.
        for (let k = 0; k < seen.length; k++) lp += Math.log((0 + this.alpha) / (0 + this.alpha * v));
        return lp;
      }
      for (const row of rows) lp += row[li] as number;
      return lp;
    });
    const max = Math.max(...logs);
    const exps = logs.map((l) => Math.exp(l - max));
    const sum = exps.reduce((a, b) => a + b, 0) || 1;
    const ranked = labels.map((label, i) => ({ label, p: (exps[i] ?? 0) / sum })).sort((a, b) => b.p - a.p);
    return { ranked, known, total: feats.length };
  }
}
