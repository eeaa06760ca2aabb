// A Hugging Face checkpoint folder: config.json normalised into one typed ModelConfig, and an index
// of every tensor across the safetensors shards. Anything the builder cannot reproduce exactly is
// refused here, with a message naming what is supported.
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isInside } from '../io/inside';
import { InputFileError, MAX_CONFIG_BYTES, readJsonFile, readRegularFile } from '../io/regularFile';
import { readSafetensorsHeader, SafetensorsHeader, SUPPORTED_SAFETENSORS_DTYPES, TensorEntry } from './safetensors';
import type { ModelInfo } from './api';

export type Family = ModelInfo['family'];

export const SUPPORTED_ARCHITECTURES: Record<string, Family> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Gemma3ForCausalLM: 'gemma3',
  /** its language model only: vision tower and projector are ignored */
  Gemma3ForConditionalGeneration: 'gemma3',
};

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface ModelConfig {
  family: Family;
  architecture: string;
  /** the checkpoint is multimodal (Gemma3ForConditionalGeneration): only its language model is built */
  textOnly: boolean;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (always in Qwen2; `attention_bias` in Llama/Qwen3) */
  qkvBias: boolean;
  /** o_proj carries a bias (`attention_bias` in Llama/Mistral/Qwen3 puts one on every projection) */
  oBias: boolean;
  /** per-head RMSNorm of q and k before RoPE (Qwen3) */
  qkNorm: boolean;
  /** Mistral's sliding window; not applied by the graph (documented limit) */
  slidingWindow?: number;
  bosTokenId?: number;
  eosTokenIds: number[];
  /** Gemma-3 (text): its own norms, scaled embeddings, GELU-tanh MLP, local/global attention layers */
  gemma?: GemmaConfig;
}

export interface GemmaConfig {
  /** attention scores are scaled by queryPreAttnScalar^-0.5 instead of head_dim^-0.5 */
  queryPreAttnScalar: number;
  /** key t is visible to query s on a sliding layer when s - t < slidingWindow */
  slidingWindow: number;
  /** per layer: true = sliding (local) attention, false = full (global) attention */
  slidingLayers: boolean[];
  /** RoPE base of the sliding layers (no scaling); global layers use ropeTheta + ropeScaling */
  ropeLocalTheta: number;
  /** embeddings are multiplied by sqrt(hidden_size) */
  embedScale: number;
}

function num(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const value = raw[key];
  if (typeof value === 'number') return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`config.json: missing numeric field '${key}'`);
}

/** Llama-3 style inverse frequencies, exactly as transformers' rope init functions compute them. */
export function ropeInvFreq(config: Pick<ModelConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = config.headDim / 2;
  // transformers computes these in float32; round so that every implementation agrees bit for bit
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(config.ropeTheta ** Math.fround((2 * i) / config.headDim)));
  const s = config.ropeScaling;
  if (s.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = Math.fround(inv[i] / s.factor);
  } else if (s.type === 'llama3') {
    const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      let value = wavelen > lowFreqWavelen ? inv[i] / s.factor : inv[i];
      const medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      if (medium) {
        const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        value = (1 - smooth) * (value / s.factor) + smooth * value;
      }
      inv[i] = Math.fround(value);
    }
  }
  return inv;
}

/** Gemma3TextConfig's defaults: transformers writes into config.json only the values that differ. */
const GEMMA3_TEXT_DEFAULTS: Record<string, unknown> = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  sliding_window_pattern: 6,
  rope_local_base_freq: 10000,
  tie_word_embeddings: true,
};

/** Multimodal Gemma 3 (4B and up): its language model alone, from text_config. */
function gemmaTextConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const text = (raw.text_config as Record<string, unknown> | undefined) ?? {};
  return {
    ...GEMMA3_TEXT_DEFAULTS,
    eos_token_id: raw.eos_token_id,
    bos_token_id: raw.bos_token_id,
    ...text,
    architectures: ['Gemma3ForCausalLM'],
    sourceArchitecture: 'Gemma3ForConditionalGeneration',
  };
}

/** Largest config.json dimensions accepted (docs/limits.md): well above any released model. */
export const CONFIG_LIMITS: Record<string, number> = {
  hidden_size: 65_536,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 1024,
  num_hidden_layers: 1024,
  intermediate_size: 1_048_576,
  vocab_size: 16_777_216,
  max_position_embeddings: 16_777_216,
};

