/**
 * `npm run bench:queue`: end-to-end numbers for the Redis pipeline (a benchmark that
 * prints numbers, not a test). The deployment it models: this process plays `npm start`
 * (a channel listener submitting messages, and the channel's sender), child processes
 * play `npm run worker` (inbound only: the real dialogue engine from createAssistant,
 * with understanding, Redis conversation state and Redis lookup limits). A message goes
 * submit → Redis → worker → send queue → the fake channel sender here, which records
 * each delivery (the "platform"). A trivial echo handler is measured too, to show what
 * the queue itself costs. The fake channel has no rate limits (real Telegram/Zalo limits
 * would cap the numbers at the platforms' rates, by design).
 *
 *   npm run bench:queue [-- --messages 5000 --conversations 500 --kill-messages 10000]
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379); uses a random key prefix and
 * deletes it afterwards.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import type { Turn } from '../bot/dialogue/engine.ts';
import type { IncomingMessage, Reply } from '../bot/dialogue/types.ts';
import { sampleDossiers } from '../bot/dossier/sample.ts';
import { MemoryDossierProvider } from '../bot/dossier/types.ts';
import { QueueAdmin } from '../bot/queue/admin.ts';
import { BullPipeline, type TurnHandler } from '../bot/queue/bull-pipeline.ts';
import { RedisRateLimiter } from '../bot/queue/ratelimit.ts';
import { deleteByPrefix } from '../bot/queue/redis.ts';
import { RedisConversationStore } from '../bot/queue/store.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MARK = '\u2063#';

/** Questions the way citizens type them (none asks for a person, so every one is answered). */
const TEXTS = [
  'xin chào', 'hồ sơ đăng ký khai sinh gồm những gì', 'lam giay khai sinh can nhung gi', 'đăng ký khai sinh lệ phí bao nhiêu',
  'đăng ký khai sinh mất bao lâu', 'khai sinh nộp trực tuyến được không', 'hồ sơ đăng ký kết hôn gồm những gì', 'đăng ký kết hôn có mất phí không',
  'đăng ký kết hôn ở đâu', 'làm giấy chứng tử thế nào', 'xin xác nhận độc thân', 'sửa sai tên trong giấy khai sinh', 'nhập hộ khẩu cho con',
  'le phi nhap ho khau', 'khai báo tạm trú', 'cấp đổi thẻ căn cước cần giấy tờ gì', 'le phi doi the can cuoc', 'cấp lại thẻ căn cước bị mất',
  'chứng thực bản sao cần mang gì', 'phí làm lý lịch tư pháp', 'đổi bằng lái', 'sang tên xe cần gì', 'lệ phí hộ chiếu', 'hồ sơ đăng ký hộ kinh doanh',
  'hồ sơ xin giấy phép xây dựng', 'cấp lại sổ đỏ bị mất', 'hồ sơ hưởng trợ cấp thất nghiệp', 'cấp lại thẻ bảo hiểm y tế', 'hồ sơ chuyển trường',
  'tra cứu hồ sơ 000.00.19.H04-250101-0001', 'giờ làm việc', 'địa chỉ trung tâm hành chính công', 'cách nộp hồ sơ trực tuyến', 'đăng ký kết hôn cần gì',
  'lệ phí thế nào', 'mấy ngày có kết quả', 'làm online được không', 'cảm ơn bạn',
];

// ── worker process ─────────────────────────────────────────────────────────

