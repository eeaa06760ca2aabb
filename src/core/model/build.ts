// HF checkpoint folder -> MDF-ready ONNX model folder:
//   model.onnx            the graph (weights by reference)
//   model.onnx.data       every weight, written tensor by tensor as the graph is assembled
//   tokenizer.json, tokenizer_config.json, config.json (+ generation_config.json when present)
//   manifest.json         written last: its presence means the build completed
// An unchanged source (same config, weight headers and sizes, tokenizer, dtype, builder version)
// is not rebuilt.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, promises as fsp, realpathSync, renameSync, rmSync } from 'node:fs';
import { InputFileError, MAX_TOKENIZER_BYTES, readRegularFile, readRegularFileSync } from '../io/regularFile';
import { checkTokenizerRegexes } from './tokenizerRegex';
import { join, resolve } from 'node:path';
import { Checkpoint, countParameters, openCheckpoint } from './checkpoint';
import { buildGemma3Graph } from './families/gemma3';
import { buildLlamaGraph } from './families/llama';
import { GraphBuilder, WeightDtype } from './onnx/graph';
import { Weights } from './onnx/weights';
import { BUILDER_VERSION, MANIFEST_FILE, MODEL_FILE, DATA_FILE, ModelManifest, readManifest } from './manifest';
import { throwIfCancelled } from '../../shared/errors';
import type { BuildProgress, BuildResult } from '../../shared/model';

export { BUILDER_VERSION, MANIFEST_FILE, MODEL_FILE, DATA_FILE, readManifest };
export type { BuildProgress, BuildResult, ModelManifest };

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'generation_config.json', 'special_tokens_map.json'];

export interface BuildOptions {
  dtype?: WeightDtype;
  onProgress?: (progress: BuildProgress) => void;
  signal?: AbortSignal;
  /** rebuild even when the cached model matches the source */
  force?: boolean;
}

export function sourceHash(ckpt: Checkpoint, dtype: WeightDtype): string {
  const hash = createHash('sha256');
  hash.update(`builder ${BUILDER_VERSION}\ndtype ${dtype}\n`);
  hash.update(ckpt.configJson);
  for (const shard of ckpt.shards) hash.update(`\n${shard.file} ${shard.header.fileSize}\n${shard.header.json}`);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    const path = join(ckpt.dir, f);
    if (existsSync(path)) hash.update(`\n${f}\n`).update(readRegularFileSync(path, { maxBytes: MAX_TOKENIZER_BYTES, what: f }));
  }
  return hash.digest('hex');
}

/** The tokenizer and config files copied beside the model, read (regular files, capped) and the
 *  JSON ones parsed up front; tokenizer.json's regexes are checked as the runtime will use them. */
