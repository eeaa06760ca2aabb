// The statistics a CI gate rests on: the sign-flip p-value against hand-counted and binomial
// (sign test) values, Holm's adjustment against R's p.adjust(..., "holm"), and the family-wise
// false-alarm rate of the whole rule under a simulated null (bench/mdf/null, smaller size).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holmAdjust, signFlipPValue } from '../../../src/core/mdf/stats';
import { BUNDLED_NULL, nullRates } from '../../../bench/mdf/null/simulate';

function binomialTail(n: number, k: number): number {
  let sum = 0;
  let c = 1;
  for (let i = 0; i <= n; i++) {
    if (i >= k) sum += c;
    c = (c * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

describe('sign-flip permutation test', () => {
  it('counts the sign patterns exactly (hand-checked), zeros dropped', () => {
    // signed sums of 1, 2, 0.5: 3.5, 2.5, 1.5, 0.5, -0.5, -1.5, -2.5, -3.5; observed 2.5 -> 2/8
    assert.equal(signFlipPValue([1, 2, -0.5]), 0.25);
    assert.equal(signFlipPValue([1, 2, -0.5, 0, 0]), 0.25);
    assert.equal(signFlipPValue([0, 0, 0]), 1);
    assert.equal(signFlipPValue(Array(12).fill(0.1)), 1 / 4096);
  });

  it('equals the binomial sign test when every difference has the same size', () => {
    for (const [n, k] of [
      [10, 8],
      [12, 9],
      [14, 7],
      [16, 13],
    ]) {
      const diffs = Array.from({ length: n }, (_, i) => (i < k ? 0.2 : -0.2));
      assert.ok(Math.abs(signFlipPValue(diffs) - binomialTail(n, k)) < 1e-12, `n ${n}, k ${k}`);
    }
  });

  it('Monte Carlo beyond 16 units agrees with the binomial tail and is seeded', () => {
    const diffs = Array.from({ length: 40 }, (_, i) => (i < 27 ? 1 : -1));
    const p = signFlipPValue(diffs, 40000, 3);
    assert.equal(p, signFlipPValue(diffs, 40000, 3));
    const exact = binomialTail(40, 27);
    assert.ok(Math.abs(p - exact) < 0.004, `${p} vs ${exact}`);
  });
});

describe('Holm adjustment', () => {
  it('matches R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02', () => {
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((x, i) => assert.ok(Math.abs(adjusted[i] - x) < 1e-12, `${i}: ${adjusted[i]}`));
    assert.deepEqual(holmAdjust([0.5, 0.9]), [1, 1]);
    assert.deepEqual(holmAdjust([]), []);
  });
});

describe('simulated null (bench/mdf/null at a smaller size)', () => {
  it('the report-wide false-alarm rate stays under 5% with margin, where the old rule fired most of the time', () => {
    const rates = nullRates({ ...BUNDLED_NULL, resamples: 200 }, 40);
    assert.ok(rates.falseAlarmMedium <= 0.025, `medium or above in ${rates.falseAlarmMedium} of null reports`);
    assert.ok(rates.falseAlarmLow <= 0.05, `low or above in ${rates.falseAlarmLow}`);
    // the simulation can tell a bad rule: the pre-issue rule on the same units fires far more often
    assert.ok(rates.legacyFalseAlarmMedium >= 0.3, `legacy rule ${rates.legacyFalseAlarmMedium}`);
    // and the unadjusted test is not anti-conservative (about <= 5% of behaviours per report)
    assert.ok(rates.meanRawSignificant / BUNDLED_NULL.behaviours <= 0.05, `${rates.meanRawSignificant} raw significant per report`);
    const generation = nullRates({ ...BUNDLED_NULL, scoring: 'generation', resamples: 200 }, 20);
    assert.ok(generation.falseAlarmMedium <= 0.05, `generation: ${generation.falseAlarmMedium}`);
  });
});
