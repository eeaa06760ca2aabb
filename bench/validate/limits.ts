// Where the CPU time of JSON Lines validation goes -- the TypeScript path, the WebAssembly path
// (dist/jsonScan.wasm, from assembly/jsonScan.ts: `npm run build` first) and, as a floor, a bare
// WebAssembly SIMD pass over the bytes -- side by side in one process on one file (issue 15:
// validation >= 2x Python per CPU-second). Every stage reads the file the way the validator does (1 MB reads into
// one reused buffer) and is timed in CPU seconds (user + system of this process), so a loaded
// machine changes the wall time, not the figures. Python's json.loads loop runs in the same
// command, under /usr/bin/time.
//
//   node --import tsx bench/validate/limits.ts FILE     (bench/validate/run.sh generates FILE)
//
// The floor's WebAssembly module is assembled below from its opcodes (no toolchain needed): `classify`
// marks, 64 bytes an iteration with 128-bit SIMD, the bytes a JSON scanner must stop at ('"',
// '\\', control characters and non-ASCII bytes) and counts them -- the first, cheapest step of a
// SIMD scanner such as simdjson's; `classifyScalar` is the same test a byte at a time. Both count
// the same bytes (checked).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FindingCollector } from '../../src/core/data/findings';
import { NormalizedHasher, hashBytes } from '../../src/core/data/hash';
import { JsonTape, T_STRING } from '../../src/core/data/jsonScan';
import { JsonlValidator } from '../../src/core/data/jsonl';
import { RecordPipeline } from '../../src/core/data/pipeline';
import { BATCH_RECORDS, wasmScanner } from '../../src/core/data/wasmScan';

const file = process.argv[2];
if (!file) {
  console.error('usage: node --import tsx bench/validate/limits.ts FILE.jsonl');
  process.exit(2);
}
const size = statSync(file).size;
const mb = size / 1048576;
const CHUNK = 1 << 20;

