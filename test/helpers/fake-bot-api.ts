/**
 * A local fake of the Telegram Bot API, enough for the real grammY bot to run against it:
 * getMe, getUpdates (long poll with timeout), sendMessage, answerCallbackQuery,
 * sendChatAction, setWebhook, deleteWebhook. Every call is recorded, and `waitFor`
 * resolves when a matching call arrives, so tests await events instead of sleeping.
 *
 * It refuses what Telegram refuses, with Telegram's error texts: HTML that does not
 * parse (`test/helpers/telegram-html.ts`), text over 4,096 characters after parsing or
 * empty, callback data outside 1–64 bytes, bad button URLs, callback answers over 200
 * characters or for queries that do not exist (or were answered already), chats the bot
 * has never seen, a second long poll while one is open (409 to the older one, as
 * Telegram does) and long polling while a webhook is set.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Chat, Message, Update, User, UserFromGetMe } from 'grammy/types';
import { parseTelegramHtml } from './telegram-html.ts';

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  /** What the fake answered: the result, or the scripted error. */
  result?: unknown;
  error?: { error_code: number; description: string };
  /** When the fake answered (epoch ms). */
  at: number;
}

interface Poller {
  offset: number;
  respond: (updates: Update[]) => void;
  conflict: () => void;
}

interface Waiter {
  method: string;
  match: (c: ApiCall) => boolean;
  from: number;
  resolve: (c: ApiCall) => void;
}

type Scripted = { error_code: number; description: string; parameters?: Record<string, unknown> };

/** Telegram's limits, as documented (core.telegram.org/bots/api). */
const TEXT_LIMIT = 4096;
const CALLBACK_ANSWER_LIMIT = 200;
const CALLBACK_DATA_BYTES = 64;
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export interface FakeBotApiOptions {
  /** Time sendMessage takes before answering (the platform call's round trip). */
  sendLatencyMs?: number;
}

/** Distributes Omit over the Update union so tests can push any update kind without an id. */
type UpdateWithoutId = Update extends infer U ? (U extends Update ? Omit<U, 'update_id'> : never) : never;

export class FakeBotApi {
  readonly token = '123456:TEST-fake-token';
  readonly botInfo: UserFromGetMe = {
    id: 424242,
    is_bot: true,
    first_name: 'Trợ lý TTHC',
    username: 'tthc_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
  } as UserFromGetMe;
  readonly calls: ApiCall[] = [];
  webhook: { url: string; secret_token?: string } | null = null;
  private readonly updates: Update[] = [];
  private pollers: Poller[] = [];
  private waiters: Waiter[] = [];
  private readonly failures = new Map<string, Scripted[]>();
  private readonly chats = new Map<number, Chat>();
  /** Callback queries pushed and not answered yet. */
  private readonly openQueries = new Set<string>();
  private nextUpdateId = 1;
  private nextMessageId = 5000;
  private server?: Server;
  apiRoot = '';
  /** getUpdates requests answered with 409 because a newer one arrived. */
  conflicts = 0;

