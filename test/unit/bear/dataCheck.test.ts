// Data checks before a BEAR run: files exist, histories non-empty, titles unique (exact-title HR/NDCG needs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDataset } from '../../../src/core/bear/dataCheck';

function fsOf(files: Record<string, string>) {
  return { read: (p: string) => files[p], exists: (p: string) => p in files };
}

test('a clean JSONL data set has no issues', () => {
  const { read, exists } = fsOf({
    'train.jsonl': '{"history": ["A", "B"], "target": "C"}\n{"history": ["C"], "target": "A"}\n',
    'valid.jsonl': '{"history": ["A"], "target": "B"}\n',
  });
  const r = checkDataset({ train: 'train.jsonl', valid: 'valid.jsonl' }, read, exists);
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.counts, { train: 2, valid: 1 });
  assert.equal(r.items, 3);
});

test('empty histories, bad JSON, empty targets and missing files are errors at their line', () => {
  const { read, exists } = fsOf({
    'train.jsonl': '{"history": [], "target": "C"}\nnot json\n{"history": ["A"], "target": ""}\n{"history": ["A"], "target": "B"}\n',
  });
  const r = checkDataset({ train: 'train.jsonl', valid: 'missing.jsonl' }, read, exists);
  const codes = r.issues.map((i) => `${i.code}@${i.line}`);
  assert.deepEqual(codes, ['bear-empty-history@1', 'bear-json@2', 'bear-empty-target@3', 'bear-missing-file@0']);
});

test('the user_id,item_ids CSV with id2name: duplicate titles and unknown ids are reported', () => {
  const { read, exists } = fsOf({
    'items.json': JSON.stringify({ '1': 'A', '2': 'B', '3': 'A' }),
    'train.csv': 'user_id,item_ids\n0,"[1, 2]"\n1,"[2, 9]"\n2,"[1]"\n',
  });
  const r = checkDataset({ train: 'train.csv', items: 'items.json' }, read, exists);
  const codes = r.issues.map((i) => i.code);
  assert.ok(codes.includes('bear-duplicate-title'));
  assert.ok(codes.includes('bear-unknown-id'));
  assert.ok(codes.includes('bear-empty-history'));
  assert.equal(r.counts.train, 1);
});
