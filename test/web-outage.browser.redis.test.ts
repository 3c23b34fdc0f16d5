/**
 * A long Redis outage seen from the chat page, in real Chromium with the real BullMQ
 * pipeline: the page says "đang bận, sẽ trả lời sau" instead of staying silent, the
 * message is held (not lost, and not logged as refused), and the answer appears on the
 * open page once Redis is back. Redis here is a throwaway `redis-server` this test starts,
 * kills and restarts on the same port (the shared one is never touched).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, KnowledgeHolder } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { startWebServer, type WebServer } from '../bot/http/index.ts';
import { createBullPipeline, createRedis, type BullPipeline } from '../bot/queue/index.ts';
import { answers } from './global-setup.ts';
import { freePort } from './helpers/net.ts';
import { randomPrefix, until } from './queue-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let port = 0;
let dir = '';
let server: ChildProcess | undefined;
let redis: Redis;
let pipeline: BullPipeline;
let web: WebServer;
let browser: Browser;
let page: Page;
const logs: { level: string; msg: string }[] = [];
const log = {
  info: (_o: unknown, msg: string) => void logs.push({ level: 'info', msg }),
  warn: (_o: unknown, msg: string) => void logs.push({ level: 'warn', msg }),
  error: (o: unknown, msg: string) => void logs.push({ level: 'error', msg: `${msg} ${JSON.stringify(o, (_k, v: unknown) => (v instanceof Error ? v.message : v))}` }),
};

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until(() => answers(port), 'the throwaway redis-server to answer', 10_000, 50);
}

async function stopRedis(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.once('exit', () => r()));
  s.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; install it with: apt-get install -y chromium`);
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('this test starts its own redis-server; install it with: apt-get install -y redis-server');
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'tthc-outage-redis-'));
  await startRedis();
  const config = loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory', REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: randomPrefix('outage'), QUEUE_SUBMIT_TIMEOUT_MS: '2000' });
  redis = createRedis(config.REDIS_URL as string, { name: 'outage-test' });
  const parts = createAssistant(config, { holder: new KnowledgeHolder({}), memoryTickets: true });
  pipeline = createBullPipeline(parts.engine, config, { connection: redis, log });
  web = await startWebServer({ port: 0, host: '127.0.0.1', pipeline, holder: parts.holder, log, limits: { messagesPerMinute: 1000, queueWaitMs: 1000 } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  await page.goto(web.url);
  await page.locator('html[data-ready="1"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  if (!server && port) await startRedis(); // closing the pipeline needs its Redis
  await pipeline?.close().catch(() => undefined);
  redis?.disconnect();
  await stopRedis();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ask(text: string): Promise<void> {
  await page.locator('#q').fill(text);
  await page.locator('#q').press('Enter');
}

describe('the chat page during a Redis outage', () => {
  it('answers normally while Redis is up', async () => {
    await ask('xin chào');
    await page.locator('.msg.bot[data-seq]').first().waitFor();
  });

  it('shows the busy note while Redis is away, then the answer when it is back', async () => {
    const delayed = (await import('../knowledge/load.ts')).loadKnowledge((await import('../knowledge/load.ts')).DEFAULT_KNOWLEDGE_DIR).knowledge?.replies.webDelayed as string;
    expect(delayed).toContain('đang bận, sẽ trả lời sau');
    await stopRedis();
    await until(() => redis.status !== 'ready', 'the connection to notice the outage', 10_000);
    const answer = page.locator('.msg.bot[data-seq]', { hasText: 'Phí, lệ phí — Cấp hộ chiếu' });
    expect(await answer.count()).toBe(0);
    await ask('lệ phí làm hộ chiếu bao nhiêu');
    await page.locator('.msg.note', { hasText: delayed }).waitFor();
    expect(await answer.count()).toBe(0);
    // Longer than the queue's submit timeout: the message must be held, not refused.
    await until(() => logs.some((l) => l.msg.startsWith('web message delayed')), 'the delay to be logged', 10_000);
    await startRedis();
    await answer.first().waitFor({ timeout: 30_000 });
    expect(await answer.count()).toBe(1);
    expect(logs.filter((l) => /not accepted|not queued/.test(l.msg))).toEqual([]);
  });
});
