// Injection (DESIGN.md §4.2): alpha * s_l added to layer l's residual output, only inside the
// configured layer band (zeros elsewhere mean "off" per the model contract), and the random
// control: a seeded Gaussian direction per layer rescaled to the signature's per-layer norm.
import type { Steering } from '../model/api';
import { gaussian, rng } from './rng';

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
export function steeringFor(vectors: Float32Array, alpha: number, numLayers: number, hiddenSize: number, band: LayerBand = {}, positions: SteerPositions = 'all'): Steering {
  const { from, to } = resolveBand(numLayers, band);
  const out = new Float32Array(numLayers * hiddenSize);
  if (alpha !== 0) {
    for (let l = from; l <= to; l++) {
      for (let k = l * hiddenSize; k < (l + 1) * hiddenSize; k++) out[k] = alpha * vectors[k];
    }
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
