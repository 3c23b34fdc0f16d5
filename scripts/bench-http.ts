/**
 * `npm run bench:http`: the web chat API under load (a benchmark that prints numbers, not
 * a test). The server runs in a child process exactly as `npm start` builds it for the
 * web (real dialogue engine, in-process pipeline, /metrics); this process is the client,
 * over loopback HTTP with keep-alive.
 *
 *   1. throughput: POST /api/chat at concurrency 20 (each client a session asking
 *      citizens' questions in turn) → msg/s, p50, p99.
 *   2. memory: 8,000 conversations (two messages each, the second carrying the cursor the
 *      page would send) from 200 loopback addresses (127.0.1.1–127.0.1.200) → heap growth
 *      per conversation, read from `/metrics` after a full GC in the server.
 *
 *      Printed right after the run and again `--settle` seconds later, when what only
 *      lives for a while (limiter windows, message ids kept for retries) has ended.
 *
 *   npm run bench:http [-- --messages 4000 --conversations 8000 --addresses 200 --settle 65 --only throughput|memory]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const CONCURRENCY = 20;

/** The figure measured on the node:http router before the move to Fastify (same machine, same command). */
const BASELINE = ' 4000 msgs  1053 msg/s  p50 17.6 ms  p99 41.6 ms   (node:http router before the Fastify move; memory then: 10.4 KB per conversation)';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Citizens' questions from the golden table, without hand-offs and complaints (those go quiet by design). */
function questions(): string[] {
  return readFileSync(join(ROOT, 'test', 'golden.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; intents?: string[] })
    .filter((g) => !(g.intents ?? []).some((i) => i === 'handoff' || i === 'complaint'))
    .map((g) => g.text);
}

// ── server process ─────────────────────────────────────────────────────────

async function server(): Promise<void> {
  const { createAssistant } = await import('../bot/assistant.ts');
  const { loadConfig } = await import('../bot/config.ts');
  const { startWebServer, webServerConfig } = await import('../bot/http/index.ts');
  const { InProcessPipeline } = await import('../bot/pipeline.ts');
  const { Metrics, instrumentEngine } = await import('../bot/metrics.ts');
  const config = loadConfig({ LOG_LEVEL: 'silent', DOSSIER_LOOKUPS_PER_HOUR: '1000000', DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: '1000000' });
  const parts = createAssistant(config, { memoryTickets: true, config: { failuresBeforeHandoff: 1_000_000 } });
  const metrics = new Metrics();
  instrumentEngine(parts.engine, metrics);
  const pipeline = new InProcessPipeline(parts.engine);
  // Throughput: no message limits (one loopback client is far over any per-address limit).
  // Memory: the default per-session and per-address limits, no overall ceiling (the run is faster than 100 msg/s).
  const limited = process.env.BENCH_LIMITS === 'default';
  const defaults = webServerConfig(loadConfig({ WEB_MESSAGES_PER_SECOND: '0' }));
  const { MemoryWebOutbox } = await import('../bot/channels/web.ts');
  const outbox = new MemoryWebOutbox(limited ? defaults.limits : {});
  const web = await startWebServer({
    port: 0,
    host: '127.0.0.1',
    pipeline,
    holder: parts.holder,
    metrics,
    outbox,
    ...(limited ? defaults : { limits: { messagesPerMinute: 0 }, requestsPerMinutePerAddress: 0 }),
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'cpu') process.send?.({ cmd: 'cpu', usage: process.cpuUsage() });
    if (m.cmd === 'gc') {
      // Several passes: weak maps and finalizers settle over more than one collection.
      for (let i = 0; i < 4; i++) globalThis.gc?.();
      process.send?.({ cmd: 'gc-done', outbox: outbox.size });
    }
  });
  process.on('SIGTERM', () => process.exit(0)); // exits normally, so --cpu-prof (BENCH_PROF=1) writes its profile
  process.send?.({ cmd: 'ready', port: web.port });
}

// ── client ─────────────────────────────────────────────────────────────────

interface Answer {
  status: number;
  body: { cursor?: string; replies?: unknown[] };
}

function post(port: number, agent: Agent, body: unknown): Promise<Answer> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/chat', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (s += c));
      res.on('end', () => resolve(s));
    })
      .on('error', reject)
      .end();
  });
}

function startServer(limits: 'none' | 'default'): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_LIMITS: limits } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.on('message', (m: { cmd: string; port?: number }) => {
      if (m.cmd === 'ready') resolve({ child, port: m.port as number });
    });
  });
}

/** Asks the server for a full GC; resolves to what its outbox holds then. */
function gc(child: ChildProcess): Promise<{ conversations: number; replies: number; bytes: number }> {
  return new Promise((resolve) => {
    const on = (m: { cmd: string; outbox: { conversations: number; replies: number; bytes: number } }): void => {
      if (m.cmd !== 'gc-done') return;
      child.off('message', on);
      resolve(m.outbox);
    };
    child.on('message', on);
    child.send({ cmd: 'gc' });
  });
}

