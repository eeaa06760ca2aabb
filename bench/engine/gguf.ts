// Bench-only GGUF writer: exports the benchmark's Llama-style checkpoint to GGUF v3 so that
// llama.cpp (through node-llama-cpp) runs the very same weights as Preflight's builds.
//   f32   every tensor float32 (beside Preflight's fp32 build)
//   q8_0  the linear layers and the LM head as Q8_0, computed by Preflight's own int8 quantiser
//         (src/core/model/onnx/quantize.ts: bit for bit Q8_0), embeddings and norms float32 —
//         exactly what Preflight's int8 build holds.
// Only what the benchmark needs: plain Llama (no biases, no RoPE scaling), a placeholder SentencePiece
// vocabulary (the benchmark feeds token ids, never text).
//
//   node --import tsx bench/engine/gguf.ts <hf-dir> <out.gguf> f32|q8_0
import { openSync, writeSync, closeSync } from 'node:fs';
import { openCheckpoint, lmHeadName, tensorEntry } from '../../src/core/model/checkpoint';
import { readTensorFloat32, floatToHalf } from '../../src/core/model/safetensors';
import { quantizeRows, Q8_BLOCK } from '../../src/core/model/onnx/quantize';

export type GgufType = 'f32' | 'q8_0';

const GGML_F32 = 0;
const GGML_Q8_0 = 8;
const ALIGN = 32;
// GGUF metadata value types
const T_UINT32 = 4,
  T_INT32 = 5,
  T_FLOAT32 = 6,
  T_STRING = 8,
  T_ARRAY = 9;

type Value = { t: 'u32' | 'i32' | 'f32'; v: number } | { t: 'str'; v: string } | { t: 'strs'; v: string[] } | { t: 'f32s' | 'i32s'; v: number[] };

class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  value(value: Value): void {
    switch (value.t) {
      case 'u32':
        this.u32(T_UINT32);
        this.u32(value.v);
        break;
      case 'i32':
        this.u32(T_INT32);
        this.i32(value.v);
        break;
      case 'f32':
        this.u32(T_FLOAT32);
        this.f32(value.v);
        break;
      case 'str':
        this.u32(T_STRING);
        this.str(value.v);
        break;
      case 'strs':
        this.u32(T_ARRAY);
        this.u32(T_STRING);
        this.u64(value.v.length);
        value.v.forEach((s) => this.str(s));
        break;
      case 'f32s':
        this.u32(T_ARRAY);
        this.u32(T_FLOAT32);
        this.u64(value.v.length);
        value.v.forEach((x) => this.f32(x));
        break;
      case 'i32s':
        this.u32(T_ARRAY);
        this.u32(T_INT32);
        this.u64(value.v.length);
        value.v.forEach((x) => this.i32(x));
        break;
    }
  }
  concat(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Q8_0 blocks (fp16 scale + 32 int8) from Preflight's quantiser output. */
function q8Blocks(rows: Float32Array, n: number, k: number): Buffer {
  if (k % Q8_BLOCK) throw new Error(`Q8_0 needs rows of a multiple of ${Q8_BLOCK} values, got ${k}`);
  const q = quantizeRows(rows, n, k);
  const blocks = q.scales.length;
  const out = Buffer.alloc(blocks * (2 + Q8_BLOCK));
  for (let b = 0; b < blocks; b++) {
    out.writeUInt16LE(floatToHalf(q.scales[b]), b * 34);
    for (let j = 0; j < Q8_BLOCK; j++) out.writeInt8(q.data[b * Q8_BLOCK + j] - 128, b * 34 + 2 + j);
  }
  return out;
}

/** HF Llama's q/k rows use rotate-half RoPE; llama.cpp's LLAMA arch rotates adjacent pairs. The
 *  same permutation as llama.cpp's convert_hf_to_gguf.py: within each head, row i*(D/2)+j -> 2j+i. */
function permuteRope(w: Float32Array, heads: number, inDim: number): Float32Array {
  const rows = w.length / inDim;
  const d = rows / heads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < d / 2; j++) {
        const from = h * d + i * (d / 2) + j;
        const to = h * d + 2 * j + i;
        out.set(w.subarray(from * inDim, (from + 1) * inDim), to * inDim);
      }
  return out;
}

