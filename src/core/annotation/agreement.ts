// Chance-corrected agreement on an ordered scale of K levels.
//   Cohen's κ (Cohen 1960): (p_o − p_e) / (1 − p_e) from a K×K confusion matrix.
//   Quadratic-weighted κ (Cohen 1968; weights (i−j)²/(K−1)²): 1 − Σ w·o / Σ w·e.
//   Krippendorff's α (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
//   1 − D_o/D_e from the coincidence matrix, for any number of coders and missing values;
//   nominal, ordinal and interval difference functions.
// Matrices are flat Float64Arrays indexed [row * K + column]. Undefined values are NaN here
// (one category only, nothing pairable) and become null in reports.

/** Total, diagonal and row/column sums of a K×K confusion matrix. */
function marginals(confusion: ArrayLike<number>, K: number): { n: number; agree: number; rows: Float64Array; cols: Float64Array } {
  let n = 0;
  let agree = 0;
  const rows = new Float64Array(K);
  const cols = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const v = confusion[i * K + j];
      n += v;
      rows[i] += v;
      cols[j] += v;
      if (i === j) agree += v;
    }
  }
  return { n, agree, rows, cols };
}

export function cohenKappa(confusion: ArrayLike<number>, K: number): number {
  const { n, agree, rows, cols } = marginals(confusion, K);
  if (n === 0) return NaN;
  let pe = 0;
  for (let i = 0; i < K; i++) pe += (rows[i] / n) * (cols[i] / n);
  const po = agree / n;
  if (pe >= 1) return NaN;
  return (po - pe) / (1 - pe);
}

export function quadraticKappa(confusion: ArrayLike<number>, K: number): number {
  if (K < 2) return NaN;
  const { n, rows, cols } = marginals(confusion, K);
  if (n === 0) return NaN;
  let observed = 0;
  let expected = 0;
  const scale = (K - 1) * (K - 1);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const w = ((i - j) * (i - j)) / scale;
      observed += w * confusion[i * K + j];
      expected += (w * rows[i] * cols[j]) / n;
    }
  }
  if (expected === 0) return NaN;
  return 1 - observed / expected;
}

export type AlphaMetric = 'nominal' | 'ordinal' | 'interval';

/** α from a coincidence matrix o (K×K, symmetric); `values` are the levels' numbers for the interval metric. */
export function alphaFromCoincidence(o: ArrayLike<number>, K: number, metric: AlphaMetric, values?: ArrayLike<number>): number {
  const nc = new Float64Array(K);
  let n = 0;
  for (let c = 0; c < K; c++) {
    for (let k = 0; k < K; k++) nc[c] += o[c * K + k];
    n += nc[c];
  }
  if (n <= 1) return NaN;
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < K; c++) {
    for (let k = c + 1; k < K; k++) {
      let d2: number;
      if (metric === 'nominal') d2 = 1;
      else if (metric === 'interval') {
        const diff = values ? values[c] - values[k] : c - k;
        d2 = diff * diff;
      } else {
        // ordinal: (Σ_{g=c..k} n_g − (n_c + n_k)/2)²
        let sum = 0;
        for (let g = c; g <= k; g++) sum += nc[g];
        sum -= (nc[c] + nc[k]) / 2;
        d2 = sum * sum;
      }
      // the matrix is symmetric: count (c,k) and (k,c) together
      observed += d2 * (o[c * K + k] + o[k * K + c]);
      expected += d2 * 2 * nc[c] * nc[k];
    }
  }
  if (expected === 0) return observed === 0 ? NaN : NaN;
  return 1 - ((n - 1) * observed) / expected;
}

/** Adds one unit's values (level codes, missing ones left out) to a coincidence matrix. */
export function addUnitToCoincidence(o: Float64Array, K: number, codes: ArrayLike<number>): void {
  const m = codes.length;
  if (m < 2) return; // a value without a partner is not pairable
  const w = 1 / (m - 1);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (a !== b) o[codes[a] * K + codes[b]] += w;
    }
  }
}

/**
 * Krippendorff's α for a reliability matrix: units × coders, each cell a level code or a negative
 * number for missing. Units with fewer than two values are not pairable and are skipped.
 */
export function krippendorffAlpha(units: ArrayLike<number>[], K: number, metric: AlphaMetric, values?: ArrayLike<number>): number {
  const o = new Float64Array(K * K);
  for (const unit of units) {
    const codes = Array.from(unit).filter((c) => c >= 0);
    addUnitToCoincidence(o, K, codes);
  }
  return alphaFromCoincidence(o, K, metric, values);
}

/** Coincidence matrix of two raters with no missing values: o = C + Cᵀ. */
export function coincidenceOfConfusion(
  confusion: ArrayLike<number>,
  K: number,
  out: Float64Array<ArrayBufferLike> = new Float64Array(K * K),
): Float64Array<ArrayBufferLike> {
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) out[i * K + j] = confusion[i * K + j] + confusion[j * K + i];
  }
  return out;
}
