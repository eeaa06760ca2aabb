// Where a forecast's model comes from: a built model folder (manifest.json + model.onnx) is used
// as is; a Hugging Face checkpoint folder is built once by the engine's builder into a cache
// folder keyed by its absolute path (the builder itself skips an up-to-date build).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, MODEL_FILE, buildModel } from '../model/build';

export function isBuiltModel(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE)) && existsSync(join(dir, MODEL_FILE));
}

export function isCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'tokenizer.json'));
}

export function defaultModelCacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'preflight', 'models');
}

/** Returns a built model folder for `dir`, building a checkpoint into `cacheRoot` when needed. */
export async function ensureBuiltModel(dir: string, options: { cacheRoot?: string; onProgress?: (fraction: number, message: string) => void; signal?: AbortSignal } = {}): Promise<string> {
  if (isBuiltModel(dir)) return dir;
  if (!isCheckpoint(dir)) throw new Error(`${dir}: neither a built model (manifest.json, model.onnx) nor a Hugging Face checkpoint (config.json, tokenizer.json)`);
  const out = join(options.cacheRoot ?? defaultModelCacheRoot(), createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16));
  await buildModel(dir, out, { signal: options.signal, onProgress: (p) => options.onProgress?.(p.fraction, `Building the ONNX model: ${Math.round(p.fraction * 100)}% ${p.message}`) });
  return out;
}
