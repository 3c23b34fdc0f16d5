/**
 * The web chat area: the chat page, its static files and the JSON API over the message
 * pipeline, as one Fastify plugin.
 *
 *   GET  /               the page (Vietnamese, texts from knowledge/replies.yaml and site.yaml)
 *   GET  /static/*       app.js, app.css (@fastify/static; versioned URLs, cached a day)
 *   GET  /favicon.ico    our own icon
 *   POST /api/chat       {sessionId, text, messageId?, cursor?, shown?} → {replies, cursor, pending, notice?}
 *   GET  /api/updates    ?sessionId=&cursor=  long poll for replies that came later (staff)
 *   GET  /api/history    ?sessionId=          what the page showed, for a reload (channels/web/history.ts)
 *
 * A retried POST with the same messageId waits for the first one instead of asking the
 * engine again; the reply is read from the channel's outbox (bot/channels/web.ts), which
 * drops it once the browser's cursor says it was shown.
 *
 * Abuse: messages are limited per session, per client address (whatever session ids it
 * rotates; the address as Fastify's `trustProxy` rule reads it) and for everyone; a 429
 * says when to come back (`Retry-After`). What the area keeps per message in flight is a
 * few fields, swept on a timer. When the queue cannot take a message for a few seconds
 * (Redis away), the answer says so (`notice`, the `webDelayed` template) and the reply
 * follows by long poll when the message is handled.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fill } from '../../knowledge/replies.ts';
import type { KnowledgeHolder, KnowledgeVersion } from '../assistant.ts';
import { MemoryWebOutbox, MESSAGE_ID, SESSION_ID, WEB_DEFAULTS, WebChannel, webConversationId, type TurnObservable, type WebLimits, type WebOutbox, type WebReply } from '../channels/web.ts';
import { siteValues } from '../dialogue/compose.ts';
import type { Logger, Turn } from '../dialogue/engine.ts';
import { ratingPayload, type IncomingMessage, type Reply } from '../dialogue/types.ts';
import { HISTORY_DEFAULTS, historyBody, recordReplies, WebHistory } from '../channels/web/history.ts';
import { isQueueDelayed, type ChannelSender, type Pipeline } from '../pipeline.ts';
import { MemoryRateLimiter, type RateLimiter } from '../ratelimit.ts';
import { HttpError, WEB_ERRORS } from './errors.ts';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'channels', 'web', 'static');

export interface ChatAreaOptions {
  pipeline: Pipeline & Partial<TurnObservable>;
  holder: Pick<KnowledgeHolder, 'version'>;
  log?: Logger;
  outbox?: WebOutbox;
  limits?: Partial<WebLimits>;
  /** Message limits: per session (default: `messagesPerMinute` in memory), per client address, for everyone. */
  limiters?: { session?: RateLimiter; address?: RateLimiter; overall?: RateLimiter };
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

interface Inflight {
  answered: Promise<void>;
  /** Resolves when the pipeline took the message (also when it is held for a delayed queue). */
  queued: Promise<void>;
  /** True once the queue has the message for sure. */
  isQueued: boolean;
  /** Set when the pipeline refused the message (503; the same message may be sent again). */
  refused?: HttpError;
  before: { epoch: string; seq: number };
  expires: number;
}
/** How long a message id is remembered for a retried POST: the longest wait for a reply, plus the page's retry delays. */
const INFLIGHT_MS = WEB_DEFAULTS.replyWaitMs + 10_000;
/** At most this many remembered: 35 s at the default overall ceiling (100 msg/s) is 3,500. */
const INFLIGHT_MAX = 5_000;
/** The reason every wait is ended with: one object, so ending a wait does not build a DOMException each time. */
const ENDED = Object.freeze({ reason: 'wait ended' });

const etagOf = (body: Buffer | string): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;

/**
 * The address limits count under: IPv4 as is, IPv6 by its /64 (one household or phone
 * gets a whole /64 and could rotate through it).
 */
