// Every finding code and every malformed-input class, at exact 1-based lines and UTF-16 columns.
// Where the expected positions come from: counted by hand on the fixture text (the counts are
// written next to each expectation), e.g. `{"messages": [}` has its '}' at column 15.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateFile, validateText, Finding } from '../../../src/core/data';

const dir = 'test/fixtures/data';
const at = (f: Finding) => `${f.line}:${f.column} ${f.code}`;

async function findings(name: string, options = {}): Promise<string[]> {
  const result = await validateFile(join(dir, name), options);
  return result.findings.map(at);
}

test('malformed JSON: the column of each parse error', async () => {
  assert.deepEqual(await findings('malformed.jsonl'), [
    '2:15 json-malformed', // {"messages": [}  -> '}' is the 15th character
    '3:35 json-malformed', // trailing comma: the '}' after ',' is character 35
    '4:10 json-malformed', // unterminated string: its opening quote is character 10
    '5:2 json-malformed', // single quotes: the ' after '{'
    '6:16 json-malformed', // {"text": "ok"} is 14 characters, then a space; 'extra' starts at 16
    '7:14 json-malformed', // raw tab inside the string, after {"text": "tab (13 characters)
    '8:8 json-malformed', // {"n": 0 is 7 characters; the '1' of 01 is character 8
    '9:2 json-malformed', // '[' then end of line
  ]);
});

test('BOM, CRLF and blank lines keep exact positions', async () => {
  // line 1 starts with a BOM (not a column), lines end in CRLF, lines 2-3 are blank (one holds spaces)
  assert.deepEqual(await findings('bom-crlf.jsonl'), [
    '2:1 blank-line', // one finding for the run of lines 2-3
    '5:14 field-type', // {"messages": 5}: the 5 is character 14
  ]);
  const result = await validateFile(join(dir, 'bom-crlf.jsonl'));
  assert.equal(result.findings[0].endLine, 3);
  assert.equal(result.summary.records, 3);
});

test('invalid UTF-8: reported at its column, inside and outside strings', async () => {
  assert.deepEqual(await findings('invalid-utf8.jsonl'), [
    '2:2 schema-mixed', // 2 chat records vs 1 text record: the text record is the odd one out
    '2:14 utf8-invalid', // {"text": "caf is 13 characters; the byte 0xE9 is the 14th
    '3:15 json-malformed', // {"text": "ok"} is 14 characters; the stray byte 0xFF is the 15th
    '4:28 json-malformed', // {"text": "café ok", "x": 1, is 27 UTF-16 units (é is one), '}' is 28
  ]);
});

test('chat messages: roles, turns, empty and missing content (OpenAI format checks)', async () => {
  assert.deepEqual(await findings('chat-defects.jsonl'), [
    '2:2 no-assistant-turn', // the "messages" key starts at character 2
    '2:53 role-unknown', // "bot" starts at character 53
    '3:75 field-empty', // "" (assistant content) at character 75
    '4:45 field-missing', // the second message object opens at character 45
    '5:53 turn-order', // the second "user" role value at character 53
    '6:81 last-turn-not-assistant', // the last message object opens at character 81
    '7:44 key-unknown', // "lang" at character 44
    '8:13 field-empty', // [] at character 13
    '9:45 field-type', // "oops" at character 45
    '10:14 field-missing', // {"content":"Hi"} has no role; it opens at character 14
    '11:39 field-type', // content 42 at character 39
    '12:53 turn-order', // "system" after the user turn, at character 53
    '13:22 turn-order', // "tool" with no tool call before it, at character 22
  ]);
});

test('ShareGPT conversations', async () => {
  assert.deepEqual(await findings('sharegpt.jsonl'), ['2:2 no-assistant-turn', '2:57 role-unknown', '3:71 field-empty', '4:57 turn-order']);
});

test('prompt/completion, Alpaca, text, recommendation, unknown and mixed schemas', async () => {
  assert.deepEqual(await findings('schemas.jsonl'), [
    '2:1 field-missing', // no "completion": the record's '{'
    '3:2 schema-mixed',
    '3:45 field-empty', // "output":"" -> the "" is character 45
    '4:2 schema-mixed',
    '5:2 schema-mixed',
    '6:2 schema-mixed',
    '6:27 field-empty', // {"history":["Heat (1995)", is 26 characters; "" is 27
    '7:2 schema-mixed', // unknown keys id, label
    '11:1 record-not-object',
  ]);
  const result = await validateFile(join(dir, 'schemas.jsonl'));
  assert.equal(result.summary.schema, 'prompt-completion');
});

test('duplicates: exact (with a delete-line fix on the later copy) and near', async () => {
  const result = await validateFile(join(dir, 'duplicates.jsonl'));
  assert.deepEqual(result.findings.map(at), ['3:1 duplicate-exact', '4:1 duplicate-near', '5:1 duplicate-near', '6:1 duplicate-near']);
  assert.deepEqual(result.findings[0].fix, { kind: 'deleteLine', line: 3, title: 'Delete this duplicate of line 1' });
  assert.match(result.findings[0].message, /line 1/);
  assert.match(result.findings[3].message, /line 2/); // same prompt and completion, plus an "id"
  assert.equal(result.findings[1].fix, undefined);
});

