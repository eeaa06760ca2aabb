// Token choice for generation: greedy, temperature, nucleus (top-p), drawing from the shared seeded
// generator (src/shared/random.ts) so that a seed reproduces a run exactly.

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** log-softmax of one row, in float64 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** temperature <= 0: greedy; else sample from softmax(logits / T) restricted to the top-p nucleus. */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topP: number, rng: () => number): number {
  if (!(temperature > 0)) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]);
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
  for (let i = 0; i < n; i++) probs[i] /= sum;
  let candidates: number[];
  if (topP > 0 && topP < 1) {
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => probs[y] - probs[x]);
    candidates = [];
    let cum = 0;
    for (const i of order) {
      candidates.push(i);
      cum += probs[i];
      if (cum >= topP) break;
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }
  let mass = 0;
  for (const i of candidates) mass += probs[i];
  let r = rng() * mass;
  for (const i of candidates) {
    r -= probs[i];
    if (r <= 0) return i;
  }
  return candidates[candidates.length - 1];
}
