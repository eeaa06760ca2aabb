// What happens to each scanned JSON record, whatever file it came from (JSONL line or element of
// a .json array): schema checks, the context-limit check, duplicate detection, and the statistics
// that the end-of-file checks (mixed schemas, length outliers) need. Memory per record is a few
// bytes (a duplicate-set slot and the token length), never the record's text.
import { FindingCollector } from './findings';
import { DUPLICATE_EXACT, DUPLICATE_NEAR, DUPLICATE_NONE, DuplicateIndex, NormalizedHasher, hashBytes } from './hash';
import { JsonTape, T_OBJECT, stringValue, typeName } from './jsonScan';
import { ExactTokenCounter, IssueSink, RecordChecker, SCHEMAS, SchemaId } from './records';
import { formatTokens } from './tokens';
import { BATCH_FIELDS } from './wasmScan';
import { Severity } from './types';

/** Maps byte offsets of the current buffer to 1-based lines and UTF-16 columns (as editors count). */
export interface Locator {
  line(offset: number): number;
  column(offset: number): number;
}

const utf8 = new TextDecoder('utf-8');

/** Columns within one line of a buffer. */
export class LineLocator implements Locator {
  buf: Uint8Array = new Uint8Array(0);
  lineStart = 0;
  lineNo = 0;
  nonAscii = false;
  line(): number {
    return this.lineNo;
  }
  column(offset: number): number {
    if (!this.nonAscii) return offset - this.lineStart + 1;
    return utf8.decode(this.buf.subarray(this.lineStart, offset)).length + 1;
  }
}

/** Lines and columns in a whole document (a .json file), by binary search over line starts. */
export class DocumentLocator implements Locator {
  private starts: Int32Array;
  private count = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly base: number,
  ) {
    let starts = new Int32Array(1024);
    starts[this.count++] = base;
    for (let i = buf.indexOf(10, base); i >= 0; i = buf.indexOf(10, i + 1)) {
      if (this.count >= starts.length) {
        const bigger = new Int32Array(starts.length * 2);
        bigger.set(starts);
        starts = bigger;
      }
      starts[this.count++] = i + 1;
    }
    this.starts = starts;
  }
  private index(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  line(offset: number): number {
    return this.index(offset) + 1;
  }
  column(offset: number): number {
    const start = this.starts[this.index(offset)];
    let ascii = true;
    for (let i = start; i < offset; i++) if (this.buf[i] >= 0x80) ascii = false;
    // a BOM at the very start is not a column (editors hide it)
    const from = start === this.base ? this.base : start;
    return ascii ? offset - from + 1 : utf8.decode(this.buf.subarray(from, offset)).length + 1;
  }
}

export interface SchemaSample {
  line: number;
  column: number;
  endColumn: number;
  keys: string;
}

const MIN_RECORDS_FOR_OUTLIERS = 30;
// Iglewicz & Hoaglin's modified z-score, M = 0.6745 (x - median) / MAD, flags |M| > 3.5; applied
// to log token length, since lengths are right-skewed.
const OUTLIER_Z = 3.5;
const MAX_OUTLIER_FINDINGS = 100;

/** Per record hashed for duplicates, when they are deferred: h1, h2, raw hash, line, column, end column. */
export const DUP_FIELDS = 6;

/**
 * What a pipeline learned about a part of a file (a byte range validated in a worker thread),
 * to be merged in file order into the pipeline of the whole file: see RecordPipeline.merge.
 * Lines are relative to the range (its first line is 1).
 */
export interface PipelineState {
  records: number;
  schemaCounts: [SchemaId, number][];
  schemaSamples: [SchemaId, SchemaSample[]][];
  lengths: Int32Array;
  lengthLines: Int32Array;
  lengthColumns: Int32Array;
  /** DUP_FIELDS int32 per record, in file order */
  duplicates: Int32Array;
}

