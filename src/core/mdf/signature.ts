// MDF signatures (docs/mdf.md §1, Signature): s_l = mean over records of layer l's residual output at the
// record's anchor token, from the frozen base model. Cached on disk by model, file content,
// formatting options and sample settings, so an unchanged file is never recomputed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ensureCacheDir } from '../io/cacheDir';
import { MAX_CONFIG_BYTES, readRegularFileSync } from '../io/regularFile';
import { join } from 'node:path';
import type { InferenceModel } from '../model/api';
import { FormatOptions, RecordFormat, hashFile, renderRecord, streamJsonl, tokenizeRecord } from './records';
import { throwIfCancelled } from '../../shared/errors';

export const SIGNATURE_CACHE_VERSION = 1;

export interface SignatureOptions extends FormatOptions {
  /** identifies the model's weights and graph (see modelFingerprint) */
  modelHash: string;
  /** records sampled while streaming (reservoir, seeded); 0 = every record. Default 1000. */
  samples?: number;
  seed?: number;
  /** rows per forward batch (default 8) and padded tokens per batch (default 4096) */
  batchSize?: number;
  batchTokens?: number;
  /** keep each record's hidden states (for attribution) while they fit in this many bytes; default 512 MiB */
  perRecordBudgetBytes?: number;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SignatureProgress) => void;
}

export interface SignatureProgress {
  phase: 'hash' | 'read' | 'forward';
  done: number;
  total: number;
}

export interface Signature {
  key: string;
  modelHash: string;
  fileSha256: string;
  numLayers: number;
  hiddenSize: number;
  /** s, [numLayers * hiddenSize] row-major */
  mean: Float32Array;
  /** ||s_l|| per layer */
  layerNorms: number[];
  /** records in the file that matched a schema, and lines skipped */
  records: number;
  skipped: number;
  /** records the signature averages (the sample) */
  used: number;
  samples: number;
  seed: number;
  formats: Partial<Record<RecordFormat, number>>;
  /** per used record: its 1-based line and a short preview of its rendered text */
  lines: number[];
  previews: string[];
  /** per used record: hiddenLast [numLayers * hiddenSize], or null when over the memory budget */
  perRecord: Float32Array[] | null;
  /** true when this came from the disk cache */
  cached: boolean;
}

export function signatureKey(
  fileSha256: string,
  options: Pick<SignatureOptions, 'modelHash' | 'format' | 'anchor' | 'maxTokens' | 'samples' | 'seed'>,
): string {
  const material = {
    v: SIGNATURE_CACHE_VERSION,
    model: options.modelHash,
    file: fileSha256,
    format: options.format ?? 'auto',
    anchor: options.anchor ?? 'final',
    maxTokens: options.maxTokens ?? 1024,
    samples: options.samples ?? 1000,
    seed: options.seed ?? 0,
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 32);
}

/**
 * Fingerprint of a built model folder: its manifest when the builder wrote one, else config.json
 * plus every file's name, size and modification time (cheap; weights are not re-read).
 */
