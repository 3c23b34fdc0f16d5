/**
 * A local stand-in for Zalo's web endpoints, for tests that run the REAL zca-js: its
 * cookie login, its encrypted HTTP calls, its `Listener` with Zalo's frame format. Only
 * Zalo is fake; our transport, hotline and sender see what they would see in production.
 *
 * How zca-js is pointed here: it makes every HTTP call through the `fetch` it is given
 * (its `polyfill` option, our `ZcaTransport({ fetch })`). `wire.fetch` sends requests
 * for `*.zalo.me` to this server (anything else is refused: nothing reaches the
 * internet), and the login answer tells the listener to connect to this server's
 * websocket, so URLs, cookie domains and origins stay Zalo's own.
 *
 * What it speaks (zca-js 2.2.0 `apis/login.js`, `apis/listen.js`, `utils.js`):
 * - `getLoginInfo`: the answer is AES-CBC encrypted with the key zca-js derives from the
 *   `zcid`/`zcid_ext` it sends; carries the uid, the session key `zpw_enk`, the service
 *   map and the websocket address. `getServerInfo`: plain JSON settings; with a dead
 *   session cookie it answers "zpw_sek bị thiếu hoặc không đúng" (code 600), which zca-js
 *   reports as "Failed to fetch server info: …".
 * - Every HTTP answer rotates the `zpw_sek` cookie (Set-Cookie), as Zalo does; old values
 *   keep working until `ageCookies()` ("a few days later").
 * - `sendMessage` (`/api/message/sms`, `/api/group/sendmsg|mention`): params decrypted
 *   with the session key, recorded in `sent`, echoed on the socket as an own message
 *   (uidFrom "0") BEFORE the HTTP answer, answered `{msgId}` or a queued error code.
 * - Websocket: binary frames = 4-byte header (version 1, cmd uint16 LE, subCmd) + JSON
 *   `{data, encrypt: 2}` where data = urlencoded base64(iv ‖ aad ‖ AES-256-GCM(deflate(json)) ‖ tag);
 *   the cipher key is sent first (cmd 1/1). cmd 501/521 deliver 1:1/group messages;
 *   cmd 510/511 requests are answered with the newest history page, recalls included.
 *
 * Small API for tests: `start`, `credentials`, `pushText`/`pushLink`/`pushMessage`/
 * `pushStaffText`/`pushRecall`/`pushGroupText`, `sent`/`nextSend`, `failNextSend`,
 * `dropSocket` (1006), `closeSocket(code)`, `expireSession`, `ageCookies`, `stop`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage as HttpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ZaloCredentials } from '../../bot/channels/zalo/transport.ts';

/** The hotline account's uid in the stand-in. */
export const WIRE_OWN_ID = '7000000000000000001';

/** Zalo's answer when the session cookie is missing or expired (code 600). */
export const ZPW_SEK_ERROR = Object.freeze({ code: 600, message: 'zpw_sek bị thiếu hoặc không đúng' });

/** One message as Zalo's websocket carries it (zca-js `TMessage`, before zca-js rewrites uid "0"). */
export type WireMessage = Record<string, unknown> & { msgId: string; cliMsgId: string; msgType: string; uidFrom: string; idTo: string; ts: string; content: unknown };

/** The fields of a zca-js `TMessage` that do not vary between the messages a test makes. */
export const TMESSAGE_DEFAULTS = Object.freeze({
  msgType: 'webchat',
  dName: '',
  status: 1,
  content: '',
  notify: '1',
  ttl: 0,
  userId: '0',
  uin: '0',
  topOut: '0',
  topOutTimeOut: '0',
  topOutImprTimeOut: '0',
  paramsExt: Object.freeze({ countUnread: 1, containType: 0, platformType: 1 }),
  cmd: 501,
  st: 3,
  at: 5,
  realMsgId: '0',
});

/** What the account sent through the HTTP API. */
export interface AccountSend {
  threadId: string;
  /** 0 = 1:1, 1 = group (zca-js ThreadType). */
  type: 0 | 1;
  text: string;
  /** Set when Zalo accepted the message. */
  msgId: string | null;
  /** The error code Zalo answered with, when it refused. */
  error: number | null;
  /** Which session cookie the request carried. */
  sek: string;
}

/** How the stand-in echoes a send on the socket (selfListen). */
export type EchoStyle = 'text' | 'link-card' | 'none';

export interface ZaloWireOptions {
  ownId?: string;
  /** Clock for message timestamps (pass the test's fake clock). */
  now?: () => number;
}

