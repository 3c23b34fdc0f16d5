/**
 * The Telegram channel (grammY). Updates become channel-neutral `IncomingMessage`s for the
 * pipeline; replies come back through this channel's `ChannelSender` as HTML with inline
 * keyboards. Long polling by default (`telegram/poller.ts`: confirmed only once queued,
 * one poller per bot under a lease, 409 retried); a webhook route on the web server when
 * a public URL is configured. When a staff group is
 * configured, tickets are posted there and staff answer citizens from it.
 *
 * Only documented Bot API methods and fields are used, so the bot also runs against a
 * self-hosted Bot API server or an emulator (`TELEGRAM_API_ROOT`).
 */
import { sequentialize } from '@grammyjs/runner';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Bot, BotError, GrammyError, HttpError as GrammyHttpError, type Context } from 'grammy';
import type { Message, Update, UserFromGetMe } from 'grammy/types';
import type { KnowledgeHolder } from '../assistant.ts';
import type { ListenerHealth } from '../health.ts';
import { aspectPayload } from '../dialogue/compose.ts';
import type { DialogueEngine, Logger } from '../dialogue/engine.ts';
import type { IncomingMessage, MessageKind, Reply } from '../dialogue/types.ts';
import type { StaffReplies } from '../handoff/staff-replies.ts';
import type { Ticket, TicketStore } from '../handoff/tickets.ts';
import { PermanentSendError, type ChannelSender, type Pipeline } from '../pipeline.ts';
import { maskUserId } from '../privacy.ts';
import { TelegramPoller, type PollLease } from './telegram/poller.ts';
import { CallbackPayloads, escapeTelegramHtml, procedureIdFromPayload, renderReply, type CallbackStore, type TelegramMessage } from './telegram/render.ts';
import { RELEASE_PREFIX, StaffDesk } from './telegram/staff.ts';
import { HttpError as WebHttpError, readBody, type WebRoute } from './web.ts';

export { deepLink, deepLinkPayload, procedureIdFromPayload } from './telegram/render.ts';
export type { PollLease } from './telegram/poller.ts';
export type { CallbackStore } from './telegram/render.ts';
export { StaffDesk, TicketNotifiers } from './telegram/staff.ts';

/** Updates the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** Deep-link payload of the dossier-lookup QR poster, and what it asks the dialogue. */
export const DOSSIER_LOOKUP_PAYLOAD = 'tra-cuu-ho-so';
const DOSSIER_LOOKUP_TEXT = 'tra cứu hồ sơ';

/** What `/start` without a payload sends to the dialogue: a greeting, answered with the starter options. */
export const START_TEXT = 'xin chào';
const MAX_WEBHOOK_BODY = 1024 * 1024;

export interface TelegramChannelOptions {
  token: string;
  pipeline: Pipeline;
  engine: Pick<DialogueEngine, 'staffReplied' | 'release'>;
  tickets: TicketStore;
  holder: Pick<KnowledgeHolder, 'version'>;
  log?: Logger;
  /** Bot API server root without a trailing slash (default https://api.telegram.org). */
  apiRoot?: string;
  /** Webhook mode: Telegram posts to `url`; the route is added to the web server with `addRoute`. */
  webhook?: { url: string; secret?: string; addRoute: (route: WebRoute) => void };
  /** Staff group chat id: tickets go there, staff replies go to citizens. */
  staffChatId?: string;
  /** The shared staff reply service (audited, same as the console's); built from the parts above when absent. */
  staffReplies?: StaffReplies;
  /** Long-poll timeout in seconds (getUpdates `timeout`). */
  pollTimeoutSeconds?: number;
  /**
   * Long polling with several processes: only the lease holder polls, the others stand
   * by and take over within its TTL (`telegramPollLease` in bot/queue). Unset: this
   * process polls (one process).
   */
  pollLease?: PollLease;
  /** Long button payloads shared by every process (Redis), so a tap resolves wherever it arrives. */
  callbackStore?: CallbackStore;
  /** How often a process without the lease tries to take it (default 3 s). */
  pollStandbyRetryMs?: number;
  /** Longest pause between polling attempts after errors and 409s (default 30 s). */
  pollMaxBackoffMs?: number;
  /** Known bot identity (skips getMe). */
  botInfo?: UserFromGetMe;
  /** Longest wait honoured in place on a 429 in the middle of a split reply. */
  maxRetryAfterSeconds?: number;
  /** Wraps the channel's sender before it is registered (metrics). */
  wrapSender?: (sender: ChannelSender) => ChannelSender;
  /** Told when receiving starts or stops working (`HealthMonitor.setListener('telegram', …)`). */
  onHealth?: (health: ListenerHealth) => void;
}

