// Which files are data (src/shared/dataFiles.ts): by extension, and a .json file only when it holds
// records — an array (JSON's grammar, RFC 8259: an array starts with '[') or JSON Lines under a
// .json name. The validator's byte-level reading of the rule must agree with the text one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFileFormat, DATA_FILE_GLOB, isDataFile, jsonLayout, RECORD_FORMATS } from '../../../src/shared/dataFiles';
import { jsonLayoutOfBytes } from '../../../src/core/data/jsonDocument';
import { formatOf } from '../../../src/core/data';

test('the format comes from the extension, in any case', () => {
  assert.equal(dataFileFormat('/a/train.jsonl'), 'jsonl');
  assert.equal(dataFileFormat('/a/TRAIN.JSONL'), 'jsonl');
  assert.equal(dataFileFormat('/a/labels.csv'), 'csv');
  assert.equal(dataFileFormat('/a/data.json'), 'json');
  assert.equal(dataFileFormat('/a/stream.ndjson'), 'jsonl');
  assert.equal(dataFileFormat('/a/notes.txt'), undefined);
  assert.equal(dataFileFormat('/a/archive.jsonl.gz'), undefined);
  assert.equal(dataFileFormat('/a.jsonl/README'), undefined);
  assert.equal(formatOf('/a/stream.ndjson'), 'jsonl', 'the validator reads the same rule');
  for (const ext of ['jsonl', 'ndjson', 'json', 'csv', 'JSONL', 'CSV']) assert.ok(DATA_FILE_GLOB.includes(ext), ext);
});

const CASES: Array<[string, 'array' | 'lines' | 'document', string]> = [
  ['[{"text": "a"}]', 'array', 'an array'],
  ['\uFEFF\n  [\n', 'array', 'an array after a BOM and blank space'],
  ['{"compilerOptions": {}}', 'document', 'a one-line object'],
  ['', 'document', 'empty'],
  ['{"text": "a"}\n{"text": "b"}\n', 'lines', 'JSON Lines under a .json name'],
  ['{"text": "a"}\r\n{"text": "b"}\r\n', 'lines', 'JSON Lines with CRLF'],
  ['{"text": "a"}\nnot json\n', 'lines', 'JSON Lines with a bad second line (the validator reports it)'],
  ['{\n  "name": "x",\n  "version": "1"\n}', 'document', 'a pretty-printed config object'],
  ['{"name": "x"}\n', 'document', 'a one-line config object'],
  ['{"a":1}\n\n\n  \n', 'document', 'one object followed by blank lines (the CLI and the editor used to disagree)'],
  ['"text"\n"more"\n', 'document', 'strings are not records'],
];

test('a .json file is data when it holds an array or JSON Lines, the same for text and bytes', () => {
  for (const [text, layout, what] of CASES) {
    assert.equal(jsonLayout(text), layout, `text: ${what}`);
    assert.equal(jsonLayoutOfBytes(Buffer.from(text, 'utf8')), layout, `bytes: ${what}`);
    assert.equal(isDataFile('/w/data.json', text), layout !== 'document', `isDataFile: ${what}`);
  }
  assert.ok(!isDataFile('/w/package.json', '{"name": "x"}'));
  assert.ok(isDataFile('/w/train.jsonl', '{"text": "a"}'));
  assert.ok(isDataFile('/w/labels.csv', 'id,label'));
  assert.ok(!isDataFile('/w/notes.txt', '[1]'));
});

test('one name per record format', () => {
  assert.deepEqual([...RECORD_FORMATS], ['chat', 'sharegpt', 'prompt-completion', 'alpaca', 'text']);
});