// ---- the WebAssembly module, opcode by opcode
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  and: [0x71],
  or: [0x72],
  sub: [0x6b],
  eq: [0x46],
  geU: [0x4f],
  popcnt: [0x69],
  load8u: [0x2d, 0, 0],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  brIf: (d: number) => [0x0d, d],
  br: (d: number) => [0x0c, d],
  end: [0x0b],
  // SIMD: 0xfd prefix + LEB opcode
  v128load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  ltS8: [0xfd, 0x25],
  vor: [0xfd, 0x50],
  bitmask8: [0xfd, 0x64],
};
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}
// classify(p, n) -> count; locals: 0 p, 1 n, 2 end, 3 count, 4 v, 5 '"', 6 '\\', 7 0x20
const classifyBody = (() => {
  const block = (offset: number) => [
    ...op.get(0),
    ...op.v128load(offset),
    ...op.set(4),
    ...op.get(4),
    ...op.get(5),
    ...op.eq8,
    ...op.get(4),
    ...op.get(6),
    ...op.eq8,
    ...op.vor,
    // signed: bytes >= 0x80 are negative, so "< 0x20 signed" is control characters and non-ASCII
    ...op.get(4),
    ...op.get(7),
    ...op.ltS8,
    ...op.vor,
    ...op.bitmask8,
    ...op.popcnt,
    ...op.get(3),
    ...op.add,
    ...op.set(3),
  ];
  return [
    ...vec([
      [2, I32],
      [4, V128],
    ]),
    ...op.i32(0x22),
    ...op.splat8,
    ...op.set(5),
    ...op.i32(0x5c),
    ...op.splat8,
    ...op.set(6),
    ...op.i32(0x20),
    ...op.splat8,
    ...op.set(7),
    ...op.get(0),
    ...op.get(1),
    ...op.i32(-64),
    ...op.and,
    ...op.add,
    ...op.set(2),
    ...op.block,
    ...op.loop,
    ...op.get(0),
    ...op.get(2),
    ...op.geU,
    ...op.brIf(1),
    ...block(0),
    ...block(16),
    ...block(32),
    ...block(48),
    ...op.get(0),
    ...op.i32(64),
    ...op.add,
    ...op.set(0),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(3),
    ...op.end,
  ];
})();
// classifyScalar(p, n) -> count; locals: 0 p, 1 n, 2 end, 3 count, 4 c
const scalarBody = [
  ...vec([[3, I32]]),
  ...op.get(0),
  ...op.get(1),
  ...op.i32(-64),
  ...op.and,
  ...op.add,
  ...op.set(2),
  ...op.block,
  ...op.loop,
  ...op.get(0),
  ...op.get(2),
  ...op.geU,
  ...op.brIf(1),
  ...op.get(0),
  ...op.load8u,
  ...op.set(4),
  ...op.get(4),
  ...op.i32(0x22),
  ...op.eq,
  ...op.get(4),
  ...op.i32(0x5c),
  ...op.eq,
  ...op.or,
  ...op.get(4),
  ...op.i32(0x20),
  ...op.sub,
  ...op.i32(0x60),
  ...op.geU,
  ...op.or,
  ...op.get(3),
  ...op.add,
  ...op.set(3),
  ...op.get(0),
  ...op.i32(1),
  ...op.add,
  ...op.set(0),
  ...op.br(0),
  ...op.end,
  ...op.end,
  ...op.get(3),
  ...op.end,
];
const PAGES = 17; // one 1 MB chunk at offset 0
const wasmBytes = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[I32]])]])),
  ...section(3, vec([[0], [0]])),
  ...section(5, vec([[0x00, ...uleb(PAGES)]])),
  ...section(
    7,
    vec([
      [...str('mem'), 0x02, 0],
      [...str('classify'), 0x00, 0],
      [...str('classifyScalar'), 0x00, 1],
    ]),
  ),
  ...section(
    10,
    vec([
      [...uleb(classifyBody.length), ...classifyBody],
      [...uleb(scalarBody.length), ...scalarBody],
    ]),
  ),
]);
const wasm = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes)).exports as {
  mem: WebAssembly.Memory;
  classify: (p: number, n: number) => number;
  classifyScalar: (p: number, n: number) => number;
};
const wasmMem = new Uint8Array(wasm.mem.buffer);

// ---- stages
const buf = Buffer.allocUnsafe(CHUNK);

/** Reads the file in 1 MB reads; `lines`: fn gets whole lines only (a partial last line is read again). */
function eachChunk(fn: (n: number) => number): number {
  const fd = openSync(file, 'r');
  let pos = 0;
  let acc = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n <= 0) break;
    acc += fn(n);
    pos += n;
  }
  closeSync(fd);
  return acc;
}
/**
 * Reads the file a chunk at a time; fn(n) handles the whole lines in buf[0, n) and returns what it
 * counted and where its last whole line ends: the next chunk starts there.
 */
function eachWholeLines(fn: (n: number) => { count: number; end: number }): number {
  const fd = openSync(file, 'r');
  let pos = 0;
  let acc = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n <= 0) break;
    const { count, end } = fn(n);
    acc += count;
    if (end === 0) throw new Error('a line longer than 1 MB: not supported here');
    pos += n < CHUNK ? n : end;
  }
  closeSync(fd);
  return acc;
}

const ws = wasmScanner();
if (!ws) throw new Error('dist/jsonScan.wasm is missing: npm run build');
/**
 * fn(start, end) on each line; inWasm: the chunk is first copied into the WebAssembly scanner's
 * memory (as JsonlValidator reads it) and the offsets are there.
 */
function eachLine(fn: (s: number, e: number) => number, inWasm = false): number {
  return eachWholeLines((n) => {
    const at = inWasm ? ws!.load(buf.subarray(0, n)).byteOffset : 0;
    let count = 0;
    let from = 0;
    for (let nl = buf.indexOf(10, 0); nl >= 0 && nl < n; nl = buf.indexOf(10, from)) {
      count += fn(at + from, at + nl);
      from = nl + 1;
    }
    return { count, end: from };
  });
}
const wsHash = { h1: 0, h2: 0, length: 0 };

