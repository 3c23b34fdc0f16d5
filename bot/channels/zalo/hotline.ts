/**
 * The Zalo hotline adapter: keeps one listener alive on the hotline's personal account
 * and turns what it hears into engine input.
 *
 * - Citizens: 1:1 messages (and group messages that mention the account) go to the
 *   pipeline as `IncomingMessage`s, deduplicated by Zalo message id.
 * - Staff: with selfListen on, a message the account sent that is not the bot's own
 *   echo was typed by staff on the hotline phone; the engine goes quiet in that thread.
 * - The real world: the socket drops (1006) every minute or so, sessions expire, someone
 *   opens Zalo Web (3000) or the session is kicked (3003). Drops reconnect with backoff
 *   and jitter, repeated failures re-login with the stored credentials, and what needs a
 *   person is raised as a staff alert. After a reconnect, recent messages are fetched
 *   and the unanswered ones answered (once); recalls in those pages are dropped.
 * - The session: zca-js rotates the cookies on every answer from Zalo, so the jar is
 *   saved after each login and every `credentialsSaveMs` (a routine re-login days later
 *   then needs no new QR scan); a dead session (zpw_sek) stops the retries, alerts staff
 *   to run `npm run zalo:login` and shows on `/healthz` until new credentials appear.
 *
 * Exactly one listener may run per account. When several processes run, give
 * `acquireLeadership` (a Redis lock) so only the holder logs in; call
 * `leadershipLost()` when the lock is lost: the sender stops and the session is dropped,
 * so two processes never send from one account.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DialogueEngine, Logger } from '../../dialogue/engine.ts';
import type { IncomingMessage } from '../../dialogue/types.ts';
import type { Pipeline } from '../../pipeline.ts';
import { maskUserId } from '../../privacy.ts';
import { raiseAlert, type ZaloAlertHandler, type ZaloAlertKind } from './alerts.ts';
import { isAbort, systemClock, type Clock } from './clock.ts';
import { BoundedSet, isZaloRecall, maskZaloConversation, mentionsAccount, recalledMessageId, toIncomingMessage, zaloContent, zaloConversationId, zaloMessageId } from './inbound.ts';
import type { ZaloSender } from './sender.ts';
import { classifyLoginError, ZaloClose, ZaloThread, type ZaloCredentials, type ZaloMessage, type ZaloThreadType, type ZaloTransport, type ZaloTransportEvents } from './transport.ts';

/** Listener and catch-up settings (see `ZALO_*` in bot/config.ts). */
export interface ZaloHotlineOptions {
  /** Shown in alerts so the operator knows which file to renew. */
  credentialsFile: string;
  /** First reconnect delay; doubles per failure up to `reconnectMaxMs`, with jitter. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** Failed reconnects in a row before the session is re-created from stored credentials. */
  reloginAfterFailures: number;
  /** Failed reconnects in a row before staff hear about it. */
  alertAfterFailures: number;
  /** A listener that neither connects nor closes within this time is restarted. */
  connectTimeoutMs: number;
  /** While credentials are missing or expired, how often the file is re-read. */
  credentialsRecheckMs: number;
  /** Missed messages older than this are not answered after a reconnect. */
  catchUpMaxAgeMs: number;
  /** The engine's quiet time after a staff reply (older staff messages in a catch-up are moot). */
  handoffQuietMs: number;
  /** Message ids remembered for deduplication. */
  dedupeSize: number;
  /** Show "typing…" while the assistant works on a text message. */
  typing: boolean;
  /** How often a process without the listener lock tries to take it. */
  leadershipRetryMs: number;
  /** How often the session's rotated cookies are written back to the credentials file (0 = only after login and at shutdown). */
  credentialsSaveMs: number;
}

