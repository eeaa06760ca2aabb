// Live validation off the editor thread: the worker's copy of a buffer, kept in step by edits,
// equals the buffer (seeded random edits against a plain string), and validating the copy in the
// worker gives exactly validateText's findings on the buffer's text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LiveValidator, type SliceSource } from '../../../src/core/data/liveValidation';
import { TextMirror, type TextEdit } from '../../../src/core/data/textMirror';
import { validateText } from '../../../src/core/data/validate';
import { rng } from '../../../src/shared/random';

/** (line, character) -> offset in text whose line breaks are `eol` */
function offsetOf(text: string, eol: string, line: number, character: number): number {
  let offset = 0;
  for (let l = 0; l < line; l++) offset = text.indexOf(eol, offset) + eol.length;
  return offset + character;
}

function randomEdit(text: string, eol: string, next: () => number): { edit: TextEdit; after: string } {
  const lines = text.split(eol);
  const pick = () => {
    const line = Math.floor(next() * lines.length);
    return { line, character: Math.floor(next() * (lines[line].length + 1)) };
  };
  let a = pick();
  let b = pick();
  if (b.line < a.line || (b.line === a.line && b.character < a.character)) [a, b] = [b, a];
  if (next() < 0.4) b = a; // a pure insertion, as typing is
  const pieces = ['x', '{"a": 1}', eol, `é${eol}ü`, '\t', '😀', '', `line${eol}${eol}more`];
  const inserted = pieces[Math.floor(next() * pieces.length)];
  const start = offsetOf(text, eol, a.line, a.character);
  const end = offsetOf(text, eol, b.line, b.character);
  return {
    edit: { startLine: a.line, startCharacter: a.character, endLine: b.line, endCharacter: b.character, text: inserted },
    after: text.slice(0, start) + inserted + text.slice(end),
  };
}

test('the mirror follows random edits exactly (LF and CRLF)', () => {
  for (const eol of ['\n', '\r\n'] as const) {
    const next = rng(eol.length);
    let text = ['{"text": "one"}', '', '{"text": "two"}'].join(eol);
    const mirror = new TextMirror(text, 1, eol);
    for (let step = 0; step < 3000; step++) {
      const batch: TextEdit[] = [];
      // several edits in one change event apply in order, each on the text the previous one left
      for (let k = 0, n = 1 + Math.floor(next() * 3); k < n; k++) {
        const { edit, after } = randomEdit(text, eol, next);
        batch.push(edit);
        text = after;
      }
      mirror.apply(batch, step + 2);
      assert.equal(mirror.text(), text, `step ${step}`);
      assert.equal(mirror.length, text.length);
      assert.equal(mirror.lineCount, text.split(eol).length);
    }
  }
});

test('an edit outside the text is refused', () => {
  const mirror = new TextMirror('a\nb', 1, '\n');
  assert.throws(() => mirror.apply([{ startLine: 5, startCharacter: 0, endLine: 5, endCharacter: 0, text: 'x' }], 2), RangeError);
});

const live = new LiveValidator();
after(() => live.dispose());

test('the worker validates its copy: the findings of validateText on the edited buffer', async () => {
  const records = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `question ${i % 250}` },
        { role: 'assistant', content: `answer ${i % 250}` },
      ],
    }),
  );
  let text = `${records.join('\n')}\n`;
  const file = '/tmp/buffer.jsonl';
  live.openBuffer('buf', 1, text, '\n');
  const expect = () => ({ lines: text.split('\n').length, length: text.length, eol: '\n' as const });
  let outcome = await live.validate('buf', 1, file, {}, 1e9, expect());
  assert.equal(outcome.kind, 'result');
  assert.deepEqual(outcome.kind === 'result' && outcome.result, await validateText(text, file));

  // typing a broken record at the end, then a trailing comma inside line 10
  const edits: TextEdit[] = [{ startLine: 300, startCharacter: 0, endLine: 300, endCharacter: 0, text: '{"text": "half' }];
  text += '{"text": "half';
  const line10 = records[9];
  const comma = line10.lastIndexOf('}');
  edits.push({ startLine: 9, startCharacter: comma, endLine: 9, endCharacter: comma, text: ',' });
  const lines = text.split('\n');
  lines[9] = line10.slice(0, comma) + ',' + line10.slice(comma);
  text = lines.join('\n');
  live.edit('buf', 2, edits);
  outcome = await live.validate('buf', 2, file, {}, 1e9, expect());
  assert.equal(outcome.kind, 'result');
  const expected = await validateText(text, file);
  assert.deepEqual(outcome.kind === 'result' && outcome.result, expected);
  assert.ok(expected.findings.some((f) => f.code === 'json-malformed' && f.line === 10));
  assert.ok(expected.findings.some((f) => f.code === 'json-malformed' && f.line === 301));
});

test('a copy out of step, or over the size limit, is reported, not validated', async () => {
  live.openBuffer('small', 1, '{"text": "a"}\n', '\n');
  assert.equal((await live.validate('small', 1, '/tmp/s.jsonl', {}, 1e9, { lines: 2, length: 99, eol: '\n' })).kind, 'unsynced');
  assert.equal((await live.validate('small', 7, '/tmp/s.jsonl', {}, 1e9, { lines: 2, length: 14, eol: '\n' })).kind, 'unsynced');
  assert.equal((await live.validate('never-opened', 1, '/tmp/s.jsonl', {}, 1e9, { lines: 1, length: 0, eol: '\n' })).kind, 'unsynced');
  const over = await live.validate('small', 1, '/tmp/s.jsonl', {}, 10, { lines: 2, length: 14, eol: '\n' });
  assert.ok(over.kind === 'too-large' && over.bytes === 14, JSON.stringify(over));
  live.close('small');
  assert.equal(live.holds('small'), false);
});

