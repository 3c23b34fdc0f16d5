/**
 * `npm start`: the one place that wires the assistant together.
 *
 * With nothing configured: web chat on PORT, bundled knowledge, in-process pipeline,
 * embedded SQLite dossiers, tickets and review inbox under DATA_DIR. Each further piece
 * switches on with its variables (README, `.env.example`): TELEGRAM_BOT_TOKEN, a Zalo
 * credentials file (`npm run zalo:login`), REDIS_URL (BullMQ pipeline, shared state,
 * Zalo listener lock), DOSSIER_PROVIDER=http.
 */
import { basename, join } from 'node:path';
import { createAssistant, type AssistantParts } from './assistant.ts';
import { createTelegramChannel, type TelegramChannel } from './channels/telegram.ts';
import { postTicketEvents } from './channels/telegram/staff.ts';
import { startWebServer } from './channels/web.ts';
import { maskZaloConversation, startZaloHotline, zaloCredentialsPath, zaloHotlineEnabled, type ZaloHotlineHandle, type ZaloUndeliverable } from './channels/zalo/index.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { ChannelName } from './dialogue/types.ts';
import type { Ticket } from './handoff/tickets.ts';
import { createDossierProvider, createFollowStore } from './dossier/factory.ts';
import { DossierFollowPoller } from './dossier/follow.ts';
import { HealthMonitor } from './health.ts';
import { createLogger } from './log.ts';
import { instrumentEngine, instrumentSender, metricsHandler, Metrics } from './metrics.ts';
import { InProcessPipeline, type Pipeline } from './pipeline.ts';
import { checkRedisSetup, createBullPipeline, createRedis, installShutdown, RedisCallbackStore, redisAssistantOverrides, telegramPollLease, zaloListenerLease, type BullPipeline } from './queue/index.ts';
import { createTickets, ticketDbFile } from './handoff/factory.ts';
import { StaffCommandQueue, StaffCommandRelay } from './handoff/relay.ts';
import { publishReload, startConfiguredLiveReload } from './reload.ts';
import { redact } from './privacy.ts';
import { JsonlReviewSink } from './review.ts';
import { instrumentAnalytics, recordTicketEvents } from './staff/analytics.ts';
import { createStaffServices } from './staff/index.ts';

