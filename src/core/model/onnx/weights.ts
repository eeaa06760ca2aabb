// Reads checkpoint tensors and lays them out the way the graph wants them: linear weights
// transposed to [in, out] (MatMul's layout); q/k/v fused into one matrix, so that attention's
// input projection is one GEMM instead of three. In an int8 build, linear weights stay [out, in]
// and are quantised (quantize.ts), and the LM head gets an int8 copy beside its float32 table.
import { Checkpoint, lmHeadName, tensorEntry } from '../checkpoint';
import { readTensorFloat32, streamTensorFloat32 } from '../safetensors';
import { GraphBuilder, quantizedTwin } from './graph';

const EMBEDDING = 'model.embed_tokens.weight';

export class Weights {
  constructor(
    private readonly g: GraphBuilder,
    private readonly ckpt: Checkpoint,
    private readonly onTensor: (name: string) => void = () => {},
  ) {}

  private async read(name: string): Promise<{ data: Float32Array; shape: number[] }> {
    const entry = tensorEntry(this.ckpt, name);
    this.onTensor(name);
    return { data: await readTensorFloat32(entry), shape: entry.shape };
  }

  /** Tensor as stored (embeddings, the LM head [V,E]): streamed to the data file in bounded
   *  pieces, since these are the tensors that reach gigabytes (a 2.5 GB BF16 embedding). */
  async raw(onnxName: string, hfName: string): Promise<string> {
    const entry = tensorEntry(this.ckpt, hfName);
    this.onTensor(hfName);
    // int8: the LM head is a matmul, which int8 speeds up (declareOutputs uses quantizedTwin(name));
    // the embedding is gathered, so it stays float32 rows, and an untied head needs no float32 copy
    const head = this.g.dtype === 'int8' && hfName === lmHeadName(this.ckpt) && entry.shape.length === 2;
    if (head) await this.g.quantizedWeight(quantizedTwin(onnxName), streamTensorFloat32(entry), entry.shape[0], entry.shape[1]);
    if (head && hfName !== EMBEDDING) return onnxName;
    return this.g.weightChunks(onnxName, streamTensorFloat32(entry), entry.shape);
  }

  /** Concatenated 1-D tensors (norm weights, fused biases), plus `offset` (Gemma stores norm weights as w - 1). */
  async vector(onnxName: string, hfNames: string[], offset = 0): Promise<string> {
    const parts = await Promise.all(hfNames.map((n) => this.read(n)));
    const total = parts.reduce((a, p) => a + p.data.length, 0);
    const out = new Float32Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p.data, at);
      at += p.data.length;
    }
    if (offset) for (let i = 0; i < total; i++) out[i] += offset;
    return this.g.weight(onnxName, out, [total]);
  }

  /** nn.Linear weights [out_i, in] concatenated along out and transposed to [in, sum(out_i)]. */
  async linear(onnxName: string, hfNames: string[]): Promise<string> {
    const parts = [];
    for (const n of hfNames) parts.push(await this.read(n));
    const inDim = parts[0].shape[1];
    const outDim = parts.reduce((a, p) => a + p.shape[0], 0);
    if (parts.some((p) => p.shape[1] !== inDim)) throw new Error(`cannot fuse ${hfNames.join(', ')}: input sizes differ`);
    if (this.g.dtype === 'int8') {
      // quantised matrices keep the [out, in] layout (MatMulNBits' B): fusing is concatenating rows
      const pieces = (async function* () {
        for (const p of parts) yield p.data;
      })();
      return this.g.quantizedWeight(onnxName, pieces, outDim, inDim);
    }
    const out = new Float32Array(inDim * outDim);
    let col = 0;
    for (const p of parts) {
      const [rows, cols] = p.shape;
      for (let r = 0; r < rows; r++) {
        const src = r * cols;
        for (let c = 0; c < cols; c++) out[c * outDim + col + r] = p.data[src + c];
      }
      col += rows;
    }
    return this.g.weight(onnxName, out, [inDim, outDim]);
  }
}
