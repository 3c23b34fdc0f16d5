/**
 * Vietnamese text normalization: the one place that turns what citizens type into
 * comparable tokens.
 *
 * People paste NFD text, mix old and new tone placement ("hoà"/"hòa"), type without
 * diacritics, repeat letters ("ạaaa"), and use abbreviations ("đk", "cccd"). The
 * knowledge base is indexed with the same functions, so both sides meet in one
 * folded, expanded token space. Measured cost: tens of microseconds per message.
 */

const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/;
const TONE_MARKS_G = /[\u0300\u0301\u0303\u0309\u0323]/g;
const VOWELS = new Set('aăâeêioôơuưy');
const HAT_VOWELS = new Set('ăâêôơư');

/**
 * Puts the tone mark of one lowercase syllable where the traditional ("old style")
 * rule puts it: hoà → hòa, thuỷ → thủy, qúy → quý. Unknown shapes are returned as NFC.
 */
export function canonicalTone(syllable: string): string {
  const hit = toneMemo.get(syllable);
  if (hit !== undefined) return hit;
  const out = placeTone(syllable);
  // Syllables repeat a lot (names, descriptions): a bounded memo makes indexing cheap.
  if (toneMemo.size >= TONE_MEMO_MAX) toneMemo.clear();
  toneMemo.set(syllable, out);
  return out;
}

const TONE_MEMO_MAX = 50_000;
const toneMemo = new Map<string, string>();

function placeTone(syllable: string): string {
  const nfd = syllable.normalize('NFD');
  const tone = nfd.match(TONE_MARKS)?.[0];
  if (!tone) return syllable.normalize('NFC');
  const base = [...nfd.replace(TONE_MARKS_G, '').normalize('NFC')];
  // Vowel cluster, skipping the qu / gi onsets.
  let start = base.findIndex((c) => VOWELS.has(c));
  if (start < 0) return syllable.normalize('NFC');
  const prev = base[start - 1];
  if ((prev === 'q' && base[start] === 'u') || (prev === 'g' && base[start] === 'i' && VOWELS.has(base[start + 1] ?? ''))) start += 1;
  let end = start;
  while (end < base.length && VOWELS.has(base[end] ?? '')) end++;
  const cluster = end - start;
  if (cluster <= 0) return syllable.normalize('NFC');
  let pos = -1;
  for (let i = start; i < end; i++) if (HAT_VOWELS.has(base[i] ?? '')) pos = i; // ươ → ơ (the last hat vowel)
  if (pos < 0) {
    if (end < base.length) pos = end - 1; // final consonant: last vowel (hoàn, tuyết)
    else if (cluster >= 3) pos = start + 1; // three vowels: the middle one (ngoáy)
    else pos = start; // open syllable with two vowels: the first (hòa, thủy, mùa)
  }
  base[pos] = `${base[pos]}${tone}`;
  return base.join('').normalize('NFC');
}


function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Removes diacritics and maps đ → d: the key that matches text typed without accents. */
export function fold(text: string): string {
  // Plain ASCII (text typed without accents) has nothing to fold.
  if (isAscii(text)) return text;
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
}

const URL_RE = /\b(?:https?:\/\/|www\.)\S+/giu;
// Anything that is not a letter, a digit or a combining mark separates tokens (emoji, punctuation).
const SEPARATORS = /[^\p{L}\p{N}\p{M}]+/gu;
const REPEATED_VOWEL = /([aeiouy])\1{2,}/g;

/** Canonical accented text: NFC, lowercase, Ð→đ, tone marks in one place per syllable. */
export function canonicalize(text: string): string {
  const lower = text
    .normalize('NFC')
    .replace(/[\u00d0\u00f0\u0110]/g, 'đ')
    .toLowerCase()
    .replace(URL_RE, ' ');
  return lower
    .split(SEPARATORS)
    .filter(Boolean)
    .map(canonicalTone)
    .join(' ');
}

/** Folded tokens of already-canonical text, with runs of one vowel collapsed ("nhaaa" → "nha"). */
export function foldTokens(canonical: string): string[] {
  if (!canonical) return [];
  const out: string[] = [];
  for (const w of canonical.split(' ')) {
    if (!w) continue;
    let f = foldMemo.get(w);
    if (f === undefined) {
      // "09 số" and "9 số" are one number.
      f = fold(w).replace(REPEATED_VOWEL, '$1').replace(/^0+(?=\d)/, '');
      if (foldMemo.size >= TONE_MEMO_MAX) foldMemo.clear();
      foldMemo.set(w, f);
    }
    if (f) out.push(f);
  }
  return out;
}

/** Folded form of each canonical syllable seen (bounded, like the tone memo). */
const foldMemo = new Map<string, string>();

/** Adjacent token pairs, joined with `_`. */
export function bigrams(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < tokens.length; i++) out.push(`${tokens[i - 1]}_${tokens[i]}`);
  return out;
}

/** A context-dependent abbreviation: "hk" means hộ khẩu only next to nhập/tách/sổ. */
export interface ContextRule {
  /** Folded token as typed. */
  token: string;
  /** Folded tokens it stands for. */
  means: string[];
  /** Applies when one of these folded tokens comes right before it. */
  after?: string[];
  /** Applies when one of these folded tokens is within two tokens on either side. */
  near?: string[];
  /** Applies when it is the last token of the message. */
  atEnd?: boolean;
  /** Applies when one of these folded tokens comes right after it. */
  before?: string[];
  /**
   * The accented word meant, for a rule that only tells which word an accent-free token is
   * ("can giay gi" is "cần", not the "cận" of "hộ cận nghèo"); such a rule leaves typed accents alone.
   */
  accent?: string;
}

