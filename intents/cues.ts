/**
 * Accent-aware phrase matching on normalized tokens, for the editable phrase lists
 * (variant cues, abusive words). Folding makes "đi", "đĩ" and "di" one key; a list
 * word written with accents therefore matches only that word, or the same letters
 * typed without any accents — "đeo" and "dì" are not "đéo" and "đĩ". A list word
 * written without accents matches only tokens typed without accents.
 */
import { canonicalize, fold, foldTokens } from './normalize.ts';

/** One list phrase: folded tokens, and for each the accented form (null when written without accents). */
export interface CuePhrase {
  text: string;
  folded: string[];
  accented: (string | null)[];
  /** Matches only tokens typed with exactly these accents (never unaccented typing). */
  strict?: boolean;
}

/** Compiles a phrase as written in a YAML list. */
export function compilePhrase(text: string, strict = false): CuePhrase {
  const canon = canonicalize(text).split(' ').filter(Boolean);
  const folded = foldTokens(canon.join(' '));
  return { text, folded, accented: canon.map((w) => (fold(w) === w ? null : w)), strict };
}

/**
 * True when the phrase occurs at position i. `accents[k]` is the accented form the
 * citizen typed for token k, or null when typed without accents (or produced by an
 * abbreviation or a typo correction); in a message typed with accents a plain word may
 * carry its own letters ("do" is the preposition, not an unaccented "đò").
 */
export function matchesAt(tokens: readonly string[], accents: readonly (string | null)[], i: number, p: CuePhrase): boolean {
  if (!p.folded.length || i + p.folded.length > tokens.length) return false;
  for (let k = 0; k < p.folded.length; k++) if (!wordMatches(tokens, accents, i + k, p, k)) return false;
  return true;
}

/** True when token t matches phrase word k: the same folded word, typed without accents or with the list word's own. */
function wordMatches(tokens: readonly string[], accents: readonly (string | null)[], t: number, p: CuePhrase, k: number): boolean {
  if (tokens[t] !== p.folded[k]) return false;
  const typed = accents[t] ?? null;
  if (typed === null) return !(p.strict && p.accented[k] !== null);
  // A list word without accents ("visa") matches the same letters typed as they are.
  return p.accented[k] === null ? typed === tokens[t] : p.accented[k] === typed;
}

/** Phrase positions by first folded word, built once per list (lists are reused). */
const byFirst = new WeakMap<readonly CuePhrase[], Map<string, number[]>>();

function firstIndex(phrases: readonly CuePhrase[]): Map<string, number[]> {
  const hit = byFirst.get(phrases);
  if (hit) return hit;
  const m = new Map<string, number[]>();
  phrases.forEach((p, i) => {
    const f = p.folded[0];
    if (f === undefined) return;
    const l = m.get(f);
    if (l) l.push(i);
    else m.set(f, [i]);
  });
  byFirst.set(phrases, m);
  return m;
}

/**
 * Every occurrence of any phrase: [phrase index, start, end) triples, in text order.
 * With `gap`, one of those words may stand between two phrase words ("chưa bao giờ
 * được làm giấy khai sinh" holds "chưa bao giờ làm giấy khai sinh").
 */
export function findPhrases(tokens: readonly string[], accents: readonly (string | null)[], phrases: readonly CuePhrase[], gap?: ReadonlySet<string>): { phrase: number; start: number; end: number }[] {
  const out: { phrase: number; start: number; end: number }[] = [];
  const index = firstIndex(phrases);
  for (let i = 0; i < tokens.length; i++) {
    for (const pi of index.get(tokens[i] as string) ?? []) {
      const p = phrases[pi] as CuePhrase;
      if (matchesAt(tokens, accents, i, p)) out.push({ phrase: pi, start: i, end: i + p.folded.length });
      else if (gap) {
        const end = gappedEnd(tokens, accents, i, p, gap);
        if (end > 0) out.push({ phrase: pi, start: i, end });
      }
    }
  }
  return out;
}

/** End of the phrase at i with at most one `gap` word between two of its words (none repeated from the phrase), or -1. */
function gappedEnd(tokens: readonly string[], accents: readonly (string | null)[], i: number, p: CuePhrase, gap: ReadonlySet<string>): number {
  const n = p.folded.length;
  if (n < 2 || i + n >= tokens.length) return -1;
  // The words before the gap must match as they stand: find how far they do.
  let k = 0;
  while (k < n && wordMatches(tokens, accents, i + k, p, k)) k++;
  if (k === 0 || k === n) return -1;
  const word = tokens[i + k] as string;
  if (!gap.has(word) || p.folded.includes(word)) return -1;
  for (let r = k; r < n; r++) if (!wordMatches(tokens, accents, i + r + 1, p, r)) return -1;
  return i + n + 1;
}

/**
 * Positions of tokens that are not part of a filler phrase (longest filler first), with
 * fillers matched accent-aware: "cần" is a filler, the "căn" of "căn cước" is not.
 */
export function contentMask(tokens: readonly string[], accents: readonly (string | null)[], fillers: readonly CuePhrase[]): boolean[] {
  const keep = tokens.map(() => true);
  const index = firstIndex(fillers);
  let i = 0;
  outer: while (i < tokens.length) {
    for (const fi of index.get(tokens[i] as string) ?? []) {
      const f = fillers[fi] as CuePhrase;
      if (matchesAt(tokens, accents, i, f)) {
        for (let k = 0; k < f.folded.length; k++) keep[i + k] = false;
        i += f.folded.length;
        continue outer;
      }
    }
    i++;
  }
  return keep;
}
