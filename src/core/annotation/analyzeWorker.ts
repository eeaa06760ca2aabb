// Worker-thread entry of an annotation analysis (see analyzeInWorker.ts): runs analyzeAnnotations
// on the sources and options it is started with, posts progress, and answers once with the
// analysis (its row arrays transferred) or the error. Bundled as dist/annotationWorker.js.
import { parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../../shared/errors';
import { analyzeAnnotations, type AnalyzeOptions } from './analyze';
import type { CsvSource } from './csv';

const job = workerData as { labels: CsvSource; humans: CsvSource[]; options: Omit<AnalyzeOptions, 'signal' | 'onProgress'> };
const abort = new AbortController();
parentPort!.on('message', (message: unknown) => {
  if (message === 'cancel') abort.abort();
});
analyzeAnnotations(job.labels, job.humans, {
  ...job.options,
  signal: abort.signal,
  onProgress: (rows) => parentPort!.postMessage({ kind: 'progress', rows }),
}).then(
  (analysis) =>
    parentPort!.postMessage({ kind: 'result', analysis }, [analysis.rows.line.buffer, analysis.rows.gold.buffer, analysis.rows.llm.buffer] as ArrayBuffer[]),
  (error: unknown) => parentPort!.postMessage({ kind: 'error', error: toWire(error) }),
);
