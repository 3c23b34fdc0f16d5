/**
 * The golden tables: citizen messages in our own wording, one test each, run through
 * the same engine as every channel. They grow with every bug found (README: "Golden table").
 * `golden.jsonl` runs on the bundled knowledge; `golden-national.jsonl` adds the national
 * records of `fixtures/national/` (our own wording, portal shape): variants, stories and
 * the long tail. The shared development sets are scored by CI (`score.py`), not here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnowledgeHolder } from '../bot/assistant.ts';
import { testAssistant } from './helpers/assistant.ts';

interface Case {
  conv: string;
  text: string;
  intents: string[];
  procedure?: string[];
  faq?: string;
  dossierCode?: string;
}

function load(path: string): Case[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Case);
}

function runTable(name: string, cases: Case[], holder?: KnowledgeHolder) {
  describe(name, () => {
    // One assistant per table: cases of the same conversation run in order and share state.
    const a = testAssistant({ env: { DOSSIER_LOOKUPS_PER_HOUR: '1000' }, holder });
    cases.forEach((c, i) => {
      it(`${i + 1}. ${c.text}`, async () => {
        const t = await a.say(c.conv, c.text);
        expect(c.intents).toContain(t.intent);
        if (c.procedure) expect(c.procedure).toContain(t.procedure);
        if (c.faq) expect(t.faq).toBe(c.faq);
        if (c.dossierCode) expect((t.dossierCode ?? '').toUpperCase()).toBe(c.dossierCode.toUpperCase());
        if (c.intents.includes('out_of_scope')) expect(t.procedure).toBeNull();
        expect(t.reply?.text.length ?? 0).toBeGreaterThan(0);
      });
    });
  });
}

runTable('golden table', load(join(import.meta.dirname, 'golden.jsonl')));
runTable(
  'golden table with national records',
  load(join(import.meta.dirname, 'golden-national.jsonl')),
  new KnowledgeHolder({ nationalFile: join(import.meta.dirname, 'fixtures', 'national', 'sample.jsonl') }),
);
