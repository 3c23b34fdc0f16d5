/**
 * The review inbox as a service, written once for `npm run kb -- review` and the
 * console's "Rà soát" page: the messages the assistant missed (`DATA_DIR/review.jsonl`,
 * personal data already removed), grouped so "12 people asked this" shows once, each
 * group with what the assistant guessed at the time and how the live knowledge
 * understands it now (which changes after a teach).
 */
import type { KnowledgeVersion } from '../assistant.ts';
import { loadIntentData } from '../../intents/data.ts';
import type { Lexicon } from '../../intents/normalize.ts';
import { groupReview, readReviewFile, type ReviewGroup } from '../../knowledge/review.ts';

/** How the live knowledge understands a text. */
export interface CurrentUnderstanding {
  intent: string;
  procedure: string | null;
  faq: string | null;
  confidence: number;
}

/** A group with today's understanding beside the guess at the time. */
export type ReviewGroupView = ReviewGroup & { now: CurrentUnderstanding };

export interface ReviewInboxDeps {
  /** The review file (`DATA_DIR/review.jsonl`). */
  file: string;
  /** The intents folder whose abbreviation table groups wordings. */
  intentsDir: string;
  live: () => KnowledgeVersion;
}

/** The grouped review inbox (see the module comment). */
export class ReviewInbox {
  private lexicon?: { version: KnowledgeVersion; lexicon: Lexicon | undefined };

  constructor(private readonly deps: ReviewInboxDeps) {}

  get file(): string {
    return this.deps.file;
  }

  /** Abbreviations of the live intents (read once per knowledge version). */
  private lexiconOf(v: KnowledgeVersion): Lexicon | undefined {
    if (this.lexicon?.version !== v) this.lexicon = { version: v, lexicon: loadIntentData(this.deps.intentsDir).data?.lexicon };
    return this.lexicon.lexicon;
  }

  /** How the live knowledge understands `text` now. */
  understand(text: string): CurrentUnderstanding {
    const u = this.deps.live().understander.understand(text, {});
    return { intent: u.intent, procedure: u.procedure, faq: u.faq, confidence: u.confidence };
  }

  /** Groups, biggest first, with the total and the malformed lines skipped. */
  groups(opts: { since?: string } = {}): { total: number; bad: number; groups: ReviewGroupView[] } {
    const v = this.deps.live();
    const { entries, bad } = readReviewFile(this.deps.file, { since: opts.since });
    const groups = groupReview(entries, { lexicon: this.lexiconOf(v) });
    return { total: entries.length, bad, groups: groups.map((g) => ({ ...g, now: this.understand(g.text) })) };
  }
}
