// The bootstrap's building blocks: exact binomial/multinomial draws (checked against their known
// moments and against direct resampling of rows) and reproducibility under a seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBootstrap } from '../../../src/core/annotation/bootstrap';
import { binomial, multinomialFromCounts } from '../../../src/core/annotation/random';
import { Rng } from '../../../src/shared/random';

function moments(xs: number[]): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return [mean, variance];
}

test('binomial draws have mean np and variance np(1−p) (inversion and BTRS branches)', () => {
  const rng = new Rng(42);
  for (const [n, p] of [
    [20, 0.1],
    [1000, 0.3],
    [1_000_000, 0.02],
    [50, 0.9],
  ] as const) {
    const xs = Array.from({ length: 20000 }, () => binomial(rng, n, p));
    const [mean, variance] = moments(xs);
    const sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(mean - n * p) < (5 * sd) / Math.sqrt(xs.length), `mean n=${n} p=${p}: ${mean}`);
    assert.ok(Math.abs(variance / (n * p * (1 - p)) - 1) < 0.05, `variance n=${n} p=${p}: ${variance}`);
    assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= n));
  }
});

test('a multinomial over confusion cells matches drawing the rows with replacement', () => {
  const counts = [50, 20, 5, 25];
  const n = 100;
  const rows: number[] = counts.flatMap((c, cell) => new Array(c).fill(cell));
  const rng = new Rng(3);
  const out = new Float64Array(4);
  const multi: number[][] = [[], [], [], []];
  const direct: number[][] = [[], [], [], []];
  for (let b = 0; b < 20000; b++) {
    multinomialFromCounts(rng, counts, n, out);
    assert.equal(
      out.reduce((a, x) => a + x, 0),
      n,
    );
    out.forEach((x, i) => multi[i].push(x));
    const tally = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) tally[rows[rng.int(n)]]++;
    tally.forEach((x, i) => direct[i].push(x));
  }
  for (let i = 0; i < 4; i++) {
    const [m1, v1] = moments(multi[i]);
    const [m2, v2] = moments(direct[i]);
    assert.ok(Math.abs(m1 - m2) < 0.15, `cell ${i} mean ${m1} vs ${m2}`);
    assert.ok(Math.abs(v1 / v2 - 1) < 0.06, `cell ${i} variance ${v1} vs ${v2}`);
  }
});

test('the same seed gives the same intervals; another seed other ones', () => {
  const llm = [new Float64Array([30, 5, 1, 4, 20, 6, 0, 3, 31])];
  const run = (seed: number) => runBootstrap({ K: 3, values: [0, 1, 2], resamples: 200, seed, llm });
  assert.deepEqual(run(5).llm[0], run(5).llm[0]);
  assert.notDeepEqual(run(5).llm[0], run(6).llm[0]);
});
