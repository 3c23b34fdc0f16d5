/**
 * The web chat area: the chat page, its static files and the JSON API over the message
 * pipeline, as one Fastify plugin.
 *
 *   GET  /               the page (Vietnamese, texts from knowledge/replies.yaml and site.yaml)
 *   GET  /static/*       app.js, app.css (@fastify/static; versioned URLs, cached a day)
 *   POST /api/chat       {sessionId, text, messageId?, cursor?} → {replies, cursor, pending}
 *   GET  /api/updates    ?sessionId=&cursor=  long poll for replies that came later (staff)
 *
 * A retried POST with the same messageId waits for the first one instead of asking the
 * engine again; the reply is read from the channel's outbox (bot/channels/web.ts).
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fill } from '../../knowledge/replies.ts';
import type { KnowledgeHolder, KnowledgeVersion } from '../assistant.ts';
import { MemoryWebOutbox, MESSAGE_ID, SESSION_ID, WEB_DEFAULTS, WebChannel, webConversationId, type TurnObservable, type WebLimits, type WebOutbox, type WebReply } from '../channels/web.ts';
import { siteValues } from '../dialogue/compose.ts';
import type { Logger, Turn } from '../dialogue/engine.ts';
import type { IncomingMessage, Reply } from '../dialogue/types.ts';
import type { ChannelSender, Pipeline } from '../pipeline.ts';
import { MemoryRateLimiter, type RateLimiter } from '../ratelimit.ts';
import { HttpError, WEB_ERRORS } from './errors.ts';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'channels', 'web', 'static');

export interface ChatAreaOptions {
  pipeline: Pipeline & Partial<TurnObservable>;
  holder: Pick<KnowledgeHolder, 'version'>;
  log?: Logger;
  outbox?: WebOutbox;
  limits?: Partial<WebLimits>;
  /** Per-session message limiter (defaults to `messagesPerMinute` in memory). */
  rateLimiter?: RateLimiter;
  /** Wraps the channel's sender before it is registered (metrics). */
  wrapSender?: (sender: ChannelSender) => ChannelSender;
}

