// JSON Lines validated in worker threads: the file is cut into byte ranges at line starts; the
// main thread validates the first range itself while a worker thread validates each other range
// with the same JsonlValidator and RecordPipeline as the single pass (lines numbered from 1
// within the range). The main thread then merges the ranges in file order: lines shifted by the
// line count of the ranges before, each range's findings added in the order a single pass adds
// them, and the duplicate checks replayed on the main thread from the hashes the workers logged
// (24 bytes a record), so "the earlier copy" is exactly the single pass's. A range never starts
// on a blank line, so a run of blank lines is never cut in two; a run still unreported at the end
// of a range is reported where a single pass reports it (when the next run starts).
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FindingCollector } from './findings';
import { JsonlValidator, blankLineMessage, readChunks } from './jsonl';
import { PipelineState, RecordPipeline } from './pipeline';
import { Finding, Severity, ValidationOptions, ValidationProgress } from './types';
import { CancelledError, fromWire, throwIfCancelled, WireError } from '../../shared/errors';

/** The CLI validates JSON Lines files at least this large in worker threads. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

export interface RangeJob {
  path: string;
  start: number;
  end: number;
  atFileStart: boolean;
  maxFindings: number;
  options: ValidationOptions;
}

export type WorkerFinding = Omit<Finding, 'file'>;

export interface RangeResult {
  type: 'done';
  lines: number;
  /** line of the range's first run of blank lines (0: none) */
  firstBlankRun: number;
  /** the range's last run of blank lines, not reported yet (one pass reports it when the next run starts) */
  pendingBlankRun: [number, number] | null;
  findings: WorkerFinding[];
  /** when each finding was added: the range's line being read (+ 0.5: line-too-long, after that line's duplicate check) */
  seq: number[];
  errors: number;
  warnings: number;
  infos: number;
  byCode: Record<string, number>;
  state: PipelineState;
}

export type WorkerMessage = RangeResult | { type: 'progress'; bytes: number } | { type: 'error'; error: WireError };

const isBlankByte = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d;

/**
 * Cuts [0, size) into at most `parts` ranges whose boundaries are line starts, each near an
 * equal share of the bytes, and each the start of a non-blank line. Returns the boundaries,
 * from 0 to size.
 */
export async function splitRanges(path: string, size: number, parts: number): Promise<number[]> {
  const bounds = [0];
  const handle = await open(path, 'r');
  try {
    const window = Buffer.alloc(1 << 16);
    for (let k = 1; k < parts; k++) {
      let pos = Math.max(Math.floor((size * k) / parts), bounds[bounds.length - 1] + 1);
      // state: 0 = looking for a newline; 1 = at a line start, looking for a non-blank byte
      let state = 0;
      let candidate = -1;
      let found = -1;
      while (found < 0 && pos < size) {
        const { bytesRead } = await handle.read(window, 0, window.length, pos);
        if (bytesRead === 0) break;
        for (let i = 0; i < bytesRead; i++) {
          const c = window[i];
          if (c === 0x0a) {
            state = 1;
            candidate = pos + i + 1;
          } else if (state === 1 && !isBlankByte(c)) {
            found = candidate;
            break;
          }
        }
        pos += bytesRead;
      }
      if (found < 0 || found >= size) break;
      bounds.push(found);
    }
  } finally {
    await handle.close();
  }
  bounds.push(size);
  return bounds;
}

function workerEntry(): { file: string; eval: boolean } {
  // bundled: dist/validateWorker.js beside dist/cli.js (or dist/validation.js); from source
  // (tests under tsx): the .ts entry, loaded through tsx's CommonJS hook
  const js = join(__dirname, 'validateWorker.js');
  if (existsSync(js)) return { file: js, eval: false };
  return { file: join(__dirname, 'validateWorker.ts'), eval: true };
}

/**
 * Whether worker threads can be started here: the bundled entry is beside this bundle, or this is
 * the TypeScript source (tests). Otherwise (a bundle shipped without it) files take one pass.
 */
export function workersAvailable(): boolean {
  return existsSync(join(__dirname, 'validateWorker.js')) || existsSync(join(__dirname, 'validateWorker.ts'));
}

