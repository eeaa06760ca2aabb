// The rows the extension marks as annotation errors (src/core/annotation/errorMarks.ts), checked
// against the labels written here: conceptual errors (two or more levels apart) first, then
// boundary errors, at the rows' 0-based lines, capped, with the task-inherent share in the message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeAnnotations } from '../../../src/core/annotation/analyze';
import { errorMarks } from '../../../src/core/annotation/errorMarks';

const LEVELS = ['low', 'mid', 'high'];

/** gold and LLM per row; a quoted field with a line break in row 4 moves the later rows down a line */
const ROWS: [number, number][] = [
  [0, 0],
  [0, 2], // conceptual
  [1, 2], // boundary
  [2, 2],
  [2, 0], // conceptual (after the two-line record)
  [1, 0], // boundary
];

function csv(): { text: string; name: string; lines: number[] } {
  const out = ['id,text,gold,llm'];
  const lines: number[] = [];
  let line = 2; // 1-based line of the first data row
  ROWS.forEach(([g, l], i) => {
    lines.push(line);
    const text = i === 3 ? '"two\nlines"' : `row ${i}`;
    out.push(`${i + 1},${text},${LEVELS[g]},${LEVELS[l]}`);
    line += i === 3 ? 2 : 1;
  });
  return { text: `${out.join('\n')}\n`, name: 'labels.csv', lines };
}

test('conceptual errors first, then boundary, at their lines, with the message', async () => {
  const { text, name, lines } = csv();
  const analysis = await analyzeAnnotations({ text, name }, [], { levels: LEVELS, resamples: 50 });
  const { marks, total } = errorMarks(analysis, 100);
  assert.equal(total, 4);
  assert.deepEqual(
    marks.map((m) => [m.line, m.conceptual]),
    [
      [lines[1] - 1, true],
      [lines[4] - 1, true],
      [lines[2] - 1, false],
      [lines[5] - 1, false],
    ],
  );
  assert.equal(marks[0].message.split('.')[0], "LLM label 'high' vs gold 'low': conceptual error (2 levels apart)");
  assert.match(marks[2].message, /^LLM label 'high' vs gold 'mid': boundary error \(adjacent levels\)\. No human test yet/);
});

test('the cap keeps the conceptual errors; zero marks nothing', async () => {
  const { text, name } = csv();
  const analysis = await analyzeAnnotations({ text, name }, [], { levels: LEVELS, resamples: 50 });
  const capped = errorMarks(analysis, 2);
  assert.equal(capped.total, 4);
  assert.deepEqual(
    capped.marks.map((m) => m.conceptual),
    [true, true],
  );
  assert.deepEqual(errorMarks(analysis, 0), { marks: [], total: 4 });
});
