// Reads checkpoint tensors and lays them out the way the graph wants them: linear weights
// transposed to [in, out] (MatMul's layout); q/k/v fused into one matrix, so that attention's
// input projection is one GEMM instead of three.
import { Checkpoint, tensorEntry } from '../checkpoint';
import { readTensorFloat32, streamTensorFloat32 } from '../safetensors';
import { GraphBuilder } from './graph';

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
    const out = new Float32Array(inDim * outDim);
    let col = 0;
    for (const p of parts) {
      const [rows, cols] = p.shape;
      if (cols !== inDim) throw new Error(`cannot fuse ${hfNames.join(', ')}: input sizes differ`);
      for (let r = 0; r < rows; r++) {
        const src = r * cols;
        for (let c = 0; c < cols; c++) out[c * outDim + col + r] = p.data[src + c];
      }
      col += rows;
    }
    return this.g.weight(onnxName, out, [inDim, outDim]);
  }
}
