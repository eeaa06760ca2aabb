// Which files are data, and the names of the record formats: the one place the validator, the
// MDF reader, the CLI's folder walk and the extension's file watchers and quick fixes take them from.

/** How a data file is read, decided by its extension (never by an editor's language id). */
export type DataFileFormat = 'jsonl' | 'json' | 'csv';

/** Every data-file extension (lower case, without the dot) and the format it is read as. */
export const DATA_FILE_EXTENSIONS: Readonly<Record<string, DataFileFormat>> = {
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'json',
  csv: 'csv',
};

/** A glob for every data file, for file watchers and document selectors (both cases: glob
 *  matching is case-sensitive where the file system is). */
export const DATA_FILE_GLOB = `**/*.{${[...Object.keys(DATA_FILE_EXTENSIONS), ...Object.keys(DATA_FILE_EXTENSIONS).map((e) => e.toUpperCase())].join(',')}}`;

/** The format a path is read as, or undefined when it is not a data file. */
export function dataFileFormat(path: string): DataFileFormat | undefined {
  const match = /\.([^./\\]+)$/.exec(path);
  return match ? DATA_FILE_EXTENSIONS[match[1].toLowerCase()] : undefined;
}

/**
 * How a .json file is laid out, judged from its first line (after leading blank space) and
 * whether anything but white space follows that line:
 * - 'array': a top-level array of records (the layout `datasets` and many exporters write);
 * - 'lines': JSON Lines under a .json name (the first line is one complete object, more follows);
 * - 'document': anything else, e.g. a configuration file (package.json, tsconfig.json), one
 *   object over one or many lines.
 */
export type JsonLayout = 'array' | 'lines' | 'document';

export function jsonLayoutOf(firstLine: string, moreFollows: boolean): JsonLayout {
  const line = firstLine.replace(/^\uFEFF/, '').trim();
  if (line.startsWith('[')) return 'array';
  if (!moreFollows || !line.startsWith('{')) return 'document';
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? 'lines' : 'document';
  } catch {
    return 'document';
  }
}

/** The same rule on the start of a file's text (a head cut inside the first line reads as 'document'). */
export function jsonLayout(head: string): JsonLayout {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  const newline = text.indexOf('\n');
  if (newline < 0) return jsonLayoutOf(text, false);
  return jsonLayoutOf(text.slice(0, newline), text.slice(newline).trim() !== '');
}

/**
 * Whether a file is data Preflight validates without being asked: every .jsonl/.ndjson/.csv, and
 * a .json that holds records (an array, or JSON Lines), not a configuration object. A file named
 * explicitly (CLI argument, Validate command) is validated whatever its layout.
 */
export function isDataFile(path: string, head: string): boolean {
  const format = dataFileFormat(path);
  if (!format) return false;
  return format !== 'json' || jsonLayout(head) !== 'document';
}

/** The training-record formats, by one name each wherever they appear (validator, MDF, reports). */
export const RECORD_FORMATS = ['chat', 'sharegpt', 'prompt-completion', 'alpaca', 'text'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];
