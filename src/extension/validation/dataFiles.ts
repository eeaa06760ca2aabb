// Which documents Preflight validates: decided by the file extension, not the language id
// (a .jsonl file may open as 'jsonl', 'json' or 'plaintext' depending on the VS Code version and
// the user's extensions; a .csv as 'csv' or 'plaintext').
export type DataFileKind = 'jsonl' | 'json' | 'csv';

export function dataFileKind(path: string): DataFileKind | undefined {
  const match = /\.(jsonl|json|csv)$/i.exec(path);
  return match ? (match[1].toLowerCase() as DataFileKind) : undefined;
}

/**
 * A .json file is a data set only when it holds a top-level array of records; configuration
 * files (package.json, tsconfig.json, settings) are objects and are left alone.
 */
export function looksLikeJsonDataset(head: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  return start.startsWith('[');
}

/** Whether a file with this path and these first characters should be validated. */
export function isDataFile(path: string, head: string): boolean {
  const kind = dataFileKind(path);
  if (!kind) return false;
  return kind !== 'json' || looksLikeJsonDataset(head);
}
