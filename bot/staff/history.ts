/**
 * Knowledge history: every file a staff tool saves (console, `kb add-alias`,
 * `kb add-example`) is recorded with its text before and after, who saved it and when,
 * in `DATA_DIR/staff.sqlite`. Staff can list versions, see the difference between two
 * of them (a line diff) and restore one (restoring is itself a recorded save).
 */
import type Database from 'better-sqlite3';
import type { KnowledgeRoot } from './guard.ts';

/** One recorded save of one file. */
export interface KnowledgeVersionEntry {
  id: number;
  at: number;
  actor: string;
  /** `save`, `alias`, `example`, `faq.create`, `restore`… */
  action: string;
  root: KnowledgeRoot;
  file: string;
  /** The file's text before this save (null: it did not exist). */
  before: string | null;
  after: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS knowledge_history (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  at     INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  root   TEXT NOT NULL CHECK (root IN ('knowledge', 'intents')),
  file   TEXT NOT NULL,
  before TEXT,
  after  TEXT
);
CREATE INDEX IF NOT EXISTS knowledge_history_file ON knowledge_history (root, file, id);
`;

/** The history table. */
export class KnowledgeHistory {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
  }

  record(e: Omit<KnowledgeVersionEntry, 'id' | 'at'>): number {
    return Number(this.db.prepare('INSERT INTO knowledge_history (at, actor, action, root, file, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)').run(this.now(), e.actor, e.action, e.root, e.file, e.before, e.after).lastInsertRowid);
  }

  get(id: number): KnowledgeVersionEntry | undefined {
    return this.db.prepare('SELECT * FROM knowledge_history WHERE id = ?').get(id) as KnowledgeVersionEntry | undefined;
  }

  /** Newest first, optionally for one file; texts left out (use `get`). */
  list(filter: { root?: KnowledgeRoot; file?: string; limit?: number } = {}): Omit<KnowledgeVersionEntry, 'before' | 'after'>[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.root) {
      where.push('root = ?');
      args.push(filter.root);
    }
    if (filter.file) {
      where.push('file = ?');
      args.push(filter.file);
    }
    args.push(Math.max(1, Math.min(filter.limit ?? 100, 10_000)));
    return this.db.prepare(`SELECT id, at, actor, action, root, file FROM knowledge_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args) as Omit<KnowledgeVersionEntry, 'before' | 'after'>[];
  }
}

/** One line of a diff: kept (` `), removed (`-`) or added (`+`). */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

/**
 * A line diff (longest common subsequence), trimmed to `context` unchanged lines around
 * each change. Files here are YAML of a few hundred lines; past 4,000 lines a side the
 * middle is compared as a whole block to bound the work.
 */
export function diffLines(a: string, b: string, context = 3): DiffLine[] {
  const x = a.split('\n');
  const y = b.split('\n');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const middle: DiffLine[] = [];
  if (xs.length * ys.length > 16_000_000) {
    for (const t of xs) middle.push({ op: '-', text: t });
    for (const t of ys) middle.push({ op: '+', text: t });
  } else {
    const n = xs.length;
    const m = ys.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      const row = lcs[i] as Uint32Array;
      const next = lcs[i + 1] as Uint32Array;
      for (let j = m - 1; j >= 0; j--) row[j] = xs[i] === ys[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) {
        middle.push({ op: ' ', text: xs[i] as string });
        i++;
        j++;
      } else if (j < m && (i >= n || ((lcs[i] as Uint32Array)[j + 1] as number) >= ((lcs[i + 1] as Uint32Array)[j] as number))) {
        middle.push({ op: '+', text: ys[j] as string });
        j++;
      } else {
        middle.push({ op: '-', text: xs[i] as string });
        i++;
      }
    }
  }
  const all: DiffLine[] = [...x.slice(0, head).map((text) => ({ op: ' ' as const, text })), ...middle, ...x.slice(x.length - tail).map((text) => ({ op: ' ' as const, text }))];
  const keep = new Array<boolean>(all.length).fill(false);
  all.forEach((l, k) => {
    if (l.op === ' ') return;
    for (let d = Math.max(0, k - context); d <= Math.min(all.length - 1, k + context); d++) keep[d] = true;
  });
  const out: DiffLine[] = [];
  all.forEach((l, k) => {
    if (keep[k]) out.push(l);
    else if (out.length && out[out.length - 1]?.text !== '…' ) out.push({ op: ' ', text: '…' });
  });
  while (out.length && out[out.length - 1]?.text === '…' && out[out.length - 1]?.op === ' ') out.pop();
  while (out.length && out[0]?.text === '…' && out[0]?.op === ' ') out.shift();
  return out;
}

/** A diff as text (`- old`, `+ new`), for the CLI and plain-text views. */
export function formatDiff(lines: readonly DiffLine[]): string {
  return lines.map((l) => `${l.op} ${l.text}`).join('\n');
}
