/**
 * Live reload through the real file watcher and the real assistant: a broken edit is
 * refused and the assistant keeps answering from the last good knowledge; the fixed
 * file is picked up and answered from at once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssistant, KnowledgeHolder } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { writeFileAtomic } from '../knowledge/staff-files.ts';
import { watchKnowledge, type KnowledgeWatcher } from '../knowledge/watch.ts';
import { tempKnowledge } from './helpers/staff.ts';

type ReloadEvent = { ok: boolean; files: string[]; errors: string[] };

/** Reload events as an async queue: each `next()` resolves with the next event. */
function eventQueue() {
  const events: ReloadEvent[] = [];
  const waiters: ((e: ReloadEvent) => void)[] = [];
  return {
    push(e: ReloadEvent) {
      const w = waiters.shift();
      if (w) w(e);
      else events.push(e);
    },
    next(): Promise<ReloadEvent> {
      const e = events.shift();
      return e ? Promise.resolve(e) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

const logs: { level: string; msg?: string; obj: object }[] = [];
const log = {
  info: (obj: object, msg?: string) => logs.push({ level: 'info', msg, obj }),
  warn: (obj: object, msg?: string) => logs.push({ level: 'warn', msg, obj }),
  error: (obj: object, msg?: string) => logs.push({ level: 'error', msg, obj }),
};

describe('live reload', () => {
  let kb: ReturnType<typeof tempKnowledge>;
  let watcher: KnowledgeWatcher;
  let ask: (text: string) => Promise<string>;
  const events = eventQueue();

  beforeAll(() => {
    kb = tempKnowledge();
    const holder = new KnowledgeHolder({ knowledgeDir: kb.knowledge, intentsDir: kb.intents }, log);
    const { engine } = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: kb.data }), { holder, memoryTickets: true });
    let seq = 0;
    ask = async (text) => {
      const turn = await engine.handle({ channel: 'web', conversationId: `c${++seq}`, userId: `u${seq}`, messageId: `m${seq}`, text, kind: 'text' });
      return turn.reply?.text ?? '';
    };
    watcher = watchKnowledge(holder, [kb.knowledge, kb.intents], log, {
      debounceMs: 100,
      onReload: (r) => events.push({ ok: r.ok, files: r.files, errors: r.issues.filter((i) => i.severity === 'error').map((i) => `${i.file}: ${i.message}`) }),
    });
  });
  afterAll(() => {
    watcher.close();
    kb.cleanup();
  });

  it('refuses a broken file, keeps serving the old answer, then serves the fixed file', async () => {
    const file = join(kb.knowledge, 'faq', 'faq.hotline.yaml');
    const original = readFileSync(file, 'utf8');
    const before = await ask('số hotline của trung tâm là gì');
    expect(before).toContain('Đường dây nóng');
    expect(before).not.toContain('Tổng đài mới 1900 0000');

    // Whole-file replacement (as editors and our tools save), so no reload sees half a file.
    writeFileAtomic(file, original.replace('answer: |-', 'answer: |-\n  Tổng đài mới 1900 0000.\n question: [lỗi thụt lề'));
    const refused = await events.next();
    expect(refused.ok).toBe(false);
    expect(refused.files.some((f) => f.endsWith('faq.hotline.yaml'))).toBe(true);
    expect(refused.errors.join('\n')).toMatch(/faq\.hotline\.yaml/);
    expect(logs.some((l) => l.level === 'error' && /refused/.test(l.msg ?? ''))).toBe(true);
    const during = await ask('số hotline của trung tâm là gì');
    expect(during).toBe(before);

    writeFileAtomic(file, original.replace('answer: |-\n', 'answer: |-\n  Tổng đài mới 1900 0000.\n'));
    const applied = await events.next();
    expect(applied.ok).toBe(true);
    expect(await ask('số hotline của trung tâm là gì')).toContain('Tổng đài mới 1900 0000');
  });

  it('reloads on intent example changes too, and ignores editor temporary files', async () => {
    writeFileSync(join(kb.intents, '.examples.yaml.swp'), 'garbage');
    const examples = join(kb.intents, 'examples.yaml');
    writeFileAtomic(examples, readFileSync(examples, 'utf8').replace('  greeting:\n', '  greeting:\n    - chào trung tâm hành chính\n'));
    const e = await events.next();
    expect(e.ok).toBe(true);
    expect(e.files.map((f) => f.split('/').pop())).toEqual(['examples.yaml']);
  });
});
