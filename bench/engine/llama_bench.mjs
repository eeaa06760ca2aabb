// The llama.cpp side of the engine benchmark (run through run.mjs): node-llama-cpp (its prebuilt
// CPU binaries from npm, no network) on the GGUF export of the same weights (gguf.ts), the same
// token rows, the same thread count. Two of engine.ts's measurements: batched prefill (8 sequences
// of 128 tokens evaluated in one batch) and batch-1 greedy generation after a 16-token prompt.
// Not batched generation: with node-llama-cpp 3.21.1 here, generating on a sequence of a context
// that holds several sequences never returned (minutes, CPU busy), while a one-sequence context
// generates normally, so generation runs in its own one-sequence context. Prints one JSON line.
//
//   node bench/engine/llama_bench.mjs --gguf FILE --rows FILE [--threads 2] [--batch 8] [--seq 128] [--gen 128] [--reps 5]
import { readFileSync } from 'node:fs';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = Number(opt('threads', '2'));
const batch = Number(opt('batch', '8'));
const seq = Number(opt('seq', '128'));
const promptLen = Number(opt('prompt', '16'));
const genTokens = Number(opt('gen', '128'));
const reps = Number(opt('reps', '5'));
const rows = JSON.parse(readFileSync(opt('rows'), 'utf8'));
if (rows.length !== batch || rows[0].length !== seq) throw new Error('rows file does not match --batch/--seq');

/** best wall and best CPU seconds (all threads of this process: llama.cpp runs in it) over `n` runs */
async function timed(n, before, work) {
  let wall = Infinity,
    cpu = Infinity;
  for (let i = 0; i < n; i++) {
    await before();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await work();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, maxThreads: threads });
const model = await llama.loadModel({ modelPath: opt('gguf'), gpuLayers: 0 });
const context = await model.createContext({ sequences: batch, contextSize: seq + 16, batchSize: batch * seq, threads });
const sequences = Array.from({ length: batch }, () => context.getSequence());
const clear = () => Promise.all(sequences.map((s) => s.clearHistory()));

// greedy generation of `count` tokens on one sequence, end-of-generation tokens included (as ignoreEos)
async function generate(sequence, prompt, count) {
  const out = [];
  for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= count) break;
  }
  return out;
}

// warm-up, then the measurements
await sequences[0].evaluateWithoutGeneratingNewTokens(rows[0].slice(0, 32));
await clear();
const phase = (m) => process.stderr.write(`llama.cpp: ${m}\n`);
phase('prefill');
const prefill = await timed(reps, clear, () => Promise.all(sequences.map((s, i) => s.evaluateWithoutGeneratingNewTokens(rows[i]))));
await context.dispose();
const genContext = await model.createContext({ sequences: 1, contextSize: promptLen + genTokens + 16, batchSize: Math.max(promptLen, 32), threads });
const genSequence = genContext.getSequence();
const prompt = rows[0].slice(0, promptLen);
let ids = [];
phase('generation');
const gen = await timed(
  Math.max(2, Math.ceil(reps / 2)),
  () => genSequence.clearHistory(),
  async () => {
    ids = await generate(genSequence, prompt, genTokens);
  },
);
await genContext.dispose();
await model.dispose();

process.stdout.write(
  `${JSON.stringify({
    engine: 'llama.cpp (node-llama-cpp)',
    threads,
    prefill: { batch, seq, seconds: prefill.wall, tokensPerSecond: (batch * seq) / prefill.wall, tokensPerCpuSecond: (batch * seq) / prefill.cpu },
    generate: {
      prompt: promptLen,
      tokens: genTokens,
      seconds: gen.wall,
      tokensPerSecond: genTokens / gen.wall,
      tokensPerCpuSecond: genTokens / gen.cpu,
      ids: ids.slice(0, 16),
    },
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
