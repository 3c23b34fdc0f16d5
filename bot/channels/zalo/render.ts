/**
 * Reply → Zalo plain text. Zalo has no buttons for a personal account, so options are
 * numbered lines (the citizen answers "2"), links are spelled out, and long answers are
 * cut into messages of at most 2,000 characters on line boundaries.
 */
import { plainText, type Reply } from '../../dialogue/types.ts';

/** Longest Zalo text we send in one message (openclaw and the Zalo Bot Platform use 2,000). */
export const ZALO_MAX_CHARS = 2000;

/** The whole reply as one plain text: numbered options, then links the text does not already show. */
export function renderZaloText(reply: Reply): string {
  return plainText(reply);
}

/**
 * Cuts text into pieces of at most `max` characters: at line breaks when possible, then
 * at spaces, then anywhere (never inside a surrogate pair). Joining the pieces with
 * "\n" gives back the text, except for whitespace at the cut points.
 */
export function chunkZaloText(text: string, max = ZALO_MAX_CHARS): string[] {
  if (max < 2) throw new RangeError('max must be at least 2');
  const chunks: string[] = [];
  let current = '';
  const flush = (): void => {
    const t = current.replace(/\s+$/u, '');
    if (t) chunks.push(t);
    current = '';
  };
  for (const line of text.split('\n')) {
    const candidate = current ? `${current}\n${line}` : line;
    if (candidate.length <= max) {
      current = candidate;
      continue;
    }
    flush();
    let rest = line;
    while (rest.length > max) {
      let cut = rest.lastIndexOf(' ', max);
      if (cut < max / 2) cut = max;
      if (/[\uD800-\uDBFF]/.test(rest.charAt(cut - 1))) cut -= 1;
      const piece = rest.slice(0, cut).replace(/\s+$/u, '');
      if (piece) chunks.push(piece);
      rest = rest.slice(cut).replace(/^ +/, '');
    }
    current = rest;
  }
  flush();
  return chunks;
}
