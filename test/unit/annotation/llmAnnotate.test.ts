// LLM annotation with the local model, on the real engine (ONNX Runtime, CPU) and a planted model
// whose preferences over level names are known by construction (llmPlanted.ts: a context-free
// unigram model with chosen logits a_v). The expected label of any prompt is the level whose
// answer tokens have the largest Σ log softmax(a), its confidence that level's share of the
// levels' probabilities: computed here from `a` alone, never by running the model.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { InferenceModel } from '../../../src/core/model/api';
import { openModel } from '../../../src/core/model/runtime';
import { annotateWithModel, shotsFor } from '../../../src/core/annotation/llmAnnotate';
import { answerIds, promptText, type Shot } from '../../../src/core/annotation/llmPrompt';
import { calibrate } from '../../../src/core/annotation/calibration';
import { writePlantedModel } from './llmPlanted';

const root = mkdtempSync(join(tmpdir(), 'preflight-llm-annotate-'));
function logSoftmax(a: Float64Array): Float64Array {
  const max = Math.max(...a);
  const z = max + Math.log(a.reduce((s, x) => s + Math.exp(x - max), 0));
  return a.map((x) => x - z);
}

/** Expected (label, confidence) from the planted logits alone. */
function expected(model: InferenceModel, a: Float64Array, levels: string[]): { label: string; confidence: number } {
  const lp = logSoftmax(a);
  const scores = answerIds(model.tokenizer, levels).map((ids) => ids.reduce((s, id) => s + lp[id], 0));
  const best = scores.indexOf(Math.max(...scores));
  const denom = scores.reduce((s, x) => s + Math.exp(x - scores[best]), 0);
  return { label: levels[best], confidence: 1 / denom };
}

const TEXTS = [
  'Recall the dates of the war',
  'Explain why rain forms',
  'Apply the formula to a bridge',
  'Compare two essays',
  'Judge a policy',
  'Design a new study',
];

