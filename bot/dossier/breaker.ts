/**
 * A circuit breaker for the upstream one-stop system: after a run of failures the
 * assistant stops calling it for a cool-down and answers "temporarily unavailable" at
 * once, so a dead upstream costs the chat nothing; then one trial call decides whether
 * to close again.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit (0 = never open). */
  failureThreshold: number;
  /** How long it stays open before one trial call is let through. */
  cooldownMs: number;
  now?: () => number;
  /** Told about every state change (for operator logs and metrics). */
  onChange?: (state: BreakerState, failures: number) => void;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private current: BreakerState = 'closed';
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /**
   * Asks to make a call. Returns a ticket to report the outcome with, or null when the
   * circuit is open (or a half-open trial is already running).
   */
  acquire(): { success(): void; failure(): void } | null {
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.opts.cooldownMs) return null;
      this.set('half-open');
    }
    if (this.current === 'half-open') {
      if (this.trialInFlight) return null;
      this.trialInFlight = true;
      return this.ticket(true);
    }
    return this.ticket(false);
  }

  private ticket(trial: boolean): { success(): void; failure(): void } {
    let done = false;
    return {
      success: () => {
        if (done) return;
        done = true;
        if (trial) this.trialInFlight = false;
        this.failures = 0;
        if (this.current !== 'closed') this.set('closed');
      },
      failure: () => {
        if (done) return;
        done = true;
        if (trial) this.trialInFlight = false;
        this.failures++;
        if (this.current === 'half-open' || (this.current === 'closed' && this.opts.failureThreshold > 0 && this.failures >= this.opts.failureThreshold)) {
          this.openedAt = this.now();
          this.set('open');
        }
      },
    };
  }

  private set(state: BreakerState): void {
    this.current = state;
    this.opts.onChange?.(state, this.failures);
  }
}
