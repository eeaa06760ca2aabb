// Entry points: validateFile (streams from disk, progress, cancellation) and validateText (an
// unsaved editor buffer; the same bytes give the same findings).
import { open } from 'node:fs/promises';
import { assertRegularFile, createRegularReadStream } from '../io/regularFile';
import { CsvValidator } from './csv';
import { FindingCollector } from './findings';
import { jsonLayoutOfBytes, validateJsonDocument } from './jsonDocument';
import { JsonlValidator, readChunks } from './jsonl';
import { validateJsonlInWorkers, workersAvailable } from './parallel';
import { RecordPipeline } from './pipeline';
import { tokenCounter } from './tokens';
import { ValidationOptions, ValidationProgress, ValidationResult, ValidationSummary } from './types';
import { throwIfCancelled } from '../../shared/errors';
import { DataFileFormat, dataFileFormat } from '../../shared/dataFiles';

export type FileFormat = DataFileFormat;

export const DEFAULT_MAX_FINDINGS = 1000;
export const DEFAULT_CONTEXT_LIMIT = 4096;
/** .json documents are read whole; beyond this size, convert them to JSON Lines. */
export const MAX_JSON_DOCUMENT_BYTES = 512 * 1024 * 1024;
const CHUNK_BYTES = 1 << 20;

/** The format a path is validated as, or null when it is not a data file Preflight reads. */
export function formatOf(path: string): FileFormat | null {
  return dataFileFormat(path) ?? null;
}

/**
 * Whether a file met while walking a folder is data (the shared rule over its first 64 KiB):
 * configuration .json files (config.json, dataset_info.json) are left alone. A file that cannot
 * be read counts as data, so that validating it reports why.
 */
export async function isDataFileOnDisk(path: string): Promise<boolean> {
  const format = dataFileFormat(path);
  if (format !== 'json') return format !== undefined;
  try {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(65536);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return jsonLayoutOfBytes(head.subarray(0, bytesRead)) !== 'document';
    } finally {
      await handle.close();
    }
  } catch {
    return true;
  }
}

interface Validator {
  /** `reused`: the chunk's memory is read into again afterwards (JSON Lines only) */
  push(chunk: Buffer, reused?: boolean): void;
  end(): Promise<{ records: number; schema: string | null }>;
}

async function makeValidator(format: FileFormat, collector: FindingCollector, options: ValidationOptions, expectedBytes = 0): Promise<Validator> {
  if (format === 'csv') {
    const csv = new CsvValidator(collector, { levels: options.labelLevels, columns: options.labelColumns });
    return {
      push: (chunk) => csv.push(chunk),
      end: async () => {
        await csv.end();
        return { records: csv.rows, schema: 'csv' };
      },
    };
  }
  const pipeline = new RecordPipeline(collector, options.contextLimit ?? DEFAULT_CONTEXT_LIMIT, await tokenCounter(options));
  if (format === 'jsonl') {
    const jsonl = new JsonlValidator(collector, pipeline);
    jsonl.expectedBytes = expectedBytes;
    return {
      push: (chunk, reused) => jsonl.push(chunk, reused),
      end: async () => {
        jsonl.end();
        const schema = pipeline.finish();
        return { records: pipeline.records, schema };
      },
    };
  }
  // .json: gather the document (bounded by MAX_JSON_DOCUMENT_BYTES), then scan it
  const parts: Buffer[] = [];
  let size = 0;
  return {
    push: (chunk) => {
      parts.push(chunk);
      size += chunk.length;
    },
    end: async () => {
      const buf = Buffer.concat(parts, size);
      if (jsonLayoutOfBytes(buf) === 'lines') {
        const jsonl = new JsonlValidator(collector, pipeline);
        jsonl.push(buf);
        jsonl.end();
      } else validateJsonDocument(buf, collector, pipeline);
      const schema = pipeline.finish();
      return { records: pipeline.records, schema };
    },
  };
}

