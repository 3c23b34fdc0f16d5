/**
 * Property tests: any string (any Unicode, broken surrogates, up to 10,000 chars) gets a
 * reply from the engine without throwing. Latency is measured by `npm run bench`, not here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { knowledgeHolder, testAssistant } from './helpers/assistant.ts';

const anyText = fc.oneof(
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.string({ maxLength: 10_000, unit: 'grapheme' }),
  fc.string({ maxLength: 2_000, unit: fc.constantFrom(...'đăngkýkhaisinhcccdhộchiếu 0123456789.-?!🙂\u0301\u0300\ud800'.split('')) }),
);

describe('any input', () => {
  it('understanding never throws and always decides', () => {
    const u = knowledgeHolder().version.understander;
    fc.assert(
      fc.property(anyText, (text) => {
        const r = u.understand(text, { lastProcedure: 'ho-tich.khai-sinh', lastAspect: 'procedure.fee' });
        expect(typeof r.intent).toBe('string');
        expect(r.confidence).toBeGreaterThanOrEqual(0);
        expect(r.confidence).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('the dialogue always replies with non-empty text', async () => {
    const a = testAssistant({ config: { failuresBeforeHandoff: 1_000 } });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        const t = await a.say(`fuzz-${n++ % 7}`, text);
        expect(t.reply).not.toBeNull();
        expect(t.reply!.text.trim().length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });
});
