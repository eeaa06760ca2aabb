// Checks of a recommendation data set before a BEAR run: the files exist and parse, every history is
// non-empty, every target is a title, and titles are unique (two items sharing a title cannot be told
// apart by exact title match, and the trie would merge them). Reads files with node:fs only.
import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../io/regularFile';
import type { DataIssue } from '../../shared/reports/bear';

export type { DataIssue };

/** A split file is read whole: larger ones are refused with the limit named (docs/limits.md). */
export const MAX_DATASET_BYTES = 512 * 2 ** 20;

export interface RecRecord {
  history: string[];
  target: string;
  line: number;
}

export interface DataCheckResult {
  issues: DataIssue[];
  /** records per split that parsed */
  counts: Record<string, number>;
  /** catalogue size: id2name titles plus every title seen */
  items: number;
}

const MAX_ISSUES = 200;

function parseIdList(cell: string): string[] {
  const t = cell.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t.replace(/'/g, '"')) as unknown;
      if (Array.isArray(v)) return v.map((x) => String(x));
    } catch {
      /* fall through to splitting */
    }
    return t
      .slice(1, -1)
      .split(/[\s,;]+/)
      .filter(Boolean);
  }
  return t.split(/[\s,;]+/).filter(Boolean);
}

/** Minimal RFC 4180 row splitter for the two-column user_id,item_ids layout. */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses one split (JSONL records, or the user_id,item_ids CSV with an id2name map). */
export function parseSplit(file: string, text: string, id2name: Map<string, string> | undefined, issues: DataIssue[]): RecRecord[] {
  const records: RecRecord[] = [];
  const add = (issue: DataIssue) => {
    if (issues.length < MAX_ISSUES) issues.push(issue);
  };
  const lines = text.split(/\r?\n/);
  if (file.toLowerCase().endsWith('.csv')) {
    const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
    const col = header.indexOf('item_ids');
    if (col < 0) {
      add({ file, line: 1, severity: 'error', code: 'bear-csv-header', message: 'The CSV needs an item_ids column (user_id,item_ids layout).' });
      return records;
    }
    if (!id2name) {
      add({ file, line: 0, severity: 'error', code: 'bear-no-id2name', message: 'The user_id,item_ids layout needs an id2name JSON (Items file).' });
      return records;
    }
    for (let i = 1; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      const ids = parseIdList(splitCsvLine(lines[i])[col] ?? '');
      if (ids.length < 2) {
        add({ file, line: i + 1, severity: 'error', code: 'bear-empty-history', message: 'A sequence needs at least one history item and a target.' });
        continue;
      }
      const missing = ids.filter((id) => !id2name.has(id));
      if (missing.length) {
        add({
          file,
          line: i + 1,
          severity: 'error',
          code: 'bear-unknown-id',
          message: `Item ids without a title in id2name: ${missing.slice(0, 5).join(', ')}.`,
        });
        continue;
      }
      const titles = ids.map((id) => id2name.get(id) as string);
      records.push({ history: titles.slice(0, -1), target: titles[titles.length - 1], line: i + 1 });
    }
    return records;
  }
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (!raw.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      add({ file, line: i + 1, severity: 'error', code: 'bear-json', message: `Not valid JSON: ${(e as Error).message}` });
      continue;
    }
    const rec = obj as { history?: unknown; target?: unknown };
    if (!obj || typeof obj !== 'object' || !Array.isArray(rec.history)) {
      add({ file, line: i + 1, severity: 'error', code: 'bear-schema', message: 'Expected {"history": [titles], "target": title}.' });
      continue;
    }
    if (rec.history.length === 0) {
      add({ file, line: i + 1, severity: 'error', code: 'bear-empty-history', message: 'Empty history: the prompt would list no items.' });
      continue;
    }
    if (!rec.history.every((t) => typeof t === 'string' && t.trim().length > 0)) {
      add({ file, line: i + 1, severity: 'error', code: 'bear-empty-title', message: 'Every history entry must be a non-empty title string.' });
      continue;
    }
    if (typeof rec.target !== 'string' || rec.target.trim().length === 0) {
      add({ file, line: i + 1, severity: 'error', code: 'bear-empty-target', message: 'The target must be a non-empty title string.' });
      continue;
    }
    records.push({ history: rec.history as string[], target: rec.target, line: i + 1 });
  }
  return records;
}

