// The int8 build against the fp32 build of the same checkpoint (default: the bundled preflight-tiny):
// hidden states and logits on the records of the benchmark's example sets (examples/mdf/*.jsonl),
// then the whole behaviour forecast (MDF, default settings, seed 0) of each set with each build,
// and prefill / generation speed in tokens per CPU-second and per wall second (the machine is shared).
//
//   node --import tsx bench/engine/int8.ts [--model models/preflight-tiny] [--threads 1] [--records 64] [--no-forecast] [--out FILE]
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../src/core/model/build';
import { openModel } from '../../src/core/model/runtime';
import type { InferenceModel } from '../../src/core/model/api';
import { renderRecord, tokenizeRecord } from '../../src/core/mdf/records';
import { forecast } from '../../src/core/mdf/forecast';
import { modelFingerprint } from '../../src/core/mdf/signature';
import { loadProbeSuites } from '../../src/core/mdf/probes';
import type { MdfReport } from '../../src/core/mdf/report';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const src = arg('model', 'models/preflight-tiny');
const threads = Number(arg('threads', '1'));
const maxRecords = Number(arg('records', '64'));
const dataDir = 'bench/engine/data';
const sets = readdirSync('examples/mdf')
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) => join('examples/mdf', f));

function records(file: string, model: InferenceModel): number[][] {
  const rows: number[][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || rows.length >= maxRecords) continue;
    const rendered = renderRecord(JSON.parse(line), model.tokenizer);
    if (rendered) rows.push(tokenizeRecord(rendered, model.tokenizer, 256));
  }
  return rows;
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - lse);
}

/** hidden_last and last logits of both builds on the same rows. */
async function compareStates(a: InferenceModel, b: InferenceModel, rows: number[][]) {
  const [fa, fb] = [await a.forward(rows), await b.forward(rows)];
  const { numLayers: L, hiddenSize: E } = a.info;
  const layerRel = Array(L).fill(0); // max over rows of ||dh|| / ||h|| per layer
  let logitMaxAbs = 0,
    logitScale = 0,
    kl = 0,
    klMax = 0,
    top1 = 0;
  rows.forEach((_, i) => {
    for (let l = 0; l < L; l++) {
      let d = 0,
        n = 0;
      for (let e = 0; e < E; e++) {
        const x = fa.hiddenLast[i][l * E + e],
          y = fb.hiddenLast[i][l * E + e];
        d += (x - y) ** 2;
        n += x * x;
      }
      layerRel[l] = Math.max(layerRel[l], Math.sqrt(d / n));
    }
    const [la, lb] = [fa.lastLogits[i], fb.lastLogits[i]];
    let argA = 0,
      argB = 0;
    for (let v = 0; v < la.length; v++) {
      logitMaxAbs = Math.max(logitMaxAbs, Math.abs(la[v] - lb[v]));
      logitScale = Math.max(logitScale, Math.abs(la[v]));
      if (la[v] > la[argA]) argA = v;
      if (lb[v] > lb[argB]) argB = v;
    }
    const [pa, pb] = [logSoftmax(la), logSoftmax(lb)];
    let k = 0;
    for (let v = 0; v < pa.length; v++) k += Math.exp(pa[v]) * (pa[v] - pb[v]);
    kl += k / rows.length;
    klMax = Math.max(klMax, k);
    if (argA === argB) top1++;
  });
  return {
    rows: rows.length,
    hiddenRelErrByLayer: layerRel,
    logitMaxAbsDiff: logitMaxAbs,
    logitMaxAbs: logitScale,
    klMean: kl,
    klMax,
    top1Agreement: top1 / rows.length,
  };
}

/** tokens per wall second and per CPU second (all threads of this process) */
async function timed(work: () => Promise<unknown>, tokens: number, reps: number) {
  let bestWall = Infinity,
    bestCpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await work();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    bestWall = Math.min(bestWall, wall);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  return { tokensPerSecond: tokens / bestWall, tokensPerCpuSecond: tokens / bestCpu };
}

