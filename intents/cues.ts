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
  for (let k = 0; k < p.folded.length; k++) {
    if (tokens[i + k] !== p.folded[k]) return false;
    const typed = accents[i + k] ?? null;
    if (typed === null) {
      if (p.strict && p.accented[k] !== null) return false;
      continue;
    }
    // A list word without accents ("visa") matches the same letters typed as they are.
    if (p.accented[k] === null ? typed !== tokens[i + k] : p.accented[k] !== typed) return false;
  }
  return true;
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
  if (p.folded.length < 2) return -1;
  for (let k = 1; k < p.folded.length; k++) {
    const word = tokens[i + k];
    if (word === undefined || !gap.has(word) || p.folded.includes(word)) continue;
    const kept = [...tokens.slice(i, i + k), ...tokens.slice(i + k + 1, i + p.folded.length + 1)];
    const keptAccents = [...accents.slice(i, i + k), ...accents.slice(i + k + 1, i + p.folded.length + 1)];
    if (kept.length === p.folded.length && matchesAt(kept, keptAccents, 0, p)) return i + p.folded.length + 1;
  }
  return -1;
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
