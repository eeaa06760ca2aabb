// Exact binomial and multinomial draws for the bootstrap, from the shared seeded generator
// (inversion for small means, Hörmann's BTRS rejection sampler otherwise: W. Hörmann, "The
// generation of binomial random variates", J. Statist. Comput. Simul. 46, 1993).
import type { Rng } from '../../shared/random';

const LOG_FACTORIAL = (() => {
  const table = new Float64Array(256);
  for (let i = 1; i < 256; i++) table[i] = table[i - 1] + Math.log(i);
  return table;
})();

/** log(k!) — a table below 256, Stirling's series above (error < 1e-12 there). */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL[k];
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}

/** An exact Binomial(n, p) draw. */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const q = 1 - p;
  if (n * p < 10) {
    // inversion: walk the probability mass function from 0
    const s = p / q;
    const a = (n + 1) * s;
    let r = Math.pow(q, n);
    let u = rng.next();
    let x = 0;
    while (u > r) {
      u -= r;
      x++;
      if (x > n) return n;
      r *= a / x - s;
    }
    return x;
  }
  // BTRS (transformed rejection with squeeze)
  const spq = Math.sqrt(n * p * q);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const vr = 0.92 - 4.2 / b;
  const alpha = (2.83 + 5.1 / b) * spq;
  const lpq = Math.log(p / q);
  const m = Math.floor((n + 1) * p);
  const h = logFactorial(m) + logFactorial(n - m);
  for (;;) {
    const u = rng.next() - 0.5;
    let v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v <= vr) return k;
    v = Math.log((v * alpha) / (a / (us * us) + b));
    if (v <= h - logFactorial(k) - logFactorial(n - k) + (k - m) * lpq) return k;
  }
}

/**
 * Draws Multinomial(n, counts / Σcounts) into `out` by conditional binomials. Resampling n rows
 * with replacement and counting them per cell has exactly this distribution, so a bootstrap of
 * a million rows costs K² draws per resample instead of a million.
 */
export function multinomialFromCounts(rng: Rng, counts: ArrayLike<number>, n: number, out: Float64Array): Float64Array {
  let remainingMass = 0;
  for (let i = 0; i < counts.length; i++) remainingMass += counts[i];
  let remaining = n;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (remaining <= 0 || c <= 0) {
      out[i] = 0;
    } else if (c >= remainingMass) {
      out[i] = remaining;
      remaining = 0;
    } else {
      const x = binomial(rng, remaining, c / remainingMass);
      out[i] = x;
      remaining -= x;
    }
    remainingMass -= c;
  }
  return out;
}