test('CSV: quoted newlines, ragged rows, labels off the scale (auto-detected column), blank lines', async () => {
  const levels = ['remember', 'understand', 'apply', 'analyze', 'evaluate', 'create'];
  assert.deepEqual(await findings('labels.csv', { labelLevels: levels }), [
    '5:14 label-off-scale', // record 3 spans lines 4-5 (quoted newline); 'and justify",' is 13 characters
    '6:25 csv-ragged-row', // 4,Design a study,create, is 24 characters: the extra field starts at 25
    '7:18 csv-ragged-row', // 5,Evaluate claims has 17 characters: the missing field would follow
    '8:1 blank-line',
    '9:18 label-off-scale', // 6,"Rank options", is 17 characters
    '11:14 label-missing', // 8,List facts, is 13 characters
  ]);
  const result = await validateFile(join(dir, 'labels.csv'), { labelLevels: levels });
  assert.match(result.findings[0].message, /did you mean "analyze"/);
  assert.equal(result.summary.records, 8);
  assert.equal(result.summary.schema, 'csv');
});

test('CSV: named label columns that do not exist, and duplicate header names', async () => {
  assert.deepEqual(await findings('labels.csv', { labelLevels: ['a'], labelColumns: ['grade'] }).then((f) => f.filter((x) => x.includes('label'))), [
    '1:1 label-column-missing',
  ]);
  assert.deepEqual(await findings('header.csv'), ['1:7 csv-header-duplicate']); // ,name, is 6 characters
});

test('CSV: unclosed quote and ragged rows around a quoted newline', async () => {
  assert.deepEqual(await findings('ragged.csv'), ['3:4 csv-ragged-row', '4:7 csv-ragged-row', '7:1 csv-malformed']);
});

test('CSV: exact duplicate rows', async () => {
  const text = 'text,label\nsame,a\nother,b\nsame,a\n';
  const result = await validateText(text, 'dups.csv');
  assert.deepEqual(result.findings.map(at), ['4:1 duplicate-exact']);
  assert.equal(result.findings[0].fix?.line, 4);
});

test('.json documents: an array of records with positions; errors; a .json that is really JSON Lines', async () => {
  assert.deepEqual(await findings('array.json'), ['3:33 field-empty', '4:3 record-not-object']);
  assert.deepEqual(await findings('array-bad.json'), ['3:18 json-malformed']); // missing ',' after "c"
  const jsonl = await validateFile(join(dir, 'jsonl-as.json'));
  assert.equal(jsonl.summary.records, 2);
  assert.deepEqual(jsonl.findings, []);
  const top = await validateText('"a string"', 'x.json');
  assert.deepEqual(top.findings.map(at), ['1:1 json-top-level']);
});

test('pretty-printed JSON in a .jsonl file gets a hint; an empty file is reported', async () => {
  const result = await validateFile(join(dir, 'pretty.jsonl'));
  assert.match(result.findings[0].message, /pretty-printed JSON/);
  assert.deepEqual(await findings('empty.jsonl'), ['1:1 file-empty']);
});

test('validateText gives the same findings as validateFile on the same bytes', async () => {
  for (const name of [
    'malformed.jsonl',
    'bom-crlf.jsonl',
    'chat-defects.jsonl',
    'schemas.jsonl',
    'duplicates.jsonl',
    'labels.csv',
    'array.json',
    'sharegpt.jsonl',
  ]) {
    const path = join(dir, name);
    const fromFile = await validateFile(path);
    const fromText = await validateText(readFileSync(path, 'utf8'), path);
    assert.deepEqual(fromText.findings, fromFile.findings, name);
  }
});

test('CSV without --levels: a variant spelling of a frequent label is reported once, at its first occurrence', async () => {
  // 12 rows: "apply" 11 times, "Apply " once (row on line 8, field 2 starts after "7," at column 3)
  const rows = Array.from({ length: 12 }, (_, i) => `${i},${i === 6 ? 'Apply ' : 'apply'}`);
  const result = await validateText(`id,label\n${rows.join('\n')}\n`, 'variants.csv');
  assert.deepEqual(result.findings.map(at), ['8:3 label-variant']);
  assert.match(result.findings[0].message, /"Apply " in "label" \(1×\) differs from "apply" \(11×\)/);
  // free-text columns (more than 50 distinct values) are not judged
  const free = Array.from({ length: 60 }, (_, i) => `${i},Text number ${i}${i === 59 ? ',' : ''}`.replace(/,$/, ''));
  const freeResult = await validateText(`id,text\n${free.join('\n')}\ntext number 1,x\n`, 'free.csv');
  assert.deepEqual(freeResult.findings.map(at), []);
});

test('CSV saved as Latin-1: the invalid byte is reported at its column', async () => {
  // line 2 is "caf\xe9 au lait,a": the byte 0xE9 is the 4th character
  assert.deepEqual(await findings('latin1.csv'), ['2:4 utf8-invalid']);
});

test('chat: a message weight other than 0 or 1 (OpenAI format) is a field-type error at the value', async () => {
  const ok = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo","weight":0}]}';
  const bad = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo","weight":0.5}]}';
  const result = await validateText(`${ok}\n${bad}\n`, 'w.jsonl');
  // line 2 up to and including '"weight":' is 88 characters, so 0.5 starts at 89
  assert.deepEqual(result.findings.map(at), ['2:89 field-type']);
});
