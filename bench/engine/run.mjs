// Engine benchmark: ONNX Runtime (this project, fp32 and int8 builds) vs PyTorch eager vs llama.cpp
// (node-llama-cpp, on a GGUF export of the same weights: F32 and Q8_0) on the same ~30M-parameter
// Llama-style weights, same batch, same threads, in one run. Prints prefill (with hidden-state
// extraction for this engine) and KV-cache generation tokens per wall second and per CPU second
// (the machine is shared: CPU seconds are what the work cost), peak RSS, the machine's fp32 matmul
// GFLOP/s and the utilisation it implies.
//
//   node bench/engine/run.mjs [--threads 2] [--batch 8] [--seq 128] [--gen 128] [--reps 5] [--rounds 2] [--torch-omp-active]
//                             [--engines ort,ort-int8,torch,llama,llama-q8]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = opt('threads', '2');
const batch = Number(opt('batch', '8'));
const seq = Number(opt('seq', '128'));
const gen = opt('gen', '128');
const reps = opt('reps', '5');
const rounds = Number(opt('rounds', '2'));
const dir = 'bench/engine/data';
const python = process.env.PREFLIGHT_TORCH_PYTHON ?? '/usr/bin/python3';
mkdirSync(dir, { recursive: true });

// the same token rows for both engines
const rowsFile = join(dir, `rows-${batch}x${seq}.json`);
if (!existsSync(rowsFile)) {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % 8192;
  writeFileSync(rowsFile, JSON.stringify(Array.from({ length: batch }, () => Array.from({ length: seq }, next))));
}
const common = ['--threads', threads, '--batch', String(batch), '--seq', String(seq), '--gen', gen, '--reps', reps, '--rows', rowsFile];

// ONNX Runtime runs with its pool threads not spinning (the engine's default); torch gets the same
// courtesy through OpenMP's passive wait policy, so that neither burns the shared cores while
// waiting. --torch-omp-active leaves torch at OpenMP's default (spinning) instead.
const ompActive = argv.includes('--torch-omp-active');
function run(cmd, args) {
  const omp = ompActive ? {} : { OMP_WAIT_POLICY: 'PASSIVE' };
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, OMP_NUM_THREADS: threads, ...omp } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// alternate the engines so all see the same machine load; keep each engine's best round (per
// measurement: best wall time and best CPU time are kept apart)
const best = {};
const keep = (key, r) => {
  const prev = best[key];
  if (!prev) return (best[key] = r);
  for (const m of ['prefill', 'generate', 'generateBatch']) {
    if (!r[m]) continue;
    const cpu = Math.max(prev[m].tokensPerCpuSecond ?? 0, r[m].tokensPerCpuSecond ?? 0);
    if (r[m].tokensPerSecond > prev[m].tokensPerSecond) prev[m] = r[m];
    prev[m].tokensPerCpuSecond = cpu || undefined;
  }
  prev.matmulGflops = Math.max(prev.matmulGflops ?? 0, r.matmulGflops ?? 0);
  prev.peakRssMiB = Math.max(prev.peakRssMiB, r.peakRssMiB);
};
const engines = opt('engines', 'ort,ort-int8,torch,llama,llama-q8').split(',');
// llama.cpp is installed apart (700 MB of prebuilt binaries the product does not need)
if (engines.some((e) => e.startsWith('llama')) && !existsSync('bench/engine/node_modules/node-llama-cpp')) {
  console.error('bench/engine: llama.cpp is not installed; run `npm ci --prefix bench/engine` first, or pass --engines ort,ort-int8,torch');
  process.exit(2);
}
const ckpt = join(dir, 'llama30m');
// the GGUF exports of the benchmark checkpoint (bench-only writer, gguf.ts), made once
function gguf(type) {
  const file = join(dir, `llama30m-${type}.gguf`);
  if (!existsSync(file)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/engine/gguf.ts', ckpt, file, type], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gguf.ts failed:\n${r.stderr}`);
  }
  return file;
}
const engineRuns = {
  ort: () => run(process.execPath, ['--import', 'tsx', 'bench/engine/engine.ts', '--dir', dir, ...common]),
  'ort-int8': () => run(process.execPath, ['--import', 'tsx', 'bench/engine/engine.ts', '--dir', dir, '--dtype', 'int8', ...common]),
  torch: () => run(python, ['bench/engine/torch_bench.py', '--ckpt', ckpt, ...common]),
  llama: () => run(process.execPath, ['bench/engine/llama_bench.mjs', '--gguf', gguf('f32'), ...common]),
  'llama-q8': () => run(process.execPath, ['bench/engine/llama_bench.mjs', '--gguf', gguf('q8_0'), ...common]),
};
const load = [loadavg()[0]];
for (let round = 0; round < rounds; round++) {
  for (const e of engines) keep(e, engineRuns[e]());
  load.push(loadavg()[0]);
}
const { ort, torch } = best;

