// CSV (annotation sheets and the like), parsed with csv-parse. Records may span lines (quoted
// fields with embedded newlines): the record's last line comes from csv-parse's `info.lines`,
// its first line from the newlines inside its fields, and field columns from the record's raw
// text. Checks: ragged rows, duplicate header names, blank lines, malformed quoting, exact
// duplicate rows, and labels off a declared ordinal scale.
import { Options, parse, Parser } from 'csv-parse';
import { FindingCollector } from './findings';
import { DuplicateIndex } from './hash';

export interface CsvLabelOptions {
  /** ordered label scale */
  levels?: string[];
  /** columns that must hold labels on the scale; without it, columns are detected from their values */
  columns?: string[];
}

/** A column is taken for a label column when this share of its first values are on the scale. */
const AUTO_LABEL_SHARE = 0.8;
const AUTO_LABEL_SAMPLE = 200;
const AUTO_LABEL_MIN_VALUES = 5;
/** Columns with more distinct values than this are free text, not labels: not tracked. */
const MAX_TRACKED_VALUES = 50;
const MIN_ROWS_FOR_VARIANTS = 10;
/** Rows wider than this are not checked field by field (docs/limits.md). */
export const MAX_CSV_COLUMNS = 10_000;
/** A record (row, with its quoted newlines) longer than this is skipped unread, as JSON Lines lines are. */
export const MAX_CSV_RECORD_BYTES = 64 * 1024 * 1024;

interface Row {
  fields: string[];
  raw: string;
  startLine: number;
  endLine: number;
  /** computed once per row: the offsets of its fields and of its line breaks (positions stay linear) */
  starts?: number[];
  breaks?: number[];
  rawEnd?: number;
}

function rowStarts(row: Row): number[] {
  return (row.starts ??= fieldStarts(row.raw));
}

// Line breaks are counted as csv-parse and editors count them: CRLF, LF or a lone CR.
const LINE_BREAK = /\r\n|\r|\n/g;

function countNewlines(text: string): number {
  LINE_BREAK.lastIndex = 0;
  let n = 0;
  while (LINE_BREAK.exec(text)) n++;
  return n;
}

/** Offsets in `raw` where each field starts (quote-aware, RFC 4180). */
function fieldStarts(raw: string, delimiter = ','): number[] {
  const starts = [0];
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quoted) {
      if (c === '"') {
        if (raw[i + 1] === '"') i++;
        else quoted = false;
      }
    } else if (c === '"') quoted = true;
    else if (c === delimiter) starts.push(i + 1);
    else if (c === '\n' || c === '\r') break;
  }
  return starts;
}

