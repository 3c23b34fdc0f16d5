/**
 * Staff alerts from the Zalo hotline. Things a person has to act on (scan a QR again,
 * close a Zalo Web tab, wait out a rate limit) are raised through one callback that the
 * integrator wires to the Telegram staff group; they are always logged too.
 */
import type { Logger } from '../../dialogue/engine.ts';

/** What went wrong, as a stable key the integrator can map to a staff message. */
export type ZaloAlertKind =
  /** Close 3000: another Zalo Web listener took over; the hotline stopped listening. */
  | 'duplicate-connection'
  /** Close 3003: Zalo kicked the session; the hotline stopped listening. */
  | 'kicked'
  /** Zalo refused the stored credentials; someone must run `npm run zalo:login`. */
  | 'credentials-expired'
  /** No usable credentials file. */
  | 'credentials-missing'
  /** The listener keeps failing to reconnect (network, Zalo outage); still retrying. */
  | 'reconnect-failing'
  /** Zalo signalled rate limiting or blocking; all sending is paused for a while. */
  | 'send-paused'
  /** The daily send budget is used up; replies are dropped until it frees up. */
  | 'send-budget-exhausted';

/** Receives alerts; `detail` is an English sentence for operators (no personal data). */
export type ZaloAlertHandler = (kind: ZaloAlertKind, detail: string) => void | Promise<void>;

/** Logs the alert and forwards it; a failing handler is logged, never thrown. */
export function raiseAlert(handler: ZaloAlertHandler | undefined, log: Logger | undefined, kind: ZaloAlertKind, detail: string): void {
  log?.warn({ alert: kind, detail }, 'zalo alert');
  if (!handler) return;
  try {
    void Promise.resolve(handler(kind, detail)).catch((err: unknown) => log?.error({ err, alert: kind }, 'zalo alert delivery failed'));
  } catch (err) {
    log?.error({ err, alert: kind }, 'zalo alert delivery failed');
  }
}
