/** Test helper: an assistant core with in-memory everything and an optional fixed clock. */
import { createAssistant, KnowledgeHolder } from '../../bot/assistant.ts';
import { loadConfig } from '../../bot/config.ts';
import type { DialogueConfig, ReviewSink } from '../../bot/dialogue/engine.ts';
import type { IncomingMessage } from '../../bot/dialogue/types.ts';
import { MemoryTicketStore } from '../../bot/handoff/tickets.ts';

let shared: KnowledgeHolder | undefined;

/** The bundled knowledge, loaded once per test file. */
export function knowledgeHolder(): KnowledgeHolder {
  shared ??= new KnowledgeHolder({});
  return shared;
}

export function testAssistant(opts: { now?: () => number; config?: Partial<DialogueConfig>; env?: Record<string, string>; review?: ReviewSink; holder?: KnowledgeHolder } = {}) {
  const config = loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory', ...opts.env });
  const tickets = new MemoryTicketStore(opts.now);
  const parts = createAssistant(config, { holder: opts.holder ?? knowledgeHolder(), tickets, now: opts.now, config: opts.config, review: opts.review });
  let seq = 0;
  const say = (conversationId: string, text: string, extra: Partial<IncomingMessage> = {}) =>
    parts.engine.handle({ channel: 'web', conversationId, userId: `u-${conversationId}`, messageId: `m${++seq}`, text, kind: 'text', ...extra });
  return { ...parts, tickets, say };
}

/** A Monday 10:00 in Vietnam (inside working hours) and a Sunday 22:00 (outside). */
export const OPEN_TIME = Date.parse('2026-11-23T10:00:00+07:00');
export const CLOSED_TIME = Date.parse('2026-11-22T22:00:00+07:00');