/** A field value for a one-line message: JSON-quoted (newlines escaped), long values shortened. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

function stringHash(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

export class CsvValidator {
  private readonly parser: Parser;
  private readonly done: Promise<void>;
  private header: string[] | null = null;
  private headerLine = 0;
  rows = 0;
  private readonly duplicates = new DuplicateIndex();
  private readonly levels: string[] | null;
  private readonly levelSet: Set<string>;
  private readonly levelFold: Map<string, string>;
  private labelColumns: number[] | null = null;
  private sample: Row[] | null = null;
  private blankStart = 0;
  private blankEnd = 0;
  private stopped = false;
  private values: (Map<string, { count: number; line: number; column: number }> | null)[] | null = null;
  private lastEndLine = 0;
  private newlines = 0;
  private tooWide = false;

  constructor(
    private readonly collector: FindingCollector,
    private readonly labels: CsvLabelOptions = {},
  ) {
    this.levels = labels.levels && labels.levels.length ? labels.levels : null;
    this.levelSet = new Set(this.levels ?? []);
    this.levelFold = new Map((this.levels ?? []).map((l) => [l.trim().toLowerCase(), l]));
    this.parser = parse({
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      // a quote inside an unquoted field is literal text, as Python's csv module and pandas read it
      relax_quotes: true,
      skip_empty_lines: false,
      skip_records_with_error: true,
      max_record_size: MAX_CSV_RECORD_BYTES,
      record_delimiter: ['\r\n', '\n'],
      on_record: (value: unknown) => {
        const record = value as { record: string[]; raw: string; info: { lines: number } };
        this.onRecord(record.record, record.raw, record.info.lines);
        return null;
      },
    } as Options);
    this.parser.on('skip', (error: Error & { lines?: number }) => this.malformed(error));
    this.done = new Promise((resolve) => {
      this.parser.on('end', resolve);
      this.parser.on('error', (error: Error & { lines?: number }) => {
        this.malformed(error);
        this.stopped = true;
        resolve();
      });
    });
    this.parser.resume();
  }

  push(chunk: Buffer): void {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.newlines++;
    for (let i = chunk.indexOf(13); i >= 0; i = chunk.indexOf(13, i + 1)) if (chunk[i + 1] !== 10) this.newlines++;
    if (!this.stopped) this.parser.write(chunk);
  }

  async end(): Promise<void> {
    if (!this.stopped) this.parser.end();
    await this.done;
    this.flushBlank();
    if (this.sample) this.decideLabelColumns();
    this.reportVariants();
  }

  private malformed(error: Error & { lines?: number; code?: string }): void {
    if (error.code === 'CSV_MAX_RECORD_SIZE') {
      const line = Math.min(error.lines ?? this.lastEndLine + 1, this.newlines + 1);
      this.collector.add(
        line,
        1,
        line,
        1,
        'error',
        'line-too-long',
        `a CSV record longer than ${MAX_CSV_RECORD_BYTES / 2 ** 20} MB: it was not parsed, and the rest of the file was not read (limit in docs/limits.md)`,
      );
      return;
    }
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse reports where parsing ended; the open quote is in the record after the last good one
      const line = this.lastEndLine + 1;
      this.collector.add(
        line,
        1,
        line,
        1,
        'error',
        'csv-malformed',
        'malformed CSV: a quoted field that starts on this line is never closed, so the rest of the file was read as one field',
      );
      return;
    }
    const line = Math.min(error.lines ?? 1, this.newlines + 1);
    const message = error.message.replace(/^[A-Za-z ]+:\s*/, '').replace(/ at line \d+/, '');
    this.collector.add(line, 1, line, 1, 'error', 'csv-malformed', `malformed CSV: ${message} (this record was skipped)`);
  }

  private onRecord(fields: string[], raw: string, endLine: number): void {
    this.lastEndLine = endLine;
    let inner = 0;
    for (const f of fields) if (f.length && (f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0)) inner += countNewlines(f);
    const startLine = endLine - inner;
    if (fields.length === 1 && fields[0] === '' && raw.trim() === '') {
      if (this.blankEnd === startLine - 1 && this.blankStart > 0) this.blankEnd = startLine;
      else {
        this.flushBlank();
        this.blankStart = this.blankEnd = startLine;
      }
      return;
    }
    this.flushBlank();
    const row: Row = { fields, raw, startLine, endLine };
    const bad = raw.indexOf('\uFFFD');
    if (bad >= 0) {
      // csv-parse decodes invalid UTF-8 as U+FFFD; a literal U+FFFD is the trace of an earlier bad decode
      const [line, column] = this.position(row, bad);
      this.collector.add(
        line,
        column,
        line,
        column + 1,
        'error',
        'utf8-invalid',
        'invalid UTF-8 (or a U+FFFD replacement character left by an earlier wrong decoding): the file was probably saved as Latin-1 or Windows-1252; re-save it as UTF-8',
      );
    }
    if (!this.header) {
      this.header = fields;
      this.headerLine = startLine;
      if (fields.length > MAX_CSV_COLUMNS) {
        this.tooWide = true;
        this.collector.add(
          startLine,
          1,
          startLine,
          1,
          'error',
          'csv-too-many-columns',
          `the header has ${fields.length.toLocaleString('en-US')} columns, over the limit of ${MAX_CSV_COLUMNS.toLocaleString('en-US')} columns (docs/limits.md): rows are counted but not checked`,
        );
        return;
      }
      this.checkHeader(row);
      return;
    }
    this.rows++;
    if (this.tooWide) return;
    if (this.sample) {
      this.sample.push(row);
      if (this.sample.length >= AUTO_LABEL_SAMPLE) this.decideLabelColumns();
      return;
    }
    this.checkRow(row);
  }

  private position(row: Row, offset: number): [number, number] {
    // line and UTF-16 column of `offset` within the record's raw text; the line breaks are found
    // once per row (ends of breaks), then binary-searched, so a wide row costs linear time
    if (!row.breaks) {
      row.breaks = [];
      LINE_BREAK.lastIndex = 0;
      for (let m = LINE_BREAK.exec(row.raw); m; m = LINE_BREAK.exec(row.raw)) row.breaks.push(m.index, m.index + m[0].length);
    }
    const b = row.breaks;
    let lo = 0;
    let hi = b.length / 2; // number of breaks starting before `offset`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[2 * mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    const lineStart = lo === 0 ? 0 : b[2 * lo - 1];
    return [row.startLine + lo, offset - lineStart + 1];
  }

  private lineEndColumn(row: Row): number {
    const raw = row.raw.replace(/[\r\n]+$/, '');
    const lastNl = Math.max(raw.lastIndexOf('\n'), raw.lastIndexOf('\r'));
    return raw.length - (lastNl + 1) + 1;
  }

  private checkHeader(row: Row): void {
    const seen = new Map<string, number>();
    const starts = rowStarts(row);
    row.fields.forEach((name, i) => {
      const key = name.trim();
      if (key === '') return; // an unnamed index column (R, pandas) is common and harmless
      if (seen.has(key)) {
        const [line, column] = this.position(row, starts[i] ?? 0);
        this.collector.add(
          line,
          column,
          line,
          column + Math.max(1, name.length),
          'warning',
          'csv-header-duplicate',
          `column name "${key}" appears twice (columns ${seen.get(key)! + 1} and ${i + 1}); readers keep only one of them`,
        );
      } else seen.set(key, i);
    });
    if (!this.levels) return;
    if (this.labels.columns && this.labels.columns.length) {
      this.labelColumns = [];
      for (const name of this.labels.columns) {
        const index = row.fields.findIndex((f) => f.trim() === name);
        if (index < 0) {
          this.collector.add(
            this.headerLine,
            1,
            this.headerLine,
            this.lineEndColumn(row),
            'error',
            'label-column-missing',
            `label column "${name}" is not in the header (columns: ${row.fields.join(', ')})`,
          );
        } else this.labelColumns.push(index);
      }
    } else this.sample = [];
  }

  /** Picks the columns whose sampled values are (mostly) on the scale, then checks the sample. */
  private decideLabelColumns(): void {
    const sample = this.sample!;
    this.sample = null;
    const header = this.header!;
    const columns: number[] = [];
    for (let c = 0; c < header.length; c++) {
      let values = 0;
      let onScale = 0;
      for (const row of sample) {
        const v = (row.fields[c] ?? '').trim();
        if (v === '') continue;
        values++;
        if (this.levelFold.has(v.toLowerCase())) onScale++;
      }
      if (values >= Math.min(AUTO_LABEL_MIN_VALUES, sample.length) && values > 0 && onScale / values >= AUTO_LABEL_SHARE) columns.push(c);
    }
    this.labelColumns = columns;
    if (columns.length === 0) {
      this.collector.add(
        this.headerLine,
        1,
        this.headerLine,
        1,
        'warning',
        'label-column-missing',
        `no column holds values on the declared scale (${this.levels!.join(', ')}) in its first ${sample.length} rows; name the label columns explicitly`,
      );
    }
    for (const row of sample) this.checkRow(row);
  }

  private checkRow(row: Row): void {
    const header = this.header!;
    const { fields } = row;
    // a ragged row's fields are misaligned with the header: its labels cannot be judged
    if (!this.levels && fields.length === header.length) this.trackValues(row);
    const ragged = fields.length !== header.length;
    if (ragged) {
      const starts = rowStarts(row);
      if (fields.length > header.length) {
        const [line, column] = this.position(row, starts[header.length] ?? 0);
        this.collector.add(
          line,
          column,
          row.endLine,
          this.lineEndColumn(row),
          'error',
          'csv-ragged-row',
          `row has ${fields.length} fields but the header has ${header.length} (an unquoted delimiter inside a text field?)`,
        );
      } else {
        const end = this.lineEndColumn(row);
        this.collector.add(
          row.endLine,
          end,
          row.endLine,
          end,
          'error',
          'csv-ragged-row',
          `row has ${fields.length} field(s) but the header has ${header.length}`,
        );
      }
    }
    if (this.labelColumns && this.levels && !ragged) {
      for (const c of this.labelColumns) {
        if (c >= fields.length) continue;
        const value = fields[c];
        if (this.levelSet.has(value)) continue;
        const starts = rowStarts(row);
        const [line, column] = this.position(row, starts[c] ?? 0);
        const width = Math.max(1, (starts[c + 1] ?? (row.rawEnd ??= row.raw.replace(/[\r\n]+$/, '').length) + 1) - 1 - (starts[c] ?? 0));
        const name = header[c] || `column ${c + 1}`;
        if (value.trim() === '') {
          this.collector.add(line, column, line, column + width, 'warning', 'label-missing', `no label in "${name}"`);
          continue;
        }
        const near = this.levelFold.get(value.trim().toLowerCase());
        const hint = near !== undefined ? `; did you mean ${quote(near)}? (it differs only in case or spaces)` : '';
        this.collector.add(
          line,
          column,
          line,
          column + width,
          'error',
          'label-off-scale',
          `${quote(value)} in "${name}" is not on the label scale (${this.levels.join(', ')})${hint}`,
        );
      }
    }
    // exact duplicate rows (all fields equal)
    const text = fields.join('\u0000');
    const kind = this.duplicates.check(stringHash(text, 0x811c9dc5), stringHash(text, 0x3c6ef372), fields.length, row.startLine);
    if (kind !== 0 && this.duplicates.kind === 1) {
      const fix =
        row.startLine === row.endLine
          ? { kind: 'deleteLine' as const, line: row.startLine, title: `Delete this duplicate of line ${this.duplicates.firstLine}` }
          : undefined;
      this.collector.add(
        row.startLine,
        1,
        row.endLine,
        this.lineEndColumn(row),
        'warning',
        'duplicate-exact',
        `exact duplicate of the row on line ${this.duplicates.firstLine}`,
        fix,
      );
    }
  }

  /** Distinct values of low-cardinality columns, for spotting variant spellings of one label. */
  private trackValues(row: Row): void {
    const header = this.header!;
    if (!this.values) this.values = header.map(() => new Map());
    let starts: number[] | null = null;
    for (let c = 0; c < this.values.length && c < row.fields.length; c++) {
      const seen = this.values[c];
      if (!seen) continue;
      const value = row.fields[c];
      if (value.trim() === '') continue;
      const entry = seen.get(value);
      if (entry) entry.count++;
      else if (seen.size >= MAX_TRACKED_VALUES) this.values[c] = null;
      else {
        starts ??= rowStarts(row);
        const [line, column] = this.position(row, starts[c] ?? 0);
        seen.set(value, { count: 1, line, column });
      }
    }
  }

  // A rare value that equals a more frequent one once case and surrounding spaces are ignored is
  // almost always the same label typed differently ("Apply" vs "apply", "analyze " vs "analyze").
  private reportVariants(): void {
    if (!this.values || this.rows < MIN_ROWS_FOR_VARIANTS) return;
    const header = this.header!;
    this.values.forEach((seen, c) => {
      if (!seen || seen.size < 2) return;
      const groups = new Map<string, string[]>();
      for (const value of seen.keys()) {
        const key = value.trim().toLowerCase();
        const group = groups.get(key);
        if (group) group.push(value);
        else groups.set(key, [value]);
      }
      for (const group of groups.values()) {
        if (group.length < 2) continue;
        group.sort((a, b) => seen.get(b)!.count - seen.get(a)!.count);
        const main = group[0];
        for (const variant of group.slice(1)) {
          const v = seen.get(variant)!;
          this.collector.add(
            v.line,
            v.column,
            v.line,
            v.column + Math.max(1, variant.length),
            'warning',
            'label-variant',
            `${quote(variant)} in "${header[c] || `column ${c + 1}`}" (${v.count}×) differs from ${quote(main)} (${seen.get(main)!.count}×) only in case or spaces: the same label spelled two ways?`,
          );
        }
      }
    });
  }

  private flushBlank(): void {
    if (this.blankStart === 0) return;
    const a = this.blankStart;
    const b = this.blankEnd;
    this.blankStart = this.blankEnd = 0;
    this.collector.add(a, 1, b, 1, 'warning', 'blank-line', a === b ? `line ${a} is blank` : `lines ${a}-${b} are blank`);
  }
}