async function child(): Promise<void> {
  const prefix = process.env.BENCH_PREFIX as string;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  let handler: TurnHandler;
  if (process.env.BENCH_ENGINE === 'echo') {
    handler = {
      handle: async (msg: IncomingMessage): Promise<Turn> => ({ reply: { text: `echo ${msg.text}`, options: [], links: [] }, intent: 'greeting', procedure: null, faq: null, dossierCode: null, confidence: 1, alternatives: [] }),
    };
  } else {
    const config = loadConfig({ ...process.env, REDIS_URL, QUEUE_PREFIX: prefix });
    const parts = createAssistant(config, {
      memoryTickets: true,
      dossiers: new MemoryDossierProvider(sampleDossiers()),
      store: new RedisConversationStore(redis, { prefix, ttlMs: 3600_000 }),
      userLookups: new RedisRateLimiter(redis, { prefix, name: 'u', max: 1000, windowMs: 3600_000 }),
      globalLookups: new RedisRateLimiter(redis, { prefix, name: 'g', max: 100_000, windowMs: 60_000 }),
    });
    handler = parts.engine;
  }
  // The message id rides on the reply text so that the fake platform can tell replies apart.
  const marked: TurnHandler = {
    handle: async (msg) => {
      const turn = await handler.handle(msg);
      if (turn.reply) turn.reply = { ...turn.reply, text: `${turn.reply.text}${MARK}${msg.messageId}` };
      else await redis.rpush(`${prefix}:bench:quiet`, msg.messageId);
      return turn;
    },
  };
  // Inbound only, like `npm run worker`: replies go to the send queue.
  const pipeline = new BullPipeline(marked, { connection: redis, prefix, inboundConcurrency: Number(process.env.BENCH_CONCURRENCY ?? 64), lockMs: Number(process.env.BENCH_LOCK_MS ?? 5000) });
  process.on('SIGTERM', () => {
    void pipeline.close().then(() => process.exit(0));
  });
  process.send?.({ type: 'ready' });
}

// ── producer / orchestration ───────────────────────────────────────────────

