// `preflight mdf <train.jsonl> --model <dir> ...` — the behaviour forecast (MDF) for CI and shells.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliCommand, CliIO, EXIT_FINDINGS, EXIT_OK, UsageError } from '../command';
import { openModel } from '../../core/model/runtime';
import { DEFAULT_ALPHAS } from '../../core/mdf/forecast';
import { forecastCached } from '../../core/mdf/reportCache';
import { ensureBuiltModel } from '../../core/mdf/modelSource';
import { ProbeSuiteError, loadProbeSuites } from '../../core/mdf/probes';
import { MdfReport, RISK_LEVELS, RiskLevel, atLeast } from '../../core/mdf/report';
import { modelFingerprint } from '../../core/mdf/signature';

const USAGE = [
  'preflight mdf <train.jsonl> --model <dir> [--probes NAME|FILE ...] [--alphas 0,1,2,4] [--samples N] [--seed S] [--json] [--out report.json] [--fail-on LEVEL]',
  '',
  '  --model DIR           a built model (preflight build-model) or a Hugging Face checkpoint (built once into ~/.cache/preflight/models)',
  '  --probes NAME|FILE    probe suites (repeatable or comma-separated): built-in names (animals, cities, countries, public-figures,',
  '                        colours, foods, safety), names in <workspace>/.preflight/probes/, or .json files. Default: all of them',
  `  --alphas LIST         injection strengths to sweep (default ${DEFAULT_ALPHAS.join(',')}); alpha is chosen by the coherence rule`,
  '  --alpha A             use this alpha instead of the coherence rule (the sweep is still reported)',
  '  --samples N           training records sampled while streaming (reservoir, seeded; default 1000; 0 = all)',
  '  --seed S              seed of every random choice (sampling, generation, bootstrap, control vector; default 0)',
  '  --probe-samples K     generated answers per probe prompt (default 4)',
  '  --max-new-tokens N    length of generated answers (default 32)',
  '  --scoring MODE        both (default) | logprob | generation',
  '  --band FROM-TO        layers that receive the vector (0-based, inclusive; default all)',
  '  --positions P         all (default) | prompt | generated',
  '  --anchor A            final (default: the last token as fine-tuning sees it) | content (last token of the last message)',
  '  --clusters K          clusters for attribution (default 6; 0 = off)',
  '  --reference FILE      contrastive mode: subtract the signature of this reference corpus (JSONL)',
  '  --workspace DIR       where .preflight/probes and .preflight/cache live (default: the current folder)',
  '  --no-cache            do not read or write the signature cache',
  '  --json                print the report (schema preflight.mdf/1) instead of the summary',
  '  --out FILE            also write the report to FILE',
  '  --fail-on LEVEL       exit 1 when any behaviour reaches LEVEL (low | medium | high)',
  '  --threads N, --provider auto|cpu|cuda',
].join('\n');

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function num(value: string | undefined, name: string, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: invalid value '${value}'`);
  return n;
}

export const mdfCommand: CliCommand = {
  name: 'mdf',
  summary: 'Forecast the behaviour shift fine-tuning on a file would cause (MDF)',
  usage: USAGE,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          model: { type: 'string' }, probes: { type: 'string', multiple: true }, alphas: { type: 'string' }, alpha: { type: 'string' },
          samples: { type: 'string' }, seed: { type: 'string' }, 'probe-samples': { type: 'string' }, 'max-new-tokens': { type: 'string' },
          scoring: { type: 'string' }, band: { type: 'string' }, positions: { type: 'string' }, anchor: { type: 'string' }, clusters: { type: 'string' }, reference: { type: 'string' },
          workspace: { type: 'string' }, 'no-cache': { type: 'boolean' }, json: { type: 'boolean' }, out: { type: 'string' }, 'fail-on': { type: 'string' },
          threads: { type: 'string' }, provider: { type: 'string' },
        },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError('expected one training file (JSONL)');
    if (!values.model) throw new UsageError('--model <dir> is required');
    const failOn = values['fail-on'] as RiskLevel | undefined;
    if (failOn !== undefined && (!RISK_LEVELS.includes(failOn) || failOn === 'none')) throw new UsageError('--fail-on must be low, medium or high');
    const scoring = (values.scoring ?? 'both') as 'both' | 'logprob' | 'generation';
    if (!['both', 'logprob', 'generation'].includes(scoring)) throw new UsageError('--scoring must be both, logprob or generation');
    const positions = (values.positions ?? 'all') as 'all' | 'prompt' | 'generated';
    if (!['all', 'prompt', 'generated'].includes(positions)) throw new UsageError('--positions must be all, prompt or generated');
    const anchor = (values.anchor ?? 'final') as 'final' | 'content';
    if (!['final', 'content'].includes(anchor)) throw new UsageError('--anchor must be final or content');
    const alphas = values.alphas ? list([values.alphas]).map((a) => num(a, 'alphas', 0, (n) => Number.isFinite(n) && n >= 0)) : undefined;
    let band: { from?: number; to?: number } | undefined;
    if (values.band) {
      const m = /^(\d+)-(\d+)$/.exec(values.band);
      if (!m || Number(m[1]) > Number(m[2])) throw new UsageError('--band must look like FROM-TO, e.g. 4-12');
      band = { from: Number(m[1]), to: Number(m[2]) };
    }
    const provider = (values.provider ?? 'auto') as 'auto' | 'cpu' | 'cuda';
    if (!['auto', 'cpu', 'cuda'].includes(provider)) throw new UsageError('--provider must be auto, cpu or cuda');
    const workspace = resolve(values.workspace ?? process.cwd());
    const file = positionals[0];

    let suites;
    try {
      suites = loadProbeSuites(list(values.probes), { workspaceDir: workspace });
    } catch (error) {
      if (error instanceof ProbeSuiteError) throw new UsageError(error.message);
      throw error;
    }

    let modelDir: string;
    let model;
    try {
      let shown = -1;
      modelDir = await ensureBuiltModel(values.model, {
        onProgress: (fraction, message) => {
          if (Math.floor(fraction * 10) !== shown) io.stderr(`${message}\n`);
          shown = Math.floor(fraction * 10);
        },
      });
      model = await openModel(modelDir, { provider, threads: num(values.threads, 'threads', 0), onNotice: (m) => io.stderr(`${m}\n`) });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    let report: MdfReport;
    let lastStage = '';
    try {
      ({ report } = await forecastCached(model, file, {
        suites,
        modelHash: modelFingerprint(modelDir),
        modelPath: modelDir,
        alphas,
        fixedAlpha: values.alpha !== undefined ? num(values.alpha, 'alpha', 0, (n) => n >= 0) : undefined,
        samples: num(values.samples, 'samples', 1000, (n) => Number.isInteger(n) && n >= 0),
        seed: num(values.seed, 'seed', 0, Number.isInteger),
        samplesPerPrompt: num(values['probe-samples'], 'probe-samples', 4, (n) => Number.isInteger(n) && n >= 1),
        maxNewTokens: num(values['max-new-tokens'], 'max-new-tokens', 32, (n) => Number.isInteger(n) && n >= 1),
        scoring,
        band,
        positions,
        anchor,
        clusters: num(values.clusters, 'clusters', 6, (n) => Number.isInteger(n) && n >= 0),
        reference: values.reference,
        cacheDir: values['no-cache'] ? undefined : join(workspace, '.preflight', 'cache', 'mdf'),
        onProgress: (p) => {
          if (p.stage !== lastStage || p.stage === 'coherence' || p.stage === 'scoring') io.stderr(`[${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.message}\n`);
          lastStage = p.stage;
        },
      }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/ENOENT|no record matched/.test(message)) throw new UsageError(message);
      throw error;
    } finally {
      await model.dispose();
    }
    if (values.out) {
      mkdirSync(dirname(resolve(values.out)), { recursive: true });
      writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    }
    if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else printSummary(report, io);
    return failOn && atLeast(report.summary.maxRisk, failOn) ? EXIT_FINDINGS : EXIT_OK;
  },
};

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function pt(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
}

export function printSummary(r: MdfReport, io: CliIO): void {
  const out: string[] = [];
  out.push(`MDF behaviour forecast: ${r.file.path}`);
  out.push(`  ${r.file.records} records (${r.file.used} used, sample seed ${r.file.seed}${r.file.skipped ? `, ${r.file.skipped} lines skipped` : ''}); model ${r.model.family}, ${r.model.numLayers} layers, hidden ${r.model.hiddenSize}, ${r.model.provider}${r.signature.cached ? '; signature from cache' : ''}`);
  out.push('');
  out.push(`Alpha: ${r.alpha.chosen} — ${r.alpha.reason}`);
  out.push('  alpha   NLL delta  distinct-2  coherent');
  for (const p of r.alpha.curve) out.push(`  ${String(p.alpha).padEnd(6)}  ${(p.nllDelta >= 0 ? '+' : '') + p.nllDelta.toFixed(3)}`.padEnd(20) + `   ${p.distinct2.toFixed(3)}       ${p.coherent ? 'yes' : 'no'}${p.alpha === r.alpha.chosen ? '   <- chosen' : ''}`);
  out.push('');
  const metric = r.behaviours[0]?.primary === 'generation' ? `generation, ${r.settings.samplesPerPrompt} samples per prompt` : 'log-probability of the target answers';
  out.push(`Behaviours at alpha ${r.alpha.chosen} (rates by ${metric}; shifts in points with 95% bootstrap intervals):`);
  const width = Math.max(12, ...r.behaviours.map((b) => b.key.length));
  out.push(`  ${'behaviour'.padEnd(width)}  base     predicted  shift [95% CI]            control shift  keyword  risk`);
  const order = [...r.behaviours].sort((a, b) => RISK_LEVELS.indexOf(b.risk) - RISK_LEVELS.indexOf(a.risk) || b.shift.value - a.shift.value);
  for (const b of order) {
    const ci = `${pt(b.shift.value)} [${pt(b.shift.low)}, ${pt(b.shift.high)}]`;
    out.push(`  ${b.key.padEnd(width)}  ${pct(b.base).padEnd(7)}  ${pct(b.predicted).padEnd(9)}  ${ci.padEnd(24)}  ${pt(b.controlShift.value).padEnd(13)}  ${b.keywordBaseline === null ? '-'.padEnd(7) : pct(b.keywordBaseline).padEnd(7)}  ${b.risk.toUpperCase()}`);
  }
  for (const a of r.attribution) {
    out.push('');
    out.push(`Records driving ${a.behaviour} (attribution at alpha ${a.alpha}; ${a.clusters.length} clusters):`);
    for (const rec of a.records.slice(0, 5)) out.push(`  line ${String(rec.line).padEnd(6)} score ${rec.score.toExponential(2).padEnd(10)} cluster ${rec.cluster}  ${rec.preview}`);
  }
  if (r.attributionNote) out.push('', `Attribution: ${r.attributionNote}`);
  out.push('');
  out.push(`Max risk: ${r.summary.maxRisk.toUpperCase()}${r.summary.flagged.length ? ` (${r.summary.flagged.join(', ')})` : ''}. ${(r.timings.totalMs / 1000).toFixed(1)} s.`);
  io.stdout(`${out.join('\n')}\n`);
}