export class RecordPipeline {
  records = 0;
  /**
   * Set in worker threads: instead of checking duplicates here, log each record's hashes so the
   * main thread checks them in file order (first-occurrence semantics stay those of one pass).
   */
  deferDuplicates = false;
  private dupLog = new Int32Array(0);
  private dupCount = 0;
  readonly checker: RecordChecker;
  private readonly duplicates = new DuplicateIndex();
  private readonly hasher = new NormalizedHasher();
  /** the hashes of a clean chat record checked in WebAssembly */
  private readonly fast = { h1: 0, h2: 0, length: 0, raw: 0 };
  /** chat records checked in WebAssembly, counted into schemaCounts when read */
  private chatCount = 0;
  /** whether the chat samples are complete (then a chat record needs no sample) */
  private chatSampled = false;
  private readonly schemaCounts = new Map<SchemaId, number>();
  private readonly schemaSamples = new Map<SchemaId, SchemaSample[]>();
  private lengths = new Int32Array(4096);
  private lengthLines = new Int32Array(4096);
  private lengthColumns = new Int32Array(4096);
  private lengthCount = 0;
  private readonly sampleCap: number;
  private loc: Locator = new LineLocator();
  private readonly sink: IssueSink = (code, severity, message, start, end) => {
    const loc = this.loc;
    this.collector.add(loc.line(start), loc.column(start), loc.line(end), loc.column(end), severity, code, message);
  };

  constructor(
    private readonly collector: FindingCollector,
    readonly contextLimit: number,
    counter?: ExactTokenCounter,
  ) {
    this.checker = new RecordChecker(counter);
    this.sampleCap = Math.max(collector.maxFindings, 10);
  }

  /** Room in the duplicate set for about this many records (see DuplicateIndex.reserve). */
  reserveRecords(records: number): void {
    if (!this.deferDuplicates) this.duplicates.reserve(records);
    // and for their lengths, with a tenth to spare (an estimate a little short would double them)
    this.reserveLengths(Math.ceil(records * 1.1));
  }

  /** Reports a finding over a byte span of the current record. */
  report(loc: Locator, code: string, severity: Severity, message: string, start: number, end: number): void {
    this.loc = loc;
    this.sink(code, severity, message, start, end);
  }

  /**
   * One record: tape token `root` spanning buf[rawStart, rawEnd). `fixableLine`: the record is the
   * whole of this line (JSONL), so deleting the line is a safe fix for an exact duplicate.
   */
  handle(tape: JsonTape, root: number, loc: Locator, rawStart: number, rawEnd: number, fixableLine: number): void {
    this.loc = loc;
    this.records++;
    const line = loc.line(tape.start[root]);
    const wasm = tape.wasm;
    // the common clean chat record, checked in WebAssembly (wasmScan.ts cleanChat): what follows
    // would report nothing on it but its length, the context limit and duplicates. Not while
    // the first records of the schema are kept as samples, nor with exact token counts.
    if (wasm && root === 0 && this.chatSampled && !this.checker.exact) {
      const tokens = wasm.cleanChat(rawStart, rawEnd, this.fast);
      if (tokens >= 0) {
        this.chatCount++;
        this.checkTokens(tokens, false, tape.start[1], tape.end[1]);
        this.pushLength(tokens, line, loc.column(tape.start[root]));
        const fast = this.fast;
        if (fast.length > 0) this.checkDuplicate(tape, loc, fast.h1, fast.h2, fast.raw, line, rawStart, rawEnd, fixableLine);
        return;
      }
    }
    if (tape.utf8ErrorOffset >= 0 && tape.utf8ErrorOffset >= rawStart && tape.utf8ErrorOffset < rawEnd) {
      const at = tape.utf8ErrorOffset;
      this.sink(
        'utf8-invalid',
        'error',
        'invalid UTF-8 byte sequence (editors show it as \uFFFD; the text was probably saved in another encoding)',
        at,
        at + 1,
      );
    }
    if (tape.type[root] !== T_OBJECT) {
      this.sink('record-not-object', 'error', `each record must be a JSON object, found ${typeName(tape.type[root])}`, tape.start[root], tape.end[root]);
      return;
    }
    const checker = this.checker;
    const errorsBefore = this.collector.errors;
    const schema = checker.check(tape, root, this.sink);
    const broken = this.collector.errors !== errorsBefore;
    this.countSchema(tape, root, schema, loc);
    if (schema === 'unknown') return;

    const tokens = checker.tokens;
    this.checkTokens(tokens, checker.exact, checker.anchorStart, checker.anchorEnd);
    this.pushLength(tokens, line, loc.column(tape.start[root]));

    // duplicates: 64-bit hash of the normalised training text, 32-bit hash of the raw bytes.
    // A record with errors is skipped: it is reported already, and its broken fields would make
    // unrelated broken records look alike.
    if (broken) return;
    const hasher = this.hasher;
    const buf = tape.buf;
    const norm = tape.norm;
    const texts = checker.textTokens;
    const n = checker.textCount;
    // the text strings side by side in the scanner's normalised text (the usual case: keys leave
    // nothing there) are hashed where they lie; otherwise gathered first
    let t = 1;
    while (t < n && tape.normStart[texts[t]] === tape.normEnd[texts[t - 1]]) t++;
    if (n > 0 && t === n) {
      if (wasm) wasm.hashNorm(tape.normStart[texts[0]], tape.normEnd[texts[n - 1]], hasher);
      else hasher.hashRange(norm, tape.normStart[texts[0]], tape.normEnd[texts[n - 1]]);
    } else {
      hasher.begin();
      for (let i = 0; i < n; i++) hasher.add(norm, tape.normStart[texts[i]], tape.normEnd[texts[i]]);
      hasher.finish();
    }
    if (hasher.length === 0) return;
    const raw = wasm ? wasm.hashRaw(rawStart, rawEnd) : hashBytes(buf, rawStart, rawEnd);
    this.checkDuplicate(tape, loc, hasher.h1, hasher.h2, raw, line, rawStart, rawEnd, fixableLine);
  }