export function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The opaque client id a message carries for ticket limits (an address hash, not the address). */
function clientId(address: string): string {
  return createHash('sha256').update(`tthc-client:${address}`).digest('base64url').slice(0, 16);
}

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
  // What the page showed, for GET /api/history after a reload (bot/channels/web/history.ts).
  const history = new WebHistory({ ...HISTORY_DEFAULTS, idleMs: limits.outboxIdleMs });
  const outbox = recordReplies(opts.outbox ?? new MemoryWebOutbox(limits), history);
  const channel = new WebChannel(outbox);
  opts.pipeline.registerSender(opts.wrapSender ? opts.wrapSender(channel) : channel);
  const sessionLimit = opts.limiters?.session ?? (limits.messagesPerMinute > 0 ? new MemoryRateLimiter(limits.messagesPerMinute, 60_000) : undefined);
  // Checked in this order, each only when the one before allowed the message, so a client
  // refused for its own address does not use up everyone's allowance.
  const checks: [RateLimiter | undefined, (conv: string, address: string) => string][] = [
    [sessionLimit, (conv) => conv],
    [opts.limiters?.address, (_conv, address) => `addr:${address}`],
    [opts.limiters?.overall, () => 'all'],
  ];

  // Quiet turns (staff own the conversation) produce no reply; the turn listener ends their wait.
  const quietTurns = new Map<string, () => void>();
  opts.pipeline.onTurn?.((msg: IncomingMessage, turn: Turn) => {
    if (msg.channel !== 'web' || turn.reply) return;
    quietTurns.get(msg.messageId)?.();
  });
  // Recent message ids: a retried POST waits for the first one instead of asking again.
  // Each entry is a few fields; entries go after INFLIGHT_MS or past INFLIGHT_MAX, oldest first.
  const inflight = new Map<string, Inflight>();
  const waiting = new Map<AbortController, 'chat' | 'poll'>();
  const sweeper = setInterval(() => {
    history.sweep();
    const t = Date.now();
    for (const [k, e] of inflight) {
      if (e.expires > t) break;
      inflight.delete(k);
    }
  }, limits.sweepMs > 0 ? limits.sweepMs : 15_000);
  sweeper.unref();

  const templateFiles = { css: readFileSync(join(STATIC_DIR, 'app.css')), js: readFileSync(join(STATIC_DIR, 'app.js')) };
  const pageTemplate = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  const faviconBody = readFileSync(join(STATIC_DIR, 'favicon.ico'));
  const favicon = { body: faviconBody, etag: etagOf(faviconBody) };
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
              { label: r.labels.ratingYes, payload: ratingPayload(reply.rating, true) },
              { label: r.labels.ratingNo, payload: ratingPayload(reply.rating, false) },
            ],
          }
        : null,
    };
  };

  /**
   * What the browser has not seen after `seq`, and its new cursor. The head is read first:
   * replies already dropped (acknowledged, expired) move the cursor on instead of being
   * asked for again.
   */
  const repliesAfter = async (conv: string, head: { epoch: string; seq: number }, seq: number): Promise<{ replies: WebReply[]; cursor: string }> => {
    const entries = await outbox.after(conv, seq);
    const last = Math.max(head.seq, entries.length ? (entries[entries.length - 1] as { seq: number }).seq : 0);
    if (entries.length) await outbox.delivered(conv, last);
    return { replies: entries.map((e) => toWeb(e.seq, e.reply)), cursor: `${head.epoch}.${last}` };
  };

  /** Reads the client's cursor against the conversation's epoch and drops what it has shown. */
  const readCursor = async (conv: string, raw: unknown): Promise<{ head: { epoch: string; seq: number }; seq: number | null }> => {
    const head = await outbox.head(conv);
    const seq = parseCursor(raw, head.epoch);
    if (seq) await outbox.ack(conv, seq);
    return { head, seq };
  };

  /** Waits until `work` settles, the timeout passes, the client goes away or shutdown ends the wait. */
  const withDeadline = async (kind: 'chat' | 'poll', ms: number, reply: FastifyReply, work: (signal: AbortSignal) => Promise<void>): Promise<void> => {
    const ac = new AbortController();
    waiting.set(ac, kind);
    const timer = setTimeout(() => ac.abort(ENDED), ms);
    const onClose = (): void => ac.abort(ENDED); // before we answer, 'close' means the client went away
    reply.raw.once('close', onClose);
    try {
      await Promise.race([work(ac.signal), new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }))]);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      ac.abort(ENDED);
      waiting.delete(ac);
    }
  };

  /** Hands the message to the pipeline; the entry tells when it is queued and when it is answered. */
  const submit = (key: string, msg: IncomingMessage, before: { epoch: string; seq: number }): Inflight => {
    const conv = msg.conversationId;
    let quiet!: () => void;
    const quietTurn = new Promise<void>((r) => (quiet = r));
    quietTurns.set(key, quiet);
    const entry: Inflight = { answered: Promise.resolve(), queued: Promise.resolve(), isQueued: false, before, expires: Date.now() + INFLIGHT_MS };
    const queued = opts.pipeline.submit(msg).then(
      () => {
        entry.isQueued = true;
      },
      (err: unknown) => {
        if (isQueueDelayed(err)) {
          // Held in this process until Redis answers: handled later, not lost.
          log?.warn({ conversation: conv }, 'web message delayed: the queue is unavailable, it is handled when Redis answers');
          return;
        }
        log?.error({ err, conversation: conv }, 'web message not queued');
        entry.refused = new HttpError(503, WEB_ERRORS.unavailable);
        throw entry.refused;
      },
    );
    entry.queued = queued.catch(() => undefined);
    entry.answered = (async () => {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(ENDED), limits.replyWaitMs);
      try {
        await queued;
        if (entry.isQueued) await Promise.race([outbox.wait(conv, before.seq, ac.signal), quietTurn]);
      } finally {
        clearTimeout(timer);
        quietTurns.delete(key);
      }
    })();
    entry.answered.catch(() => inflight.delete(key)); // a refused message may be sent again
    return entry;
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
    app.get('/favicon.ico', (req, reply) => {
      reply.header('Cache-Control', 'public, max-age=604800').header('ETag', favicon.etag);
      if (req.headers['if-none-match'] === favicon.etag) return reply.code(304).send();
      return reply.type('image/x-icon').send(favicon.body);
    });
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
      const key = messageId; // the session id is part of it

      let entry = inflight.get(key);
      if (!entry) {
        const address = addressKey(req.ip);
        for (const [limiter, keyOf] of checks) {
          const wait = limiter ? await limiter.hit(keyOf(conv, address)) : 0;
          if (wait) {
            return reply
              .code(429)
              .header('Retry-After', String(Math.ceil(wait / 1000)))
              .header('Cache-Control', 'no-store')
              .send({ error: WEB_ERRORS.rateLimited, retryAfterMs: wait });
          }
        }
        const before = await outbox.head(conv);
        // A tapped button sends its payload; the page shows (and a reload restores) its label.
        history.citizen(conv, messageId, b.text.startsWith('#') && typeof b.shown === 'string' ? b.shown.slice(0, 200) : b.text);
        const msg: IncomingMessage = { channel: 'web', conversationId: conv, userId: conv, messageId, text: b.text, kind: 'text', sentAt: Date.now(), client: clientId(address) };
        entry = submit(key, msg, before);
        inflight.set(key, entry);
        if (inflight.size > INFLIGHT_MAX) inflight.delete(inflight.keys().next().value as string);
      }
      const current = entry;
      await withDeadline('chat', limits.replyWaitMs, reply, async (signal) => {
        // A queue that cannot take the message within queueWaitMs: answer now, with the busy note.
        const slow = new Promise<void>((resolve) => {
          const t = setTimeout(resolve, limits.queueWaitMs);
          signal.addEventListener('abort', () => clearTimeout(t), { once: true });
        });
        await Promise.race([current.queued, slow]);
        if (current.refused) throw current.refused;
        if (current.isQueued) await current.answered;
      });
      const { head, seq: cursor } = await readCursor(conv, b.cursor);
      // Without a cursor the answer is what this message produced; with one, all the client has not seen.
      const after = cursor ?? (current.before.epoch === head.epoch ? current.before.seq : 0);
      const out = await repliesAfter(conv, head, after);
      const notice = !current.isQueued && !out.replies.length ? { notice: opts.holder.version.knowledge.replies.webDelayed } : {};
      return reply.header('Cache-Control', 'no-store').send({ ...out, pending: out.replies.length === 0, ...notice });
    });

    app.get('/api/history', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const sessionId = typeof q.sessionId === 'string' ? q.sessionId : '';
      if (!SESSION_ID.test(sessionId)) throw new HttpError(400, WEB_ERRORS.sessionId);
      const conv = webConversationId(sessionId);
      const head = await outbox.head(conv);
      return reply.header('Cache-Control', 'no-store').send(historyBody(history, conv, { epoch: head.epoch, lastSeq: head.seq }, toWeb));
    });

    app.get('/api/updates', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const sessionId = typeof q.sessionId === 'string' ? q.sessionId : '';
      if (!SESSION_ID.test(sessionId)) throw new HttpError(400, WEB_ERRORS.sessionId);
      const conv = webConversationId(sessionId);
      const { head: start, seq } = await readCursor(conv, q.cursor);
      const after = seq ?? 0;
      await withDeadline('poll', limits.pollWaitMs, reply, (signal) => outbox.wait(conv, after, signal));
      const head = await outbox.head(conv);
      // A new epoch while waiting (the conversation was forgotten, then written again): all of it is new.
      return reply.header('Cache-Control', 'no-store').send(await repliesAfter(conv, head, head.epoch === start.epoch ? after : 0));
    });
  };

  return {
    plugin,
    channel,
    endPolls() {
      for (const [ac, kind] of waiting) if (kind === 'poll') ac.abort(ENDED);
    },
    endAll() {
      for (const ac of waiting.keys()) ac.abort(ENDED);
      clearInterval(sweeper);
      outbox.close?.();
    },
  };
}
