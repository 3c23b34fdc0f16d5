/**
 * Black-box crash checks of the Telegram path (`npm run check:crash` prints them; a
 * smaller run is in test/telegram-crash.redis.test.ts). Real `npm start` processes
 * (bot/main.ts, the real grammY bot, BullMQ on a real Redis) talk to a fake Bot API in
 * this process; citizens are chats that write to it; processes are killed with SIGKILL
 * at chosen moments and started again. What is measured is what a citizen sees: whether
 * an answer arrived, how often, and how long after the question.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { deleteByPrefix } from '../../bot/queue/redis.ts';
import { FakeBotApi, privateChat, textMessage } from './fake-bot-api.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Questions citizens ask (none asks for a person, so every one gets an answer). */
const QUESTIONS = [
  'giờ làm việc', 'đăng ký khai sinh lệ phí bao nhiêu', 'đăng ký kết hôn ở đâu', 'le phi doi the can cuoc', 'xin chào',
  'đăng ký khai sinh mất bao lâu', 'khai báo tạm trú', 'phí làm lý lịch tư pháp', 'lệ phí hộ chiếu', 'địa chỉ trung tâm hành chính công',
];

export interface HarnessOptions {
  redisUrl: string;
  /** Short locks and leases (tests); otherwise the production defaults. */
  fast: boolean;
  /** How long the fake Bot API takes per sendMessage (Telegram's round trip). */
  sendLatencyMs: number;
  /** Progress lines (the script prints them). */
  progress?: (line: string) => void;
}