function writeLabels(path: string, rows: number): string {
  const lines = ['id,text,gold'];
  for (let i = 0; i < rows; i++) lines.push(`${i},"${TEXTS[i % TEXTS.length]} (item ${i}, ""quoted"")",${['low', 'mid', 'high'][i % 3]}`);
  writeFileSync(path, `${lines.join('\r\n')}\r\n`);
  return path;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const rowsOf = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;

describe('annotate-llm on a planted model (real engine)', () => {
  let model: InferenceModel;
  let modelDir: string;
  let a: Float64Array;
  before(async () => {
    ({ modelDir, a } = await writePlantedModel(root));
    model = await openModel(modelDir, { provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await model.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('labels every row with the level the planted logits prefer, and its exact normalised probability', async () => {
    const input = writeLabels(join(root, 'labels.csv'), 30);
    const before = sha(input);
    for (const levels of [
      ['low', 'mid', 'high'],
      ['low', 'high'],
    ]) {
      const out = join(root, `out-${levels.length}.csv`);
      const want = expected(model, a, levels);
      const result = await annotateWithModel(model, input, { textColumn: 'text', levels, out, shots: 3 });
      assert.equal(result.rows, 30);
      assert.equal(result.labeled, 30);
      assert.equal(result.cancelled, false);
      const rows = rowsOf(out);
      assert.deepEqual(Object.keys(rows[0]), ['id', 'text', 'gold', 'llm_label', 'llm_confidence']);
      for (const row of rows) {
        assert.equal(row.llm_label, want.label);
        assert.ok(Math.abs(Number(row.llm_confidence) - want.confidence) < 1e-4, `${row.llm_confidence} vs ${want.confidence}`);
      }
      // the original columns are copied as they were
      assert.deepEqual(
        rows.map((r) => [r.id, r.text, r.gold]),
        rowsOf(input).map((r) => [r.id, r.text, r.gold]),
      );
    }
    // construction check: 'mid' wins the three-level scale, 'low' the two-level one (not the same level)
    assert.equal(expected(model, a, ['low', 'mid', 'high']).label, 'mid');
    assert.equal(expected(model, a, ['low', 'high']).label, 'low');
    assert.equal(sha(input), before, 'the input is byte-identical after the runs');
  });

  it('few-shot examples are stratified and never the row itself (prompts seen by the model)', async () => {
    const input = writeLabels(join(root, 'shots.csv'), 24);
    const seen: number[][] = [];
    const spy: InferenceModel = Object.create(model);
    spy.scoreContinuations = (pairs, options) => {
      for (const p of pairs) seen.push(p.prompt);
      return model.scoreContinuations(pairs, options);
    };
    const result = await annotateWithModel(spy, input, {
      textColumn: 'text',
      levels: ['low', 'mid', 'high'],
      out: join(root, 'shots.out.csv'),
      shots: 6,
      batchRows: 5,
    });
    assert.equal(result.shots.length, 6);
    assert.deepEqual([...result.shots.map((s) => s.label)].sort(), ['high', 'high', 'low', 'low', 'mid', 'mid']);
    const prompts = [...new Set(seen.map((p) => p.join(',')))].map((key) => model.tokenizer.decode(key.split(',').map(Number)));
    assert.equal(prompts.length, 24, 'one prompt per row');
    for (const prompt of prompts) {
      const [examples, row] = prompt.split('Answer with the name of the level only.');
      const own = /Text: (.*\(item \d+,)/.exec(row)![1];
      assert.ok(!examples.includes(own), `the row's own text is among its examples: ${own}`);
      assert.equal((examples.match(/\nText: /g) ?? []).length, 6, 'six examples');
    }
  });

  it('shotsFor skips the row and any example with the same text', () => {
    const pool = (level: string, rows: number[]): Shot[] => rows.map((row) => ({ row, text: `t${row}`, label: level }));
    const order = [pool('a', [1, 2, 3]), pool('b', [4, 5, 6])];
    const hashes = new Map<Shot, number>(order.flat().map((s) => [s, s.row === 5 ? 99 : s.row]));
    assert.deepEqual(
      shotsFor(order, 4, 1, -1, hashes).map((s) => s.row),
      [2, 4, 3, 5],
    );
    assert.deepEqual(
      shotsFor(order, 4, 7, 99, hashes).map((s) => s.row),
      [1, 4, 2, 6],
    );
    assert.deepEqual(shotsFor(order, 10, 7, -1, hashes).length, 6);
    assert.match(
      promptText({ instruction: 'I', levels: ['x', 'y'], definitions: { y: 'the upper one' } }, [], 'hello'),
      /1\. x\n2\. y: the upper one[\s\S]*Text: hello$/,
    );
  });

  it('cancels within a second, writes the labelled part, and a second run resumes (kept rows are not relabelled)', async () => {
    const input = writeLabels(join(root, 'big.csv'), 600);
    const before = sha(input);
    const out = join(root, 'big.out.csv');
    const abort = new AbortController();
    let abortedAt = 0;
    const first = await annotateWithModel(model, input, {
      textColumn: 'text',
      levels: ['low', 'mid', 'high'],
      out,
      shots: 2,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.labeled >= 40 && !abortedAt) {
          abortedAt = Date.now();
          abort.abort();
        }
      },
    });
    const stopMs = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'progress was reported');
    assert.ok(stopMs < 1000, `returned ${stopMs} ms after the abort`);
    assert.equal(first.cancelled, true);
    assert.equal(first.rows, 600, 'every row is in the copy');
    assert.ok(first.labeled >= 40 && first.labeled < 600, `${first.labeled} labelled`);
    const partial = rowsOf(out);
    assert.equal(partial.filter((r) => r.llm_label).length, first.labeled);
    // mark the labelled rows so that keeping them (not relabelling) is visible, change one row's text
    const marked = readFileSync(out, 'utf8').replace(/,mid,0\.\d+/g, ',high,0.123456');
    writeFileSync(out, marked.replace('(item 0,', '(item zero,'));
    const second = await annotateWithModel(model, input, { textColumn: 'text', levels: ['low', 'mid', 'high'], out, shots: 2 });
    assert.equal(second.kept, first.labeled - 1, 'rows labelled before are kept, except the one whose text changed');
    assert.equal(second.labeled, 600 - first.labeled + 1);
    const rows = rowsOf(out);
    assert.equal(rows.filter((r) => r.llm_label === 'high' && r.llm_confidence === '0.123456').length, first.labeled - 1);
    assert.equal(rows[0].llm_label, 'mid');
    assert.equal(rows.filter((r) => !r.llm_label).length, 0);
    assert.equal(sha(input), before);
  });

  it('refuses --out equal to the input, also through a symlink', async () => {
    const input = writeLabels(join(root, 'same.csv'), 3);
    const link = join(root, 'link.csv');
    symlinkSync(input, link);
    for (const out of [input, link, join(root, '.', 'same.csv')]) {
      await assert.rejects(annotateWithModel(model, input, { textColumn: 'text', levels: ['low', 'high'], out }), /is the input file/);
    }
    await assert.rejects(annotateWithModel(model, input, { textColumn: 'nope', levels: ['low', 'high'], out: join(root, 'x.csv') }), /no column 'nope'/);
  });

  it('the CLI: labelled copy, --analyze with the calibration section, JSON', () => {
    const input = writeLabels(join(root, 'cli.csv'), 12);
    const before = sha(input);
    const out = join(root, 'cli.out.csv');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'annotate-llm',
        input,
        '--text-column',
        'text',
        '--model',
        modelDir,
        '--out',
        out,
        '--shots',
        '2',
        '--analyze',
        '--json',
        '--bootstrap',
        '50',
        '--provider',
        'cpu',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.kind, 'preflight.annotate-llm');
    assert.deepEqual(json.result.levels, ['low', 'mid', 'high']);
    assert.equal(json.result.goldColumn, 'gold');
    assert.equal(json.analysis.labels.columns.llm, 'llm_label');
    assert.equal(json.analysis.llm.n, 12);
    assert.ok(Math.abs(json.analysis.llm.metrics.accuracy.value - 1 / 3) < 1e-9);
    assert.equal(json.calibration.n, 12);
    // every label is 'mid' with the same confidence c: one bucket, accuracy 1/3, ECE = |1/3 - c|
    const c = expected(model, a, ['low', 'mid', 'high']).confidence;
    assert.ok(Math.abs(json.calibration.ece - Math.abs(1 / 3 - c)) < 1e-4);
    assert.equal(sha(input), before);
    const same = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'annotate-llm', input, '--text-column', 'text', '--model', modelDir, '--out', input],
      { encoding: 'utf8' },
    );
    assert.equal(same.status, 2);
    assert.match(same.stderr, /is the input file/);
  });
});

