/**
 * The one place that reads the environment. Every variable is listed (with its
 * default) in `.env.example` and the README's configuration table; values are
 * validated at startup so a typo fails loudly instead of half-working.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number) => z.coerce.number().int().min(0).default(def);
const optional = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

/** A JSON object of strings given in one variable (dossier HTTP field and status maps). */
const jsonStringMap = (name: string) =>
  z.string().optional().transform((v, ctx): Record<string, string> | undefined => {
    if (v === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((x) => typeof x === 'string')) {
        return parsed as Record<string, string>;
      }
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `${name} must be a JSON object of strings` });
    return z.NEVER;
  });

export const configSchema = z.object({
  NODE_ENV: z.string().default('production'),
  PORT: int(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder of knowledge YAML (procedures/, faq/, site.yaml, replies.yaml). */
  KNOWLEDGE_DIR: optional,
  /** Extra national records (JSON lines of the portal shape) loaded beside the bundled knowledge. */
  NATIONAL_FILE: optional,
  /** When the national file's data were captured (YYYY-MM-DD); default: knowledge/national-data.yaml, then the file's modification date. */
  NATIONAL_DATA_DATE: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() ? v.trim() : undefined))
    .pipe(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'NATIONAL_DATA_DATE must be YYYY-MM-DD').optional()),
  /** Where the assistant keeps its files (tickets, review inbox, dossier database, Zalo credentials). */
  DATA_DIR: z.string().default('var'),
  KB_MAX_AGE_DAYS: int(365),
  CONVERSATION_TTL_MINUTES: int(60),
  HANDOFF_QUIET_MINUTES: int(30),
  RATING_CHANNELS: z.string().default('web,telegram'),
  REDIS_URL: optional,
  /** Queue (with REDIS_URL): key prefix of every queue, lock, state and limit key (several deployments can share one Redis). */
  QUEUE_PREFIX: z.string().regex(/^[^:\s]+$/, 'no spaces or colons').default('tthc'),
  /** Queue: conversations handled at once per process. */
  QUEUE_CONCURRENCY: int(32),
  /** Queue: job and conversation lock; how long a crashed worker's conversations wait before another takes them. */
  QUEUE_LOCK_MS: int(30_000),
  /** Queue: failed attempts before a message goes to the dead letters (`npm run queue -- failed`). */
  QUEUE_MESSAGE_ATTEMPTS: int(5),
  /** Queue: attempts per send (exponential backoff with jitter from QUEUE_SEND_BACKOFF_MS). */
  QUEUE_SEND_ATTEMPTS: int(6),
  QUEUE_SEND_BACKOFF_MS: int(2000),
  /** Queue: failed jobs and dead letters kept per queue for inspection. */
  QUEUE_KEEP_FAILED: int(5000),
  /** Queue: how long message ids and sent replies are remembered (redelivery dedupe). */
  QUEUE_DEDUPE_HOURS: int(72),
  /** Queue: a channel adapter's submit fails after this long without Redis (so the platform redelivers). */
  QUEUE_SUBMIT_TIMEOUT_MS: int(30_000),
  /** Telegram sends (queue): whole bot per second, and least gap per private chat and per group. */
  SEND_TELEGRAM_PER_SECOND: int(25),
  SEND_TELEGRAM_CHAT_INTERVAL_MS: int(1000),
  SEND_TELEGRAM_GROUP_INTERVAL_MS: int(3000),
  /** Leader lock TTL (Zalo listener, one per hotline account): takeover time when the holder dies. */
  LEADER_LOCK_TTL_MS: int(30_000),
  /** `npm run worker`: port for its own /metrics and /healthz (0 = off). */
  WORKER_METRICS_PORT: int(0),
  DOSSIER_VERIFY_PHONE: bool,
  DOSSIER_LOOKUPS_PER_HOUR: int(10),
  /** Dossier lookups for everyone: a steady rate per minute, spread over the minute (bot/dossier/access.ts). */
  DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: int(120),
  /** Extra lookups per minute for bursts, beyond the steady rate. */
  DOSSIER_GLOBAL_LOOKUP_BURST: int(60),
  /** With DOSSIER_VERIFY_PHONE: phone-digit attempts per dossier code per 24 hours, whoever makes them. */
  DOSSIER_VERIFY_ATTEMPTS_PER_DAY: int(5),
  /** Keep the Zalo hotline off even when credentials are stored. */
  ZALO_DISABLED: bool,
  /** Zalo session credentials from `npm run zalo:login` (default `${DATA_DIR}/zalo-credentials.json`); the hotline starts when this file exists. */
  ZALO_CREDENTIALS_FILE: optional,
  /** Browser user agent presented at QR login (the cookies stay bound to it); zca-js's default when unset. */
  ZALO_USER_AGENT: optional,
  /** Zalo: least time between two messages to the same thread. */
  ZALO_THREAD_MIN_INTERVAL_MS: int(1500),
  /** Zalo: most messages the hotline account sends per minute (0 = no limit). */
  ZALO_SENDS_PER_MINUTE: int(20),
  /** Zalo: most messages per rolling 24 hours (0 = no limit); past it replies are dropped and staff alerted. */
  ZALO_DAILY_SEND_BUDGET: int(1500),
  /** Zalo: random extra delay before each send, between these bounds. */
  ZALO_SEND_DELAY_MIN_MS: int(400),
  ZALO_SEND_DELAY_MAX_MS: int(1500),
  /** Zalo: how long all sending stops after Zalo signals rate limiting or blocking. */
  ZALO_SEND_PAUSE_MINUTES: int(30),
  /** Zalo: the same text is not sent to the same thread twice within this window. */
  ZALO_DUPLICATE_WINDOW_SECONDS: int(120),
  /** Zalo: longest wait between listener reconnect attempts. */
  ZALO_RECONNECT_MAX_SECONDS: int(300),
  /** Zalo: messages missed during a disconnect are answered when younger than this. */
  ZALO_CATCHUP_MAX_AGE_MINUTES: int(60),
  /** Dossier status source: embedded SQLite (default), a province's one-stop HTTP API, or in-memory samples. */
  DOSSIER_PROVIDER: z.enum(['sqlite', 'http', 'memory']).default('sqlite'),
  /** SQLite file for dossiers and follows (default `${DATA_DIR}/dossiers.sqlite`). */
  DOSSIER_DB_FILE: optional,
  /** Seed invented sample dossiers (codes …H99-…) when the database is first created. */
  DOSSIER_SAMPLE_DATA: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .default('true')
    .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === ''),
  DOSSIER_HTTP_BASE_URL: optional.pipe(z.url().optional()),
  /** Path template; `{code}` is replaced by the URL-encoded dossier code. */
  DOSSIER_HTTP_PATH: z.string().default('/api/dossiers/{code}'),
  DOSSIER_HTTP_AUTH_HEADER: optional,
  DOSSIER_HTTP_AUTH_VALUE: optional,
  /** Dot path to the record inside the response body (empty = the body itself). */
  DOSSIER_HTTP_RECORD_PATH: optional,
  /** JSON object: our field → dot path in the upstream record, e.g. {"status":"dossierStatusName"}. */
  DOSSIER_HTTP_FIELD_MAP: optional.pipe(jsonStringMap('DOSSIER_HTTP_FIELD_MAP')),
  /** JSON object: upstream status label or code → national status. */
  DOSSIER_HTTP_STATUS_MAP: optional.pipe(jsonStringMap('DOSSIER_HTTP_STATUS_MAP')),
  DOSSIER_HTTP_TIMEOUT_MS: int(3000),
  DOSSIER_HTTP_RETRIES: int(2),
  /** Whole-lookup budget across retries, so the chat never waits longer than this. */
  DOSSIER_HTTP_DEADLINE_MS: int(8000),
  DOSSIER_HTTP_BREAKER_FAILURES: int(5),
  DOSSIER_HTTP_BREAKER_COOLDOWN_SECONDS: int(30),
  /** Cache HTTP lookups this long (shared through Redis when REDIS_URL is set, else in process); 0 = off. */
  DOSSIER_CACHE_SECONDS: int(60),
  /** How often the follow poller checks followed dossiers. */
  DOSSIER_POLL_SECONDS: int(300),
  /** Web chat: messages one browser session may send per minute (0 = unlimited). */
  WEB_MESSAGES_PER_MINUTE: int(30),
  /** Telegram bot token from @BotFather; unset = Telegram off. */
  TELEGRAM_BOT_TOKEN: optional,
  /** Public HTTPS URL Telegram posts updates to (webhook mode); unset = long polling. */
  TELEGRAM_WEBHOOK_URL: optional.pipe(z.url().optional()),
  /** Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -); derived from the token when unset. */
  TELEGRAM_WEBHOOK_SECRET: optional.pipe(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'only A-Z a-z 0-9 _ - (1-256)').optional()),
  /** Self-hosted Bot API server (default https://api.telegram.org). */
  TELEGRAM_API_ROOT: optional.pipe(z.url().optional()),
  /** Long polling with Redis: lease on polling (one poller per bot); a dead poller is replaced within this time. */
  TELEGRAM_POLL_LOCK_TTL_MS: int(10_000),
  /** Chat id of the staff group that receives hand-off tickets (e.g. -1001234567890). */
  TELEGRAM_STAFF_CHAT_ID: optional.pipe(z.string().regex(/^-?\d+$/, 'a numeric chat id such as -1001234567890').optional()),
  /** Staff tools: the bot's @username (without @) used in QR poster deep links; unset = posters carry a placeholder and a draft banner. */
  TELEGRAM_BOT_USERNAME: optional.pipe(z.string().transform((v) => v.replace(/^@/, '')).pipe(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{4,31}$/, 'a Telegram username such as TroLyTTHC_bot')).optional()),
  /** Staff tools: reload knowledge when its files change (validated; a bad edit keeps the last good version). */
  KNOWLEDGE_WATCH: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .default('true')
    .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === ''),
  /** Staff tools: quiet time after the last file change before reloading. */
  KNOWLEDGE_WATCH_DEBOUNCE_MS: int(300),
  /** Staff tools: Redis pub/sub channel that makes every process reload knowledge (used when REDIS_URL is set). */
  KNOWLEDGE_RELOAD_CHANNEL: z.string().min(1).default('tthc:knowledge:reload'),
  /** Staff console: wrong passwords in a row before an account is locked. */
  STAFF_LOGIN_MAX_FAILURES: int(5),
  /** Staff console: how long a lockout (and an address throttle) lasts. */
  STAFF_LOGIN_LOCK_MINUTES: int(15),
  /** Staff console: wrong passwords from one client address per lock period before it is throttled. */
  STAFF_LOGIN_ADDRESS_FAILURES: int(20),
  /** Dashboard: days of analytics kept (no personal data is stored there). */
  ANALYTICS_KEEP_DAYS: int(400),
});

export type Config = z.infer<typeof configSchema>;

/** Named error for a bad environment (startup exits with its message). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses and validates an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = configSchema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(`invalid configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