async function readSideFiles(srcDir: string): Promise<{ name: string; bytes: Buffer }[]> {
  const files = [];
  for (const name of TOKENIZER_FILES) {
    const path = join(srcDir, name);
    if (!existsSync(path)) continue;
    const bytes = await readRegularFile(path, { maxBytes: MAX_TOKENIZER_BYTES, what: name });
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new InputFileError(`${path}: not valid JSON (${(error as Error).message}); the model was not built`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputFileError(`${path}: not a JSON object; the model was not built`);
    if (name === 'tokenizer.json') checkTokenizerRegexes(parsed, path);
    files.push({ name, bytes });
  }
  return files;
}

/**
 * Writes into the output folder without ever following a link planted there: each file is written
 * to a fresh temporary name (O_EXCL, so not through a link) in the real folder and renamed over the
 * target; a target that is a symbolic link is refused outright.
 */
class OutputFolder {
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = realpathSync(dir);
  }

  refuseSymlinks(names: string[]): void {
    for (const name of names) {
      const path = join(this.dir, name);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) throw new InputFileError(`${path} is a symbolic link; refusing to write through it (remove it, or choose another --out folder)`);
      if (!st.isFile()) throw new InputFileError(`${path} exists and is not a regular file; refusing to replace it`);
    }
  }

  temp(name: string): string {
    return join(this.dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  }

  commit(temp: string, name: string): void {
    this.refuseSymlinks([name]);
    renameSync(temp, join(this.dir, name));
  }

  async write(name: string, data: Uint8Array | string): Promise<void> {
    const temp = this.temp(name);
    try {
      await fsp.writeFile(temp, data, { flag: 'wx' });
      this.commit(temp, name);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }
}

export async function buildModel(srcDir: string, outDir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const dtype = options.dtype ?? 'fp32';
  const progress = options.onProgress ?? (() => {});
  const ckpt = await openCheckpoint(srcDir);
  const c = ckpt.config;
  const hash = sourceHash(ckpt, dtype);
  let existing: ModelManifest | undefined;
  try {
    existing = readManifest(outDir);
  } catch {
    existing = undefined; // a broken manifest is rebuilt over
  }
  if (!options.force && existing && existing.sourceHash === hash && existsSync(join(outDir, MODEL_FILE))) {
    progress({ fraction: 1, message: 'up to date (cached build reused)' });
    return { manifest: existing, reused: true };
  }
  if (!existsSync(join(srcDir, 'tokenizer.json'))) throw new Error(`${srcDir}: no tokenizer.json`);
  // the side files are checked before any weight is written: a tokenizer.json that is not JSON,
  // or whose regexes could hang the host, fails the build instead of shipping in a "built" model
  const sideFiles = await readSideFiles(srcDir);

  mkdirSync(outDir, { recursive: true });
  const out = new OutputFolder(outDir);
  out.refuseSymlinks([MANIFEST_FILE, MODEL_FILE, DATA_FILE, ...sideFiles.map((f) => f.name)]);
  rmSync(join(outDir, MANIFEST_FILE), { force: true });
  const dataTemp = out.temp(DATA_FILE);
  const { g, close } = await GraphBuilder.create(dataTemp, DATA_FILE, dtype);
  try {
    const total = ckpt.tensors.size;
    let seen = 0;
    const weights = new Weights(g, ckpt, (name) => {
      throwIfCancelled(options.signal, 'build cancelled');
      seen++;
      progress({ fraction: Math.min(0.99, seen / total), message: `writing ${name}` });
    });
    const onLayer = (l: number) => progress({ fraction: Math.min(0.99, seen / total), message: `layer ${l + 1}/${c.numLayers}` });
    // Mistral, Qwen2 and Qwen3 are the Llama graph with the config's flags (families/llama.ts)
    const build = c.family === 'gemma3' ? buildGemma3Graph : buildLlamaGraph;
    await build(g, ckpt, weights, onLayer);
  } catch (error) {
    await close();
    rmSync(dataTemp, { force: true });
    throw error;
  }
  const dataBytes = await close();
  if (options.signal?.aborted) rmSync(dataTemp, { force: true });
  throwIfCancelled(options.signal, 'build cancelled');
  out.commit(dataTemp, DATA_FILE);
  await out.write(MODEL_FILE, g.encode(`preflight_${c.family}`, `preflight-builder-${BUILDER_VERSION}`));
  for (const f of sideFiles) await out.write(f.name, f.bytes);
  const manifest: ModelManifest = {
    format: 'preflight-onnx-model',
    builderVersion: BUILDER_VERSION,
    sourceHash: hash,
    sourceDir: resolve(srcDir),
    architecture: c.architecture,
    info: {
      family: c.family,
      numLayers: c.numLayers,
      hiddenSize: c.hiddenSize,
      vocabSize: c.vocabSize,
      numHeads: c.numHeads,
      numKvHeads: c.numKvHeads,
      maxPositions: c.maxPositions,
      dtype,
    },
    headDim: c.headDim,
    intermediateSize: c.intermediateSize,
    parameters: countParameters(ckpt),
    storedDtype: ckpt.storedDtype,
    bytes: dataBytes,
    createdAt: new Date().toISOString(),
  };
  await out.write(MANIFEST_FILE, JSON.stringify(manifest, null, 2));
  progress({ fraction: 1, message: 'done' });
  return { manifest, reused: false };
}
