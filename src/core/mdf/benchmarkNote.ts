// What the Data2Behavior benchmark measured for a forecaster on this very model (the same weights),
// for a report's summary.validation. The Python forecasters apply the same rule and the same model
// identity (python/preflight_train/forecast.py, `validation` and `bench_model_hash`).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { openRegularSync, readJsonFileSync } from '../io/regularFile';
import { packageRoot } from '../model/modelSource';

/** The files whose bytes identify a benchmarked model, in hashing order. */
const IDENTITY_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];
/** Larger checkpoints are not hashed on every forecast: no benchmark result names them yet. */
const MAX_HASHED_BYTES = 512 * 2 ** 20;

export const NOT_VALIDATED =
  'not validated for this model: a risk level says the probes moved under the signature beyond both controls, not that fine-tuning will move them; see docs/data2behavior.md for what the benchmark measured';

interface BenchRow {
  name?: string;
  spearman?: number | null;
  spearman_ci?: [number, number];
  sign_accuracy?: number | null;
}
interface BenchResults {
  model_sha256_16?: string;
  sets?: number;
  seeds?: number;
  forecasters?: BenchRow[];
}

export function benchmarkResultsPath(root: string | null = packageRoot()): string | null {
  const path = root ? join(root, 'bench', 'data2behavior', 'results.json') : null;
  return path && existsSync(path) ? path : null;
}

/** sha256 (16 hex digits) of config.json, model.safetensors and tokenizer.json; null when one is missing or too large. */
export function benchmarkModelHash(folder: string): string | null {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  for (const name of IDENTITY_FILES) {
    let opened: { fd: number; size: number };
    try {
      opened = openRegularSync(join(folder, name));
    } catch {
      return null;
    }
    try {
      total += opened.size;
      if (total > MAX_HASHED_BYTES) return null;
      for (let n; (n = readSync(opened.fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(opened.fd);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** The benchmark's figures for `row` (e.g. "mdf") when they were measured on the checkpoint in `folder`, else NOT_VALIDATED. */
export function validationNote(row: string, folder: string | undefined, resultsPath: string | null = benchmarkResultsPath()): string {
  if (!folder || !resultsPath) return NOT_VALIDATED;
  try {
    const results = readJsonFileSync<BenchResults>(resultsPath);
    const hash = benchmarkModelHash(folder);
    const found = results.forecasters?.find((r) => r.name === row);
    if (!hash || hash !== results.model_sha256_16 || typeof found?.spearman !== 'number') return NOT_VALIDATED;
    const ci = found.spearman_ci ? ` [${found.spearman_ci[0].toFixed(2)}, ${found.spearman_ci[1].toFixed(2)}]` : '';
    const sign = typeof found.sign_accuracy === 'number' ? `, sign accuracy ${Math.round(100 * found.sign_accuracy)}%` : '';
    return `${row}: Spearman rho ${found.spearman.toFixed(2)}${ci}${sign} against real fine-tunes of this model (bench/data2behavior: ${results.sets} sets x ${results.seeds} seeds; docs/data2behavior.md)`;
  } catch {
    return NOT_VALIDATED;
  }
}