  constructor(readonly options: FakeBotApiOptions = {}) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
    this.apiRoot = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.apiRoot;
  }

  async close(): Promise<void> {
    for (const p of this.pollers) p.respond([]);
    this.pollers = [];
    await new Promise<void>((r) => {
      this.server?.close(() => r());
      this.server?.closeAllConnections();
    });
  }

  /** A chat the bot knows without an update from it (a group it was added to). */
  addChat(chat: Chat): void {
    this.chats.set(chat.id, chat);
  }

  /** Queues an update for getUpdates; returns it with its id. */
  push(update: UpdateWithoutId): Update {
    const u = { ...update, update_id: this.nextUpdateId++ } as Update;
    const chat = u.message?.chat ?? u.callback_query?.message?.chat;
    if (chat) this.chats.set(chat.id, chat);
    if (u.callback_query) this.openQueries.add(u.callback_query.id);
    this.updates.push(u);
    for (const p of this.pollers.splice(0)) p.respond(this.pending(p.offset));
    return u;
  }

  /** The next call of `method` fails with this Bot API error. */
  failNext(method: string, error: Scripted): void {
    const list = this.failures.get(method) ?? [];
    list.push(error);
    this.failures.set(method, list);
  }

  /** Index to pass as `from` so that only later calls match. */
  mark(): number {
    return this.calls.length;
  }

  /** Resolves with the first call of `method` at index ≥ `from` that matches. */
  waitFor(method: string, match: (c: ApiCall) => boolean = () => true, from = 0): Promise<ApiCall> {
    const found = this.calls.slice(from).find((c) => c.method === method && match(c));
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ method, match, from, resolve }));
  }

  /** Calls of `method`, optionally to one chat. */
  sent(method: string, chatId?: number | string): ApiCall[] {
    return this.calls.filter((c) => c.method === method && (chatId === undefined || String(c.payload.chat_id) === String(chatId)));
  }

  private pending(offset: number): Update[] {
    return this.updates.filter((u) => u.update_id >= offset).slice(0, 100);
  }

  private record(entry: Omit<ApiCall, 'at'>): void {
    const call: ApiCall = { ...entry, at: Date.now() };
    this.calls.push(call);
    const index = this.calls.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (w.method === call.method && index >= w.from && w.match(call)) {
        w.resolve(call);
        return false;
      }
      return true;
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    const reply = (body: unknown, status = 200): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!m || m[1] !== this.token) return reply({ ok: false, error_code: 401, description: 'Unauthorized' }, 401);
    const method = m[2] as string;
    let payload: Record<string, unknown> = {};
    try {
      const raw = Buffer.concat(chunks).toString('utf8');
      payload = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return reply({ ok: false, error_code: 400, description: 'Bad Request: invalid JSON' }, 400);
    }
    const scripted = this.failures.get(method)?.shift();
    if (scripted) {
      this.record({ method, payload, error: scripted });
      return reply({ ok: false, ...scripted }, scripted.error_code);
    }
    const ok = (result: unknown): void => {
      if (method !== 'getUpdates') this.record({ method, payload, result });
      reply({ ok: true, result });
    };
    const refuse = (description: string, error_code = 400): void => {
      this.record({ method, payload, error: { error_code, description } });
      reply({ ok: false, error_code, description }, error_code);
    };
    const knownChat = (): Chat | undefined => this.chats.get(Number(payload.chat_id));
    switch (method) {
      case 'getMe':
        return ok(this.botInfo);
      case 'getUpdates': {
        if (this.webhook) return refuse("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 409);
        // A newer long poll ends the open one with 409, as Telegram does.
        for (const p of this.pollers.splice(0)) p.conflict();
        const offset = Number(payload.offset ?? 0);
        const now = this.pending(offset);
        // Confirmed updates are forgotten, as Telegram does.
        for (let i = this.updates.length - 1; i >= 0; i--) if ((this.updates[i] as Update).update_id < offset) this.updates.splice(i, 1);
        if (now.length || !Number(payload.timeout)) return ok(now);
        const poller: Poller = {
          offset,
          respond: (updates) => {
            clearTimeout(timer);
            ok(updates);
          },
          conflict: () => {
            clearTimeout(timer);
            this.conflicts++;
            reply({ ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' }, 409);
          },
        };
        const timer = setTimeout(() => {
          this.pollers = this.pollers.filter((p) => p !== poller);
          ok([]);
        }, Number(payload.timeout) * 1000);
        this.pollers.push(poller);
        res.once('close', () => {
          clearTimeout(timer);
          this.pollers = this.pollers.filter((p) => p !== poller);
        });
        return;
      }
      case 'sendMessage': {
        const chat = knownChat();
        if (!chat) return refuse('Bad Request: chat not found');
        if (typeof payload.text !== 'string') return refuse('Bad Request: message text is empty');
        let visible = payload.text;
        if (payload.parse_mode === 'HTML') {
          const parsed = parseTelegramHtml(payload.text);
          if (!parsed.ok) return refuse(`Bad Request: ${parsed.error}`);
          visible = parsed.text;
        } else if (payload.parse_mode !== undefined) {
          return refuse(`Bad Request: unsupported parse_mode in this fake: ${String(payload.parse_mode)}`);
        }
        if (!visible.trim()) return refuse('Bad Request: message text is empty');
        if (visible.length > TEXT_LIMIT) return refuse('Bad Request: message is too long');
        const markup = keyboardProblem(payload.reply_markup);
        if (markup) return refuse(markup);
        // A client that dies meanwhile does not unsend it: Telegram would deliver it.
        if (this.options.sendLatencyMs) await new Promise((r) => setTimeout(r, this.options.sendLatencyMs));
        const message = { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat, from: this.botInfo as User, text: visible } as Message.TextMessage;
        return ok(message);
      }
      case 'answerCallbackQuery': {
        const id = String(payload.callback_query_id ?? '');
        if (!this.openQueries.delete(id)) return refuse('Bad Request: query is too old and response timeout expired or query ID is invalid');
        if (typeof payload.text === 'string' && [...payload.text].length > CALLBACK_ANSWER_LIMIT) return refuse('Bad Request: MESSAGE_TOO_LONG');
        return ok(true);
      }
      case 'sendChatAction':
        if (!knownChat()) return refuse('Bad Request: chat not found');
        return ok(true);
      case 'deleteWebhook':
        this.webhook = null;
        return ok(true);
      case 'setWebhook': {
        const url = String(payload.url ?? '');
        if (!/^https:\/\//.test(url)) return refuse('Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        if (payload.secret_token !== undefined && !SECRET_TOKEN.test(String(payload.secret_token))) return refuse('Bad Request: secret token contains unallowed characters');
        this.webhook = { url, secret_token: payload.secret_token as string | undefined };
        return ok(true);
      }
      default:
        return refuse('Not Found: method not found', 404);
    }
  }
}

/** What Telegram would say about an inline keyboard, or null when it is fine. */
function keyboardProblem(markup: unknown): string | null {
  if (markup === undefined) return null;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(rows)) return 'Bad Request: unsupported reply_markup in this fake';
  for (const row of rows) {
    if (!Array.isArray(row)) return 'Bad Request: field "inline_keyboard" must be an Array of Array';
    for (const b of row as Record<string, unknown>[]) {
      if (typeof b.text !== 'string' || !b.text) return 'Bad Request: BUTTON_TEXT_INVALID';
      if (b.callback_data !== undefined) {
        const bytes = Buffer.byteLength(String(b.callback_data), 'utf8');
        if (bytes < 1 || bytes > CALLBACK_DATA_BYTES) return 'Bad Request: BUTTON_DATA_INVALID';
      } else if (b.url !== undefined) {
        if (!/^(https?|tg):\/\/\S+$/i.test(String(b.url))) return 'Bad Request: BUTTON_URL_INVALID';
      } else {
        return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
      }
    }
  }
  return null;
}

let seq = 0;

/** A private chat and its user. */
export function privateChat(id: number, firstName = 'Nguyễn Văn An'): { chat: Chat.PrivateChat; from: User } {
  return { chat: { id, type: 'private', first_name: firstName }, from: { id, is_bot: false, first_name: firstName } };
}

/** A text message update body (entities for a leading command are added). */
export function textMessage(chat: Chat, from: User, text: string, extra: Partial<Message> = {}): UpdateWithoutId {
  const cmd = /^\/\S+/.exec(text);
  return {
    message: {
      message_id: ++seq,
      date: Math.floor(Date.now() / 1000),
      chat,
      from,
      text,
      ...(cmd ? { entities: [{ type: 'bot_command', offset: 0, length: cmd[0].length }] } : {}),
      ...extra,
    } as Update['message'] & object,
  } as UpdateWithoutId;
}
