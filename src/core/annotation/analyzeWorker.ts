// Worker-thread entry of an annotation analysis (see analyzeInWorker.ts): runs analyzeAnnotations
// on the sources and options it is started with, posts progress, and answers once with the
// analysis (its row arrays transferred; the editor's error marks beside it when asked) or the
// error. Bundled as dist/annotationWorker.js.
import { parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../../shared/errors';
import { analyzeAnnotations } from './analyze';
import type { InWorkerOptions, WorkerMessage } from './analyzeInWorker';
import type { CsvSource } from './csv';
import { errorMarks } from './errorMarks';

const job = workerData as { labels: CsvSource; humans: CsvSource[]; options: Omit<InWorkerOptions, 'signal' | 'onProgress'> };
const { errorMarks: maxMarks, ...options } = job.options;
const post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => parentPort!.postMessage(message, transfer);
const abort = new AbortController();
parentPort!.on('message', (message: unknown) => {
  if (message === 'cancel') abort.abort();
});
analyzeAnnotations(job.labels, job.humans, {
  ...options,
  signal: abort.signal,
  onProgress: (rows) => post({ kind: 'progress', rows }),
}).then(
  (analysis) =>
    post({ kind: 'result', analysis, marks: maxMarks === undefined ? undefined : errorMarks(analysis, maxMarks) }, [
      analysis.rows.line.buffer,
      analysis.rows.gold.buffer,
      analysis.rows.llm.buffer,
    ] as ArrayBuffer[]),
  (error: unknown) => post({ kind: 'error', error: toWire(error) }),
);
