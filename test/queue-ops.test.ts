/**
 * Operator-facing pieces that need no Redis: log redaction, metrics, health, graceful
 * shutdown, send-limit configuration and error classification.
 */
import { createServer, request, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../bot/config.ts';
import { HealthMonitor, healthHandler } from '../bot/health.ts';
import { createLogger } from '../bot/log.ts';
import { instrumentEngine, instrumentSender, Metrics, metricsHandler } from '../bot/metrics.ts';
import { PermanentSendError } from '../bot/pipeline.ts';
import type { QueueStats } from '../bot/queue/admin.ts';
import { isPermanentSendError, retryAfterMs, SendRateLimitedError } from '../bot/queue/errors.ts';
import { channelLimitsFromConfig, nextVietnamMidnight, vietnamDay } from '../bot/queue/limits.ts';
import { jobIdPart } from '../bot/queue/redis.ts';
import { installShutdown } from '../bot/queue/shutdown.ts';
import { EchoEngine, message, RecordingSender } from './queue-helpers.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function get(server: Server, path: string): Promise<{ status: number; type: string; body: string }> {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    })
      .on('error', reject)
      .end();
  });
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('logger', () => {
  it('writes JSON with level names and masks personal data wherever it is logged', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'info', name: 'test' }, stream);
    log.info({ conversation: 'c-1', userId: '1234567890', phone: '0912345678', nested: { cccd: '001099012345', text: 'số em là 0987654321 ạ' }, deeper: { a: { idNumber: '012345678901' } } }, 'hello');
    log.debug({ userId: 'x' }, 'hidden below the level');
    const [line] = lines();
    expect(lines()).toHaveLength(1);
    expect(line).toMatchObject({ level: 'info', name: 'test', msg: 'hello', conversation: 'c-1', userId: '12***90', phone: '091****678' });
    const raw = JSON.stringify(line);
    for (const secret of ['1234567890', '0912345678', '001099012345', '0987654321', '012345678901']) expect(raw).not.toContain(secret);
    expect((line?.nested as { cccd: string }).cccd).toBe('*********345');
  });
});

describe('metrics', () => {
  it('counts messages, hand-offs, understanding time, sends and failures', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const engine = instrumentEngine(new EchoEngine(0), metrics);
    engine.failOn.add('boom');
    await engine.handle(message('telegram', 'c', 'm1', 'hi'));
    await engine.handle(message('zalo', 'c', 'm2', 'hi'));
    await expect(engine.handle(message('zalo', 'c', 'm3', 'boom'))).rejects.toThrow();
    const sender = new RecordingSender('telegram');
    sender.policy = (conv) => {
      if (conv === 'blocked') throw new PermanentSendError('blocked');
      if (conv === 'flaky') throw new Error('timeout');
    };
    const wrapped = instrumentSender(sender, metrics);
    await wrapped.send('ok', { text: 'a', options: [], links: [] });
    await expect(wrapped.send('blocked', { text: 'b', options: [], links: [] })).rejects.toThrow();
    await expect(wrapped.send('flaky', { text: 'c', options: [], links: [] })).rejects.toThrow();
    metrics.duplicate('zalo');
    metrics.sendOutcome('telegram', 'resent');
    metrics.sendOutcome('zalo', 'budget');
    const stats: QueueStats = {
      inbound: { messages: 7, conversations: 3, oldestAgeMs: 4500, deadLetters: 1, wakeJobs: 2, active: 1, failed: 0 },
      outbound: { telegram: { waiting: 2, active: 1, delayed: 3, failed: 4, oldestAgeMs: 2000 } },
    };
    metrics.watchQueues(async () => stats);
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/text\/plain/);
    expect(body).toContain('tthc_messages_in_total{channel="telegram"} 1');
    expect(body).toContain('tthc_messages_in_total{channel="zalo"} 1');
    expect(body).toContain('tthc_failures_total{stage="handle",channel="zalo"} 1');
    expect(body).toContain('tthc_understanding_seconds_count{channel="zalo"} 2');
    expect(body).toContain('tthc_messages_out_total{channel="telegram"} 1');
    expect(body).toContain('tthc_failures_total{stage="send_permanent",channel="telegram"} 1');
    expect(body).toContain('tthc_failures_total{stage="send",channel="telegram"} 1');
    expect(body).toContain('tthc_failures_total{stage="send_resent",channel="telegram"} 1');
    expect(body).toContain('tthc_duplicate_messages_total{channel="zalo"} 1');
    expect(body).toContain('tthc_sends_deferred_total{channel="zalo",reason="budget"} 1');
    expect(body).toContain('tthc_queue_depth{queue="inbound"} 7');
    expect(body).toContain('tthc_queue_depth{queue="out-telegram"} 6');
    expect(body).toContain('tthc_queue_depth{queue="inbound-dead-letters"} 1');
    expect(body).toContain('tthc_queue_oldest_age_seconds{queue="inbound"} 4.5');
  });

  it('counts hand-off tickets', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const engine = new EchoEngine(0);
    const handle = engine.handle.bind(engine);
    engine.handle = async (msg) => ({ ...(await handle(msg)), ticket: { id: 'HT-1', kind: 'handoff', status: 'open', channel: msg.channel, conversationId: msg.conversationId, citizen: '', reason: '', excerpt: [], messages: [], createdAt: 0, updatedAt: 0 } });
    instrumentEngine(engine, metrics);
    await engine.handle(message('web', 'c', 'm', 'gặp cán bộ'));
    expect((await metrics.render()).body).toContain('tthc_handoffs_total{channel="web",kind="handoff"} 1');
  });

  it('serves GET /metrics, and a stuck queue source does not hang it', async () => {
    const metrics = new Metrics();
    metrics.watchQueues(() => new Promise<QueueStats>(() => undefined));
    const server = await serve(metricsHandler(metrics));
    try {
      const r = await get(server, '/metrics');
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/text\/plain/);
      expect(r.body).toContain('tthc_process_cpu_seconds_total');
      expect(r.body).not.toContain('tthc_queue_depth{');
    } finally {
      server.close();
    }
  });
});

