// Which files the editor validates (src/extension/validation/dataFiles.ts): by extension, and a
// .json file only when it holds an array (JSON's grammar, RFC 8259: an array starts with '[').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFileKind, isDataFile, looksLikeJsonDataset } from '../../../src/extension/validation/dataFiles';

test('the kind comes from the extension, in any case', () => {
  assert.equal(dataFileKind('/a/train.jsonl'), 'jsonl');
  assert.equal(dataFileKind('/a/TRAIN.JSONL'), 'jsonl');
  assert.equal(dataFileKind('/a/labels.csv'), 'csv');
  assert.equal(dataFileKind('/a/data.json'), 'json');
  assert.equal(dataFileKind('/a/stream.ndjson'), 'jsonl');
  assert.equal(dataFileKind('/a/notes.txt'), undefined);
  assert.equal(dataFileKind('/a/archive.jsonl.gz'), undefined);
});

test('a .json file is data only when it is an array', () => {
  assert.ok(looksLikeJsonDataset('[{"text": "a"}]'));
  assert.ok(looksLikeJsonDataset('\uFEFF\n  [\n'));
  assert.ok(!looksLikeJsonDataset('{"compilerOptions": {}}'));
  assert.ok(!looksLikeJsonDataset(''));
  assert.ok(looksLikeJsonDataset('{"text": "a"}\n{"text": "b"}\n'), 'JSON Lines under a .json name');
  assert.ok(!looksLikeJsonDataset('{\n  "name": "x",\n  "version": "1"\n}'), 'a pretty-printed config object');
  assert.ok(!looksLikeJsonDataset('{"name": "x"}\n'), 'a one-line config object');
  assert.ok(isDataFile('/w/data.json', '[1]'));
  assert.ok(!isDataFile('/w/package.json', '{"name": "x"}'));
  assert.ok(isDataFile('/w/train.jsonl', '{"text": "a"}'));
  assert.ok(isDataFile('/w/labels.csv', 'id,label'));
});
