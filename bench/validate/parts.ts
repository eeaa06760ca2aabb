// CPU time of each stage of JSONL validation on one file, in one process (for profiling work):
//   npx esbuild bench/validate/parts.ts --bundle --platform=node --outfile=/tmp/parts.js && node /tmp/parts.js FILE
// Prints CPU seconds (user+system) and MB per CPU-second per stage; each stage runs twice (warm).
import { readFileSync } from 'node:fs';
import { FindingCollector } from '../../src/core/data/findings';
import { DuplicateIndex, NormalizedHasher, hashBytes } from '../../src/core/data/hash';
import { JsonTape, T_STRING } from '../../src/core/data/jsonScan';
import { JsonlValidator } from '../../src/core/data/jsonl';
import { RecordPipeline } from '../../src/core/data/pipeline';

const data = readFileSync(process.argv[2]);
const mb = data.length / 1048576;

function stage(label: string, fn: () => number): void {
  const t = process.cpuUsage();
  const r = fn();
  const u = process.cpuUsage(t);
  const s = (u.user + u.system) / 1e6;
  console.log(`${label.padEnd(34)} ${s.toFixed(3)} CPU-s  ${(mb / s).toFixed(0).padStart(6)} MB/CPU-s  (${r})`);
}

function eachLine(fn: (s: number, e: number) => number): number {
  let n = 0;
  let from = 0;
  for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, from)) {
    n += fn(from, nl);
    from = nl + 1;
  }
  return n;
}

const tape = new JsonTape();
const hasher = new NormalizedHasher();
for (let rep = 0; rep < 2; rep++) {
  stage('split lines (indexOf)', () => eachLine(() => 1));
  stage('toString + JSON.parse', () => eachLine((s, e) => (JSON.parse(data.toString('utf8', s, e)) ? 1 : 0)));
  stage('scanner (tape)', () => eachLine((s, e) => (tape.scanDocument(data, s, e) ? 1 : 0)));
  stage('raw-bytes hash', () => eachLine((s, e) => hashBytes(data, s, e) & 1));
  stage('scan + normalised hash of strings', () =>
    eachLine((s, e) => {
      tape.scanDocument(data, s, e);
      hasher.begin();
      for (let t = 0; t < tape.count; t++) {
        if (tape.type[t] === T_STRING) hasher.add(tape.norm, tape.normStart[t], tape.normEnd[t]);
      }
      hasher.finish();
      return hasher.h1 & 1;
    }),
  );
  stage('duplicate index (random keys)', () => {
    const index = new DuplicateIndex();
    let n = 0;
    eachLine((s, e) => {
      n += index.check(s * 2654435761, e * 40503, s, 1);
      return 0;
    });
    return n;
  });
  stage('whole pipeline (JsonlValidator)', () => {
    const collector = new FindingCollector('x.jsonl', 1000);
    const pipeline = new RecordPipeline(collector, 4096);
    const jsonl = new JsonlValidator(collector, pipeline);
    for (let i = 0; i < data.length; i += 1 << 20) jsonl.push(data.subarray(i, i + (1 << 20)));
    jsonl.end();
    pipeline.finish();
    return collector.finish().length;
  });
}