interface WireEvents {
  connection: [count: number];
  send: [AccountSend];
  /** A login reached getServerInfo (ok = the session was accepted). */
  login: [ok: boolean];
  historyRequest: [type: 0 | 1];
}

const SERVICES = ['aext', 'alias', 'auto_reply', 'catalog', 'chat', 'conversation', 'file', 'friend', 'friend_board', 'group', 'group_board', 'group_poll', 'label', 'profile', 'quick_message', 'reaction', 'sticker', 'zimsg', 'group_cloud_message'];

/** A local Zalo: HTTP login/send endpoints and the listener websocket on one port. */
export class ZaloWire extends EventEmitter<WireEvents> {
  readonly ownId: string;
  /** Everything the account tried to send, in order (refusals included). */
  readonly sent: AccountSend[] = [];
  /** How sends are echoed on the socket; `link-card` = the way Zalo may render a text with a URL. */
  echo: EchoStyle = 'text';
  /**
   * Runs after a send's echo was pushed and before its HTTP answer goes out: await
   * something there to make sure the echo is handled first.
   */
  beforeAnswer: ((send: AccountSend) => Promise<void>) | null = null;
  /** Completed websocket connections so far. */
  connections = 0;
  /** The next this-many websocket handshakes never complete (a stuck connection). */
  hangHandshakes = 0;
  /** The next this-many HTTP calls fail as if the network were down (`TypeError: fetch failed`). */
  networkFailures = 0;
  private readonly hung: (() => void)[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private socket: { ws: WebSocket; key: Buffer } | null = null;
  private readonly now: () => number;
  private readonly sessionKey = randomBytes(32).toString('base64');
  private readonly validSek = new Set<string>();
  private latestSek = '';
  private sekSeq = 0;
  private expired = false;
  private readonly sendErrors: { code: number; message: string }[] = [];
  private readonly history: { user: WireMessage[]; group: WireMessage[] } = { user: [], group: [] };
  private msgSeq = 7_600_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;

  private constructor(options: ZaloWireOptions) {
    super();
    this.ownId = options.ownId ?? WIRE_OWN_ID;
    this.now = options.now ?? Date.now;
    this.server = createServer((req, res) => void this.http(req, res));
    this.wss = new WebSocketServer({
      server: this.server,
      path: '/ws',
      // An expired session cannot open the listener (zca-js then sees close 1006).
      verifyClient: (_info, done) => {
        if (this.hangHandshakes > 0) {
          this.hangHandshakes--;
          this.hung.push(() => done(false, 503));
          return;
        }
        done(!this.expired, 401, 'Unauthorized');
      },
    });
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(options: ZaloWireOptions = {}): Promise<ZaloWire> {
    const wire = new ZaloWire(options);
    await new Promise<void>((resolve) => wire.server.listen(0, '127.0.0.1', resolve));
    return wire;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** True while a listener is connected. */
  get listening(): boolean {
    return this.socket !== null;
  }

  /**
   * The `fetch` to give zca-js: `*.zalo.me` goes to this server (the original host in
   * `x-zalo-host`), anything else is refused.
   */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.hostname !== 'zalo.me' && !url.hostname.endsWith('.zalo.me')) throw new TypeError(`zalo-wire: refusing to fetch ${url.origin}`);
    if (this.networkFailures > 0) {
      this.networkFailures--;
      throw new TypeError('fetch failed');
    }
    const headers = new Headers(init?.headers);
    headers.set('x-zalo-host', url.hostname);
    return fetch(`http://127.0.0.1:${this.port}${url.pathname}${url.search}`, { ...init, headers, redirect: 'manual' });
  };

  /** Credentials as a fresh QR login gives them (a new valid session cookie). */
  credentials(): ZaloCredentials {
    this.expired = false;
    const sek = this.issueSek();
    return {
      imei: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff-0123456789abcdef0123456789abcdef',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
      cookie: [
        { key: 'zpw_sek', value: sek, domain: 'zalo.me', path: '/', httpOnly: true, secure: true },
        { key: 'zpsid', value: 'zpsid-wire', domain: 'zalo.me', path: '/', httpOnly: true },
      ],
    };
  }

  // ── what citizens and staff do ───────────────────────────────────────────────

  /** A citizen's 1:1 text. Delivered live when a listener is connected; always kept in history. */
  pushText(uid: string, text: string, over: Partial<WireMessage> = {}): WireMessage {
    return this.pushMessage(this.message({ uidFrom: uid, idTo: '0', content: text, dName: 'Nguyễn Văn An', ...over }));
  }

  /** A citizen's question with a URL in it: Zalo turns it into a link message (typed text in `title`). */
  pushLink(uid: string, text: string, href: string, over: Partial<WireMessage> = {}): WireMessage {
    return this.pushMessage(this.message({ uidFrom: uid, idTo: '0', dName: 'Nguyễn Văn An', msgType: 'chat.recommended', content: linkContent(text, href), ...over }));
  }

  /** Staff typing on the hotline phone in the chat with `uid` (an own-account message). */
  pushStaffText(uid: string, text: string, over: Partial<WireMessage> = {}): WireMessage {
    return this.pushMessage(this.message({ uidFrom: '0', idTo: uid, content: text, ...over }));
  }

  /** A citizen recalls a message. Live, zca-js turns it into an `undo` event; history keeps it as a message. */
  pushRecall(original: WireMessage): WireMessage {
    const content = { globalMsgId: original.msgId, cliMsgId: original.cliMsgId, deleteMsg: 1, srcId: original.uidFrom, destId: original.idTo };
    return this.pushMessage(this.message({ uidFrom: original.uidFrom, idTo: original.idTo, msgType: 'chat.undo', content }));
  }

  /** A group message; `mention` adds an @mention of the hotline over the first `mention` characters. */
  pushGroupText(groupId: string, uid: string, text: string, mention = 0): WireMessage {
    const mentions = mention > 0 ? [{ uid: this.ownId, pos: 0, len: mention, type: 0 }] : [];
    return this.pushMessage(this.message({ uidFrom: uid, idTo: groupId, content: text, dName: 'Trần Thị Bình', mentions }), 1);
  }

  /** Any message (build it with `message`). Returns it. */
  pushMessage(m: WireMessage, type: 0 | 1 = 0): WireMessage {
    (type === 1 ? this.history.group : this.history.user).push(m);
    this.frame(type === 1 ? 521 : 501, 0, type === 1 ? { data: { groupMsgs: [m] } } : { data: { msgs: [m] } });
    return m;
  }

  /** A complete `TMessage` with fresh ids and the stand-in's time. */
  message(over: Partial<WireMessage> & { uidFrom: string; idTo: string }): WireMessage {
    const id = String(this.msgSeq++);
    return { ...TMESSAGE_DEFAULTS, paramsExt: { ...TMESSAGE_DEFAULTS.paramsExt }, actionId: id, msgId: id, cliMsgId: String(this.now()).slice(-10) + id.slice(-3), ts: String(this.now()), ...over };
  }

  // ── what Zalo does ───────────────────────────────────────────────────────────

  /** The next sends are refused with these codes (221 rate limit, 123 "cannot receive", 600 session…). */
  failNextSend(code: number, message = code === 123 ? 'Không thể nhận tin nhắn từ bạn' : code === 221 ? 'Vượt quá số request cho phép' : `error ${code}`): void {
    this.sendErrors.push({ code, message });
  }

  /** Resolves with the next send that satisfies `pred` (already recorded ones count). */
  nextSend(pred: (s: AccountSend) => boolean = () => true, after = 0): Promise<AccountSend> {
    const done = this.sent.slice(after).find(pred);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const on = (s: AccountSend): void => {
        if (!pred(s)) return;
        this.off('send', on);
        resolve(s);
      };
      this.on('send', on);
    });
  }

  /** Resolves once `count` listener connections have been made in total. */
  async connected(count = this.connections + 1): Promise<void> {
    while (this.connections < count) await new Promise((r) => this.once('connection', r));
  }

  /** The network drops the socket: zca-js sees close 1006 (Zalo does this about once a minute). */
  dropSocket(): void {
    this.socket?.ws.terminate();
    this.socket = null;
  }

  /** Zalo closes the socket with a code (3000: another Zalo Web session took over). */
  closeSocket(code: number, reason = ''): void {
    this.socket?.ws.close(code, reason);
    this.socket = null;
  }

  /** The session dies (days pass, or the phone logged it out): every cookie is refused, the socket drops. */
  expireSession(): void {
    this.expired = true;
    this.validSek.clear();
    this.dropSocket();
  }

  /** Days pass: only the newest rotated session cookie is still accepted. */
  ageCookies(): void {
    this.validSek.clear();
    if (this.latestSek) this.validSek.add(this.latestSek);
  }

  /** The newest session cookie Zalo handed out. */
  get currentSek(): string {
    return this.latestSek;
  }

  async stop(): Promise<void> {
    for (const release of this.hung.splice(0)) release();
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────────

  private async http(req: HttpRequest, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://zalo.local');
    const body = await readBody(req);
    const sek = /(?:^|;\s*)zpw_sek=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
    const alive = !this.expired && this.validSek.has(sek);
    // Zalo rotates the session cookie on every answer while the session lives.
    if (alive) res.setHeader('set-cookie', `zpw_sek=${this.issueSek()}; Domain=zalo.me; Path=/; Expires=${new Date(Date.now() + 365 * 86_400_000).toUTCString()}; Secure; HttpOnly`);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/api/login/getLoginInfo': {
        const zcid = url.searchParams.get('zcid') ?? '';
        const zcidExt = url.searchParams.get('zcid_ext') ?? '';
        const enk = loginKey(zcid, zcidExt);
        const info = {
          uid: this.ownId,
          zpw_enk: this.sessionKey,
          zpw_service_map_v3: Object.fromEntries(SERVICES.map((s) => [s, [`https://tt-${s.replace(/_/g, '-')}-wpa.chat.zalo.me`]])),
          zpw_ws: [`ws://127.0.0.1:${this.port}/ws`],
        };
        json(200, { error_code: 0, error_message: 'Successful.', data: cbcEncrypt(Buffer.from(enk, 'utf8'), JSON.stringify({ error_code: 0, data: info })) });
        return;
      }
      case '/api/login/getServerInfo':
        this.emit('login', alive);
        if (!alive) return json(200, { error_code: ZPW_SEK_ERROR.code, error_message: ZPW_SEK_ERROR.message, data: null });
        return json(200, {
          error_code: 0,
          data: {
            settings: {
              features: {
                socket: { retries: {}, close_and_retry_codes: [1000, 3000], rotate_error_codes: [], ping_interval: 20_000 },
                sharefile: { max_file: 10, max_size_share_file_v3: 1024, chunk_size_file: 3_145_728 },
              },
              keepalive: { alway_keepalive: 1, keepalive_duration: 900, time_deactive: 900 },
            },
            extra_ver: {},
          },
        });
      default:
        break;
    }
    if (!alive) return json(200, { error_code: ZPW_SEK_ERROR.code, error_message: ZPW_SEK_ERROR.message });
    const encoded = new URLSearchParams(body).get('params') ?? url.searchParams.get('params') ?? '';
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(cbcDecrypt(Buffer.from(this.sessionKey, 'base64'), encoded)) as Record<string, unknown>;
    } catch {
      return json(200, { error_code: 114, error_message: 'Tham số không hợp lệ' });
    }
    const answer = (data: unknown): void => json(200, { error_code: 0, error_message: '', data: cbcEncrypt(Buffer.from(this.sessionKey, 'base64'), JSON.stringify({ error_code: 0, error_message: '', data })) });
    const refuse = (code: number, message: string): void => json(200, { error_code: 0, error_message: '', data: cbcEncrypt(Buffer.from(this.sessionKey, 'base64'), JSON.stringify({ error_code: code, error_message: message, data: null })) });
    if (url.pathname.endsWith('/typing')) return answer({ status: 1 });
    if (url.pathname === '/api/message/sms' || url.pathname === '/api/group/sendmsg' || url.pathname === '/api/group/mention') {
      const type = url.pathname.startsWith('/api/group') ? 1 : 0;
      const threadId = String(type === 1 ? params.grid : params.toid);
      const text = String(params.message ?? '');
      const failure = this.sendErrors.shift();
      const send: AccountSend = { threadId, type, text, msgId: null, error: failure?.code ?? null, sek };
      if (failure) {
        this.sent.push(send);
        this.emit('send', send);
        return refuse(failure.code, failure.message);
      }
      // A link card's title is the linked page's, not necessarily the text sent (unverified Zalo behaviour).
      const card = (): Partial<WireMessage> => ({ msgType: 'chat.recommended', content: linkContent(new URL(firstUrl(text)).hostname, firstUrl(text)) });
      const echo = this.message({ uidFrom: '0', idTo: threadId, cliMsgId: String(params.clientId ?? ''), ...(this.echo === 'link-card' ? card() : { content: text }) });
      send.msgId = echo.msgId;
      this.sent.push(send);
      // The echo reaches the socket before the HTTP answer, as Zalo may do.
      if (this.echo !== 'none') this.pushMessage(echo, type);
      this.emit('send', send);
      if (this.beforeAnswer) await this.beforeAnswer(send);
      return answer({ msgId: Number(echo.msgId) });
    }
    return json(404, { error_code: 404, error_message: `zalo-wire does not implement ${url.pathname}` });
  }

  private issueSek(): string {
    const sek = `sek-${++this.sekSeq}-${randomBytes(6).toString('hex')}`;
    this.validSek.add(sek);
    this.latestSek = sek;
    return sek;
  }

  // ── websocket ────────────────────────────────────────────────────────────────

  private onConnection(ws: WebSocket): void {
    this.socket?.ws.terminate();
    const key = randomBytes(32);
    const current = { ws, key };
    this.socket = current;
    ws.on('close', () => {
      if (this.socket === current) this.socket = null;
    });
    ws.on('message', (raw: Buffer) => this.onClientFrame(current, raw));
    // The cipher key handshake: cmd 1, subCmd 1, unencrypted `{ key }`.
    ws.send(Buffer.concat([header(1, 1), Buffer.from(JSON.stringify({ key: key.toString('base64') }))]));
    this.connections++;
    this.emit('connection', this.connections);
  }

  private onClientFrame(conn: { ws: WebSocket; key: Buffer }, raw: Buffer): void {
    if (raw.length < 4) return;
    const cmd = raw.readUInt16LE(1);
    const subCmd = raw[3];
    if ((cmd === 510 || cmd === 511) && subCmd === 1) {
      const type = cmd === 511 ? 1 : 0;
      this.emit('historyRequest', type);
      const page = (type === 1 ? this.history.group : this.history.user).slice(-50);
      this.frameTo(conn, cmd, 1, type === 1 ? { data: { groupMsgs: page } } : { data: { msgs: page } });
    }
    // cmd 2 (ping) and anything else: nothing to answer.
  }

  private frame(cmd: number, subCmd: number, body: unknown): void {
    if (this.socket) this.frameTo(this.socket, cmd, subCmd, body);
  }

  private frameTo(conn: { ws: WebSocket; key: Buffer }, cmd: number, subCmd: number, body: unknown): void {
    const iv = randomBytes(16);
    const aad = randomBytes(16);
    const cipher = createCipheriv('aes-256-gcm', conn.key, iv);
    cipher.setAAD(aad);
    const sealed = Buffer.concat([cipher.update(deflateSync(Buffer.from(JSON.stringify(body)))), cipher.final(), cipher.getAuthTag()]);
    const data = encodeURIComponent(Buffer.concat([iv, aad, sealed]).toString('base64'));
    conn.ws.send(Buffer.concat([header(cmd, subCmd), Buffer.from(JSON.stringify({ data, encrypt: 2 }))]));
  }
}