/** The chat area's plugin and the handles `bot/main.ts` and tests use. */
export interface ChatArea {
  plugin: FastifyPluginAsync;
  readonly channel: WebChannel;
  /** Ends the waiting long polls (shutdown); POSTs keep waiting for their replies. */
  endPolls(): void;
  /** Ends every waiting request now. */
  endAll(): void;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const etagOf = (body: Buffer | string): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;

/** The sequence a cursor points at; 0 for a cursor from another outbox epoch, null when absent or malformed. */
function parseCursor(raw: unknown, epoch: string): number | null {
  if (typeof raw !== 'string') return null;
  const m = /^([A-Za-z0-9_-]{1,32})\.(\d{1,9})$/.exec(raw);
  if (!m) return null;
  return m[1] === epoch ? Number(m[2]) : 0;
}

/** Builds the chat area: registers the web sender with the pipeline and returns the plugin. */
export function chatArea(opts: ChatAreaOptions): ChatArea {
  const limits: WebLimits = { ...WEB_DEFAULTS, ...opts.limits };
  const log = opts.log;
  const outbox = opts.outbox ?? new MemoryWebOutbox(limits);
  const channel = new WebChannel(outbox);
  opts.pipeline.registerSender(opts.wrapSender ? opts.wrapSender(channel) : channel);
  const limiter = opts.rateLimiter ?? (limits.messagesPerMinute > 0 ? new MemoryRateLimiter(limits.messagesPerMinute, 60_000) : undefined);

  // Quiet turns (staff own the conversation) produce no reply; the turn listener ends their wait.
  const quietTurns = new Map<string, () => void>();
  opts.pipeline.onTurn?.((msg: IncomingMessage, turn: Turn) => {
    if (msg.channel !== 'web' || turn.reply) return;
    quietTurns.get(`${msg.conversationId} ${msg.messageId}`)?.();
  });
  // Recent message ids: a retried POST waits for the first one instead of asking again.
  const inflight = new Map<string, { answered: Promise<void>; before: number }>();
  const waiting = new Map<AbortController, 'chat' | 'poll'>();

  const templateFiles = { css: readFileSync(join(STATIC_DIR, 'app.css')), js: readFileSync(join(STATIC_DIR, 'app.js')) };
  const pageTemplate = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  let pageCache: { version: KnowledgeVersion; body: string; etag: string } | undefined;
  const page = (): { body: string; etag: string } => {
    const version = opts.holder.version;
    if (pageCache?.version === version) return pageCache;
    const r = version.knowledge.replies;
    const site = siteValues(version.knowledge.site);
    const values: Record<string, string> = {
      title: r.webTitle,
      centre: site.centreName ?? '',
      greeting: fill(r.greeting, site),
      placeholder: r.webPlaceholder,
      send: r.webSend,
      call: fill(r.webCall, site),
      tel: (site.hotline ?? '').replace(/[^\d+]/g, ''),
      offline: r.webOffline,
      retry: r.webRetry,
      busy: r.webBusy,
      cssVersion: etagOf(templateFiles.css).replace(/"/g, ''),
      jsVersion: etagOf(templateFiles.js).replace(/"/g, ''),
    };
    const body = pageTemplate.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (values[k] === undefined ? m : escapeHtml(values[k])));
    pageCache = { version, body, etag: etagOf(body) };
    return pageCache;
  };

  const toWeb = (seq: number, reply: Reply): WebReply => {
    const r = opts.holder.version.knowledge.replies;
    return {
      seq,
      text: reply.text,
      options: reply.options.map((o) => ({ label: o.label, payload: o.payload })),
      links: reply.links.filter((l) => /^https?:\/\//i.test(l.url)).map((l) => ({ title: l.title, url: l.url })),
      rating: reply.rating
        ? {
            ask: r.ratingAsk,
            options: [
              { label: r.labels.ratingYes, payload: `#r:1:${reply.rating.intent}` },
              { label: r.labels.ratingNo, payload: `#r:0:${reply.rating.intent}` },
            ],
          }
        : null,
    };
  };

  const repliesAfter = async (conv: string, seq: number): Promise<{ replies: WebReply[]; cursor: string }> => {
    const entries = await outbox.after(conv, seq);
    const last = entries.length ? (entries[entries.length - 1] as { seq: number }).seq : Math.max(seq, 0);
    return { replies: entries.map((e) => toWeb(e.seq, e.reply)), cursor: `${outbox.epoch}.${last}` };
  };

  /** Waits until `work` settles, the timeout passes, the client goes away or shutdown ends the wait. */
  const withDeadline = async (kind: 'chat' | 'poll', ms: number, reply: FastifyReply, work: (signal: AbortSignal) => Promise<void>): Promise<void> => {
    const ac = new AbortController();
    waiting.set(ac, kind);
    const timer = setTimeout(() => ac.abort(), ms);
    const onClose = (): void => ac.abort(); // before we answer, 'close' means the client went away
    reply.raw.once('close', onClose);
    try {
      await Promise.race([work(ac.signal), new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }))]);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      ac.abort();
      waiting.delete(ac);
    }
  };