test('an unmodified buffer is read by the worker from the file (BOM dropped, CRLF), as the editor shows it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-live-'));
  try {
    const lines = ['{"text": "é one"}', '{"text": "two",}', '{"text": "é one"}', ''];
    const path = join(dir, 'crlf.jsonl');
    writeFileSync(path, `\ufeff${lines.join('\r\n')}`);
    // the editor's buffer: no BOM, CRLF line breaks
    const buffer = lines.join('\r\n');
    live.openFile('disk', 1, path, '\r\n', 3 * buffer.length + 3);
    const outcome = await live.validate('disk', 1, path, {}, 1e9, { lines: lines.length, length: buffer.length, eol: '\r\n' });
    assert.equal(outcome.kind, 'result');
    assert.deepEqual(outcome.kind === 'result' && outcome.result, await validateText(buffer, path));
    // a file that is not the buffer (changed on disk) fails the check, and is then sent whole
    writeFileSync(path, 'changed\n');
    live.close('disk');
    live.openFile('disk', 1, path, '\r\n', 3 * buffer.length + 3);
    assert.equal((await live.validate('disk', 1, path, {}, 1e9, { lines: lines.length, length: buffer.length, eol: '\r\n' })).kind, 'unsynced');
    // one larger than the buffer can be is not read at all
    writeFileSync(path, 'x'.repeat(1000));
    live.close('disk');
    live.openFile('disk', 1, path, '\r\n', 10);
    assert.equal((await live.validate('disk', 1, path, {}, 1e9, { lines: 1, length: 1000, eol: '\r\n' })).kind, 'unsynced');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A document over `text` as the editor shows it (SliceSource), whose version a test can change. */
function sliceSource(text: string, eol: '\n' | '\r\n', doc = { version: 1 }): SliceSource {
  const lines = text.split(eol);
  const starts: number[] = [];
  for (let i = 0, offset = 0; i < lines.length; offset += lines[i].length + eol.length, i++) starts.push(offset);
  return {
    get version() {
      return doc.version;
    },
    lineCount: lines.length,
    lineAt: (offset) => {
      let line = 0;
      while (line + 1 < lines.length && starts[line + 1] <= offset) line++;
      return line;
    },
    offsetOf: (line) => starts[line],
    text: (start, end) => lines.slice(start, end).join(eol) + (end < lines.length ? eol : ''),
  };
}

test('a buffer sent in slices of lines (LF and CRLF, a line longer than a slice) is the buffer the worker validates', async () => {
  for (const eol of ['\n', '\r\n'] as const) {
    const records = Array.from({ length: 120 }, (_, i) => (i === 40 ? `{"text": "${'long é '.repeat(40)}"` : JSON.stringify({ text: `record ${i % 100} 😀` })));
    const text = `${records.join(eol)}${eol}`;
    const key = `sliced${eol.length}`;
    assert.equal(await live.openBufferInSlices(key, sliceSource(text, eol), eol, undefined, 64), true);
    assert.equal(live.holds(key), true);
    const outcome = await live.validate(key, 1, '/tmp/sliced.jsonl', {}, 1e9, { lines: records.length + 1, length: text.length, eol });
    assert.equal(outcome.kind, 'result');
    const expected = await validateText(text, '/tmp/sliced.jsonl');
    assert.deepEqual(outcome.kind === 'result' && outcome.result, expected);
    assert.ok(expected.findings.some((f) => f.code === 'json-malformed' && f.line === 41));
    live.close(key);
  }
});

test('sending in slices stops when the document changes, is cancelled, or a newer sending starts', async () => {
  const text = `${Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `r${i}` })).join('\n')}\n`;
  const expect = { lines: 51, length: text.length, eol: '\n' as const };
  // an edit between two slices: nothing is kept, the validation finds no copy
  const doc = { version: 1 };
  const sending = live.openBufferInSlices('moving', sliceSource(text, '\n', doc), '\n', undefined, 100);
  doc.version = 2;
  assert.equal(await sending, false);
  assert.equal(live.holds('moving'), false);
  assert.equal((await live.validate('moving', 1, '/tmp/m.jsonl', {}, 1e9, expect)).kind, 'unsynced');
  // cancelled (a newer validation of the buffer began)
  const abort = new AbortController();
  const cancelled = live.openBufferInSlices('cancelled', sliceSource(text, '\n'), '\n', abort.signal, 100);
  abort.abort();
  assert.equal(await cancelled, false);
  // two sendings of one buffer: the older stops and leaves the newer's copy whole
  const older = live.openBufferInSlices('twice', sliceSource(text, '\n'), '\n', undefined, 100);
  const newer = live.openBufferInSlices('twice', sliceSource(text, '\n'), '\n', undefined, 100);
  assert.deepEqual([await older, await newer], [false, true]);
  const outcome = await live.validate('twice', 1, '/tmp/t.jsonl', {}, 1e9, expect);
  assert.deepEqual(outcome.kind === 'result' && outcome.result, await validateText(text, '/tmp/t.jsonl'));
  live.close('twice');
});