export interface TelegramChannel {
  readonly bot: Bot;
  readonly sender: ChannelSender;
  readonly staff?: StaffDesk;
  /** For the engine's `onTicket`: posts the ticket to the staff group (no-op without one). */
  notifyStaff(ticket: Ticket): Promise<void>;
  /** Identifies the bot (getMe), then starts long polling or sets the webhook. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** An update could not be queued: worth a redelivery (webhook answers 503). */
export class UpdateNotQueuedError extends Error {
  constructor(cause: unknown) {
    super('telegram update could not be queued', { cause });
    this.name = 'UpdateNotQueuedError';
  }
}

/** The secret used when TELEGRAM_WEBHOOK_SECRET is unset: stable across processes, unknowable without the token. */
export function defaultWebhookSecret(token: string): string {
  return createHash('sha256').update(`telegram-webhook:${token}`).digest('base64url');
}

/** What kind of message this is, for the polite "please type" reply to non-text. */
export function messageKind(m: Message): MessageKind {
  if (m.text !== undefined) return 'text';
  if (m.photo) return 'image';
  if (m.sticker) return 'sticker';
  if (m.voice || m.audio || m.video_note) return 'voice';
  if (m.video || m.animation) return 'video';
  if (m.document) return 'file';
  if (m.location || m.venue) return 'location';
  return 'other';
}

/**
 * Whether a message is meant for the bot, and its text without the @mention. Private chats
 * always are; in groups only a mention, a reply to the bot or a command is.
 */
export function addressedText(m: Message, me: Pick<UserFromGetMe, 'id' | 'username'>): { addressed: boolean; text: string } {
  const text = m.text ?? m.caption ?? '';
  if (m.chat.type === 'private') return { addressed: true, text };
  let addressed = m.reply_to_message?.from?.id === me.id;
  const handle = `@${me.username}`.toLowerCase();
  const cuts: [number, number][] = [];
  for (const e of m.entities ?? m.caption_entities ?? []) {
    const part = text.slice(e.offset, e.offset + e.length);
    if (e.type === 'mention' && part.toLowerCase() === handle) {
      addressed = true;
      cuts.push([e.offset, e.offset + e.length]);
    } else if (e.type === 'text_mention' && e.user?.id === me.id) {
      addressed = true;
      cuts.push([e.offset, e.offset + e.length]);
    } else if (e.type === 'bot_command' && e.offset === 0) {
      const at = part.indexOf('@');
      if (at < 0 || part.slice(at).toLowerCase() === handle) addressed = true;
    }
  }
  let out = text;
  for (const [a, b] of cuts.sort((x, y) => y[0] - x[0])) out = `${out.slice(0, a)}${out.slice(b)}`;
  return { addressed, text: out.replace(/\s+/g, ' ').trim() };
}

function displayName(u: { first_name: string; last_name?: string } | undefined): string | undefined {
  if (!u) return undefined;
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || undefined;
}

/** Chat ids travel as numbers (documented as at most 52 significant bits, so exact in a double). */
export function chatIdOf(conversationId: string): number | string {
  return /^-?\d{1,16}$/.test(conversationId) ? Number(conversationId) : conversationId;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A 429 asking for at most this many seconds is waited out in place. */
const SHORT_RETRY_AFTER = 3;
const PERMANENT_400 = /chat not found|bot was blocked|user is deactivated|peer_id_invalid|bot was kicked|not enough rights|have no rights|chat_write_forbidden/i;

/** Sends replies to Telegram chats. Conversation ids are chat ids. */
class TelegramSender implements ChannelSender {
  readonly channel = 'telegram' as const;

  constructor(
    private readonly bot: Bot,
    private readonly callbacks: CallbackPayloads,
    private readonly holder: Pick<KnowledgeHolder, 'version'>,
    private readonly maxRetryAfter: number,
    private readonly log?: Logger,
  ) {}

  async send(conversationId: string, reply: Reply): Promise<void> {
    const messages = renderReply(reply, this.holder.version.knowledge.replies, this.callbacks);
    await this.callbacks.flush();
    for (let i = 0; i < messages.length; i++) {
      try {
        await this.sendOne(conversationId, messages[i] as TelegramMessage, i > 0);
      } catch (err) {
        // Earlier parts went out: a retry of the whole reply would repeat them.
        if (i > 0 && !(err instanceof PermanentSendError)) throw new PermanentSendError(`telegram: part ${i + 1} of ${messages.length} failed`, { cause: err });
        throw err;
      }
    }
  }

  /**
   * One message. The first part of a reply leaves retries to the pipeline (which honours
   * `retry_after` and keeps its send-once bookkeeping); later parts retry here, because
   * retrying the whole reply would repeat the parts already sent.
   */
  private async sendOne(conversationId: string, m: TelegramMessage, continuation: boolean): Promise<void> {
    const chatId = chatIdOf(conversationId);
    const maxWait = continuation ? this.maxRetryAfter : SHORT_RETRY_AFTER;
    let html = true;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bot.api.sendMessage(chatId, html ? m.html : m.plain, {
          ...(html ? { parse_mode: 'HTML' as const } : {}),
          link_preview_options: { is_disabled: true },
          ...(m.keyboard ? { reply_markup: m.keyboard } : {}),
        });
        return;
      } catch (err) {
        if (err instanceof GrammyError) {
          const retryAfter = err.parameters.retry_after;
          if (err.error_code === 429 && retryAfter !== undefined && retryAfter <= maxWait && attempt < 4) {
            this.log?.warn({ chat: maskUserId(conversationId), retryAfter }, 'telegram flood limit; waiting');
            await sleep(retryAfter * 1000);
            continue;
          }
          if (err.error_code === 400 && html && /can't parse entities/i.test(err.description)) {
            this.log?.error({ chat: maskUserId(conversationId), description: err.description }, 'telegram refused our HTML; sending plain text');
            html = false;
            continue;
          }
          if (err.error_code === 403 || (err.error_code === 400 && PERMANENT_400.test(err.description))) {
            throw new PermanentSendError(`telegram: ${err.description}`, { cause: err });
          }
          if (err.error_code < 500 && err.error_code !== 429) throw new PermanentSendError(`telegram: ${err.description}`, { cause: err });
        } else if (!(err instanceof GrammyHttpError)) {
          throw err;
        }
        if (!continuation || attempt >= 3) throw err;
        await sleep(300 * 2 ** attempt);
      }
    }
  }
}

