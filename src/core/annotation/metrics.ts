// The ordinal error taxonomy of Xu et al. (LAK '26) and the metrics of one rater against gold,
// all computed from a K×K confusion matrix (gold rows, rater columns) so that a bootstrap
// resample only has to produce new counts.
//   d = |index(rater) − index(gold)|: 0 correct, 1 boundary-ambiguity error, ≥ 2 conceptual error.
//   severity-weighted error (SWE) = mean d / (K − 1)   (the authors' sev_w)
//   boundary bias index (BBI) = (up − down) / (up + down) over the d = 1 errors (the authors' BBI)
//   signed mean shift = mean (index(rater) − index(gold)), in scale steps
import { alphaFromCoincidence, coincidenceOfConfusion, cohenKappa, quadraticKappa } from './agreement';
import { Estimate, LevelProfile, METRIC_NAMES, MetricName, RaterMetrics, RaterReport } from './types';
import { errorClass } from '../../shared/reports/annotation';

export const METRIC_COUNT = METRIC_NAMES.length;

/**
 * Fills `out` (length METRIC_COUNT, in METRIC_NAMES order) from a confusion matrix. NaN marks an
 * undefined value. `scratch` (K×K) avoids an allocation per call in the bootstrap loop.
 */
export function metricsFromConfusion(
  confusion: ArrayLike<number>,
  K: number,
  values: ArrayLike<number>,
  out: Float64Array,
  scratch: Float64Array<ArrayBufferLike>,
): Float64Array {
  let n = 0;
  let correct = 0;
  let boundary = 0;
  let conceptual = 0;
  let distance = 0;
  let shift = 0;
  let up = 0;
  let down = 0;
  for (let g = 0; g < K; g++) {
    for (let r = 0; r < K; r++) {
      const v = confusion[g * K + r];
      if (v === 0) continue;
      const d = r > g ? r - g : g - r;
      const type = errorClass(g, r);
      n += v;
      distance += d * v;
      shift += (r - g) * v;
      if (type === 0) correct += v;
      else if (type === 1) {
        boundary += v;
        if (r > g) up += v;
        else down += v;
      } else conceptual += v;
    }
  }
  if (n === 0) {
    out.fill(NaN);
    return out;
  }
  out[0] = correct / n;
  out[1] = boundary / n;
  out[2] = conceptual / n;
  out[3] = K > 1 ? distance / n / (K - 1) : 0;
  out[4] = up + down > 0 ? (up - down) / (up + down) : NaN;
  out[5] = shift / n;
  out[6] = cohenKappa(confusion, K);
  out[7] = quadraticKappa(confusion, K);
  const o = coincidenceOfConfusion(confusion, K, scratch);
  out[8] = alphaFromCoincidence(o, K, 'nominal');
  out[9] = alphaFromCoincidence(o, K, 'ordinal');
  out[10] = alphaFromCoincidence(o, K, 'interval', values);
  return out;
}

export function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export function pointEstimate(value: number): Estimate {
  return { value: finite(value), lo: null, hi: null };
}

/** Per-level profile: error direction, precision/recall/F1 (one-vs-rest, as in the authors' summary files). */
export function levelProfiles(confusion: ArrayLike<number>, K: number, levels: string[]): LevelProfile[] {
  const profiles: LevelProfile[] = [];
  for (let g = 0; g < K; g++) {
    let gold = 0;
    let predicted = 0;
    let boundaryUp = 0;
    let boundaryDown = 0;
    let conceptualUp = 0;
    let conceptualDown = 0;
    let shift = 0;
    for (let r = 0; r < K; r++) {
      const v = confusion[g * K + r];
      gold += v;
      predicted += confusion[r * K + g];
      shift += (r - g) * v;
      const type = errorClass(g, r);
      if (type === 1) {
        if (r > g) boundaryUp += v;
        else boundaryDown += v;
      } else if (type === 2) {
        if (r > g) conceptualUp += v;
        else conceptualDown += v;
      }
    }
    const correct = confusion[g * K + g];
    const precision = predicted > 0 ? correct / predicted : null;
    const recall = gold > 0 ? correct / gold : null;
    const f1 =
      precision !== null && recall !== null && precision + recall > 0
        ? (2 * precision * recall) / (precision + recall)
        : precision === 0 || recall === 0
          ? 0
          : null;
    profiles.push({
      level: levels[g],
      gold,
      predicted,
      correct,
      boundaryUp,
      boundaryDown,
      conceptualUp,
      conceptualDown,
      meanShift: gold > 0 ? shift / gold : null,
      precision,
      recall,
      f1,
    });
  }
  return profiles;
}

/** A rater report with point estimates; the bootstrap fills in the intervals. */
export function raterReport(name: string, confusion: ArrayLike<number>, K: number, levels: string[], values: ArrayLike<number>): RaterReport {
  const out = metricsFromConfusion(confusion, K, values, new Float64Array(METRIC_COUNT), new Float64Array(K * K));
  const metrics = {} as RaterMetrics;
  METRIC_NAMES.forEach((name: MetricName, i) => {
    metrics[name] = pointEstimate(out[i]);
  });
  const matrix: number[][] = [];
  let n = 0;
  let correct = 0;
  let boundary = 0;
  let conceptual = 0;
  for (let g = 0; g < K; g++) {
    const row: number[] = [];
    for (let r = 0; r < K; r++) {
      const v = confusion[g * K + r];
      row.push(v);
      n += v;
      const type = errorClass(g, r);
      if (type === 0) correct += v;
      else if (type === 1) boundary += v;
      else conceptual += v;
    }
    matrix.push(row);
  }
  return { name, n, counts: { correct, boundary, conceptual }, metrics, confusion: matrix, levels: levelProfiles(confusion, K, levels) };
}