export const ZALO_HOTLINE_DEFAULTS: Readonly<Omit<ZaloHotlineOptions, 'credentialsFile'>> = Object.freeze({
  reconnectBaseMs: 1000,
  reconnectMaxMs: 300_000,
  reloginAfterFailures: 3,
  alertAfterFailures: 8,
  connectTimeoutMs: 60_000,
  credentialsRecheckMs: 60_000,
  catchUpMaxAgeMs: 60 * 60_000,
  handoffQuietMs: 30 * 60_000,
  dedupeSize: 20_000,
  typing: true,
  leadershipRetryMs: 30_000,
  credentialsSaveMs: 10 * 60_000,
});

/** Where the hotline is in its life; `halted` needs a person (see the alert). */
export type ZaloHotlineState =
  | 'idle'
  | 'waiting-leadership'
  | 'logging-in'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'waiting-credentials'
  | 'halted'
  | 'stopped';

/** Why a message was not passed on. */
export type ZaloIgnoreReason =
  | 'no-id'
  | 'duplicate'
  | 'own-echo'
  | 'own-thread'
  | 'group-not-mentioned'
  | 'too-old'
  | 'answered-by-staff'
  | 'recall'
  | 'submit-failed';

/** Observable events (tests, metrics, health checks). */
export interface ZaloHotlineEvents {
  state: [state: ZaloHotlineState];
  submitted: [message: IncomingMessage];
  ignored: [reason: ZaloIgnoreReason, messageId: string | null];
  staff: [conversationId: string];
  catchup: [summary: { received: number; passed: number; skipped: number }];
  /** This process took (true) or lost (false) the listener lock. */
  leadership: [held: boolean];
}

export interface ZaloHotlineDeps {
  transport: ZaloTransport;
  pipeline: Pick<Pipeline, 'submit'>;
  engine: Pick<DialogueEngine, 'staffReplied'>;
  sender: Pick<ZaloSender, 'isOwnEcho' | 'isPaused' | 'suspend' | 'resume'>;
  loadCredentials: () => Promise<ZaloCredentials | null>;
  /** Stores the session's current cookies (privately); see `credentialsSaveMs`. */
  saveCredentials?: (credentials: ZaloCredentials) => Promise<void>;
  options: ZaloHotlineOptions;
  log?: Logger;
  onAlert?: ZaloAlertHandler;
  clock?: Clock;
  random?: () => number;
  /** Resolves true when this process may run the account's one listener (Redis lock). */
  acquireLeadership?: () => Promise<boolean>;
  /** Gives the lock back on shutdown. */
  releaseLeadership?: () => Promise<void>;
}

type LoginOutcome = 'ok' | 'wait' | 'retry';

/** The hotline listener. `start()` once; `stop()` on shutdown. */
export class ZaloHotline extends EventEmitter<ZaloHotlineEvents> {
  private current: ZaloHotlineState = 'idle';
  private stopping = false;
  private halted = false;
  private suspended = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private reacquireAfterLoop = false;
  private watchdog: AbortController | null = null;
  private wantLogin = true;
  private failures = 0;
  private lastFailure = '';
  private deadCredentials: string | null = null;
  /** What a person must fix, for the health check (null while nothing is wrong). */
  private problem: string | null = null;
  private loggedIn = false;
  private savedFingerprint: string | null = null;
  private saveLoop: Promise<void> | null = null;
  private ownId = '';
  private sessionStartedAt = 0;
  private readonly seen: BoundedSet;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly alerted = new Set<ZaloAlertKind>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: ZaloHotlineOptions;
  private readonly handlers: { [E in keyof ZaloTransportEvents]: (...args: ZaloTransportEvents[E]) => void };

