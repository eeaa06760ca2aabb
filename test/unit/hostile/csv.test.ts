// Issue 13 items 5 and 13: CSV validation is linear in the number of columns, rows wider than the
// cap get one finding naming the limit, and the header detection of the annotation view is one
// linear pass that a stray quote does not derail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../../../src/core/data/validate';
import { MAX_CSV_COLUMNS } from '../../../src/core/data/csv';
import { firstRecordEnd } from '../../../src/core/annotation/csv';

function wideCsv(columns: number, rows: number): string {
  const header = Array.from({ length: columns }, (_, i) => `c${i}`).join(',');
  const row = (r: number) => Array.from({ length: columns }, (_, i) => `v${r}_${i}`).join(',');
  return [header, ...Array.from({ length: rows }, (_, r) => row(r))].join('\n') + '\n';
}

test('CSV: time grows linearly with the number of columns (10k vs 5k columns, distinct values)', async () => {
  const time = async (columns: number) => {
    const text = wideCsv(columns, 20);
    const cpu0 = process.cpuUsage();
    const result = await validateText(text, 'wide.csv');
    assert.equal(result.summary.errors, 0);
    const used = process.cpuUsage(cpu0);
    return (used.user + used.system) / 1000; // CPU ms: robust to the machine's load
  };
  await time(1000); // warm up
  const small = await time(MAX_CSV_COLUMNS / 2);
  const large = await time(MAX_CSV_COLUMNS);
  // quadratic would be ~4x; allow noise on a loaded machine
  assert.ok(large < small * 3 + 200, `5k columns ${small.toFixed(0)} ms, 10k columns ${large.toFixed(0)} ms`);
});

test('CSV: 100k columns (1.1 MB) and 1M columns give one finding naming the limit, in seconds', async () => {
  for (const columns of [100_000, 1_000_000]) {
    const text = wideCsv(columns, 2);
    const cpu0 = process.cpuUsage();
    const result = await validateText(text, 'wide.csv');
    const used = process.cpuUsage(cpu0);
    // CPU time, not wall time: the machine is shared (docs/limits.md)
    const seconds = (used.user + used.system) / 1e6;
    const finding = result.findings.find((f) => f.code === 'csv-too-many-columns');
    assert.ok(finding, JSON.stringify(result.findings.slice(0, 3)));
    assert.match(
      finding!.message,
      new RegExp(`the header has ${columns.toLocaleString('en-US')} columns, over the limit of 10,000 columns \\(docs/limits\\.md\\)`),
    );
    assert.equal(result.summary.records, 2);
    assert.ok(seconds < 10, `${columns} columns: ${seconds} s CPU`);
  }
});

test('CSV positions stay exact in multi-line records after the linear rewrite', async () => {
  const text = 'a,b,c\n"x\ny",1,2\n"p\nq\nr",3,4,5\n';
  const result = await validateText(text, 'ml.csv');
  const ragged = result.findings.find((f) => f.code === 'csv-ragged-row')!;
  assert.equal(ragged.line, 6);
  assert.equal(ragged.column, 8); // `r",3,4,5`: the extra field starts at column 8
});

test('header detection: linear, and a stray quote does not swallow the file', () => {
  assert.equal(firstRecordEnd('a,b\n1,2\n'), 3);
  assert.equal(firstRecordEnd('a,"b\nc",d\n1,2,3\n'), 9);
  assert.equal(firstRecordEnd('a,b\r\n1,2\r\n'), 3);
  assert.equal(firstRecordEnd('a,b'), -1);
  // a quote inside an unquoted field is literal (relax_quotes)
  assert.equal(firstRecordEnd('id,te"xt,label\n1,2,3\n'), 14);
  // an opening quote never closed: the header is the first line, not the whole file
  const stray = `id,"text,label\n${'1,hello,ok\n'.repeat(70_000)}`; // ~0.74 MB
  const t0 = Date.now();
  assert.equal(firstRecordEnd(stray), 14);
  assert.ok(Date.now() - t0 < 1000);
});