const rows: { label: string; cpu: number; result: number }[] = [];
function stage(label: string, fn: () => number): number {
  fn(); // warm: the second run is timed
  const t = process.cpuUsage();
  const result = fn();
  const u = process.cpuUsage(t);
  const cpu = (u.user + u.system) / 1e6;
  rows.push({ label, cpu, result });
  console.log(`${label.padEnd(52)} ${cpu.toFixed(2).padStart(6)} CPU-s ${(mb / cpu).toFixed(0).padStart(6)} MB/CPU-s  (${result})`);
  return cpu;
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`file: ${file} (${mb.toFixed(0)} MB), node ${process.version}, load average ${load()}`);
const tape = new JsonTape();
const hasher = new NormalizedHasher();
const read = stage('read only (1 MB reads, one buffer)', () => eachChunk((n) => buf[n - 1]));
const simd = stage('read + WASM SIMD classify (copy into wasm memory)', () => eachChunk((n) => (wasmMem.set(buf.subarray(0, n), 0), wasm.classify(0, n))));
const scalar = stage('read + WASM scalar classify (same bytes)', () => eachChunk((n) => (wasmMem.set(buf.subarray(0, n), 0), wasm.classifyScalar(0, n))));
if (rows[1].result !== rows[2].result) throw new Error(`SIMD and scalar counts differ: ${rows[1].result} vs ${rows[2].result}`);
const split = stage('read + split lines (indexOf)', () => eachLine(() => 1));
const scan = stage('read + split + scanner (tape)', () => eachLine((s, e) => (tape.scanDocument(buf, s, e) ? 1 : 0)));
const rawHash = stage('read + split + raw-bytes hash', () => eachLine((s, e) => hashBytes(buf, s, e) & 1));
const scanNorm = stage('read + split + scanner + normalised-text hash', () =>
  eachLine((s, e) => {
    tape.scanDocument(buf, s, e);
    hasher.begin();
    for (let t = 0; t < tape.count; t++) if (tape.type[t] === T_STRING) hasher.add(tape.norm, tape.normStart[t], tape.normEnd[t]);
    hasher.finish();
    return hasher.h1 & 1;
  }),
);
const wasmScan = stage('read + split + WebAssembly scan (tape, normalised text)', () => eachLine((s, e) => (ws.scan(s, e) ? 1 : 0), true));
const wasmScanHash = stage('read + split + WebAssembly scan + both hashes', () =>
  eachLine((s, e) => {
    if (!ws.scan(s, e)) return 0;
    const t = ws.tape;
    let last = t.count - 1;
    while (last > 0 && t.type[last] !== T_STRING) last--;
    ws.hashNorm(t.normStart[1], t.normEnd[last], wsHash);
    return (wsHash.h1 ^ ws.hashRaw(s, e)) & 1;
  }, true),
);
// the module's batch on each chunk as JsonlValidator calls it, the lines it leaves skipped: every
// byte the one pass reads goes through WebAssembly, no JavaScript runs per record
const wasmBatch = stage('read + WebAssembly batch (lines, scan, chat checks, hashes)', () =>
  eachWholeLines((n) => {
    const at = ws!.load(buf.subarray(0, n)).byteOffset;
    let count = 0;
    let from = 0;
    for (;;) {
      const records = ws!.batch(at + from, at + n, CHUNK, 4096);
      count += records;
      from = ws!.batchEnd - at;
      if (records === BATCH_RECORDS) continue;
      const nl = buf.indexOf(10, from);
      if (nl < 0 || nl >= n) break;
      from = nl + 1; // the line the batch left
    }
    return { count, end: from };
  }),
);
function pipelineStage(useWasm: boolean): number {
  const collector = new FindingCollector(file, 1000);
  const pipeline = new RecordPipeline(collector, 4096);
  const jsonl = new JsonlValidator(collector, pipeline);
  if (!useWasm) jsonl.wasm = null;
  eachChunk((n) => (jsonl.push(buf.subarray(0, n), true), 0));
  jsonl.end();
  pipeline.finish();
  return pipeline.records;
}
const wholeTs = stage('read + whole pipeline, TypeScript scanner only', () => pipelineStage(false));
const whole = stage('read + whole pipeline (what --workers 1 does)', () => pipelineStage(true));