  /**
   * Whether records may come a batch at a time (handleBatch): the chat samples are complete and
   * tokens are estimated, as handle() requires of its WebAssembly check.
   */
  get batchReady(): boolean {
    return this.chatSampled && !this.checker.exact;
  }

  /**
   * `n` clean chat records within the context limit on lines firstLine.. (one a line, in order),
   * checked in WebAssembly (wasmScan.ts batch): what handle() does with each, its fields read from
   * `out` (BATCH_FIELDS int32 a record: h1, h2, raw hash, tokens, column, end column).
   */
  handleBatch(out: Int32Array, n: number, firstLine: number): void {
    this.records += n;
    this.chatCount += n;
    const defer = this.deferDuplicates;
    // the duplicate set's slots for the whole batch, loaded first: the cache misses overlap
    if (!defer) this.duplicates.touch(out, n, BATCH_FIELDS);
    for (let i = 0, at = 0; i < n; i++, at += BATCH_FIELDS) {
      const line = firstLine + i;
      const column = out[at + 4];
      this.pushLength(out[at + 3], line, column);
      if (defer) this.logDuplicate(out[at], out[at + 1], out[at + 2], line, column, out[at + 5]);
      else {
        const kind = this.duplicates.check(out[at], out[at + 1], out[at + 2], line);
        if (kind !== DUPLICATE_NONE) this.reportDuplicate(kind, line, column, line, out[at + 5], line);
      }
    }
  }

  private checkTokens(tokens: number, exact: boolean, anchorStart: number, anchorEnd: number): void {
    if (tokens <= this.contextLimit) return;
    const severity: Severity = exact ? 'error' : 'warning';
    this.sink(
      'tokens-over-limit',
      severity,
      `record is ${formatTokens(tokens, exact)}, over the context limit of ${this.contextLimit.toLocaleString('en-US')}: it will be truncated or dropped in training`,
      anchorStart,
      anchorEnd,
    );
  }

  private checkDuplicate(
    tape: JsonTape,
    loc: Locator,
    h1: number,
    h2: number,
    raw: number,
    line: number,
    rawStart: number,
    rawEnd: number,
    fixableLine: number,
  ): void {
    if (this.deferDuplicates) {
      // worker threads validate JSON Lines only: a record is one line
      // the end column without decoding the line: the tape counted what UTF-16 saves on valid UTF-8
      const endColumn =
        tape.nonAscii && tape.utf8ErrorOffset < 0 && loc instanceof LineLocator ? rawEnd - loc.lineStart - tape.utf16Shrink + 1 : loc.column(rawEnd);
      this.logDuplicate(h1, h2, raw, line, loc.column(rawStart), endColumn);
      return;
    }
    const kind = this.duplicates.check(h1, h2, raw, line);
    if (kind !== DUPLICATE_NONE) this.reportDuplicate(kind, line, loc.column(rawStart), loc.line(rawEnd), loc.column(rawEnd), fixableLine);
  }

