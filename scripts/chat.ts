/**
 * Terminal chat for people: `npm run chat [-- --national FILE]`.
 * Same engine and configuration as the running assistant; options are numbered, type
 * the number to choose. Ctrl+D or "/thoat" to leave.
 */
import { createInterface } from 'node:readline/promises';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { plainText } from '../bot/dialogue/types.ts';

const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
const i = process.argv.indexOf('--national');
if (i >= 0 && process.argv[i + 1]) config.NATIONAL_FILE = process.argv[i + 1];
const { engine } = createAssistant(config, { memoryTickets: true });
const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
console.log('Trợ lý thủ tục hành chính — gõ câu hỏi (Ctrl+D hoặc /thoat để thoát).');
let seq = 0;
for (;;) {
  let line: string;
  try {
    line = await rl.question('\nBạn: ');
  } catch {
    break;
  }
  if (line.trim() === '/thoat') break;
  const turn = await engine.handle({ channel: 'cli', conversationId: 'terminal', userId: 'terminal', messageId: `t${++seq}`, text: line, kind: 'text' });
  console.log(`\nTrợ lý: ${turn.reply ? plainText(turn.reply) : '(đã chuyển cán bộ, trợ lý tạm dừng trả lời)'}`);
  if (process.env.CHAT_DEBUG) console.log(`  [${turn.intent} ${turn.procedure ?? turn.faq ?? ''} ${turn.confidence}]`);
}
rl.close();
