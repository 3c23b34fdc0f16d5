/** Developer aid: prints how each message is understood, step by step. `npx tsx scripts/debug-understand.ts "text" …` */
import { buildKnowledgeVersion } from '../bot/assistant.ts';

const v = buildKnowledgeVersion();
for (const text of process.argv.slice(2)) {
  const n = v.understander.normalize(text);
  const u = v.understander.understand(text, {});
  console.log(JSON.stringify({ text, tokens: n.tokens, u: { intent: u.intent, procedure: u.procedure, faq: u.faq, confidence: u.confidence, alternatives: u.alternatives, clarify: u.clarify } }));
  console.log('  debug:', JSON.stringify(v.understander.explain(text)));
}
