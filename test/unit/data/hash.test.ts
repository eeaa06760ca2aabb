// The scanner writes each string's normalised text for near-duplicate hashing while it scans;
// it must equal the reference normalisation (byte by byte over the string's raw contents) on
// random strings with escapes, \u escapes, non-ASCII and invalid UTF-8; and the duplicate hashes
// must treat case, punctuation and whitespace runs as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonTape, T_STRING } from '../../../src/core/data/jsonScan';
import { DUPLICATE_EXACT, DUPLICATE_NEAR, DUPLICATE_NONE, DuplicateIndex, NormalizedHasher, hashBytes } from '../../../src/core/data/hash';
import { rng } from '../../../src/shared/random';

/** The reference: ASCII letters lower-cased, digits and bytes >= 0x80 kept, a run of anything else one 0. */
function reference(raw: Uint8Array): number[] {
  const out: number[] = [];
  let prev = 0;
  const put = (n: number) => {
    if (n === 0 && prev === 0) return;
    out.push(n);
    prev = n;
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x5c && raw[i + 1] !== 0x75) {
      i++;
      put(0);
      continue;
    }
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c >= 0x80) put(c);
    else if (c >= 0x41 && c <= 0x5a) put(c | 0x20);
    else put(0);
  }
  if (prev !== 0) out.push(0);
  return out;
}

const PIECES = [
  'a',
  'Z',
  'q',
  '7',
  ' ',
  '  ',
  ',',
  '.',
  '!',
  '-',
  '\\n',
  '\\t',
  '\\"',
  '\\\\',
  '\\/',
  '\\u00e9',
  '\\u00C9',
  '\\uD83D\\uDE00',
  'é',
  'É',
  '日本',
  '😀',
  '\t',
];

