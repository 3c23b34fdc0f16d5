/**
 * Weak evidence from what a procedure's record says about itself (who it is for,
 * conditions, documents, result), beside the strong evidence of its names.
 *
 * Each procedure keeps a sorted array of 32-bit hashes of its folded words and word
 * pairs — no strings — so 2,600 national records cost a few MB. Only the candidates that
 * names already found are looked up (binary search), so the per-message cost does not
 * grow with the base. The hashes of a procedure object are cached: a knowledge reload
 * that keeps the national records re-indexes only what changed.
 */

/** FNV-1a offset basis and prime: cheap and well spread for short ASCII words. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Hash of a folded word (FNV-1a over its ASCII codes). */
export function wordHash(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h | 0;
}

/** Hash of an adjacent word pair, from the two words' hashes. */
export function pairHash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x27d4eb2d);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x165667b1);
  return (h ^ (h >>> 13)) | 0;
}

/** Hash of an index term: a folded word, or a pair written `a_b`. */
export function termHash(term: string): number {
  const u = term.indexOf('_');
  return u < 0 ? wordHash(term) : pairHash(wordHash(term.slice(0, u)), wordHash(term.slice(u + 1)));
}

/** Precomposed Vietnamese letters (and Latin-1 ones) → their ASCII base letter. */
const BASE = new Map<number, number>();
for (let c = 0xc0; c <= 0x1ef9; c++) {
  const b = String.fromCharCode(c).normalize('NFD').charCodeAt(0);
  if (b < 128 && b !== c) BASE.set(c, b);
}
BASE.set(0x111, 100); // đ
BASE.set(0x110, 68); // Đ

/**
 * Sorted unique hashes of a long text's folded words and adjacent word pairs, in one
 * pass over the characters with no intermediate strings: a table instead of the
 * per-syllable tone placement short messages get (tones are dropped anyway). Glued
 * words of flattened tables ("tờ khaiSố lượng") are cut at the case change.
 */
let scratch = new Int32Array(4096);

export function textTerms(text: string): Int32Array {
  const src = text.normalize('NFC');
  // One reusable buffer: a text of n characters has at most n + 2 words and pairs.
  if (scratch.length < src.length + 2) scratch = new Int32Array(src.length + 2);
  const out = scratch;
  let n = 0;
  let h = FNV_OFFSET;
  let len = 0;
  let prev = 0;
  let hasPrev = false;
  let prevLower = false;
  const end = () => {
    if (!len) return;
    const w = h | 0;
    if (n + 2 > out.length) return;
    out[n++] = w;
    if (hasPrev) out[n++] = pairHash(prev, w);
    prev = w;
    hasPrev = true;
    h = FNV_OFFSET;
    len = 0;
  };
  for (let i = 0; i < src.length; i++) {
    let c = src.charCodeAt(i);
    if (c >= 0x300 && c <= 0x36f) continue; // a stray combining mark
    if (c >= 128) c = BASE.get(c) ?? 0;
    const upper = c >= 65 && c <= 90;
    const lower = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (upper && prevLower) end();
    if (upper || lower) {
      h = Math.imul(h ^ (upper ? c + 32 : c), FNV_PRIME);
      len++;
      prevLower = lower;
    } else {
      end();
      prevLower = false;
    }
  }
  end();
  const sorted = out.subarray(0, n).sort();
  let u = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[u++] = sorted[i] as number;
  return sorted.slice(0, u);
}

const cache = new WeakMap<object, Int32Array>();

function has(arr: Int32Array, h: number): boolean {
  return indexIn(arr, h) >= 0;
}

function indexIn(arr: Int32Array, h: number): number {
  let lo = 0;
  let hi = arr.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = arr[mid] as number;
    if (v === h) return mid;
    if (v < h) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Description terms of every entry, with document frequencies for weighting. */
export class EvidenceIndex {
  private readonly terms: Int32Array[];
  /** Every distinct term hash (sorted) and the number of entries holding it. */
  private readonly dfKeys: Int32Array;
  private readonly dfCounts: Int32Array;
  private readonly n: number;

  /** `describe(i)` gives entry i's text; `key(i)` the object its hashes are cached under. */
  constructor(count: number, describe: (i: number) => string, key: (i: number) => object) {
    this.terms = [];
    for (let i = 0; i < count; i++) {
      const k = key(i);
      let t = cache.get(k);
      if (!t) {
        t = textTerms(describe(i));
        cache.set(k, t);
      }
      this.terms.push(t);
    }
    // Document frequencies without a hash map: sort all terms once and count the runs.
    let total = 0;
    for (const t of this.terms) total += t.length;
    const all = new Int32Array(total);
    let o = 0;
    for (const t of this.terms) {
      all.set(t, o);
      o += t.length;
    }
    all.sort();
    let unique = 0;
    for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) unique++;
    const keys = new Int32Array(unique);
    const counts = new Int32Array(unique);
    let k = -1;
    for (let i = 0; i < total; i++) {
      if (k < 0 || keys[k] !== all[i]) keys[++k] = all[i] as number;
      counts[k] = (counts[k] as number) + 1;
    }
    this.dfKeys = keys;
    this.dfCounts = counts;
    this.n = count || 1;
  }

  /** True when entry i's description contains the folded word or pair (`a_b`). */
  has(i: number, term: string): boolean {
    const t = this.terms[i];
    return !!t && has(t, termHash(term));
  }

  /** `has` for a term already hashed (`termHash`): a message's words are hashed once, not once per entry. */
  hasHashed(i: number, hash: number): boolean {
    const t = this.terms[i];
    return !!t && has(t, hash);
  }

  /** `termHash`, for `hasHashed` and `specificityHashed`. */
  hashOf(term: string): number {
    return termHash(term);
  }

  /** How specific a word is among descriptions: 0 for words every record uses, up to 1. */
  specificity(term: string): number {
    return this.specificityHashed(termHash(term));
  }

  /** `specificity` of a term already hashed. */
  specificityHashed(hash: number): number {
    const at = indexIn(this.dfKeys, hash);
    const d = at < 0 ? 0 : (this.dfCounts[at] as number);
    if (!d) return 1;
    return Math.log(1 + this.n / d) / Math.log(1 + this.n);
  }
}