export function parseConfig(input: Record<string, unknown>): ModelConfig {
  const inputArchitectures = (input.architectures as string[] | undefined) ?? [];
  let raw = input;
  if (inputArchitectures.includes('Gemma3ForConditionalGeneration')) raw = gemmaTextConfig(input);
  else if (inputArchitectures.includes('Gemma3ForCausalLM')) raw = { ...GEMMA3_TEXT_DEFAULTS, ...input };
  const architectures = (raw.architectures as string[] | undefined) ?? [];
  const supported = Object.keys(SUPPORTED_ARCHITECTURES).join(', ');
  const architecture = architectures.find((a) => a in SUPPORTED_ARCHITECTURES);
  if (!architecture) {
    throw new Error(`unsupported architecture ${architectures.join(', ') || String(raw.model_type ?? 'unknown')}; supported: ${supported}`);
  }
  const family = SUPPORTED_ARCHITECTURES[architecture];
  const displayArchitecture = typeof raw.sourceArchitecture === 'string' ? raw.sourceArchitecture : architecture;
  const act = String(raw.hidden_activation ?? raw.hidden_act ?? (family === 'gemma3' ? 'gelu_pytorch_tanh' : 'silu'));
  const expectedAct = family === 'gemma3' ? 'gelu_pytorch_tanh' : 'silu';
  if (act !== expectedAct) throw new Error(`unsupported activation ${act} for ${architecture}; supported: ${expectedAct}`);
  for (const cap of ['final_logit_softcapping', 'attn_logit_softcapping']) {
    if (raw[cap] !== undefined && raw[cap] !== null) throw new Error(`unsupported: ${cap}=${String(raw[cap])}; supported: none`);
  }
  if (raw.mlp_bias === true) throw new Error('unsupported: mlp_bias=true; supported: MLPs without biases');
  const hiddenSize = num(raw, 'hidden_size');
  const numHeads = num(raw, 'num_attention_heads');
  const numKvHeads = num(raw, 'num_key_value_heads', numHeads);
  const headDim = typeof raw.head_dim === 'number' ? raw.head_dim : hiddenSize / numHeads;
  const numLayers = num(raw, 'num_hidden_layers');
  const intermediateSize = num(raw, 'intermediate_size');
  const vocabSize = num(raw, 'vocab_size');
  const maxPositions = num(raw, 'max_position_embeddings', 4096);
  // bounded before anything is sized from them: num_hidden_layers 1e7 must be an error, not an
  // allocation that takes the extension host down
  const dims: [string, number][] = [
    ['hidden_size', hiddenSize],
    ['num_attention_heads', numHeads],
    ['num_key_value_heads', numKvHeads],
    ['head_dim', headDim],
    ['num_hidden_layers', numLayers],
    ['intermediate_size', intermediateSize],
    ['vocab_size', vocabSize],
    ['max_position_embeddings', maxPositions],
  ];
  for (const [key, value] of dims) {
    const max = CONFIG_LIMITS[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new InputFileError(`config.json: ${key} = ${value} is not an integer from 1 to ${max.toLocaleString('en-US')} (limits in docs/limits.md)`);
    }
  }
  if (numHeads % numKvHeads !== 0) throw new Error(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 2 !== 0) throw new Error(`head_dim ${headDim} must be even for RoPE`);

  let ropeScaling: RopeScaling = { type: 'default' };
  const rs = raw.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs) {
    const type = String(rs.rope_type ?? rs.type ?? 'default');
    if (type === 'default') ropeScaling = { type: 'default' };
    else if (type === 'linear') ropeScaling = { type: 'linear', factor: Number(rs.factor) };
    else if (type === 'llama3') {
      ropeScaling = {
        type: 'llama3',
        factor: Number(rs.factor),
        lowFreqFactor: Number(rs.low_freq_factor),
        highFreqFactor: Number(rs.high_freq_factor),
        originalMaxPositions: Number(rs.original_max_position_embeddings),
      };
    } else {
      throw new Error(`unsupported rope_scaling type '${type}'; supported: default, linear, llama3`);
    }
  }
  const attentionBias = raw.attention_bias === true;
  const eos = raw.eos_token_id;
  const eosTokenIds = Array.isArray(eos) ? (eos as number[]) : typeof eos === 'number' ? [eos] : [];
  const useSliding = family === 'mistral' || raw.use_sliding_window === true;
  return {
    family,
    architecture: displayArchitecture,
    textOnly: displayArchitecture !== architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    vocabSize,
    maxPositions,
    rmsNormEps: num(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: num(raw, 'rope_theta', 10000),
    ropeScaling,
    // Gemma ties by default (its configs often omit the field)
    tieWordEmbeddings: raw.tie_word_embeddings === true || (family === 'gemma3' && raw.tie_word_embeddings !== false),
    qkvBias: family === 'qwen2' || attentionBias,
    oBias: family !== 'qwen2' && attentionBias,
    qkNorm: family === 'qwen3' || family === 'gemma3',
    slidingWindow: useSliding && typeof raw.sliding_window === 'number' ? raw.sliding_window : undefined,
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : undefined,
    eosTokenIds,
    gemma: family === 'gemma3' ? gemmaConfig(raw, hiddenSize, headDim) : undefined,
  };
}

