/**
 * How the send queue classifies a sender's errors: permanent (not retried), "slow down"
 * (wait as long as the platform says, without using up an attempt), or anything else
 * (retried with exponential backoff and jitter).
 */
import { PermanentSendError } from '../pipeline.ts';

/**
 * A sender throws this when the platform asked it to wait (Telegram 429 `retry_after`,
 * Zalo code 221). The whole channel pauses for `retryAfterMs`.
 */
export class SendRateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SendRateLimitedError';
  }
}

/** True for errors retrying cannot fix (blocked by the user, chat gone). */
export function isPermanentSendError(err: unknown): boolean {
  return err instanceof PermanentSendError || (err instanceof Error && err.name === 'PermanentSendError');
}

/**
 * Milliseconds the platform asked us to wait, if it did: our own error, or the shape of
 * grammY's `GrammyError` (`error_code` 429, `parameters.retry_after` in seconds), read
 * structurally so that this module does not import a channel library.
 */
export function retryAfterMs(err: unknown): number | undefined {
  if (err instanceof SendRateLimitedError) return Math.max(1, err.retryAfterMs);
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { error_code?: unknown; parameters?: { retry_after?: unknown }; retryAfterMs?: unknown };
  if (typeof e.retryAfterMs === 'number' && e.retryAfterMs > 0) return e.retryAfterMs;
  if (e.error_code === 429 && typeof e.parameters?.retry_after === 'number') return Math.max(1, e.parameters.retry_after * 1000);
  return undefined;
}
