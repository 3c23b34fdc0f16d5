/**
 * Understanding benchmark (a benchmark, not a test): `npm run bench`.
 *
 * For three bases — the bundled knowledge, + the national records file (when present),
 * + a synthetic 10,000-procedure base — each in a fresh process, prints: process start
 * to ready (imports + knowledge load + index), knowledge load + index time, mean and p99
 * understanding+reply latency per message, and RSS. Targets (2 cores): mean ≤ 1 ms and
 * p99 ≤ 5 ms with the national file, startup ≤ 1.5 s, RSS ≤ 300 MB.
 *
 *   npm run bench [-- --national FILE] [--messages N]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const ROOT = join(import.meta.dirname, '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Messages to replay: the golden table plus typed variants (no accents, abbreviations, typos). */
function messages(): { conv: string; text: string }[] {
  const golden = readFileSync(join(ROOT, 'test', 'golden.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { conv: string; text: string });
  const folded = golden.map((g) => ({ conv: `${g.conv}-f`, text: g.text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd') }));
  return [...golden, ...folded];
}

async function child(national: string | undefined, count: number): Promise<void> {
  const t0 = performance.now();
  const { createAssistant } = await import('../bot/assistant.ts');
  const { loadConfig } = await import('../bot/config.ts');
  const config = loadConfig({ LOG_LEVEL: 'silent', DOSSIER_LOOKUPS_PER_HOUR: '1000000', DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: '1000000' });
  if (national) config.NATIONAL_FILE = national;
  const tl = performance.now();
  const a = createAssistant(config, { memoryTickets: true, config: { failuresBeforeHandoff: 1_000_000 } });
  const loadMs = performance.now() - tl;
  const readyMs = performance.now() - t0 + Number(process.env.BENCH_BOOT_MS ?? 0);
  const msgs = messages();
  // Warm-up (JIT), then measure.
  for (let i = 0; i < 200; i++) {
    const m = msgs[i % msgs.length]!;
    await a.engine.handle({ channel: 'cli', conversationId: `w${i}`, userId: 'w', messageId: `w${i}`, text: m.text, kind: 'text' });
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const m = msgs[i % msgs.length]!;
    const s = performance.now();
    await a.engine.handle({ channel: 'cli', conversationId: `${m.conv}-${Math.floor(i / msgs.length)}`, userId: 'b', messageId: `b${i}`, text: m.text, kind: 'text' });
    times.push(performance.now() - s);
  }
  times.sort((x, y) => x - y);
  const mean = times.reduce((x, y) => x + y, 0) / times.length;
  const p99 = times[Math.floor(times.length * 0.99)] ?? 0;
  const p50 = times[Math.floor(times.length * 0.5)] ?? 0;
  globalThis.gc?.();
  const v = a.holder.version;
  console.log(
    JSON.stringify({
      procedures: v.understander.size,
      readyMs: Math.round(readyMs),
      loadIndexMs: Math.round(loadMs),
      indexBuildMs: Math.round(v.understander.buildMs),
      meanMs: +mean.toFixed(3),
      p50Ms: +p50.toFixed(3),
      p99Ms: +p99.toFixed(3),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      messages: count,
    }),
  );
}

function parent(): void {
  const count = Number(arg('--messages') ?? 3000);
  const nationalDefault = join(ROOT, '..', 'shared', 'data', 'national-tthc-2026.jsonl');
  const national = arg('--national') ?? (existsSync(nationalDefault) ? nationalDefault : undefined);
  const synthetic = join(tmpdir(), 'tthc-synthetic-10000.jsonl');
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'gen-synthetic.ts'), '10000', synthetic], { stdio: 'ignore' });
  const scenarios: [string, string | undefined][] = [
    ['bundled', undefined],
    ...(national ? ([['+ national file', national]] as [string, string][]) : []),
    ['+ synthetic 10,000', synthetic],
  ];
  console.log(`Understanding benchmark — ${count} messages per base, each base in a fresh process (node ${process.version})`);
  console.log('base                  procedures  start→ready  load+index  mean/msg  p50/msg  p99/msg   RSS');
  for (const [name, file] of scenarios) {
    const s = performance.now();
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'scripts', 'bench.ts'), '--child', ...(file ? ['--national', file] : []), '--messages', String(count)], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_START: String(Date.now()) },
    });
    const wall = performance.now() - s;
    const r = JSON.parse(out.trim().split('\n').pop() as string);
    void wall;
    console.log(
      `${name.padEnd(21)} ${String(r.procedures).padStart(10)}  ${`${r.readyMs} ms`.padStart(11)}  ${`${r.loadIndexMs} ms`.padStart(10)}  ${`${r.meanMs.toFixed(3)} ms`.padStart(8)}  ${`${r.p50Ms.toFixed(3)} ms`.padStart(7)}  ${`${r.p99Ms.toFixed(3)} ms`.padStart(8)}  ${`${r.rssMB} MB`.padStart(6)}`,
    );
  }
  if (!national) console.log('(national file not found: pass --national FILE to include it)');
  writeFileSync(join(tmpdir(), 'tthc-bench-done'), '');
}

if (process.argv.includes('--child')) {
  // Time from process start (node's own clock) to now, so imports count toward startup.
  process.env.BENCH_BOOT_MS = String(Math.round(performance.timeOrigin ? performance.now() : 0));
  await child(arg('--national'), Number(arg('--messages') ?? 3000));
} else parent();