/** One `npm start` process. */
export interface AppProcess {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

/** Per citizen in a wave: answers that reached the chat, and the first one's delay. */
export interface WaveResult {
  citizens: number;
  answered: number;
  lost: number;
  /** Answers that arrived more than once (same text, same chat, same wave), counted per extra copy. */
  duplicates: number;
  maxLatencyMs: number;
  p50LatencyMs: number;
}

export class CrashHarness {
  readonly api: FakeBotApi;
  readonly prefix = `crash-${randomBytes(4).toString('hex')}`;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'tthc-crash-'));
  private readonly processes: AppProcess[] = [];
  private chatSeq = 910_000;

  constructor(private readonly o: HarnessOptions) {
    this.api = new FakeBotApi({ sendLatencyMs: o.sendLatencyMs });
  }

  async start(): Promise<void> {
    await this.api.start();
  }

  /** The environment of an `npm start` process of this deployment. */
  private env(): NodeJS.ProcessEnv {
    const fast = this.o.fast ? { QUEUE_LOCK_MS: '2000', TELEGRAM_POLL_LOCK_TTL_MS: '2000', QUEUE_SEND_BACKOFF_MS: '200' } : {};
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      TELEGRAM_BOT_TOKEN: this.api.token,
      TELEGRAM_API_ROOT: this.api.apiRoot,
      REDIS_URL: this.o.redisUrl,
      QUEUE_PREFIX: this.prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: this.dataDir,
      LOG_LEVEL: 'info',
      KNOWLEDGE_WATCH: 'false',
      ZALO_DISABLED: 'true',
      DOSSIER_PROVIDER: 'memory',
      ...fast,
    };
  }

  /** Starts `npm start` (bot/main.ts) and resolves once it says it has started. */
  async spawn(name: string): Promise<AppProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bot', 'main.ts')], { cwd: ROOT, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const app = { name, proc, exited };
    this.processes.push(app);
    const errors: string[] = [];
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (l) => errors.push(l));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        if (line.includes('"msg":"assistant started"')) resolve();
        if (/"level":"(?:error|fatal)"/.test(line)) this.o.progress?.(`  [${name}] ${line.slice(0, 300)}`);
      });
      void exited.then(() => reject(new Error(`${name} exited before starting: ${errors.slice(-5).join('\n')}`)));
    });
    return app;
  }

  /**
   * Replies a dead process was sending when it died: their send guard still says
   * "calling" (the platform may or may not have them). These are the ones that may
   * arrive twice after recovery.
   */
  async sendsCut(): Promise<number> {
    const redis = new Redis(this.o.redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:out:sent:*`, 'COUNT', 1000);
        cursor = next;
        for (const v of keys.length ? await redis.mget(...keys) : []) if (v?.startsWith('calling:')) n++;
      } while (cursor !== '0');
      return n;
    } finally {
      redis.disconnect();
    }
  }

  /** SIGKILL: no shutdown code runs, as in a power cut or an OOM kill. */
  async kill(app: AppProcess): Promise<void> {
    app.proc.kill('SIGKILL');
    await app.exited;
  }

  /** Chats for `n` new citizens. */
  citizens(n: number): number[] {
    return Array.from({ length: n }, () => ++this.chatSeq);
  }

  /**
   * Each citizen writes one message, `perSecond` of them per second; `during` runs once
   * the first `afterAnswers` answers have arrived (the kill). Resolves when every
   * citizen has an answer or nothing has arrived for `idleMs`.
   */
  async wave(chats: number[], opts: { perSecond: number; idleMs: number; question?: number; afterAnswers?: number; during?: () => Promise<void> }): Promise<WaveResult> {
    const from = this.api.mark();
    const askedAt = new Map<number, number>();
    const pushing = (async () => {
      for (const [i, id] of chats.entries()) {
        const { chat, from: user } = privateChat(id, 'Nguyễn Văn An');
        askedAt.set(id, Date.now());
        this.api.push(textMessage(chat, user, QUESTIONS[(i + (opts.question ?? 0)) % QUESTIONS.length] as string));
        await new Promise((r) => setTimeout(r, 1000 / opts.perSecond));
      }
    })();
    const answers = () => this.api.calls.slice(from).filter((c) => c.method === 'sendMessage' && c.result && askedAt.has(Number(c.payload.chat_id)));
    let during = opts.during ? false : true;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const got = answers();
      const chatsAnswered = new Set(got.map((c) => Number(c.payload.chat_id))).size;
      if (!during && got.length >= (opts.afterAnswers ?? 0)) {
        during = true;
        await opts.during?.();
      }
      if (askedAt.size === chats.length && chatsAnswered === chats.length && during) break;
      if (got.length !== last) {
        last = got.length;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > opts.idleMs) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await pushing;
    // Late duplicates (a resend after recovery) arrive after the last first answer.
    await new Promise((r) => setTimeout(r, this.o.fast ? 1500 : 3000));
    const got = answers();
    const perChat = new Map<number, Map<string, number>>();
    const first = new Map<number, number>();
    for (const c of got) {
      const id = Number(c.payload.chat_id);
      const texts = perChat.get(id) ?? new Map<string, number>();
      texts.set(String(c.payload.text), (texts.get(String(c.payload.text)) ?? 0) + 1);
      perChat.set(id, texts);
      if (!first.has(id)) first.set(id, c.at);
    }
    let duplicates = 0;
    for (const texts of perChat.values()) for (const n of texts.values()) duplicates += n - 1;
    const latencies = [...first].map(([id, at]) => at - (askedAt.get(id) ?? at)).sort((a, b) => a - b);
    return {
      citizens: chats.length,
      answered: perChat.size,
      lost: chats.length - perChat.size,
      duplicates,
      maxLatencyMs: latencies.at(-1) ?? Number.NaN,
      p50LatencyMs: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
    };
  }

  /** Stops what still runs, deletes this run's Redis keys and files. */
  async close(): Promise<void> {
    for (const p of this.processes) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
    await Promise.all(this.processes.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))])));
    for (const p of this.processes) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await this.api.close();
    const redis = new Redis(this.o.redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      await deleteByPrefix(redis, this.prefix);
    } finally {
      redis.disconnect();
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

/** Scenario 1: one process, SIGKILLed in the middle of a stream of citizens, started again. */
export interface KillResult extends WaveResult {
  answeredAtKill: number;
  /** Replies whose platform call the kill cut (guard still "calling"): the ones that may come twice. */
  sendsCutByKill: number;
  /** From the kill to the last first answer. */
  recoveryMs: number;
}

export async function killMidStream(h: CrashHarness, opts: { citizens: number; perSecond: number; killAfter: number; idleMs: number }): Promise<KillResult> {
  let app = await h.spawn('A');
  let killedAt = 0;
  let answeredAtKill = 0;
  let cut = 0;
  const from = h.api.mark();
  const result = await h.wave(h.citizens(opts.citizens), {
    perSecond: opts.perSecond,
    idleMs: opts.idleMs,
    afterAnswers: opts.killAfter,
    during: async () => {
      // A moment not tied to the answer just seen.
      await new Promise((r) => setTimeout(r, Math.random() * 200));
      killedAt = Date.now();
      await h.kill(app);
      cut = await h.sendsCut();
      answeredAtKill = h.api.calls.slice(from).filter((c) => c.method === 'sendMessage' && c.result).length;
      app = await h.spawn('A (restarted)');
    },
  });
  const lastFirst = Math.max(...h.api.calls.slice(from).filter((c) => c.method === 'sendMessage' && c.result).map((c) => c.at));
  return { ...result, answeredAtKill, sendsCutByKill: cut, recoveryMs: killedAt ? lastFirst - killedAt : Number.NaN };
}

/** Scenario 2: two processes; the newer, then the older, SIGKILLed between waves. */
export interface WavesResult {
  waves: { name: string; result: WaveResult }[];
}

export async function killBetweenWaves(h: CrashHarness, opts: { citizens: number; perSecond: number; idleMs: number }): Promise<WavesResult> {
  const older = await h.spawn('older');
  const newer = await h.spawn('newer');
  const chats = h.citizens(opts.citizens);
  const waves: WavesResult['waves'] = [];
  waves.push({ name: 'both processes up', result: await h.wave(chats, { ...opts, question: 0 }) });
  await h.kill(newer);
  waves.push({ name: 'newer SIGKILLed, older alone', result: await h.wave(chats, { ...opts, question: 1 }) });
  await h.spawn('newer (restarted)');
  await h.kill(older);
  waves.push({ name: 'newer restarted, older SIGKILLed', result: await h.wave(chats, { ...opts, question: 2 }) });
  return { waves };
}