// model FLOPs per token: 2 x matmul parameters (all but the embedding table; the LM head counts once,
// as prefill computes logits at one position per row and generation at one per step) + attention
// (QK^T and PV: 4 x layers x context x hidden, context = seq/2 on average under the causal mask)
const m = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
const E = m.hidden_size,
  L = m.num_hidden_layers,
  I = m.intermediate_size,
  V = m.vocab_size;
const D = E / m.num_attention_heads,
  K = m.num_key_value_heads;
const layerParams = E * E * 2 + 2 * E * K * D + 3 * E * I;
const prefillFlopsPerToken = 2 * L * layerParams + 4 * L * (seq / 2) * E + (2 * E * V) / seq;
const genCtx = Number(opt('prompt', '16')) + Number(gen) / 2;
const genFlopsPerToken = 2 * L * layerParams + 4 * L * genCtx * E + 2 * E * V;
const rate = Math.max(ort?.matmulGflops ?? 0, torch?.matmulGflops ?? 0) * 1e9;
const util = (flops, tps) => (100 * flops * tps) / rate;

const f = (x, d = 1) => (x === undefined ? 'n/a' : x.toFixed(d));
const lines = [`machine: ${process.arch}, load average during the run ${load.map((x) => f(x, 2)).join(' -> ')} (shared machine: figures are best-of)`];
if (ort && torch) {
  const maxDiff = Math.max(...ort.prefill.hiddenLastTail.map((v, i) => Math.abs(v - torch.prefill.hiddenLastTail[i])));
  const sameIds = JSON.stringify(ort.generate.ids) === JSON.stringify(torch.generate.ids);
  lines.push(
    `engine benchmark: ${(ort.parameters / 1e6).toFixed(1)}M-parameter Llama-style model (L=${L}, E=${E}, H=${m.num_attention_heads}, KV=${K}, I=${I}, V=${V}), fp32, ${threads} threads, CPU`,
    `torch BLAS: ${torch.blas.join(' | ').slice(0, 300)}; OpenMP wait policy ${ompActive ? 'default (active)' : 'PASSIVE'}; ONNX Runtime pool threads not spinning`,
    `fp32 matmul 1024^3: ORT/MLAS ${f(ort.matmulGflops)} GFLOP/s, torch ${f(torch.matmulGflops)} GFLOP/s -> reference rate ${f(rate / 1e9)} GFLOP/s`,
    '',
    `prefill ${batch}x${seq} + hidden_last   ORT ${f(ort.prefill.tokensPerSecond, 0)} tok/s   torch eager ${f(torch.prefill.tokensPerSecond, 0)} tok/s   speed-up ${f(ort.prefill.tokensPerSecond / torch.prefill.tokensPerSecond, 2)}x   utilisation ORT ${f(util(prefillFlopsPerToken, ort.prefill.tokensPerSecond))}% torch ${f(util(prefillFlopsPerToken, torch.prefill.tokensPerSecond))}%  (${f(prefillFlopsPerToken / 1e6)} MFLOP/token)`,
    `generation (prompt ${opt('prompt', '16')}, ${gen} new, batch 1)   ORT ${f(ort.generate.tokensPerSecond)} tok/s   torch eager ${f(torch.generate.tokensPerSecond)} tok/s   speed-up ${f(ort.generate.tokensPerSecond / torch.generate.tokensPerSecond, 2)}x   utilisation ORT ${f(util(genFlopsPerToken, ort.generate.tokensPerSecond))}%`,
    `batched generation (${batch} prompts of ${opt('prompt', '16')} tokens, 32 new each)   ORT ${f(ort.generateBatch.tokensPerSecond)} tok/s   torch eager ${f(torch.generateBatch.tokensPerSecond)} tok/s   speed-up ${f(ort.generateBatch.tokensPerSecond / torch.generateBatch.tokensPerSecond, 2)}x`,
    `peak RSS   ORT ${f(ort.peakRssMiB, 0)} MiB   torch ${f(torch.peakRssMiB, 0)} MiB`,
    `agreement: hidden_last max |diff| ${maxDiff.toExponential(2)}; greedy tokens ${sameIds ? 'identical' : 'differ'} (first 16)`,
  );
}

