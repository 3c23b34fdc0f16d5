/**
 * The ask contract (DESIGN.md): scripting and evaluation entry point.
 *
 *   npm run --silent ask -- --jsonl [--national FILE] < cases.jsonl
 *     reads {"conv","text"} lines, writes exactly one JSON line per input line, in order:
 *     {intent, procedure, faq, dossierCode, confidence, reply, options, alternatives}
 *   npm run --silent ask -- [--national FILE] "câu hỏi"
 *     answers one message for a person.
 *
 * Lines with the same `conv` are one conversation; a conversation id stands for a user.
 */
import { createInterface } from 'node:readline';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { plainText, type IncomingMessage } from '../bot/dialogue/types.ts';

function parseArgs(argv: string[]): { jsonl: boolean; national?: string; text: string[] } {
  const out: { jsonl: boolean; national?: string; text: string[] } = { jsonl: false, text: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--jsonl') out.jsonl = true;
    else if (a === '--national') out.national = argv[++i];
    else out.text.push(a);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  if (args.national) config.NATIONAL_FILE = args.national;
  const { engine } = createAssistant(config, { memoryTickets: true });
  let seq = 0;
  const ask = async (conv: string, text: string) => {
    const msg: IncomingMessage = { channel: 'cli', conversationId: conv, userId: conv, messageId: `ask-${++seq}`, text, kind: 'text' };
    return engine.handle(msg);
  };

  if (!args.jsonl) {
    const text = args.text.join(' ');
    const turn = await ask('cli', text);
    console.log(turn.reply ? plainText(turn.reply) : '(trợ lý đang chờ cán bộ trả lời)');
    console.error(JSON.stringify({ intent: turn.intent, procedure: turn.procedure, faq: turn.faq, dossierCode: turn.dossierCode, confidence: turn.confidence }));
    return;
  }

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let out: Record<string, unknown>;
    try {
      const input = JSON.parse(line) as { conv?: unknown; text?: unknown };
      const conv = typeof input.conv === 'string' || typeof input.conv === 'number' ? String(input.conv) : 'default';
      const text = typeof input.text === 'string' ? input.text : '';
      const t = await ask(conv, text);
      out = {
        intent: t.intent,
        procedure: t.procedure,
        faq: t.faq,
        dossierCode: t.dossierCode,
        confidence: t.confidence,
        reply: t.reply ? plainText(t.reply) : '',
        options: t.reply?.options.map((o) => o.label) ?? [],
        alternatives: t.alternatives,
      };
    } catch (err) {
      out = { intent: 'out_of_scope', procedure: null, faq: null, dossierCode: null, confidence: 0, reply: '', error: `bad input line: ${(err as Error).message}` };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

await main();