function gemmaConfig(raw: Record<string, unknown>, hiddenSize: number, headDim: number): GemmaConfig {
  const layers = num(raw, 'num_hidden_layers');
  const pattern = num(raw, 'sliding_window_pattern', 6);
  const types = raw.layer_types as string[] | undefined;
  const slidingLayers = Array.from({ length: layers }, (_, i) => (types ? types[i] === 'sliding_attention' : (i + 1) % pattern !== 0));
  return {
    queryPreAttnScalar: num(raw, 'query_pre_attn_scalar', headDim),
    slidingWindow: num(raw, 'sliding_window', 4096),
    slidingLayers,
    ropeLocalTheta: num(raw, 'rope_local_base_freq', 10000),
    embedScale: Math.fround(Math.sqrt(hiddenSize)),
  };
}

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  configJson: string;
  shards: { file: string; header: SafetensorsHeader }[];
  tensors: Map<string, TensorEntry>;
  /** the dtype of the weights as stored ('F32' | 'F16' | 'BF16') */
  storedDtype: string;
}

export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: no config.json (expected a Hugging Face checkpoint folder)`);
  const configJson = await readRegularFile(configPath, { encoding: 'utf8', maxBytes: MAX_CONFIG_BYTES, what: 'config.json' });
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(configJson);
  } catch (error) {
    throw new InputFileError(`${configPath}: not valid JSON (${(error as Error).message})`);
  }
  if (!rawConfig || typeof rawConfig !== 'object' || Array.isArray(rawConfig)) throw new InputFileError(`${configPath}: not a JSON object`);
  const config = parseConfig(rawConfig as Record<string, unknown>);
  let files: string[];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    const index = await readJsonFile<{ weight_map?: unknown }>(indexPath, { maxBytes: MAX_CONFIG_BYTES, what: 'model.safetensors.index.json' });
    const map = index && typeof index === 'object' ? index.weight_map : undefined;
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new InputFileError(`${indexPath}: no 'weight_map' object`);
    files = [...new Set(Object.values(map as Record<string, unknown>))].map((f) => shardInside(dir, f, indexPath)).sort();
  } else {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
    // Mistral repositories ship consolidated.safetensors (Mistral's own layout) beside the HF file
    if (files.includes('model.safetensors')) files = ['model.safetensors'];
  }
  if (files.length === 0) {
    const hasBin = readdirSync(dir).some((f) => f.endsWith('.bin') || f.endsWith('.pt'));
    throw new Error(`${dir}: no *.safetensors weights${hasBin ? ' (PyTorch .bin weights are not supported; save with safe_serialization=True)' : ''}`);
  }
  const shards = [];
  const tensors = new Map<string, TensorEntry>();
  const dtypes = new Set<string>();
  for (const f of files) {
    const file = join(dir, f);
    const header = await readSafetensorsHeader(file);
    shards.push({ file: f, header });
    for (const t of header.tensors) {
      const name = config.textOnly ? languageModelTensor(t.name) : t.name;
      if (name === undefined) continue;
      tensors.set(name, { ...t, name });
      dtypes.add(t.dtype);
    }
  }
  for (const d of dtypes) {
    if (!(SUPPORTED_SAFETENSORS_DTYPES as string[]).includes(d)) {
      throw new Error(`unsupported weight dtype ${d}; supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')} (quantised checkpoints are not supported)`);
    }
  }
  checkTensorShapes(config, tensors);
  return { dir, config, configJson, shards, tensors, storedDtype: [...dtypes].join('+') };
}

