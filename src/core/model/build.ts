// HF checkpoint folder -> MDF-ready ONNX model folder:
//   model.onnx            the graph (weights by reference)
//   model.onnx.data       every weight, written tensor by tensor as the graph is assembled
//   tokenizer.json, tokenizer_config.json, config.json (+ generation_config.json when present)
//   manifest.json         written last: its presence means the build completed
// An unchanged source (same config, weight headers and sizes, tokenizer, dtype, builder version)
// is not rebuilt.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, promises as fsp, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Checkpoint, countParameters, openCheckpoint } from './checkpoint';
import { buildGemma3Graph } from './families/gemma3';
import { buildLlamaGraph } from './families/llama';
import { buildQwen2Graph } from './families/qwen2';
import { buildQwen3Graph } from './families/qwen3';
import { GraphBuilder, WeightDtype } from './onnx/graph';
import { Weights } from './onnx/weights';
import { BUILDER_VERSION, MANIFEST_FILE, MODEL_FILE, DATA_FILE, ModelManifest, readManifest } from './manifest';

export { BUILDER_VERSION, MANIFEST_FILE, MODEL_FILE, DATA_FILE, readManifest };
export type { ModelManifest };

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'generation_config.json', 'special_tokens_map.json'];

export interface BuildProgress {
  /** 0..1 */
  fraction: number;
  message: string;
}

export interface BuildOptions {
  dtype?: WeightDtype;
  onProgress?: (progress: BuildProgress) => void;
  signal?: AbortSignal;
  /** rebuild even when the cached model matches the source */
  force?: boolean;
}

export interface BuildResult {
  manifest: ModelManifest;
  /** true when an up-to-date build already existed */
  reused: boolean;
}

export function sourceHash(ckpt: Checkpoint, dtype: WeightDtype): string {
  const hash = createHash('sha256');
  hash.update(`builder ${BUILDER_VERSION}\ndtype ${dtype}\n`);
  hash.update(ckpt.configJson);
  for (const shard of ckpt.shards) hash.update(`\n${shard.file} ${shard.header.fileSize}\n${shard.header.json}`);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    const path = join(ckpt.dir, f);
    if (existsSync(path)) hash.update(`\n${f}\n`).update(readFileSync(path));
  }
  return hash.digest('hex');
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('build cancelled');
}

export async function buildModel(srcDir: string, outDir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const dtype = options.dtype ?? 'fp32';
  const progress = options.onProgress ?? (() => {});
  const ckpt = await openCheckpoint(srcDir);
  const c = ckpt.config;
  const hash = sourceHash(ckpt, dtype);
  const existing = readManifest(outDir);
  if (!options.force && existing && existing.sourceHash === hash && existsSync(join(outDir, MODEL_FILE))) {
    progress({ fraction: 1, message: 'up to date (cached build reused)' });
    return { manifest: existing, reused: true };
  }
  if (!existsSync(join(srcDir, 'tokenizer.json'))) throw new Error(`${srcDir}: no tokenizer.json`);

  mkdirSync(outDir, { recursive: true });
  rmSync(join(outDir, MANIFEST_FILE), { force: true });
  const { g, close } = await GraphBuilder.create(join(outDir, DATA_FILE), DATA_FILE, dtype);
  let dataBytes = 0;
  try {
    const total = ckpt.tensors.size;
    let seen = 0;
    const weights = new Weights(g, ckpt, (name) => {
      throwIfAborted(options.signal);
      seen++;
      progress({ fraction: Math.min(0.99, seen / total), message: `writing ${name}` });
    });
    const onLayer = (l: number) => progress({ fraction: Math.min(0.99, seen / total), message: `layer ${l + 1}/${c.numLayers}` });
    const build = { llama: buildLlamaGraph, mistral: buildLlamaGraph, qwen2: buildQwen2Graph, qwen3: buildQwen3Graph, gemma3: buildGemma3Graph }[c.family];
    await build(g, ckpt, weights, onLayer);
  } finally {
    dataBytes = await close();
  }
  throwIfAborted(options.signal);
  await fsp.writeFile(join(outDir, MODEL_FILE), g.encode(`preflight_${c.family}`, `preflight-builder-${BUILDER_VERSION}`));
  for (const f of TOKENIZER_FILES) {
    if (existsSync(join(srcDir, f))) copyFileSync(join(srcDir, f), join(outDir, f));
  }
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
  await fsp.writeFile(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  progress({ fraction: 1, message: 'done' });
  return { manifest, reused: false };
}
