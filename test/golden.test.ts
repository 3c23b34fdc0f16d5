/**
 * The golden table: citizen messages in our own wording, one test each, run through
 * the same engine as every channel. It grows with every bug found (README: "Golden table").
 * The shared development set runs too when ../shared is present (CI has it; a user's
 * clone does not, and the test says so instead of failing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

function runTable(name: string, cases: Case[]) {
  describe(name, () => {
    // One assistant per table: cases of the same conversation run in order and share state.
    const a = testAssistant({ env: { DOSSIER_LOOKUPS_PER_HOUR: '1000' } });
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

const dev = join(import.meta.dirname, '..', '..', 'shared', 'eval', 'dev.jsonl');
if (existsSync(dev)) runTable('shared development set', load(dev));
else it.skip('shared development set (../shared/eval/dev.jsonl is not present in this clone)', () => {});
