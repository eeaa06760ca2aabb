// Seeded fuzzing: valid files are mutated (bytes deleted, inserted, replaced; lines truncated;
// quotes broken; invalid UTF-8 and stray newlines inserted) and fed in random chunk sizes. The
// oracle is JSON.parse on each line (after the JSONL rules: split on \n, strip one trailing \r and
// a BOM on line 1, decode UTF-8 as an editor does): every line it rejects must be reported as
// json-malformed at that line, and no line it accepts may be. No exception may escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FindingCollector } from '../../../src/core/data/findings';
import { JsonlValidator } from '../../../src/core/data/jsonl';
import { RecordPipeline } from '../../../src/core/data/pipeline';
import { CsvValidator } from '../../../src/core/data/csv';
import { rng } from '../../../src/shared/random';

const BASE_JSONL = [
  '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Quelle heure est-il ?"},{"role":"assistant","content":"Il est midi. ☀️"}]}',
  '{"conversations":[{"from":"human","value":"Hi \\"there\\"\\n"},{"from":"gpt","value":"Hello \\u00e9!"}]}',
  '{"prompt":"2+2=","completion":" 4","meta":{"n":[1,-2.5e3,true,false,null]}}',
  '{"instruction":"Summarise","input":"","output":"Done."}',
  '{"history":["Heat (1995)","Alien (1979)"],"target":"Aliens (1986)"}',
  '{"text":"日本語のテキスト"}',
  '[1, 2, 3]',
  '',
  '{"text":"plain"}\r',
].join('\n');

const INTERESTING = [
  0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x2c, 0x3a, 0x5c, 0x0a, 0x0d, 0x20, 0x09, 0x61, 0x30, 0x2d, 0x2e, 0x65, 0xff, 0xe9, 0xc3, 0xa9, 0xe2, 0x00, 0x27, 0x75,
];

function mutate(base: Buffer, random: () => number): Buffer {
  const bytes = Array.from(base);
  const edits = 1 + Math.floor(random() * 4);
  for (let n = 0; n < edits; n++) {
    const kind = Math.floor(random() * 6);
    const i = Math.floor(random() * (bytes.length + 1));
    const b = INTERESTING[Math.floor(random() * INTERESTING.length)];
    if (kind === 0 && bytes.length) bytes.splice(Math.min(i, bytes.length - 1), 1);
    else if (kind === 1) bytes.splice(i, 0, b);
    else if (kind === 2 && bytes.length) bytes[Math.min(i, bytes.length - 1)] = b;
    else if (kind === 3) {
      // truncate a line: drop everything from i to the next newline
      let j = i;
      while (j < bytes.length && bytes[j] !== 0x0a) j++;
      bytes.splice(i, j - i);
    } else if (kind === 4) {
      // break a quote
      const q = bytes.indexOf(0x22, i);
      if (q >= 0) bytes.splice(q, 1);
    } else {
      // random byte anywhere
      bytes.splice(i, 0, Math.floor(random() * 256));
    }
  }
  return Buffer.from(bytes);
}

