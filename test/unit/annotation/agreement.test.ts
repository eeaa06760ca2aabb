// Agreement coefficients against published worked examples and hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohenKappa, krippendorffAlpha, quadraticKappa } from '../../../src/core/annotation/agreement';
import { metricsFromConfusion, METRIC_COUNT } from '../../../src/core/annotation/metrics';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

// K. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Annenberg School for
// Communication, section C: 4 observers × 12 units with missing values (the same data as
// DescTools::KrippAlpha's example "the C data from Krippendorff"). Published: nominal α = 0.743,
// ordinal α = 0.815, interval α = 0.849.
const M = -1;
const C_DATA = [
  [1, 1, M, 1],
  [2, 2, 3, 2],
  [3, 3, 3, 3],
  [3, 3, 3, 3],
  [2, 2, 2, 2],
  [1, 2, 3, 4],
  [4, 4, 4, 4],
  [1, 1, 2, 1],
  [2, 2, 2, 2],
  [M, 5, 5, 5],
  [M, M, 1, 1],
  [M, M, 3, M],
].map((unit) => unit.map((v) => (v < 0 ? -1 : v - 1)));

test('Krippendorff 2011 worked example with missing data: nominal 0.743, ordinal 0.815, interval 0.849', () => {
  close(krippendorffAlpha(C_DATA, 5, 'nominal'), 0.743, 5e-4, 'nominal');
  close(krippendorffAlpha(C_DATA, 5, 'ordinal'), 0.815, 5e-4, 'ordinal');
  close(krippendorffAlpha(C_DATA, 5, 'interval', [1, 2, 3, 4, 5]), 0.849, 5e-4, 'interval');
});

test('a unit with a single value is not pairable and does not change α', () => {
  const withLonely = [...C_DATA, [4, -1, -1, -1]];
  assert.equal(krippendorffAlpha(withLonely, 5, 'nominal'), krippendorffAlpha(C_DATA, 5, 'nominal'));
});

// Wikipedia, "Cohen's kappa", worked example: 50 grant proposals, Yes/Yes 20, Yes/No 5, No/Yes 10,
// No/No 15: p_o = 0.7, p_e = 0.5, κ = 0.4.
test("Cohen's kappa: Wikipedia worked example (κ = 0.4)", () => {
  close(cohenKappa([20, 5, 10, 15], 2), 0.4, 1e-12, 'kappa');
});

// Wikipedia, "Cohen's kappa", "same percentage agreement, different kappa": both tables have
// p_o = 0.60; κ = 0.1304 and κ = 0.2593.
test("Cohen's kappa: Wikipedia's equal-agreement pair (0.1304 and 0.2593)", () => {
  close(cohenKappa([45, 15, 25, 15], 2), 0.1304, 5e-5, 'first');
  close(cohenKappa([25, 35, 5, 35], 2), 0.2593, 5e-5, 'second');
});

test('quadratic-weighted kappa, hand-computed 3-level case', () => {
  // confusion (rows rater A, columns rater B) [[2,1,0],[0,2,1],[0,0,2]], n = 8
  // weights w_ij = (i−j)²/4: observed Σw·o = (1 + 1)·0.25 = 0.5
  // marginals rows (3,3,2), cols (2,3,3); expected e_ij = r_i c_j / 8
  // Σw·e = 0.25·(3·3 + 3·2 + 3·3 + 2·3)/8 + 1·(3·3 + 2·2)/8 = 0.25·30/8 + 13/8 = 0.9375 + 1.625 = 2.5625
  // κ_w = 1 − 0.5/2.5625 = 0.804878...
  close(quadraticKappa([2, 1, 0, 0, 2, 1, 0, 0, 2], 3), 1 - 0.5 / 2.5625, 1e-12, 'qwk');
});

test("with two levels the quadratic-weighted kappa equals Cohen's kappa", () => {
  close(quadraticKappa([20, 5, 10, 15], 2), 0.4, 1e-12, 'qwk');
});

test('the rater metrics of a hand-computed confusion matrix', () => {
  // 3 levels; gold rows, rater columns: [[3,1,1],[0,2,0],[1,0,2]]; n = 10
  // correct 7; boundary: (0→1) up 1; conceptual: (0→2) up 1, (2→0) down 1
  const out = metricsFromConfusion([3, 1, 1, 0, 2, 0, 1, 0, 2], 3, [0, 1, 2], new Float64Array(METRIC_COUNT), new Float64Array(9));
  close(out[0], 0.7, 1e-12, 'accuracy');
  close(out[1], 0.1, 1e-12, 'AER');
  close(out[2], 0.2, 1e-12, 'CRI');
  close(out[3], (1 + 2 + 2) / 10 / 2, 1e-12, 'SWE'); // Σd/n/(K−1)
  close(out[4], 1, 1e-12, 'BBI'); // one boundary error, upwards
  close(out[5], (1 + 2 - 2) / 10, 1e-12, 'signed shift');
});

test('two raters: α from their confusion matrix equals α from the reliability matrix', () => {
  const pairs: Array<[number, number]> = [
    [0, 0],
    [0, 1],
    [1, 1],
    [2, 0],
    [2, 2],
    [1, 2],
    [0, 0],
    [2, 2],
  ];
  const confusion = new Array(9).fill(0);
  for (const [a, b] of pairs) confusion[a * 3 + b]++;
  const out = metricsFromConfusion(confusion, 3, [0, 1, 2], new Float64Array(METRIC_COUNT), new Float64Array(9));
  close(out[8], krippendorffAlpha(pairs, 3, 'nominal'), 1e-12, 'nominal');
  close(out[9], krippendorffAlpha(pairs, 3, 'ordinal'), 1e-12, 'ordinal');
  close(out[10], krippendorffAlpha(pairs, 3, 'interval'), 1e-12, 'interval');
});

test('undefined agreement is NaN, not a number that looks real', () => {
  assert.ok(Number.isNaN(cohenKappa([5, 0, 0, 0], 2)), 'one category only');
  assert.ok(
    Number.isNaN(
      krippendorffAlpha(
        [
          [0, 0],
          [0, 0],
        ],
        2,
        'nominal',
      ),
    ),
  );
});
