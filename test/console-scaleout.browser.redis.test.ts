/**
 * The console scaled out on one Redis (issue 12's scale-out clause), in real Chromium:
 * process A serves citizens (the web chat page; BullMQ workers), process B serves the
 * staff console and owns no web page. A ticket opened in A, and one opened by a third
 * process's engine (a `npm run worker`), appear live in B's inbox (tickets and their
 * events in Redis); B's reply travels through the BullMQ send queue to A, which owns the
 * citizen's page; a session signed in on B is valid on A's console too (sessions in
 * Redis), where the officer releases the conversation.
 */
import { existsSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { createTickets } from '../bot/handoff/factory.ts';
import type { RedisTicketEvents } from '../bot/handoff/events.ts';
import type { Pipeline } from '../bot/pipeline.ts';
import { createBullPipeline, redisAssistantOverrides, type BullPipeline } from '../bot/queue/index.ts';
import { CHROMIUM, CHROMIUM_ARGS, citizenPage, PASSWORD, signIn, staffContext, startConsoleRig, type ConsoleRig } from './helpers/console.ts';
import { cleanupPrefix, connectRedis, randomPrefix } from './queue-helpers.ts';

const prefix = randomPrefix('console');
let redis: Redis;
let a: ConsoleRig;
let b: ConsoleRig;
let browser: Browser;
let agent: Page;
let worker: { close(): Promise<void>; say(text: string): Promise<unknown> };

/** A process that serves no web page: its web chat area does not take the web channel's sends. */
function withoutWebSends(p: BullPipeline): Pipeline {
  return new Proxy(p, {
    get(target, key) {
      if (key === 'registerSender') return (s: Parameters<BullPipeline['registerSender']>[0]) => (s.channel === 'web' ? undefined : target.registerSender(s));
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; the console tests need it. Install it with: apt-get install -y chromium`);
  redis = await connectRedis();
  const env = { QUEUE_PREFIX: prefix };
  a = await startConsoleRig({ redis, env, pipeline: (engine, config) => createBullPipeline(engine, config, { connection: redis }) });
  b = await startConsoleRig({ redis, env, share: a, pipeline: (engine, config) => withoutWebSends(createBullPipeline(engine, config, { connection: redis, inboundWorkers: false })) });
  await (b.events as RedisTicketEvents).start();
  await a.staff.accounts.add('lan', 'agent', PASSWORD, 'test');
  // A third process: an engine that opens tickets in Redis (as `npm run worker` does).
  const t = createTickets(a.config, { redis });
  const w = createAssistant(a.config, { ...redisAssistantOverrides(redis, a.config), holder: a.holder, tickets: t.tickets });
  let seq = 0;
  worker = {
    say: (text) => w.engine.handle({ channel: 'web', conversationId: 'web-fromworker01', userId: 'web-fromworker01', messageId: `w${++seq}`, text, kind: 'text' }),
    close: async () => void (await t.events.close()),
  };
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  agent = await (await staffContext(browser)).newPage();
  await signIn(agent, b.web.url, 'lan');
  await agent.locator('body[data-live="1"]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await worker?.close();
  await b?.close();
  await a?.close();
  if (redis) {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('console on two processes sharing Redis', () => {
  it("shows tickets from any process live, sends B's reply to A's citizen page, and keeps the session valid on A", async () => {
    const citizen = await citizenPage(browser, a.web.url);
    await citizen.ask('cho tôi gặp cán bộ');
    const id = /HT-\d{6}-\d{4}/.exec(await citizen.botSays('HT-'))?.[0] as string;
    await agent.locator(`#ticket-list a[data-ticket="${id}"]`).waitFor();

    const fromWorker = (await worker.say('tôi muốn gặp cán bộ')) as { ticket?: { id: string } };
    await agent.locator(`#ticket-list a[data-ticket="${fromWorker.ticket?.id}"]`).waitFor();

    await agent.locator(`#ticket-list a[data-ticket="${id}"]`).click();
    await agent.waitForURL(`**/staff/inbox/${id}`);
    await agent.locator('#reply-text').fill('Chào bạn, cán bộ Lan ở máy chủ B đây.');
    await Promise.all([agent.waitForURL(`**/staff/inbox/${id}`), agent.locator('form.reply button[type="submit"]').click()]);
    await agent.locator('.flash.ok', { hasText: 'Đã gửi tới người dân' }).waitFor();
    await citizen.botSays('cán bộ Lan ở máy chủ B đây.');

    // The same browser session on process A's console (cookies are per host, not per port).
    const onA = await agent.context().newPage();
    await onA.goto(`${a.web.url}/staff/inbox/${id}`);
    expect(new URL(onA.url()).pathname).toBe(`/staff/inbox/${id}`);
    await onA.locator('#conversation .m.staff', { hasText: 'máy chủ B' }).waitFor();
    await Promise.all([onA.waitForURL('**/staff/inbox'), onA.locator('button', { hasText: 'Trả lại cho trợ lý' }).click()]);
    await citizen.botSays(a.holder.version.knowledge.replies.handoffReleased.slice(0, 30));
    // B's open inbox drops the ticket A released, by itself.
    await expect.poll(() => agent.locator(`#ticket-list a[data-ticket="${id}"]`).count(), { timeout: 10_000 }).toBe(0);
    expect(await agent.locator('#ticket-head').innerText()).toContain('Đã trả lại cho trợ lý');
    expect(await agent.locator(`#ticket-list a[data-ticket="${fromWorker.ticket?.id}"]`).count()).toBe(1);
    await citizen.ask('đăng ký khai sinh cần giấy tờ gì');
    await citizen.botSays('Hồ sơ cần chuẩn bị');
    await citizen.context.close();
  });
});
