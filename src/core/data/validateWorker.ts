// Worker-thread entry: validates one byte range of a JSON Lines file (see parallel.ts) and posts
// its findings and pipeline state back. Bundled as dist/validateWorker.js.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FindingCollector } from './findings';
import { JsonlValidator, readChunks } from './jsonl';
import type { RangeJob, RangeResult, WorkerMessage } from './parallel';
import { RecordPipeline } from './pipeline';
import { tokenCounter } from './tokens';
import { toWire } from '../../shared/errors';

const DEFAULT_CONTEXT_LIMIT = 4096;
const CHUNK_BYTES = 1 << 20;

/**
 * Notes, for each finding it keeps, when it was added: the line being read then (plus 0.5 for a
 * line-too-long finding, added for the next line once this one's duplicate check is done). The
 * main thread replays the duplicate checks between these.
 */
class SequencedCollector extends FindingCollector {
  readonly seq: number[] = [];
  at: (code: string) => number = () => 0;
  override add(...args: Parameters<FindingCollector['add']>): void {
    if (this.findings.length < this.maxFindings) this.seq.push(this.at(args[6]));
    super.add(...args);
  }
}

async function run(job: RangeJob): Promise<RangeResult> {
  const collector = new SequencedCollector(job.path, job.maxFindings);
  const pipeline = new RecordPipeline(collector, job.options.contextLimit ?? DEFAULT_CONTEXT_LIMIT, await tokenCounter(job.options));
  pipeline.deferDuplicates = true;
  const jsonl = new JsonlValidator(collector, pipeline);
  jsonl.atFileStart = job.atFileStart;
  collector.at = (code) => jsonl.lines + (code === 'line-too-long' ? 0.5 : 0);
  let bytes = 0;
  if (job.end > job.start) {
    for await (const chunk of readChunks(job.path, job.start, job.end, CHUNK_BYTES)) {
      jsonl.push(chunk, true);
      bytes += chunk.length;
      parentPort!.postMessage({ type: 'progress', bytes } satisfies WorkerMessage);
    }
  }
  jsonl.end(false);
  const findings = collector.findings.map(({ file: _file, ...rest }) => rest);
  return {
    type: 'done',
    lines: jsonl.lines,
    firstBlankRun: jsonl.firstBlankRun,
    pendingBlankRun: jsonl.pendingBlankRun(),
    findings,
    seq: collector.seq,
    errors: collector.errors,
    warnings: collector.warnings,
    infos: collector.infos,
    byCode: collector.byCode,
    state: pipeline.exportState(),
  };
}

if (!isMainThread && parentPort) {
  run(workerData as RangeJob).then(
    (result) => {
      const s = result.state;
      parentPort!.postMessage(result, [s.lengths.buffer, s.lengthLines.buffer, s.lengthColumns.buffer, s.duplicates.buffer] as ArrayBuffer[]);
    },
    (error: unknown) => parentPort!.postMessage({ type: 'error', error: toWire(error) } satisfies WorkerMessage),
  );
}
