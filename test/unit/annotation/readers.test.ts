// Input formats: the long labels file, the human test in long and wide form, the coder sheet
// round trip, normalisation, and labels off the scale reported with their line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeAnnotations, AnnotationInputError, sampleHumanTest } from '../../../src/core/annotation';

const dir = mkdtempSync(join(tmpdir(), 'preflight-annotation-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('long labels file: normalised labels, missing values and off-scale labels reported with their line', async () => {
  const labels = file(
    'labels.csv',
    ['id,text,gold,llm', '1,"a text",low,low', '2,"a text that runs', 'over two lines",Mid ,HIGH', '3,"c",high,very high', '4,"d",,mid', '5,"e",mid,mid'].join(
      '\n',
    ),
  );
  const { report, rows } = await analyzeAnnotations({ path: labels }, [], { levels: ['low', 'mid', 'high'], resamples: 0 });
  assert.equal(report.labels.rows, 5);
  assert.equal(report.labels.used, 3);
  assert.equal(report.labels.missing, 1);
  assert.equal(report.labels.offScale, 1);
  assert.deepEqual(Array.from(rows.line), [2, 3, 5, 6, 7]);
  const finding = report.findings.find((f) => f.code === 'label-off-scale')!;
  assert.equal(finding.line, 5);
  assert.match(finding.message, /'very high'/);
  assert.match(report.warnings.join(' '), /off the scale/);
  // 'Mid ' vs 'HIGH' is one boundary error upwards
  assert.equal(report.llm.counts.boundary, 1);
  assert.equal(report.llm.metrics.boundaryBias.value, 1);
  assert.ok(report.notComputed.some((line) => /human test/.test(line)));
});

test('long human test with gold rows, missing coder values and a duplicate', async () => {
  const labels = file('l2.csv', 'id,gold,llm\n1,1,1\n2,2,3\n3,3,1\n4,4,4\n');
  const human = file(
    'h2.csv',
    [
      'Annotator,ID,Text,Label',
      'groundtruth,1,x,1',
      'groundtruth,2,x,2',
      'groundtruth,3,x,3',
      'A1,1,x,1',
      'A1,2,x,3',
      'A1,3,x,3',
      'A2,1,x,2',
      'A2,2,x,2',
      'A2,3,x,',
      'A2,3,x,1',
    ].join('\n'),
  );
  const { report } = await analyzeAnnotations({ path: labels }, [{ path: human }], { resamples: 0 });
  assert.deepEqual(report.scale.levels, ['1', '2', '3', '4']);
  assert.equal(report.human!.format, 'long');
  assert.equal(report.human!.pooled.n, 5); // A2 has no label for item 3; the duplicate is ignored
  assert.equal(report.human!.pooled.counts.boundary, 2);
  assert.ok(report.findings.some((f) => f.code === 'duplicate-rating' && f.line === 11));
});

test('wide human test: the level columns give the order; a multi-marked row is reported and its first mark used', async () => {
  const labels = file('l3.csv', 'id,human_category,model_category\n1,Novice,Expert\n2,Expert,Expert\n3,Competent,Novice\n');
  const human = file(
    'h3.csv',
    [
      'Annotator,ID,Text,Novice,Competent,Expert',
      'gold,1,t,1,,',
      'gold,2,t,,,1',
      'gold,3,t,,1,',
      'A1,1,t,1,,',
      'A1,2,t,,1,1',
      'A1,3,t,,1,',
      'A2,1,t,,1,',
      'A2,2,t,,,1',
      'A2,3,t,,1,',
    ].join('\n'),
  );
  const { report } = await analyzeAnnotations({ path: labels }, [{ path: human }], { resamples: 0 });
  assert.deepEqual(report.scale.levels, ['novice', 'competent', 'expert']);
  assert.equal(report.scale.source, 'columns');
  assert.equal(report.human!.format, 'wide');
  const multi = report.findings.find((f) => f.code === 'label-multi-marked')!;
  assert.equal(multi.line, 6);
  assert.equal(report.human!.pooled.counts.boundary, 2);
  assert.equal(report.llm.counts.conceptual, 1);
});

test('explicit column overrides win, and a missing column is a clear error', async () => {
  const labels = file('l4.csv', 'item,truth_a,guess_b,extra\n1,low,high,x\n2,mid,mid,y\n');
  const { report } = await analyzeAnnotations({ path: labels }, [], { columns: { gold: 'truth_a', llm: 'guess_b', id: 'item' }, resamples: 0 });
  assert.equal(report.labels.columns.gold, 'truth_a');
  assert.equal(report.llm.counts.conceptual, 1);
  await assert.rejects(
    analyzeAnnotations({ path: labels }, [], { columns: { gold: 'nope' } }),
    (e: unknown) => e instanceof AnnotationInputError && /no column 'nope'/.test((e as Error).message),
  );
  const unknown = file('l5.csv', 'a,b\nx,y\n');
  await assert.rejects(analyzeAnnotations({ path: unknown }, []), /cannot tell which column/);
});

test('a scale that cannot be recognised is guessed and flagged', async () => {
  const labels = file('l6.csv', 'gold,llm\nzeta,alpha\nbeta,beta\n');
  const { report } = await analyzeAnnotations({ path: labels }, [], { resamples: 0 });
  assert.equal(report.scale.source, 'guessed');
  assert.match(report.warnings.join(' '), /--levels/);
});

test('coder sheet round trip: stratified sample, blind sheet, gold joined back by ID', async () => {
  const lines = ['id,text,gold,llm'];
  const levels = ['low', 'mid', 'high'];
  for (let i = 0; i < 60; i++) lines.push(`${100 + i},"item, number ${i}",${levels[i % 3]},${levels[(i + (i % 4 === 0 ? 1 : 0)) % 3]}`);
  const labels = file('l7.csv', `${lines.join('\n')}\n`);
  const sample = await sampleHumanTest({ path: labels }, { n: 12, seed: 3 });
  assert.deepEqual(sample.allocation, { low: 4, mid: 4, high: 4 });
  assert.equal(sample.items.length, 12);
  assert.equal(new Set(sample.items.map((i) => i.id)).size, 12);
  assert.doesNotMatch(sample.sheet, /groundtruth/);
  assert.deepEqual(sample, await sampleHumanTest({ path: labels }, { n: 12, seed: 3 }), 'same seed, same sample');
  // the coders fill in the sheet: A1 copies gold, A2 is one step off on the first item
  const gold = new Map(sample.items.map((item) => [item.id, item.gold]));
  const filled = sample.sheet
    .trim()
    .split('\n')
    .map((line, i) => {
      if (i === 0) return line;
      const [coder, id] = line.split(',');
      const g = gold.get(id)!;
      const label = coder === 'A2' && id === sample.items[0].id ? (g === 'mid' ? 'high' : 'mid') : g;
      return `${line}${label}`;
    })
    .join('\n');
  const sheet = file('sheet.csv', filled);
  assert.equal(readFileSync(sheet, 'utf8').split('\n')[0], 'Annotator,ID,Text,Label');
  const { report } = await analyzeAnnotations({ path: labels }, [{ path: sheet }], { resamples: 100 });
  assert.equal(report.human!.goldSource, 'labels-file');
  assert.equal(report.human!.items, 12);
  assert.equal(report.human!.pooled.n, 24);
  assert.equal(report.human!.pooled.counts.boundary, 1);
  assert.ok(report.decomposition);
});
