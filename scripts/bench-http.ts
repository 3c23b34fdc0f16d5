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
 *   npm run bench:http [-- --messages 4000 --conversations 8000 --addresses 200 --only throughput|memory]
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
  const { startWebServer } = await import('../bot/http/index.ts');
  const { InProcessPipeline } = await import('../bot/pipeline.ts');
  const { Metrics, instrumentEngine } = await import('../bot/metrics.ts');
  const config = loadConfig({ LOG_LEVEL: 'silent', DOSSIER_LOOKUPS_PER_HOUR: '1000000', DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: '1000000' });
  const parts = createAssistant(config, { memoryTickets: true, config: { failuresBeforeHandoff: 1_000_000 } });
  const metrics = new Metrics();
  instrumentEngine(parts.engine, metrics);
  const pipeline = new InProcessPipeline(parts.engine);
  const web = await startWebServer({
    port: 0,
    host: '127.0.0.1',
    pipeline,
    holder: parts.holder,
    limits: { messagesPerMinute: 0 },
    metrics,
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'gc') {
      // Several passes: weak maps and finalizers settle over more than one collection.
      for (let i = 0; i < 4; i++) globalThis.gc?.();
      process.send?.({ cmd: 'gc-done' });
    }
  });
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

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.on('message', (m: { cmd: string; port?: number }) => {
      if (m.cmd === 'ready') resolve({ child, port: m.port as number });
    });
  });
}

function gc(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { cmd: string }): void => {
      if (m.cmd !== 'gc-done') return;
      child.off('message', on);
      resolve();
    };
    child.on('message', on);
    child.send({ cmd: 'gc' });
  });
}

async function heapUsed(port: number): Promise<number> {
  const text = await get(port, '/metrics');
  const m = /^tthc_nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
  if (!m) throw new Error('tthc_nodejs_heap_size_used_bytes missing from /metrics');
  return Number(m[1]);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function throughput(port: number, total: number): Promise<string> {
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
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w, total, true)));
  const secs = (performance.now() - t0) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  return `${String(total).padStart(5)} msgs  ${Math.round(total / secs)} msg/s  p50 ${pct(times, 0.5).toFixed(1)} ms  p99 ${pct(times, 0.99).toFixed(1)} ms${refused ? `  refused ${refused}` : ''}`;
}

async function memory(child: ChildProcess, port: number, conversations: number, addresses: number): Promise<string> {
  const texts = questions();
  const agents = Array.from({ length: addresses }, (_, i) => new Agent({ keepAlive: true, maxSockets: 2, localAddress: `127.0.1.${i + 1}` }));
  await gc(child);
  const before = await heapUsed(port);
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
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  for (const a of agents) a.destroy();
  await gc(child);
  const after = await heapUsed(port);
  const per = (after - before) / conversations / 1024;
  return `${conversations} conversations from ${addresses} addresses in ${secs.toFixed(1)} s: heap ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MB, ${per.toFixed(2)} KB per conversation${refused.size ? `  (not 200: ${[...refused].map(([s, n]) => `${n}× ${s}`).join(', ')})` : ''}`;
}

async function main(): Promise<void> {
  const only = arg('--only');
  const total = Number(arg('--messages') ?? 4000);
  const conversations = Number(arg('--conversations') ?? 8000);
  const addresses = Number(arg('--addresses') ?? 200);
  console.log(`Web chat API benchmark — loopback, real engine, in-process pipeline (node ${process.version})`);
  if (only !== 'memory') {
    const { child, port } = await startServer();
    try {
      console.log(`throughput, concurrency ${CONCURRENCY}:`);
      console.log(`  baseline  ${BASELINE}`);
      console.log(`  now       ${await throughput(port, total)}`);
    } finally {
      child.removeAllListeners('exit');
      child.kill();
    }
  }
  if (only !== 'throughput') {
    const { child, port } = await startServer();
    try {
      console.log(`memory: ${await memory(child, port, conversations, addresses)}`);
    } finally {
      child.removeAllListeners('exit');
      child.kill();
    }
  }
}

if (process.argv.includes('--server')) await server();
else await main();
