// `preflight demo`: Preflight's main job on the bundled examples/, end to end, with the model that
// ships with it: validation of every data file, the behaviour forecast (MDF) of each candidate file
// in examples/mdf/, the annotation error analysis with its human test, and the BEAR beam-pruning
// audit of the recommendation example. Returns plain data; html.ts and markdown.ts render it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join, relative } from 'node:path';
import { analyzeAnnotations } from '../annotation';
import type { AnnotationReport } from '../annotation/types';
import { validateFile } from '../data';
import type { Finding, ValidationSummary } from '../data/types';
import { ForecasterChoice, MethodChoice, checkPython, chooseForecaster, pythonPackageDir, systemPython } from '../mdf/forecaster';
import { loadProbeSuites } from '../mdf/probes';
import { runPythonForecast } from '../mdf/pythonForecast';
import type { MdfReport } from '../mdf/report';
import { forecastCached, reportCacheDir } from '../mdf/reportCache';
import { modelFingerprint } from '../mdf/signature';
import type { InferenceModel } from '../model/api';
import { buildModel } from '../model/build';
import { DEFAULT_MODEL_NOTE, ensureBuilt, modelLabel, packageRoot, resolveModelSource } from '../model/modelSource';
import { PruningAudit, parseRecommendations, pruningAudit } from '../bear/pruningAudit';
import { MDF_DEFAULTS } from '../settings/schema';

export const DEMO_SCHEMA = 'preflight.demo/1';

