// Tiny random Hugging Face checkpoints of every supported family, written the way transformers
// saves them (config.json, safetensors shards + index, tokenizer.json, tokenizer_config.json with
// a chat template), so the builder, the runtime and MDF can be tested without downloading a model.
//
//   const ckpt = await writeTinyCheckpoint(dir, { family: 'qwen3' });
//   await buildModel(ckpt.dir, outDir);
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsDtype, writeSafetensors } from '../../src/core/model/safetensors';
import { rng } from '../../src/shared/random';

export type TinyFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma3';

export interface TinyCheckpointOptions {
  family: TinyFamily;
  numLayers?: number;
  hiddenSize?: number;
  numHeads?: number;
  /** fewer than numHeads exercises grouped-query attention */
  numKvHeads?: number;
  headDim?: number;
  intermediateSize?: number;
  /** at least tinyTokenizerSize(); defaults to it rounded up to 8 */
  vocabSize?: number;
  tieWordEmbeddings?: boolean;
  /** e.g. { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } */
  ropeScaling?: Record<string, unknown>;
  ropeTheta?: number;
  /** stored weight dtype */
  dtype?: SafetensorsDtype;
  /** > 1 writes model-0000i-of-0000n.safetensors and model.safetensors.index.json */
  shards?: number;
  /** std of the random weights; big enough that the layers do something */
  weightScale?: number;
  seed?: number;
  /** gemma3: sliding window of the local layers (default 4, so that short tests exercise it) */
  slidingWindow?: number;
  /** gemma3: layers alternate local, global (sliding_window_pattern 2) unless given */
  slidingWindowPattern?: number;
  /** gemma3: save as the multimodal Gemma3ForConditionalGeneration (text_config, prefixed tensor
   *  names as transformers >= 4.52 writes them, plus a stray vision tensor) */
  gemmaMultimodal?: boolean;
}

export interface TinyCheckpoint {
  dir: string;
  config: Record<string, unknown>;
  /** every tensor as written (float32 values before any dtype conversion) */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** A deterministic normal sampler (the shared generator + Box-Muller, one value per pair). */
export function seededNormal(seed: number): () => number {
  const uniform = rng(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

// ---- a small byte-level BPE tokenizer (the same kind Llama-3 and Qwen use) ----

function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map: string[] = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCharCode(cs[i])));
  return map;
}

const MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['i', 'n'],
  ['Ġ', 'a'],
  ['e', 'r'],
  ['o', 'n'],
  ['Ġ', 'w'],
  ['a', 't'],
  ['a', 'n'],
  ['Ġ', 's'],
  ['o', 'u'],
  ['Ġ', 'c'],
  ['i', 's'],
  ['Ġ', 'p'],
  ['a', 'r'],
  ['Ġ', 'f'],
  ['e', 'n'],
  ['in', 'g'],
  ['Ġ', 'b'],
];
export const TINY_SPECIAL_TOKENS = ['<|begin_of_text|>', '<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/** The tokenizer.json of the tiny checkpoints: 256 bytes, 20 merges, 4 special tokens. */
export function tinyTokenizerJson(addBos: boolean): Record<string, unknown> {
  const byteChars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  byteChars.forEach((c, i) => (vocab[c] = i));
  for (const [a, b] of MERGES) vocab[a + b] = Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const added = TINY_SPECIAL_TOKENS.map((content, i) => ({
    id: base + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bosId = base;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bosId], tokens: ['<|begin_of_text|>'] } },
        }
      : null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function tinyTokenizerSize(): number {
  return 256 + MERGES.length + TINY_SPECIAL_TOKENS.length;
}

export const TINY_CHAT_TEMPLATE =
  "{% if bos_token %}{{ bos_token }}{% endif %}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const ARCHITECTURE: Record<TinyFamily, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  gemma3: 'Gemma3ForCausalLM',
};

