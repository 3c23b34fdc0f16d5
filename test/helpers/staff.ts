/** Test helpers for the staff tools: a throwaway copy of the knowledge base and the CLI. */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KNOWLEDGE_DIR } from '../../knowledge/load.ts';
import { DEFAULT_INTENTS_DIR } from '../../intents/data.ts';

/** Project root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** A temporary folder with copies of the knowledge (YAML only) and intents; `cleanup()` removes it. */
export function tempKnowledge(): { root: string; knowledge: string; intents: string; data: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'staff-'));
  const yamlOnly = (src: string) => !/\.(?:ts|md)$/.test(src);
  cpSync(DEFAULT_KNOWLEDGE_DIR, join(root, 'knowledge'), { recursive: true, filter: yamlOnly });
  cpSync(DEFAULT_INTENTS_DIR, join(root, 'intents'), { recursive: true, filter: yamlOnly });
  return { root, knowledge: join(root, 'knowledge'), intents: join(root, 'intents'), data: join(root, 'data'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs a project script (`scripts/kb.ts`, `scripts/qr.ts`) with tsx; resolves with its exit code and output. */
export function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const { REDIS_URL: _redis, KNOWLEDGE_DIR: _kdir, TELEGRAM_BOT_USERNAME: _bot, ...base } = process.env;
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', script), ...args],
      { cwd: ROOT, env: { ...base, LOG_LEVEL: 'silent', ...env }, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
