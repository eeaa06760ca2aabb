// The CLI's JSON on the LAK'26 authors' other task files (Bloom, Uptake, GUG, MathDial: the
// *_full.csv model files with their Technique × model groups, and the *-All_20 human tests)
// against an independent numpy computation (reference_lak26.py beside this file), and the
// per-level precision/recall against the authors' published *_summary.csv files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { AnnotationReport } from '../../../src/core/annotation/types';

const DATA = '../shared/datasets/lak26-annotation';
const haveData = existsSync(`${DATA}/model_annotation/bloom_full.csv`);
const python = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const havePython = python.status === 0;

const TASKS = [
  {
    name: 'bloom',
    full: 'bloom_full.csv',
    summary: 'bloom_summary.csv',
    human: 'Bloom-All_20.csv',
    gold: 'human_category',
    pred: 'model_category',
    levels: 'remember,understand,apply,analyze,evaluate,create',
  },
  {
    name: 'uptake',
    full: 'uptake_full.csv',
    summary: 'uptake_summary.csv',
    human: 'Uptake-All_20.csv',
    gold: 'ground_truth',
    pred: 'prediction',
    levels: 'low,mid,high',
  },
  { name: 'gug', full: 'gug_full.csv', summary: 'gug_summary.csv', human: 'GUG-All_20.csv', gold: 'ground_truth', pred: 'prediction', levels: '1,2,3,4' },
  {
    name: 'mathdial',
    full: 'mathdial_full.csv',
    summary: 'mathdial_summary.csv',
    human: 'MathDial-All_20.csv',
    gold: 'ground_truth_move',
    pred: 'predicted_move',
    levels: 'focus,probing,telling,generic',
  },
];

function cli(args: string[]): AnnotationReport {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'annotate', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as AnnotationReport;
}

const close = (a: number | null | undefined, b: number | null | undefined, what: string) => {
  if (b === null || b === undefined) {
    assert.equal(a ?? null, null, what);
    return;
  }
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
};

const skip = !haveData ? `${DATA} not present` : !havePython ? 'python3 with numpy not available: skipping the independent cross-check' : false;

for (const task of TASKS) {
  test(`${task.name}: CLI JSON matches the independent numpy computation`, { skip }, () => {
    const full = `${DATA}/model_annotation/${task.full}`;
    const human = `${DATA}/human_annotation/${task.human}`;
    // the scale is detected (no --levels): the detection must find the authors' order
    const report = cli([full, '--human', human, '--json', '--bootstrap', '0']);
    assert.deepEqual(report.scale.levels, task.levels.split(','));
    const ref = JSON.parse(
      execFileSync('/usr/bin/python3', ['test/unit/annotation/reference_lak26.py', full, human, task.gold, task.pred, task.levels], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      }),
    );
    const metrics = ['accuracy', 'boundaryRate', 'conceptualRate', 'severityWeightedError', 'boundaryBias', 'signedShift', 'kappa', 'quadraticKappa'] as const;
    assert.equal(report.llm.n, ref.overall.n);
    for (const m of metrics) close(report.llm.metrics[m].value, ref.overall[m], `overall ${m}`);
    for (const m of metrics) close(report.human!.pooled.metrics[m].value, ref.human[m], `human ${m}`);
    assert.equal(report.human!.pooled.n, ref.human.n);
    assert.deepEqual([...report.human!.coders].sort(), ref.coders.map((c: string) => c.toUpperCase()).sort());
    for (const [name, key] of [
      ['nominal', 'alphaNominal'],
      ['ordinal', 'alphaOrdinal'],
      ['interval', 'alphaInterval'],
    ] as const) {
      close(report.human!.agreement[key].value, ref.alpha[name], `alpha ${name}`);
    }
    for (const share of ['correct', 'boundaryTask', 'conceptualTask', 'boundaryModel', 'conceptualModel'] as const) {
      close(report.decomposition!.shares[share].value, ref.decomposition[share], `share ${share}`);
    }
    const combos = report.groups.filter((g) => g.column === 'Technique × model');
    assert.equal(combos.length, Object.keys(ref.groups).length, 'one group per (Technique, model)');
    for (const group of combos) {
      const r = ref.groups[group.value];
      assert.ok(r, `group ${group.value} in the reference`);
      assert.equal(group.rater.n, r.metrics.n);
      for (const m of metrics) close(group.rater.metrics[m].value, r.metrics[m], `${group.value} ${m}`);
      for (const share of ['correct', 'boundaryTask', 'conceptualTask', 'boundaryModel', 'conceptualModel'] as const) {
        close(group.decomposition!.shares[share].value, r.decomposition[share], `${group.value} ${share}`);
      }
    }
  });

  test(`${task.name}: per-level precision and recall match the authors' published summary file`, { skip: haveData ? false : `${DATA} not present` }, () => {
    const report = cli([`${DATA}/model_annotation/${task.full}`, '--json', '--bootstrap', '0']);
    const rows = parse(readFileSync(`${DATA}/model_annotation/${task.summary}`, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    let checked = 0;
    for (const row of rows) {
      const level = row.category.trim().toLowerCase();
      if (level === 'overall') continue;
      const group = report.groups.find((g) => g.column === 'Technique × model' && g.value === `${row.Technique} × ${row.model}`);
      assert.ok(group, `group ${row.Technique} × ${row.model}`);
      const profile = group.rater.levels.find((l) => l.level === level)!;
      for (const key of ['precision', 'recall'] as const) {
        const published = Number(row[key]);
        if (row[key] === 'NA' || !Number.isFinite(published)) continue;
        const ours = profile[key];
        // the summary files leave a level the model never predicted at precision 0
        assert.ok(Math.abs((ours ?? 0) - published) < 1e-9, `${row.Technique} × ${row.model} ${level} ${key}: ${ours} vs ${published}`);
        checked++;
      }
    }
    assert.ok(checked > 40, `checked ${checked} published values`);
  });
}
