// Paired bootstrap intervals over probe units (prompts x samples), seeded.
import { rng } from './rng';

export interface Interval {
  value: number;
  low: number;
  high: number;
}

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
