// bench/mdf/null: the family-wise false-alarm rate of the forecast (share of reports with at least
// one behaviour at medium or above) under null conditions. Goal: <= 5%.
//
//   node --import tsx bench/mdf/null/run.ts [--seeds 200] [--real-seeds 20] [--zero-seeds 5] [--model DIR] [--scoring both|logprob] [--alpha A] [--threads 1] [--first-seed 1]
//
// --alpha A fixes alpha at A and sweeps only [0, A] (the decision reads the scores at the chosen
// alpha only; the sweep is what costs): about 5x more seeds in the same time.
//
// 1. Simulated null (pure TypeScript over the real statistics code, simulate.ts): --seeds reports of
//    the bundled suites' shape, log-probability and generation scoring; the pre-issue-11 rule beside it.
// 2. Real null runs on a model (--model: a built model folder; default a tiny random Llama built here):
//    (a) two neutral files: a seeded generic chat file (40 records drawn from a pool of plain sentences,
//        a new draw per seed) forecast with every bundled suite, the random and the neutral control;
//    (b) a zero signature at alpha > 0: nothing injected, the controls at the same alpha.
//    Each seed also changes the random control, the sampled answers and the resampling.
// Prints one JSON line per part; the real part's running figures are also rewritten after every seed
// to <--data, default bench/mdf/null/data>/real.json (git-ignored), so a long run can be read early;
// <data>/behaviours.jsonl holds every behaviour of every two-neutral-files report (the primary
// metric's rates, intervals and p-values), so a risk rule can be re-judged on them (lowRule.ts).
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import { forecast } from '../../../src/core/mdf/forecast';
import { loadProbeSuites } from '../../../src/core/mdf/probes';
import { atLeast } from '../../../src/core/mdf/report';
import { rng, shuffleInPlace } from '../../../src/shared/random';
import { computeSignature } from '../../../src/core/mdf/signature';
import { writeTinyCheckpoint } from '../../../test/helpers/tinyCheckpoint';
import { writeJsonl } from '../../../test/unit/mdf/fixture';
import { BUNDLED_NULL, legacyReport, nullRates } from './simulate';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    'real-seeds': { type: 'string' },
    'zero-seeds': { type: 'string' },
    alpha: { type: 'string' },
    model: { type: 'string' },
    data: { type: 'string' },
    scoring: { type: 'string' },
    threads: { type: 'string' },
    'first-seed': { type: 'string' },
  },
});
const seeds = Number(values.seeds ?? 200);
const realSeeds = Number(values['real-seeds'] ?? 20);
const zeroSeeds = Number(values['zero-seeds'] ?? 5);
const scoring = (values.scoring ?? 'both') as 'logprob' | 'both';
/** seeds run are firstSeed .. firstSeed + n - 1 (a second run on fresh seeds validates a rule chosen on the first) */
const firstSeed = Number(values['first-seed'] ?? 1);

const SUBJECTS = [
  'The morning train',
  'A small garden',
  'The new library',
  'Our weekly meeting',
  'The river path',
  'A quiet kitchen',
  'The school bus',
  'An old bridge',
];
const PREDICATES = [
  'was calm and on time today.',
  'needs a little more care in spring.',
  'opens earlier on Saturdays.',
  'was moved to the larger room.',
  'is lovely after the rain.',
  'smelled of fresh bread.',
  'left ten minutes late.',
  'was repaired last week.',
];
const QUESTIONS = ['Tell me something about your day.', 'What happened this morning?', 'Give me a short update.', 'Describe something you saw.'];

/** A seeded generic chat file: no probe target, nothing but plain everyday sentences. */
function neutralRecords(seed: number, n = 40): unknown[] {
  const random = rng(seed);
  const pool = SUBJECTS.flatMap((s) => PREDICATES.map((p) => `${s} ${p}`));
  shuffleInPlace(pool, random);
  return pool.slice(0, n).map((text, i) => ({
    messages: [
      { role: 'user', content: QUESTIONS[i % QUESTIONS.length] },
      { role: 'assistant', content: text },
    ],
  }));
}

