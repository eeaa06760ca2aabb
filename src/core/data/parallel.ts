// JSON Lines validated in worker threads: the file is cut into byte ranges at line starts, each
// worker streams its range with the same JsonlValidator and RecordPipeline as the single pass
// (lines numbered from 1 within the range), and the main thread merges the parts in file order:
// lines shifted by the line count of the parts before, the parts' findings added in the order a
// single pass adds them, and the duplicate checks replayed on the main thread from the hashes the
// workers logged (16 + 8 bytes a record), so "the earlier copy" is exactly the single pass's.
// A range never starts on a blank line, so a run of blank lines is never cut in two.
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FindingCollector } from './findings';
import { blankLineMessage } from './jsonl';
import { PipelineState, RecordPipeline } from './pipeline';
import { Finding, Severity, ValidationOptions, ValidationProgress } from './types';

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
  findings: WorkerFinding[];
  /** when each finding was added: the range's line being read (+ 0.5 after its duplicate check) */
  seq: number[];
  errors: number;
  warnings: number;
  infos: number;
  byCode: Record<string, number>;
  state: PipelineState;
}

export type WorkerMessage = RangeResult | { type: 'progress'; bytes: number } | { type: 'error'; message: string; code?: string; name?: string };

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

function startRange(job: RangeJob): Worker {
  const entry = workerEntry();
  return entry.eval
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry.file)});`, { eval: true, workerData: job })
    : new Worker(entry.file, { workerData: job });
}

function abortError(): Error {
  const error = new Error('validation cancelled');
  error.name = 'AbortError';
  return error;
}

/**
 * Validates the JSON Lines file `path` (`size` bytes) in up to `workers` threads, adding to
 * `collector` and `pipeline` what a single pass would have (the caller then calls
 * pipeline.finish(), as after a single pass).
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
  const bounds = await splitRanges(path, size, workers);
  const threads: Worker[] = [];
  const read = new Array<number>(bounds.length - 1).fill(0);
  let failed: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  const onAbort = () => failed!(abortError());
  progress.signal?.addEventListener('abort', onAbort);
  const results = bounds.slice(0, -1).map((start, k) => {
    const worker = startRange({ path, start, end: bounds[k + 1], atFileStart: start === 0, maxFindings: collector.maxFindings, options: plainOptions(options) });
    threads.push(worker);
    return new Promise<RangeResult>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          read[k] = message.bytes;
          progress.onProgress?.(read.reduce((a, b) => a + b, 0), size);
        } else if (message.type === 'done') resolve(message);
        else reject(Object.assign(new Error(message.message), { code: message.code, name: message.name ?? 'Error' }));
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
    if (progress.signal?.aborted) throw abortError();
    let lineBase = 0;
    for (const pending of results) {
      const part = await Promise.race([pending, failure]);
      mergePart(part, lineBase, collector, pipeline);
      lineBase += part.lines;
    }
  } finally {
    progress.signal?.removeEventListener('abort', onAbort);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

/** Only the plain-data options cross the thread boundary. */
function plainOptions(options: ValidationOptions): ValidationOptions {
  return { maxFindings: options.maxFindings, contextLimit: options.contextLimit, tokenizerPath: options.tokenizerPath };
}

function mergePart(part: RangeResult, base: number, collector: FindingCollector, pipeline: RecordPipeline): void {
  const findings = part.findings;
  const kept = { error: 0, warning: 0, info: 0 } as Record<Severity, number>;
  const keptByCode: Record<string, number> = {};
  let i = 0;
  const addUpTo = (line: number) => {
    while (i < findings.length && part.seq[i] + base <= line) {
      const f = findings[i++];
      kept[f.severity]++;
      keptByCode[f.code] = (keptByCode[f.code] ?? 0) + 1;
      const message = f.code === 'blank-line' ? blankLineMessage(f.line + base, f.endLine + base) : f.message;
      collector.add(f.line + base, f.column, f.endLine + base, f.endColumn, f.severity, f.code, message, f.fix ? { ...f.fix, line: f.fix.line + base } : undefined);
    }
  };
  pipeline.merge(part.state, base, addUpTo);
  addUpTo(Infinity);
  const droppedByCode: Record<string, number> = {};
  for (const [code, n] of Object.entries(part.byCode)) droppedByCode[code] = n - (keptByCode[code] ?? 0);
  collector.countDropped(part.errors - kept.error, part.warnings - kept.warning, part.infos - kept.info, droppedByCode);
}