interface RunResult {
  name: string;
  messages: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  lost: number;
  duplicated: number;
  quiet: number;
  failedSends: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function startWorker(prefix: string, engine: string): Promise<ChildProcess> {
  const proc = fork(fileURLToPath(import.meta.url), ['--child'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_PREFIX: prefix, BENCH_ENGINE: engine },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', () => resolve(proc));
    proc.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

async function run(redis: Redis, opts: { name: string; engine: 'real' | 'echo'; workers: number; messages: number; conversations: number; ratePerSecond?: number; killAfter?: number }): Promise<RunResult> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const workers = await Promise.all(Array.from({ length: opts.workers }, () => startWorker(prefix, opts.engine)));
  const producer = new BullPipeline({ handle: async () => Promise.reject(new Error('producer only')) }, { connection: redis, prefix, inboundWorkers: false });
  const admin = new QueueAdmin(redis, prefix);
  // The fake platform: every delivery with its time.
  const deliveries: { id: string; at: number }[] = [];
  producer.registerSender({
    channel: 'web',
    async send(_conversationId: string, reply: Reply) {
      deliveries.push({ id: reply.text.slice(reply.text.lastIndexOf(MARK) + MARK.length), at: Date.now() });
    },
  });
  const submitted = new Map<string, number>();
  const perConv = Math.ceil(opts.messages / opts.conversations);
  const t0 = Date.now();
  let killed = false;
  const killer = opts.killAfter
    ? (async () => {
        while (deliveries.length < (opts.killAfter as number)) await sleep(20);
        workers[0]?.kill('SIGKILL');
        killed = true;
      })()
    : Promise.resolve();
  await Promise.all(
    Array.from({ length: opts.conversations }, async (_, c) => {
      for (let i = 0; i < perConv; i++) {
        const n = c * perConv + i;
        if (n >= opts.messages) break;
        if (opts.ratePerSecond) {
          // Paced: message k of the whole run is due at t0 + k / rate (spread over conversations).
          const k = i * opts.conversations + c;
          const due = t0 + (k * 1000) / opts.ratePerSecond;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        const id = `b${c}-${i}`;
        const text = TEXTS[(c * 7 + i) % TEXTS.length] as string;
        submitted.set(id, Date.now());
        await producer.submit({ channel: 'web', conversationId: `bench-${c}`, userId: `user-${c}`, messageId: id, text, kind: 'text' });
      }
    }),
  );
  // Wait until every message is answered, or nothing is left to do anywhere.
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const sent = deliveries.length;
    const quiet = await redis.llen(`${prefix}:bench:quiet`);
    if (sent + quiet >= opts.messages) break;
    if (sent !== last) {
      last = sent;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 3000) {
      const s = await admin.stats();
      const out = s.outbound.web;
      const idle = s.inbound.messages === 0 && s.inbound.active === 0 && s.inbound.wakeJobs === 0 && (!out || out.waiting + out.active + out.delayed === 0);
      if (idle || Date.now() - stableSince > 60_000) break;
    }
    await sleep(50);
  }
  await killer;
  const seen = new Map<string, number>();
  let duplicated = 0;
  let lastAt = t0;
  for (const { id, at } of deliveries) {
    if (seen.has(id)) duplicated++;
    else seen.set(id, at);
    lastAt = Math.max(lastAt, at);
  }
  const quiet = await redis.llen(`${prefix}:bench:quiet`);
  const latencies = [...seen].map(([id, at]) => at - (submitted.get(id) ?? at)).sort((a, b) => a - b);
  const failed = await admin.failed(1000);
  const failedSends = failed.filter((f) => f.queue.startsWith('out-')).length;
  const lost = [...submitted.keys()].filter((id) => !seen.has(id)).length - quiet;
  const seconds = (lastAt - t0) / 1000;
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.exitCode === null && w.signalCode === null ? new Promise((r) => w.once('exit', r)) : undefined)));
  await producer.close();
  await admin.close();
  await deleteByPrefix(redis, prefix);
  if (opts.killAfter && !killed) console.error('warning: the worker was not killed (run finished first)');
  return { name: opts.name, messages: opts.messages, seconds, rate: opts.messages / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), lost, duplicated, quiet, failedSends };
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) || def : def;
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child();
  const messages = arg('messages', 5000);
  const conversations = arg('conversations', 500);
  const killMessages = arg('kill-messages', 10_000);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch {
    console.error(`Redis is not reachable at ${REDIS_URL} (apt-get install -y redis-server, or set REDIS_URL)`);
    process.exit(2);
  }
  const info = await redis.info('persistence');
  const aof = /aof_enabled:1/.test(info) ? 'AOF on' : 'AOF off';
  console.log(`bench:queue — Redis ${REDIS_URL} (${aof}), ${messages} messages over ${conversations} conversations, fake channel without rate limits\n`);
  const results: RunResult[] = [];
  const show = (r: RunResult): void => {
    results.push(r);
    console.log(
      `${r.name.padEnd(44)} ${String(r.messages).padStart(6)} msgs ${r.seconds.toFixed(1).padStart(6)} s ${r.rate.toFixed(0).padStart(6)} msg/s  p50 ${String(Math.round(r.p50)).padStart(5)} ms  p99 ${String(Math.round(r.p99)).padStart(5)} ms  lost ${r.lost}  duplicated ${r.duplicated}${r.failedSends ? `  failed-sends ${r.failedSends}` : ''}${r.quiet ? `  no-reply ${r.quiet}` : ''}`,
    );
  };
  show(await run(redis, { name: 'real engine, 1 worker, burst', engine: 'real', workers: 1, messages, conversations }));
  show(await run(redis, { name: 'real engine, 2 workers, burst', engine: 'real', workers: 2, messages, conversations }));
  show(await run(redis, { name: 'echo handler (queue only), 1 worker, burst', engine: 'echo', workers: 1, messages, conversations }));
  const steady = Math.max(50, Math.round(((results[0]?.rate ?? 400) * 0.5) / 50) * 50);
  show(await run(redis, { name: `real engine, 1 worker, steady ${steady} msg/s`, engine: 'real', workers: 1, messages: Math.min(messages, steady * 8), conversations, ratePerSecond: steady }));
  show(await run(redis, { name: `real engine, 2 workers, one SIGKILLed midway`, engine: 'real', workers: 2, messages: killMessages, conversations: Math.max(conversations, killMessages / 10), killAfter: Math.floor(killMessages / 2) }));
  console.log('\nburst: all messages submitted at once (latency includes waiting in the backlog); steady: submitted at a fixed rate.');
  console.log('lost = submitted and never delivered; duplicated = delivered more than once (at least once: a send cut by the kill is sent again); failed-sends = sends that failed for good.');
  console.log('workers are `npm run worker` processes (inbound only); this process submits and sends, like `npm start`.');
  redis.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