export interface DemoOptions {
  /** the examples folder (default <root>/examples) */
  examples: string;
  /** where the forecasts' cache lives (the workspace; default the current folder) */
  workspace: string;
  /** --model; empty: the bundled demo model */
  model?: string;
  /** forecast settings the demo overrides (defaults: the schema's, probes and scoring below) */
  probes?: string[];
  scoring?: 'both' | 'logprob' | 'generation';
  alphas?: number[];
  records?: number;
  threads?: number;
  /** reuse cached forecasts (default true) */
  cache?: boolean;
  /** the forecaster (default 'auto': the rule of core/mdf/forecaster.ts) and the Python it may use (default the system one) */
  method?: MethodChoice;
  python?: string;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface DemoStep {
  name: string;
  ms: number;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
}

export interface DemoReport {
  schema: typeof DEMO_SCHEMA;
  createdAt: string;
  machine: { cpus: number; cpuModel: string; load1: number; node: string; platform: string };
  model: {
    name: string;
    isDefault: boolean;
    source: string;
    built: string;
    note: string | null;
    family: string;
    numLayers: number;
    hiddenSize: number;
    provider: string;
  };
  steps: DemoStep[];
  validation: { files: (ValidationSummary & { findings: Finding[] })[] } | null;
  forecasts: { file: string; role: string; reused: boolean; report: MdfReport }[];
  /** which forecaster ran the forecasts and why */
  forecaster: ForecasterChoice | null;
  annotation: { labels: string; human: string; report: AnnotationReport } | null;
  bear: ({ file: string } & PruningAudit) | null;
  totalMs: number;
}

/** Data files under a folder (JSON Lines and CSV; .json files there are configurations), sorted. */
export function dataFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else if (info.isFile() && /\.(jsonl|ndjson|csv)$/i.test(name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** What a candidate file is for, from its name (examples/mdf/README.md names them so). */
export function candidateRole(file: string): string {
  const name = basename(file).toLowerCase();
  if (name.includes('bias')) return 'biased toward an entity';
  if (name.includes('safety')) return 'erodes refusals';
  if (/clean|neutral/.test(name)) return 'clean';
  return 'candidate';
}

async function step<T>(steps: DemoStep[], name: string, run: () => Promise<T>, onProgress?: (m: string) => void): Promise<T | null> {
  const started = Date.now();
  onProgress?.(`${name}…`);
  try {
    const value = await run();
    steps.push({ name, ms: Date.now() - started, status: 'ok' });
    return value;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    steps.push({ name, ms: Date.now() - started, status: 'failed', note: message });
    onProgress?.(`${name} failed: ${message}`);
    return null;
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const steps: DemoStep[] = [];
  const say = options.onProgress ?? (() => {});
  const rel = (p: string) => relative(options.workspace, p) || p;
  const examples = options.examples;

  // 1. validation of every data file
  const validation = await step(
    steps,
    'Validation',
    async () => {
      const files = [];
      for (const file of dataFiles(examples)) {
        const r = await validateFile(file);
        files.push({ ...r.summary, file: rel(file), findings: r.findings.slice(0, 50).map((f) => ({ ...f, file: rel(f.file) })) });
      }
      say(`  ${files.length} files, ${files.reduce((n, f) => n + f.errors, 0)} errors, ${files.reduce((n, f) => n + f.warnings, 0)} warnings`);
      return { files };
    },
    say,
  );

  // 2. the model: built once into the cache, opened on ONNX Runtime; meanwhile the Python is checked
  const source = resolveModelSource(options.model);
  const root = packageRoot();
  const python = options.python ? { path: options.python, source: '--python' } : { path: systemPython(), source: 'the system Python' };
  const packageDir = pythonPackageDir(root);
  if (packageDir && source.kind === 'checkpoint' && (options.method ?? 'auto') === 'auto') void checkPython(python.path, packageDir, source.dir);
  if (source.isDefault) say(`Model: ${DEFAULT_MODEL_NOTE}.`);
  let shown = -1;
  const ready = await ensureBuilt(source, buildModel, {
    onProgress: (fraction, message) => {
      if (Math.floor(fraction * 4) !== shown) say(`  ${message}`);
      shown = Math.floor(fraction * 4);
    },
  });
  // loaded on use: the rest of the demo must not need onnxruntime-node to be importable
  const { openModel } = await import('../model/runtime');
  const model: InferenceModel = await openModel(ready.dir, { provider: 'cpu', threads: options.threads ?? 0 });
  try {
    // 3. the behaviour forecast of each candidate file
    const forecasts: DemoReport['forecasts'] = [];
    const mdfDir = join(examples, 'mdf');
    const candidates = dataFiles(mdfDir).filter((f) => f.endsWith('.jsonl'));
    const suites = loadProbeSuites(options.probes ?? [], { workspaceDir: options.workspace });
    // the product's rule picks the forecaster; the demo says which and why (a shell is trusted)
    const forecaster = candidates.length
      ? await chooseForecaster({ requested: options.method ?? 'auto', trusted: true, modelKind: source.kind, modelDir: source.dir, python, packageDir })
      : null;
    if (forecaster) say(`Forecaster: ${forecaster.reason}.`);
    for (const [i, file] of candidates.entries()) {
      const name = `Forecast ${i + 1}/${candidates.length}: ${rel(file)}`;
      let last = '';
      const method = forecaster?.method ?? 'mdf';
      const outcome = await step(
        steps,
        name,
        async () => {
          if (method !== 'mdf') {
            const report = await runPythonForecast(
              {
                python: python.path,
                packageDir: packageDir!,
                model: source.dir,
                data: file,
                method,
                probes: suites.map((s) => s.source),
                threads: options.threads || undefined,
                noCache: options.cache === false,
              },
              { signal: options.signal, onProgress: (m) => say(`  [${method}] ${m}`) },
            );
            return { report, reused: false };
          }
          return forecastCached(model, file, {
            suites,
            modelHash: modelFingerprint(ready.dir),
            modelPath: ready.dir,
            modelLabel: modelLabel(source),
            alphas: options.alphas ?? MDF_DEFAULTS.alphas,
            samples: options.records ?? MDF_DEFAULTS.samples,
            scoring: options.scoring ?? MDF_DEFAULTS.scoring,
            cacheDir: options.cache === false ? undefined : reportCacheDir(options.workspace),
            signal: options.signal,
            onProgress: (p) => {
              if (p.stage !== last) say(`  [${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.message}`);
              last = p.stage;
            },
          });
        },
        say,
      );
      if (outcome) {
        forecasts.push({
          file: rel(file),
          role: candidateRole(file),
          reused: outcome.reused,
          report: { ...outcome.report, file: { ...outcome.report.file, path: rel(file) }, forecaster: forecaster ?? undefined },
        });
        const r = outcome.report;
        say(
          `  max risk ${r.summary.maxRisk}${r.summary.flagged.length ? ` (${r.summary.flagged.join(', ')})` : ''}${method === 'mdf' ? `, alpha ${r.alpha.chosen}` : ''}${outcome.reused ? ', reused from the cache' : ''}`,
        );
      }
    }
    if (candidates.length === 0) steps.push({ name: 'Forecast', ms: 0, status: 'skipped', note: `no candidate files in ${rel(mdfDir)}` });

    // 4. annotation analysis with its human test
    const labels = join(examples, 'annotations.csv');
    const human = join(examples, 'annotations-human.csv');
    const annotation = await step(
      steps,
      'Annotation analysis',
      async () => {
        const { report } = await analyzeAnnotations({ path: labels }, [{ path: human }], { signal: options.signal });
        say(`  accuracy ${((report.llm.metrics.accuracy.value ?? 0) * 100).toFixed(1)}%, human test of ${report.human?.items ?? 0} items`);
        return { labels: rel(labels), human: rel(human), report };
      },
      say,
    );

    // 5. BEAR beam-pruning audit of the recommendation example under the same model
    const recs = join(examples, 'recommendations.jsonl');
    const bear = await step(
      steps,
      'BEAR beam-pruning audit',
      async () => {
        const { records, skipped } = parseRecommendations(readFileSync(recs, 'utf8'));
        const audit = await pruningAudit(model, records, {
          beam: 10,
          signal: options.signal,
          onProgress: (done, total) => done === total && say(`  ${total} users scored`),
        });
        say(
          `  target in top 10 for ${(audit.targetInTopB * 100).toFixed(0)}% of users; beam search loses ${(audit.prunedGivenTopB * 100).toFixed(0)}% of those`,
        );
        return { file: rel(recs), ...audit, skipped };
      },
      say,
    );

    return {
      schema: DEMO_SCHEMA,
      createdAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        load1: loadavg()[0],
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      model: {
        name: source.name,
        isDefault: source.isDefault,
        source: source.isDefault ? `models/${source.name}` : source.dir,
        built: ready.dir,
        note: source.isDefault ? DEFAULT_MODEL_NOTE : null,
        family: model.info.family,
        numLayers: model.info.numLayers,
        hiddenSize: model.info.hiddenSize,
        provider: model.info.provider,
      },
      steps,
      validation,
      forecasts,
      forecaster,
      annotation,
      bear,
      totalMs: Date.now() - started,
    };
  } finally {
    await model.dispose();
  }
}