/** Starts everything this configuration asks for; resolves once listening. */
export async function main(config: Config): Promise<void> {
  const log = createLogger({ level: config.LOG_LEVEL, name: 'main' });
  const metrics = new Metrics({ labels: { role: 'main' } });
  const redis = config.REDIS_URL ? createRedis(config.REDIS_URL, { name: 'main', log }) : undefined;
  if (redis) await checkRedisSetup(redis, log);

  // Core: knowledge, understanding, dialogue, dossiers, tickets (with their events), review inbox.
  const { tickets, events } = createTickets(config, { redis, log });
  const dossiers = createDossierProvider(config, { log, redis });
  const follows = createFollowStore(config);
  const parts = createAssistant(config, {
    ...(redis ? redisAssistantOverrides(redis, config, log) : {}),
    log,
    dossiers,
    follows,
    review: new JsonlReviewSink(join(config.DATA_DIR, 'review.jsonl'), log),
    tickets,
  });
  instrumentEngine(parts.engine, metrics);
  const v = parts.holder.version;
  log.info({ procedures: v.understander.size, national: v.nationalCount, faqs: v.knowledge.faqs.length, loadMs: Math.round(v.loadMs) }, 'knowledge loaded');

  // Pipeline: BullMQ on Redis (workers run here too), or in-process.
  let bull: BullPipeline | undefined;
  if (redis) {
    bull = createBullPipeline(parts.engine, config, { connection: redis, log, observer: metrics });
    const b = bull;
    metrics.watchQueues(() => b.stats());
  }
  const pipeline: Pipeline = bull ?? new InProcessPipeline(parts.engine, log);
  // Staff services (accounts, sign-in, audit, staff replies, knowledge editing, dashboard
  // data, dossiers, posters): what the staff console calls; analytics fed from every turn.
  const staff = createStaffServices(config, {
    holder: parts.holder,
    source: { knowledgeDir: config.KNOWLEDGE_DIR, nationalFile: config.NATIONAL_FILE, maxAgeDays: config.KB_MAX_AGE_DAYS },
    engine: parts.engine,
    pipeline,
    tickets,
    events,
    dossiers,
    redis,
    log,
    onKnowledgeSaved: async () => {
      parts.holder.reload();
      if (redis) await publishReload(redis, config.KNOWLEDGE_RELOAD_CHANNEL, { origin: 'staff', reason: 'knowledge saved by staff' }).catch(() => 0);
    },
  });
  instrumentAnalytics(parts.engine, staff.analytics);
  const stopAnalyticsEvents = recordTicketEvents(events, staff.analytics);
  // Without Redis, `npm run handoffs -- reply|release|close` queue their command for this process.
  const relay = redis ? undefined : new StaffCommandRelay(new StaffCommandQueue(ticketDbFile(config)), staff.replies, { log });
  relay?.start();
  const health = new HealthMonitor({ redis, queueStats: bull ? () => (bull as BullPipeline).stats() : undefined });

  // Web chat (always on): page, JSON API, /healthz, /metrics.
  const web = await startWebServer({
    port: config.PORT,
    host: config.HOST,
    pipeline,
    holder: parts.holder,
    log,
    limits: { messagesPerMinute: config.WEB_MESSAGES_PER_MINUTE },
    wrapSender: (s) => instrumentSender(s, metrics),
    extraRoutes: [{ method: 'GET', path: '/metrics', handler: metricsHandler(metrics) }],
    healthChecks: { runtime: () => health.check() },
  });

  // Telegram, with the staff group for hand-offs and complaints.
  let telegram: TelegramChannel | undefined;
  if (config.TELEGRAM_BOT_TOKEN) {
    const tg = createTelegramChannel({
      token: config.TELEGRAM_BOT_TOKEN,
      apiRoot: config.TELEGRAM_API_ROOT,
      pipeline,
      engine: parts.engine,
      tickets: parts.tickets,
      holder: parts.holder,
      log,
      staffChatId: config.TELEGRAM_STAFF_CHAT_ID,
      staffReplies: staff.replies,
      webhook: config.TELEGRAM_WEBHOOK_URL ? { url: config.TELEGRAM_WEBHOOK_URL, secret: config.TELEGRAM_WEBHOOK_SECRET, addRoute: (r) => web.addRoute(r) } : undefined,
      // Long polling from several processes: one poller per bot, by lease.
      pollLease: redis && !config.TELEGRAM_WEBHOOK_URL ? telegramPollLease(redis, config, config.TELEGRAM_BOT_TOKEN, log) : undefined,
      pollStandbyRetryMs: Math.max(200, Math.round(config.TELEGRAM_POLL_LOCK_TTL_MS / 3)),
      callbackStore: redis ? new RedisCallbackStore(redis, { prefix: config.QUEUE_PREFIX }) : undefined,
      wrapSender: (s) => instrumentSender(s, metrics),
      onHealth: (h) => health.setListener('telegram', h),
    });
    telegram = tg;
    // Tickets from any process (workers included) reach the staff group through this one.
    if (tg.staff) postTicketEvents(events, tickets, tg.staff, log);
    try {
      await tg.start();
    } catch (err) {
      log.error({ err }, 'telegram could not start; the web chat keeps running');
      health.setListener('telegram', { ok: false, detail: String(err) });
    }
  }
  const alertStaff = async (text: string) => {
    log.warn({ alert: text }, 'staff alert');
    if (telegram?.staff) await telegram.staff.notice(text).catch((err: unknown) => log.error({ err }, 'staff alert failed'));
  };

  // Zalo hotline (personal account): exactly one listener per account, by Redis lock when scaled out.
  let zalo: ZaloHotlineHandle | undefined;
  let releaseLease: (() => Promise<void>) | undefined;
  if (zaloHotlineEnabled(config)) {
    const lease = redis ? zaloListenerLease(redis, config, basename(zaloCredentialsPath(config)), log) : undefined;
    releaseLease = lease ? () => lease.release() : undefined;
    const z = startZaloHotline({
      config,
      engine: parts.engine,
      log,
      onAlert: (kind, detail) => void alertStaff(`⚠️ Zalo (${kind}): ${detail}`),
      // The ticket's `created` event posts it to the staff group (postTicketEvents).
      onUndeliverable: (u) => zaloHandoff(parts, async () => undefined, u).then(() => undefined),
      pipeline: bull
        ? { submit: (m) => pipeline.submit(m), registerSender: () => undefined }
        : pipeline,
      wrapSender: (s) => instrumentSender(s, metrics),
      acquireLeadership: lease ? () => lease.acquire() : undefined,
      releaseLeadership: lease ? () => lease.release() : undefined,
    });
    zalo = z;
    lease?.onLost(() => z.hotline.leadershipLost());
    if (bull) {
      const b = bull;
      z.hotline.on('leadership', (leading: boolean) => (leading ? b.registerSender(instrumentSender(z.sender, metrics)) : void b.unregisterSender('zalo')));
    }
    z.hotline.on('state', () => health.setListener('zalo', z.hotline.health()));
  }

  // "Theo dõi hồ sơ": push status changes through the citizen's channel (one poller per deployment).
  const poller = new DossierFollowPoller(
    dossiers,
    follows,
    (sub, _record, text) => pipeline.push(sub.channel as ChannelName, sub.conversationId, { text, options: [], links: [] }),
    { intervalMs: config.DOSSIER_POLL_SECONDS * 1000, knowledge: () => parts.holder.version.knowledge, log },
  );
  poller.start();

  // Knowledge edits go live without restart (validated; a bad edit keeps the last good version).
  const reload = await startConfiguredLiveReload(config, parts.holder, log, redis);

  installShutdown(
    [
      { name: 'zalo', close: async () => { await zalo?.stop(); await releaseLease?.(); } },
      { name: 'telegram', close: async () => { await telegram?.stop(); } },
      { name: 'poller', close: () => poller.stop() },
      { name: 'pipeline', close: () => pipeline.close() },
      { name: 'web', close: () => web.close() },
      { name: 'reload', close: () => reload.close() },
      { name: 'staff', close: async () => { stopAnalyticsEvents(); await relay?.stop(); await staff.close(); await events.close(); await tickets.close(); } },
      { name: 'dossiers', close: async () => { await dossiers.close?.(); await follows.close?.(); } },
      { name: 'redis', close: async () => { await redis?.quit(); } },
    ],
    { log, timeoutMs: Math.max(10_000, config.QUEUE_LOCK_MS) },
  );
  log.info({ redis: !!redis, telegram: !!telegram, zalo: !!zalo, dossiers: dossiers.name }, 'assistant started');
}

/**
 * Zalo would not deliver a reply (error 123: the citizen takes no messages from strangers,
 * or the hotline account is limited for strangers): open a hand-off ticket with what the
 * citizen did not get, so staff answer from the hotline phone or call back.
 */
export async function zaloHandoff(parts: Pick<AssistantParts, 'store' | 'tickets'>, notify: (ticket: Ticket) => Promise<void>, u: ZaloUndeliverable): Promise<Ticket> {
  const state = await parts.store.get(u.conversationId);
  const ticket = await parts.tickets.create({
    kind: 'handoff',
    channel: 'zalo',
    conversationId: u.conversationId,
    citizen: maskZaloConversation(u.conversationId),
    reason: `Zalo did not deliver the assistant's reply (error ${u.code}): the citizen may not accept messages from strangers, or the hotline account is limited for strangers. Answer from the hotline phone or call back.`,
    excerpt: [...(state?.history.slice(-8) ?? []), { from: 'bot', text: redact(u.text.slice(0, 500)), at: Date.now() }],
  });
  // The ticket is stored first; a staff group that is down is logged by the sender.
  await notify(ticket);
  return ticket;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  main(config).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
