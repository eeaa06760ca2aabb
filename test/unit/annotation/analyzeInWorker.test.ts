// An annotation analysis in a worker thread (what the extension runs, so that its host stays
// responsive) gives exactly the in-process analysis, and its errors and cancellation come back as
// the same types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeAnnotations } from '../../../src/core/annotation/analyze';
import { analyzeAnnotationsInWorker } from '../../../src/core/annotation/analyzeInWorker';
import { CancelledError, InputError } from '../../../src/shared/errors';

const LEVELS = ['low', 'mid', 'high'];

function labels(rows: number): string {
  const out = ['id,text,gold,llm'];
  for (let i = 1; i <= rows; i++) {
    const g = (i * 7) % 3;
    const l = i % 7 === 0 ? (g === 0 ? 2 : 0) : i % 5 === 0 ? (g === 2 ? 1 : g + 1) : g;
    out.push(`${i},"utterance ${i}, as said",${LEVELS[g]},${LEVELS[l]}`);
  }
  return `${out.join('\n')}\n`;
}

function human(items: number): string {
  const out = ['Annotator,ID,Label'];
  for (const who of ['groundtruth', 'A1', 'A2']) {
    for (let i = 1; i <= items; i++) {
      const g = (i * 7) % 3;
      out.push(`${who},${i},${LEVELS[who !== 'groundtruth' && i % (who === 'A1' ? 11 : 13) === 0 ? (g + 1) % 3 : g]}`);
    }
  }
  return `${out.join('\n')}\n`;
}

test('the worker gives the in-process analysis', async () => {
  const source = { text: labels(3000), name: 'labels.csv' };
  const humans = [{ text: human(100), name: 'labels.human.csv' }];
  const options = { resamples: 200, seed: 3 };
  const inWorker = await analyzeAnnotationsInWorker(source, humans, options);
  const inProcess = await analyzeAnnotations(source, humans, options);
  assert.deepEqual(inWorker, inProcess);
  assert.ok(inWorker.rows.line instanceof Int32Array && inWorker.rows.line.length === 3000);
});

test('input errors come back as InputError with their code', async () => {
  const source = { text: 'a,b\n1,2\n', name: 'odd.csv' };
  await assert.rejects(analyzeAnnotationsInWorker(source, []), (error: unknown) => error instanceof InputError && error.code === 'missing-column');
});

test('a cancelled analysis rejects with CancelledError', async () => {
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(analyzeAnnotationsInWorker({ text: labels(20000), name: 'big.csv' }, [], { signal: abort.signal }), CancelledError);
});

test("asked for, the worker also builds the editor's error marks: the same as built from the in-process analysis", async () => {
  const { errorMarks } = await import('../../../src/core/annotation/errorMarks');
  const source = { text: labels(2000), name: 'labels.csv' };
  const humans = [{ text: human(100), name: 'labels.human.csv' }];
  const options = { resamples: 100, seed: 2 };
  const inWorker = await analyzeAnnotationsInWorker(source, humans, { ...options, errorMarks: 300 });
  const expected = errorMarks(await analyzeAnnotations(source, humans, options), 300);
  assert.equal(expected.marks.length, 300);
  assert.ok(expected.total > 300);
  assert.deepEqual(inWorker.errorMarks, expected);
  const { errorMarks: none, ...analysis } = inWorker;
  assert.equal(none?.marks.length, 300);
  assert.deepEqual(analysis, await analyzeAnnotations(source, humans, options));
  assert.equal((await analyzeAnnotationsInWorker(source, humans, options)).errorMarks, undefined);
});
