/**
 * The HTTP side of the assistant, on Fastify: one app, one plugin per area, registered
 * side by side in their own encapsulated scopes —
 *
 *   chat     the chat page, its static files and the JSON API   (bot/http/chat.ts)
 *   ops      /healthz and /metrics for operators                (bot/http/ops.ts)
 *   console  the staff console at /staff/ (cookies, sessions, CSRF, multipart in its own scope)
 *   routes   single routes other modules own (the Telegram webhook)
 *
 * What every area shares is set here once, with Fastify's maintained plugins: security
 * headers and the content security policy (@fastify/helmet, with the `frame-ancestors`
 * allow-list), compression (@fastify/compress), a coarse per-address request ceiling
 * (@fastify/rate-limit, in Redis when scaled out), the trusted-proxy rule for
 * `X-Forwarded-For`, JSON error answers, 405 for a known path with the wrong method, and
 * draining on shutdown (new requests get 503 with `Connection: close`).
 */
import compress from '@fastify/compress';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, type HTTPMethods, type RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../dialogue/engine.ts';
import { HttpError, WEB_ERRORS } from './errors.ts';

/** One area of the site: a Fastify plugin registered in its own scope (optionally under a prefix). */
export interface HttpArea {
  name: string;
  plugin: FastifyPluginAsync;
  prefix?: string;
}

/** Fastify's `trustProxy`: off, on (any proxy), a hop count, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

export interface HttpServerOptions {
  log?: Logger;
  /** Which proxies may set `X-Forwarded-For` (TRUST_PROXY); off by default, so a client cannot pick its own address. */
  trustProxy?: TrustProxy;
  /** CSP `frame-ancestors` sources (FRAME_ANCESTORS); default `'self'`. */
  frameAncestors?: readonly string[];
  /** Requests per minute one client address may make to any route (0 = off). */
  requestsPerMinutePerAddress?: number;
  /** Shared store for the request ceiling when several processes serve the site. */
  redis?: Redis;
  areas: HttpArea[];
  routes?: RouteOptions[];
}

/** The app plus what `bot/main.ts` needs to run and stop it. */
export interface HttpServer {
  readonly app: FastifyInstance;
  /** True once `drain()` was called. */
  readonly draining: boolean;
  /** Listens; resolves to the address (127.0.0.1 when bound to all interfaces). */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /**
   * Shutdown, first step: stop accepting connections; new requests, also on open
   * keep-alive connections, get 503 with `Connection: close`; requests in flight finish
   * (their answers say `Connection: close` too).
   */
  drain(): void;
  /** Drains if not yet, then waits until every connection is closed. */
  close(): Promise<void>;
}

/** The content security policy of every page: our own files only, framed only by the allow-list. */
export function cspDirectives(frameAncestors: readonly string[] = ["'self'"]): Record<string, string[]> {
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: [...frameAncestors],
  };
}

const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Builds the app with its areas registered (not listening yet). */
export async function buildHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const log = opts.log;
  const app = Fastify({
    logger: false,
    // A hop count means: trust that many proxies nearest to us.
    trustProxy: typeof opts.trustProxy === 'number' ? ((_address: string, hop: number) => hop < (opts.trustProxy as number)) : (opts.trustProxy ?? false),
    requestTimeout: 60_000,
    // Closing the server also closes idle keep-alive connections.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  app.server.headersTimeout = 20_000;
  let draining = false;
  let closing: Promise<void> | undefined;

  // Draining: refuse new work on connections that are still open, and ask clients to reconnect.
  app.addHook('onRequest', async (_req, reply) => {
    if (!draining) return;
    reply.header('Connection', 'close');
    return reply.code(503).send({ error: WEB_ERRORS.unavailable });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (draining) reply.header('Connection', 'close');
    return payload;
  });

  const frameAncestors = opts.frameAncestors?.length ? opts.frameAncestors : ["'self'"];
  // X-Frame-Options can only say "same origin" or "never"; with other allowed origins, CSP decides alone.
  const frameguard = frameAncestors.length === 1 && frameAncestors[0] === "'self'" ? { action: 'sameorigin' as const } : frameAncestors.length === 1 && frameAncestors[0] === "'none'" ? { action: 'deny' as const } : false;
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(frameAncestors) },
    frameguard,
    referrerPolicy: { policy: 'no-referrer' },
    // Browsers ignore HSTS over plain HTTP; behind the centre's HTTPS proxy it is wanted.
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
  });
  await app.register(compress, { threshold: 1024 });
  const perAddress = opts.requestsPerMinutePerAddress ?? 0;
  if (perAddress > 0) {
    await app.register(rateLimit, {
      max: perAddress,
      timeWindow: 60_000,
      redis: opts.redis,
      nameSpace: 'tthc-http-rl-',
      skipOnError: true, // a Redis outage must not take the site down
      errorResponseBuilder: () => new HttpError(429, WEB_ERRORS.tooManyRequests),
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).headers(err.headers).send({ error: err.message });
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        // The rest of the body may still be arriving: answer, then close the connection.
        return reply.code(413).header('Connection', 'close').send({ error: WEB_ERRORS.tooLarge(req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0) });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send({ error: WEB_ERRORS.badJson });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send({ error: WEB_ERRORS.mediaType });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    log?.error({ err, path: req.url.slice(0, 100) }, 'web request failed');
    return reply.code(500).send({ error: WEB_ERRORS.internal });
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((m) => app.hasRoute({ method: m, url: path }));
    if (allowed.length) return reply.code(405).header('Allow', allowed.join(', ')).send({ error: WEB_ERRORS.method });
    return reply.code(404).send({ error: WEB_ERRORS.notFound });
  });

  for (const area of opts.areas) await app.register(area.plugin, { prefix: area.prefix });
  for (const route of opts.routes ?? []) app.route(route);
  await app.ready();

  const drain = (): void => {
    if (draining) return;
    draining = true;
    closing = app.close();
    // `forceCloseConnections: 'idle'` closes the connections idle when closing starts; a
    // keep-alive connection still finishing a response then (a static file being
    // compressed) would hold the close for its keep-alive timeout. Close each one as soon
    // as it falls idle.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    void closing.finally(() => clearInterval(sweep));
  };
  return {
    app,
    get draining() {
      return draining;
    },
    async listen(port: number, host = '0.0.0.0') {
      await app.listen({ port, host });
      const bound = (app.server.address() as AddressInfo).port;
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      return { url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${bound}`, port: bound };
    },
    drain,
    async close() {
      drain();
      await closing;
    },
  };
}