  private reportDuplicate(kind: number, line: number, column: number, endLine: number, endColumn: number, fixableLine: number): void {
    const first = this.duplicates.firstLine;
    if (kind === DUPLICATE_EXACT) {
      const fix = fixableLine > 0 ? { kind: 'deleteLine' as const, line: fixableLine, title: `Delete this duplicate of line ${first}` } : undefined;
      this.collector.add(line, column, endLine, endColumn, 'warning', 'duplicate-exact', `exact duplicate of the record on line ${first}`, fix);
    } else if (kind === DUPLICATE_NEAR) {
      this.collector.add(
        line,
        column,
        endLine,
        endColumn,
        'info',
        'duplicate-near',
        `near duplicate of the record on line ${first}: the same text once case, whitespace and punctuation are ignored`,
      );
    }
  }

  private logDuplicate(h1: number, h2: number, raw: number, line: number, column: number, endColumn: number): void {
    let at = this.dupCount * DUP_FIELDS;
    if (at + DUP_FIELDS > this.dupLog.length) {
      const bigger = new Int32Array(Math.max(4096 * DUP_FIELDS, this.dupLog.length * 2));
      bigger.set(this.dupLog);
      this.dupLog = bigger;
    }
    const log = this.dupLog;
    log[at++] = h1;
    log[at++] = h2;
    log[at++] = raw;
    log[at++] = line;
    log[at++] = column;
    log[at] = endColumn;
    this.dupCount++;
  }

  /** This pipeline's state, for merging into the whole file's pipeline (worker threads). */
  exportState(): PipelineState {
    this.countFastChat();
    return {
      records: this.records,
      schemaCounts: [...this.schemaCounts],
      schemaSamples: [...this.schemaSamples],
      // views, not copies: their buffers are transferred to the main thread
      lengths: this.lengths.subarray(0, this.lengthCount),
      lengthLines: this.lengthLines.subarray(0, this.lengthCount),
      lengthColumns: this.lengthColumns.subarray(0, this.lengthCount),
      duplicates: this.dupLog.subarray(0, this.dupCount * DUP_FIELDS),
    };
  }

  /**
   * Merges the state of the next part of the file (parts in file order), its lines shifted by
   * `lineBase`. `beforeDuplicate(line)` runs before the duplicate check of the record on `line`,
   * so that the caller can first add the part's own findings up to that line: the findings are
   * then added in the order a single pass adds them.
   */
  merge(state: PipelineState, lineBase: number, beforeDuplicate: (line: number) => void): void {
    this.records += state.records;
    for (const [schema, n] of state.schemaCounts) this.schemaCounts.set(schema, (this.schemaCounts.get(schema) ?? 0) + n);
    for (const [schema, list] of state.schemaSamples) {
      let samples = this.schemaSamples.get(schema);
      if (!samples) this.schemaSamples.set(schema, (samples = []));
      for (const s of list) {
        if (samples.length >= this.sampleCap) break;
        samples.push({ ...s, line: s.line + lineBase });
      }
    }
    this.reserveLengths(this.lengthCount + state.lengths.length);
    for (let i = 0; i < state.lengths.length; i++) this.pushLength(state.lengths[i], state.lengthLines[i] + lineBase, state.lengthColumns[i]);
    const d = state.duplicates;
    for (let at = 0; at < d.length; at += DUP_FIELDS) {
      const line = d[at + 3] + lineBase;
      const kind = this.duplicates.check(d[at], d[at + 1], d[at + 2], line);
      if (kind === DUPLICATE_NONE) continue;
      beforeDuplicate(line);
      this.reportDuplicate(kind, line, d[at + 4], line, d[at + 5], line);
    }
  }

  private countSchema(tape: JsonTape, root: number, schema: SchemaId, loc: Locator): void {
    this.schemaCounts.set(schema, (this.schemaCounts.get(schema) ?? 0) + 1);
    let samples = this.schemaSamples.get(schema);
    if (!samples) this.schemaSamples.set(schema, (samples = []));
    if (samples.length < this.sampleCap) {
      const keys: string[] = [];
      for (let k = root + 1; k < tape.next[root] && keys.length < 8; k = tape.next[k + 1]) keys.push(stringValue(tape, k));
      const c = this.checker;
      samples.push({ line: loc.line(c.anchorStart), column: loc.column(c.anchorStart), endColumn: loc.column(c.anchorEnd), keys: keys.join(', ') || '(none)' });
    } else if (schema === 'chat') this.chatSampled = true;
  }

