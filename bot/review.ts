/**
 * The review inbox on disk: a `ReviewSink` that appends one JSON line per message the
 * assistant could not match, answered with low confidence, or that a citizen rated
 * unhelpful, to `DATA_DIR/review.jsonl`. Staff read it with `npm run kb -- review`.
 *
 * Nothing personal is stored: no user or conversation id, and the text is passed through
 * `redact` (phone and ID numbers, e-mail addresses, names, control characters) with
 * dossier codes masked too. The file is created readable by its owner only (0600).
 */
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger, ReviewSink } from './dialogue/engine.ts';
import { redact, stripControl } from './privacy.ts';

/** One line of review.jsonl. */
export interface ReviewLine {
  at: string;
  channel: string;
  reason: 'unmatched' | 'low-confidence' | 'clarify' | 'unhelpful';
  intent: string;
  procedure: string | null;
  /** The FAQ entry rated unhelpful (absent for other lines). */
  faq?: string;
  confidence: number;
  text: string;
}

/** A short label field (intent, procedure id, channel): no controls, no spaces, bounded. */
const label = (v: unknown): string => stripControl(String(v ?? '')).replace(/\s+/g, '').slice(0, 80);

const DOSSIER_CODE = /(?<![\w.-])(?:(?:[a-z0-9]{1,6}\.){1,5}[a-z0-9]{1,6}|[a-z]\d{2})-\d{6}-\d{4}(?![\w-])/giu;
const MAX_TEXT = 500;

/** Masks what could identify a person or their dossier in a citizen's message. */
export function reviewText(text: string): string {
  return redact(String(text ?? '').replace(DOSSIER_CODE, '[mã hồ sơ]'))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_TEXT);
}

/**
 * Appends review items as JSON lines. Each record is one `appendFileSync` of one line
 * (O_APPEND), so several processes can share the file. A write error is logged, never
 * thrown into the dialogue.
 */
export class JsonlReviewSink implements ReviewSink {
  private dirReady = false;

  constructor(
    readonly path: string,
    private readonly log?: Logger,
  ) {}

  record(item: Parameters<ReviewSink['record']>[0]): void {
    const line: ReviewLine = {
      at: new Date(Number.isFinite(item.at) ? item.at : Date.now()).toISOString(),
      channel: label(item.channel),
      reason: item.reason,
      intent: label(item.intent),
      procedure: item.procedure ? label(item.procedure) : null,
      ...(item.faq ? { faq: label(item.faq) } : {}),
      confidence: Math.round((Number(item.confidence) || 0) * 1000) / 1000,
      text: reviewText(item.text),
    };
    if (!line.text) return;
    try {
      if (!this.dirReady) {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        // Created 0600; an existing file from an older version is tightened once.
        appendFileSync(this.path, '', { mode: 0o600 });
        this.dirReady = true;
        try {
          chmodSync(this.path, 0o600);
        } catch (err) {
          this.log?.warn({ err: { message: (err as Error).message }, path: this.path }, 'could not make the review inbox private (0600)');
        }
      }
      appendFileSync(this.path, `${JSON.stringify(line)}\n`, { encoding: 'utf8', mode: 0o600 });
    } catch (err) {
      this.log?.error({ err: { message: (err as Error).message }, path: this.path }, 'could not write the review inbox');
    }
  }
}
