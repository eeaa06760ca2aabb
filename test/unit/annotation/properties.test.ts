// Property tests (fast-check): invariants that hold for any data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cohenKappa, krippendorffAlpha, quadraticKappa } from '../../../src/core/annotation/agreement';
import { decompose } from '../../../src/core/annotation/decompose';
import { metricsFromConfusion, METRIC_COUNT } from '../../../src/core/annotation/metrics';
import { allocate } from '../../../src/core/annotation/sampler';
import { rng, shuffleInPlace } from '../../../src/shared/random';

const K = 5;
const pairs = fc.array(fc.tuple(fc.integer({ min: 0, max: K - 1 }), fc.integer({ min: 0, max: K - 1 })), { minLength: 1, maxLength: 200 });

function confusionOf(list: Array<[number, number]>): number[] {
  const c = new Array(K * K).fill(0);
  for (const [g, r] of list) c[g * K + r]++;
  return c;
}

function metrics(list: Array<[number, number]>): Float64Array {
  return metricsFromConfusion(confusionOf(list), K, [0, 1, 2, 3, 4], new Float64Array(METRIC_COUNT), new Float64Array(K * K));
}

test('the five shares sum to 1 and are non-negative for any rates', () => {
  fc.assert(
    fc.property(pairs, pairs, (llm, human) => {
      const m = metrics(llm);
      const h = metrics(human);
      const shares = decompose(m[0], m[1], m[2], h[1], h[2]);
      assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      for (const s of shares) assert.ok(s >= -1e-15);
    }),
  );
});

test('metrics do not depend on the order of the items (permutation invariance)', () => {
  fc.assert(
    fc.property(pairs, fc.integer(), (list, seed) => {
      const shuffled = shuffleInPlace([...list], rng(seed));
      const a = metrics(list);
      const b = metrics(shuffled);
      for (let i = 0; i < METRIC_COUNT; i++) assert.ok(Object.is(a[i], b[i]) || Math.abs(a[i] - b[i]) < 1e-12);
      // α over units does not depend on unit order or on which coder is which
      const units = list.map(([g, r]) => [g, r]);
      const swapped = [...units].reverse().map(([g, r]) => [r, g]);
      for (const metric of ['nominal', 'ordinal', 'interval'] as const) {
        const x = krippendorffAlpha(units, K, metric);
        const y = krippendorffAlpha(swapped, K, metric);
        assert.ok((Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) < 1e-12);
      }
    }),
  );
});

test('identical raters give κ = QWK = α = 1 (whenever two or more levels are used)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: 2, maxLength: 100 }), (labels) => {
      fc.pre(new Set(labels).size >= 2);
      const c = confusionOf(labels.map((l) => [l, l]));
      assert.ok(Math.abs(cohenKappa(c, K) - 1) < 1e-12);
      assert.ok(Math.abs(quadraticKappa(c, K) - 1) < 1e-12);
      for (const metric of ['nominal', 'ordinal', 'interval'] as const) {
        assert.ok(
          Math.abs(
            krippendorffAlpha(
              labels.map((l) => [l, l, l]),
              K,
              metric,
            ) - 1,
          ) < 1e-12,
        );
      }
      const m = metrics(labels.map((l) => [l, l]));
      assert.equal(m[0], 1);
      assert.equal(m[1] + m[2], 0);
    }),
  );
});

test('accuracy + AER + CRI = 1 and the shift is bounded by the scale', () => {
  fc.assert(
    fc.property(pairs, (list) => {
      const m = metrics(list);
      assert.ok(Math.abs(m[0] + m[1] + m[2] - 1) < 1e-12);
      assert.ok(Math.abs(m[5]) <= K - 1);
      assert.ok(m[3] >= 0 && m[3] <= 1);
    }),
  );
});

test('stratified allocation: the sum is min(n, total), no stratum over its size, every stratum when n allows', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 120 }), (sizes, n) => {
      const alloc = allocate(sizes, n);
      const total = sizes.reduce((a, b) => a + b, 0);
      assert.equal(
        alloc.reduce((a, b) => a + b, 0),
        Math.min(n, total),
      );
      alloc.forEach((a, i) => assert.ok(a >= 0 && a <= sizes[i]));
      const nonEmpty = sizes.filter((s) => s > 0).length;
      if (n >= nonEmpty) sizes.forEach((s, i) => s > 0 && assert.ok(alloc[i] >= 1));
    }),
  );
});
