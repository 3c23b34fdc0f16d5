/**
 * The one-tap rating's payload (`#r:<1|0>:<aspect>`, sent back by a button or typed by
 * anyone who knows the format), checked in one place: the dialogue engine acts on a
 * rating only through `parseRating`, so nothing unvalidated from it reaches the review
 * inbox or the logs. Whoever changes the payload's shape changes this function.
 */

/** The answer aspects a rating can be about (the `intent` of a procedure answer). */
const ASPECTS = new Set(['procedure.overview', 'procedure.steps', 'procedure.documents', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online']);

/** A valid rating. */
export interface Rating {
  helpful: boolean;
  /** The aspect of the answer rated. */
  intent: string;
}

/** The rating a payload carries, or null when it is not one we issue. */
export function parseRating(payload: string): Rating | null {
  const m = /^#r:([01]):([a-z.]{1,40})$/.exec(payload);
  if (!m || !ASPECTS.has(m[2] as string)) return null;
  return { helpful: m[1] === '1', intent: m[2] as string };
}
