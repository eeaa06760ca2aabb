// The ONNX Runtime side of the engine benchmark (run through run.mjs): builds the ~30M-parameter
// Llama-style checkpoint (--dtype fp32, or int8: the int8 weight format), times batched prefill with
// hidden-state extraction and KV-cache generation, and measures the machine's fp32 MatMul rate
// through ONNX Runtime (MLAS). Times are best-of wall seconds and best-of CPU seconds (all threads).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../../src/core/model/build';
import { openModel } from '../../src/core/model/runtime';
import { GraphBuilder } from '../../src/core/model/onnx/graph';
import { seededNormal, writeTinyCheckpoint } from '../../test/helpers/tinyCheckpoint';

export const BENCH_MODEL = {
  family: 'llama' as const,
  numLayers: 8,
  hiddenSize: 512,
  numHeads: 8,
  numKvHeads: 4,
  intermediateSize: 1536,
  vocabSize: 8192,
  weightScale: 0.1,
  seed: 42,
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

// best of the repetitions: the machine is shared, and the minimum is the least disturbed run
function best(xs: number[]): number {
  return Math.min(...xs);
}

/** runs `work` and records its wall and CPU seconds (user + system, every thread of this process) */
async function measure<T>(wall: number[], cpu: number[], work: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  const out = await work();
  wall.push((performance.now() - t) / 1000);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
  return out;
}

async function matmulRate(dir: string, n: number, threads: number): Promise<number> {
  const path = join(dir, `matmul${n}.onnx`);
  if (!existsSync(path)) {
    const { g, close } = await GraphBuilder.create(join(dir, `matmul${n}.onnx.data`), `matmul${n}.onnx.data`, 'fp32');
    const z = seededNormal(1);
    const w = await g.weight(
      'w',
      Float32Array.from({ length: n * n }, () => z()),
      [n, n],
    );
    const x = g.input('x', 'float', [n, n]);
    g.output('y', g.op('MatMul', [x, w]), 'float', [n, n]);
    await close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, g.encode('matmul', 'bench'));
  }
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] });
  const x = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  await session.run({ x });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await session.run({ x });
    times.push((performance.now() - t) / 1000);
  }
  await session.release();
  return (2 * n ** 3) / Math.min(...times) / 1e9;
}

async function main(): Promise<void> {
  const dir = arg('dir', 'bench/engine/data');
  const threads = Number(arg('threads', '2'));
  const batch = Number(arg('batch', '8'));
  const seq = Number(arg('seq', '128'));
  const promptLen = Number(arg('prompt', '16'));
  const genTokens = Number(arg('gen', '128'));
  const reps = Number(arg('reps', '5'));
  const dtype = arg('dtype', 'fp32');
  if (dtype !== 'fp32' && dtype !== 'int8') throw new Error('--dtype must be fp32 or int8');
  mkdirSync(dir, { recursive: true });
  const ckpt = join(dir, 'llama30m');
  if (!existsSync(join(ckpt, 'config.json'))) await writeTinyCheckpoint(ckpt, BENCH_MODEL);
  const out = join(dir, dtype === 'fp32' ? 'llama30m_onnx' : `llama30m_onnx_${dtype}`);
  const built = await buildModel(ckpt, out, { dtype });

  const gemm = await matmulRate(dir, 1024, threads);
  const model = await openModel(out, { provider: 'cpu', threads });
  const rows = JSON.parse(readFileSync(arg('rows', join(dir, 'rows.json')), 'utf8')) as number[][];
  if (rows.length !== batch || rows[0].length !== seq) throw new Error('rows.json does not match --batch/--seq');
  await model.forward(rows.slice(0, 2));
  const [prefill, prefillCpu]: number[][] = [[], []];
  let hiddenLast: number[] = [];
  for (let i = 0; i < reps; i++) {
    const out = await measure(prefill, prefillCpu, () => model.forward(rows));
    hiddenLast = Array.from(out.hiddenLast[0].subarray(out.hiddenLast[0].length - 8));
  }
  const prompt = rows[0].slice(0, promptLen);
  await model.generate([prompt], { maxTokens: 8, ignoreEos: true });
  const [gen, genCpu]: number[][] = [[], []];
  let firstIds: number[] = [];
  for (let i = 0; i < Math.max(2, Math.ceil(reps / 2)); i++) {
    [firstIds] = await measure(gen, genCpu, () => model.generate([prompt], { maxTokens: genTokens, ignoreEos: true }));
  }
  // batched generation, as MDF samples answers: every row's first `prompt` tokens, 32 new tokens each
  const prompts = rows.map((r) => r.slice(0, promptLen));
  const [batchGen, batchGenCpu]: number[][] = [[], []];
  for (let i = 0; i < 2; i++) await measure(batchGen, batchGenCpu, () => model.generate(prompts, { maxTokens: 32, ignoreEos: true }));
  await model.dispose();
  const result = {
    engine: 'onnxruntime-node',
    dtype,
    ortVersion: ort.env.versions?.common,
    threads,
    parameters: built.manifest.parameters,
    prefill: {
      batch,
      seq,
      seconds: best(prefill),
      tokensPerSecond: (batch * seq) / best(prefill),
      tokensPerCpuSecond: (batch * seq) / best(prefillCpu),
      hiddenLastTail: hiddenLast,
    },
    generate: {
      prompt: promptLen,
      tokens: genTokens,
      seconds: best(gen),
      tokensPerSecond: genTokens / best(gen),
      tokensPerCpuSecond: genTokens / best(genCpu),
      ids: firstIds.slice(0, 16),
    },
    generateBatch: {
      batch: prompts.length,
      tokens: 32,
      seconds: best(batchGen),
      tokensPerSecond: (prompts.length * 32) / best(batchGen),
      tokensPerCpuSecond: (prompts.length * 32) / best(batchGenCpu),
    },
    matmulGflops: gemm,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
