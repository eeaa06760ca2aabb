// Attribution (docs/mdf.md §1, beyond the paper): which records drive a predicted shift.
// 1. Cluster the records (k-means++ on the mean of their last layers' states, seeded).
// 2. Inject each cluster's mean instead of the whole signature and score the shift per cluster.
// 3. Estimate the direction g that raises the behaviour's score, by finite differences in the span
//    of the cluster deviations (kernel ridge on the k cluster injections), and score each record by
//    the projection of its own deviation onto g: the first-order change its presence causes.
import { rng } from '../../shared/random';

export function kmeans(points: Float32Array[], k: number, seed: number, iterations = 25): { assignment: number[]; centroids: Float32Array[] } {
  const n = points.length;
  const dim = points[0]?.length ?? 0;
  k = Math.max(1, Math.min(k, n));
  const random = rng(seed);
  const dist2 = (a: Float32Array, b: Float32Array) => {
    let s = 0;
    for (let i = 0; i < dim; i++) s += (a[i] - b[i]) ** 2;
    return s;
  };
  // k-means++ seeding
  const centroids: Float32Array[] = [points[Math.floor(random() * n)].slice()];
  const nearest = points.map((p) => dist2(p, centroids[0]));
  while (centroids.length < k) {
    const total = nearest.reduce((a, b) => a + b, 0);
    let pick = 0;
    if (total > 0) {
      let r = random() * total;
      for (pick = 0; pick < n - 1 && r >= nearest[pick]; pick++) r -= nearest[pick];
    } else pick = Math.floor(random() * n);
    centroids.push(points[pick].slice());
    points.forEach((p, i) => (nearest[i] = Math.min(nearest[i], dist2(p, centroids[centroids.length - 1]))));
  }
  const assignment = new Array(n).fill(0);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    points.forEach((p, i) => {
      let best = 0;
      let bestD = Infinity;
      centroids.forEach((c, j) => {
        const d = dist2(p, c);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      });
      if (assignment[i] !== best) changed = true;
      assignment[i] = best;
    });
    const sums = centroids.map(() => new Float64Array(dim));
    const counts = new Array(k).fill(0);
    points.forEach((p, i) => {
      counts[assignment[i]]++;
      for (let d = 0; d < dim; d++) sums[assignment[i]][d] += p[d];
    });
    sums.forEach((s, j) => {
      if (counts[j] > 0) for (let d = 0; d < dim; d++) centroids[j][d] = s[d] / counts[j];
    });
    if (!changed && it > 0) break;
  }
  return { assignment, centroids };
}

/** Mean of layers [from, to] of each record's hidden states: the clustering features. */
export function layerMeanFeatures(perRecord: Float32Array[], hiddenSize: number, from: number, to: number): Float32Array[] {
  const count = to - from + 1;
  return perRecord.map((h) => {
    const out = new Float32Array(hiddenSize);
    for (let l = from; l <= to; l++) for (let d = 0; d < hiddenSize; d++) out[d] += h[l * hiddenSize + d] / count;
    return out;
  });
}

/** sum over [start, end) of w_l a_k b_k, with w_l the weight of coordinate k's layer (1 without weights). */
function dotBand(a: Float32Array, b: Float32Array, start: number, end: number, weights?: number[], hiddenSize = 1): number {
  let s = 0;
  for (let k = start; k < end; k++) s += a[k] * b[k] * (weights ? weights[Math.floor(k / hiddenSize)] : 1);
  return s;
}

/** Solves (G + lambda I) beta = y for a small symmetric G by Gaussian elimination with partial pivoting. */
export function ridgeSolve(gram: number[][], y: number[], lambda: number): number[] {
  const n = y.length;
  const a = gram.map((row, i) => [...row.map((v, j) => v + (i === j ? lambda : 0)), y[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    if (Math.abs(a[c][c]) < 1e-300) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.map((row, i) => (Math.abs(row[i]) < 1e-300 ? 0 : row[n] / row[i]));
}

/**
 * Per-record scores from cluster injections. `layerWeights` (optional): the square of the per-layer
 * factor the injected vectors were scaled by, so that the inner products are those of the scaled vectors. deviations[c] = m_c - s (cluster mean minus signature),
 * shifts[c] = score(alpha m_c) - score(alpha s). Returns score_i = <alpha (h_i - s) / n, g> over the band's
 * coordinates [start, end), with g = sum_c beta_c (m_c - s) fitted so that <alpha (m_c - s), g> ~ shifts[c].
 */
export function recordScores(
  perRecord: Float32Array[],
  signature: Float32Array,
  deviations: Float32Array[],
  shifts: number[],
  alpha: number,
  start: number,
  end: number,
  layerWeights?: number[],
  hiddenSize = 1,
): number[] {
  const k = deviations.length;
  const gram = deviations.map((a) => deviations.map((b) => alpha * alpha * dotBand(a, b, start, end, layerWeights, hiddenSize)));
  // the weight folded into the deviations once, so the per-record loop stays a plain dot product
  const weighted = layerWeights ? deviations.map((d) => d.map((v, j) => v * layerWeights[Math.floor(j / hiddenSize)])) : deviations;
  const trace = gram.reduce((s, row, i) => s + row[i], 0);
  const beta = ridgeSolve(gram, shifts, Math.max(1e-12, (1e-3 * trace) / Math.max(1, k)));
  const n = Math.max(1, perRecord.length);
  return perRecord.map((h) => {
    let score = 0;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      const dev = weighted[c];
      for (let j = start; j < end; j++) dot += (h[j] - signature[j]) * dev[j];
      score += beta[c] * alpha * alpha * dot;
    }
    // the signature moves by (h_i - s) / n when record i joins: its first-order share of the shift
    return score / n;
  });
}
