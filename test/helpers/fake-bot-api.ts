/**
 * A local fake of the Telegram Bot API, enough for the real grammY bot to run against it:
 * getMe, getUpdates (long poll with timeout), sendMessage, answerCallbackQuery,
 * sendChatAction, setWebhook, deleteWebhook. Every call is recorded, and `waitFor`
 * resolves when a matching call arrives, so tests await events instead of sleeping.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Chat, Message, Update, User, UserFromGetMe } from 'grammy/types';

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  /** What the fake answered: the result, or the scripted error. */
  result?: unknown;
  error?: { error_code: number; description: string };
}

interface Poller {
  offset: number;
  respond: (updates: Update[]) => void;
}

interface Waiter {
  method: string;
  match: (c: ApiCall) => boolean;
  from: number;
  resolve: (c: ApiCall) => void;
}

type Scripted = { error_code: number; description: string; parameters?: Record<string, unknown> };

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
  private nextUpdateId = 1;
  private nextMessageId = 5000;
  private server?: Server;
  apiRoot = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
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

  /** Queues an update for getUpdates; returns it with its id. */
  push(update: UpdateWithoutId): Update {
    const u = { ...update, update_id: this.nextUpdateId++ } as Update;
    const chat = u.message?.chat ?? u.callback_query?.message?.chat;
    if (chat) this.chats.set(chat.id, chat);
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

  private record(call: ApiCall): void {
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
    switch (method) {
      case 'getMe':
        return ok(this.botInfo);
      case 'getUpdates': {
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
        const refuse = (description: string): void => {
          this.record({ method, payload, error: { error_code: 400, description } });
          reply({ ok: false, error_code: 400, description }, 400);
        };
        if (typeof payload.text !== 'string' || !payload.text.trim()) return refuse('Bad Request: message text is empty');
        const visible = payload.parse_mode === 'HTML' ? payload.text.replace(/<[^>]+>/g, '').replace(/&(lt|gt|amp|quot);/g, '_') : payload.text;
        if (visible.length > 4096) return refuse('Bad Request: message is too long');
        const chatId = Number(payload.chat_id);
        const chat: Chat = this.chats.get(chatId) ?? ({ id: chatId, type: 'private', first_name: 'x' } as Chat);
        const message = { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat, from: this.botInfo as User, text: payload.text } as Message.TextMessage;
        return ok(message);
      }
      case 'answerCallbackQuery':
      case 'sendChatAction':
      case 'deleteWebhook':
        return ok(true);
      case 'setWebhook':
        this.webhook = { url: String(payload.url), secret_token: payload.secret_token as string | undefined };
        return ok(true);
      default:
        this.record({ method, payload, error: { error_code: 404, description: 'Not Found: method not found' } });
        return reply({ ok: false, error_code: 404, description: 'Not Found: method not found' }, 404);
    }
  }
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