describe('calibration', () => {
  it('buckets and ECE on a hand-computed example', () => {
    // bucket 0.5-0.6: 0.5, 0.55 (1 right) -> acc 0.5, conf 0.525; bucket 0.9-1.0: 0.9, 1.0, 0.95 (all right) -> acc 1, conf 0.95
    const report = calibrate([0.5, 0.55, 0.9, 1.0, 0.95, Number.NaN], [1, 0, 1, 1, 1, 0]);
    assert.equal(report.n, 5);
    assert.equal(report.buckets[5].n, 2);
    assert.equal(report.buckets[9].n, 3);
    assert.ok(Math.abs(report.ece! - ((2 / 5) * 0.025 + (3 / 5) * 0.05)) < 1e-12);
    assert.ok(Math.abs(report.maxGap! - 0.05) < 1e-12);
    assert.ok(Math.abs(report.accuracy! - 0.8) < 1e-12);
    assert.ok(Math.abs(report.overconfidence! - (0.78 - 0.8)) < 1e-12);
    assert.equal(calibrate([], []).ece, null);
  });
});

// The check: on a clean clone, annotate-llm labels a CSV of ours with the default model
// onto its scale in a copy, leaves the input unchanged, and the analysis reads the result.
const BUNDLED = 'models/preflight-tiny/config.json';
describe('the default model on examples/annotations.csv', { skip: existsSync(BUNDLED) ? false : 'the bundled preflight-tiny is not in this checkout' }, () => {
  it('labels the copy on the Bloom scale, the input unchanged, and --analyze reads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-llm-default-'));
    const input = 'examples/annotations.csv';
    const before = sha(input);
    const out = join(dir, 'annotations.llm.csv');
    const bloom = 'remember,understand,apply,analyze,evaluate,create';
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'annotate-llm',
        input,
        '--text-column',
        'learning_outcome',
        '--levels',
        bloom,
        '--out',
        out,
        '--analyze',
        '--human',
        'examples/annotations-human.csv',
        '--json',
        '--bootstrap',
        '100',
        '--provider',
        'cpu',
      ],
      { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') } },
    );
    try {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /preflight-tiny, the bundled demo model/);
      const json = JSON.parse(r.stdout);
      assert.equal(json.model.isDefault, true);
      assert.equal(sha(input), before, 'the input is byte-identical');
      const rows = rowsOfLoose(out);
      const levels = bloom.split(',');
      assert.equal(json.result.labeled, rows.length);
      for (const row of rows) assert.ok(levels.includes(row.llm_label), row.llm_label);
      assert.equal(json.analysis.labels.columns.llm, 'llm_label');
      assert.ok(json.analysis.llm.n >= 14, `${json.analysis.llm.n} rows analysed`);
      assert.equal(json.calibration.n, json.analysis.llm.n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function rowsOfLoose(path: string): Array<Record<string, string>> {
  return parse(readFileSync(path, 'utf8'), { columns: true, relax_column_count: true }) as Array<Record<string, string>>;
}
