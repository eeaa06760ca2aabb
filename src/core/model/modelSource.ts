// "The model" of every model-based command (forecast, generate, inspect, LLM annotation), resolved in
// one place for the CLI and the extension: the folder the user configured (`--model`,
// `preflight.model.path`) or, when none is, the bundled demo model `models/preflight-tiny` of the
// installed package. A Hugging Face checkpoint is built once into the one build cache
// (`$XDG_CACHE_HOME/preflight/models`, shared by the CLI and the extension, same folder names), a
// built model folder is used as it is.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BuildOptions, BuildResult } from './build';
import type { WeightDtype } from './onnx/graph';
import { buildFolderName, describeModelDir } from './catalog';
import { InputError } from '../../shared/errors';

export const DEFAULT_MODEL_NAME = 'preflight-tiny';

/** What reports and views say about the bundled model wherever they use it. */
export const DEFAULT_MODEL_NOTE = `${DEFAULT_MODEL_NAME}, the bundled demo model, not your base model: set --model (CLI) or preflight.model.path (VS Code) to the checkpoint you will fine-tune`;

/** No usable model at the folder given (or none bundled): an input error (the CLI exits 2). */
export class ModelSourceError extends InputError {
  constructor(message: string) {
    super('model-source', message);
    this.name = 'ModelSourceError';
  }
}

export interface ModelSource {
  /** the folder named by the user, or the bundled one (absolute) */
  dir: string;
  kind: 'built' | 'checkpoint';
  /** folder name, or preflight-tiny */
  name: string;
  /** true when this is the bundled demo model (nothing configured, or configured to that folder) */
  isDefault: boolean;
}

/**
 * The installed package's root: the nearest folder above `from` whose package.json is Preflight's.
 * `from` is the running bundle's folder (dist/ for the CLI, the extension and the worker, also
 * inside the VSIX) or src/core/model when running from source.
 */
export function packageRoot(from: string = __dirname): string | null {
  let dir = resolve(from);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'preflight') return dir;
      } catch {
        // not ours; keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** models/preflight-tiny of the installed package (it may be missing in a checkout without it). */
export function bundledModelDir(root: string | null = packageRoot()): string {
  if (!root)
    throw new ModelSourceError(
      `cannot find the Preflight package around ${__dirname}, so not the bundled model either: pass --model or set preflight.model.path`,
    );
  return join(root, 'models', DEFAULT_MODEL_NAME);
}

function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * The model to use: `configured` when set (a Hugging Face checkpoint or a built model folder), else
 * the bundled demo model. Throws a one-line ModelSourceError naming the folder and what is missing.
 */
export function resolveModelSource(configured: string | null | undefined, options: { packageRoot?: string | null } = {}): ModelSource {
  const bundled = bundledModelDir(options.packageRoot === undefined ? packageRoot() : options.packageRoot);
  const dir = resolve(configured?.trim() ? configured.trim() : bundled);
  const entry = describeModelDir(dir);
  const isDefault = sameFolder(dir, bundled);
  if (entry.kind === 'invalid') {
    throw new ModelSourceError(
      configured?.trim()
        ? `${dir}: ${entry.reason}`
        : `no model configured and the bundled ${DEFAULT_MODEL_NAME} is unusable (${dir}: ${entry.reason}); pass --model or set preflight.model.path`,
    );
  }
  return { dir, kind: entry.kind, name: isDefault ? DEFAULT_MODEL_NAME : entry.name, isDefault };
}

/** The one build cache of the CLI and the extension. */
export function modelCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'preflight', 'models');
}

export type { WeightDtype };

/** The weights setting (preflight.model.weights, --weights): float, or int8 linear layers on the CPU. */
export type WeightFormat = 'float' | 'int8';

/** Where a checkpoint's build lives in the cache: readable, unique per source folder and dtype. */
export function builtModelDir(source: string, dtype: WeightDtype, cacheRoot: string = modelCacheRoot()): string {
  const abs = resolve(source);
  return join(cacheRoot, buildFolderName(abs, dtype, createHash('sha256').update(abs).digest('hex')));
}

/** The dtype a build gets: int8 when asked for (a CPU path, whatever the provider), else fp16 for
 *  CUDA and fp32 on the CPU. The dtype is part of the cache folder's name and of the source hash. */
export function dtypeFor(provider: 'auto' | 'cpu' | 'cuda', weights: WeightFormat = 'float'): WeightDtype {
  if (weights === 'int8') return 'int8';
  return provider === 'cuda' ? 'fp16' : 'fp32';
}

export interface ReadyModel {
  /** a built model folder, ready for openModel / openModelInWorker */
  dir: string;
  source: ModelSource;
  /** false when it was built just now */
  reused: boolean;
}

/**
 * A built model for `source`: the folder itself when it is built, else its build in the cache (the
 * builder skips an up-to-date build). `build` is core/model/build.ts's buildModel or the
 * extension's worker-thread twin, so that listing and resolving never load the graph writer.
 */
export async function ensureBuilt(
  source: ModelSource,
  build: (src: string, out: string, options: BuildOptions) => Promise<BuildResult>,
  options: { dtype?: WeightDtype; cacheRoot?: string; onProgress?: (fraction: number, message: string) => void; signal?: AbortSignal } = {},
): Promise<ReadyModel> {
  if (source.kind === 'built') return { dir: source.dir, source, reused: true };
  const dtype = options.dtype ?? 'fp32';
  const out = builtModelDir(source.dir, dtype, options.cacheRoot);
  const result = await build(source.dir, out, {
    dtype,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.(p.fraction, `Building the ONNX model of ${source.name}: ${Math.round(p.fraction * 100)}% ${p.message}`),
  });
  return { dir: out, source, reused: result.reused };
}

/** The report's model label (MdfReport.model.name / isDefault / source). */
export function modelLabel(source: ModelSource): { name: string; isDefault: boolean; source: string } {
  return { name: source.name, isDefault: source.isDefault, source: source.dir };
}