  constructor(private readonly deps: ZaloHotlineDeps) {
    super();
    this.options = deps.options;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.seen = new BoundedSet(this.options.dedupeSize);
    this.handlers = {
      connected: () => this.onConnected(),
      message: (m: ZaloMessage) => this.onMessage(m),
      old_messages: (ms: ZaloMessage[]) => this.onOldMessages(ms),
      disconnected: (code: number, reason: string) => this.deps.log?.info({ code, reason }, 'zalo listener disconnected'),
      closed: (code: number, reason: string) => this.onClosed(code, reason),
      error: (err: unknown) => this.deps.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'zalo listener error'),
    };
  }

  /** The current state (for health checks). */
  get state(): ZaloHotlineState {
    return this.current;
  }

  /**
   * For `/healthz`: ok while connected, on standby, or riding out a routine drop (Zalo
   * closes the socket about once a minute); otherwise what is wrong and what to do.
   */
  health(): { ok: boolean; detail: string } {
    const s = this.current;
    if (s === 'connected') return { ok: true, detail: 'connected' };
    if (s === 'waiting-leadership') return { ok: true, detail: 'standby: another process holds the Zalo listener lock' };
    if ((s === 'reconnecting' || s === 'connecting' || s === 'logging-in' || s === 'idle') && this.failures <= this.options.reloginAfterFailures) {
      return { ok: true, detail: s };
    }
    if (this.problem) return { ok: false, detail: `${s}: ${this.problem}` };
    return { ok: false, detail: this.failures ? `${s} (${this.failures} failed attempts, last: ${this.lastFailure})` : s };
  }

  /** Subscribes to the transport and logs in in the background; never throws. */
  start(): void {
    if (this.current !== 'idle') return;
    const t = this.deps.transport;
    t.on('connected', this.handlers.connected);
    t.on('message', this.handlers.message);
    t.on('old_messages', this.handlers.old_messages);
    t.on('disconnected', this.handlers.disconnected);
    t.on('closed', this.handlers.closed);
    t.on('error', this.handlers.error);
    this.runLoop(() => this.run());
  }

  /** Stops listening and waits for messages being handed over. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    await this.saveCredentials();
    this.stopping = true;
    this.abort.abort();
    try {
      this.deps.transport.stopListener();
    } catch (err) {
      this.deps.log?.warn({ err: (err as Error).message }, 'zalo listener stop failed');
    }
    const t = this.deps.transport;
    t.off('connected', this.handlers.connected);
    t.off('message', this.handlers.message);
    t.off('old_messages', this.handlers.old_messages);
    t.off('disconnected', this.handlers.disconnected);
    t.off('closed', this.handlers.closed);
    t.off('error', this.handlers.error);
    await this.loop;
    await this.saveLoop;
    await this.idle();
    if (this.deps.releaseLeadership) {
      try {
        await this.deps.releaseLeadership();
      } catch (err) {
        this.deps.log?.warn({ err: (err as Error).message }, 'zalo listener lock release failed');
      }
    }
    this.setState('stopped');
  }

  /** Resolves when every message received so far has been handed to the pipeline or the engine. */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  /** After a halt (3000/3003), e.g. once staff closed Zalo Web: log in again and listen. */
  resume(): void {
    if (!this.halted || this.stopping) return;
    this.halted = false;
    this.failures = 0;
    this.wantLogin = true;
    this.alerted.clear();
    this.runLoop(() => this.connectLoop());
  }

  /** The sender saw Zalo reject the session (error 102): re-create it from stored credentials. */
  sessionLost(): void {
    if (this.stopping || this.halted || this.suspended) return;
    this.deps.log?.warn({}, 'zalo session lost; logging in again');
    this.wantLogin = true;
    this.failures = Math.max(this.failures, 1);
    this.runLoop(() => this.connectLoop());
  }

  /** The listener lock was lost: stop listening quietly and wait to get it back. */
  leadershipLost(): void {
    if (this.stopping || !this.deps.acquireLeadership) return;
    this.deps.log?.warn({}, 'zalo listener lock lost; listener stopped, sends aborted, session dropped');
    this.suspended = true;
    // Sending first: a reply waiting for a throttle slot must not go out from this process.
    this.deps.sender.suspend();
    this.loggedIn = false;
    this.deps.transport.dropSession();
    this.setState('waiting-leadership');
    this.emit('leadership', false);
    if (this.loop) this.reacquireAfterLoop = true;
    else this.runLoop(() => this.reacquire());
  }

  private async reacquire(): Promise<void> {
    await this.sleep(this.options.leadershipRetryMs);
    await this.run();
  }

  // ── connection ───────────────────────────────────────────────────────────────

  /** Runs a connection task unless one is already running (one at a time). */
  private runLoop(task: () => Promise<void>): void {
    if (this.loop || this.stopping) return;
    this.loop = task()
      .catch((err: unknown) => {
        if (!isAbort(err)) this.deps.log?.error({ err }, 'zalo connection task failed');
      })
      .finally(() => {
        this.loop = null;
        if (this.reacquireAfterLoop) {
          this.reacquireAfterLoop = false;
          this.runLoop(() => this.reacquire());
        }
      });
  }

  private async run(): Promise<void> {
    const acquire = this.deps.acquireLeadership;
    if (acquire) {
      for (;;) {
        if (this.stopping) return;
        let ok = false;
        try {
          ok = await acquire();
        } catch (err) {
          this.deps.log?.warn({ err: (err as Error).message }, 'zalo listener lock check failed');
        }
        if (ok) break;
        this.setState('waiting-leadership');
        await this.sleep(this.options.leadershipRetryMs);
      }
      this.suspended = false;
      this.wantLogin = true;
      this.deps.sender.resume();
      this.emit('leadership', true);
    }
    await this.connectLoop();
  }

  /** Logs in when needed and starts the listener; `connected`/`closed` decide what follows. */
  private async connectLoop(): Promise<void> {
    const go = (): boolean => !this.stopping && !this.halted && !this.suspended;
    while (go()) {
      if (this.failures > 0) await this.sleep(this.backoff(this.failures));
      if (!go()) return;
      if (this.wantLogin) {
        const r = await this.login();
        if (r === 'wait') {
          // Waiting on a person, not on Zalo: no backoff on top of the re-check interval.
          this.failures = 0;
          await this.sleep(this.options.credentialsRecheckMs);
          continue;
        }
        if (r === 'retry') {
          this.failed('login failed');
          continue;
        }
        this.wantLogin = false;
        if (!go()) return;
      }
      try {
        this.setState(this.sessionStartedAt ? 'reconnecting' : 'connecting');
        this.deps.transport.startListener();
        this.armWatchdog();
        return;
      } catch (err) {
        this.deps.log?.warn({ err: (err as Error).message }, 'zalo listener start failed');
        this.failed('listener start failed');
      }
    }
  }

  private async login(): Promise<LoginOutcome> {
    const file = this.options.credentialsFile;
    let creds: ZaloCredentials | null;
    try {
      creds = await this.deps.loadCredentials();
    } catch (err) {
      this.problem = `the Zalo credentials at ${file} cannot be used; run npm run zalo:login on the server`;
      this.alertOnce('credentials-missing', `the Zalo credentials at ${file} cannot be used (${(err as Error).message}); run npm run zalo:login on the server`);
      this.setState('waiting-credentials');
      return 'wait';
    }
    if (!creds) {
      this.problem = `no Zalo credentials at ${file}; run npm run zalo:login on the server`;
      this.alertOnce('credentials-missing', `no Zalo credentials at ${file}; run npm run zalo:login on the server to scan the hotline's QR code`);
      this.setState('waiting-credentials');
      return 'wait';
    }
    const key = fingerprint(creds);
    if (key === this.deadCredentials) {
      this.setState('waiting-credentials');
      return 'wait';
    }
    this.setState('logging-in');
    try {
      await this.deps.transport.login(creds);
      this.ownId = this.deps.transport.getOwnId();
      this.deadCredentials = null;
      this.problem = null;
      this.loggedIn = true;
      this.savedFingerprint ??= key;
      this.deps.log?.info({ account: maskUserId(this.ownId) }, 'zalo logged in');
      await this.saveCredentials();
      this.startSaveLoop();
      return 'ok';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (classifyLoginError(err) === 'auth') {
        this.sessionDead(key, message);
        return 'wait';
      }
      this.deps.log?.warn({ err: message }, 'zalo login failed; will retry');
      return 'retry';
    }
  }

  /**
   * Zalo refused the session for good (zpw_sek, 600, "Đăng nhập thất bại"): stop using it
   * (no retries with these credentials, no saving of its cookies), tell staff once and
   * wait for `npm run zalo:login` to store new ones.
   */
  private sessionDead(key: string, message: string): void {
    const file = this.options.credentialsFile;
    this.deadCredentials = key;
    this.loggedIn = false;
    this.deps.transport.dropSession();
    this.problem = `Zalo refused the stored session (${message}); run npm run zalo:login on the server and scan the QR code with the hotline phone`;
    this.alertOnce(
      'credentials-expired',
      `Zalo refused the stored hotline session (${message}); run npm run zalo:login on the server and scan the QR code with the hotline phone. The hotline resumes by itself once new credentials are saved to ${file}.`,
    );
    this.setState('waiting-credentials');
  }

  /**
   * Writes the session's current cookies back to the credentials file, when they differ
   * from what is stored and still hold the session cookie (a jar caught mid-rotation
   * without `zpw_sek` must never replace a good file). Never throws.
   */
  private async saveCredentials(): Promise<void> {
    const save = this.deps.saveCredentials;
    if (!save || !this.loggedIn || this.stopping) return;
    let creds: ZaloCredentials | null;
    try {
      creds = this.deps.transport.credentials();
    } catch (err) {
      this.deps.log?.warn({ err: (err as Error).message }, 'zalo session cookies could not be read');
      return;
    }
    if (!creds) return;
    if (!hasSessionCookie(creds)) {
      this.deps.log?.warn({}, 'zalo cookie jar has no zpw_sek right now; credentials file left as it was');
      return;
    }
    const key = fingerprint(creds);
    if (key === this.savedFingerprint) return;
    try {
      await save(creds);
      this.savedFingerprint = key;
      this.deps.log?.info({}, 'zalo session cookies saved');
    } catch (err) {
      this.deps.log?.error({ err }, 'zalo session cookies could not be saved');
    }
  }

  private startSaveLoop(): void {
    if (this.saveLoop || !this.deps.saveCredentials || this.options.credentialsSaveMs <= 0) return;
    this.saveLoop = (async () => {
      for (;;) {
        await this.sleep(this.options.credentialsSaveMs);
        await this.saveCredentials();
      }
    })().catch((err: unknown) => {
      if (!isAbort(err)) this.deps.log?.error({ err }, 'zalo credentials save loop failed');
    });
  }

  /**
   * A handshake that hangs would leave the hotline deaf without any event: after
   * `connectTimeoutMs` the listener is stopped, and the close that follows reconnects.
   */
  private armWatchdog(): void {
    this.watchdog?.abort();
    const w = new AbortController();
    this.watchdog = w;
    const signal = AbortSignal.any([w.signal, this.abort.signal]);
    this.clock.sleep(this.options.connectTimeoutMs, signal).then(
      () => {
        if (this.watchdog !== w || this.stopping || this.halted || this.suspended || this.current === 'connected') return;
        this.deps.log?.warn({ ms: this.options.connectTimeoutMs }, 'zalo listener did not connect in time; restarting it');
        try {
          this.deps.transport.stopListener();
        } catch (err) {
          this.deps.log?.warn({ err: (err as Error).message }, 'zalo listener stop failed');
        }
      },
      () => {},
    );
  }

  private disarmWatchdog(): void {
    this.watchdog?.abort();
    this.watchdog = null;
  }

  private onConnected(): void {
    this.disarmWatchdog();
    if (this.stopping || this.suspended) return;
    const reconnect = this.sessionStartedAt > 0;
    if (!reconnect) this.sessionStartedAt = this.clock.now();
    if (this.failures > 0 || reconnect) this.deps.log?.info({ attempts: this.failures }, 'zalo listener connected');
    this.failures = 0;
    this.problem = null;
    this.alerted.clear();
    this.setState('connected');
    if (reconnect) this.catchUp();
  }

  private onClosed(code: number, reason: string): void {
    this.disarmWatchdog();
    if (this.stopping || this.suspended || this.halted) return;
    if (code === ZaloClose.Duplicate) {
      this.halt('duplicate-connection', 'another Zalo Web session of the hotline account took over the listener (close 3000), so the assistant stopped answering on Zalo. Close Zalo Web on other computers (use the phone or Zalo PC instead), then restart the assistant.');
      return;
    }
    if (code === ZaloClose.Kicked) {
      this.halt('kicked', 'Zalo closed the hotline session (close 3003, kicked), so the assistant stopped answering on Zalo. Check the hotline phone for a logout, then run npm run zalo:login if needed and restart the assistant.');
      return;
    }
    this.deps.log?.warn({ code, reason }, 'zalo listener closed; reconnecting');
    this.failed(`close ${code}`);
    this.setState('reconnecting');
    this.runLoop(() => this.connectLoop());
  }

  private halt(kind: ZaloAlertKind, detail: string): void {
    this.halted = true;
    this.problem = detail;
    this.setState('halted');
    raiseAlert(this.deps.onAlert, this.deps.log, kind, detail);
  }

  private failed(reason: string): void {
    this.failures++;
    this.lastFailure = reason;
    if (this.failures > this.options.reloginAfterFailures) this.wantLogin = true;
    if (this.failures === this.options.alertAfterFailures) {
      this.alertOnce('reconnect-failing', `the Zalo listener failed ${this.failures} times in a row (last: ${this.lastFailure}); the assistant keeps retrying, but Zalo messages are not being answered meanwhile`);
    }
  }

  private backoff(n: number): number {
    const { reconnectBaseMs, reconnectMaxMs } = this.options;
    const ceiling = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** Math.min(n - 1, 30));
    return Math.round(ceiling * (0.5 + 0.5 * this.random()));
  }

  private catchUp(): void {
    // lastId null asks for the newest page of history, which covers a short outage;
    // already-answered messages are dropped by id below.
    for (const type of [ZaloThread.User, ZaloThread.Group] as ZaloThreadType[]) {
      try {
        this.deps.transport.requestOldMessages(type, null);
      } catch (err) {
        this.deps.log?.warn({ err: (err as Error).message, type }, 'zalo catch-up request failed');
      }
    }
  }

  // ── messages ─────────────────────────────────────────────────────────────────

  private onMessage(m: ZaloMessage): void {
    if (this.stopping || this.suspended) return;
    const id = zaloMessageId(m);
    if (!id) {
      this.ignore('no-id', null);
      return;
    }
    if (this.seen.has(id)) {
      this.ignore('duplicate', id);
      return;
    }
    this.seen.add(id);
    if (isZaloRecall(m)) {
      this.ignore('recall', id);
      return;
    }
    const conversationId = zaloConversationId(m);
    this.serial(conversationId, () => (m.isSelf ? this.fromSelf(m, id, conversationId) : this.fromCitizen(m, id)));
  }

  /**
   * Messages fetched after a reconnect: answered when new to us, recent, younger than
   * this process's first connection (older ones may have been answered before a
   * restart) and not already answered by staff later in the same thread.
   */
  private onOldMessages(messages: ZaloMessage[]): void {
    if (this.stopping || this.suspended || !this.sessionStartedAt) return;
    const now = this.clock.now();
    const minTs = Math.max(this.sessionStartedAt, now - this.options.catchUpMaxAgeMs);
    const sorted = [...messages].sort((a, b) => Number(a.data.ts) - Number(b.data.ts));
    // A recalled message is not answered, nor is the recall itself.
    const recalled = new Set(sorted.filter(isZaloRecall).map(recalledMessageId).filter((x): x is string => x !== null));
    const staffAt = new Map<string, number>();
    for (const m of sorted) {
      const id = zaloMessageId(m);
      if (!m.isSelf || !id || this.seen.has(id) || isZaloRecall(m)) continue;
      if (this.deps.sender.isOwnEcho(m.threadId, id, zaloContent(m).text, { consume: false, msgType: m.data.msgType })) continue;
      staffAt.set(zaloConversationId(m), Number(m.data.ts));
    }
    let passed = 0;
    let skipped = 0;
    for (const m of sorted) {
      const id = zaloMessageId(m);
      const ts = Number(m.data.ts);
      if (id && !this.seen.has(id)) {
        let reason: ZaloIgnoreReason | null = null;
        if (isZaloRecall(m) || recalled.has(id)) reason = 'recall';
        else if (!(ts >= minTs)) reason = 'too-old';
        else if (!m.isSelf && (staffAt.get(zaloConversationId(m)) ?? 0) > ts) reason = 'answered-by-staff';
        else if (m.isSelf && ts < now - this.options.handoffQuietMs) reason = 'too-old';
        if (reason) {
          this.seen.add(id);
          this.ignore(reason, id);
          skipped++;
          continue;
        }
        passed++;
      } else {
        skipped++;
      }
      this.onMessage(m);
    }
    this.deps.log?.info({ received: messages.length, passed, skipped }, 'zalo catch-up');
    this.emit('catchup', { received: messages.length, passed, skipped });
  }

  private async fromCitizen(m: ZaloMessage, id: string): Promise<void> {
    if (m.type === ZaloThread.Group && !mentionsAccount(m, this.ownId)) {
      this.ignore('group-not-mentioned', id);
      return;
    }
    const msg = toIncomingMessage(m, this.ownId);
    try {
      await this.deps.pipeline.submit(msg);
    } catch (err) {
      // Not queued: forget the id so a redelivery (or the next catch-up) can try again.
      this.seen.delete(id);
      this.deps.log?.error({ err, conversation: maskZaloConversation(msg.conversationId) }, 'zalo message not queued');
      this.ignore('submit-failed', id);
      return;
    }
    this.emit('submitted', msg);
    if (this.options.typing && msg.kind === 'text' && !this.deps.sender.isPaused()) {
      this.deps.transport.sendTypingEvent(m.threadId, m.type).catch((err: unknown) => this.deps.log?.warn({ err: (err as Error).message }, 'zalo typing event failed'));
    }
  }

  private async fromSelf(m: ZaloMessage, id: string, conversationId: string): Promise<void> {
    const { kind, text } = zaloContent(m);
    if (this.deps.sender.isOwnEcho(m.threadId, id, text, { msgType: m.data.msgType })) {
      this.ignore('own-echo', id);
      return;
    }
    if (m.threadId === this.ownId) {
      this.ignore('own-thread', id);
      return;
    }
    await this.deps.engine.staffReplied(conversationId, kind === 'text' ? text : `[${kind}]`);
    this.deps.log?.info({ conversation: maskZaloConversation(conversationId) }, 'zalo staff replied from the hotline phone; assistant quiet there');
    this.emit('staff', conversationId);
  }

  /** Keeps one conversation's messages in order (a staff reply is recorded before the next citizen message goes on). */
  private serial(key: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => this.deps.log?.error({ err, conversation: maskZaloConversation(key) }, 'zalo message handling failed'));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  // ── helpers ──────────────────────────────────────────────────────────────────

  private ignore(reason: ZaloIgnoreReason, id: string | null): void {
    this.emit('ignored', reason, id);
  }

  private alertOnce(kind: ZaloAlertKind, detail: string): void {
    if (this.alerted.has(kind)) return;
    this.alerted.add(kind);
    raiseAlert(this.deps.onAlert, this.deps.log, kind, detail);
  }

  private setState(s: ZaloHotlineState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('state', s);
  }

  private sleep(ms: number): Promise<void> {
    return this.clock.sleep(ms, this.abort.signal);
  }
}

/** True when the jar still carries Zalo's session cookie (without it the session is lost). */
function hasSessionCookie(c: ZaloCredentials): boolean {
  const list = Array.isArray(c.cookie) ? c.cookie : c.cookie.cookies;
  return list.some((x) => (x.key ?? x.name) === 'zpw_sek' && typeof x.value === 'string' && x.value.length > 0);
}

/** Identifies a credentials set without keeping the secret around. */
function fingerprint(c: ZaloCredentials): string {
  return createHash('sha256').update(JSON.stringify([c.imei, c.userAgent, c.cookie])).digest('hex');
}