function isJsonWhitespace(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

const decoder = new TextDecoder('utf-8');

function oracle(buf: Buffer): { malformed: Set<number>; blank: Set<number>; lines: number } {
  const malformed = new Set<number>();
  const blank = new Set<number>();
  const parts: Buffer[] = [];
  let from = 0;
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, from)) {
    parts.push(buf.subarray(from, nl));
    from = nl + 1;
  }
  if (from < buf.length) parts.push(buf.subarray(from));
  parts.forEach((part, index) => {
    let bytes = part;
    if (bytes.length && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    if (index === 0 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    const text = decoder.decode(bytes);
    if (isJsonWhitespace(text)) blank.add(index + 1);
    else {
      try {
        JSON.parse(text);
      } catch {
        malformed.add(index + 1);
      }
    }
  });
  return { malformed, blank, lines: parts.length };
}

function validateBytes(buf: Buffer, random: () => number) {
  const collector = new FindingCollector('fuzz.jsonl', 1e9);
  const pipeline = new RecordPipeline(collector, 4096);
  const jsonl = new JsonlValidator(collector, pipeline);
  // random chunking exercises lines split across chunks
  let at = 0;
  while (at < buf.length) {
    const size = 1 + Math.floor(random() * 64);
    jsonl.push(buf.subarray(at, at + size));
    at += size;
  }
  jsonl.end();
  pipeline.finish();
  return collector.finish();
}

test('fuzz: 12,000 mutated JSONL files; JSON.parse per line is the oracle for malformed lines', () => {
  const random = rng(20260127);
  const base = Buffer.from(BASE_JSONL, 'utf8');
  const CASES = 12_000;
  let malformedSeen = 0;
  for (let c = 0; c < CASES; c++) {
    const input = c === 0 ? base : mutate(base, random);
    const findings = validateBytes(input, random);
    const expected = oracle(input);
    const reported = new Set(findings.filter((f) => f.code === 'json-malformed').map((f) => f.line));
    const context = () => `case ${c}: ${JSON.stringify(input.toString('latin1'))}`;
    assert.deepEqual(
      [...reported].sort((a, b) => a - b),
      [...expected.malformed].sort((a, b) => a - b),
      context(),
    );
    malformedSeen += expected.malformed.size;
    // blank lines are covered by a blank-line finding's range
    for (const line of expected.blank) {
      assert.ok(
        findings.some((f) => f.code === 'blank-line' && f.line <= line && f.endLine >= line),
        `${context()} blank line ${line}`,
      );
    }
    for (const f of findings) {
      assert.ok(f.line >= 1 && f.line <= Math.max(1, expected.lines), context());
      assert.ok(f.column >= 1 && f.endLine >= f.line, context());
    }
  }
  assert.ok(malformedSeen > CASES / 2, 'the mutations do break lines');
});

test('fuzz: 1,500 mutated CSV files never throw and stay within the file', async () => {
  const random = rng(7);
  const base = Buffer.from('id,text,label\r\n1,"a, b",x\r\n2,"multi\nline ""q""",y\r\n3,plain,z\r\n', 'utf8');
  for (let c = 0; c < 1500; c++) {
    const input = mutate(base, random);
    const collector = new FindingCollector('fuzz.csv', 1e9);
    const csv = new CsvValidator(collector, { levels: ['x', 'y', 'z'] });
    let at = 0;
    while (at < input.length) {
      const size = 1 + Math.floor(random() * 16);
      csv.push(input.subarray(at, at + size));
      at += size;
    }
    await csv.end();
    // lines as editors (and csv-parse) count them: CRLF, LF and a lone CR each end a line
    const lines = input.toString('utf8').split(/\r\n|\r|\n/).length;
    for (const f of collector.finish()) {
      assert.ok(f.line >= 1 && f.line <= lines + 1 && f.column >= 1, `case ${c}: ${JSON.stringify(input.toString('latin1'))} ${JSON.stringify(f)}`);
    }
  }
});

test("deep nesting (beyond the scanner's initial stack) is scanned like JSON.parse", async () => {
  const { JsonTape } = await import('../../../src/core/data/jsonScan');
  const tape = new JsonTape();
  for (const depth of [255, 256, 257, 5000]) {
    const ok = Buffer.from('['.repeat(depth) + ']'.repeat(depth));
    assert.equal(tape.scanDocument(ok, 0, ok.length), true);
    assert.equal(tape.count, depth);
    const obj = Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    assert.equal(tape.scanDocument(obj, 0, obj.length), true);
    const bad = Buffer.from('['.repeat(depth) + ']'.repeat(depth - 1));
    assert.equal(tape.scanDocument(bad, 0, bad.length), false);
    assert.equal(tape.errorOffset, bad.length); // the end of the line: one ']' is missing
    assert.throws(() => JSON.parse(bad.toString()));
  }
});