/** Reads an id2name JSON ({id: title} or [title, ...]) and reports duplicate titles. */
export function parseId2Name(file: string, text: string, issues: DataIssue[]): Map<string, string> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    issues.push({ file, line: 0, severity: 'error', code: 'bear-json', message: `Not valid JSON: ${(e as Error).message}` });
    return undefined;
  }
  const map = new Map<string, string>();
  if (Array.isArray(data)) data.forEach((t, i) => map.set(String(i), String(t)));
  else if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) map.set(k, String(v));
  else {
    issues.push({ file, line: 0, severity: 'error', code: 'bear-schema', message: 'Expected an id2name object {id: title} or a list of titles.' });
    return undefined;
  }
  const byTitle = new Map<string, string>();
  let dups = 0;
  for (const [id, title] of map) {
    if (!title.trim()) {
      issues.push({ file, line: 0, severity: 'error', code: 'bear-empty-title', message: `Item ${id} has an empty title.` });
    }
    const other = byTitle.get(title);
    if (other !== undefined) {
      if (dups++ < 20) {
        issues.push({
          file,
          line: 0,
          severity: 'error',
          code: 'bear-duplicate-title',
          message: `Items ${other} and ${id} share the title "${title}": exact-title evaluation cannot tell them apart.`,
        });
      }
    } else byTitle.set(title, id);
  }
  return map;
}

export interface SplitFiles {
  train?: string;
  valid?: string;
  test?: string;
  items?: string;
}

/** Checks every given file; `read` is injectable for tests. */
export function checkDataset(
  files: SplitFiles,
  read: (path: string) => string = (p) => readRegularFileSync(p, { encoding: 'utf8', maxBytes: MAX_DATASET_BYTES, what: 'dataset split' }),
  exists: (path: string) => boolean = existsSync,
): DataCheckResult {
  const issues: DataIssue[] = [];
  // an unreadable file (a FIFO, a device, over the size cap) is an issue of that file, not a crash
  const readOrReport = (file: string): string | undefined => {
    try {
      return read(file);
    } catch (error) {
      issues.push({ file, line: 0, severity: 'error', code: 'bear-unreadable', message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };
  const counts: Record<string, number> = {};
  const titles = new Set<string>();
  let id2name: Map<string, string> | undefined;
  if (files.items) {
    if (!exists(files.items))
      issues.push({ file: files.items, line: 0, severity: 'error', code: 'bear-missing-file', message: 'The items file does not exist.' });
    else if (files.items.toLowerCase().endsWith('.json')) {
      const text = readOrReport(files.items);
      if (text !== undefined) id2name = parseId2Name(files.items, text, issues);
      for (const t of id2name?.values() ?? []) titles.add(t);
    }
  }
  for (const split of ['train', 'valid', 'test'] as const) {
    const file = files[split];
    if (!file) continue;
    if (!exists(file)) {
      issues.push({ file, line: 0, severity: 'error', code: 'bear-missing-file', message: `The ${split} split does not exist.` });
      continue;
    }
    const text = readOrReport(file);
    if (text === undefined) continue;
    const records = parseSplit(file, text, id2name, issues);
    counts[split] = records.length;
    if (records.length === 0) issues.push({ file, line: 0, severity: 'error', code: 'bear-no-records', message: `The ${split} split has no usable records.` });
    for (const r of records) {
      for (const t of [...r.history, r.target]) titles.add(t);
      if (/"/.test(r.target) && issues.length < MAX_ISSUES) {
        issues.push({
          file,
          line: r.line,
          severity: 'warning',
          code: 'bear-quote-in-title',
          message: 'The target title contains a double quote; the prompt quotes titles, so the model sees an ambiguous boundary.',
        });
      }
    }
  }
  if (id2name) {
    const known = new Set(id2name.values());
    const extra = [...titles].filter((t) => !known.has(t));
    if (extra.length) {
      issues.push({
        file: files.items as string,
        line: 0,
        severity: 'warning',
        code: 'bear-title-not-in-items',
        message: `${extra.length} title(s) in the splits are missing from the items file (e.g. "${extra[0]}"); they join the catalogue.`,
      });
    }
  }
  return { issues, counts, items: titles.size };
}