function startRange(job: RangeJob): Worker {
  const entry = workerEntry();
  return entry.eval
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry.file)});`, { eval: true, workerData: job })
    : new Worker(entry.file, { workerData: job });
}

const CHUNK_BYTES = 1 << 20;

/**
 * Validates the JSON Lines file `path` (`size` bytes) on this thread and up to `workers` - 1
 * worker threads, adding to `collector` and `pipeline` what a single pass would have (the
 * caller then calls pipeline.finish(), as after a single pass).
 */
export async function validateJsonlInWorkers(
  path: string,
  size: number,
  collector: FindingCollector,
  pipeline: RecordPipeline,
  options: ValidationOptions,
  progress: ValidationProgress,
  workers: number,
): Promise<void> {
  const signal = progress.signal;
  const bounds = await splitRanges(path, size, workers);
  const threads: Worker[] = [];
  const read = new Array<number>(bounds.length - 1).fill(0);
  const report = () =>
    progress.onProgress?.(
      read.reduce((a, b) => a + b, 0),
      size,
    );
  let failed: ((error: Error) => void) | undefined;
  let firstError: Error | undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = (error) => {
      firstError ??= error;
      reject(error);
    };
  });
  failure.catch(() => undefined);
  const onAbort = () => failed!(new CancelledError('validation cancelled'));
  signal?.addEventListener('abort', onAbort);
  // ranges 1.. in worker threads
  const results = bounds.slice(1, -1).map((start, j) => {
    const k = j + 1;
    const worker = startRange({ path, start, end: bounds[k + 1], atFileStart: false, maxFindings: collector.maxFindings, options: plainOptions(options) });
    threads.push(worker);
    return new Promise<RangeResult>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          read[k] = message.bytes;
          report();
        } else if (message.type === 'done') {
          resolve(message);
          // its memory (heap, read buffers) goes now, not when the slowest range is done
          void worker.terminate();
        } else reject(fromWire(message.error));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`validation worker exited with code ${code}`)));
    }).catch((error: Error) => {
      failed!(error);
      throw error;
    });
  });
  results.forEach((r) => r.catch(() => undefined));
  try {
    throwIfCancelled(signal, 'validation cancelled');
    // range 0 on this thread, straight into the file's pipeline
    const jsonl = new JsonlValidator(collector, pipeline);
    // this pipeline checks the duplicates of every range
    jsonl.expectedBytes = size;
    for await (const chunk of readChunks(path, 0, bounds[1], CHUNK_BYTES)) {
      throwIfCancelled(signal, 'validation cancelled');
      if (firstError) throw firstError;
      jsonl.push(chunk, true);
      read[0] += chunk.length;
      report();
    }
    jsonl.end(false);
    let lineBase = jsonl.lines;
    let blankRun = jsonl.pendingBlankRun();
    for (let j = 0; j < results.length; j++) {
      const part = await Promise.race([results[j], failure]);
      // drop the settled promise: the part's arrays are freed once merged
      results[j] = Promise.resolve(null as unknown as RangeResult);
      blankRun = mergePart(part, lineBase, blankRun, collector, pipeline);
      lineBase += part.lines;
    }
    if (blankRun) collector.add(blankRun[0], 1, blankRun[1], 1, 'warning', 'blank-line', blankLineMessage(blankRun[0], blankRun[1]));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

/** Only the plain-data options cross the thread boundary. */
function plainOptions(options: ValidationOptions): ValidationOptions {
  return { maxFindings: options.maxFindings, contextLimit: options.contextLimit, tokenizerPath: options.tokenizerPath };
}

/**
 * Adds one range's findings and state; `blankRun`: a run of blank lines (absolute lines) not yet
 * reported, which is reported where the range's first run of blank lines starts. Returns the run
 * left unreported after this range.
 */
function mergePart(
  part: RangeResult,
  base: number,
  blankRun: [number, number] | null,
  collector: FindingCollector,
  pipeline: RecordPipeline,
): [number, number] | null {
  const findings = part.findings;
  const kept = { error: 0, warning: 0, info: 0 } as Record<Severity, number>;
  const keptByCode: Record<string, number> = {};
  let i = 0;
  const addUpTo = (line: number) => {
    for (;;) {
      const next = i < findings.length ? part.seq[i] + base : Infinity;
      if (blankRun && part.firstBlankRun > 0 && part.firstBlankRun + base <= Math.min(line, next)) {
        collector.add(blankRun[0], 1, blankRun[1], 1, 'warning', 'blank-line', blankLineMessage(blankRun[0], blankRun[1]));
        blankRun = null;
      }
      if (i >= findings.length || next > line) return;
      const f = findings[i++];
      kept[f.severity]++;
      keptByCode[f.code] = (keptByCode[f.code] ?? 0) + 1;
      const message = f.code === 'blank-line' ? blankLineMessage(f.line + base, f.endLine + base) : f.message;
      collector.add(
        f.line + base,
        f.column,
        f.endLine + base,
        f.endColumn,
        f.severity,
        f.code,
        message,
        f.fix ? { ...f.fix, line: f.fix.line + base } : undefined,
      );
    }
  };
  pipeline.merge(part.state, base, addUpTo);
  addUpTo(Infinity);
  const droppedByCode: Record<string, number> = {};
  for (const [code, n] of Object.entries(part.byCode)) droppedByCode[code] = n - (keptByCode[code] ?? 0);
  collector.countDropped(part.errors - kept.error, part.warnings - kept.warning, part.infos - kept.info, droppedByCode);
  const pending = part.pendingBlankRun;
  if (pending) return [pending[0] + base, pending[1] + base];
  return part.firstBlankRun > 0 ? null : blankRun;
}