/** The editable abbreviation tables, folded and ready to apply. */
export interface Lexicon {
  /** Folded token → folded tokens it expands to. */
  abbreviations: Map<string, string[]>;
  rules: ContextRule[];
}

export const EMPTY_LEXICON: Lexicon = { abbreviations: new Map(), rules: [] };

/** Context rules by token, in table order, per rules table (rebuilt if the table's length changes). */
const rulesByToken = new WeakMap<readonly ContextRule[], { length: number; byToken: Map<string, ContextRule[]> }>();
const NO_RULES: readonly ContextRule[] = [];

function rulesIndex(rules: readonly ContextRule[]): Map<string, ContextRule[]> {
  let hit = rulesByToken.get(rules);
  if (!hit || hit.length !== rules.length) {
    const byToken = new Map<string, ContextRule[]>();
    for (const rule of rules) {
      const list = byToken.get(rule.token);
      if (list) list.push(rule);
      else byToken.set(rule.token, [rule]);
    }
    rulesByToken.set(rules, (hit = { length: rules.length, byToken }));
  }
  return hit.byToken;
}

/** Expands abbreviations on folded tokens, context rules first, then the plain table. */
export function expand(tokens: readonly string[], lexicon: Lexicon): string[] {
  return expandAligned(tokens, lexicon, null).tokens;
}

/**
 * `expand`, keeping a parallel array: for each output token, the accented form the
 * citizen typed (null when they typed none or the token came from an expansion).
 */
export function expandAligned(
  tokens: readonly string[],
  lexicon: Lexicon,
  accented: readonly (string | null)[] | null,
): { tokens: string[]; accents: (string | null)[]; asTyped: boolean[] } {
  const out: string[] = [];
  const accents: (string | null)[] = [];
  const asTyped: boolean[] = [];
  const push = (toks: readonly string[], accent: string | null, typed = false) => {
    for (const t of toks) {
      out.push(t);
      accents.push(toks.length === 1 ? accent : null);
      asTyped.push(typed);
    }
  };
  const rules = rulesIndex(lexicon.rules);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    let replacement: string[] | undefined;
    let restored: string | null = null;
    for (const rule of rules.get(tok) ?? NO_RULES) {
      if (rule.accent && accented?.[i]) continue;
      const prev = out[out.length - 1];
      const next = tokens[i + 1];
      const window = [...out.slice(-2), ...tokens.slice(i + 1, i + 3)];
      if (
        (rule.after && prev !== undefined && rule.after.includes(prev)) ||
        (rule.before && next !== undefined && rule.before.includes(next)) ||
        (rule.near && rule.near.some((n) => window.includes(n))) ||
        (rule.atEnd && i === tokens.length - 1)
      ) {
        replacement = rule.means;
        restored = rule.accent ?? null;
        break;
      }
    }
    if (restored && replacement) {
      // The word as typed, now with the accent it was meant with (still a typed word).
      push(replacement, restored, true);
      continue;
    }
    if (!replacement && i + 1 < tokens.length) {
      const pair = lexicon.abbreviations.get(`${tok} ${tokens[i + 1]}`);
      if (pair) {
        push(pair, null);
        i++;
        continue;
      }
    }
    replacement ??= lexicon.abbreviations.get(tok);
    if (replacement) push(replacement, null);
    else push([tok], accented?.[i] ?? null, true);
  }
  return { tokens: out, accents, asTyped };
}

/** True when folding changes the syllable (it carries accents or đ); memoized like the tone memo. */
function isAccented(syllable: string): boolean {
  let hit = accentedMemo.get(syllable);
  if (hit === undefined) {
    hit = fold(syllable) !== syllable;
    if (accentedMemo.size >= TONE_MEMO_MAX) accentedMemo.clear();
    accentedMemo.set(syllable, hit);
  }
  return hit;
}

const accentedMemo = new Map<string, boolean>();

/** Everything the understanding engine needs from one message. */
export interface Normalized {
  /** The message as received. */
  raw: string;
  /** NFC, lowercase, canonical tone placement, punctuation and emoji removed. */
  canon: string;
  /** Folded tokens before abbreviation expansion. */
  folded: string[];
  /** Folded tokens after abbreviation expansion: the features everything else uses. */
  tokens: string[];
  /** For each token, the accented form as typed (canonical tones), or null if typed without accents. */
  accents: (string | null)[];
  /** For each token, true when it is a word as typed (not from an abbreviation's expansion). */
  asTyped?: boolean[];
}

/** Normalizes one message. Pure and fast; safe on any string. */
export function normalize(raw: string, lexicon: Lexicon = EMPTY_LEXICON): Normalized {
  const canon = canonicalize(raw.toWellFormed());
  const folded = foldTokens(canon);
  const canonTokens = canon ? canon.split(' ') : [];
  const typed = folded.map((f, i) => {
    const c = canonTokens[i];
    return c !== undefined && isAccented(c) ? c : null;
  });
  const { tokens, accents, asTyped } = expandAligned(folded, lexicon, typed);
  return { raw, canon, folded, tokens, accents, asTyped };
}
