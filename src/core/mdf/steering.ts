// Injection (docs/mdf.md §1, Injection): alpha * v_l added to layer l's residual output, only inside the
// configured layer band (zeros elsewhere mean "off" per the model contract), where v_l is the
// signature s_l rescaled to the layer's typical residual norm, so that alpha means the same on
// every model (alpha = 1: a vector as long as a typical residual state). The random control: a
// seeded Gaussian direction per layer rescaled to the same per-layer norm.
import type { InferenceModel, Steering } from '../model/api';
import { checkSteeringValues } from '../model/finite';
import { gaussian, rng } from '../../shared/random';
import { throwIfCancelled } from '../../shared/errors';

export interface LayerBand {
  /** first and last layer (0-based, inclusive) that receive the vector; default: all layers */
  from?: number;
  to?: number;
}

export type SteerPositions = NonNullable<Steering['positions']>;

export function resolveBand(numLayers: number, band: LayerBand = {}): { from: number; to: number } {
  const from = Math.max(0, Math.min(numLayers - 1, band.from ?? 0));
  const to = Math.max(from, Math.min(numLayers - 1, band.to ?? numLayers - 1));
  return { from, to };
}

/** alpha * vectors inside the band, zeros outside: the `Steering.vectors` of the contract. */
export function steeringFor(
  vectors: Float32Array,
  alpha: number,
  numLayers: number,
  hiddenSize: number,
  band: LayerBand = {},
  positions: SteerPositions = 'all',
): Steering {
  const { from, to } = resolveBand(numLayers, band);
  const out = new Float32Array(numLayers * hiddenSize);
  if (alpha !== 0) {
    for (let l = from; l <= to; l++) {
      for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) out[k] = alpha * vectors[k];
    }
    // an absurd alpha (1e308) would turn every logit into NaN and the forecast silently into noise
    checkSteeringValues(out, `steering vector at alpha ${alpha}, entry`);
  }
  return { vectors: out, positions };
}

/** A random vector with the same norm as `reference` in every layer (seeded). */
export function randomControl(reference: Float32Array, numLayers: number, hiddenSize: number, seed: number): Float32Array {
  const normal = gaussian(rng(seed));
  const out = new Float32Array(numLayers * hiddenSize);
  for (let l = 0; l < numLayers; l++) {
    let refNorm = 0;
    let norm = 0;
    for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) {
      refNorm += reference[k] * reference[k];
      out[k] = normal();
      norm += out[k] * out[k];
    }
    const scale = norm > 0 ? Math.sqrt(refNorm) / Math.sqrt(norm) : 0;
    for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) out[k] *= scale;
  }
  return out;
}

export function subtract(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] - b[k];
  return out;
}

/** Prefix rows per prompt at most (the norms are averaged over these positions). */
const NORM_POSITIONS_PER_PROMPT = 16;

/**
 * Typical residual norm of each layer: the mean, over the given prompts (as the model is asked them)
 * and over their token positions except the first, of ||h_l,t||, layer l's residual output. The first
 * position is left out because large models park outsized "attention sink" activations there.
 * Positions are read as the last token of prefixes (at most 16 evenly spaced per prompt).
 */
export async function residualNorms(model: InferenceModel, promptIds: number[][], signal?: AbortSignal): Promise<number[]> {
  const { numLayers, hiddenSize } = model.info;
  const rows: number[][] = [];
  for (const ids of promptIds) {
    const positions = ids.length - 1;
    if (positions < 1) continue;
    const take = Math.min(NORM_POSITIONS_PER_PROMPT, positions);
    const ends = new Set(Array.from({ length: take }, (_, i) => 2 + Math.floor((i * (positions - 1)) / Math.max(1, take - 1))));
    for (const end of ends) rows.push(ids.slice(0, Math.min(end, ids.length)));
  }
  if (rows.length === 0) throw new Error('residual norms need at least one prompt of two tokens');
  const sums = new Float64Array(numLayers);
  for (let start = 0; start < rows.length; start += 16) {
    throwIfCancelled(signal);
    const { hiddenLast } = await model.forward(rows.slice(start, start + 16), { signal });
    for (const h of hiddenLast) {
      for (let l = 0; l < numLayers; l++) {
        let sq = 0;
        for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) sq += h[k] * h[k];
        sums[l] += Math.sqrt(sq);
      }
    }
  }
  return Array.from(sums, (x) => x / rows.length);
}

/** Per-layer factors that bring ||s_l|| to the layer's residual norm (0 where s_l is 0). */
export function residualScales(vectors: Float32Array, norms: number[], hiddenSize: number): number[] {
  return norms.map((target, l) => {
    let sq = 0;
    for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) sq += vectors[k] * vectors[k];
    return sq > 0 ? target / Math.sqrt(sq) : 0;
  });
}

/** vectors with layer l multiplied by scales[l]. */
export function scaleLayers(vectors: Float32Array, scales: number[], hiddenSize: number): Float32Array {
  const out = new Float32Array(vectors.length);
  for (let l = 0; l < scales.length; l++) for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) out[k] = vectors[k] * scales[l];
  return out;
}
