/**
 * `npm run worker`: a process that only handles queued messages (understanding, state,
 * replies into the send queues), for scaling out beside `npm start`. It runs no channel
 * listener and no sender: replies are sent by the `npm start` processes that own the
 * channels (the Zalo session, the Telegram bot, the web sessions). Needs REDIS_URL.
 *
 * WORKER_METRICS_PORT (default 0 = off) serves /metrics and /healthz for this process.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createAssistant } from '../bot/assistant.ts';
import { ConfigError, loadConfig } from '../bot/config.ts';
import { HealthMonitor, healthHandler } from '../bot/health.ts';
import { createLogger } from '../bot/log.ts';
import { instrumentEngine, metricsHandler, Metrics } from '../bot/metrics.ts';
import { checkRedisSetup, createBullPipeline, createRedis, installShutdown, redisAssistantOverrides } from '../bot/queue/index.ts';
import { startConfiguredLiveReload } from '../bot/reload.ts';
import { JsonlReviewSink } from '../bot/review.ts';
import { createDossierProvider, createFollowStore } from '../bot/dossier/factory.ts';
import { createTickets } from '../bot/handoff/factory.ts';
import { AnalyticsStore, instrumentAnalytics } from '../bot/staff/analytics.ts';
import { analyticsDbFile } from '../bot/staff/index.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  const log = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  if (!config.REDIS_URL) {
    log.error({}, 'npm run worker needs REDIS_URL: without Redis the assistant runs in one process (npm start)');
    process.exit(2);
  }
  const redis = createRedis(config.REDIS_URL, { name: 'worker', log });
  await checkRedisSetup(redis, log);
  const metrics = new Metrics({ labels: { role: 'worker' } });
  // Same dossier source, follows, review inbox and tickets as `npm start`, so a message
  // answered here behaves exactly as one answered there. Tickets created here are published
  // on Redis; the `npm start` process that owns Telegram posts them to the staff group.
  const { tickets, events } = createTickets(config, { redis, log });
  const parts = createAssistant(config, {
    tickets,
    ...redisAssistantOverrides(redis, config, log),
    log,
    dossiers: createDossierProvider(config, { log, redis }),
    follows: createFollowStore(config),
    review: new JsonlReviewSink(join(config.DATA_DIR, 'review.jsonl'), log),
  });
  instrumentEngine(parts.engine, metrics);
  const analytics = new AnalyticsStore(analyticsDbFile(config), { keepDays: config.ANALYTICS_KEEP_DAYS, log });
  instrumentAnalytics(parts.engine, analytics);
  const pipeline = createBullPipeline(parts.engine, config, { connection: redis, log, observer: metrics });
  metrics.watchQueues(() => pipeline.stats());
  const reload = await startConfiguredLiveReload(config, parts.holder, log, redis);

  const port = config.WORKER_METRICS_PORT;
  const health = new HealthMonitor({ redis, queueStats: () => pipeline.stats() });
  const metricsRoute = metricsHandler(metrics);
  const healthRoute = healthHandler(health);
  const server = port
    ? createServer((req, res) => {
        if (req.url === '/metrics') metricsRoute(req, res);
        else if (req.url === '/healthz') healthRoute(req, res);
        else res.writeHead(404).end();
      }).listen(port, config.HOST)
    : undefined;

  installShutdown(
    [
      { name: 'pipeline', close: () => pipeline.close() },
      { name: 'reload', close: () => reload.close() },
      { name: 'tickets', close: async () => { analytics.close(); await events.close(); await tickets.close(); } },
      { name: 'http', close: () => new Promise<void>((r) => (server ? server.close(() => r()) : r())) },
      { name: 'redis', close: async () => { await redis.quit(); } },
    ],
    { log, timeoutMs: Math.max(10_000, config.QUEUE_LOCK_MS) },
  );
  log.info({ prefix: config.QUEUE_PREFIX, concurrency: config.QUEUE_CONCURRENCY, metricsPort: port || null }, 'worker started');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
