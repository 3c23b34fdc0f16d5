/**
 * The site `npm start` serves, put together: the chat area and the ops area on one
 * Fastify app (bot/http/server.ts), plus the routes and areas other modules bring (the
 * Telegram webhook; the staff console registers as one more area). Tests, the benchmark
 * and `bot/main.ts` all start it through `startWebServer`, so they serve the same thing.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { WebChannel } from '../channels/web.ts';
import type { Logger } from '../dialogue/engine.ts';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import { createRateLimiter } from '../ratelimit.ts';
import { chatArea, type ChatAreaOptions } from './chat.ts';
import { opsArea, type HealthCheck } from './ops.ts';
import { buildHttpServer, type HttpArea, type TrustProxy } from './server.ts';

export { HttpError, WEB_ERRORS } from './errors.ts';
export type { HealthCheck, HealthCheckResult } from './ops.ts';
export { buildHttpServer, cspDirectives, type HttpArea, type HttpServer, type TrustProxy } from './server.ts';

export interface WebServerOptions extends ChatAreaOptions {
  port: number;
  host?: string;
  log?: Logger;
  metrics?: Metrics;
  healthChecks?: Record<string, HealthCheck>;
  /** Single routes other modules own (the Telegram webhook). */
  routes?: RouteOptions[];
  /** More areas beside chat and ops (the staff console). */
  areas?: HttpArea[];
  trustProxy?: TrustProxy;
  frameAncestors?: readonly string[];
  requestsPerMinutePerAddress?: number;
  redis?: Redis;
}

/** A started site: its address and the handles main and tests use. */
export interface WebServer {
  readonly app: FastifyInstance;
  readonly server: Server;
  /** http://host:port of the listening server (127.0.0.1 when bound to all interfaces). */
  readonly url: string;
  readonly port: number;
  readonly channel: WebChannel;
  addHealthCheck(name: string, check: HealthCheck): void;
  /** Shutdown's first step: no new requests (503, `Connection: close`), long polls end, POSTs in flight get their replies. */
  drain(): void;
  close(): Promise<void>;
}

/** The web server's limits and policies from the environment (shared through Redis when there is one). */
export function webServerConfig(config: Config, redis?: Redis): Pick<WebServerOptions, 'limits' | 'limiters' | 'trustProxy' | 'frameAncestors' | 'requestsPerMinutePerAddress' | 'redis'> {
  const shared = (name: string) => (redis ? { redis, prefix: config.QUEUE_PREFIX, name } : undefined);
  return {
    limits: { messagesPerMinute: config.WEB_MESSAGES_PER_MINUTE, outboxTtlMs: config.WEB_OUTBOX_TTL_SECONDS * 1000, outboxMaxBytes: config.WEB_OUTBOX_MAX_MB * 2 ** 20 },
    limiters: {
      session: createRateLimiter(config.WEB_MESSAGES_PER_MINUTE, 60_000, shared('web-session')),
      address: createRateLimiter(config.WEB_MESSAGES_PER_MINUTE_PER_ADDRESS, 60_000, shared('web-address')),
      overall: createRateLimiter(config.WEB_MESSAGES_PER_SECOND, 1000, shared('web-all')),
    },
    trustProxy: config.TRUST_PROXY,
    frameAncestors: config.FRAME_ANCESTORS,
    requestsPerMinutePerAddress: config.HTTP_REQUESTS_PER_MINUTE_PER_ADDRESS,
    redis,
  };
}

/** Builds the site and listens. Resolves once listening. */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const chat = chatArea(opts);
  const ops = opsArea({ holder: opts.holder, metrics: opts.metrics, healthChecks: opts.healthChecks });
  const http = await buildHttpServer({
    log: opts.log,
    trustProxy: opts.trustProxy,
    frameAncestors: opts.frameAncestors,
    requestsPerMinutePerAddress: opts.requestsPerMinutePerAddress,
    redis: opts.redis,
    areas: [{ name: 'chat', plugin: chat.plugin }, { name: 'ops', plugin: ops.plugin }, ...(opts.areas ?? [])],
    routes: opts.routes,
  });
  const { url, port } = await http.listen(opts.port, opts.host);
  opts.log?.info({ port, host: opts.host ?? '0.0.0.0' }, 'web chat listening');
  const drain = (): void => {
    http.drain();
    chat.endPolls();
  };
  return {
    app: http.app,
    server: http.app.server,
    url,
    port,
    channel: chat.channel,
    addHealthCheck: ops.addHealthCheck,
    drain,
    async close() {
      drain();
      chat.endAll();
      await http.close();
    },
  };
}
