/**
 * Staff command for the knowledge base: `npm run kb -- <command>`.
 *
 *   validate [--dir DIR] [--max-age DAYS]   check every file; exit 1 on error
 *
 * Other staff commands (import, spreadsheets, review) register themselves in
 * `COMMANDS` below.
 */
import { DEFAULT_KNOWLEDGE_DIR, formatIssues, loadKnowledge } from '../knowledge/load.ts';

type Command = (args: string[]) => Promise<number> | number;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const validate: Command = (args) => {
  const dir = option(args, '--dir') ?? DEFAULT_KNOWLEDGE_DIR;
  const maxAge = Number(option(args, '--max-age') ?? process.env.KB_MAX_AGE_DAYS ?? 365);
  const { knowledge, issues } = loadKnowledge(dir, { maxAgeDays: maxAge });
  if (issues.length) console.log(formatIssues(issues));
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  if (!knowledge) {
    console.log(`\nKhông hợp lệ: ${errors} lỗi, ${warnings} cảnh báo. Sửa các lỗi trên rồi chạy lại "npm run kb -- validate".`);
    return 1;
  }
  console.log(
    `Hợp lệ: ${knowledge.procedures.length} thủ tục, ${knowledge.faqs.length} câu hỏi thường gặp, ${warnings} cảnh báo.`,
  );
  return 0;
};

export const COMMANDS: Record<string, Command> = { validate };

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? COMMANDS[name] : undefined;
  if (!cmd) {
    console.log(`Cách dùng: npm run kb -- <lệnh>\nCác lệnh: ${Object.keys(COMMANDS).join(', ')}`);
    process.exitCode = name ? 2 : 0;
    return;
  }
  process.exitCode = await cmd(rest);
}

await main();
