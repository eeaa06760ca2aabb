// `preflight annotate` end to end through the CLI entry point: table, JSON, sample, exit 2 on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'preflight-annotate-cli-'));
const SAMPLE = '../shared/datasets/lak26-annotation/error_decomposition_sample_data';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'annotate', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("the table and the JSON on the authors' sample data", { skip: existsSync(SAMPLE) ? false : 'no sample data' }, () => {
  const table = run(`${SAMPLE}/model_annotation.csv`, '--human', `${SAMPLE}/human_annotation.csv`, '--bootstrap', '100');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /boundary error, task-inherent\s+9\.35%/);
  assert.match(table.stdout, /conceptual error, model-specific\s+31\.67%/);
  const out = join(dir, 'report.json');
  const json = run(`${SAMPLE}/model_annotation.csv`, '--human', `${SAMPLE}/human_annotation.csv`, '--json', '--bootstrap', '100', '--seed', '9', '--out', out);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.version, 1);
  assert.equal(report.bootstrap.seed, 9);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), report);
});

test('exit 2 with a one-line reason on unusable input', () => {
  const noGold = join(dir, 'nogold.csv');
  writeFileSync(noGold, 'a,b\n1,2\n');
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const cases: Array<[string[], RegExp]> = [
    [[], /missing <labels.csv>/],
    [[join(dir, 'absent.csv')], /not found/],
    [[noGold], /cannot tell which column/],
    [[empty], /empty/],
    [[noGold, '--bootstrap', 'many'], /--bootstrap must be/],
    [[noGold, '--frobnicate'], /unknown option/],
    [[noGold, '--levels', 'a'], /at least two levels|cannot tell/],
  ];
  for (const [args, reason] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, reason);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('annotate sample writes the coder sheet', () => {
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, `id,gold,llm\n${Array.from({ length: 30 }, (_, i) => `${i},${['a', 'b', 'c'][i % 3]},a`).join('\n')}\n`);
  const sheet = join(dir, 'sheet.csv');
  const r = run('sample', labels, '--n', '6', '--out', sheet, '--levels', 'a,b,c');
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(sheet, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'Annotator,ID,Text,Label');
  assert.equal(lines.length, 1 + 12);
  assert.equal(run('sample', labels, '--out', sheet).code, 2);
});