/** Writes a tiny random checkpoint of `options.family` into `dir` (created if needed). */
export async function writeTinyCheckpoint(dir: string, options: TinyCheckpointOptions): Promise<TinyCheckpoint> {
  mkdirSync(dir, { recursive: true });
  const family = options.family;
  const numLayers = options.numLayers ?? 2;
  const hidden = options.hiddenSize ?? 32;
  const numHeads = options.numHeads ?? 4;
  const numKvHeads = options.numKvHeads ?? 2;
  const headDim = options.headDim ?? hidden / numHeads;
  const inter = options.intermediateSize ?? 64;
  const vocab = options.vocabSize ?? Math.ceil(tinyTokenizerSize() / 8) * 8;
  const tie = options.tieWordEmbeddings ?? family === 'gemma3';
  const scale = options.weightScale ?? 0.15;
  const normal = seededNormal(options.seed ?? 1234);
  const addBos = family === 'llama' || family === 'mistral' || family === 'gemma3';
  const eosId = 256 + MERGES.length + 1; // <|endoftext|>
  const bosId = 256 + MERGES.length;

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], kind: 'weight' | 'norm' | 'bias' = 'weight') => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = normal();
      // Gemma stores norm weights as w - 1 (it multiplies by 1 + w)
      const normCentre = family === 'gemma3' ? 0 : 1;
      data[i] = kind === 'norm' ? normCentre + 0.2 * z : kind === 'bias' ? 0.1 * z : (scale * z * 4) / Math.sqrt(shape[shape.length - 1]);
    }
    tensors.set(name, { shape, data });
  };
  put('model.embed_tokens.weight', [vocab, hidden]);
  // embeddings need no 1/sqrt(fan-in) damping: give them unit-ish scale
  const emb = tensors.get('model.embed_tokens.weight')!.data;
  for (let i = 0; i < emb.length; i++) emb[i] *= Math.sqrt(hidden) / 2;
  for (let l = 0; l < numLayers; l++) {
    const p = `model.layers.${l}`;
    put(`${p}.input_layernorm.weight`, [hidden], 'norm');
    put(`${p}.self_attn.q_proj.weight`, [numHeads * headDim, hidden]);
    put(`${p}.self_attn.k_proj.weight`, [numKvHeads * headDim, hidden]);
    put(`${p}.self_attn.v_proj.weight`, [numKvHeads * headDim, hidden]);
    if (family === 'qwen2') {
      put(`${p}.self_attn.q_proj.bias`, [numHeads * headDim], 'bias');
      put(`${p}.self_attn.k_proj.bias`, [numKvHeads * headDim], 'bias');
      put(`${p}.self_attn.v_proj.bias`, [numKvHeads * headDim], 'bias');
    }
    if (family === 'qwen3' || family === 'gemma3') {
      put(`${p}.self_attn.q_norm.weight`, [headDim], 'norm');
      put(`${p}.self_attn.k_norm.weight`, [headDim], 'norm');
    }
    if (family === 'gemma3') {
      put(`${p}.pre_feedforward_layernorm.weight`, [hidden], 'norm');
      put(`${p}.post_feedforward_layernorm.weight`, [hidden], 'norm');
    }
    put(`${p}.self_attn.o_proj.weight`, [hidden, numHeads * headDim]);
    put(`${p}.post_attention_layernorm.weight`, [hidden], 'norm');
    put(`${p}.mlp.gate_proj.weight`, [inter, hidden]);
    put(`${p}.mlp.up_proj.weight`, [inter, hidden]);
    put(`${p}.mlp.down_proj.weight`, [hidden, inter]);
  }
  put('model.norm.weight', [hidden], 'norm');
  if (!tie) put('lm_head.weight', [vocab, hidden]);

  const config: Record<string, unknown> = {
    architectures: [ARCHITECTURE[family]],
    model_type: family,
    hidden_size: hidden,
    num_hidden_layers: numLayers,
    num_attention_heads: numHeads,
    num_key_value_heads: numKvHeads,
    intermediate_size: inter,
    vocab_size: vocab,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-6,
    rope_theta: options.ropeTheta ?? 10000,
    rope_scaling: options.ropeScaling ?? null,
    tie_word_embeddings: tie,
    hidden_act: 'silu',
    attention_dropout: 0,
    bos_token_id: bosId,
    eos_token_id: eosId,
    torch_dtype: options.dtype === 'F16' ? 'float16' : options.dtype === 'BF16' ? 'bfloat16' : 'float32',
  };
  if (family === 'qwen3' || family === 'gemma3' || options.headDim !== undefined) config.head_dim = headDim;
  if (family === 'gemma3') {
    Object.assign(config, {
      model_type: 'gemma3_text',
      hidden_activation: 'gelu_pytorch_tanh',
      query_pre_attn_scalar: headDim * 2,
      sliding_window: options.slidingWindow ?? 4,
      sliding_window_pattern: options.slidingWindowPattern ?? 2,
      rope_local_base_freq: 10000,
      rope_theta: options.ropeTheta ?? 1000000,
      final_logit_softcapping: null,
      attn_logit_softcapping: null,
    });
    delete config.hidden_act;
  }
  if (family === 'qwen3') config.attention_bias = false;
  if (family === 'mistral') config.sliding_window = null;

  let list = [...tensors.entries()].map(([name, t]) => ({ name, ...t }));
  if (family === 'gemma3' && options.gemmaMultimodal) {
    const { bos_token_id, eos_token_id, ...text } = config;
    for (const key of Object.keys(config)) delete config[key];
    Object.assign(config, {
      architectures: ['Gemma3ForConditionalGeneration'],
      model_type: 'gemma3',
      bos_token_id,
      eos_token_id,
      text_config: { ...text, architectures: undefined, model_type: 'gemma3_text' },
      vision_config: { model_type: 'siglip_vision_model', hidden_size: 8 },
    });
    list = list.map((t) => ({ ...t, name: t.name.replace(/^model\./, 'model.language_model.') }));
    list.push({ name: 'model.vision_tower.patch_embedding.weight', shape: [8, 3], data: new Float32Array(24).fill(0.5) });
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const shards = Math.max(1, options.shards ?? 1);
  const dtype = options.dtype ?? 'F32';
  if (shards === 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), list, dtype);
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(list.length / shards);
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = list.slice(s * per, (s + 1) * per);
      for (const t of part) weightMap[t.name] = file;
      await writeSafetensors(join(dir, file), part, dtype);
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  }
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(addBos)));
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: addBos,
    bos_token: addBos ? '<|begin_of_text|>' : null,
    eos_token: family === 'qwen2' || family === 'qwen3' ? '<|im_end|>' : '<|endoftext|>',
    pad_token: '<|endoftext|>',
    chat_template: TINY_CHAT_TEMPLATE,
    model_max_length: 256,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  return { dir, config, tensors };
}

/** A fresh temp dir holding a tiny checkpoint. */
export async function tinyCheckpointInTemp(options: TinyCheckpointOptions): Promise<TinyCheckpoint> {
  const dir = await mkdtemp(join(tmpdir(), `preflight-tiny-${options.family}-`));
  return writeTinyCheckpoint(dir, options);
}
