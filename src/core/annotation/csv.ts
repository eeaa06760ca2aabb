// Streaming CSV reading with the 1-based line on which each record starts (csv-parse).
// Records reach the callback one at a time, so a million-row file never sits in memory as objects.
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { createRegularReadStream } from '../io/regularFile';
import { Readable } from 'node:stream';
import { AnnotationInputError } from './errors';
import { CancelledError } from '../../shared/errors';

/** A CSV to read: a path on disk, or the text of an (unsaved) editor document. */
export type CsvSource = { path: string } | { text: string; name: string };

export function sourceName(source: CsvSource): string {
  return 'path' in source ? source.path : source.name;
}

export interface CsvReadOptions {
  signal?: AbortSignal;
  onProgress?: (records: number) => void;
}

function countNewlines(record: string[]): number {
  let lines = 0;
  for (const field of record) {
    if (field.indexOf('\n') < 0) continue;
    for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) lines++;
  }
  return lines;
}

/**
 * Reads the header and then every record, calling onRecord(record, line) with the line the record
 * starts on. Ragged rows are allowed (short rows read as missing values); a BOM is stripped.
 */
export async function readCsv(
  source: CsvSource,
  onHeader: (header: string[]) => void,
  onRecord: (record: string[], line: number) => void,
  options: CsvReadOptions = {},
): Promise<number> {
  const input = 'path' in source ? createRegularReadStream(source.path, { highWaterMark: 1 << 20 }) : Readable.from([source.text]);
  const parser = parse({ relax_column_count: true, relax_quotes: true, bom: true, skip_empty_lines: true });
  let records = 0;
  let first = true;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      input.destroy();
      parser.destroy();
      reject(error);
    };
    input.on('error', fail);
    parser.on('error', fail);
    // In flowing mode csv-parse emits each record synchronously while parsing, so parser.info.lines
    // is the line on which this record ends (checked by a test with multi-line quoted fields).
    parser.on('data', (record: string[]) => {
      const endLine = parser.info.lines;
      const line = endLine - countNewlines(record);
      try {
        if (first) {
          first = false;
          onHeader(record);
          return;
        }
        records++;
        onRecord(record, line);
      } catch (error) {
        fail(error);
        return;
      }
      if ((records & 0xffff) === 0) {
        options.onProgress?.(records);
        if (options.signal?.aborted) fail(new CancelledError());
      }
    });
    parser.on('end', () => resolve());
    input.pipe(parser);
  });
  if (first) throw new CsvEmptyError(`${sourceName(source)} is empty`);
  return records;
}

/**
 * Where the first record of CSV text ends (the offset of its line break, or -1 when the text is one
 * record): one left-to-right pass, quote-aware as csv-parse with relax_quotes reads it — a quote
 * opens a quoted field only at the start of a field, elsewhere it is a literal character. When a
 * quoted field never closes, the record is taken to end at the first line break (the stray quote
 * is reported by validation; the header is still the first line).
 */
export function firstRecordEnd(text: string, delimiter = ','): number {
  let quoted = false;
  let fieldStart = true;
  let firstBreak = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else quoted = false;
      } else if (firstBreak < 0 && (c === 10 || c === 13)) firstBreak = i;
      continue;
    }
    if (c === 10 || c === 13) return c === 10 && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
    if (c === 34 && fieldStart) quoted = true;
    fieldStart = c === delimiter.charCodeAt(0);
  }
  return quoted ? firstBreak : -1;
}

/** The header row of CSV text (its first record, quotes respected), for asking which columns to use. */
export function headerOf(text: string): string[] {
  // one linear pass (a look-ahead regex here rescanned the rest of the file at every line break)
  const end = firstRecordEnd(text);
  const head = end >= 0 ? text.slice(0, end) : text;
  try {
    const rows = parseSync(head, { relax_column_count: true, bom: true, relax_quotes: true }) as string[][];
    return rows[0] ?? [];
  } catch {
    return head.split(',');
  }
}

export class CsvEmptyError extends AnnotationInputError {}

/** Column names compared loosely: case, spaces, dashes and underscores do not matter. */
export function columnKey(name: string): string {
  return name.toLowerCase().replace(/[\s_\-.]+/g, '');
}

/** Finds a column by an explicit name (exact, then loose) — undefined when absent. */
export function findColumn(header: string[], name: string): number | undefined {
  const exact = header.indexOf(name);
  if (exact >= 0) return exact;
  const key = columnKey(name);
  const loose = header.findIndex((column) => columnKey(column) === key);
  return loose >= 0 ? loose : undefined;
}

/** Quotes a value for CSV output when it needs it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