describe('health', () => {
  it('is ok in-process, degraded when a listener or the backlog needs a look, down without Redis', async () => {
    const h = new HealthMonitor();
    expect(await h.check()).toMatchObject({ ok: true, status: 'ok', redis: { configured: false }, problems: [] });
    h.setListener('zalo', { ok: false, detail: 'reconnecting' });
    h.setListener('telegram', { ok: true, detail: 'polling' });
    expect(await h.check()).toMatchObject({ ok: false, status: 'degraded', problems: ['zalo: reconnecting'], listeners: { telegram: { ok: true } } });

    const stats: QueueStats = { inbound: { messages: 3, conversations: 1, oldestAgeMs: 300_000, deadLetters: 0, wakeJobs: 0, active: 0, failed: 0 }, outbound: {} };
    const backlog = new HealthMonitor({ queueStats: async () => stats, maxBacklogAgeMs: 60_000 });
    const r = await backlog.check();
    expect(r.status).toBe('degraded');
    expect(r.problems[0]).toMatch(/oldest message waits 300 s/);

    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    dead.on('error', () => undefined);
    const down = new HealthMonitor({ redis: dead, queueStats: async () => stats });
    const server = await serve(healthHandler(down));
    try {
      const res = await get(server, '/healthz');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'down', redis: { configured: true, ok: false } });
    } finally {
      server.close();
      dead.disconnect();
    }
  });
});

describe('graceful shutdown', () => {
  it('runs the steps in order once, then exits 0', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const s = installShutdown(
      [
        { name: 'listeners', close: async () => void order.push('listeners') },
        { name: 'pipeline', close: async () => void order.push('pipeline') },
        { name: 'redis', close: () => void order.push('redis') },
      ],
      { signals: [], exit: (c) => codes.push(c) },
    );
    await Promise.all([s.run('test'), s.run('again')]);
    expect(order).toEqual(['listeners', 'pipeline', 'redis']);
    expect(codes).toEqual([0]);
  });

  it('exits 1 when a step fails (after running the rest) or when time runs out', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const failing = installShutdown(
      [
        {
          name: 'pipeline',
          close: () => {
            throw new Error('no');
          },
        },
        { name: 'redis', close: () => void order.push('redis') },
      ],
      { signals: [], exit: (c) => codes.push(c) },
    );
    await failing.run('test');
    expect(order).toEqual(['redis']);
    const stuck = installShutdown([{ name: 'pipeline', close: () => new Promise(() => undefined) }], { signals: [], exit: (c) => codes.push(c), timeoutMs: 20 });
    await stuck.run('test');
    expect(codes).toEqual([1, 1]);
  });

  it('handles SIGTERM', async () => {
    const codes: number[] = [];
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    const s = installShutdown([{ name: 'pipeline', close: () => closed() }], { signals: ['SIGUSR2'], exit: (c) => codes.push(c) });
    try {
      process.kill(process.pid, 'SIGUSR2');
      await done;
      await s.run('wait for the same run');
      expect(codes).toEqual([0]);
    } finally {
      s.uninstall();
    }
  });
});

describe('send limits and errors', () => {
  it('builds channel limits from the environment', () => {
    const l = channelLimitsFromConfig(loadConfig({ SEND_TELEGRAM_PER_SECOND: '20', SEND_TELEGRAM_CHAT_INTERVAL_MS: '1100' }));
    expect(l.telegram).toMatchObject({ accountIntervalMs: 50, chatIntervalMs: 1100, groupIntervalMs: 3000 });
    // Zalo is throttled inside its sender, not by the queue.
    expect(l.zalo).toMatchObject({ accountIntervalMs: 0, chatIntervalMs: 0, dailyBudget: 0 });
    expect(l.web.accountIntervalMs).toBe(0);
  });

  it('counts the daily budget by the Vietnam calendar day', () => {
    const t = Date.UTC(2026, 10, 26, 16, 59, 0); // 23:59 in Vietnam
    expect(vietnamDay(t)).toBe('2026-11-26');
    expect(vietnamDay(t + 60_000)).toBe('2026-11-27');
    expect(nextVietnamMidnight(t)).toBe(Date.UTC(2026, 10, 26, 17, 0, 0));
  });

  it('classifies sender errors', () => {
    expect(isPermanentSendError(new PermanentSendError('blocked'))).toBe(true);
    expect(isPermanentSendError(new Error('timeout'))).toBe(false);
    expect(retryAfterMs(new SendRateLimitedError('slow', 1500))).toBe(1500);
    expect(retryAfterMs({ error_code: 429, parameters: { retry_after: 3 } })).toBe(3000);
    expect(retryAfterMs({ error_code: 400, parameters: {} })).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });

  it('makes ids safe for BullMQ job ids without collisions', () => {
    expect(jobIdPart('123')).toBe('123');
    expect(jobIdPart('a:b')).toBe('a%3Ab');
    expect(jobIdPart('a%3Ab')).toBe('a%253Ab');
  });
});
