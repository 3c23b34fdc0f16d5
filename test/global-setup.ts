/**
 * Vitest global setup: make sure the Redis tests have a real Redis.
 *
 * REDIS_URL if set; else 127.0.0.1:6379 if it answers; else, when the `redis-server`
 * binary is installed, a throwaway server on a free port (no persistence, removed after
 * the run) whose URL is handed to every test worker. With none of these the Redis tests
 * fail with instructions (test/queue-helpers.ts) — they are never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/net.ts';

function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.setTimeout(500);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      s.destroy();
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      resolve(false);
      s.destroy();
    });
  });
}

let child: ChildProcess | undefined;
let dir: string | undefined;

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  const defaultUrl = new URL(process.env.TTHC_TEST_REDIS_DEFAULT ?? 'redis://127.0.0.1:6379');
  if (await answers(Number(defaultUrl.port || 6379), defaultUrl.hostname)) return;
  if (spawnSync('redis-server', ['--version']).status !== 0) return; // the Redis tests will fail with instructions
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'tthc-test-redis-'));
  child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 50));
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  console.log(`[tests] no Redis at ${defaultUrl.host}: started a throwaway redis-server on port ${port}`);
}

export async function teardown(): Promise<void> {
  child?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
