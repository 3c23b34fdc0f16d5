/**
 * Time for the Zalo hotline: reconnect backoff, send throttling and pauses all wait
 * through this, so tests drive time by hand instead of sleeping.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** A clock that can wait. `sleep` rejects (AbortError) when the signal aborts. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (ms > 0) await delay(ms, undefined, { signal });
    else signal?.throwIfAborted();
  },
});

/** True for the rejection of an aborted `sleep`. */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