// every engine side by side: tokens per wall second (best round) and per CPU second (all threads)
const names = { ort: 'Preflight fp32', 'ort-int8': 'Preflight int8', torch: 'torch eager fp32', llama: 'llama.cpp F32', 'llama-q8': 'llama.cpp Q8_0' };
const cell = (r, k) => (r?.[k] ? `${f(r[k].tokensPerSecond, 0).padStart(6)} (${f(r[k].tokensPerCpuSecond, 0).padStart(5)}/CPU-s)` : '   n/a'.padEnd(20));
lines.push(
  '',
  `engine (${threads} threads)      prefill ${batch}x${seq} tok/s (tok per CPU-s)   generation batch 1 tok/s (per CPU-s)   batched generation tok/s (per CPU-s)   peak RSS`,
);
for (const e of engines)
  lines.push(
    `${names[e].padEnd(22)}  ${cell(best[e], 'prefill').padEnd(36)}  ${cell(best[e], 'generate').padEnd(37)}  ${cell(best[e], 'generateBatch').padEnd(37)}  ${f(best[e].peakRssMiB, 0)} MiB`,
  );
const ratio = (a, b, k, per) => (best[a]?.[k] && best[b]?.[k] ? f(best[a][k][per] / best[b][k][per], 2) : 'n/a');
const ratios = (a, b) =>
  `prefill ${ratio(a, b, 'prefill', 'tokensPerSecond')}x wall, ${ratio(a, b, 'prefill', 'tokensPerCpuSecond')}x CPU; generation ${ratio(a, b, 'generate', 'tokensPerSecond')}x wall, ${ratio(a, b, 'generate', 'tokensPerCpuSecond')}x CPU`;
lines.push('', `Preflight int8 / Preflight fp32:   ${ratios('ort-int8', 'ort')}`);
lines.push(`Preflight fp32 / llama.cpp F32:    ${ratios('ort', 'llama')}`);
lines.push(`Preflight int8 / llama.cpp Q8_0:   ${ratios('ort-int8', 'llama-q8')}`);
const ids = (e) => JSON.stringify(best[e]?.generate?.ids);
if (best.ort && best.llama)
  lines.push(
    `greedy tokens (first 16): Preflight fp32 vs llama.cpp F32 ${ids('ort') === ids('llama') ? 'identical' : 'differ'}; Preflight int8 vs llama.cpp Q8_0 ${ids('ort-int8') === ids('llama-q8') ? 'identical' : 'differ'}`,
  );
console.log(lines.join('\n'));
if (argv.includes('--json'))
  console.log(JSON.stringify({ ...best, torch: torch && { ...torch, config: undefined }, prefillFlopsPerToken, genFlopsPerToken, rate }));