const script = join(tmpdir(), `preflight-pyloop-${process.pid}.py`);
writeFileSync(
  script,
  'import json, sys\nn = 0\nwith open(sys.argv[1], encoding="utf-8") as f:\n    for line in f:\n        if line.strip():\n            json.loads(line)\n            n += 1\nprint(n)\n',
);
const py = spawnSync('/usr/bin/time', ['-f', '%U %S', process.env.PYTHON ?? '/usr/bin/python3', script, file], { encoding: 'utf8' });
const [pu, ps] = py.stderr.trim().split('\n').pop()!.split(' ').map(Number);
const python = pu + ps;
console.log(
  `${'python json.loads loop (whole process)'.padEnd(52)} ${python.toFixed(2).padStart(6)} CPU-s ${(mb / python).toFixed(0).padStart(6)} MB/CPU-s  (${py.stdout.trim()})`,
);

const budget = python / 2;
const perRecordTs = wholeTs - scanNorm - (rawHash - split);
const perRecord = whole - wasmScanHash;
const perRecordJs = whole - wasmBatch;
console.log('');
console.log(`budget for 2x Python per CPU-second: ${budget.toFixed(2)} CPU-s for this file (${(mb / budget).toFixed(0)} MB/CPU-s)`);
console.log(`one pass with the TypeScript scanner only: ${wholeTs.toFixed(2)} CPU-s = ${(python / wholeTs).toFixed(2)}x Python per CPU-second`);
console.log(
  `  of which reading ${read.toFixed(2)}, splitting lines ${(split - read).toFixed(2)}, scanning + normalising + hashing text ${(scanNorm - split).toFixed(2)} (the scan alone ${(scan - split).toFixed(2)}), raw-bytes hash ${(rawHash - split).toFixed(2)}, the rest (schema, turns, tokens, lengths, duplicate set) ${perRecordTs.toFixed(2)}`,
);
console.log(`one pass with the WebAssembly scan: ${whole.toFixed(2)} CPU-s = ${(python / whole).toFixed(2)}x Python per CPU-second`);
console.log(
  `  of which reading and splitting ${split.toFixed(2)}, copying into WebAssembly memory + scanning + normalising ${(wasmScan - split).toFixed(2)}, both hashes ${(wasmScanHash - wasmScan).toFixed(2)}, the rest (schema, turns, tokens, lengths, duplicate set) ${perRecord.toFixed(2)}`,
);
console.log(
  `  the WebAssembly batch alone (lines, scan, chat checks, hashes: what never leaves the module) ${(wasmBatch - read).toFixed(2)} beyond reading; JavaScript per batch and record (duplicate set, length statistics, the lines the module leaves, end-of-file checks) ${perRecordJs.toFixed(2)}`,
);
console.log(
  `WASM SIMD classify pass: ${(simd - read).toFixed(2)} CPU-s beyond reading (${(mb / Math.max(simd - read, 1e-9)).toFixed(0)} MB/CPU-s); scalar WASM ${(scalar - read).toFixed(2)} (${((scalar - read) / Math.max(simd - read, 1e-9)).toFixed(1)}x the SIMD time)`,
);
console.log(
  `left for the per-record rest within the budget, with the WebAssembly scan and hashes as they are: ${(budget - wasmScanHash).toFixed(2)} CPU-s (today ${perRecord.toFixed(2)})`,
);
