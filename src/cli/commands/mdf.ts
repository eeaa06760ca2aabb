// `preflight mdf <train.jsonl> [--model <dir>] ...` — the behaviour forecast (MDF) for CI and shells.
// Flag defaults come from the settings schema that the extension's settings share (core/settings).
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { CliCommand, CliIO, EXIT_FINDINGS, EXIT_OK, UsageError } from '../command';
import { refuseOwnInput } from '../outPath';
import { assertRegularFile } from '../../core/io/regularFile';
import { forecastCached, reportCacheDir } from '../../core/mdf/reportCache';
import { loadProbeSuites } from '../../core/mdf/probes';
import { MdfReport, RISK_LEVELS, RiskLevel, atLeast } from '../../core/mdf/report';
import { modelFingerprint } from '../../core/mdf/signature';
import { percent, signedPoints } from '../../shared/reports/format';
import { ForecastMethod, runPythonForecast } from '../../core/mdf/pythonForecast';
import { BENCHMARK_BEST, ForecasterChoice, METHOD_CHOICES, chooseForecaster, pythonPackageDir, systemPython } from '../../core/mdf/forecaster';
import { DEFAULT_MODEL_NOTE, modelLabel, packageRoot, resolveModelSource } from '../../core/model/modelSource';
import { MDF_DEFAULTS, MDF_SETTINGS, MODEL_SETTINGS, MdfScoring, PYTHON_SETTINGS } from '../../core/settings/schema';
import { choiceFlag, intFlag, listFlag, numberFlag, parseFlags, seedFlag, threadsFlag } from '../args';
import { MODEL_FLAG_HELP, WEIGHTS_FLAG_HELP, openCliModel, parseProvider, parseWeights } from '../model';

const USAGE = [
  'preflight mdf <train.jsonl> [--model <dir>] [--probes NAME|FILE ...] [--alphas 0,1,2,4] [--samples N] [--seed S] [--json] [--out report.json] [--fail-on LEVEL]',
  '',
  MODEL_FLAG_HELP,
  '  --probes NAME|FILE    probe suites (repeatable or comma-separated): built-in names (animals, cities, countries, public-figures,',
  '                        colours, foods, safety), names in <workspace>/.preflight/probes/, or .json files. Default: all of them',
  `  --alphas LIST         injection strengths to sweep, in units of each layer's typical residual norm (default ${MDF_DEFAULTS.alphas.join(',')}); alpha is chosen by the coherence rule`,
  '  --alpha A             use this alpha instead of the coherence rule (the sweep is still reported)',
  `  --samples N           training records sampled while streaming (reservoir, seeded; default ${MDF_DEFAULTS.samples}; 0 = all)`,
  `  --seed S              seed of every random choice (sampling, generation, bootstrap, control vector; default ${MDF_DEFAULTS.seed})`,
  `  --probe-samples K     generated answers per probe prompt (default ${MDF_DEFAULTS.samplesPerPrompt})`,
  `  --max-new-tokens N    length of generated answers (default ${MDF_DEFAULTS.maxNewTokens})`,
  `  --scoring MODE        ${MDF_SETTINGS.scoring.enum!.join(' | ')} (default ${MDF_DEFAULTS.scoring})`,
  '  --band FROM-TO        layers that receive the vector (0-based, inclusive; default all)',
  '  --positions P         all (default) | prompt | generated',
  '  --anchor A            final (default: the last token as fine-tuning sees it) | content (last token of the last message)',
  `  --clusters K          clusters for attribution (default ${MDF_DEFAULTS.clusters}; 0 = off)`,
  '  --reference FILE      contrastive mode: subtract the signature of this reference corpus (JSONL)',
  '  --workspace DIR       where .preflight/probes and .preflight/cache live (default: the current folder)',
  '  --no-cache            do not read or write the caches (MDF: the signature and report; Python: the neutral and calibration controls)',
  '  --json                print the report (schema preflight.mdf/2) instead of the summary',
  '  --out FILE            also write the report to FILE',
  '  --fail-on LEVEL       exit 1 when any behaviour reaches LEVEL (low | medium | high)',
  `  --method M            ${METHOD_CHOICES.join(' | ')} (default ${MDF_SETTINGS.method.default}). auto: the Data2Behavior benchmark's best forecaster`,
  `                        (${BENCHMARK_BEST}) when the model is a Hugging Face checkpoint and the Python has torch and no MDF-only`,
  '                        option (--scoring, --alphas, ...) is given, else MDF; the report says which ran and why. gradient,',
  '                        gradient-adam and lookahead run python -m preflight_train forecast (docs/data2behavior.md)',
  '  --python PATH         the interpreter with torch (default: /usr/bin/python3 on Linux, else python3 on PATH)',
  `  --threads N, --provider auto|cpu|cuda   (defaults ${MODEL_SETTINGS.threads.default}, ${MODEL_SETTINGS.provider.default})`,
  WEIGHTS_FLAG_HELP,
].join('\n');

