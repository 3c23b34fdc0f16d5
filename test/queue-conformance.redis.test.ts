/**
 * The one conformance suite every `Pipeline` passes: the in-process default and the
 * BullMQ pipeline on a real Redis (random prefix, cleaned up).
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentSendError, InProcessPipeline, type Pipeline } from '../bot/pipeline.ts';
import { BullPipeline } from '../bot/queue/bull-pipeline.ts';
import { cleanupPrefix, connectRedis, EchoEngine, message, randomPrefix, RecordingSender, tally } from './queue-helpers.ts';

interface Harness {
  /** A pipeline over shared storage (a second call = another process, or a restart). */
  open(engine: EchoEngine): Pipeline;
  /** Closes every pipeline opened so far (after each test, even a failed one). */
  closeAll(): Promise<void>;
  dispose(): Promise<void>;
}

interface Impl {
  name: string;
  setup(): Promise<Harness>;
}

const inProcess: Impl = {
  name: 'in-process',
  async setup() {
    const opened: Pipeline[] = [];
    return {
      open: (engine) => {
        const p = new InProcessPipeline(engine, undefined, { maxSeen: 50_000, sendAttempts: 4, backoffMs: 10 });
        opened.push(p);
        return p;
      },
      closeAll: async () => {
        await Promise.all(opened.splice(0).map((p) => p.close()));
      },
      dispose: async () => undefined,
    };
  },
};

const bullmq: Impl = {
  name: 'bullmq',
  async setup() {
    const redis: Redis = await connectRedis();
    // A fresh prefix per test, so a failed test leaves nothing for the next one.
    const prefixes = [randomPrefix('conf')];
    const opened: Pipeline[] = [];
    return {
      open: (engine) => {
        const p = new BullPipeline(engine, { connection: redis, prefix: prefixes[0] as string, lockMs: 2000, sweepIntervalMs: 300, sendBackoffMs: 20, inboundConcurrency: 16 });
        opened.push(p);
        return p;
      },
      closeAll: async () => {
        await Promise.all(opened.splice(0).map((p) => p.close()));
        prefixes.unshift(randomPrefix('conf'));
      },
      dispose: async () => {
        for (const prefix of prefixes) await cleanupPrefix(redis, prefix);
        redis.disconnect();
      },
    };
  },
};

describe.each([inProcess, bullmq])('Pipeline conformance: $name', (impl) => {
  let h: Harness;
  beforeAll(async () => {
    h = await impl.setup();
  });
  afterEach(async () => {
    await h?.closeAll();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('handles each conversation in order, one message at a time, conversations concurrently', async () => {
    const engine = new EchoEngine(3);
    const sender = new RecordingSender('web');
    const p = h.open(engine);
    p.registerSender(sender);
    const convs = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    const perConv = 8;
    await Promise.all(
      convs.map(async (c) => {
        for (let i = 0; i < perConv; i++) await p.submit(message('web', c, `${c}-m${i}`, `${c}#${i}`));
      }),
    );
    await sender.waitFor(convs.length * perConv);
    for (const c of convs) {
      expect(engine.handled.get(`web:${c}`)).toEqual(Array.from({ length: perConv }, (_, i) => `${c}#${i}`));
      expect(sender.texts(c).sort()).toEqual(Array.from({ length: perConv }, (_, i) => `echo:${c}#${i}`).sort());
    }
    expect(engine.maxPerConversation).toBe(1);
    expect(engine.maxInFlight).toBeGreaterThan(1);
    await p.close();
  });

  it('answers a message delivered twice only once', async () => {
    const engine = new EchoEngine(0);
    const sender = new RecordingSender('web');
    const p = h.open(engine);
    p.registerSender(sender);
    const m = message('web', 'dup', 'dup-1', 'hello');
    await Promise.all([p.submit(m), p.submit({ ...m })]);
    await p.submit({ ...m });
    // A later message of the same conversation: once it is answered, any duplicate
    // handling of the earlier one would have happened already.
    await p.submit(message('web', 'dup', 'dup-2', 'after'));
    await sender.waitFor(2);
    expect(tally(sender.texts('dup'))).toEqual(new Map([['echo:hello', 1], ['echo:after', 1]]));
    expect(engine.calls.filter((id) => id === 'dup-1')).toHaveLength(1);
    // Redelivered after it was answered: still dropped.
    await p.submit({ ...m });
    await p.submit(message('web', 'dup', 'dup-3', 'last'));
    await sender.waitFor(3);
    expect(sender.texts('dup')).toHaveLength(3);
    expect(engine.calls.filter((id) => id === 'dup-1')).toHaveLength(1);
    await p.close();
  });

  it('push delivers a message that did not come from the citizen', async () => {
    const engine = new EchoEngine(0);
    const sender = new RecordingSender('web');
    const p = h.open(engine);
    p.registerSender(sender);
    await p.push('web', 'staff-conv', { text: 'Cán bộ đã trả lời', options: [], links: [] });
    await sender.waitFor(1);
    expect(sender.sent[0]).toMatchObject({ conversationId: 'staff-conv', text: 'Cán bộ đã trả lời' });
    expect(engine.calls).toHaveLength(0);
    await p.close();
  });

  it('does not retry a permanent send error, retries a transient one', async () => {
    const engine = new EchoEngine(0);
    const sender = new RecordingSender('web');
    sender.policy = (conv, _reply, attempt) => {
      if (conv === 'blocked') throw new PermanentSendError('bot was blocked by the user');
      if (conv === 'flaky' && attempt <= 2) throw new Error('network down');
    };
    const p = h.open(engine);
    p.registerSender(sender);
    await p.submit(message('web', 'blocked', 'b-1', 'x'));
    await p.submit(message('web', 'flaky', 'f-1', 'y'));
    await sender.waitFor(1);
    expect(sender.texts()).toEqual(['echo:y']);
    expect(sender.attempts.get('flaky|echo:y')).toBe(3);
    // Two backoff rounds have passed for the flaky send; the blocked one had one attempt.
    expect(sender.attempts.get('blocked|echo:x')).toBe(1);
    await p.close();
  });

  it('close finishes what is in flight and loses nothing', async () => {
    const engine = new EchoEngine(6);
    const first = new RecordingSender('web');
    const p = h.open(engine);
    p.registerSender(first);
    const total = 40;
    for (let i = 0; i < total; i++) await p.submit(message('web', `close-${i % 4}`, `close-m${i}`, `c${i}`));
    await first.waitFor(1);
    await p.close();
    expect(engine.inFlight).toBe(0);
    await expect(p.submit(message('web', 'close-0', 'close-late', 'late'))).rejects.toThrow(/closed/);
    const sentByFirst = first.sent.length;
    // Whatever the first instance handed back, the next one (restart) finishes.
    const second = new RecordingSender('web');
    const p2 = h.open(engine);
    p2.registerSender(second);
    await second.waitFor(total - sentByFirst);
    const all = [...first.texts(), ...second.texts()];
    expect(first.sent.length).toBe(sentByFirst);
    expect(new Set(all).size).toBe(total);
    expect(all).toHaveLength(total);
    for (let c = 0; c < 4; c++) {
      const handled = engine.handled.get(`web:close-${c}`) ?? [];
      expect(handled).toEqual(Array.from({ length: total / 4 }, (_, k) => `c${k * 4 + c}`));
    }
    await p2.close();
  });
});
