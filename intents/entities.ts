/**
 * Entities pulled from a message before normalization removes punctuation:
 * dossier codes, ages and channel words.
 */
import type { ChannelMethod } from '../knowledge/schema.ts';

/**
 * Dossier code: an agency prefix of dot-separated letter/digit groups (opaque), a dash,
 * a yyMMdd date, a dash, a 4-digit counter. E.g. 000.00.19.H04-250312-0007, H57.132-260804-0583.
 */
const DOSSIER_CODE = /(?<![\w.-])((?:[a-z0-9]{1,6}\.){1,5}[a-z0-9]{1,6}|[a-z]\d{2})-(\d{6})-(\d{4})(?![\w-])/giu;
/** Something a citizen meant as a code but that does not have the right shape. */
const CODE_LIKE = /(?<![\w.-])(?:\d{3}\.\d{2}\.\d{2}\.[a-z]\d{2}|[a-z]\d{2}(?:\.\d+)+)(?:-[\w]*)*(?![\w.])/giu;

export interface DossierCodeMatch {
  /** Upper-cased code. */
  code: string;
  /** yyMMdd decoded as an ISO date, when valid. */
  date?: string;
}

function validDate(yymmdd: string): string | undefined {
  const y = 2000 + Number(yymmdd.slice(0, 2));
  const m = Number(yymmdd.slice(2, 4));
  const d = Number(yymmdd.slice(4, 6));
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCMonth() !== m - 1) return undefined;
  return dt.toISOString().slice(0, 10);
}

/** Finds a well-formed dossier code (its prefix must contain a digit and a letter+digit group). */
export function findDossierCode(text: string): DossierCodeMatch | null {
  for (const m of text.matchAll(DOSSIER_CODE)) {
    const prefix = m[1] as string;
    if (!/\d/.test(prefix) || !/[a-z]/i.test(prefix)) continue;
    const date = validDate(m[2] as string);
    if (!date) continue;
    return { code: m[0].toUpperCase(), date };
  }
  return null;
}

/** A token that looks like an attempt at a dossier code but is malformed. */
export function findMalformedCode(text: string): string | null {
  if (findDossierCode(text)) return null;
  const m = text.match(CODE_LIKE);
  if (m) return m[0];
  // Long digit-and-dash strings ("250312-0007", "H04 250312 0007") are attempts too.
  const loose = text.match(/(?<![\w])[a-z]?\d{2,}[\d.]*-\d{3,}(?:-\d+)?(?![\w])/iu);
  return loose ? loose[0] : null;
}

/** Age in years when the message states one ("bé 5 tuổi", "con 13 tuoi"). */
export function findAge(foldedText: string): number | undefined {
  const m = foldedText.match(/(\d{1,3})\s*(?:tuoi|t)\b/);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 120 ? n : undefined;
}

/** Channel the citizen names, on folded expanded tokens. */
export function findChannel(tokens: readonly string[]): ChannelMethod | undefined {
  const s = ` ${tokens.join(' ')} `;
  if (/ (truc tuyen|qua mang|vneid|dich vu cong) /.test(s)) return 'truc-tuyen';
  if (/ (buu dien|buu chinh|chuyen phat) /.test(s)) return 'buu-chinh';
  if (/ (truc tiep|den noi|tai quay|mot cua) /.test(s)) return 'truc-tiep';
  return undefined;
}
