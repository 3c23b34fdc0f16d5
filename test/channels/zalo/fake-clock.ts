/**
 * A hand-driven clock for the Zalo tests: `sleep` registers a timer and nothing happens
 * until the test fires it, so backoff, pauses and throttles are checked without waiting.
 * In `auto` mode every sleep jumps the clock forward at once (for throughput checks).
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../bot/channels/zalo/clock.ts';

interface Timer {
  at: number;
  seq: number;
  ms: number;
  fire: () => void;
}

/** Lets pending promise continuations and setImmediate callbacks run. */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock extends EventEmitter<{ sleep: [ms: number] }> implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(
    start = Date.UTC(2026, 10, 26, 2, 0, 0),
    readonly auto = false,
  ) {
    super();
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (ms <= 0) return Promise.resolve();
    if (this.auto) {
      this.t += ms;
      return new Promise((r) => setImmediate(r));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal?.reason as Error);
      };
      const timer: Timer = {
        at: this.t + ms,
        seq: this.seq++,
        ms,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.emit('sleep', ms);
    });
  }

  /** Durations of the timers waiting now, earliest first. */
  get pending(): number[] {
    return this.sorted().map((x) => x.ms);
  }

  /** Resolves with the duration of the earliest timer, waiting for one to be set. */
  async nextSleep(): Promise<number> {
    await flush(2);
    if (!this.timers.length) {
      await new Promise((r) => this.once('sleep', r));
      // Timers set in the same turn as the first one count too.
      await flush(2);
    }
    return (this.sorted()[0] as Timer).ms;
  }

  /** Waits for a timer, moves time to it, fires it and lets its continuation run. Returns its duration. */
  async fireNext(): Promise<number> {
    await this.nextSleep();
    const first = this.sorted()[0] as Timer;
    this.timers = this.timers.filter((x) => x !== first);
    this.t = Math.max(this.t, first.at);
    first.fire();
    await flush();
    return first.ms;
  }

  /**
   * Waits until a timer whose duration satisfies `pred` is set (others may come and go
   * meanwhile), then moves time to it, firing it and any timer due before it, in order.
   * For flows with real I/O in between, where the next timer appears late.
   */
  async fireWhen(pred: (ms: number) => boolean): Promise<number> {
    for (;;) {
      await flush(2);
      const t = this.sorted().find((x) => pred(x.ms));
      if (t) {
        await this.advance(t.at - this.t);
        return t.ms;
      }
      await new Promise((r) => this.once('sleep', r));
    }
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      const first = this.sorted()[0];
      if (!first || first.at > target) break;
      this.timers = this.timers.filter((x) => x !== first);
      this.t = Math.max(this.t, first.at);
      first.fire();
      await flush();
    }
    this.t = target;
    await flush();
  }

  private sorted(): Timer[] {
    return [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}
