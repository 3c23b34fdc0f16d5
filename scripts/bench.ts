/**
 * Understanding benchmark (a benchmark, not a test): `npm run bench`.
 *
 * For three bases — the bundled knowledge, + the national records file (when present),
 * + a synthetic 10,000-procedure base — each in a fresh process, prints: process start
 * to ready (imports + knowledge load + index), knowledge load + index time, mean and p99
 * understanding+reply latency per message, and RSS; for short messages (the golden
 * table and its accent-free copies) and for long ones (150–400 characters: the same
 * questions inside a few sentences of story, as citizens write). Targets (2 cores):
 * mean ≤ 1 ms and p99 ≤ 5 ms with the national file on both, startup ≤ 1.5 s, RSS ≤ 300 MB.
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

/** Story sentences around a question (our own wording): what long messages look like. */
const STORY_BEFORE = [
  'Chào anh chị, em đang ở trọ gần khu công nghiệp, đi làm cả ngày nên ít khi về quê được.',
  'Dạ em chào trung tâm, hôm trước em có lên phường hỏi nhưng đông quá nên chưa hỏi được gì.',
  'Xin chào, nhà tôi ở xã bên cạnh, bố mẹ già yếu, hộ khẩu vẫn ở quê, tôi đi làm xa nhà đã lâu.',
  'Tôi đã đọc trên mạng mấy lần mà vẫn chưa hiểu rõ, người quen mỗi người nói một kiểu.',
];
const STORY_AFTER = ['Em cảm ơn ạ.', 'Mong anh chị hướng dẫn giúp, tôi cảm ơn nhiều.', 'Nếu cần mang thêm gì thì nhắn giúp em với ạ.', ''];

/** Long messages: each short question with one or two story sentences, 150–400 characters. */
function longMessages(): { conv: string; text: string }[] {
  return messages()
    .filter((m) => m.text.length >= 12)
    .map((m, i) => {
      const before = STORY_BEFORE[i % STORY_BEFORE.length] as string;
      const extra = i % 3 === 0 ? ` ${STORY_BEFORE[(i + 1) % STORY_BEFORE.length]}` : '';
      const text = `${before}${extra} ${m.text.replace(/[?.]*$/, '')}? ${STORY_AFTER[i % STORY_AFTER.length]}`.trim();
      return { conv: `${m.conv}-l`, text: text.slice(0, 400) };
    })
    .filter((m) => m.text.length >= 150);
}

/** Mean, p50 and p99 of handling each message once (after a warm-up), in ms. */
async function measure(handle: (m: { conv: string; text: string }, i: number) => Promise<unknown>, msgs: { conv: string; text: string }[], count: number) {
  for (let i = 0; i < 200; i++) await handle(msgs[i % msgs.length]!, -1 - i);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const m = msgs[i % msgs.length]!;
    const s = performance.now();
    await handle({ conv: `${m.conv}-${Math.floor(i / msgs.length)}`, text: m.text }, i);
    times.push(performance.now() - s);
  }
  times.sort((x, y) => x - y);
  return {
    mean: times.reduce((x, y) => x + y, 0) / times.length,
    p50: times[Math.floor(times.length * 0.5)] ?? 0,
    p99: times[Math.floor(times.length * 0.99)] ?? 0,
  };
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
  let seq = 0;
  const handle = (m: { conv: string; text: string }) =>
    a.engine.handle({ channel: 'cli', conversationId: m.conv, userId: 'b', messageId: `b${++seq}`, text: m.text, kind: 'text' });
  const short = await measure(handle, messages(), count);
  const long = await measure(handle, longMessages(), count);
  globalThis.gc?.();
  const v = a.holder.version;
  console.log(
    JSON.stringify({
      procedures: v.understander.size,
      readyMs: Math.round(readyMs),
      loadIndexMs: Math.round(loadMs),
      indexBuildMs: Math.round(v.understander.buildMs),
      meanMs: +short.mean.toFixed(3),
      p50Ms: +short.p50.toFixed(3),
      p99Ms: +short.p99.toFixed(3),
      longMeanMs: +long.mean.toFixed(3),
      longP50Ms: +long.p50.toFixed(3),
      longP99Ms: +long.p99.toFixed(3),
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
  console.log('base                  messages  procedures  start→ready  load+index  mean/msg  p50/msg  p99/msg   RSS');
  for (const [name, file] of scenarios) {
    const s = performance.now();
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'scripts', 'bench.ts'), '--child', ...(file ? ['--national', file] : []), '--messages', String(count)], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_START: String(Date.now()) },
    });
    const wall = performance.now() - s;
    const r = JSON.parse(out.trim().split('\n').pop() as string);
    void wall;
    const row = (kind: string, mean: number, p50: number, p99: number) =>
      console.log(
        `${name.padEnd(21)} ${kind.padEnd(8)}  ${String(r.procedures).padStart(10)}  ${`${r.readyMs} ms`.padStart(11)}  ${`${r.loadIndexMs} ms`.padStart(10)}  ${`${mean.toFixed(3)} ms`.padStart(8)}  ${`${p50.toFixed(3)} ms`.padStart(7)}  ${`${p99.toFixed(3)} ms`.padStart(8)}  ${`${r.rssMB} MB`.padStart(6)}`,
      );
    row('short', r.meanMs, r.p50Ms, r.p99Ms);
    row('long', r.longMeanMs, r.longP50Ms, r.longP99Ms);
  }
  if (!national) console.log('(national file not found: pass --national FILE to include it)');
  writeFileSync(join(tmpdir(), 'tthc-bench-done'), '');
}

if (process.argv.includes('--child')) {
  // Time from process start (node's own clock) to now, so imports count toward startup.
  process.env.BENCH_BOOT_MS = String(Math.round(performance.timeOrigin ? performance.now() : 0));
  await child(arg('--national'), Number(arg('--messages') ?? 3000));
} else parent();