  /** Room for `n` lengths, exactly (merging parts: the total is known, no doubling). */
  private reserveLengths(n: number): void {
    if (n <= this.lengths.length) return;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a.subarray(0, this.lengthCount));
      return b;
    };
    this.lengths = grow(this.lengths);
    this.lengthLines = grow(this.lengthLines);
    this.lengthColumns = grow(this.lengthColumns);
  }

  private pushLength(tokens: number, line: number, column: number): void {
    if (this.lengthCount >= this.lengths.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.lengths = grow(this.lengths);
      this.lengthLines = grow(this.lengthLines);
      this.lengthColumns = grow(this.lengthColumns);
    }
    this.lengths[this.lengthCount] = tokens;
    this.lengthLines[this.lengthCount] = line;
    this.lengthColumns[this.lengthCount] = column;
    this.lengthCount++;
  }

  /** Counts the chat records checked in WebAssembly into schemaCounts (read only through here). */
  private countFastChat(): void {
    if (this.chatCount === 0) return;
    this.schemaCounts.set('chat', (this.schemaCounts.get('chat') ?? 0) + this.chatCount);
    this.chatCount = 0;
  }

  /** The file's majority schema (null when there are no records). */
  majoritySchema(): SchemaId | null {
    this.countFastChat();
    let best: SchemaId | null = null;
    let bestCount = 0;
    for (const schema of SCHEMAS) {
      const n = this.schemaCounts.get(schema) ?? 0;
      if (n > bestCount) {
        best = schema;
        bestCount = n;
      }
    }
    return best;
  }

  /** End-of-file checks: mixed or unknown schemas, length outliers. */
  finish(): SchemaId | null {
    const majority = this.majoritySchema();
    const total = this.records;
    if (majority === 'unknown') {
      const samples = this.schemaSamples.get('unknown')!;
      const s = samples[0];
      const n = this.schemaCounts.get('unknown')!;
      this.collector.add(
        s.line,
        s.column,
        s.line,
        s.endColumn,
        'warning',
        'schema-unknown',
        `${n} of ${total} records have none of the recognised training fields (messages, conversations, prompt/completion, instruction/output, text, history/target); keys here: ${s.keys}`,
      );
    } else if (majority) {
      const majorityShare = Math.round((100 * this.schemaCounts.get(majority)!) / total);
      for (const schema of SCHEMAS) {
        if (schema === majority) continue;
        for (const s of this.schemaSamples.get(schema) ?? []) {
          const what = schema === 'unknown' ? `has none of the recognised training fields (keys: ${s.keys})` : `is ${schema} (keys: ${s.keys})`;
          this.collector.add(
            s.line,
            s.column,
            s.line,
            s.endColumn,
            'warning',
            'schema-mixed',
            `record ${what}, but ${majorityShare}% of this file's records are ${majority}`,
          );
        }
        const more = (this.schemaCounts.get(schema) ?? 0) - (this.schemaSamples.get(schema)?.length ?? 0);
        if (more > 0) {
          const s = this.schemaSamples.get(schema)![0];
          this.collector.add(s.line, s.column, s.line, s.endColumn, 'warning', 'schema-mixed', `${more} more ${schema} record(s) beyond those listed`);
        }
      }
    }
    this.findOutliers();
    return majority;
  }

  private findOutliers(): void {
    const n = this.lengthCount;
    if (n < MIN_RECORDS_FOR_OUTLIERS) return;
    const { median, mad } = logMedianAndMad(this.lengths, n);
    if (mad === 0) return; // (almost) all records have one length: nothing is an outlier by this rule
    const flagged: { i: number; z: number }[] = [];
    const lengths = this.lengths;
    for (let i = 0; i < n; i++) {
      const z = (0.6745 * (Math.log(Math.max(1, lengths[i])) - median)) / mad;
      if (Math.abs(z) > OUTLIER_Z) flagged.push({ i, z });
    }
    if (flagged.length === 0) return;
    const medianTokens = Math.round(Math.exp(median));
    flagged.sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
    const shown = flagged.slice(0, MAX_OUTLIER_FINDINGS);
    const exact = this.checker.exact;
    for (const { i, z } of shown) {
      const side = z > 0 ? 'long' : 'short';
      const ratio = z > 0 ? this.lengths[i] / medianTokens : medianTokens / Math.max(1, this.lengths[i]);
      const tokens = exact ? `${this.lengths[i]} tokens` : `≈${this.lengths[i]} tokens (estimated)`;
      this.collector.add(
        this.lengthLines[i],
        this.lengthColumns[i],
        this.lengthLines[i],
        this.lengthColumns[i] + 1,
        'info',
        'length-outlier',
        `unusually ${side} record: ${tokens}, ${ratio.toFixed(1)}× ${z > 0 ? 'above' : 'below'} the median of ${medianTokens} (modified z-score ${z.toFixed(1)} on log length)`,
      );
    }
    if (flagged.length > shown.length) {
      const first = shown[0].i;
      this.collector.add(
        this.lengthLines[first],
        this.lengthColumns[first],
        this.lengthLines[first],
        this.lengthColumns[first] + 1,
        'info',
        'length-outlier',
        `${flagged.length - shown.length} more length outlier(s) not listed (the ${shown.length} most extreme are)`,
      );
    }
  }
}

