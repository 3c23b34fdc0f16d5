/**
 * Live reload: the running assistant picks up knowledge edits without a restart.
 *
 * `watchKnowledge` watches the knowledge and intent folders and their subfolders, waits until edits settle (editors write several times, the
 * spreadsheet import writes many files), then asks the holder to reload. The holder
 * validates everything first and swaps only when the new files are good, so a broken
 * edit is refused, logged, and the last good knowledge keeps serving.
 *
 * Only `node:fs` here: the Redis signal that makes every process reload lives in
 * `bot/reload.ts`, next to the other network code.
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { KnowledgeIssue } from './load.ts';

/** Minimal logger shape (pino and the engine's Logger satisfy it). */
export interface WatchLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the watcher reloads: `KnowledgeHolder` from bot/assistant.ts fits this shape. */
export interface ReloadableKnowledge {
  reload(): { ok: boolean; issues: KnowledgeIssue[] };
}

export interface WatchOptions {
  /** Quiet time after the last change before reloading. */
  debounceMs?: number;
  /** Called after every reload attempt (tests await it; main.ts may publish a Redis signal). */
  onReload?: (result: { ok: boolean; issues: KnowledgeIssue[]; files: string[]; reason: string }) => void;
}

export const WATCH_DEFAULTS = Object.freeze({ debounceMs: 300 });

/** A running watcher; `close()` stops it and cancels a pending reload. */
export interface KnowledgeWatcher {
  close(): void;
  /** Reload now (what a file change or a signal triggers), returning the result. */
  reloadNow(reason?: string): { ok: boolean; issues: KnowledgeIssue[] };
}

const RELEVANT = /\.(?:ya?ml|jsonl)$/i;
/** Platforms whose recursive fs.watch is native and sees files replaced by rename. */
const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';

function isRelevant(name: string | null): boolean {
  if (!name) return true; // some platforms give no file name: reload to be safe
  const base = name.split(/[\\/]/).pop() ?? name;
  // Editor swap and backup files, and our own atomic-write temporaries.
  if (base.startsWith('.') || base.endsWith('~') || base.endsWith('.tmp') || base.endsWith('.swp')) return false;
  return RELEVANT.test(base);
}

function subdirs(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) out.push(...subdirs(p));
    } catch {
      // vanished while listing
    }
  }
  return out;
}

/**
 * Watches `dirs` and reloads `holder` when YAML files change. Missing folders are
 * logged and skipped. Reload errors are logged; they never throw out of the watcher.
 */
export function watchKnowledge(holder: ReloadableKnowledge, dirs: readonly string[], log: WatchLogger, opts: WatchOptions = {}): KnowledgeWatcher {
  const debounceMs = opts.debounceMs ?? WATCH_DEFAULTS.debounceMs;
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  let closed = false;

  const reloadNow = (reason = 'manual'): { ok: boolean; issues: KnowledgeIssue[] } => {
    const files = [...changed];
    changed = new Set();
    let result: { ok: boolean; issues: KnowledgeIssue[] };
    try {
      result = holder.reload();
    } catch (err) {
      result = { ok: false, issues: [{ severity: 'error', file: '?', line: 1, message: String(err) }] };
    }
    const errors = result.issues.filter((i) => i.severity === 'error');
    if (result.ok) log.info({ reason, files }, 'knowledge change applied');
    else log.error({ reason, files, errors: errors.slice(0, 20).map((i) => `${i.file}:${i.line}: ${i.message}`) }, 'knowledge change refused; still serving the last good version');
    try {
      opts.onReload?.({ ...result, files, reason });
    } catch (err) {
      log.warn({ err }, 'onReload callback failed');
    }
    return result;
  };

  const schedule = (dir: string, name: string | null) => {
    if (closed || !isRelevant(name)) return;
    changed.add(name ? join(dir, name) : dir);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) reloadNow('file change');
    }, debounceMs);
  };

  const onError = (dir: string) => (err: Error) => log.warn({ err, dir }, 'knowledge watcher error');

  const watched = new Set<string>();
  const watchDir = (dir: string) => {
    if (watched.has(dir) || closed) return;
    try {
      const w = watch(dir, (_event, name) => {
        const file = name ? String(name) : null;
        // A folder created later (a new knowledge section) gets its own watcher.
        if (file && !isRelevant(file)) {
          const p = join(dir, file);
          try {
            if (!file.startsWith('.') && statSync(p).isDirectory()) for (const sub of subdirs(p)) watchDir(sub);
          } catch {
            // gone already
          }
        }
        schedule(dir, file);
      });
      w.on('error', onError(dir));
      watchers.push(w);
      watched.add(dir);
    } catch (err) {
      log.warn({ err, dir }, 'cannot watch knowledge folder');
    }
  };

  for (const dir of dirs) {
    if (!existsSync(dir)) {
      log.warn({ dir }, 'knowledge folder to watch does not exist; skipped');
      continue;
    }
    if (NATIVE_RECURSIVE) {
      const w = watch(dir, { recursive: true }, (_event, name) => schedule(dir, name ? String(name) : null));
      w.on('error', onError(dir));
      watchers.push(w);
    } else {
      // Linux: one watcher per folder. Node's recursive mode there follows file inodes and
      // misses a file replaced by rename (how editors and our tools save), so it is not used.
      for (const sub of subdirs(dir)) watchDir(sub);
    }
  }
  log.info({ dirs, debounceMs }, 'watching knowledge for changes');

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    reloadNow,
  };
}
