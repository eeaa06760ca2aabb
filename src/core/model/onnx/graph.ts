// The ONNX graph builder and the blocks every decoder family shares (RMSNorm, linear layers,
// RoPE, grouped-query attention, SwiGLU, the causal+padding mask, steering, hidden_last).
// Weights go straight to one external-data file as they are produced, so building a 14B model
// never holds more than one layer's tensors in memory; the .onnx file itself holds only the graph.
//
// Shape letters in comments: B batch, S new tokens, P past tokens, T = P + S, E hidden size,
// H query heads, K key/value heads, D head dim, I intermediate size, V vocabulary, L layers.
import { promises as fsp } from 'node:fs';
import { onnx } from 'onnx-proto';
import { floatToHalf } from '../safetensors';
import { blocksPerRow, Q8_BLOCK, quantizeStream } from './quantize';
import type { WeightDtype } from '../../../shared/model';

// fp32, fp16 or int8 (src/shared/model.ts: the worker's build request names it too)
export type { WeightDtype };

export const OPSET = 17;
const ELEM_FLOAT = onnx.TensorProto.DataType.FLOAT;
const ELEM_FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const ELEM_INT64 = onnx.TensorProto.DataType.INT64;
const ELEM_UINT8 = onnx.TensorProto.DataType.UINT8;

/** The name of the int8 copy of a float weight that is also used as a matrix (the tied LM head). */
export const quantizedTwin = (name: string): string => `${name}.q8`;

/** A weight stored as MatMulNBits' B [N, K/32, 32] and scales [N*K/32]: `linear` multiplies by it. */
interface QuantizedMatrix {
  scales: string;
  n: number;
  k: number;
}

/** Marks a float attribute (plain numbers are ints). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const f = (value: number) => new FloatAttr(value);
type AttrValue = number | number[] | string | FloatAttr | onnx.ITensorProto;

const EXTERNAL_ALIGN = 64;

/** Appends tensors to the external-data file and returns their TensorProto references. */
class ExternalData {
  private offset = 0;
  constructor(
    private readonly handle: fsp.FileHandle,
    readonly location: string,
  ) {}

  async append(name: string, bytes: Uint8Array, dims: number[], dataType: number): Promise<onnx.ITensorProto> {
    await this.align();
    const start = this.offset;
    await this.write(bytes);
    return this.reference(name, dims, dataType, start);
  }

  /** Appends a tensor that arrives in pieces (a multi-GiB embedding never sits in memory whole). */
  async appendChunks(name: string, chunks: AsyncIterable<Uint8Array>, dims: number[], dataType: number): Promise<onnx.ITensorProto> {
    await this.align();
    const start = this.offset;
    for await (const bytes of chunks) await this.write(bytes);
    return this.reference(name, dims, dataType, start);
  }

  private async align(): Promise<void> {
    const pad = (EXTERNAL_ALIGN - (this.offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
    if (pad) {
      await this.handle.write(new Uint8Array(pad));
      this.offset += pad;
    }
  }

  /** Writes in pieces of at most 1 GiB: one fs write of 2 GiB or more aborts Node. */
  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.handle.write(bytes, done, Math.min(bytes.byteLength - done, 2 ** 30));
      done += bytesWritten;
    }
    this.offset += bytes.byteLength;
  }

  private reference(name: string, dims: number[], dataType: number, start: number): onnx.ITensorProto {
    const length = this.offset - start;
    return {
      name,
      dims,
      dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(length) },
      ],
    };
  }

  get size(): number {
    return this.offset;
  }
}

