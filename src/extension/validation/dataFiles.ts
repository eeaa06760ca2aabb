// Which documents Preflight validates: decided by the file extension, not the language id
// (a .jsonl file may open as 'jsonl', 'json' or 'plaintext' depending on the VS Code version and
// the user's extensions; a .csv as 'csv' or 'plaintext').
export type DataFileKind = 'jsonl' | 'json' | 'csv';

export function dataFileKind(path: string): DataFileKind | undefined {
  const match = /\.(jsonl|ndjson|json|csv)$/i.exec(path);
  if (!match) return undefined;
  const extension = match[1].toLowerCase();
  return extension === 'ndjson' ? 'jsonl' : (extension as DataFileKind);
}

/**
 * A .json file is a data set when it holds a top-level array of records, or is JSON Lines under
 * a .json name (a complete object on its first line, another record after it). Configuration
 * files (package.json, tsconfig.json, settings) are one multi-line object and are left alone.
 */
export function looksLikeJsonDataset(head: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('[')) return true;
  const [first, ...rest] = start.split('\n');
  if (!first.trim().startsWith('{') || !rest.some((line) => line.trim().startsWith('{'))) return false;
  try {
    const value: unknown = JSON.parse(first);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Whether a file with this path and these first characters should be validated. */
export function isDataFile(path: string, head: string): boolean {
  const kind = dataFileKind(path);
  if (!kind) return false;
  return kind !== 'json' || looksLikeJsonDataset(head);
}
