// The launch form's guess of the splits from the active file (src/core/bear/prefill.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefillForm } from '../../../src/core/bear/prefill';

const files = new Set(['/d/train.jsonl', '/d/valid.jsonl', '/d/test.jsonl', '/d/items.json', '/e/ml_train.csv', '/e/ml_val.csv']);
const exists = (p: string) => files.has(p);

test('a train file brings its valid, test and items siblings', () => {
  assert.deepEqual(prefillForm('/d/train.jsonl', exists), { train: '/d/train.jsonl', valid: '/d/valid.jsonl', test: '/d/test.jsonl', items: '/d/items.json' });
  assert.deepEqual(prefillForm('/e/ml_train.csv', exists), { train: '/e/ml_train.csv', valid: '/e/ml_val.csv', test: '', items: '' });
});

test('the items file fills the splits; other files give nothing', () => {
  assert.equal(prefillForm('/d/items.json', exists).train, '/d/train.jsonl');
  assert.deepEqual(prefillForm('/d/notes.txt', exists), {});
  assert.deepEqual(prefillForm(undefined, exists), {});
  assert.equal(prefillForm('/d/valid.jsonl', exists).train, '/d/valid.jsonl');
});
