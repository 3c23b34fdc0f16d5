/**
 * The scaled-out mode in one place, for `bot/main.ts` and `scripts/worker.ts`: with
 * REDIS_URL set, conversation state, lookup limits, the pipeline and the Zalo listener
 * lock all live in Redis so any number of processes share the work.
 */
import type { Redis } from 'ioredis';
import type { AssistantOverrides } from '../assistant.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../dialogue/engine.ts';
import { globalLookupLimiter } from '../dossier/access.ts';
import { BullPipeline, type BullPipelineOptions, type PipelineObserver, type TurnHandler } from './bull-pipeline.ts';
import { LeaderLease, RedisLeaderLock } from './leader.ts';
import { channelLimitsFromConfig } from './limits.ts';
import { RedisRateLimiter } from './ratelimit.ts';
import { RedisConversationStore } from './store.ts';

export { BullPipeline, type BullPipelineOptions, type PipelineObserver, type SentInfo, type TurnHandler } from './bull-pipeline.ts';
export { QueueAdmin, type QueueStats, type FailedItem } from './admin.ts';
export { LeaderElection, LeaderLease, RedisLeaderLock, type LeaderTask } from './leader.ts';
export { RedisCallbackStore } from './callbacks.ts';
export { RedisRateLimiter } from './ratelimit.ts';
export { RedisConversationStore } from './store.ts';
export { checkRedisSetup, createRedis, pingRedis } from './redis.ts';
export { installShutdown, type Shutdown, type ShutdownStep } from './shutdown.ts';
export { SendRateLimitedError } from './errors.ts';

/** `createAssistant` overrides that put conversation state and lookup limits in Redis. */
export function redisAssistantOverrides(redis: Redis, config: Config, log?: Logger): Pick<AssistantOverrides, 'store' | 'userLookups' | 'globalLookups' | 'verifyAttempts'> {
  const prefix = config.QUEUE_PREFIX;
  const limiter = (name: string, max: number, windowMs: number): RedisRateLimiter => new RedisRateLimiter(redis, { prefix, name, max, windowMs });
  return {
    store: new RedisConversationStore(redis, { prefix, ttlMs: config.CONVERSATION_TTL_MINUTES * 60_000, log }),
    userLookups: limiter('dossier-user', config.DOSSIER_LOOKUPS_PER_HOUR, 3600_000),
    globalLookups: globalLookupLimiter(limiter, config.DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE, config.DOSSIER_GLOBAL_LOOKUP_BURST),
    verifyAttempts: config.DOSSIER_VERIFY_ATTEMPTS_PER_DAY > 0 ? limiter('dossier-verify', config.DOSSIER_VERIFY_ATTEMPTS_PER_DAY, 86_400_000) : undefined,
  };
}

/** BullMQ pipeline options from the environment. */
export function bullPipelineOptions(config: Config, deps: { connection: Redis; log?: Logger; observer?: PipelineObserver; inboundWorkers?: boolean }): BullPipelineOptions {
  return {
    connection: deps.connection,
    prefix: config.QUEUE_PREFIX,
    log: deps.log,
    observer: deps.observer,
    inboundWorkers: deps.inboundWorkers ?? true,
    inboundConcurrency: Math.max(1, config.QUEUE_CONCURRENCY),
    lockMs: Math.max(1000, config.QUEUE_LOCK_MS),
    messageAttempts: Math.max(1, config.QUEUE_MESSAGE_ATTEMPTS),
    sendAttempts: Math.max(1, config.QUEUE_SEND_ATTEMPTS),
    sendBackoffMs: config.QUEUE_SEND_BACKOFF_MS,
    keepFailed: config.QUEUE_KEEP_FAILED,
    dedupeSeconds: Math.max(1, config.QUEUE_DEDUPE_HOURS) * 3600,
    submitTimeoutMs: Math.max(1000, config.QUEUE_SUBMIT_TIMEOUT_MS),
    limits: channelLimitsFromConfig(config),
  };
}

/** The BullMQ pipeline for this configuration. */
export function createBullPipeline(engine: TurnHandler, config: Config, deps: { connection: Redis; log?: Logger; observer?: PipelineObserver; inboundWorkers?: boolean }): BullPipeline {
  return new BullPipeline(engine, bullPipelineOptions(config, deps));
}

/**
 * The lease on long polling for one Telegram bot (named by the bot id, the part of the
 * token before ':', never the secret): Telegram allows one `getUpdates` at a time, so
 * only the holder polls and another process takes over within the TTL when it dies.
 */
export function telegramPollLease(redis: Redis, config: Config, token: string, log?: Logger): LeaderLease {
  const name = `telegram-poller:${token.split(':')[0] || 'bot'}`;
  return new LeaderLease(new RedisLeaderLock(redis, name, { prefix: config.QUEUE_PREFIX, ttlMs: Math.max(1000, config.TELEGRAM_POLL_LOCK_TTL_MS) }), { name, log });
}

/**
 * The lease on the Zalo listener of one hotline account (`account` names it, e.g. the
 * credentials file or the account's phone-less id): its `acquire` is the hotline's
 * `acquireLeadership`, and `onLost` should call `hotline.leadershipLost()`.
 */
export function zaloListenerLease(redis: Redis, config: Config, account: string, log?: Logger): LeaderLease {
  const name = `zalo-listener:${account}`;
  return new LeaderLease(new RedisLeaderLock(redis, name, { prefix: config.QUEUE_PREFIX, ttlMs: Math.max(1000, config.LEADER_LOCK_TTL_MS) }), { name, log });
}