async function speed(model: InferenceModel, rows: number[][]) {
  const batch = rows.slice(0, 8);
  const prefillTokens = batch.reduce((a, r) => a + r.length, 0);
  await model.forward(batch.slice(0, 1));
  const prefill = await timed(() => model.forward(batch), prefillTokens, 5);
  const prompt = batch[0].slice(0, 16);
  const generate = await timed(() => model.generate([prompt], { maxTokens: 64, ignoreEos: true }), 64, 3);
  return { prefillTokens, prefill, generate };
}

function compareReports(a: MdfReport, b: MdfReport) {
  const byKey = new Map(b.behaviours.map((x) => [x.key, x]));
  let maxShiftDiff = 0,
    riskChanged = 0;
  const changed: string[] = [];
  for (const x of a.behaviours) {
    const y = byKey.get(x.key)!;
    maxShiftDiff = Math.max(maxShiftDiff, Math.abs(x.shift.value - y.shift.value));
    if (x.risk !== y.risk) {
      riskChanged++;
      changed.push(`${x.key} ${x.risk}->${y.risk}`);
    }
  }
  return {
    alpha: [a.alpha.chosen, b.alpha.chosen],
    flagged: [a.summary.flagged, b.summary.flagged],
    maxRisk: [a.summary.maxRisk, b.summary.maxRisk],
    behaviours: a.behaviours.length,
    riskChanged,
    changed,
    maxShiftDiff,
    signatureLayerNorms: [a.signature.layerNorms, b.signature.layerNorms],
  };
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const weightsHash = createHash('sha256')
    .update(readFileSync(join(src, 'model.safetensors')))
    .digest('hex')
    .slice(0, 16);
  const dirs = { fp32: join(dataDir, 'int8-cmp-fp32'), int8: join(dataDir, 'int8-cmp-int8') };
  const built = { fp32: await buildModel(src, dirs.fp32, { dtype: 'fp32' }), int8: await buildModel(src, dirs.int8, { dtype: 'int8' }) };
  const a = await openModel(dirs.fp32, { provider: 'cpu', threads });
  const b = await openModel(dirs.int8, { provider: 'cpu', threads });
  const result: Record<string, unknown> = {
    model: src,
    weightsSha256: weightsHash,
    threads,
    bytes: { fp32: built.fp32.manifest.bytes, int8: built.int8.manifest.bytes },
    sets: {} as Record<string, unknown>,
  };
  const allRows: number[][] = [];
  for (const file of sets) {
    const rows = records(file, a);
    allRows.push(...rows);
    const states = await compareStates(a, b, rows);
    const entry: Record<string, unknown> = { states };
    if (!process.argv.includes('--no-forecast')) {
      const suites = loadProbeSuites([], { workspaceDir: process.cwd() });
      const reports: MdfReport[] = [];
      for (const [model, dir] of [
        [a, dirs.fp32],
        [b, dirs.int8],
      ] as const) {
        const c0 = process.cpuUsage();
        reports.push(await forecast(model, file, { suites, modelPath: dir, modelHash: modelFingerprint(dir), seed: 0 }));
        const c = process.cpuUsage(c0);
        process.stderr.write(`${file} ${model === a ? 'fp32' : 'int8'} forecast: ${((c.user + c.system) / 1e6).toFixed(1)} CPU s\n`);
      }
      entry.forecast = compareReports(reports[0], reports[1]);
    }
    (result.sets as Record<string, unknown>)[file] = entry;
    process.stderr.write(`${file}: ${JSON.stringify(entry)}\n`);
  }
  result.speed = { fp32: await speed(a, allRows), int8: await speed(b, allRows) };
  await a.dispose();
  await b.dispose();
  const text = JSON.stringify(result, null, 2);
  if (process.argv.includes('--out')) writeFileSync(arg('out', ''), text);
  console.log(text);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