  const plugin: FastifyPluginAsync = async (app) => {
    // The API reads JSON whatever the request calls it (fetch without headers says text/plain).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

    await app.register(fastifyStatic, {
      root: STATIC_DIR,
      prefix: '/static/',
      // The page template is rendered by the route below, never served raw.
      allowedPath: (path) => !path.endsWith('.html'),
      maxAge: '1d',
      index: false,
    });

    const sendPage = (req: { headers: Record<string, string | string[] | undefined> }, reply: FastifyReply): FastifyReply => {
      const p = page();
      reply.header('Cache-Control', 'no-cache').header('ETag', p.etag);
      if (req.headers['if-none-match'] === p.etag) return reply.code(304).send();
      return reply.type('text/html; charset=utf-8').send(p.body);
    };
    app.get('/', (req, reply) => sendPage(req, reply));
    app.get('/index.html', (req, reply) => sendPage(req, reply));

    app.post('/api/chat', { bodyLimit: limits.maxBodyBytes }, async (req, reply) => {
      const body = req.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, WEB_ERRORS.notObject);
      const b = body as Record<string, unknown>;
      if (typeof b.sessionId !== 'string' || !SESSION_ID.test(b.sessionId)) throw new HttpError(400, WEB_ERRORS.sessionId);
      if (typeof b.text !== 'string') throw new HttpError(400, WEB_ERRORS.text);
      if (b.messageId !== undefined && (typeof b.messageId !== 'string' || !MESSAGE_ID.test(b.messageId))) throw new HttpError(400, WEB_ERRORS.messageId);
      const conv = webConversationId(b.sessionId);
      const messageId = `${b.sessionId}_${(b.messageId as string | undefined) ?? randomBytes(9).toString('base64url')}`;
      const key = `${conv} ${messageId}`;
      const cursor = parseCursor(b.cursor, outbox.epoch);

      let entry = inflight.get(key);
      if (!entry) {
        if (limiter) {
          const wait = await limiter.hit(conv);
          if (wait) {
            return reply
              .code(429)
              .header('Retry-After', String(Math.ceil(wait / 1000)))
              .header('Cache-Control', 'no-store')
              .send({ error: WEB_ERRORS.rateLimited, retryAfterMs: wait });
          }
        }
        const before = await outbox.lastSeq(conv);
        const msg: IncomingMessage = { channel: 'web', conversationId: conv, userId: conv, messageId, text: b.text, kind: 'text', sentAt: Date.now() };
        let quiet!: () => void;
        const quietTurn = new Promise<void>((r) => (quiet = r));
        quietTurns.set(key, quiet);
        const answered = (async () => {
          const ac = new AbortController();
          const timer = setTimeout(() => ac.abort(), limits.replyWaitMs);
          try {
            try {
              await opts.pipeline.submit(msg);
            } catch (err) {
              log?.error({ err, conversation: conv }, 'web message not queued');
              throw new HttpError(503, WEB_ERRORS.unavailable);
            }
            await Promise.race([outbox.wait(conv, before, ac.signal), quietTurn]);
          } finally {
            clearTimeout(timer);
            quietTurns.delete(key);
          }
        })();
        entry = { answered, before };
        inflight.set(key, entry);
        if (inflight.size > 10_000) inflight.delete(inflight.keys().next().value as string);
        answered.catch(() => inflight.delete(key)); // a failed submit may be retried
      }
      const { answered, before } = entry;
      // Without a cursor the answer is what this message produced; with one, all the client has not seen.
      const after = cursor ?? before;
      await withDeadline('chat', limits.replyWaitMs, reply, () => answered);
      const out = await repliesAfter(conv, after);
      return reply.header('Cache-Control', 'no-store').send({ ...out, pending: out.replies.length === 0 });
    });

    app.get('/api/updates', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const sessionId = typeof q.sessionId === 'string' ? q.sessionId : '';
      if (!SESSION_ID.test(sessionId)) throw new HttpError(400, WEB_ERRORS.sessionId);
      const conv = webConversationId(sessionId);
      const after = parseCursor(q.cursor, outbox.epoch) ?? 0;
      await withDeadline('poll', limits.pollWaitMs, reply, (signal) => outbox.wait(conv, after, signal));
      return reply.header('Cache-Control', 'no-store').send(await repliesAfter(conv, after));
    });
  };

  return {
    plugin,
    channel,
    endPolls() {
      for (const [ac, kind] of waiting) if (kind === 'poll') ac.abort();
    },
    endAll() {
      for (const ac of waiting.keys()) ac.abort();
    },
  };
}
