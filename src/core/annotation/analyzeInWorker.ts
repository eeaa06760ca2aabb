// analyzeAnnotations in a worker thread of its own, so that the caller's thread (the extension
// host) stays responsive while a large file is read and bootstrapped. Same arguments and result;
// errors come back as the same types (shared/errors' wire form); cancelling stops the worker.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, fromWire, type WireError } from '../../shared/errors';
import { analyzeAnnotations, type AnalyzeOptions, type AnnotationAnalysis } from './analyze';
import type { CsvSource } from './csv';
import { errorMarks, type ErrorMark } from './errorMarks';

export interface InWorkerOptions extends AnalyzeOptions {
  /** also build the editor's error marks (errorMarks.ts), at most this many, beside the analysis:
   *  off the caller's thread too */
  errorMarks?: number;
}

/** The analysis, with its error marks when they were asked for. */
export type AnalysisWithMarks = AnnotationAnalysis & { errorMarks?: { marks: ErrorMark[]; total: number } };

export type WorkerMessage =
  | { kind: 'progress'; rows: number }
  | { kind: 'result'; analysis: AnnotationAnalysis; marks?: { marks: ErrorMark[]; total: number } }
  | { kind: 'error'; error: WireError };

function withMarks(analysis: AnnotationAnalysis, marks: { marks: ErrorMark[]; total: number } | undefined): AnalysisWithMarks {
  return marks ? Object.assign(analysis, { errorMarks: marks }) : analysis;
}

/** dist/annotationWorker.js beside the bundle; under tsx, the TypeScript entry; else none. */
function entry(): { file: string; eval: boolean } | undefined {
  const js = join(__dirname, 'annotationWorker.js');
  if (existsSync(js)) return { file: js, eval: false };
  const ts = join(__dirname, 'analyzeWorker.ts');
  return existsSync(ts) ? { file: ts, eval: true } : undefined;
}

export function analyzeAnnotationsInWorker(labels: CsvSource, humans: CsvSource[], options: InWorkerOptions = {}): Promise<AnalysisWithMarks> {
  if (options.signal?.aborted) return Promise.reject(new CancelledError());
  const where = entry();
  if (!where) {
    // no worker bundle beside this one
    const { errorMarks: max, ...rest } = options;
    return analyzeAnnotations(labels, humans, rest).then((analysis) => withMarks(analysis, max === undefined ? undefined : errorMarks(analysis, max)));
  }
  const { signal, onProgress, ...plain } = options;
  const workerData = { labels, humans, options: plain };
  const worker = where.eval
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(where.file)});`, { eval: true, workerData })
    : new Worker(where.file, { workerData });
  return new Promise<AnalysisWithMarks>((resolve, reject) => {
    const cancel = () => worker.postMessage('cancel');
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    const settle = (done: () => void) => {
      signal?.removeEventListener('abort', cancel);
      void worker.terminate();
      done();
    };
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'progress') onProgress?.(message.rows);
      else if (message.kind === 'result') settle(() => resolve(withMarks(message.analysis, message.marks)));
      else settle(() => reject(fromWire(message.error)));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`annotation worker exited (code ${code})`))));
  });
}