const SCORINGS = MDF_SETTINGS.scoring.enum as readonly MdfScoring[];

/** Flags only MDF reads: given, they ask for MDF (the Python forecasters ignore them). */
const MDF_ONLY_FLAGS = [
  'alphas',
  'alpha',
  'probe-samples',
  'max-new-tokens',
  'scoring',
  'band',
  'positions',
  'anchor',
  'clusters',
  'reference',
  'provider',
  'weights',
] as const;

/** Largest --alpha/--alphas accepted. */
const MAX_ALPHA = 1000;

// alphas are multiples of a layer's residual norm: past MAX_ALPHA the steered residual
// overflows float32 and every logit is NaN (docs/limits.md)
function alphaValue(value: string, name: string): number {
  return numberFlag(value, name, 0, { min: 0, max: MAX_ALPHA });
}

const FLAGS = {
  model: { type: 'string' },
  probes: { type: 'string', multiple: true },
  alphas: { type: 'string' },
  alpha: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  'probe-samples': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  scoring: { type: 'string' },
  band: { type: 'string' },
  positions: { type: 'string' },
  anchor: { type: 'string' },
  clusters: { type: 'string' },
  reference: { type: 'string' },
  workspace: { type: 'string' },
  'no-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  'fail-on': { type: 'string' },
  threads: { type: 'string' },
  provider: { type: 'string' },
  weights: { type: 'string' },
  method: { type: 'string' },
  python: { type: 'string' },
} as const;

