/**
 * Helpers for the queue tests: a real Redis (or a loud failure saying how to get one),
 * random key prefixes with cleanup, an echo engine that records how messages were
 * handled, a recording channel sender whose deliveries can be awaited, and throwaway
 * redis-server processes for tests that need a server of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DialogueEngine, type DialogueDeps, type Turn } from '../bot/dialogue/engine.ts';
import type { ChannelName, IncomingMessage, Reply } from '../bot/dialogue/types.ts';
import type { ChannelSender } from '../bot/pipeline.ts';
import { deleteByPrefix } from '../bot/queue/redis.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const NO_REDIS_HELP = `Redis is not reachable at ${REDIS_URL}. The *.redis.test.ts files need a real Redis:
  apt-get install -y redis-server && redis-server --daemonize yes
or point REDIS_URL at one (e.g. REDIS_URL=redis://127.0.0.1:6380).`;

/** Connects (with `maxRetriesPerRequest: null`, as the app does) or throws the help text. */
export async function connectRedis(url = REDIS_URL): Promise<Redis> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`${NO_REDIS_HELP}\n(${(err as Error).message})`, { cause: err });
  } finally {
    probe.disconnect();
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(50 * n, 500) });
  redis.on('error', () => undefined);
  return redis;
}

/** A key prefix no other test run uses. */
export function randomPrefix(name = 'test'): string {
  return `t-${name}-${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under `prefix`. */
export async function cleanupPrefix(redis: Redis, prefix: string): Promise<void> {
  await deleteByPrefix(redis, prefix);
}

/** Polls `check` until it is true (for state that lives in another process or in Redis). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, everyMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An incoming text message. */
export function message(channel: ChannelName, conversationId: string, messageId: string, text = messageId): IncomingMessage {
  return { channel, conversationId, userId: `u-${conversationId}`, messageId, text, kind: 'text' };
}

function turnFor(text: string): Turn {
  return { reply: { text, options: [], links: [] }, intent: 'greeting', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [] };
}

/**
 * Stands in for the dialogue engine: answers "echo:<text>", records the order messages
 * of each conversation were handled in and how many ran at once, and can be told to
 * fail or to hang on chosen texts.
 */
export class EchoEngine extends DialogueEngine {
  readonly handled = new Map<string, string[]>();
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  maxPerConversation = 0;
  private readonly perConversation = new Map<string, number>();
  /** Texts whose handling throws. */
  readonly failOn = new Set<string>();
  /** Called with each message before it is answered (e.g. to hang on one). */
  before?: (msg: IncomingMessage) => Promise<void> | void;

  constructor(private readonly jitterMs = 2) {
    // The echo engine never reads its dependencies.
    super({} as DialogueDeps);
  }

  override async handle(msg: IncomingMessage): Promise<Turn> {
    const conv = `${msg.channel}:${msg.conversationId}`;
    this.calls.push(msg.messageId);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = (this.perConversation.get(conv) ?? 0) + 1;
    this.perConversation.set(conv, n);
    this.maxPerConversation = Math.max(this.maxPerConversation, n);
    try {
      await this.before?.(msg);
      // Uneven handling times so that conversations interleave.
      if (this.jitterMs) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * (this.jitterMs + 1))));
      if (this.failOn.has(msg.text)) throw new Error(`engine failure on ${msg.text}`);
      const list = this.handled.get(conv) ?? [];
      list.push(msg.text);
      this.handled.set(conv, list);
      return turnFor(`echo:${msg.text}`);
    } finally {
      this.inFlight--;
      this.perConversation.set(conv, (this.perConversation.get(conv) ?? 1) - 1);
    }
  }
}

/** One delivery as the platform saw it. */
export interface Delivery {
  conversationId: string;
  text: string;
  at: number;
}

/**
 * A channel sender that records deliveries; `waitFor(n)` resolves on the n-th one.
 * `policy` can make a send fail (throw) by conversation and attempt number.
 */
export class RecordingSender implements ChannelSender {
  readonly sent: Delivery[] = [];
  readonly attempts = new Map<string, number>();
  policy?: (conversationId: string, reply: Reply, attempt: number) => void | Promise<void>;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly channel: ChannelName) {}

  async send(conversationId: string, reply: Reply): Promise<void> {
    const key = `${conversationId}|${reply.text}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    await this.policy?.(conversationId, reply, attempt);
    this.sent.push({ conversationId, text: reply.text, at: Date.now() });
    this.waiters = this.waiters.filter((w) => {
      if (this.sent.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `n` deliveries were recorded (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    if (this.sent.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} deliveries, got ${this.sent.length}`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  texts(conversationId?: string): string[] {
    return this.sent.filter((d) => conversationId === undefined || d.conversationId === conversationId).map((d) => d.text);
  }
}

/** Counts of each element (to find duplicates). */
export function tally(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  return undefined;
}

/** A redis-server of the test's own (killed and restarted at will), on a free port. */
export interface ThrowawayRedis {
  url: string;
  /** SIGKILLs the server (data survives only through AOF, if it was asked for). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts `redis-server` with extra arguments (e.g. `['--appendonly', 'yes']`), or fails saying how to get it. */
export async function startThrowawayRedis(args: string[] = []): Promise<ThrowawayRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error('This test starts its own throwaway Redis and needs the redis-server binary: apt-get install -y redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-throwaway-'));
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    server = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...args], { stdio: 'ignore' });
    await until(async () => {
      const probe = new Redis(url, { lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 1 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 'throwaway redis-server up', 10_000, 50);
  };
  const kill = async (): Promise<void> => {
    const s = server;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const gone = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url,
    kill,
    start,
    dispose: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