test('normalised text written by the scanner equals the reference normalisation', () => {
  const random = rng(99);
  const tape = new JsonTape();
  let checked = 0;
  for (let c = 0; c < 3000; c++) {
    const parts: Buffer[] = [Buffer.from('{"k":[')];
    const n = 1 + Math.floor(random() * 4);
    for (let s = 0; s < n; s++) {
      if (s) parts.push(Buffer.from(','));
      let text = '';
      const len = Math.floor(random() * 12);
      for (let k = 0; k < len; k++) text += PIECES[Math.floor(random() * PIECES.length)];
      // some strings hold invalid UTF-8
      parts.push(random() < 0.1 ? Buffer.from([0x22, 0x41, 0xff, 0xc3, 0x2c, 0xe2, 0x82, 0x22]) : Buffer.from(`"${text}"`));
    }
    parts.push(Buffer.from(']}'));
    // a long string too, beyond the scanner's initial normalisation buffer
    if (c === 0) parts.splice(1, 0, Buffer.from(`"${'Ab, '.repeat(40_000)}",`));
    const line = Buffer.concat(parts);
    const ok = tape.scanDocument(line, 0, line.length);
    const parses = (() => {
      try {
        JSON.parse(line.toString());
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(ok, parses, line.toString('latin1'));
    if (!ok) continue;
    for (let t = 0; t < tape.count; t++) {
      if (tape.type[t] !== T_STRING) continue;
      if (t === 1) {
        // the key "k": keys are not hashed, they leave no normalised text
        assert.equal(tape.normEnd[t], tape.normStart[t]);
        continue;
      }
      const got = Array.from(tape.norm.subarray(tape.normStart[t], tape.normEnd[t]));
      assert.deepEqual(got, reference(line.subarray(tape.start[t] + 1, tape.end[t] - 1)), `${line.toString('latin1')} token ${t}`);
      checked++;
    }
  }
  assert.ok(checked > 3000, `${checked}`);
});

function textHash(strings: string[]): [number, number, number] {
  const tape = new JsonTape();
  const line = Buffer.from(JSON.stringify(strings));
  assert.ok(tape.scanDocument(line, 0, line.length));
  const hasher = new NormalizedHasher();
  hasher.begin();
  for (let t = 1; t < tape.count; t++) hasher.add(tape.norm, tape.normStart[t], tape.normEnd[t]);
  hasher.finish();
  const gathered: [number, number, number] = [hasher.h1, hasher.h2, hasher.length];
  // the strings lie side by side in the tape's normalised text: hashed in place, the same hash
  if (tape.count > 1) {
    hasher.hashRange(tape.norm, tape.normStart[1], tape.normEnd[tape.count - 1]);
    assert.deepEqual([hasher.h1, hasher.h2, hasher.length], gathered);
  }
  return gathered;
}

test('near-duplicate hash: case, punctuation and whitespace runs ignored; words and their order not', () => {
  assert.deepEqual(textHash(['Hello,   World!']), textHash(['hello world']));
  assert.deepEqual(textHash(['Hello', 'world.']), textHash(['hello world']));
  assert.deepEqual(textHash(['  ', 'a\nb']), textHash(['A B']));
  assert.notDeepEqual(textHash(['ab c']), textHash(['a bc']));
  assert.notDeepEqual(textHash(['hello world']), textHash(['world hello']));
  assert.notDeepEqual(textHash(['café']), textHash(['cafe']));
  assert.equal(textHash(['', ' ?! '])[2], 0);
  for (let n = 0; n < 12; n++) assert.deepEqual(textHash(['x'.repeat(n), 'Yz'.repeat(n)]), textHash([`${'x'.repeat(n)} ${'yz'.repeat(n)}`]));
  const raw = Buffer.from('xx{"a":1}yy{"a":1}');
  assert.equal(hashBytes(raw, 2, 9), hashBytes(raw, 11, 18));
  assert.notEqual(hashBytes(raw, 2, 9), hashBytes(raw, 2, 8));
  // the index: exact copy, near copy, first line kept, growth beyond the initial capacity
  const index = new DuplicateIndex(4);
  assert.equal(index.check(1, 2, 3, 10), DUPLICATE_NONE);
  assert.equal(index.check(1, 2, 4, 11), DUPLICATE_NEAR);
  assert.equal(index.firstLine, 10);
  assert.equal(index.check(1, 2, 4, 12), DUPLICATE_EXACT);
  assert.equal(index.firstLine, 11);
  for (let i = 0; i < 1000; i++) index.check(i * 7919, i, i, 100 + i);
  assert.equal(index.check(1, 2, 3, 2000), DUPLICATE_EXACT);
  assert.equal(index.firstLine, 10);
  assert.equal(index.check(500 * 7919, 500, 0, 2001), DUPLICATE_NEAR);
  assert.equal(index.firstLine, 600);
});

test('length statistics: the median by selection equals the median of the sorted values', async () => {
  const { medianOf } = await import('../../../src/core/data/pipeline');
  const random = rng(5);
  for (let c = 0; c < 400; c++) {
    const n = 1 + Math.floor(random() * 60);
    const values = Float64Array.from({ length: n }, () => (random() < 0.5 ? Math.floor(random() * 4) : random() * 10));
    const sorted = values.slice().sort();
    const pos = (n - 1) * 0.5;
    const expected = sorted[Math.floor(pos)] + (sorted[Math.ceil(pos)] - sorted[Math.floor(pos)]) * (pos - Math.floor(pos));
    assert.equal(medianOf(values.slice()), expected, Array.from(values).join(','));
  }
});

test('length statistics: the median and MAD of log lengths read off counts equal those by selection over the logs', async () => {
  const { logMedianAndMad, medianOf } = await import('../../../src/core/data/pipeline');
  const random = rng(6);
  for (let c = 0; c < 300; c++) {
    const n = 1 + Math.floor(random() * 200);
    // few distinct lengths and many, zeros (logged as 1), a length beyond the counted range now and then
    const spread = [3, 50, 5000, 3e6][c % 4];
    const lengths = Int32Array.from({ length: n }, () => Math.floor(random() * random() * spread));
    const logs = Float64Array.from(lengths, (x) => Math.log(Math.max(1, x)));
    const median = medianOf(logs.slice());
    const mad = medianOf(logs.map((l) => Math.abs(l - median)));
    assert.deepEqual(logMedianAndMad(lengths, n), { median, mad }, Array.from(lengths).join(','));
  }
});

test('duplicate set: sized ahead (reserve) or grown as it fills, the same answers', () => {
  const grown = new DuplicateIndex(4);
  const reserved = new DuplicateIndex(4);
  reserved.reserve(20_000);
  const sizedBytes = reserved.bytes;
  for (let i = 0; i < 30_000; i++) {
    // a few thousand distinct texts, some raw variants, some exact repeats
    const near = i % 7000;
    const raw = i % 3 === 0 ? near : near ^ 0x5555;
    for (const index of [grown, reserved]) index.check(near * 2654435761, near ^ 0x9e3779b9, raw, i + 1);
    assert.deepEqual([reserved.kind, reserved.firstLine], [grown.kind, grown.firstLine], `record ${i}`);
  }
  // reserve sized the table once, for load <= 0.7 (32,768 slots of 16 bytes for 20,000 records)
  assert.equal(sizedBytes, 32_768 * 16);
});
