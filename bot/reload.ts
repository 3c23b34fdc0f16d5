/**
 * Knowledge reload across processes. With Redis, a knowledge change applied in one
 * process (or announced by `npm run kb -- reload`) is published on a pub/sub channel and
 * every other process reloads its own files, so a fleet of workers never serves two
 * knowledge versions for long. Without Redis, each process relies on its own file
 * watcher (`knowledge/watch.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DEFAULT_INTENTS_DIR } from '../intents/data.ts';
import { DEFAULT_KNOWLEDGE_DIR, type KnowledgeIssue } from '../knowledge/load.ts';
import type { Config } from './config.ts';
import { watchKnowledge, type ReloadableKnowledge, type WatchLogger } from '../knowledge/watch.ts';

const FILE_CHANGE = 'file change';
const SIGNAL = 'signal';

/** Default pub/sub channel (KNOWLEDGE_RELOAD_CHANNEL overrides it). */
export const RELOAD_CHANNEL_DEFAULT = 'tthc:knowledge:reload';

/** The message on the channel. `origin` lets a process ignore its own announcements. */
export interface ReloadSignal {
  origin: string;
  reason: string;
  at: number;
}

/** Announces that knowledge changed; resolves to the number of subscribers reached. */
export async function publishReload(redis: Redis, channel: string, signal: { origin?: string; reason?: string } = {}): Promise<number> {
  const msg: ReloadSignal = { origin: signal.origin ?? 'kb', reason: signal.reason ?? 'knowledge changed', at: Date.now() };
  return redis.publish(channel, JSON.stringify(msg));
}

/**
 * Calls `handler` for every reload signal on `channel`. `subscriber` must be a
 * connection of its own (a subscribed connection can run no other command). Resolves
 * once subscribed; the returned function unsubscribes. Malformed messages are ignored.
 */
export async function onReloadSignal(subscriber: Redis, channel: string, handler: (signal: ReloadSignal) => void, log?: WatchLogger): Promise<() => Promise<void>> {
  const listener = (ch: string, message: string) => {
    if (ch !== channel) return;
    let signal: ReloadSignal;
    try {
      const parsed = JSON.parse(message) as Partial<ReloadSignal>;
      signal = { origin: String(parsed.origin ?? 'unknown'), reason: String(parsed.reason ?? ''), at: Number(parsed.at ?? Date.now()) };
    } catch {
      log?.warn({ channel }, 'malformed knowledge reload signal ignored');
      return;
    }
    try {
      handler(signal);
    } catch (err) {
      log?.error({ err }, 'knowledge reload signal handler failed');
    }
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', listener);
    await subscriber.unsubscribe(channel);
  };
}

export interface LiveReloadOptions {
  holder: ReloadableKnowledge;
  /** Folders to watch (knowledge dir, intents dir). */
  dirs: readonly string[];
  log: WatchLogger;
  /** Watch files (KNOWLEDGE_WATCH). */
  watch: boolean;
  debounceMs?: number;
  /** With Redis: a publishing connection and a dedicated subscriber connection. */
  redis?: { publisher: Redis; subscriber: Redis; channel: string };
  /** This process's id in signals (default: a random UUID). */
  origin?: string;
}

/**
 * Everything live reload needs in one call for `bot/main.ts`: the file watcher, and
 * with Redis the signal both ways (publish after a successful local reload, reload on
 * another process's signal).
 */
export async function startLiveReload(opts: LiveReloadOptions): Promise<{ close(): Promise<void>; origin: string }> {
  const origin = opts.origin ?? randomUUID();
  const redis = opts.redis;
  const announce = (result: { ok: boolean }, reason: string) => {
    if (!redis || !result.ok) return;
    publishReload(redis.publisher, redis.channel, { origin, reason }).catch((err: unknown) => opts.log.warn({ err }, 'could not publish knowledge reload signal'));
  };
  // Only local file changes are announced: re-announcing a reload another process asked
  // for would make two processes ping-pong signals forever.
  const watcher = opts.watch
    ? watchKnowledge(opts.holder, opts.dirs, opts.log, { debounceMs: opts.debounceMs, onReload: (r) => (r.reason === FILE_CHANGE ? announce(r, r.reason) : undefined) })
    : undefined;
  const reloadFromSignal = (): { ok: boolean; issues: KnowledgeIssue[] } => {
    if (watcher) return watcher.reloadNow(SIGNAL);
    const r = opts.holder.reload();
    if (r.ok) opts.log.info({ reason: 'signal' }, 'knowledge change applied');
    else opts.log.error({ reason: 'signal', errors: r.issues.filter((i) => i.severity === 'error').slice(0, 20).map((i) => `${i.file}:${i.line}: ${i.message}`) }, 'knowledge change refused; still serving the last good version');
    return r;
  };
  let unsubscribe: (() => Promise<void>) | undefined;
  if (redis) {
    unsubscribe = await onReloadSignal(
      redis.subscriber,
      redis.channel,
      (signal) => {
        if (signal.origin === origin) return;
        opts.log.info({ from: signal.origin, reason: signal.reason }, 'knowledge reload signal received');
        reloadFromSignal();
      },
      opts.log,
    );
  }
  return {
    origin,
    async close() {
      watcher?.close();
      await unsubscribe?.();
    },
  };
}

/**
 * Live reload as `npm start` and `npm run worker` both run it: the knowledge and intents
 * folders of this configuration, and with Redis a subscriber connection of its own
 * (closed with the watcher).
 */
export async function startConfiguredLiveReload(
  config: Pick<Config, 'KNOWLEDGE_DIR' | 'KNOWLEDGE_WATCH' | 'KNOWLEDGE_WATCH_DEBOUNCE_MS' | 'KNOWLEDGE_RELOAD_CHANNEL'>,
  holder: LiveReloadOptions['holder'],
  log: LiveReloadOptions['log'],
  redis?: Redis,
): Promise<{ close(): Promise<void>; origin: string }> {
  const subscriber = redis?.duplicate();
  subscriber?.on('error', () => undefined);
  const live = await startLiveReload({
    holder,
    dirs: [config.KNOWLEDGE_DIR ?? DEFAULT_KNOWLEDGE_DIR, DEFAULT_INTENTS_DIR],
    log,
    watch: config.KNOWLEDGE_WATCH,
    debounceMs: config.KNOWLEDGE_WATCH_DEBOUNCE_MS,
    redis: redis && subscriber ? { publisher: redis, subscriber, channel: config.KNOWLEDGE_RELOAD_CHANNEL } : undefined,
  });
  return {
    origin: live.origin,
    close: async () => {
      await live.close();
      await subscriber?.quit().catch(() => undefined);
    },
  };
}