/** The link content Zalo makes of typed text with a URL (sic: "recommened"). */
function linkContent(text: string, href: string): Record<string, unknown> {
  return { action: 'recommened.link', title: text, href, description: '', thumb: '', childnumber: 0, params: JSON.stringify({ mediaTitle: new URL(href).hostname }), type: '' };
}

function firstUrl(text: string): string {
  return /https?:\/\/\S+/.exec(text)?.[0] ?? 'https://dichvucong.gov.vn';
}

function header(cmd: number, subCmd: number): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 1;
  h.writeUInt16LE(cmd, 1);
  h[3] = subCmd;
  return h;
}

/**
 * The AES key zca-js's `ParamsEncryptor` derives for the login answer, recomputed from
 * what it sends: even hex digits of MD5(zcid_ext) in upper case (8), then even (12) and
 * reversed odd (12) characters of zcid.
 */
function loginKey(zcid: string, zcidExt: string): string {
  const md5 = createHash('md5').update(zcidExt).digest('hex').toUpperCase();
  const even = (s: string): string[] => [...s].filter((_, i) => i % 2 === 0);
  const odd = (s: string): string[] => [...s].filter((_, i) => i % 2 === 1);
  return even(md5).slice(0, 8).join('') + even(zcid).slice(0, 12).join('') + odd(zcid).reverse().slice(0, 12).join('');
}

/** AES-CBC with a zero IV and PKCS#7, base64 — how Zalo encrypts API answers. */
function cbcEncrypt(key: Buffer, text: string): string {
  const c = createCipheriv(key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc', key, Buffer.alloc(16));
  return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64');
}

function cbcDecrypt(key: Buffer, b64: string): string {
  const d = createDecipheriv(key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc', key, Buffer.alloc(16));
  return Buffer.concat([d.update(Buffer.from(decodeURIComponent(b64), 'base64')), d.final()]).toString('utf8');
}

async function readBody(req: HttpRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
