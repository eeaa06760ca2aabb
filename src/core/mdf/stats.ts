// The statistics a forecast is gated on (docs/mdf.md, "Statistics"): paired bootstrap intervals
// and a paired sign-flip permutation test over probe units (prompts), and Holm's adjustment across
// every behaviour of a report. Seeded, so a report is reproducible bit for bit.
import { rng } from '../../shared/random';

import type { Interval } from '../../shared/reports/mdf';

export type { Interval };

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length ? sum / values.length : 0;
}

/** Percentile interval of mean(after - before) under resampling of the paired units. */
export function pairedBootstrap(before: number[], after: number[], resamples: number, seed: number, level = 0.95): Interval {
  if (before.length !== after.length) throw new Error('paired bootstrap needs equally many units before and after');
  const n = before.length;
  const diffs = after.map((a, i) => a - before[i]);
  const value = mean(diffs);
  if (n === 0 || resamples <= 0) return { value, low: value, high: value };
  const random = rng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diffs[Math.floor(random() * n)];
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { value, low: at(tail), high: at(1 - tail) };
}

/** Units up to which the sign-flip test enumerates all 2^n sign patterns (exact p-value). */
export const EXACT_SIGN_FLIP_UNITS = 16;

/**
 * One-sided paired sign-flip permutation test of H0 "the differences are symmetric about 0"
 * against "they are shifted upward": p = P(sum of randomly signed |d_i| >= observed sum).
 * Exact (all 2^n patterns) for n <= 16 non-zero differences, else Monte Carlo with the +1
 * correction (p = (1 + hits) / (1 + resamples)), which keeps the test valid. Exact in finite
 * samples under H0, so it needs no asymptotics and holds at 12 units.
 */
export function signFlipPValue(diffs: number[], resamples = 20000, seed = 0): number {
  // zero differences carry no sign information; they never change the statistic
  const d = diffs.filter((x) => x !== 0 && Number.isFinite(x));
  const n = d.length;
  if (n === 0) return 1;
  const observed = d.reduce((s, x) => s + x, 0);
  const abs = d.map(Math.abs);
  const total = abs.reduce((s, x) => s + x, 0);
  // float noise must not turn a tie into a miss
  const tolerance = 1e-9 * total;
  if (n <= EXACT_SIGN_FLIP_UNITS) {
    // enumerate sums by Gray code: each step flips one sign
    const patterns = 1 << n;
    let sum = total;
    const sign = new Int8Array(n).fill(1);
    let hits = sum >= observed - tolerance ? 1 : 0;
    for (let g = 1; g < patterns; g++) {
      const bit = 31 - Math.clz32(g & -g);
      sign[bit] = -sign[bit];
      sum += 2 * sign[bit] * abs[bit];
      if (sum >= observed - tolerance) hits++;
    }
    return hits / patterns;
  }
  const random = rng(seed);
  let hits = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += random() < 0.5 ? -abs[i] : abs[i];
    if (sum >= observed - tolerance) hits++;
  }
  return (1 + hits) / (1 + resamples);
}

/**
 * Holm's step-down adjustment (controls the family-wise error rate under any dependence):
 * sorted ascending, p_adj(i) = max over j <= i of min(1, (m - j + 1) p(j)); returned in input order.
 */
export function holmAdjust(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[index]));
    adjusted[index] = running;
  });
  return adjusted;
}