/** The shape config.json implies for a tensor name, or undefined for names the builder does not read. */
function expectedShape(c: ModelConfig, name: string): number[] | undefined {
  const E = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, E];
  if (name === 'model.norm.weight') return [E];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  if (!m || Number(m[1]) >= c.numLayers) return undefined;
  const shapes: Record<string, number[]> = {
    'self_attn.q_proj.weight': [q, E],
    'self_attn.k_proj.weight': [kv, E],
    'self_attn.v_proj.weight': [kv, E],
    'self_attn.o_proj.weight': [E, q],
    'self_attn.q_proj.bias': [q],
    'self_attn.k_proj.bias': [kv],
    'self_attn.v_proj.bias': [kv],
    'self_attn.o_proj.bias': [E],
    'self_attn.q_norm.weight': [c.headDim],
    'self_attn.k_norm.weight': [c.headDim],
    'mlp.gate_proj.weight': [c.intermediateSize, E],
    'mlp.up_proj.weight': [c.intermediateSize, E],
    'mlp.down_proj.weight': [E, c.intermediateSize],
    'input_layernorm.weight': [E],
    'post_attention_layernorm.weight': [E],
    'pre_feedforward_layernorm.weight': [E],
    'post_feedforward_layernorm.weight': [E],
  };
  return shapes[m[2]];
}

/** Every tensor the builder reads must have the shape config.json implies: a header that lies
 *  about a shape fails here with both shapes named, not as a wrong model reported "built". */
export function checkTensorShapes(config: ModelConfig, tensors: Map<string, TensorEntry>): void {
  for (const [name, t] of tensors) {
    const want = expectedShape(config, name);
    if (want && (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i]))) {
      throw new InputFileError(`${t.file}: tensor ${name} has shape [${t.shape.join(', ')}], but config.json implies [${want.join(', ')}]`);
    }
  }
}

/** Tensor names of a multimodal checkpoint's language model, mapped to the text-only layout
 *  (transformers < 4.52 saves `language_model.model.*`, later versions `model.language_model.*`). */
function languageModelTensor(name: string): string | undefined {
  for (const prefix of ['language_model.model.', 'model.language_model.']) {
    if (name.startsWith(prefix)) return `model.${name.slice(prefix.length)}`;
  }
  if (name === 'language_model.lm_head.weight' || name === 'lm_head.weight') return 'lm_head.weight';
  return undefined; // vision tower, multimodal projector
}

/**
 * A shard named by the index must be a plain file name or a path inside the checkpoint folder:
 * absolute paths, `..` and prefix tricks ("../model-x" next to "model") are refused (core/io/inside).
 * Not by real path: the Hugging Face cache links every file of a snapshot to ../../blobs/.
 */
export function shardInside(dir: string, name: unknown, indexPath: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0'))
    throw new InputFileError(`${indexPath}: weight_map holds ${JSON.stringify(name)}, not a file name`);
  if (isAbsolute(name) || !isInside(dir, name)) {
    throw new InputFileError(`${indexPath}: weight_map names ${JSON.stringify(name)}, outside the checkpoint folder; shards must sit inside it`);
  }
  return relative(resolve(dir), resolve(dir, name));
}

export function tensorEntry(ckpt: Checkpoint, name: string): TensorEntry {
  const entry = ckpt.tensors.get(name);
  if (!entry) throw new Error(`checkpoint ${ckpt.dir} lacks tensor ${name}`);
  return entry;
}

/** The LM head: its own weight, or the embedding when tied (or when the checkpoint omits lm_head). */
export function lmHeadName(ckpt: Checkpoint): string {
  return !ckpt.config.tieWordEmbeddings && ckpt.tensors.has('lm_head.weight') ? 'lm_head.weight' : 'model.embed_tokens.weight';
}

export function countParameters(ckpt: Checkpoint): number {
  let total = 0;
  for (const t of ckpt.tensors.values()) total += t.shape.reduce((a, b) => a * b, 1);
  return total;
}
