// The decomposition of Xu et al. (LAK '26) on the authors' own sample data
// (../shared/datasets/lak26-annotation/error_decomposition_sample_data/, Bloom taxonomy, GPT-3.5,
// zero-shot). The paper's repository README and calculate_error_decomposition.py report
// 50.00% / 9.35% / 2.33% / 6.65% / 31.67%.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { analyzeAnnotations } from '../../../src/core/annotation/analyze';
import { decompose, taskPart } from '../../../src/core/annotation/decompose';

const DIR = '../shared/datasets/lak26-annotation/error_decomposition_sample_data';
const haveData = existsSync(`${DIR}/model_annotation.csv`);

test("the authors' sample data reproduces 50.00 / 9.35 / 2.33 / 6.65 / 31.67 %", { skip: haveData ? false : `${DIR} not present` }, async () => {
  const { report } = await analyzeAnnotations({ path: `${DIR}/model_annotation.csv` }, [{ path: `${DIR}/human_annotation.csv` }], { resamples: 200, seed: 7 });
  const d = report.decomposition!;
  const pct = (x: number | null) => (100 * (x ?? NaN)).toFixed(2);
  assert.deepEqual(
    [d.shares.correct.value, d.shares.boundaryTask.value, d.shares.conceptualTask.value, d.shares.boundaryModel.value, d.shares.conceptualModel.value].map(pct),
    ['50.00', '9.35', '2.33', '6.65', '31.67'],
  );
  // the inputs behind them: 150 LLM labels, 20 items × 2 coders pooled
  assert.equal(report.llm.n, 150);
  assert.equal(report.human!.pooled.n, 40);
  assert.equal(d.inputs.hBoundary, 0.225);
  assert.equal(d.inputs.hConceptual, 0.025);
  assert.equal(report.scale.name, 'bloom');
  assert.equal(report.human!.format, 'wide');
  // every share has an interval around its point value
  for (const share of Object.values(d.shares)) {
    assert.ok(share.lo !== null && share.hi !== null && share.lo <= share.value! + 1e-12 && share.value! <= share.hi + 1e-12);
  }
  // with 20 items the boundary split is not separable: the report says so
  assert.equal(d.separable.boundary, false);
  assert.match(d.warnings.join(' '), /too small to separate/);
});

test('the formula by hand: t_task = H/(M+H)·M', () => {
  const [acc, bt, ct, bm, cm] = decompose(0.5, 0.16, 0.34, 0.225, 0.025);
  assert.equal(acc, 0.5);
  assert.ok(Math.abs(bt - (0.225 / 0.385) * 0.16) < 1e-15);
  assert.ok(Math.abs(ct - (0.025 / 0.365) * 0.34) < 1e-15);
  assert.ok(Math.abs(bm - (0.16 - bt)) < 1e-15);
  assert.ok(Math.abs(cm - (0.34 - ct)) < 1e-15);
});

test('M_t + H_t = 0 gives zero task and model parts, not NaN', () => {
  assert.equal(taskPart(0, 0), 0);
  assert.deepEqual(decompose(1, 0, 0, 0, 0), [1, 0, 0, 0, 0]);
  // no human errors of a type: all the LLM's errors of that type are model-specific
  assert.deepEqual(decompose(0.8, 0.2, 0, 0, 0), [0.8, 0, 0, 0.2, 0]);
});