/** Builds the Telegram channel and registers its sender with the pipeline. Call `start()` to connect. */
export function createTelegramChannel(opts: TelegramChannelOptions): TelegramChannel {
  const log = opts.log;
  const apiRoot = opts.apiRoot?.replace(/\/+$/, '');
  const bot = new Bot(opts.token, { ...(opts.botInfo ? { botInfo: opts.botInfo } : {}), client: apiRoot ? { apiRoot } : {} });
  const callbacks = new CallbackPayloads(20_000, opts.callbackStore);
  const replies = () => opts.holder.version.knowledge.replies;
  const sender = new TelegramSender(bot, callbacks, opts.holder, opts.maxRetryAfterSeconds ?? 30, log);
  opts.pipeline.registerSender(opts.wrapSender ? opts.wrapSender(sender) : sender);
  const staff = opts.staffChatId
    ? new StaffDesk({ api: bot.api, chatId: opts.staffChatId, tickets: opts.tickets, engine: opts.engine, pipeline: opts.pipeline, replies, log, service: opts.staffReplies })
    : undefined;

  const submit = async (msg: IncomingMessage): Promise<void> => {
    try {
      await opts.pipeline.submit(msg);
    } catch (err) {
      throw new UpdateNotQueuedError(err);
    }
  };
  const typing = (ctx: Context, chatId: number): void => {
    ctx.api.sendChatAction(chatId, 'typing').catch((err: unknown) => log?.warn({ err: String(err) }, 'telegram typing action failed'));
  };
  const notice = async (ctx: Context, chatId: number, text: string, replyTo?: number): Promise<Message.TextMessage> =>
    ctx.api.sendMessage(chatId, escapeTelegramHtml(text), { parse_mode: 'HTML', ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}) });

  // An old query can no longer be answered; that must not stop the work it asked for.
  const answer = async (ctx: Context, text?: string): Promise<void> => {
    await ctx.answerCallbackQuery(text ? { text } : undefined).catch((err: unknown) => log?.warn({ err: String(err) }, 'telegram callback answer failed'));
  };

  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));

  bot.on('callback_query:data', async (ctx) => {
    const q = ctx.callbackQuery;
    const chatId = q.message?.chat.id;
    if (q.data.startsWith(RELEASE_PREFIX)) {
      if (!staff || !staff.isStaffChat(chatId) || chatId === undefined) {
        await answer(ctx);
        return;
      }
      const out = await staff.releaseById(q.data.slice(RELEASE_PREFIX.length));
      await answer(ctx, out.notice);
      if (out.ok) await notice(ctx, chatId, out.notice, q.message?.message_id);
      return;
    }
    const payload = await callbacks.resolve(q.data);
    if (payload === null || chatId === undefined) {
      await answer(ctx, replies().telegramButtonExpired);
      return;
    }
    // Not awaited: updates are handled one at a time, and a round trip to Telegram per tap
    // would hold up everyone else's (the answer only stops the button's spinner).
    void answer(ctx);
    typing(ctx, chatId);
    await submit({
      channel: 'telegram',
      conversationId: String(chatId),
      userId: String(ctx.from.id),
      messageId: `cb_${q.id}`,
      text: payload,
      kind: 'text',
      userName: displayName(ctx.from),
      sentAt: Date.now(),
    });
  });

  bot.on('message', async (ctx) => {
    const m = ctx.message;
    const chatId = m.chat.id;
    if (staff?.isStaffChat(chatId)) {
      await staffMessage(ctx, m);
      return;
    }
    const { addressed, text } = addressedText(m, ctx.me);
    if (!addressed) return;
    const kind = messageKind(m);
    let body = kind === 'text' ? text : '';
    const cmd = kind === 'text' ? /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text) : null;
    if (cmd) {
      if (cmd[2] && cmd[2].toLowerCase() !== ctx.me.username.toLowerCase()) return; // another bot's command
      const name = (cmd[1] as string).toLowerCase();
      if (name === 'start') {
        const id = cmd[3] ? procedureIdFromPayload(cmd[3].trim()) : null;
        const known = id !== null && opts.holder.version.understander.procedures.has(id);
        if (id && !known) log?.warn({ payload: cmd[3]?.slice(0, 64) }, 'telegram deep link names no known procedure');
        // The dossier-lookup poster (`npm run qr -- tra-cuu-ho-so`) opens the lookup: ask for the code.
        body = known ? aspectPayload(id, 'procedure.overview') : cmd[3]?.trim() === DOSSIER_LOOKUP_PAYLOAD ? DOSSIER_LOOKUP_TEXT : START_TEXT;
      } else if (name === 'help') {
        body = '#help';
      }
    }
    typing(ctx, chatId);
    await submit({
      channel: 'telegram',
      conversationId: String(chatId),
      userId: String(m.from?.id ?? chatId),
      messageId: `${chatId}_${m.message_id}`,
      text: body,
      kind,
      userName: displayName(m.from),
      sentAt: m.date * 1000,
    });
  });

  async function staffMessage(ctx: Context, m: Message): Promise<void> {
    if (!staff) return;
    const release = m.text ? /^\/release(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/i.exec(m.text) : null;
    if (release) {
      const ticket = await staff.ticketFor(m, release[1]);
      const out = ticket ? await staff.release(ticket) : { ok: false as const, notice: replies().staffUnknownTicket };
      await notice(ctx, m.chat.id, out.notice, m.message_id);
      return;
    }
    // Only replies to the bot's own messages (ticket posts, confirmations) are for citizens.
    if (m.reply_to_message?.from?.id !== ctx.me.id) return;
    const out = await staff.forward(m);
    const sent = await notice(ctx, m.chat.id, out.notice, m.message_id);
    if (out.ok) staff.remember(sent.message_id, out.ticket.id);
  }

  bot.catch((err: BotError) => {
    log?.error({ err: err.error instanceof Error ? err.error.message : String(err.error), update: err.ctx.update.update_id }, 'telegram update failed');
  });

  let poller: TelegramPoller | undefined;
  const secret = opts.webhook ? (opts.webhook.secret ?? defaultWebhookSecret(opts.token)) : undefined;

  const webhookRoute = (path: string, expected: string): WebRoute => ({
    method: 'POST',
    path,
    handler: async (req, res) => {
      const header = req.headers['x-telegram-bot-api-secret-token'];
      const given = Buffer.from(typeof header === 'string' ? header : '');
      const want = Buffer.from(expected);
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('unauthorized');
        res.once('finish', () => req.destroy());
        return;
      }
      let update: Update;
      try {
        const raw = await readBody(req, MAX_WEBHOOK_BODY);
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (!parsed || typeof parsed !== 'object' || typeof (parsed as { update_id?: unknown }).update_id !== 'number') throw new Error('not an update');
        update = parsed as Update;
      } catch (err) {
        const tooLarge = err instanceof WebHttpError && err.status === 413;
        res.writeHead(tooLarge ? 413 : 400, { 'Content-Type': 'text/plain', Connection: 'close' }).end(tooLarge ? 'too large' : 'bad update');
        return;
      }
      try {
        await bot.handleUpdate(update);
      } catch (err) {
        const inner = err instanceof BotError ? err.error : err;
        if (inner instanceof UpdateNotQueuedError) {
          log?.error({ err: String(inner.cause), update: update.update_id }, 'telegram update not queued; asking Telegram to redeliver');
          res.writeHead(503, { 'Content-Type': 'text/plain' }).end('retry');
          return;
        }
        log?.error({ err: inner instanceof Error ? inner.message : String(inner), update: update.update_id }, 'telegram update failed');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    },
  });

  return {
    bot,
    sender,
    staff,
    async notifyStaff(ticket: Ticket): Promise<void> {
      await staff?.notify(ticket);
    },
    async start(): Promise<void> {
      await bot.init();
      if (opts.webhook && secret) {
        const path = new URL(opts.webhook.url).pathname;
        opts.webhook.addRoute(webhookRoute(path, secret));
        await bot.api.setWebhook(opts.webhook.url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
        log?.info({ bot: bot.botInfo.username, path }, 'telegram webhook set');
        opts.onHealth?.({ ok: true, detail: 'webhook' });
        return;
      }
      await bot.api.deleteWebhook();
      poller = new TelegramPoller({
        bot,
        timeoutSeconds: opts.pollTimeoutSeconds ?? 30,
        allowedUpdates: ALLOWED_UPDATES,
        lease: opts.pollLease,
        standbyRetryMs: opts.pollStandbyRetryMs,
        maxBackoffMs: opts.pollMaxBackoffMs,
        isNotQueued: (err) => err instanceof UpdateNotQueuedError,
        log,
        onHealth: opts.onHealth,
      });
      poller.start();
      log?.info({ bot: bot.botInfo.username, lease: !!opts.pollLease }, 'telegram long polling started');
    },
    async stop(): Promise<void> {
      await poller?.stop();
    },
  };
}