/** Heap used and external memory (buffers) as `/metrics` reports them. */
async function memoryUsed(port: number): Promise<{ heap: number; external: number }> {
  const text = await get(port, '/metrics');
  const read = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} missing from /metrics: ${text.slice(0, 300)}`);
    return Number(m[1]);
  };
  return { heap: read('tthc_nodejs_heap_size_used_bytes'), external: read('tthc_nodejs_external_memory_bytes') };
}

/**
 * Opens the long poll the page keeps open (its cursor tells the server what was shown, so
 * the server can drop it), and leaves once the server has the request: it answers the
 * `Expect: 100-continue` header as soon as it has read the headers.
 */
function pollOnce(port: number, localAddress: string, sessionId: string, cursor: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, localAddress, agent: false, headers: { Expect: '100-continue' }, path: `/api/updates?sessionId=${sessionId}&cursor=${encodeURIComponent(cursor)}` });
    const leave = (): void => {
      clearTimeout(fallback);
      req.destroy();
      resolve();
    };
    const fallback = setTimeout(leave, 2000);
    req.on('continue', () => setTimeout(leave, 20));
    req.on('error', () => undefined);
    req.end();
  });
}

/** The server's CPU time so far (user + system, µs): less disturbed by other load on the machine than wall-clock rates. */
function cpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { cmd: string; usage?: NodeJS.CpuUsage }): void => {
      if (m.cmd !== 'cpu' || !m.usage) return;
      child.off('message', on);
      resolve(m.usage.user + m.usage.system);
    };
    child.on('message', on);
    child.send({ cmd: 'cpu' });
  });
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function throughput(child: ChildProcess, port: number, total: number): Promise<string> {
  const texts = questions();
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const times: number[] = [];
  let refused = 0;
  const worker = async (w: number, count: number, record: boolean): Promise<void> => {
    let session = 0;
    let cursor: string | undefined;
    for (let i = 0; ; i++) {
      const n = next++;
      if (n >= count) return;
      if (i % 20 === 0) {
        session++;
        cursor = undefined;
      }
      const t0 = performance.now();
      const r = await post(port, agent, { sessionId: `bench-${record ? 'm' : 'w'}-${w}-${session}`, text: texts[n % texts.length], messageId: `m${n}`, cursor });
      if (record) times.push(performance.now() - t0);
      if (r.status !== 200) refused++;
      cursor = r.body.cursor;
    }
  };
  // Warm-up (JIT, caches), then the measured run.
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w, 400, false)));
  next = 0;
  const cpu0 = await cpu(child);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w, total, true)));
  const secs = (performance.now() - t0) / 1000;
  const cpuPerMsg = (await cpu(child)) - cpu0;
  agent.destroy();
  times.sort((a, b) => a - b);
  return `${String(total).padStart(5)} msgs  ${Math.round(total / secs)} msg/s  p50 ${pct(times, 0.5).toFixed(1)} ms  p99 ${pct(times, 0.99).toFixed(1)} ms  server CPU ${(cpuPerMsg / total / 1000).toFixed(2)} ms/msg${refused ? `  refused ${refused}` : ''}`;
}

async function memory(child: ChildProcess, port: number, conversations: number, addresses: number, settleSeconds: number): Promise<string[]> {
  const texts = questions();
  const agents = Array.from({ length: addresses }, (_, i) => new Agent({ keepAlive: true, maxSockets: 2, localAddress: `127.0.1.${i + 1}` }));
  await gc(child);
  const before = await memoryUsed(port);
  let next = 0;
  const refused = new Map<number, number>();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const c = next++;
      if (c >= conversations) return;
      const agent = agents[c % addresses] as Agent;
      const sessionId = `memory-${c}-${(c * 2654435761) % 2 ** 32}`;
      const first = await post(port, agent, { sessionId, text: texts[c % texts.length], messageId: 'a' });
      const second = await post(port, agent, { sessionId, text: texts[(c * 7 + 3) % texts.length], messageId: 'b', cursor: first.body.cursor });
      for (const r of [first, second]) if (r.status !== 200) refused.set(r.status, (refused.get(r.status) ?? 0) + 1);
      if (second.body.cursor) await pollOnce(port, `127.0.1.${(c % addresses) + 1}`, sessionId, second.body.cursor);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  for (const a of agents) a.destroy();
  const per = (from: { heap: number; external: number }, to: { heap: number; external: number }, box: { replies: number; bytes: number }): string =>
    `heap ${((to.heap - from.heap) / conversations / 1024).toFixed(2)} KB + buffers ${((to.external - from.external) / conversations / 1024).toFixed(2)} KB per conversation (heap ${(to.heap / 2 ** 20).toFixed(1)} MB; outbox ${box.replies} replies, ${Math.round(box.bytes / 1024)} KB)`;
  const box = await gc(child);
  const after = await memoryUsed(port);
  const lines = [
    `${conversations} conversations (2 messages each) from ${addresses} addresses in ${secs.toFixed(1)} s${refused.size ? `  (not 200: ${[...refused].map(([s, n]) => `${n}× ${s}`).join(', ')})` : ''}`,
    `  right after:      ${per(before, after, box)}`,
  ];
  if (settleSeconds > 0) {
    // Limiter windows, remembered message ids and replies kept for retries end by time.
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    const later = await gc(child);
    lines.push(`  ${`${settleSeconds} s later:`.padEnd(17)} ${per(before, await memoryUsed(port), later)}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const only = arg('--only');
  const total = Number(arg('--messages') ?? 4000);
  const conversations = Number(arg('--conversations') ?? 8000);
  const addresses = Number(arg('--addresses') ?? 200);
  const settle = Number(arg('--settle') ?? 65);
  console.log(`Web chat API benchmark — loopback, real engine, in-process pipeline (node ${process.version})`);
  if (only !== 'memory') {
    const { child, port } = await startServer('none');
    try {
      console.log(`throughput, concurrency ${CONCURRENCY}:`);
      console.log(`  baseline  ${BASELINE}`);
      console.log(`  now       ${await throughput(child, port, total)}`);
    } finally {
      child.removeAllListeners('exit');
      child.kill();
    }
  }
  if (only !== 'throughput') {
    const { child, port } = await startServer('default');
    try {
      console.log('memory (from /metrics, after a full GC in the server):');
      for (const line of await memory(child, port, conversations, addresses, settle)) console.log(`  ${line}`);
    } finally {
      child.removeAllListeners('exit');
      child.kill();
    }
  }
}

if (process.argv.includes('--server')) await server();
else await main();
