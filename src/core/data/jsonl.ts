// JSON Lines: bytes in (chunks of any size), one record per line, exact 1-based line numbers and
// UTF-16 columns (what editors show). Handles a BOM on line 1, CRLF, blank lines, lines longer
// than a chunk (kept as a list of parts until their newline arrives, never re-copied per chunk),
// and invalid UTF-8 (reported, then the line is read as an editor would, with U+FFFD).
import { openRegular } from '../io/regularFile';
import { FindingCollector } from './findings';
import { JsonTape, skipWs } from './jsonScan';
import { LineLocator, RecordPipeline } from './pipeline';
import { BATCH_RECORDS, WasmScanner, wasmScanner } from './wasmScan';

/** Lines longer than this are not assembled in memory (64 MB is ~16M tokens of text). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class JsonlValidator {
  private readonly tape = new JsonTape();
  private readonly loc = new LineLocator();
  private lineNo = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private blankRunStart = 0;
  private blankRunEnd = 0;
  private firstLineNote = false;
  private skipping = false;
  /** false for a byte range that starts inside the file (worker threads): no BOM, no line-1 notes */
  atFileStart = true;
  /** the line where the first run of blank lines starts (0: none yet) */
  firstBlankRun = 0;
  /**
   * The size of the file whose records this validator's pipeline will hold, when known: after
   * the first megabyte, the pipeline's duplicate set is sized for the records the file is then
   * likely to hold (see RecordPipeline.reserveRecords).
   */
  expectedBytes = 0;
  private bytesSeen = 0;
  /** the WebAssembly fast path for valid lines (null: the TypeScript scanner does every line) */
  wasm: WasmScanner | null = wasmScanner();

  constructor(
    private readonly collector: FindingCollector,
    readonly pipeline: RecordPipeline,
    /** a line longer than this is reported and skipped, not buffered: memory stays bounded */
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  private startSkipping(): void {
    const line = this.lineNo + 1;
    this.collector.add(
      line,
      1,
      line,
      1,
      'error',
      'line-too-long',
      `line is longer than ${Math.round(this.maxLineBytes / 2 ** 20)} MB: it was not parsed (no single training record is this long; is the file JSON Lines?)`,
    );
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = true;
  }

  /**
   * Feeds the next chunk of the file. `reused`: the caller reads the next chunk into the same
   * memory, so the part of a line left over at the end is copied (a reused read buffer leaves no
   * garbage chunks behind: memory stays flat, see readChunks).
   */
  push(chunk: Buffer, reused = false): void {
    // read into the WebAssembly module's memory, so that its lines are scanned where they lie
    if (this.wasm && chunk.length <= this.wasm.chunkBytes) {
      chunk = this.wasm.load(chunk);
      reused = true;
    }
    let from = 0;
    let nl = chunk.indexOf(10);
    if (this.skipping) {
      // inside a line over the limit: drop bytes up to its newline
      if (nl < 0) return;
      this.skipping = false;
      this.lineNo++;
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    } else if (nl < 0) {
      this.pending.push(reused ? Buffer.from(chunk) : chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > this.maxLineBytes) this.startSkipping();
      return;
    }
    if (this.pending.length && from === 0) {
      // the line that started in earlier chunks ends here
      if (this.pendingBytes + nl > this.maxLineBytes) {
        this.startSkipping();
        this.skipping = false;
        this.lineNo++;
      } else {
        this.pending.push(chunk.subarray(0, nl));
        const line = Buffer.concat(this.pending, this.pendingBytes + nl);
        this.pending = [];
        this.pendingBytes = 0;
        this.line(line, 0, line.length);
      }
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    }
    // a chunk in the module's memory: runs of clean chat records are checked there a batch at a
    // time (wasmScan.ts batch), and only the lines it leaves come through line() one by one
    const wasm = this.wasm && chunk.buffer === this.wasm.mem.buffer ? this.wasm : null;
    const pipeline = this.pipeline;
    while (nl >= 0) {
      // not line 1 (a BOM, the pretty-printed JSON note), nor before the pipeline's schema samples are complete
      if (wasm && this.lineNo > 0 && pipeline.batchReady) {
        const base = chunk.byteOffset;
        const n = wasm.batch(base + from, base + chunk.length, this.maxLineBytes, pipeline.contextLimit);
        if (n > 0) {
          const firstLine = this.lineNo + 1;
          this.lineNo += n;
          pipeline.handleBatch(wasm.batchOut, n, firstLine);
          from = wasm.batchEnd - base;
          nl = chunk.indexOf(10, from);
          if (nl < 0) break;
          if (n === BATCH_RECORDS) continue;
        }
      }
      if (nl - from > this.maxLineBytes) {
        this.startSkipping();
        this.skipping = false;
        this.lineNo++;
      } else this.line(chunk, from, nl);
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    }
    if (from < chunk.length) {
      this.pending.push(reused ? Buffer.from(chunk.subarray(from)) : chunk.subarray(from));
      this.pendingBytes += chunk.length - from;
      if (this.pendingBytes > this.maxLineBytes) this.startSkipping();
    }
    if (this.expectedBytes > 0) {
      this.bytesSeen += chunk.length;
      if (this.bytesSeen >= 1 << 20) {
        this.pipeline.reserveRecords(Math.ceil((this.pipeline.records * this.expectedBytes) / this.bytesSeen));
        this.expectedBytes = 0;
      }
    }
  }

  /**
   * Ends the input: the last line may lack its newline. `flushBlank` false (a byte range of a
   * larger file): a blank run at the end is left pending (see pendingBlankRun), as one pass over
   * the whole file reports it only when the next run of blank lines starts, or at its end.
   */
  end(flushBlank = true): void {
    if (this.skipping) {
      this.skipping = false;
      this.lineNo++;
    } else if (this.pendingBytes > 0) {
      const line = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.line(line, 0, line.length);
    }
    if (flushBlank) this.flushBlankRun();
  }

  /** The run of blank lines not yet reported, [first, last] line, or null. */
  pendingBlankRun(): [number, number] | null {
    return this.blankRunStart > 0 ? [this.blankRunStart, this.blankRunEnd] : null;
  }

  get lines(): number {
    return this.lineNo;
  }

  private line(buf: Buffer, s: number, e: number): void {
    const lineNo = ++this.lineNo;
    if (e > s && buf[e - 1] === 13) e--;
    if (lineNo === 1 && this.atFileStart && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    const first = skipWs(buf, s, e);
    if (first === e) {
      if (this.blankRunEnd === lineNo - 1 && this.blankRunStart > 0) this.blankRunEnd = lineNo;
      else {
        if (this.firstBlankRun === 0) this.firstBlankRun = lineNo;
        this.flushBlankRun();
        this.blankRunStart = this.blankRunEnd = lineNo;
      }
      return;
    }
    const loc = this.loc;
    const wasm = this.wasm;
    if (wasm) {
      // the fast path: a line it accepts is valid JSON, its tape in the module's memory
      const d = wasm.locate(buf, s, e) - s;
      if (d >= -s && wasm.scan(first + d, e + d)) {
        loc.buf = wasm.mem;
        loc.lineStart = s + d;
        loc.lineNo = lineNo;
        loc.nonAscii = wasm.tape.nonAscii;
        this.record(wasm.tape, wasm.mem, first + d, e + d, lineNo);
        return;
      }
    }
    const tape = this.tape;
    const ok = tape.scanDocument(buf, first, e);
    loc.buf = buf;
    loc.lineStart = s;
    loc.lineNo = lineNo;
    // a scan that stopped early saw only the bytes before the error
    loc.nonAscii = ok ? tape.nonAscii : hasNonAsciiBefore(buf, s, Math.min(e, tape.errorOffset + 4));
    if (!ok) {
      const at = tape.errorOffset;
      if (tape.utf8ErrorOffset >= 0 && tape.utf8ErrorOffset < at) {
        this.pipeline.report(
          loc,
          'utf8-invalid',
          'error',
          'invalid UTF-8 byte sequence (the text was probably saved in another encoding)',
          tape.utf8ErrorOffset,
          tape.utf8ErrorOffset + 1,
        );
      }
      let message = `malformed JSON: ${tape.errorMessage}`;
      if (lineNo === 1 && this.atFileStart && !this.firstLineNote && (buf[first] === 0x5b || buf[first] === 0x7b) && skipWs(buf, first + 1, e) === e) {
        message += '. The file looks like pretty-printed JSON, not JSON Lines (one record per line); save it as .json or write one record per line';
        this.firstLineNote = true;
      }
      this.pipeline.report(loc, 'json-malformed', 'error', message, at, Math.min(at + 1, Math.max(e, at + 1)));
      return;
    }
    this.record(tape, buf, first, e, lineNo);
  }

  /** A line scanned into `tape` without a syntax error: buf[first, e). */
  private record(tape: JsonTape, buf: Uint8Array, first: number, e: number, lineNo: number): void {
    // trailing spaces do not make a line different from its copy
    let rawEnd = e;
    while (rawEnd > first && (buf[rawEnd - 1] === 0x20 || buf[rawEnd - 1] === 0x09)) rawEnd--;
    this.pipeline.handle(tape, 0, this.loc, first, rawEnd, lineNo);
  }

  private flushBlankRun(): void {
    if (this.blankRunStart === 0) return;
    const a = this.blankRunStart;
    const b = this.blankRunEnd;
    this.blankRunStart = this.blankRunEnd = 0;
    this.collector.add(a, 1, b, 1, 'warning', 'blank-line', blankLineMessage(a, b));
  }
}

export function blankLineMessage(a: number, b: number): string {
  const what = a === b ? `line ${a} is blank` : `lines ${a}-${b} are blank`;
  return `${what}: JSON Lines has one record per line, and some loaders fail on empty lines`;
}

function hasNonAsciiBefore(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] >= 0x80) return true;
  return false;
}

/**
 * Reads bytes [start, end) of a file in chunks of `chunkBytes` into one reused buffer (each
 * chunk is valid until the next is read: feed it to JsonlValidator.push(chunk, true)).
 */
export async function* readChunks(path: string, start: number, end: number, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
  const { handle } = await openRegular(path);
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let pos = start;
    while (pos < end) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, end - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
