/**
 * Test helpers for the staff console: the assistant wired the way `bot/main.ts` wires it
 * (tickets with events, staff services, analytics fed from the engine and the ticket
 * events, the console area beside the chat on one Fastify app) over a throwaway copy of
 * the knowledge, and the browser steps every console test repeats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createAssistant, KnowledgeHolder, type AssistantParts } from '../../bot/assistant.ts';
import { loadConfig, type Config } from '../../bot/config.ts';
import type { DialogueEngine } from '../../bot/dialogue/engine.ts';
import { createTickets } from '../../bot/handoff/factory.ts';
import type { TicketEvents } from '../../bot/handoff/events.ts';
import type { TicketStore } from '../../bot/handoff/tickets.ts';
import { consoleArea } from '../../bot/http/console/index.ts';
import { startWebServer, type WebServer } from '../../bot/http/index.ts';
import { InProcessPipeline, type Pipeline } from '../../bot/pipeline.ts';
import { redisAssistantOverrides } from '../../bot/queue/index.ts';
import { instrumentAnalytics, recordTicketEvents } from '../../bot/staff/analytics.ts';
import { TeachGuard } from '../../bot/staff/guard.ts';
import { createStaffServices, type StaffServices } from '../../bot/staff/index.ts';
import { tempKnowledge } from './staff.ts';

/** Chromium and the flags every browser test launches it with. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A password long enough for the account rules. */
export const PASSWORD = 'mat-khau-rat-dai-2026';

export interface ConsoleRig {
  config: Config;
  kb: ReturnType<typeof tempKnowledge>;
  holder: KnowledgeHolder;
  parts: AssistantParts;
  pipeline: Pipeline;
  tickets: TicketStore;
  events: TicketEvents;
  staff: StaffServices;
  web: WebServer;
  close(): Promise<void>;
}

export interface ConsoleRigOptions {
  env?: Record<string, string>;
  /** Redis for tickets, events, state and console sessions (scale-out). */
  redis?: Redis;
  /** Another rig's knowledge and DATA_DIR (two processes of one deployment). */
  share?: Pick<ConsoleRig, 'kb' | 'config'>;
  /** The pipeline over the engine (default: in-process). */
  pipeline?: (engine: DialogueEngine, config: Config) => Pipeline;
  now?: () => number;
  /** Which proxies may state the client's address and protocol (TRUST_PROXY). */
  trustProxy?: boolean;
}

/** Starts the assistant, its staff services and the web server with the console on a free port. */
export async function startConsoleRig(opts: ConsoleRigOptions = {}): Promise<ConsoleRig> {
  const kb = opts.share?.kb ?? tempKnowledge();
  const dataDir = opts.share?.config.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'console-data-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    KNOWLEDGE_DIR: kb.knowledge,
    DOSSIER_SAMPLE_DATA: 'false',
    TICKETS_PER_CLIENT_PER_HOUR: '1000',
    KNOWLEDGE_WATCH: 'false',
    ...opts.env,
  });
  const redis = opts.redis;
  const source = { knowledgeDir: kb.knowledge, intentsDir: kb.intents };
  const holder = new KnowledgeHolder(source);
  const { tickets, events } = createTickets(config, { redis });
  const parts = createAssistant(config, { ...(redis ? redisAssistantOverrides(redis, config) : {}), holder, tickets });
  const pipeline = opts.pipeline ? opts.pipeline(parts.engine, config) : new InProcessPipeline(parts.engine);
  const staff = createStaffServices(config, {
    holder,
    source,
    engine: parts.engine,
    pipeline,
    tickets,
    events,
    dossiers: parts.dossiers,
    redis,
    // The golden table only: npm test never depends on ../shared.
    guard: new TeachGuard({ dev: null }),
    onKnowledgeSaved: () => void holder.reload(),
  });
  instrumentAnalytics(parts.engine, staff.analytics);
  const stopEvents = recordTicketEvents(events, staff.analytics);
  const web = await startWebServer({
    port: 0,
    host: '127.0.0.1',
    pipeline,
    holder,
    limits: { messagesPerMinute: 1000 },
    redis,
    trustProxy: opts.trustProxy,
    areas: [consoleArea({ staff, holder, config, redis, now: opts.now })],
  });
  return {
    config,
    kb,
    holder,
    parts,
    pipeline,
    tickets,
    events,
    staff,
    web,
    async close() {
      await web.close();
      await pipeline.close();
      stopEvents();
      await staff.close();
      await events.close();
      await tickets.close?.();
      await parts.dossiers.close?.();
      if (!opts.share) {
        kb.cleanup();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** A browser context at a desktop screen (1280×800) unless told otherwise. */
export async function staffContext(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport, locale: 'vi-VN' });
  ctx.setDefaultTimeout(15_000);
  return ctx;
}

/** Signs in through the form; resolves on the page the console opened after it. */
export async function signIn(page: Page, base: string, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/staff/login`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/staff/login')), page.locator('form[action="/staff/login"] button[type="submit"]').click()]);
}

/** A citizen on the chat page (a phone screen), ready to type. */
export async function citizenPage(browser: Browser, base: string): Promise<{ context: BrowserContext; page: Page; ask(text: string): Promise<void>; botSays(text: string): Promise<string> }> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'vi-VN' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await page.goto(base);
  await page.locator('html[data-ready="1"]').waitFor();
  const bot = page.locator('.msg.bot[data-seq]');
  // Bot messages already on the page when the citizen last typed: botSays waits for a
  // message after them, so an earlier reply with the same words (a ticket code from an
  // earlier hand-off) never stands in for the one being waited for.
  let seen = 0;
  return {
    context,
    page,
    async ask(text: string) {
      seen = await bot.count();
      await page.locator('#q').fill(text);
      await page.locator('#q').press('Enter');
    },
    /** Waits for a bot message after the last question that contains `text`; returns its text. */
    async botSays(text: string) {
      const handle = await page.waitForFunction(
        ([from, want]) => {
          const all = Array.from(document.querySelectorAll('.msg.bot[data-seq]')).slice(from as number);
          const hit = all.reverse().find((el) => (el as HTMLElement).innerText.includes(want as string));
          return hit ? (hit as HTMLElement).innerText : false;
        },
        [seen, text] as const,
      );
      return (await handle.jsonValue()) as string;
    },
  };
}