export function modelFingerprint(dir: string): string {
  const hash = createHash('sha256');
  const names = readdirSync(dir).sort();
  for (const name of names) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    if (/manifest|config\.json$/i.test(name) && stat.size < 4 << 20) hash.update(name).update(readFileSync(path));
    hash.update(`${name}:${stat.size}:${Math.round(stat.mtimeMs)}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

function l2(values: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

export function layerNorms(vectors: Float32Array, numLayers: number, hiddenSize: number): number[] {
  return Array.from({ length: numLayers }, (_, l) => l2(vectors, l * hiddenSize, hiddenSize));
}

export async function computeSignature(model: InferenceModel, file: string, options: SignatureOptions): Promise<Signature> {
  const { numLayers, hiddenSize } = model.info;
  const samples = options.samples ?? 1000;
  const seed = options.seed ?? 0;
  const maxTokens = Math.min(options.maxTokens ?? 1024, model.info.maxPositions);
  const signal = options.signal;
  const totalBytes = statSync(file).size;
  options.onProgress?.({ phase: 'hash', done: 0, total: totalBytes });
  const fileSha256 = await hashFile(file);
  throwIfCancelled(signal);
  const key = signatureKey(fileSha256, options);
  if (options.cacheDir) {
    const hit = loadSignature(options.cacheDir, key);
    if (hit) return hit;
  }

  const streamed = await streamJsonl(
    file,
    (value, line) => {
      const rendered = renderRecord(value, model.tokenizer, options);
      return rendered ? { line, ...rendered } : null;
    },
    { samples, seed, signal, onProgress: (bytes) => options.onProgress?.({ phase: 'read', done: bytes, total: totalBytes }) },
  );
  const kept = streamed.kept.sort((a, b) => a.line - b.line);
  if (kept.length === 0) throw new Error(`${file}: no record matched a known schema (messages, prompt/completion, instruction/output, text)`);
  const formats: Partial<Record<RecordFormat, number>> = {};
  for (const r of kept) formats[r.format] = (formats[r.format] ?? 0) + 1;
  // tokenize in slices, yielding to the event loop so an abort is seen promptly
  const ids: number[][] = [];
  for (let start = 0; start < kept.length; start += 256) {
    throwIfCancelled(signal);
    for (const r of kept.slice(start, start + 256)) ids.push(tokenizeRecord(r, model.tokenizer, maxTokens));
    await new Promise((resolve) => setImmediate(resolve));
  }

  // Length-sorted batches waste the least padding.
  const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
  const batchSize = options.batchSize ?? 8;
  const batchTokens = options.batchTokens ?? 4096;
  const width = numLayers * hiddenSize;
  const keepPerRecord = kept.length * width * 4 <= (options.perRecordBudgetBytes ?? 512 << 20);
  const perRecord: Float32Array[] | null = keepPerRecord ? new Array(kept.length) : null;
  const sum = new Float64Array(width);
  let done = 0;
  for (let start = 0; start < order.length;) {
    throwIfCancelled(signal);
    let end = start + 1;
    while (end < order.length && end - start < batchSize && (end - start + 1) * ids[order[end]].length <= batchTokens) end++;
    const rows = order.slice(start, end);
    const result = await model.forward(
      rows.map((i) => ids[i]),
      { signal },
    );
    rows.forEach((recordIndex, r) => {
      const h = result.hiddenLast[r];
      for (let k = 0; k < width; k++) sum[k] += h[k];
      if (perRecord) perRecord[recordIndex] = h.slice();
    });
    done += rows.length;
    options.onProgress?.({ phase: 'forward', done, total: order.length });
    start = end;
  }
  const mean = new Float32Array(width);
  for (let k = 0; k < width; k++) mean[k] = sum[k] / kept.length;
  const signature: Signature = {
    key,
    modelHash: options.modelHash,
    fileSha256,
    numLayers,
    hiddenSize,
    mean,
    layerNorms: layerNorms(mean, numLayers, hiddenSize),
    records: streamed.records,
    skipped: streamed.skipped,
    used: kept.length,
    samples,
    seed,
    formats,
    lines: kept.map((r) => r.line),
    previews: kept.map((r) => preview(r.text)),
    perRecord,
    cached: false,
  };
  if (options.cacheDir) saveSignature(options.cacheDir, signature);
  return signature;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

/** Signature of records given in memory (tests, contrastive references, ablations). */
export function signatureFromStates(states: Float32Array[], numLayers: number, hiddenSize: number): Float32Array {
  const width = numLayers * hiddenSize;
  const sum = new Float64Array(width);
  for (const h of states) for (let k = 0; k < width; k++) sum[k] += h[k];
  const mean = new Float32Array(width);
  for (let k = 0; k < width; k++) mean[k] = sum[k] / Math.max(1, states.length);
  return mean;
}

// Cache layout: <key>.json (metadata and the mean, base64 float32) and <key>.bin (per-record states).
function toBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export function saveSignature(dir: string, signature: Signature): void {
  ensureCacheDir(dir);
  const { mean, perRecord, cached: _cached, ...meta } = signature;
  const metaPath = join(dir, `${signature.key}.json`);
  if (perRecord) {
    const width = signature.numLayers * signature.hiddenSize;
    const all = new Float32Array(perRecord.length * width);
    perRecord.forEach((h, i) => all.set(h, i * width));
    const tmp = join(dir, `${signature.key}.bin.tmp`);
    writeFileSync(tmp, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
    renameSync(tmp, join(dir, `${signature.key}.bin`));
  }
  const tmp = `${metaPath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: SIGNATURE_CACHE_VERSION, ...meta, mean: toBase64(mean), hasPerRecord: perRecord !== null }));
  renameSync(tmp, metaPath);
}

export function loadSignature(dir: string, key: string): Signature | null {
  const metaPath = join(dir, `${key}.json`);
  if (!existsSync(metaPath)) return null;
  try {
    // the cache lives in the workspace: a planted FIFO or huge file there is refused (-> recomputed)
    const meta = JSON.parse(readRegularFileSync(metaPath, { encoding: 'utf8', maxBytes: MAX_CONFIG_BYTES }));
    if (meta.version !== SIGNATURE_CACHE_VERSION || meta.key !== key) return null;
    const width = meta.numLayers * meta.hiddenSize;
    let perRecord: Float32Array[] | null = null;
    if (meta.hasPerRecord) {
      const binPath = join(dir, `${key}.bin`);
      if (!existsSync(binPath)) return null;
      const all = new Float32Array(new Uint8Array(readRegularFileSync(binPath, { maxBytes: meta.used * width * 4 || 0 })).buffer);
      if (all.length !== meta.used * width) return null;
      perRecord = Array.from({ length: meta.used }, (_, i) => all.subarray(i * width, (i + 1) * width));
    }
    const { version: _v, hasPerRecord: _h, mean, ...rest } = meta;
    return { ...rest, mean: fromBase64(mean), perRecord, cached: true } as Signature;
  } catch {
    return null;
  }
}