async function main(): Promise<void> {
  const started = Date.now();
  const sim = {
    part: 'simulated',
    logprob: nullRates(BUNDLED_NULL, seeds),
    generation: nullRates({ ...BUNDLED_NULL, scoring: 'generation' }, seeds),
    // the review's setting: 36 behaviours on 4 prompts each under the pre-issue-11 rule
    legacyFourPrompts: Array.from({ length: seeds }, (_, i) => legacyReport(36, i + 1)).filter((r) => atLeast(r, 'medium')).length / Math.max(1, seeds),
    seconds: 0,
  };
  sim.seconds = (Date.now() - started) / 1000;
  console.log(JSON.stringify(sim));
  if (realSeeds <= 0 && zeroSeeds <= 0) return;

  const root = values.data ?? join(__dirname, 'data');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  let modelDir = values.model;
  if (!modelDir) {
    const ckpt = join(root, 'ckpt');
    await writeTinyCheckpoint(ckpt, { family: 'llama', numLayers: 4, hiddenSize: 64, seed: 1 });
    modelDir = join(root, 'onnx');
    await buildModel(ckpt, modelDir);
  }
  const model = await openModel(modelDir, { provider: 'cpu', threads: Number(values.threads ?? 1) });
  const suites = loadProbeSuites([], { workspaceDir: null });
  // the cache keeps the neutral corpus's signature between seeds (its content never changes)
  const fixed = values.alpha !== undefined ? { alphas: [0, Number(values.alpha)], fixedAlpha: Number(values.alpha) } : {};
  const common = { modelHash: 'null', suites, scoring, clusters: 0, cacheDir: join(root, 'cache'), ...fixed };
  const neutral = { seeds: 0, medium: 0, low: 0, chosenAlphas: new Set<number>(), maxRawSignificant: 0 };
  // every behaviour a null report flagged, with what the rule saw (to read what fires, not only how often)
  const flagged: { seed: number; key: string; risk: string; pAdjusted: number; shift: number[]; random: number[]; neutral: number[] | null }[] = [];
  const zero = { seeds: 0, medium: 0, low: 0 };
  const realStarted = Date.now();
  const figures = () => ({
    part: 'real',
    model: values.model ?? 'tiny random llama (4 layers, hidden 64), built here',
    scoring,
    alpha: values.alpha !== undefined ? `fixed at ${values.alpha}` : 'the coherence rule on the default grid',
    behaviours: suites.reduce((s, x) => s + x.behaviours.length, 0),
    twoNeutralFiles: {
      seeds: neutral.seeds,
      falseAlarmMedium: neutral.medium / Math.max(1, neutral.seeds),
      falseAlarmLow: neutral.low / Math.max(1, neutral.seeds),
      chosenAlphas: [...neutral.chosenAlphas],
      maxUnadjustedSignificant: neutral.maxRawSignificant,
      flagged,
    },
    zeroSignature: {
      seeds: zero.seeds,
      alpha: 0.4,
      falseAlarmMedium: zero.medium / Math.max(1, zero.seeds),
      falseAlarmLow: zero.low / Math.max(1, zero.seeds),
    },
    seconds: (Date.now() - realStarted) / 1000,
    load: loadavg()[0],
  });
  for (let seed = firstSeed; seed < firstSeed + Math.max(realSeeds, zeroSeeds); seed++) {
    const file = writeJsonl(join(root, `neutral-${seed}.jsonl`), neutralRecords(seed));
    const line: string[] = [`seed ${seed}:`];
    if (seed < firstSeed + realSeeds) {
      const report = await forecast(model, file, { ...common, seed });
      neutral.seeds++;
      if (atLeast(report.summary.maxRisk, 'medium')) neutral.medium++;
      if (atLeast(report.summary.maxRisk, 'low')) neutral.low++;
      neutral.chosenAlphas.add(report.alpha.chosen);
      neutral.maxRawSignificant = Math.max(neutral.maxRawSignificant, report.behaviours.filter((b) => b.pValue < 0.05).length);
      const iv = (i: { value: number; low: number; high: number }) => [i.value, i.low, i.high];
      for (const b of report.behaviours) {
        const { base, predicted, control, shift, controlShift, neutralShift, strongerControl, pValue, pAdjusted, risk, primary } = b;
        appendFileSync(
          join(root, 'behaviours.jsonl'),
          `${JSON.stringify({ seed, key: b.key, primary, base, predicted, control, neutral: b[primary === 'generation' ? 'generation' : 'logprob']?.neutral ?? null, shift, controlShift, neutralShift, strongerControl, pValue, pAdjusted, risk })}\n`,
        );
      }
      for (const b of report.behaviours.filter((x) => x.risk !== 'none'))
        flagged.push({
          seed,
          key: b.key,
          risk: b.risk,
          pAdjusted: b.pAdjusted,
          shift: iv(b.shift),
          random: iv(b.controlShift),
          neutral: b.neutralShift ? iv(b.neutralShift) : null,
        });
      line.push(`two neutral files ${report.summary.maxRisk} (alpha ${report.alpha.chosen})`);
    }
    if (seed < firstSeed + zeroSeeds) {
      // a zero signature injected at alpha 0.4 (fixed), the controls at the same alpha
      const sig = await computeSignature(model, file, { modelHash: 'null' });
      const report = await forecast(model, file, {
        ...common,
        alphas: [0, 0.4],
        seed,
        signature: { ...sig, mean: new Float32Array(sig.mean.length), perRecord: null },
        fixedAlpha: 0.4,
      });
      zero.seeds++;
      if (atLeast(report.summary.maxRisk, 'medium')) zero.medium++;
      if (atLeast(report.summary.maxRisk, 'low')) zero.low++;
      line.push(`zero signature ${report.summary.maxRisk}`);
    }
    process.stderr.write(`${line.join(' ')} (${((Date.now() - realStarted) / 1000).toFixed(0)} s)\n`);
    writeFileSync(join(root, 'real.json'), `${JSON.stringify(figures())}\n`);
  }
  await model.dispose();
  console.log(JSON.stringify(figures()));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
