// The trainer's metrics.jsonl stream (python/preflight_train/train.py) parsed incrementally and summarised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsParser, listRuns, parseMetrics, summarize } from '../../../src/core/bear/metrics';

const lines = [
  { type: 'start', time: 1, loss: 'bear', items: 96, train: 10, valid: 5, test: 5, epochs: 2, total_steps: 4, 'random_hr@10': 0.104 },
  { type: 'step', time: 2, epoch: 1, step: 1, loss: 3.2, lr: 1e-4, bear_weight: 1.2, outside_top_b: 0.4 },
  { type: 'eval', time: 3, split: 'valid', epoch: 1, 'hr@10': 0.5, 'ndcg@10': 0.3 },
  { type: 'checkpoint', time: 3, epoch: 1, path: '/r/checkpoint-epoch1' },
  { type: 'eval', time: 4, split: 'valid', epoch: 2, 'hr@10': 0.6, 'ndcg@10': 0.25 },
  { type: 'checkpoint', time: 4, epoch: 2, path: '/r/checkpoint-epoch2' },
  { type: 'test', time: 5, split: 'test', epoch: 1, 'hr@10': 0.55, 'ndcg@10': 0.31 },
  { type: 'status', time: 5, state: 'finished', best_epoch: 1, checkpoint: '/r/checkpoint-epoch1' },
]
  .map((l) => JSON.stringify(l) + '\n')
  .join('');

test('the incremental parser handles lines split across chunks and skips garbage', () => {
  const parser = new MetricsParser();
  const out = [];
  const text = lines + 'garbage\n';
  for (let i = 0; i < text.length; i += 7) out.push(...parser.push(text.slice(i, i + 7)));
  assert.equal(out.length, 8);
  assert.equal(parser.skipped, 1);
  assert.deepEqual(
    out.map((l) => l.type),
    parseMetrics(lines).map((l) => l.type),
  );
});

test('the summary picks the best epoch on validation NDCG@10, not on the test split', () => {
  const s = summarize(parseMetrics(lines));
  assert.equal(s.state, 'finished');
  assert.equal(s.steps.length, 1);
  assert.equal(s.best?.epoch, 1);
  assert.equal(s.best?.checkpoint, '/r/checkpoint-epoch1');
  assert.equal(s.test?.['hr@10'], 0.55);
  assert.equal(summarize(parseMetrics(lines), 'hr@10').best?.epoch, 2);
});

test('runs are listed newest first; a running status from a dead process reads as interrupted', () => {
  const root = mkdtempSync(join(tmpdir(), 'runs-'));
  for (const [id, status] of [
    ['a', { state: 'finished', started: 100 }],
    ['b', { state: 'running', started: 200, pid: 999999 }],
  ] as const) {
    mkdirSync(join(root, id));
    writeFileSync(join(root, id, 'config.json'), JSON.stringify({ name: `run-${id}`, loss: { name: 'bear' } }));
    writeFileSync(join(root, id, 'status.json'), JSON.stringify(status));
  }
  mkdirSync(join(root, 'not-a-run'));
  const runs = listRuns(root, () => false);
  assert.deepEqual(
    runs.map((r) => [r.id, r.state, r.name]),
    [
      ['b', 'interrupted', 'run-b'],
      ['a', 'finished', 'run-a'],
    ],
  );
});
