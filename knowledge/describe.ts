/**
 * The descriptive text of a procedure — who it is for, its conditions, documents and
 * result — for the understanding engine to use as weak evidence beside names: story
 * words ("người nước ngoài", "bị mất", "đã bán", "sửa chữa") find the variant whose
 * record talks about them. Curated entries give their own fields; a lazily loaded
 * national record gives its raw sections without being parsed.
 */
import type { Procedure } from './schema.ts';

/** Longest text taken from one section, and from all: descriptions are evidence, not content. */
const SECTION_MAX = 1200;
const TOTAL_MAX = 3600;

/** Implemented by procedures that can describe themselves cheaply (lazy national records). */
export interface SelfDescribing {
  describe(): string;
}

function isSelfDescribing(p: unknown): p is SelfDescribing {
  return typeof (p as Partial<SelfDescribing>).describe === 'function';
}

/** Plain text describing the procedure (no names or aliases: those are indexed apart). */
export function describeProcedure(p: Procedure): string {
  if (isSelfDescribing(p)) return p.describe();
  const docs = p.documents.flatMap((g) => [g.group, ...g.items.map((i) => i.name)]).join('. ');
  return [p.summary, p.applicants, p.conditions ?? '', p.result, docs].map((s) => s.slice(0, SECTION_MAX)).join('\n');
}

/** The sections of a raw national record that describe it, each cut to a bounded length. */
export function describeRecordSections(sections: readonly (string | undefined)[]): string {
  return sections
    .map((s) => (s ?? '').slice(0, SECTION_MAX))
    .filter((s) => s && !/^\s*không có thông tin\s*$/iu.test(s))
    .join('\n')
    .slice(0, TOTAL_MAX);
}
