// analyzeAnnotations in a worker thread of its own, so that the caller's thread (the extension
// host) stays responsive while a large file is read and bootstrapped. Same arguments and result;
// errors come back as the same types (shared/errors' wire form); cancelling stops the worker.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, fromWire, type WireError } from '../../shared/errors';
import { analyzeAnnotations, type AnalyzeOptions, type AnnotationAnalysis } from './analyze';
import type { CsvSource } from './csv';

type Message = { kind: 'progress'; rows: number } | { kind: 'result'; analysis: AnnotationAnalysis } | { kind: 'error'; error: WireError };

/** dist/annotationWorker.js beside the bundle; under tsx, the TypeScript entry; else none. */
function entry(): { file: string; eval: boolean } | undefined {
  const js = join(__dirname, 'annotationWorker.js');
  if (existsSync(js)) return { file: js, eval: false };
  const ts = join(__dirname, 'analyzeWorker.ts');
  return existsSync(ts) ? { file: ts, eval: true } : undefined;
}

export function analyzeAnnotationsInWorker(labels: CsvSource, humans: CsvSource[], options: AnalyzeOptions = {}): Promise<AnnotationAnalysis> {
  if (options.signal?.aborted) return Promise.reject(new CancelledError());
  const where = entry();
  if (!where) return analyzeAnnotations(labels, humans, options); // no worker bundle beside this one
  const { signal, onProgress, ...plain } = options;
  const workerData = { labels, humans, options: plain };
  const worker = where.eval
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(where.file)});`, { eval: true, workerData })
    : new Worker(where.file, { workerData });
  return new Promise<AnnotationAnalysis>((resolve, reject) => {
    const cancel = () => worker.postMessage('cancel');
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    const settle = (done: () => void) => {
      signal?.removeEventListener('abort', cancel);
      void worker.terminate();
      done();
    };
    worker.on('message', (message: Message) => {
      if (message.kind === 'progress') onProgress?.(message.rows);
      else if (message.kind === 'result') settle(() => resolve(message.analysis));
      else settle(() => reject(fromWire(message.error)));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`annotation worker exited (code ${code})`))));
  });
}
