/**
 * Wiring for the Zalo hotline: configuration → options, the real zca-js transport by
 * default, the throttled sender registered with the pipeline, the listener started.
 * `bot/main.ts` calls `startZaloHotline` when `zaloHotlineEnabled(config)`.
 */
import type { Config } from '../../config.ts';
import type { DialogueEngine, Logger } from '../../dialogue/engine.ts';
import type { ChannelName } from '../../dialogue/types.ts';
import type { ChannelSender, Pipeline } from '../../pipeline.ts';
import type { ZaloAlertHandler } from './alerts.ts';
import type { Clock } from './clock.ts';
import { credentialsTooOpen, readZaloCredentials, writeZaloCredentials, zaloCredentialsPath } from './credentials.ts';
import { ZALO_HOTLINE_DEFAULTS, ZaloHotline, type ZaloHotlineOptions } from './hotline.ts';
import { ZALO_SEND_DEFAULTS, ZaloSender, type ZaloSendOptions, type ZaloUndeliverable } from './sender.ts';
import type { ZaloCredentials, ZaloTransport } from './transport.ts';
import { ZcaTransport } from './zca-transport.ts';

export { zaloHotlineEnabled, zaloCredentialsPath } from './credentials.ts';
export type { ZaloAlertHandler, ZaloAlertKind } from './alerts.ts';
export type { ZaloHotline, ZaloHotlineState } from './hotline.ts';
export type { ZaloSender, ZaloUndeliverable } from './sender.ts';
export { maskZaloConversation } from './inbound.ts';

/** Listener options from the environment. */
export function zaloHotlineOptions(config: Config): ZaloHotlineOptions {
  return {
    ...ZALO_HOTLINE_DEFAULTS,
    credentialsFile: zaloCredentialsPath(config),
    reconnectMaxMs: Math.max(1, config.ZALO_RECONNECT_MAX_SECONDS) * 1000,
    catchUpMaxAgeMs: config.ZALO_CATCHUP_MAX_AGE_MINUTES * 60_000,
    handoffQuietMs: config.HANDOFF_QUIET_MINUTES * 60_000,
  };
}

/** Send throttling options from the environment. */
export function zaloSendOptions(config: Config): ZaloSendOptions {
  const min = config.ZALO_SEND_DELAY_MIN_MS;
  return {
    ...ZALO_SEND_DEFAULTS,
    threadMinIntervalMs: config.ZALO_THREAD_MIN_INTERVAL_MS,
    maxPerMinute: config.ZALO_SENDS_PER_MINUTE,
    dailyBudget: config.ZALO_DAILY_SEND_BUDGET,
    delayMinMs: min,
    delayMaxMs: Math.max(min, config.ZALO_SEND_DELAY_MAX_MS),
    pauseMs: config.ZALO_SEND_PAUSE_MINUTES * 60_000,
    duplicateWindowMs: config.ZALO_DUPLICATE_WINDOW_SECONDS * 1000,
  };
}

export interface StartZaloHotlineDeps {
  config: Config;
  engine: Pick<DialogueEngine, 'staffReplied'>;
  /** `unregisterSender` (BullMQ pipeline) lets a process that loses the listener lock stop sending. */
  pipeline: Pick<Pipeline, 'submit' | 'registerSender'> & { unregisterSender?(channel: ChannelName): Promise<void> };
  log: Logger;
  /** Staff alerts (wire to the Telegram staff group); they are logged either way. */
  onAlert?: ZaloAlertHandler;
  /** Zalo would not deliver a reply (error 123 and kin): open a hand-off ticket for staff. */
  onUndeliverable?: (u: ZaloUndeliverable) => void | Promise<void>;
  /** Defaults to zca-js; tests pass a fake. */
  transport?: ZaloTransport;
  /** Defaults to reading the credentials file. */
  loadCredentials?: () => Promise<ZaloCredentials | null>;
  /** Defaults to writing the credentials file (0600, atomically). */
  saveCredentials?: (credentials: ZaloCredentials) => Promise<void>;
  /**
   * Redis lock hook: only the process holding it logs in, listens and sends (its sender
   * is registered with the pipeline on taking the lock, unregistered on losing it).
   * Call `handle.hotline.leadershipLost()` when the lease is lost.
   */
  acquireLeadership?: () => Promise<boolean>;
  /** Gives the lock back on shutdown. */
  releaseLeadership?: () => Promise<void>;
  clock?: Clock;
  random?: () => number;
  /** Overrides on top of the environment (tests). */
  hotlineOptions?: Partial<ZaloHotlineOptions>;
  sendOptions?: Partial<ZaloSendOptions>;
  /** Wraps the sender before it is registered (e.g. `instrumentSender` for metrics). */
  wrapSender?: (sender: ChannelSender) => ChannelSender;
}

/** What `startZaloHotline` returns: the running listener, its sender, and shutdown. */
export interface ZaloHotlineHandle {
  hotline: ZaloHotline;
  sender: ZaloSender;
  /** Stops the listener and aborts sends still waiting for a throttle slot or a pause. */
  stop(): Promise<void>;
}

/**
 * Starts the hotline: registers the Zalo sender with the pipeline (at once, or on taking
 * the listener lock) and logs in with the stored credentials in the background
 * (problems are logged and alerted, never thrown).
 */
export function startZaloHotline(deps: StartZaloHotlineDeps): ZaloHotlineHandle {
  const { config, log } = deps;
  const options = { ...zaloHotlineOptions(config), ...deps.hotlineOptions };
  const transport = deps.transport ?? new ZcaTransport({ userAgent: config.ZALO_USER_AGENT });
  let warnedOpen = false;
  const loadCredentials =
    deps.loadCredentials ??
    (async () => {
      const creds = await readZaloCredentials(options.credentialsFile);
      if (creds && !warnedOpen && (await credentialsTooOpen(options.credentialsFile))) {
        warnedOpen = true;
        log.warn({ file: options.credentialsFile }, 'zalo credentials file is readable by other users; chmod 600 it');
      }
      return creds;
    });
  const saveCredentials =
    deps.saveCredentials ??
    (async (creds: ZaloCredentials) => {
      const { warnings } = await writeZaloCredentials(options.credentialsFile, creds);
      for (const w of warnings) log.warn({ file: options.credentialsFile }, w);
    });
  let hotline: ZaloHotline | null = null;
  const sender = new ZaloSender({
    transport,
    clock: deps.clock,
    log,
    onAlert: deps.onAlert,
    random: deps.random,
    options: { ...zaloSendOptions(config), ...deps.sendOptions },
    onSessionLost: () => hotline?.sessionLost(),
    onUndeliverable: deps.onUndeliverable,
  });
  hotline = new ZaloHotline({
    transport,
    pipeline: deps.pipeline,
    engine: deps.engine,
    sender,
    loadCredentials,
    saveCredentials,
    options,
    log,
    onAlert: deps.onAlert,
    clock: deps.clock,
    random: deps.random,
    acquireLeadership: deps.acquireLeadership,
    releaseLeadership: deps.releaseLeadership,
  });
  const registered = deps.wrapSender ? deps.wrapSender(sender) : sender;
  if (!deps.acquireLeadership) deps.pipeline.registerSender(registered);
  else {
    const pipeline = deps.pipeline;
    hotline.on('leadership', (held) => {
      if (held) pipeline.registerSender(registered);
      else pipeline.unregisterSender?.('zalo').catch((err: unknown) => log.warn({ err }, 'zalo sender unregister failed'));
    });
  }
  const running = hotline;
  running.start();
  return {
    hotline: running,
    sender,
    stop: async () => {
      await running.stop();
      sender.close();
    },
  };
}
