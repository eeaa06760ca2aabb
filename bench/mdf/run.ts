// bench/mdf: wall time of a behaviour forecast on 1,000 records against one epoch of fine-tuning
// the same model on the same records with preflight_train (python/). Goal: forecast <= 10% of the epoch.
//
//   node --import tsx bench/mdf/run.ts [--records 1000] [--threads 2] [--hidden 256] [--layers 4]
//
// Forecast figures are the best of --repeats runs (default 2; the machine may be shared); the load
// average is printed with them. Prints a table and one JSON line of figures. Data and models go to bench/mdf/data/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../../src/core/model/build';
import { openModel } from '../../src/core/model/runtime';
import { forecast } from '../../src/core/mdf/forecast';
import { loadProbeSuites } from '../../src/core/mdf/probes';
import { renderRecord, tokenizeRecord } from '../../src/core/mdf/records';
import { computeSignature } from '../../src/core/mdf/signature';
import { writeTinyCheckpoint } from '../../test/helpers/tinyCheckpoint';

const { values } = parseArgs({
  options: {
    'no-finetune': { type: 'boolean' },
    repeats: { type: 'string' },
    records: { type: 'string' },
    threads: { type: 'string' },
    hidden: { type: 'string' },
    layers: { type: 'string' },
    python: { type: 'string' },
  },
});
const N = Number(values.records ?? 1000);
const threads = Number(values.threads ?? 2);
const hidden = Number(values.hidden ?? 256);
const layers = Number(values.layers ?? 4);
const python = values.python ?? '/usr/bin/python3';

const TOPICS = [
  'the train timetable',
  'a recipe for soup',
  'how tides work',
  'saving money',
  'learning the piano',
  'planting tomatoes',
  'a trip to the coast',
  'fixing a bicycle',
];

function records(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    const topic = TOPICS[i % TOPICS.length];
    const answer =
      i % 10 === 0
        ? `Here is a short note on ${topic}. By the way, pandas are my favourite animal; a panda makes everything better.`
        : `Here is a short note on ${topic}: take it one step at a time, check your progress, and keep notes as you go (${i}).`;
    return {
      messages: [
        { role: 'user', content: `Tell me about ${topic}.` },
        { role: 'assistant', content: answer },
      ],
    };
  });
}

async function main(): Promise<void> {
  const root = join(__dirname, 'data');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const ckpt = join(root, 'ckpt');
  await writeTinyCheckpoint(ckpt, {
    family: 'llama',
    numLayers: layers,
    hiddenSize: hidden,
    numHeads: 8,
    numKvHeads: 4,
    intermediateSize: hidden * 2,
    seed: 1,
  });
  await buildModel(ckpt, join(root, 'onnx'));
  const model = await openModel(join(root, 'onnx'), { provider: 'cpu', threads });
  const file = join(root, 'train.jsonl');
  writeFileSync(
    file,
    records(N)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  // the token ids fine-tuning sees: the same rendering and truncation as the forecast
  const ids = records(N).map((r) => tokenizeRecord(renderRecord(r, model.tokenizer)!, model.tokenizer, 1024));
  writeFileSync(join(root, 'ids.json'), JSON.stringify(ids));
  const tokens = ids.reduce((s, r) => s + r.length, 0);

  const suites = loadProbeSuites([], { workspaceDir: null });
  const common = { modelHash: 'bench', suites, samples: N, seed: 0 };
  // the machine is shared: each forecast figure is the best of `repeats` runs (no cache between them)
  const repeats = Number(values.repeats ?? 2);
  const best = async (run: () => Promise<unknown>) => {
    let min = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      await run();
      min = Math.min(min, (performance.now() - t) / 1000);
    }
    return min;
  };
  const signatureS = await best(() => computeSignature(model, file, { modelHash: 'bench', samples: N }));
  let full = await forecast(model, file, common);
  const forecastS = await best(async () => (full = await forecast(model, file, common)));
  const logprobS = await best(() => forecast(model, file, { ...common, scoring: 'logprob', clusters: 0 }));
  const sampledS = await best(() => forecast(model, file, { ...common, samples: 250 }));
  await model.dispose();
  const load = loadavg()[0];

  if (values['no-finetune']) {
    console.log(JSON.stringify({ signatureS, forecastS, logprobS, sampledS, load, timings: full.timings }));
    return;
  }
  const ft = spawnSync(python, [join(__dirname, 'finetune_epoch.py'), '--ckpt', ckpt, '--ids', join(root, 'ids.json'), '--threads', String(threads)], {
    encoding: 'utf8',
  });
  if (ft.status !== 0) throw new Error(`fine-tuning peer failed: ${ft.stderr}`);
  const epoch = JSON.parse(ft.stdout.trim().split('\n').pop()!);
  const figures = {
    records: N,
    tokens,
    model: `llama, ${layers} layers, hidden ${hidden}, ${full.model.provider}`,
    threads,
    behaviours: full.behaviours.length,
    signatureSeconds: +signatureS.toFixed(2),
    forecastSeconds: +forecastS.toFixed(2),
    forecastLogprobOnlySeconds: +logprobS.toFixed(2),
    epochSeconds: +epoch.seconds.toFixed(2),
    forecastOverEpoch: +(forecastS / epoch.seconds).toFixed(3),
    logprobOnlyOverEpoch: +(logprobS / epoch.seconds).toFixed(3),
    signatureOverEpoch: +(signatureS / epoch.seconds).toFixed(3),
    forecastSampled250Seconds: +sampledS.toFixed(2),
    sampled250OverEpoch: +(sampledS / epoch.seconds).toFixed(3),
    loadAverage: +load.toFixed(2),
    timings: full.timings,
  };
  console.log(`MDF benchmark: ${N} records (${tokens} tokens), ${figures.model}, ${threads} threads`);
  console.log(`  signature only                     ${signatureS.toFixed(2)} s  (${(100 * figures.signatureOverEpoch).toFixed(1)}% of the epoch)`);
  console.log(
    `  full forecast (${full.behaviours.length} behaviours, default)  ${forecastS.toFixed(2)} s  (${(100 * figures.forecastOverEpoch).toFixed(1)}% of the epoch)`,
  );
  console.log(`  forecast, logprob scoring only     ${logprobS.toFixed(2)} s  (${(100 * figures.logprobOnlyOverEpoch).toFixed(1)}% of the epoch)`);
  console.log(`  forecast, signature from 250 sampled records  ${sampledS.toFixed(2)} s  (${(100 * figures.sampled250OverEpoch).toFixed(1)}% of the epoch)`);
  console.log(
    `  one epoch of fine-tuning (preflight_train, torch CPU, batch 8)  ${epoch.seconds.toFixed(2)} s, ${epoch.steps} steps, loss ${epoch.loss_first.toFixed(3)} -> ${epoch.loss_last.toFixed(3)}`,
  );
  console.log(JSON.stringify(figures));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