/** Lengths up to this are counted (one int32 each) for logMedianAndMad; larger ones are selected. */
const COUNTED_LENGTHS = 1 << 20;

/**
 * The median of log(max(1, x)) over lengths[0, n) and the median of the absolute deviations
 * from it (the MAD), exactly as medianOf gives them over the arrays of logs and deviations. The
 * lengths are whole token counts with few distinct values, so each order statistic is read off a
 * count of each length (and of each distinct deviation) in linear time, instead of two
 * selections over n doubles (~0.2 CPU s on a 1 GB file); with a length over COUNTED_LENGTHS,
 * by selection.
 */
export function logMedianAndMad(lengths: Int32Array, n: number): { median: number; mad: number } {
  let max = 1;
  for (let i = 0; i < n; i++) if (lengths[i] > max) max = lengths[i];
  if (max > COUNTED_LENGTHS) {
    const logs = new Float64Array(n);
    for (let i = 0; i < n; i++) logs[i] = Math.log(Math.max(1, lengths[i]));
    const scratch = logs.slice();
    const median = medianOf(scratch);
    for (let i = 0; i < n; i++) scratch[i] = Math.abs(logs[i] - median);
    return { median, mad: medianOf(scratch) };
  }
  const counts = new Int32Array(max + 1);
  for (let i = 0; i < n; i++) counts[Math.max(1, lengths[i])]++;
  const values: number[] = [];
  for (let v = 1; v <= max; v++) if (counts[v] > 0) values.push(v);
  const lo = Math.floor((n - 1) * 0.5);
  const hi = Math.ceil((n - 1) * 0.5);
  // the median of a multiset given as sorted distinct keys and their counts, as medianOf computes
  // it: the order statistic lo, or halfway from it to hi (of the logs: log is increasing)
  const median = (keys: number[], count: (k: number) => number, f: (k: number) => number): number => {
    let seen = 0;
    let low = NaN;
    for (const k of keys) {
      seen += count(k);
      if (Number.isNaN(low) && seen > lo) low = f(k);
      if (seen > hi) return hi === lo ? low : low + (f(k) - low) * 0.5;
    }
    return low;
  };
  const m = median(values, (v) => counts[v], Math.log);
  // the deviations of the distinct lengths, with their counts (two lengths may deviate alike)
  const deviationCount = new Map<number, number>();
  for (const v of values) {
    const d = Math.abs(Math.log(v) - m);
    deviationCount.set(d, (deviationCount.get(d) ?? 0) + counts[v]);
  }
  const deviations = [...deviationCount.keys()].sort((a, b) => a - b);
  return {
    median: m,
    mad: median(
      deviations,
      (d) => deviationCount.get(d)!,
      (d) => d,
    ),
  };
}

/**
 * The median of a (reordered in place), exactly as the 0.5 quantile of the sorted array with
 * linear interpolation: the middle element, or the mean of the two middle ones.
 */
export function medianOf(a: Float64Array): number {
  const n = a.length;
  const pos = (n - 1) * 0.5;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const low = select(a, lo, 0, n - 1);
  if (hi === lo) return low;
  // the next order statistic: the smallest element right of lo (select left a[lo+1..] >= a[lo])
  let high = Infinity;
  for (let i = lo + 1; i < n; i++) if (a[i] < high) high = a[i];
  return low + (high - low) * (pos - lo);
}

/** The k-th smallest of a[left..right] (quickselect, median-of-three pivots); a is reordered. */
function select(a: Float64Array, k: number, left: number, right: number): number {
  while (right > left) {
    const mid = (left + right) >> 1;
    // median of three to a[mid]
    if (a[mid] < a[left]) swap(a, mid, left);
    if (a[right] < a[left]) swap(a, right, left);
    if (a[right] < a[mid]) swap(a, right, mid);
    const pivot = a[mid];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