function summarize(file: string, bytes: number, collector: FindingCollector, outcome: { records: number; schema: string | null }): ValidationResult {
  const findings = collector.finish();
  const summary: ValidationSummary = {
    file,
    bytes,
    records: outcome.records,
    schema: outcome.schema,
    errors: collector.errors,
    warnings: collector.warnings,
    infos: collector.infos,
    truncated: collector.truncated,
    byCode: { ...collector.byCode },
  };
  if (outcome.records === 0 && collector.errors === 0) {
    findings.unshift({ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'warning', code: 'file-empty', message: 'no records in this file' });
    summary.warnings++;
    summary.byCode!['file-empty'] = 1;
  }
  return { findings, summary };
}

/**
 * Validates a JSONL, JSON or CSV file, streaming it from disk. Rejects with an Error whose name is
 * CancelledError when `progress.signal` aborts, and with the file system's error when unreadable.
 */
export async function validateFile(path: string, options: ValidationOptions = {}, progress: ValidationProgress = {}): Promise<ValidationResult> {
  const format = formatOf(path) ?? 'jsonl';
  const signal = progress.signal;
  throwIfCancelled(signal, 'validation cancelled');
  // a FIFO, device or folder is refused here, before any stream is opened on it
  const totalBytes = await assertRegularFile(path);
  const collector = new FindingCollector(path, options.maxFindings ?? DEFAULT_MAX_FINDINGS);
  if (format === 'json' && totalBytes > MAX_JSON_DOCUMENT_BYTES) {
    // sniff: a big .json that is really JSON Lines streams fine
    const handle = await open(path, 'r');
    const head = Buffer.alloc(1 << 20);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    await handle.close();
    if (jsonLayoutOfBytes(head.subarray(0, bytesRead)) !== 'lines') {
      collector.add(
        1,
        1,
        1,
        1,
        'error',
        'file-too-large',
        `a ${(totalBytes / 2 ** 20).toFixed(0)} MB .json document is too large to read at once; write it as JSON Lines (.jsonl) to validate it as a stream`,
      );
      return summarize(path, totalBytes, collector, { records: 0, schema: null });
    }
  }
  if (format === 'jsonl' && (options.workers ?? 1) > 1 && workersAvailable()) {
    const pipeline = new RecordPipeline(collector, options.contextLimit ?? DEFAULT_CONTEXT_LIMIT, await tokenCounter(options));
    await validateJsonlInWorkers(path, totalBytes, collector, pipeline, options, progress, Math.floor(options.workers!));
    throwIfCancelled(signal, 'validation cancelled');
    return summarize(path, totalBytes, collector, { records: pipeline.records, schema: pipeline.finish() });
  }
  const effective = format === 'json' && totalBytes > MAX_JSON_DOCUMENT_BYTES ? 'jsonl' : format;
  const validator = await makeValidator(effective, collector, options, totalBytes);
  let bytesRead = 0;
  if (effective === 'jsonl') {
    // JSON Lines: one reused read buffer (the validator copies what it keeps of a chunk)
    for await (const chunk of readChunks(path, 0, Infinity, CHUNK_BYTES)) {
      throwIfCancelled(signal, 'validation cancelled');
      validator.push(chunk, true);
      bytesRead += chunk.length;
      progress.onProgress?.(bytesRead, totalBytes);
    }
  } else {
    const stream = createRegularReadStream(path, { highWaterMark: CHUNK_BYTES });
    try {
      for await (const chunk of stream) {
        throwIfCancelled(signal, 'validation cancelled');
        validator.push(chunk as Buffer);
        bytesRead += (chunk as Buffer).length;
        progress.onProgress?.(bytesRead, totalBytes);
      }
    } finally {
      stream.destroy();
    }
  }
  throwIfCancelled(signal, 'validation cancelled');
  return summarize(path, bytesRead, collector, await validator.end());
}

/**
 * Validates the text of an unsaved editor buffer as if it were the file `file` (its extension
 * picks the format). Gives the same findings as validateFile on the same content.
 */
export async function validateText(text: string, file: string, options: ValidationOptions = {}): Promise<ValidationResult> {
  const format = formatOf(file) ?? 'jsonl';
  const collector = new FindingCollector(file, options.maxFindings ?? DEFAULT_MAX_FINDINGS);
  const validator = await makeValidator(format, collector, options);
  const buf = Buffer.from(text, 'utf8');
  validator.push(buf);
  return summarize(file, buf.length, collector, await validator.end());
}