function encodeElements(data: Float32Array, elem: number): Uint8Array {
  if (elem !== ELEM_FLOAT16) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const half = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) half[i] = floatToHalf(data[i]);
  return new Uint8Array(half.buffer);
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();
  private readonly quantized = new Map<string, QuantizedMatrix>();
  /** element type of activations and weights */
  readonly elem: number;

  constructor(
    private readonly data: ExternalData,
    readonly dtype: WeightDtype,
  ) {
    this.elem = dtype === 'fp16' ? ELEM_FLOAT16 : ELEM_FLOAT;
  }

  static async create(dataPath: string, location: string, dtype: WeightDtype): Promise<{ g: GraphBuilder; close: () => Promise<number> }> {
    const handle = await fsp.open(dataPath, 'w');
    const data = new ExternalData(handle, location);
    return {
      g: new GraphBuilder(data, dtype),
      close: async () => {
        await handle.close();
        return data.size;
      },
    };
  }

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, elemType: 'float' | 'int64' | 'compute', dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, this.elemOf(elemType), dims));
    return name;
  }

  /** Declares `value` as graph output `name`. The producing node's output is renamed rather than
   *  copied through an Identity node (an Identity on present_key/value would copy the KV cache). */
  output(name: string, value: string, elemType: 'float' | 'compute', dims: (number | string)[]): void {
    const produced = this.nodes.some((n) => n.output?.includes(value));
    const alreadyOutput = this.outputs.some((o) => o.name === value);
    if (produced && !alreadyOutput) {
      for (const n of this.nodes) {
        n.output = n.output!.map((o) => (o === value ? name : o));
        n.input = n.input!.map((i) => (i === value ? name : i));
      }
    } else {
      this.op('Identity', [value], {}, { outputs: [name] });
    }
    this.outputs.push(valueInfo(name, this.elemOf(elemType), dims));
  }

  private elemOf(t: 'float' | 'int64' | 'compute'): number {
    return t === 'int64' ? ELEM_INT64 : t === 'float' ? ELEM_FLOAT : this.elem;
  }

  /** Adds one node; returns its first output name (or all of them via `outputs`). */
  op(
    type: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    options: { outputs?: string[] | number; domain?: string; name?: string } = {},
  ): string {
    return this.opMulti(type, inputs, attrs, options)[0];
  }

  opMulti(
    type: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    options: { outputs?: string[] | number; domain?: string; name?: string } = {},
  ): string[] {
    const outs = Array.isArray(options.outputs) ? options.outputs : Array.from({ length: options.outputs ?? 1 }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({
      opType: type,
      domain: options.domain ?? '',
      name: options.name ?? this.fresh(`n_${type}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return outs;
  }

  /** An int64 constant stored inline in the graph (shapes, axes, indices). */
  i64(values: number[] | number, name?: string): string {
    const scalar = !Array.isArray(values);
    const list = Array.isArray(values) ? values : [values];
    const key = `i64:${scalar}:${list.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached && !name) return cached;
    const n = name ?? this.fresh('const_i64');
    this.initializers.push({ name: n, dims: scalar ? [] : [list.length], dataType: ELEM_INT64, int64Data: list });
    this.constCache.set(key, n);
    return n;
  }

  /** A scalar constant in the compute dtype (or float32). */
  scalar(value: number, type: 'compute' | 'float' = 'compute'): string {
    const elem = type === 'float' ? ELEM_FLOAT : this.elem;
    const key = `s:${elem}:${value}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const n = this.fresh('const_s');
    if (elem === ELEM_FLOAT16) {
      const bits = new Uint16Array([floatToHalf(value)]);
      this.initializers.push({ name: n, dims: [], dataType: elem, rawData: new Uint8Array(bits.buffer) });
    } else {
      this.initializers.push({ name: n, dims: [], dataType: elem, floatData: [value] });
    }
    this.constCache.set(key, n);
    return n;
  }

  /** A weight tensor, written to external data in the compute dtype (or float32 when asked). */
  async weight(name: string, data: Float32Array, dims: number[], type: 'compute' | 'float' = 'compute'): Promise<string> {
    const elem = type === 'float' ? ELEM_FLOAT : this.elem;
    this.initializers.push(await this.data.append(name, encodeElements(data, elem), dims, elem));
    return name;
  }

  /** A weight given as float32 pieces in order (streamed from the checkpoint), converted piece by piece. */
  async weightChunks(name: string, chunks: AsyncIterable<Float32Array>, dims: number[]): Promise<string> {
    const elem = this.elem;
    async function* encoded(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks) yield encodeElements(chunk, elem);
    }
    this.initializers.push(await this.data.appendChunks(name, encoded(), dims, elem));
    return name;
  }

  /**
   * An int8 matrix (see quantize.ts) from float32 rows of the nn.Linear layout [n, k] ([out, in]),
   * given in pieces of any length; `linear` and the LM head then use MatMulNBits on it.
   */
  async quantizedWeight(name: string, rows: AsyncIterable<Float32Array>, n: number, k: number): Promise<string> {
    const scales = new Float32Array(n * blocksPerRow(k));
    this.initializers.push(await this.data.appendChunks(name, quantizeStream(rows, n, k, scales), [n, blocksPerRow(k), Q8_BLOCK], ELEM_UINT8));
    const scalesName = `${name}.scales`;
    this.initializers.push(await this.data.append(scalesName, new Uint8Array(scales.buffer), [scales.length], ELEM_FLOAT));
    this.quantized.set(name, { scales: scalesName, n, k });
    return name;
  }

  /** x [..., k] times the quantised matrix [n, k] transposed -> [..., n], or undefined when `weight` is not quantised. */
  quantizedMatMul(x: string, weight: string): string | undefined {
    const q = this.quantized.get(weight);
    if (!q) return undefined;
    // accuracy_level 4: activations are quantised to int8 per block too, and the product runs on
    // the CPU's int8 dot-product instructions (VNNI) — the same scheme as llama.cpp's Q8_0 x Q8_0
    return this.op('MatMulNBits', [x, weight, q.scales], { K: q.k, N: q.n, bits: 8, block_size: Q8_BLOCK, accuracy_level: 4 }, { domain: 'com.microsoft' });
  }

  /** Casts to the compute dtype (no node when it already is). */
  toCompute(x: string, fromFloat32 = true): string {
    return this.elem === ELEM_FLOAT || !fromFloat32 ? x : this.op('Cast', [x], { to: this.elem });
  }

  toFloat32(x: string): string {
    return this.elem === ELEM_FLOAT ? x : this.op('Cast', [x], { to: ELEM_FLOAT });
  }

  encode(graphName: string, producer: string): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: 8,
      producerName: producer,
      opsetImport: [
        { domain: '', version: OPSET },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.TENSOR, t: value };
}

// ---------------------------------------------------------------------------------------------
// Shared blocks. Each takes the builder and tensor names and returns the name of its result.

/** RMSNorm over the last axis, computed in float32 (as transformers does) whatever the dtype:
 *  y = x / sqrt(mean(x^2) + eps) * w. Written as the Pow-ReduceMean-Add-Sqrt-Div-Mul chain that
 *  ONNX Runtime fuses into one SimplifiedLayerNormalization kernel. */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const x32 = g.toFloat32(x);
  const variance = g.op('ReduceMean', [g.op('Pow', [x32, g.scalar(2, 'float')])], { axes: [-1], keepdims: 1 });
  const normed = g.op('Div', [x32, g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps, 'float')])])]);
  return g.op('Mul', [g.toCompute(normed), weight]);
}

/** x @ W (+ b), W stored [in, out] (or quantised, stored [out, in]: GraphBuilder.quantizedWeight). */
export function linear(g: GraphBuilder, x: string, weight: string, bias?: string): string {
  const y = g.quantizedMatMul(x, weight) ?? g.op('MatMul', [x, weight]);
  return bias ? g.op('Add', [y, bias]) : y;
}

/** [B,S,n*D] -> [B,n,S,D] */
export function splitHeads(g: GraphBuilder, x: string, n: number, d: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, n, d])])], { perm: [0, 2, 1, 3] });
}

/** [B,n,S,D] -> [B,S,n*D] */
export function mergeHeads(g: GraphBuilder, x: string, n: number, d: number): string {
  return g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1, 3] }), g.i64([0, 0, n * d])]);
}

/** cos/sin tables [B,1,S,D] from position_ids [B,S] and the inverse frequencies [D/2] (float32, as in transformers). */
export async function ropeTables(g: GraphBuilder, positionIds: string, invFreq: Float64Array, name = 'rope'): Promise<{ cos: string; sin: string }> {
  const inv = await g.weight(`${name}.inv_freq`, Float32Array.from(invFreq), [invFreq.length], 'float');
  const pos = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: ELEM_FLOAT }), g.i64([-1])]); // [B,S,1]
  const freqs = g.op('Mul', [pos, inv]); // [B,S,D/2]
  const emb = g.op('Concat', [freqs, freqs], { axis: -1 }); // [B,S,D]
  const cos = g.op('Unsqueeze', [g.toCompute(g.op('Cos', [emb])), g.i64([1])]); // [B,1,S,D]
  const sin = g.op('Unsqueeze', [g.toCompute(g.op('Sin', [emb])), g.i64([1])]);
  return { cos, sin };
}

/** x * cos + rotate_half(x) * sin, with rotate_half(x) = [-x2, x1]; x is [B,n,S,D]. */
export function applyRope(g: GraphBuilder, x: string, cos: string, sin: string, headDim: number): string {
  const half = headDim / 2;
  const x1 = g.op('Slice', [x, g.i64([0]), g.i64([half]), g.i64([-1])]);
  const x2 = g.op('Slice', [x, g.i64([half]), g.i64([headDim]), g.i64([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
}

export interface DecoderInputs {
  inputIds: string; // [B,S] int64
  attentionMask: string; // [B,T] int64: past and new tokens
  positionIds: string; // [B,S] int64
  steer: string; // [L,E] float32
  steerMask: string; // [B,S] float32
  logitsPositions: string; // [B,N] int64: which of the S new positions get logits
  pastKeys: string[]; // [B,K,P,D]
  pastValues: string[];
}

/** Declares the graph inputs of the model contract. */
export function declareInputs(g: GraphBuilder, numLayers: number, numKvHeads: number, headDim: number, hidden: number): DecoderInputs {
  const pastKeys: string[] = [];
  const pastValues: string[] = [];
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'total']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  for (let i = 0; i < numLayers; i++) {
    pastKeys.push(g.input(`past_key.${i}`, 'compute', ['batch', numKvHeads, 'past', headDim]));
    pastValues.push(g.input(`past_value.${i}`, 'compute', ['batch', numKvHeads, 'past', headDim]));
  }
  const steer = g.input('steer', 'float', [numLayers, hidden]);
  const steerMask = g.input('steer_mask', 'float', ['batch', 'seq']);
  // the LM head is the largest single matmul of a small model: compute it only where asked
  const logitsPositions = g.input('logits_positions', 'int64', ['batch', 'num_logits']);
  return { inputIds, attentionMask, positionIds, steer, steerMask, logitsPositions, pastKeys, pastValues };
}

export interface SequenceInfo {
  /** additive attention bias [B,1,S,T]: 0 where query s may see key t, a large negative elsewhere */
  maskBias: string;
  /** flat index b*S + last real position of row b in the new tokens, [B] */
  lastFlatIndex: string;
  /** steer_mask as [B,S,1] in the compute dtype */
  steerMask3: string;
  /** b*S for each row, [B,1] */
  rowStart: string;
  /** 1 at each row's real new tokens, [B,S,1] float32 */
  tokenMask3: string;
  /** number of real new tokens per row, [B,1,1] float32 */
  tokenCount: string;
}

/** Causal + padding mask, last-real-token index, steering mask. Rows are right-padded:
 *  attention_mask[b, P:] is 1...1 0...0, and the last real token is at sum(attention_mask[b, P:]) - 1. */
export function sequenceInfo(g: GraphBuilder, inputs: DecoderInputs): SequenceInfo {
  const idsShape = g.op('Shape', [inputs.inputIds]);
  const batch = g.op('Gather', [idsShape, g.i64(0)], { axis: 0 }); // scalar B
  const seq = g.op('Gather', [idsShape, g.i64(1)], { axis: 0 }); // scalar S
  const total = g.op('Gather', [g.op('Shape', [inputs.attentionMask]), g.i64(1)], { axis: 0 }); // scalar T
  const past = g.op('Sub', [total, seq]); // scalar P

  const queryPos = g.op('Range', [past, total, g.i64(1)]); // [S]: P..T-1
  const keyPos = g.op('Range', [g.i64(0), total, g.i64(1)]); // [T]
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [keyPos, g.i64([0])]), g.op('Unsqueeze', [queryPos, g.i64([1])])]); // [S,T]
  const keep = g.op('Unsqueeze', [g.op('Cast', [inputs.attentionMask], { to: onnx.TensorProto.DataType.BOOL }), g.i64([1, 2])]); // [B,1,1,T]
  const allowed = g.op('And', [causal, keep]); // [B,1,S,T]
  const maskBias = g.op('Where', [allowed, g.scalar(0), g.scalar(g.dtype === 'fp16' ? -65504 : -1e9)]);

  const newMask = g.op('Slice', [inputs.attentionMask, g.op('Unsqueeze', [past, g.i64([0])]), g.op('Unsqueeze', [total, g.i64([0])]), g.i64([1])]); // [B,S]
  const last = g.op('Sub', [g.op('ReduceSum', [newMask, g.i64([1])], { keepdims: 0 }), g.i64(1)]); // [B]
  const rowStart = g.op('Mul', [g.op('Range', [g.i64(0), batch, g.i64(1)]), seq]); // [B]
  const lastFlatIndex = g.op('Add', [rowStart, last]);

  const steerMask3 = g.toCompute(g.op('Unsqueeze', [inputs.steerMask, g.i64([-1])])); // [B,S,1]
  const newMaskF = g.op('Cast', [newMask], { to: ELEM_FLOAT }); // [B,S]
  const tokenMask3 = g.op('Unsqueeze', [newMaskF, g.i64([-1])]); // [B,S,1]
  const tokenCount = g.op('Unsqueeze', [g.op('ReduceSum', [newMaskF, g.i64([1])], { keepdims: 1 }), g.i64([-1])]); // [B,1,1]
  return { maskBias, lastFlatIndex, steerMask3, rowStart: g.op('Unsqueeze', [rowStart, g.i64([1])]), tokenMask3, tokenCount };
}

/** Grouped-query attention over the full key range.
 *  q [B,H,S,D] (already scaled by 1/sqrt(D)), k/v [B,K,T,D], bias [B,1,S,T] -> [B,S,H*D].
 *  Query heads h = k*G + j share key head k, so q is viewed as [B,K,G*S,D] and no key is copied. */
export function groupedQueryAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  maskBias: string,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
): string {
  const qg = g.op('Reshape', [q, g.i64([0, numKvHeads, -1, headDim])]); // [B,K,G*S,D]
  const scores = g.op('MatMul', [qg, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]); // [B,K,G*S,T]
  const biased = g.op('Add', [g.op('Reshape', [scores, g.i64([0, numHeads, -1, 0])]), maskBias]); // [B,H,S,T]
  const probs = g.op('Softmax', [biased], { axis: -1 });
  const ctx = g.op('MatMul', [g.op('Reshape', [probs, g.i64([0, numKvHeads, -1, 0])]), v]); // [B,K,G*S,D]
  return mergeHeads(g, g.op('Reshape', [ctx, g.i64([0, numHeads, -1, headDim])]), numHeads, headDim); // [B,S,H*D]
}

/** SwiGLU MLP: down(silu(gate(x)) * up(x)). Gate and up stay two matmuls: fusing them into one
 *  [E, 2I] GEMM would need a Split that copies both halves (measured: ~4% of prefill time). */
export function swiglu(g: GraphBuilder, x: string, gate: string, up: string, down: string): string {
  const gated = linear(g, x, gate); // [B,S,I]
  const silu = g.op('Mul', [gated, g.op('Sigmoid', [gated])]); // fused into QuickGelu by ONNX Runtime
  return linear(g, g.op('Mul', [silu, linear(g, x, up)]), down);
}

/** GELU with the tanh approximation (PyTorch's gelu(approximate='tanh')):
 *  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function geluTanh(g: GraphBuilder, x: string): string {
  const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]);
}

/** GeGLU MLP (Gemma): down(gelu_tanh(gate(x)) * up(x)). */
export function geglu(g: GraphBuilder, x: string, gate: string, up: string, down: string): string {
  return linear(g, g.op('Mul', [geluTanh(g, linear(g, x, gate)), linear(g, x, up)]), down);
}

/** The causal + padding mask further limited to a sliding window: key t is visible to query s
 *  when position(s) - position(t) < window. Key positions come from the mask (a row's real tokens
 *  are numbered consecutively, padding holes skipped: cumsum(attention_mask) - 1), query positions
 *  from position_ids, so padded batches and their KV caches are exact. */
export function slidingMaskBias(g: GraphBuilder, inputs: DecoderInputs, seqInfo: SequenceInfo, window: number): string {
  const keyPos = g.op('Sub', [g.op('CumSum', [inputs.attentionMask, g.i64(1)]), g.i64(1)]); // [B,T]
  const queryPos = g.op('Unsqueeze', [inputs.positionIds, g.i64([1, 3])]); // [B,1,S,1]
  const near = g.op('Less', [g.op('Sub', [queryPos, g.op('Unsqueeze', [keyPos, g.i64([1, 2])])]), g.i64(window)]); // [B,1,S,T]
  return g.op('Where', [near, seqInfo.maskBias, g.scalar(g.dtype === 'fp16' ? -65504 : -1e9)]);
}

/** h + steer[l] * steer_mask: the MDF injection point on a layer's residual output. */
export function addSteering(g: GraphBuilder, h: string, inputs: DecoderInputs, seqInfo: SequenceInfo, layer: number): string {
  const vector = g.toCompute(g.op('Gather', [inputs.steer, g.i64(layer)], { axis: 0 })); // [E]
  return g.op('Add', [h, g.op('Mul', [seqInfo.steerMask3, vector])]);
}

/** h [B,S,E] at each row's last real token -> [B,1,E] (float32). */
export function gatherLast(g: GraphBuilder, h: string, seqInfo: SequenceInfo, hidden: number): string {
  const flat = g.op('Reshape', [h, g.i64([-1, hidden])]); // [B*S,E]
  return g.op('Unsqueeze', [g.toFloat32(g.op('Gather', [flat, seqInfo.lastFlatIndex], { axis: 0 })), g.i64([1])]);
}

/** h [B,S,E] averaged over each row's real new tokens -> [B,1,E] (float32, summed in float32). */
export function meanOverTokens(g: GraphBuilder, h: string, seqInfo: SequenceInfo): string {
  const sum = g.op('ReduceSum', [g.op('Mul', [g.toFloat32(h), seqInfo.tokenMask3]), g.i64([1])], { keepdims: 1 }); // [B,1,E]
  return g.op('Div', [sum, seqInfo.tokenCount]);
}

/** Final outputs: logits [B,N,V] at logits_positions through the LM head stored [V,E] (shared with the
 *  embedding when tied), hidden_last [B,L,E], and the present key/values. */
export function declareOutputs(
  g: GraphBuilder,
  args: {
    inputs: DecoderInputs;
    seq: SequenceInfo;
    normed: string;
    lmHead: string;
    vocab: number;
    hidden: number;
    numKvHeads: number;
    headDim: number;
    hiddenLast: string[];
    hiddenMean: string[];
    presentKeys: string[];
    presentValues: string[];
  },
): void {
  const { inputs, normed, lmHead, vocab, hidden } = args;
  const flat = g.op('Reshape', [normed, g.i64([-1, hidden])]); // [B*S,E]
  const picked = g.op('Gather', [flat, g.op('Reshape', [g.op('Add', [inputs.logitsPositions, args.seq.rowStart]), g.i64([-1])])], { axis: 0 }); // [B*N,E]
  const logitsFlat = g.quantizedMatMul(picked, quantizedTwin(lmHead)) ?? g.op('Gemm', [picked, lmHead], { transB: 1 }); // [B*N,V]
  const shape = g.op('Concat', [g.op('Shape', [inputs.logitsPositions]), g.i64([vocab])], { axis: 0 });
  const logits = g.op('Reshape', [g.toFloat32(logitsFlat), shape]); // [B,N,V]
  g.output('logits', logits, 'float', ['batch', 'num_logits', vocab]);
  g.output('hidden_last', g.op('Concat', args.hiddenLast, { axis: 1 }), 'float', ['batch', args.hiddenLast.length, hidden]);
  g.output('hidden_mean', g.op('Concat', args.hiddenMean, { axis: 1 }), 'float', ['batch', args.hiddenMean.length, hidden]);
  args.presentKeys.forEach((k, i) => g.output(`present_key.${i}`, k, 'compute', ['batch', args.numKvHeads, 'total', args.headDim]));
  args.presentValues.forEach((v, i) => g.output(`present_value.${i}`, v, 'compute', ['batch', args.numKvHeads, 'total', args.headDim]));
}