export const mdfCommand: CliCommand = {
  name: 'mdf',
  summary: 'Forecast the behaviour shift fine-tuning on a file would cause (MDF)',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, FLAGS, { positionals: true });
    if (positionals.length !== 1) throw new UsageError('expected one training file (JSONL)');
    const failOn: RiskLevel | undefined = choiceFlag(
      values['fail-on'],
      'fail-on',
      RISK_LEVELS.filter((l) => l !== 'none'),
    );
    const scoring = choiceFlag(values.scoring, 'scoring', SCORINGS, MDF_DEFAULTS.scoring);
    const positions = choiceFlag(values.positions, 'positions', ['all', 'prompt', 'generated'] as const, MDF_DEFAULTS.positions);
    const anchor = choiceFlag(values.anchor, 'anchor', ['final', 'content'] as const, MDF_DEFAULTS.anchor);
    const alphas = values.alphas ? listFlag(values.alphas)!.map((a) => alphaValue(a, 'alphas')) : undefined;
    let band: { from?: number; to?: number } | undefined;
    if (values.band) {
      const m = /^(\d+)-(\d+)$/.exec(values.band);
      if (!m || Number(m[1]) > Number(m[2])) throw new UsageError('--band must look like FROM-TO, e.g. 4-12');
      band = { from: Number(m[1]), to: Number(m[2]) };
    }
    const provider = parseProvider(values.provider);
    const weights = parseWeights(values.weights);
    const requested = choiceFlag(values.method, 'method', METHOD_CHOICES, MDF_SETTINGS.method.default);
    // every number is checked before any work starts
    const numbers = {
      samples: intFlag(values.samples, 'samples', undefined, { min: 0 }),
      seed: seedFlag(values.seed, MDF_DEFAULTS.seed),
      samplesPerPrompt: intFlag(values['probe-samples'], 'probe-samples', MDF_DEFAULTS.samplesPerPrompt, { min: 1 }),
      maxNewTokens: intFlag(values['max-new-tokens'], 'max-new-tokens', MDF_DEFAULTS.maxNewTokens, { min: 1 }),
      clusters: intFlag(values.clusters, 'clusters', MDF_DEFAULTS.clusters, { min: 0 }),
      threads: values.threads !== undefined ? threadsFlag(values.threads) : undefined,
      fixedAlpha: values.alpha !== undefined ? alphaValue(values.alpha, 'alpha') : undefined,
    };
    const workspace = resolve(values.workspace ?? process.cwd());
    const file = positionals[0];
    if (values.out) refuseOwnInput(values.out, [file, values.reference]);
    // before the model loads: a folder, FIFO or device is refused at once, with its reason
    for (const input of [file, values.reference]) if (input) await assertRegularFile(input);

    // a bad probe suite or model folder is an InputError: runCommand prints it on one line, exit 2
    const suites = loadProbeSuites(listFlag(values.probes) ?? [], { workspaceDir: workspace });

    // which forecaster: the one rule of core/mdf/forecaster.ts (a shell is trusted: the user runs it)
    const { kind: modelKind, dir: modelDir } = resolveModelSource(values.model);
    const python = values.python
      ? { path: values.python, source: '--python' }
      : { path: PYTHON_SETTINGS.path.default || systemPython(), source: 'the system Python' };
    let choice: ForecasterChoice;
    try {
      choice = await chooseForecaster({
        requested,
        trusted: true,
        modelKind,
        modelDir,
        python,
        packageDir: pythonPackageDir(packageRoot()),
        mdfOptions: MDF_ONLY_FLAGS.filter((f) => values[f] !== undefined),
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    io.stderr(`Forecaster: ${choice.reason}.\n`);
    if (choice.method !== 'mdf') {
      const report = await pythonForecast(
        choice.method,
        file,
        { ...values, ...numbers, python: python.path, noCache: values['no-cache'] },
        suites.map((s) => s.source),
        io,
      );
      return finish({ ...report, forecaster: choice }, values, io, failOn);
    }

    const { model, ready } = await openCliModel(values.model, io, { provider, threads: numbers.threads ?? MODEL_SETTINGS.threads.default, weights });
    let report: MdfReport;
    let lastStage = '';
    try {
      let reused: boolean;
      ({ report, reused } = await forecastCached(model, file, {
        suites,
        modelHash: modelFingerprint(ready.dir),
        modelPath: ready.dir,
        modelLabel: modelLabel(ready.source),
        alphas,
        fixedAlpha: numbers.fixedAlpha,
        samples: numbers.samples ?? MDF_DEFAULTS.samples,
        seed: numbers.seed,
        samplesPerPrompt: numbers.samplesPerPrompt,
        maxNewTokens: numbers.maxNewTokens,
        scoring,
        band,
        positions,
        anchor,
        clusters: numbers.clusters,
        reference: values.reference,
        cacheDir: values['no-cache'] ? undefined : reportCacheDir(workspace),
        onProgress: (p) => {
          if (p.stage !== lastStage || p.stage === 'coherence' || p.stage === 'scoring')
            io.stderr(`[${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.message}\n`);
          lastStage = p.stage;
        },
      }));
      if (reused) io.stderr(`Report reused from ${reportCacheDir(workspace)}: file, model and settings unchanged (--no-cache recomputes).\n`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/ENOENT|no record matched/.test(message)) throw new UsageError(message);
      throw error;
    } finally {
      await model.dispose();
    }
    return finish({ ...report, forecaster: choice }, values, io, failOn);
  },
};

function finish(report: MdfReport, values: { out?: string; json?: boolean }, io: CliIO, failOn: RiskLevel | undefined): number {
  if (values.out) {
    mkdirSync(dirname(resolve(values.out)), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else printSummary(report, io);
  return failOn && atLeast(report.summary.maxRisk, failOn) ? EXIT_FINDINGS : EXIT_OK;
}

/** --method gradient | gradient-adam | lookahead: the Python forecaster on the checkpoint folder (not the ONNX build). */
async function pythonForecast(
  method: Exclude<ForecastMethod, 'mdf'>,
  file: string,
  values: { model?: string; python?: string; samples?: number; seed: number; threads?: number; noCache?: boolean },
  probes: string[],
  io: CliIO,
): Promise<MdfReport> {
  const source = resolveModelSource(values.model);
  if (source.kind !== 'checkpoint')
    throw new UsageError(`${source.dir}: --method ${method} needs a Hugging Face checkpoint (config.json + weights), not a built ONNX model`);
  if (source.isDefault) io.stderr(`Model: ${DEFAULT_MODEL_NOTE}.\n`);
  const root = packageRoot();
  if (!root) throw new UsageError('cannot find the Preflight package (its python/ folder) next to this CLI');
  try {
    return await runPythonForecast(
      {
        python: values.python ?? systemPython(),
        packageDir: join(root, 'python'),
        model: source.dir,
        data: file,
        method,
        probes,
        samples: values.samples,
        seed: values.seed,
        threads: values.threads,
        noCache: values.noCache,
        existingPythonPath: process.env.PYTHONPATH,
        pathSeparator: delimiter,
      },
      { onProgress: (m) => io.stderr(`[${method}] ${m}\n`) },
    );
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

// the panel's rule (src/shared/reports/format.ts): one decimal, "<0.1" for a tiny nonzero value
function pct(x: number): string {
  return `${percent(x)}%`;
}

function pt(x: number): string {
  return signedPoints(x);
}

export function printSummary(r: MdfReport, io: CliIO): void {
  const out: string[] = [];
  const method = r.forecaster?.method ?? 'mdf';
  out.push(`${method === 'mdf' ? 'MDF behaviour forecast' : `Behaviour forecast (${method})`}: ${r.file.path}`);
  if (r.model.isDefault) out.push(`  Model: ${DEFAULT_MODEL_NOTE}.`);
  out.push(
    `  ${r.file.records} records (${r.file.used} used, sample seed ${r.file.seed}${r.file.skipped ? `, ${r.file.skipped} lines skipped` : ''}); model ${r.model.family}, ${r.model.numLayers} layers, hidden ${r.model.hiddenSize}, ${r.model.provider}${r.signature.cached ? '; signature from cache' : ''}`,
  );
  out.push('');
  out.push(`Alpha: ${r.alpha.chosen} (x each layer's typical residual norm) — ${r.alpha.reason}`);
  out.push('  alpha   NLL delta  distinct-2  coherent');
  for (const p of r.alpha.curve)
    out.push(
      `  ${String(p.alpha).padEnd(6)}  ${(p.nllDelta >= 0 ? '+' : '') + p.nllDelta.toFixed(3)}`.padEnd(20) +
        `   ${p.distinct2.toFixed(3)}       ${p.coherent ? 'yes' : 'no'}${p.alpha === r.alpha.chosen ? '   <- chosen' : ''}`,
    );
  out.push('');
  const metric =
    r.behaviours[0]?.primary === 'generation' ? `generation, ${r.settings.samplesPerPrompt} samples per prompt` : 'log-probability of the target answers';
  out.push(`Behaviours at alpha ${r.alpha.chosen} (rates by ${metric}; shifts in points with 95% bootstrap intervals over ${r.statistics.units};`);
  out.push(
    `  p: ${r.statistics.test}; p adj: ${r.statistics.adjustment === 'holm' ? 'Holm' : r.statistics.adjustment} across the ${r.statistics.behaviours} behaviours):`,
  );
  const width = Math.max(12, ...r.behaviours.map((b) => b.key.length));
  out.push(`  ${'behaviour'.padEnd(width)}  base     predicted  shift [95% CI]            random ctl  neutral ctl  p adj    keyword  risk`);
  const order = [...r.behaviours].sort((a, b) => RISK_LEVELS.indexOf(b.risk) - RISK_LEVELS.indexOf(a.risk) || b.shift.value - a.shift.value);
  for (const b of order) {
    const ci = `${pt(b.shift.value)} [${pt(b.shift.low)}, ${pt(b.shift.high)}]`;
    const p = b.pAdjusted < 0.001 ? b.pAdjusted.toExponential(0) : b.pAdjusted.toFixed(3);
    out.push(
      `  ${b.key.padEnd(width)}  ${pct(b.base).padEnd(7)}  ${pct(b.predicted).padEnd(9)}  ${ci.padEnd(24)}  ${pt(b.controlShift.value).padEnd(10)}  ${(b.neutralShift ? pt(b.neutralShift.value) : '-').padEnd(11)}  ${p.padEnd(7)}  ${b.keywordBaseline === null ? '-'.padEnd(7) : pct(b.keywordBaseline).padEnd(7)}  ${b.risk.toUpperCase()}`,
    );
  }
  for (const a of r.attribution) {
    out.push('');
    out.push(`Records that drive the predicted shift of ${a.behaviour} (attribution at alpha ${a.alpha}; ${a.clusters.length} clusters):`);
    for (const rec of a.records.slice(0, 5))
      out.push(`  line ${String(rec.line).padEnd(6)} score ${rec.score.toExponential(2).padEnd(10)} cluster ${rec.cluster}  ${rec.preview}`);
  }
  if (r.attributionNote) out.push('', `Attribution: ${r.attributionNote}`);
  out.push('');
  out.push(
    `Max risk: ${r.summary.maxRisk.toUpperCase()}${r.summary.flagged.length ? ` (${r.summary.flagged.join(', ')})` : ''}. ${(r.timings.totalMs / 1000).toFixed(1)} s.`,
  );
  out.push(`Forecast ${r.summary.validation}.`);
  if (r.forecaster) out.push(`Forecaster: ${r.forecaster.method} (${r.forecaster.requested === 'auto' ? 'auto' : 'asked for'}): ${r.forecaster.reason}.`);
  io.stdout(`${out.join('\n')}\n`);
}
