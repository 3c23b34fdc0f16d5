/**
 * The one-tap rating's payload, checked in one place. A rating button sends back
 * `#r:<1|0>:<answer>:<intent>:<procedure or FAQ id>` (`ratingPayload` in
 * bot/dialogue/types.ts); buttons of the older `#r:<1|0>:<intent>` shape still arrive
 * from old messages. Anyone can also type or forge a payload, so the dialogue acts on a
 * rating only through `parseRating`: nothing unvalidated from it reaches the review inbox
 * or the logs. Whoever changes the payload's shape changes this function with it.
 */

/** The answer aspects a rating can be about, and `faq` for FAQ answers. */
const INTENTS = new Set(['procedure.overview', 'procedure.steps', 'procedure.documents', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online', 'faq']);
/** Procedure and FAQ ids: curated (`ho-tich.khai-sinh`) and national codes (`1.001193`). */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A valid rating. */
export interface Rating {
  helpful: boolean;
  /** The aspect rated, or `faq`. */
  intent: string;
  /** The answer's number in its conversation (absent on old buttons). */
  answer?: number;
  /** The procedure or FAQ id the button names (absent on old buttons). */
  id?: string;
}

/** The rating a payload carries, or null when it is not one we issue. */
export function parseRating(payload: string): Rating | null {
  const parts = payload.split(':');
  if (parts[0] !== '#r' || (parts[1] !== '1' && parts[1] !== '0')) return null;
  const helpful = parts[1] === '1';
  if (parts.length === 3) {
    const intent = parts[2] as string;
    return INTENTS.has(intent) && intent !== 'faq' ? { helpful, intent } : null;
  }
  if (parts.length !== 5) return null;
  const [, , n, intent, id] = parts as [string, string, string, string, string];
  if (!/^\d{1,6}$/.test(n) || !INTENTS.has(intent) || (id !== '' && !ID.test(id))) return null;
  return { helpful, intent, answer: Number(n), ...(id ? { id } : {}) };
}