export async function writeGguf(ckptDir: string, outPath: string, type: GgufType): Promise<void> {
  const ckpt = await openCheckpoint(ckptDir);
  const c = ckpt.config;
  if (c.family !== 'llama' || c.qkvBias || c.oBias || c.ropeScaling.type !== 'default')
    throw new Error('the bench GGUF writer handles plain Llama checkpoints only');
  const read = async (name: string) => ({ data: await readTensorFloat32(tensorEntry(ckpt, name)), shape: tensorEntry(ckpt, name).shape });

  const tensors: { name: string; dims: number[]; type: number; bytes: Buffer }[] = [];
  const f32 = (name: string, data: Float32Array, dims: number[]) =>
    tensors.push({ name, dims, type: GGML_F32, bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
  const matrix = (name: string, data: Float32Array, shape: number[]) => {
    const [n, k] = shape;
    if (type === 'q8_0') tensors.push({ name, dims: [k, n], type: GGML_Q8_0, bytes: q8Blocks(data, n, k) });
    else f32(name, data, [k, n]);
  };

  const embed = await read('model.embed_tokens.weight');
  f32('token_embd.weight', embed.data, [embed.shape[1], embed.shape[0]]);
  // the LM head: float32 in f32 files; in q8_0 files an explicit Q8_0 output.weight (tied or not),
  // as Preflight's int8 build quantises the head and keeps the gathered embedding float32
  const head = lmHeadName(ckpt);
  if (type === 'q8_0' || head !== 'model.embed_tokens.weight') {
    const h = head === 'model.embed_tokens.weight' ? embed : await read(head);
    matrix('output.weight', h.data, h.shape);
  }
  const norm = await read('model.norm.weight');
  f32('output_norm.weight', norm.data, [norm.shape[0]]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    const ln1 = await read(`${p}.input_layernorm.weight`);
    f32(`${b}.attn_norm.weight`, ln1.data, [ln1.shape[0]]);
    const q = await read(`${p}.self_attn.q_proj.weight`);
    matrix(`${b}.attn_q.weight`, permuteRope(q.data, c.numHeads, c.hiddenSize), q.shape);
    const k = await read(`${p}.self_attn.k_proj.weight`);
    matrix(`${b}.attn_k.weight`, permuteRope(k.data, c.numKvHeads, c.hiddenSize), k.shape);
    for (const [hf, gg] of [
      ['self_attn.v_proj', 'attn_v'],
      ['self_attn.o_proj', 'attn_output'],
      ['mlp.gate_proj', 'ffn_gate'],
      ['mlp.up_proj', 'ffn_up'],
      ['mlp.down_proj', 'ffn_down'],
    ]) {
      const w = await read(`${p}.${hf}.weight`);
      matrix(`${b}.${gg}.weight`, w.data, w.shape);
    }
    const ln2 = await read(`${p}.post_attention_layernorm.weight`);
    f32(`${b}.ffn_norm.weight`, ln2.data, [ln2.shape[0]]);
  }

  // placeholder SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens llama.cpp looks up, then filler
  const V = c.vocabSize;
  if (V < 259) throw new Error('vocabulary too small for the placeholder GGUF vocabulary');
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`)];
  const types = [2, 3, 3, ...Array(256).fill(6)];
  for (let i = tokens.length; i < V; i++) {
    tokens.push(`\u2581t${i}`);
    types.push(1);
  }
  const kv: [string, Value][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: `preflight-bench-${type}` }],
    ['general.file_type', { t: 'u32', v: type === 'q8_0' ? 7 : 0 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    ['llama.context_length', { t: 'u32', v: c.maxPositions }],
    ['llama.embedding_length', { t: 'u32', v: c.hiddenSize }],
    ['llama.block_count', { t: 'u32', v: c.numLayers }],
    ['llama.feed_forward_length', { t: 'u32', v: c.intermediateSize }],
    ['llama.attention.head_count', { t: 'u32', v: c.numHeads }],
    ['llama.attention.head_count_kv', { t: 'u32', v: c.numKvHeads }],
    ['llama.attention.key_length', { t: 'u32', v: c.headDim }],
    ['llama.attention.value_length', { t: 'u32', v: c.headDim }],
    ['llama.rope.dimension_count', { t: 'u32', v: c.headDim }],
    ['llama.rope.freq_base', { t: 'f32', v: c.ropeTheta }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: c.rmsNormEps }],
    ['llama.vocab_size', { t: 'u32', v: V }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'strs', v: tokens }],
    ['tokenizer.ggml.scores', { t: 'f32s', v: tokens.map(() => 0) }],
    ['tokenizer.ggml.token_type', { t: 'i32s', v: types }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 2 }],
  ];

  const head_ = new Bytes();
  head_.push(Buffer.from('GGUF', 'ascii'));
  head_.u32(3);
  head_.u64(tensors.length);
  head_.u64(kv.length);
  for (const [key, value] of kv) {
    head_.str(key);
    head_.value(value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offset = Math.ceil(offset / ALIGN) * ALIGN;
    offsets.push(offset);
    offset += t.bytes.length;
    head_.str(t.name);
    head_.u32(t.dims.length);
    t.dims.forEach((d) => head_.u64(d));
    head_.u32(t.type);
    head_.u64(offsets[offsets.length - 1]);
  }
  const fd = openSync(outPath, 'w');
  try {
    const header = head_.concat();
    writeSync(fd, header);
    let at = header.length;
    const pad = (to: number) => {
      if (to > at) writeSync(fd, Buffer.alloc(to - at));
      at = Math.max(at, to);
    };
    const dataStart = Math.ceil(at / ALIGN) * ALIGN;
    tensors.forEach((t, i) => {
      pad(dataStart + offsets[i]);
      writeSync(fd, t.bytes);
      at += t.bytes.length;
    });
  } finally {
    closeSync(fd);
  }
}

if (process.argv[1]?.endsWith('gguf.ts')) {
  const [src, out, type] = process.argv.slice(2);
  if (!src || !out || (type !== 'f32' && type !== 'q8_0')) {
    console.error('usage: node --import tsx bench/engine/gguf.ts <hf-dir> <out.gguf> f32|q8_0');
    process.exit(2);
  }
  writeGguf(src, out, type).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
