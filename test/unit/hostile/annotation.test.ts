// Issue 13 items 6 and 15 (labels): the number of label levels is capped with an error naming the
// limit, the bootstrap stops on cancel, and labels with invalid UTF-8 or NUL become findings, not
// new levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeAnnotations, MAX_LEVELS } from '../../../src/core/annotation/analyze';
import { AnnotationInputError } from '../../../src/core/annotation/errors';

function labelsCsv(distinct: number, rows: number): string {
  const lines = ['id,gold,llm'];
  for (let i = 0; i < rows; i++) lines.push(`${i},label${i % distinct},label${(i * 7) % distinct}`);
  return `${lines.join('\n')}\n`;
}

test(`more than ${MAX_LEVELS} distinct labels (3,000; 50,000): a clear error naming the limit, at once`, async () => {
  for (const distinct of [3000, 50_000]) {
    const cpu0 = process.cpuUsage();
    await assert.rejects(
      analyzeAnnotations({ text: labelsCsv(distinct, distinct), name: 'free.csv' }, []),
      (e: Error) =>
        e instanceof AnnotationInputError &&
        new RegExp(`free\\.csv: ${distinct.toLocaleString('en-US')} distinct labels .* over the limit of 100 levels \\(docs/limits\\.md\\)`).test(e.message),
    );
    const used = process.cpuUsage(cpu0);
    // CPU time (the machine is shared); the uncapped run never finished (3,000) or crashed (50,000)
    assert.ok(used.user + used.system < 10e6, `${distinct}: ${(used.user + used.system) / 1000} ms CPU`);
  }
  await assert.rejects(
    analyzeAnnotations({ text: labelsCsv(3, 30), name: 'x.csv' }, [], { levels: Array.from({ length: 101 }, (_, i) => `l${i}`) }),
    /--levels: 101 levels, over the limit of 100/,
  );
});

test('the bootstrap checks cancellation while it runs', async () => {
  const abort = new AbortController();
  const t0 = Date.now();
  const run = analyzeAnnotations({ text: labelsCsv(90, 20_000), name: 'big.csv' }, [], { resamples: 1_000_000, signal: abort.signal });
  setTimeout(() => abort.abort(), 300);
  await assert.rejects(run, /cancelled/);
  // the full run (10^6 rounds over 90 levels) takes hours; reading the rows takes seconds under load
  assert.ok(Date.now() - t0 < 20_000, `stopped after ${Date.now() - t0} ms`);
});

test('labels holding invalid UTF-8 (U+FFFD) or NUL are findings, not extra levels', async () => {
  const text = 'id,gold,llm\n1,low,low\n2,high,high\n3,low,hi\uFFFDgh\n4,high,lo\u0000w\n5,low,high\n6,high,low\n';
  const analysis = await analyzeAnnotations({ text, name: 'enc.csv' }, [], { resamples: 0 });
  const levels = analysis.report.scale.levels;
  assert.ok(levels.includes('low') && levels.includes('high') && levels.every((l) => !/[\uFFFD\u0000]/.test(l)), levels.join('|'));
  const bad = analysis.report.findings.filter((f) => f.code === 'label-invalid-text');
  assert.equal(bad.length, 2);
  assert.match(bad[0].message, /LLM label in column 'llm' contains invalid UTF-8 \(shown as U\+FFFD\); the row is left out/);
  assert.match(bad[1].message, /contains a NUL byte/);
  assert.equal(bad[0].line, 4);
});

test('a human test whose labels hold invalid UTF-8 or NUL: findings, counted as missing, not new levels', async () => {
  const labelsText = 'id,gold,llm\n1,low,low\n2,high,high\n3,low,high\n4,high,low\n';
  const human = 'Annotator,ID,Label\nA1,1,low\nA1,2,hi\uFFFDgh\nA2,1,lo\u0000w\nA2,2,high\n';
  const analysis = await analyzeAnnotations({ text: labelsText, name: 'l.csv' }, [{ text: human, name: 'h.csv' }], { resamples: 0 });
  assert.ok(
    analysis.report.scale.levels.every((l) => !/[\uFFFD\u0000]/.test(l)),
    analysis.report.scale.levels.join('|'),
  );
  const bad = analysis.report.findings.filter((f) => f.code === 'label-invalid-text');
  assert.equal(bad.length, 2);
  assert.match(bad[0].message, /A1's label for item 2 contains invalid UTF-8/);
});
