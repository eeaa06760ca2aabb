// A plain float64 forward pass of the supported families (Llama, Mistral, Qwen2, Qwen3, Gemma 3),
// straight from the safetensors, written like transformers' modelling files (no cache, one
// unpadded sequence). It is the oracle the ONNX graphs are tested against; far too slow for real use.
import { Checkpoint, lmHeadName, ModelConfig, openCheckpoint, ropeInvFreq } from './checkpoint';
import { readTensorFloat32 } from './safetensors';

type Mat = { data: Float64Array; rows: number; cols: number };

export interface ReferenceResult {
  /** logits per position, [S][V] */
  logits: Float64Array[];
  /** residual output of each layer (after steering) per position, [L][S][E] */
  hidden: Float64Array[][];
}

export class ReferenceModel {
  private constructor(
    readonly config: ModelConfig,
    private readonly w: Map<string, Mat>,
    private readonly lmHead: string,
  ) {}

  static async load(dir: string): Promise<ReferenceModel> {
    const ckpt: Checkpoint = await openCheckpoint(dir);
    const w = new Map<string, Mat>();
    for (const [name, entry] of ckpt.tensors) {
      const data = Float64Array.from(await readTensorFloat32(entry));
      w.set(name, { data, rows: entry.shape[0], cols: entry.shape.length > 1 ? entry.shape[1] : 1 });
    }
    return new ReferenceModel(ckpt.config, w, lmHeadName(ckpt));
  }

  private get(name: string): Mat {
    const m = this.w.get(name);
    if (!m) throw new Error(`reference: missing ${name}`);
    return m;
  }

  /**
   * @param steer per-layer vectors [L*E] added to each layer's output at positions where `steerMask` is true (all if omitted)
   */
  forward(ids: number[], steer?: ArrayLike<number>, steerMask?: boolean[]): ReferenceResult {
    const c = this.config;
    const [E, H, K, D, S] = [c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim, ids.length];
    const G = H / K;
    const emb = this.get('model.embed_tokens.weight');
    const gemma = c.gemma;
    let h: Float64Array[] = ids.map((id) => emb.data.slice(id * E, (id + 1) * E).map((v) => (gemma ? v * gemma.embedScale : v))); // [S][E]
    const inv = ropeInvFreq(c);
    const invLocal = gemma ? ropeInvFreq({ headDim: D, ropeTheta: gemma.ropeLocalTheta, ropeScaling: { type: 'default' } }) : inv;
    // Gemma's RMSNorm multiplies by (1 + w)
    const norm = (x: Float64Array, name: string) => rmsNorm(x, gemma ? this.get(name).data.map((v) => 1 + v) : this.get(name).data, c.rmsNormEps);
    const scaleQk = gemma ? gemma.queryPreAttnScalar ** -0.5 : 1 / Math.sqrt(D);
    const hidden: Float64Array[][] = [];

    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const sliding = gemma?.slidingLayers[l] ?? false;
      const layerInv = sliding ? invLocal : inv;
      // attention
      const x = h.map((v) => norm(v, `${p}.input_layernorm.weight`));
      const bias = (n: string) => (c.qkvBias ? this.get(`${p}.self_attn.${n}_proj.bias`).data : undefined);
      let q: Float64Array[] = x.map((v) => linear(v, this.get(`${p}.self_attn.q_proj.weight`), bias('q'))); // [S][H*D]
      let k: Float64Array[] = x.map((v) => linear(v, this.get(`${p}.self_attn.k_proj.weight`), bias('k'))); // [S][K*D]
      const v = x.map((xv) => linear(xv, this.get(`${p}.self_attn.v_proj.weight`), bias('v')));
      if (c.qkNorm) {
        q = q.map((row) => perHead(row, H, D, (head) => norm(head, `${p}.self_attn.q_norm.weight`)));
        k = k.map((row) => perHead(row, K, D, (head) => norm(head, `${p}.self_attn.k_norm.weight`)));
      }
      q = q.map((row, s) => perHead(row, H, D, (head) => rope(head, s, layerInv)));
      k = k.map((row, s) => perHead(row, K, D, (head) => rope(head, s, layerInv)));
      const attn = q.map(() => new Float64Array(H * D));
      for (let head = 0; head < H; head++) {
        const kv = Math.floor(head / G);
        for (let s = 0; s < S; s++) {
          const first = sliding ? Math.max(0, s - gemma!.slidingWindow + 1) : 0;
          const scores = new Float64Array(s + 1).fill(-Infinity);
          let max = -Infinity;
          for (let t = first; t <= s; t++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[s][head * D + d] * k[t][kv * D + d];
            scores[t] = dot * scaleQk;
            max = Math.max(max, scores[t]);
          }
          let sum = 0;
          for (let t = first; t <= s; t++) sum += scores[t] = Math.exp(scores[t] - max);
          for (let t = first; t <= s; t++) {
            const pr = scores[t] / sum;
            for (let d = 0; d < D; d++) attn[s][head * D + d] += pr * v[t][kv * D + d];
          }
        }
      }
      const oBias = c.oBias ? this.get(`${p}.self_attn.o_proj.bias`).data : undefined;
      h = h.map((row, s) => {
        const out = linear(attn[s], this.get(`${p}.self_attn.o_proj.weight`), oBias);
        return add(row, gemma ? norm(out, `${p}.post_attention_layernorm.weight`) : out);
      });
      // MLP
      h = h.map((row) => {
        const x2 = norm(row, gemma ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`);
        const gate = linear(x2, this.get(`${p}.mlp.gate_proj.weight`));
        const up = linear(x2, this.get(`${p}.mlp.up_proj.weight`));
        const act = gate.map((gv, i) => (gemma ? geluTanh(gv) : gv / (1 + Math.exp(-gv))) * up[i]);
        const out = linear(act, this.get(`${p}.mlp.down_proj.weight`));
        return add(row, gemma ? norm(out, `${p}.post_feedforward_layernorm.weight`) : out);
      });
      if (steer) {
        h = h.map((row, s) => {
          if (steerMask && !steerMask[s]) return row;
          const out = row.slice();
          for (let e = 0; e < E; e++) out[e] += steer[l * E + e];
          return out;
        });
      }
      hidden.push(h.map((row) => row.slice()));
    }
    const head = this.get(this.lmHead);
    const logits = h.map((row) => linear(norm(row, 'model.norm.weight'), head));
    return { logits, hidden };
  }
}

function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** y = W x (+ b), W stored [out, in] as in nn.Linear */
function linear(x: Float64Array, w: Mat, b?: Float64Array): Float64Array {
  const out = new Float64Array(w.rows);
  for (let o = 0; o < w.rows; o++) {
    let acc = b ? b[o] : 0;
    const base = o * w.cols;
    for (let i = 0; i < w.cols; i++) acc += w.data[base + i] * x[i];
    out[o] = acc;
  }
  return out;
}

function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

function perHead(row: Float64Array, n: number, d: number, fn: (head: Float64Array) => Float64Array): Float64Array {
  const out = new Float64Array(n * d);
  for (let h = 0; h < n; h++) out.set(fn(row.slice(h * d, (h + 1) * d)), h * d);
  return out;
}

/** rotate-half RoPE at position `pos` */
function rope(x: Float64Array, pos: number, inv: Float64Array): Float64Array {
  const half = x.length / 2;
  const out = new Float64Array(x.length);
  for (let i = 0; i < half; i++) {
    const angle = pos * inv[i];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    out[i] = x[i] * cos - x[i + half] * sin;
    out[i + half] = x[i + half] * cos + x[i] * sin;
  }
  return out;
}
