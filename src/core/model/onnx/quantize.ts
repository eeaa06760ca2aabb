// Blockwise symmetric int8 weight quantization for the `int8` build (ONNX Runtime's MatMulNBits,
// bits = 8). The numbers are exactly llama.cpp's Q8_0: blocks of 32 consecutive input weights of
// one output row, scale d = max|w| / 127 stored as fp16, q = round-half-away(w / d) in [-127, 127].
// Matching Q8_0 bit for bit lets the benchmark run llama.cpp on the same quantised weights.
import { floatToHalf, halfToFloat } from '../safetensors';

export const Q8_BLOCK = 32;
/** MatMulNBits' implicit zero point for 8 bits (2^(bits-1)): bytes hold q + 128. */
const ZERO_POINT = 128;

export interface QuantizedRows {
  /** [N, ceil(K/32), 32] bytes q + 128 (MatMulNBits' B); a partial last block is zero-padded */
  data: Uint8Array;
  /** [N * ceil(K/32)] dequantisation scales (fp16 values held in float32) */
  scales: Float32Array;
}

export function blocksPerRow(k: number): number {
  return Math.ceil(k / Q8_BLOCK);
}

/** Quantises `rows` (row-major [n, k], the nn.Linear [out, in] layout) into `out` from row `row0`. */
function quantizeInto(rows: Float32Array, n: number, k: number, out: QuantizedRows, row0: number): void {
  const kb = blocksPerRow(k);
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < kb; b++) {
      const start = r * k + b * Q8_BLOCK;
      const end = Math.min(start + Q8_BLOCK, (r + 1) * k);
      let amax = 0;
      for (let i = start; i < end; i++) amax = Math.max(amax, Math.abs(rows[i]));
      const d = Math.fround(amax / 127);
      const id = d ? Math.fround(1 / d) : 0;
      const block = (row0 + r) * kb + b;
      out.scales[block] = halfToFloat(floatToHalf(d));
      const base = block * Q8_BLOCK;
      for (let i = start; i < end; i++) {
        const x = Math.fround(rows[i] * id);
        // roundf: half away from zero, as ggml does
        out.data[base + i - start] = Math.sign(x) * Math.round(Math.abs(x)) + ZERO_POINT;
      }
      for (let i = end - start; i < Q8_BLOCK; i++) out.data[base + i] = ZERO_POINT;
    }
  }
}

export function quantizeRows(rows: Float32Array, n: number, k: number): QuantizedRows {
  if (rows.length !== n * k) throw new Error(`quantizeRows: ${rows.length} values for a ${n}x${k} matrix`);
  const out = { data: new Uint8Array(n * blocksPerRow(k) * Q8_BLOCK), scales: new Float32Array(n * blocksPerRow(k)) };
  quantizeInto(rows, n, k, out, 0);
  return out;
}

/**
 * Quantises a [n, k] matrix that arrives in pieces of any length (a checkpoint stream), yielding
 * the quantised bytes row by row, so a multi-GB embedding never sits in memory as float32. The
 * scales (1/32 of the bytes, as float32) are filled into `scales` as rows complete.
 */
export async function* quantizeStream(chunks: AsyncIterable<Float32Array>, n: number, k: number, scales: Float32Array): AsyncGenerator<Uint8Array> {
  const kb = blocksPerRow(k);
  let pending = new Float32Array(0);
  let row = 0;
  for await (const chunk of chunks) {
    const all = new Float32Array(pending.length + chunk.length);
    all.set(pending);
    all.set(chunk, pending.length);
    const whole = Math.floor(all.length / k);
    if (whole > 0) {
      const local = { data: new Uint8Array(whole * kb * Q8_BLOCK), scales: new Float32Array(whole * kb) };
      quantizeInto(all.subarray(0, whole * k), whole, k, local, 0);
      scales.set(local.scales, row * kb);
      row += whole;
      yield local.data;
    }
    pending = all.slice(whole * k); // a copy: the stream may reuse its buffer
  }
  if (pending.length !== 0 || row !== n) throw new Error(`quantizeStream: expected ${n}x${k} values, got ${row} rows and ${pending.length} more`);
}

/** The float32 matrix the quantised weights stand for (tests and error measurements). */
export function dequantizeRows(q: QuantizedRows, n: number, k: number): Float32Array {
  const kb = blocksPerRow(k);
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < k; c++) {
      const block = r * kb + Math.floor(c / Q8_BLOCK);
      out[r * k + c] = (q.data[block * Q8_BLOCK + (c % Q8_BLOCK)] - ZERO_POINT) * q.scales[block];
    }
  return out;
}
