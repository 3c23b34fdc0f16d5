/**
 * File helpers shared by the staff tools (import, spreadsheets, review inbox): atomic
 * writes, so the live-reload watcher never reads half a file, and a quick index of the
 * procedure files on disk that works even while the knowledge base has errors.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { Document, LineCounter, YAMLMap, isMap, isScalar, parseDocument } from 'yaml';
import { staffWording, suspiciousText, zodIssues, type KnowledgeIssue, type ParsedFile } from './load.ts';
import { faqSchema, procedureSchema } from './schema.ts';
import { canonicalize, foldTokens } from '../intents/normalize.ts';
import type { ZodType } from 'zod';

/** Writes via a temporary file and a rename, so readers see the old or the new file, never half. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text, 'utf8');
  renameSync(tmp, path);
}

/** YAML files of a folder, sorted (none when the folder does not exist). */
export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => (f.endsWith('.yaml') || f.endsWith('.yml')) && !f.startsWith('.'))
    .sort()
    .map((f) => join(dir, f));
}

/** What the staff tools need to know about one procedure file without validating it. */
export interface ProcedureFileInfo {
  path: string;
  id: string;
  nationalCodes: string[];
  status: string;
}

/** Reads id, national codes and status of every procedure file; unreadable files are skipped. */
export function scanProcedureFiles(dirs: readonly string[]): ProcedureFileInfo[] {
  const out: ProcedureFileInfo[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    for (const path of yamlFiles(dir)) {
      if (seen.has(path)) continue;
      seen.add(path);
      try {
        const doc = parseDocument(readFileSync(path, 'utf8'));
        if (doc.errors.length) continue;
        const data = doc.toJS() as { id?: unknown; nationalCodes?: unknown; status?: unknown } | null;
        if (!data || typeof data.id !== 'string') continue;
        const codes = Array.isArray(data.nationalCodes) ? data.nationalCodes.filter((c): c is string => typeof c === 'string') : [];
        out.push({ path, id: data.id, nationalCodes: codes, status: typeof data.status === 'string' ? data.status : 'curated' });
      } catch {
        // A file that cannot be read is the validator's business, not the importer's.
      }
    }
  }
  return out;
}

/** Checks YAML text against a schema plus the stale-text rules, as the validator would. */
export function checkYamlText(text: string, rel: string, schema: ZodType): KnowledgeIssue[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file: ParsedFile = { rel, doc, lines };
  if (doc.errors.length) {
    return doc.errors.map((e) => ({ severity: 'error' as const, file: rel, line: e.linePos?.[0]?.line ?? 1, message: `Lỗi cú pháp YAML: ${e.message.split('\n')[0]}` }));
  }
  const data: unknown = doc.toJS();
  const staff = schema === procedureSchema || schema === faqSchema ? staffWording(file, data) : [];
  return [...suspiciousText(file, data), ...staff, ...zodIssues(file, schema, data).issues];
}

/** The comparison key for phrases: folded, normalized tokens ("Làm Sổ Đỏ!" = "lam so do"). */
export function phraseKey(text: string): string {
  return foldTokens(canonicalize(text)).join(' ');
}

/**
 * Serializes an edited YAML document while keeping the original text of every top-level
 * entry whose value did not change (the `yaml` library re-wraps folded text and respaces
 * flow lists when it prints a whole file). Changed entries are printed from the edited
 * document, so comments attached to their nodes stay; new entries go at the end.
 */
export function serializeEdited(source: string, edited: Document): string {
  const before = (parseDocument(source).toJS() ?? {}) as Record<string, unknown>;
  const after = (edited.toJS() ?? {}) as Record<string, unknown>;
  const root = edited.contents;
  if (!isMap(root)) return edited.toString(PRINT);
  const lines = source.endsWith('\n') ? source.slice(0, -1).split('\n') : source.split('\n');
  const keyAt = (line: string) => /^(?!#)("[^"]+"|'[^']+'|[^\s:#][^:]*?)\s*:(?:\s|$)/.exec(line)?.[1]?.replace(/^["']|["']$/g, '');
  const starts: { key: string; line: number }[] = [];
  lines.forEach((l, i) => {
    const k = keyAt(l);
    if (k !== undefined) starts.push({ key: k, line: i });
  });
  // Comment lines right above a key belong to it.
  const blockStart = starts.map((s, n) => {
    let i = s.line;
    const floor = n ? (starts[n - 1] as { line: number }).line + 1 : 0;
    while (i - 1 >= floor && /^#/.test(lines[i - 1] ?? '')) i--;
    return i;
  });
  const render = (key: string) => {
    const pair = root.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
    if (!pair) return '';
    const single = new Document();
    single.contents = new YAMLMap();
    (single.contents as YAMLMap).items.push(pair);
    return single.toString(PRINT).replace(/\n$/, '');
  };
  const out: string[] = [lines.slice(0, starts.length ? blockStart[0] : lines.length).join('\n')];
  const seen = new Set<string>();
  starts.forEach((s, n) => {
    seen.add(s.key);
    const text = lines.slice(blockStart[n], n + 1 < starts.length ? blockStart[n + 1] : lines.length).join('\n');
    if (!(s.key in after)) return;
    if (JSON.stringify(before[s.key]) === JSON.stringify(after[s.key])) out.push(text);
    else {
      const trailing = /(\n\s*)+$/.exec(text)?.[0] ?? '';
      out.push(render(s.key) + trailing);
    }
  });
  for (const key of Object.keys(after)) if (!seen.has(key)) out.push(render(key));
  return `${out.filter((t, i) => i > 0 || t !== '').join('\n')}\n`;
}

/** How the staff tools print YAML: no line folding, `[a, b]` flow lists as people write them. */
export const PRINT = Object.freeze({ lineWidth: 0, flowCollectionPadding: false });
