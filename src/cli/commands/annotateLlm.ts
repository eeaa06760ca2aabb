// `preflight annotate-llm <labels.csv> --text-column C ...`: label a CSV on an ordered scale with
// the local model (docs/annotation.md), optionally followed by the annotation analysis and the
// calibration of the model's confidences (--analyze). The work is src/core/annotation/llmAnnotate.ts.
import { readFileSync, statSync } from 'node:fs';
import { analyzeAnnotations, formatReport } from '../../core/annotation';
import { calibrationOf, formatCalibration } from '../../core/annotation/calibration';
import { AnnotationInputError } from '../../core/annotation/errors';
import { InputFileError } from '../../core/io/regularFile';
import {
  annotateWithModel,
  checkOutputPath,
  DEFAULT_BATCH_ROWS,
  DEFAULT_SHOTS,
  defaultOutputPath,
  LLM_CONFIDENCE_COLUMN,
  LLM_LABEL_COLUMN,
} from '../../core/annotation/llmAnnotate';
import { intFlag, listFlag, parseFlags, seedFlag, threadsFlag } from '../args';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { MODEL_FLAG_HELP, WEIGHTS_FLAG_HELP, openCliModel, parseProvider, parseWeights } from '../model';

const USAGE = [
  'preflight annotate-llm <labels.csv> --text-column C [--levels a,b,c] [--model DIR] [options]',
  '',
  'Labels every row of a CSV on an ordered scale with the local model and writes a copy with the',
  `columns ${LLM_LABEL_COLUMN} and ${LLM_CONFIDENCE_COLUMN} (the input is never written). The label is the level whose name`,
  "the model finds most probable as its answer; the confidence is that level's probability normalised",
  'over the levels. Rows an existing output already labelled are kept (resume).',
  '',
  '  --text-column C     the column with the text to label (required)',
  '  --levels a,b,c      the scale, lowest first, spelled as the model should answer (default: detected',
  '                      from the gold column)',
  '  --gold-column C     the gold label column the examples come from (default: detected by name)',
  '  --definitions FILE  JSON object {"level": "definition", ...} shown with the levels',
  `  --shots N           gold-labelled examples per prompt, stratified over the levels, never the row itself (default ${DEFAULT_SHOTS})`,
  MODEL_FLAG_HELP,
  WEIGHTS_FLAG_HELP,
  '  --out FILE          the labelled copy (default <input stem>.llm.csv beside the input; never the input)',
  '  --seed S            seed of the example draw (default 1)',
  `  --batch N           rows per model call (default ${DEFAULT_BATCH_ROWS})`,
  '  --no-resume         relabel every row even when --out already holds labels',
  '  --analyze           then run the annotation analysis on the copy, with the calibration of the confidences',
  '  --human FILE        human test for --analyze (repeatable; see preflight annotate)',
  '  --bootstrap N       resamples of the analysis intervals (default 1000)',
  '  --json              print a JSON summary (and the analysis and calibration with --analyze)',
  '  --threads N, --provider auto|cpu|cuda',
  '',
  'Progress goes to stderr. Ctrl+C stops within a second and still writes the copy (rows not reached',
  'stay blank; run the same command again to resume). Exit status: 0 ok, 2 unusable input, 130 cancelled.',
].join('\n');

const MAX_DEFINITIONS_BYTES = 1 << 20;

function readDefinitions(path: string): Record<string, string> {
  let text: string;
  try {
    if (statSync(path).size > MAX_DEFINITIONS_BYTES) throw new UsageError(`--definitions ${path}: over 1 MB`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--definitions ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--definitions ${path}: not JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new UsageError(`--definitions ${path}: expected a JSON object mapping each level to its definition, e.g. {"low": "…", "high": "…"}`);
  }
  return value as Record<string, string>;
}

const FLAGS = {
  'text-column': { type: 'string' },
  levels: { type: 'string' },
  'gold-column': { type: 'string' },
  definitions: { type: 'string' },
  shots: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  'no-resume': { type: 'boolean' },
  analyze: { type: 'boolean' },
  human: { type: 'string', multiple: true },
  bootstrap: { type: 'string' },
  json: { type: 'boolean' },
  threads: { type: 'string' },
  provider: { type: 'string' },
  weights: { type: 'string' },
} as const;

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

export const annotateLlmCommand: CliCommand = {
  name: 'annotate-llm',
  summary: 'Label a CSV on an ordered scale with the local model (then --analyze its errors)',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, FLAGS, { positionals: true });
    // every flag is checked before any file is read or the model loads (a bad --bootstrap must not wait for the labelling)
    const provider = parseProvider(values.provider);
    const weights = parseWeights(values.weights);
    const threads = threadsFlag(values.threads);
    const shots = intFlag(values.shots, 'shots', DEFAULT_SHOTS, { min: 0, max: 64 });
    const seed = seedFlag(values.seed, 1);
    const batchRows = intFlag(values.batch, 'batch', DEFAULT_BATCH_ROWS, { min: 1, max: 1024 });
    const resamples = intFlag(values.bootstrap, 'bootstrap', 1000, { min: 0, max: 1_000_000 });
    if (positionals.length !== 1) throw new UsageError('expected one labels file (CSV)');
    const input = positionals[0];
    try {
      if (!statSync(input).isFile()) throw new UsageError(`${input} is not a file`);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`labels file '${input}' not found`);
    }
    if (!values['text-column']) throw new UsageError('--text-column C is required (the column with the text to label)');
    const levels = listFlag(values.levels);
    const definitions = values.definitions ? readDefinitions(values.definitions) : undefined;
    const out = values.out ?? defaultOutputPath(input);
    for (const human of values.human ?? []) {
      try {
        statSync(human);
      } catch {
        throw new UsageError(`human test '${human}' not found`);
      }
    }
    try {
      checkOutputPath(input, out);
    } catch (error) {
      throw new UsageError(oneLine(error));
    }

    const { model, ready } = await openCliModel(values.model, io, { provider, threads, weights });
    const abort = new AbortController();
    const onSigint = () => {
      io.stderr('\ncancelling: finishing the copy (rows not reached stay blank)…\n');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    let lastLine = 0;
    let result;
    try {
      result = await annotateWithModel(model, input, {
        textColumn: values['text-column'],
        out,
        levels,
        goldColumn: values['gold-column'],
        definitions,
        shots,
        seed,
        batchRows,
        resume: !values['no-resume'],
        signal: abort.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastLine < 2000 && p.rows < p.total) return;
          lastLine = now;
          const share = p.total ? Math.round((100 * p.rows) / p.total) : 100;
          io.stderr(
            `[${String(share).padStart(3)}%] ${p.rows}/${p.total} rows (${p.labeled} labelled${p.kept ? `, ${p.kept} kept from the earlier output` : ''}) ${p.rowsPerSecond.toFixed(1)} rows/s\n`,
          );
        },
      });
    } catch (error) {
      if (error instanceof AnnotationInputError || error instanceof InputFileError) throw new UsageError(oneLine(error));
      if (error && typeof error === 'object' && 'code' in error && String((error as { code: unknown }).code).startsWith('CSV_'))
        throw new UsageError(`unreadable CSV: ${oneLine(error)}`);
      throw error;
    } finally {
      process.removeListener('SIGINT', onSigint);
      await model.dispose();
    }
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    const summary = `${result.cancelled ? 'Cancelled: ' : ''}wrote ${result.out}: ${result.rows} rows, ${result.labeled} labelled by the model${result.kept ? `, ${result.kept} kept` : ''}${result.emptyText ? `, ${result.emptyText} with no text` : ''}${result.truncated ? `, ${result.truncated} with the text cut to fit` : ''}; levels ${result.levels.join(' < ')}; ${result.shots.length} examples per prompt; ${result.rowsPerSecond.toFixed(1)} rows/s (${result.seconds.toFixed(1)} s in all)`;
    let analysis;
    let calibration;
    if (values.analyze && !result.cancelled) {
      try {
        const analyzed = await analyzeAnnotations(
          { path: result.out },
          (values.human ?? []).map((path) => ({ path })),
          {
            levels: result.levels,
            columns: { gold: result.goldColumn ?? undefined, llm: LLM_LABEL_COLUMN, text: result.textColumn },
            resamples,
          },
        );
        analysis = analyzed.report;
        calibration = await calibrationOf({ path: result.out }, analyzed, LLM_CONFIDENCE_COLUMN);
      } catch (error) {
        if (error instanceof AnnotationInputError) throw new UsageError(`--analyze: ${oneLine(error)}`);
        throw error;
      }
    }
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ kind: 'preflight.annotate-llm', version: 1, model: { dir: ready.dir, isDefault: ready.source.isDefault, family: model.info.family, provider: model.info.provider }, result, ...(analysis ? { analysis } : {}), ...(calibration ? { calibration } : {}) }, null, 2)}\n`,
      );
    } else {
      io.stdout(`${summary}\n`);
      if (analysis) io.stdout(`\n${formatReport(analysis)}`);
      if (calibration) io.stdout(`\n${formatCalibration(calibration)}`);
      if (result.cancelled) io.stdout(`Run the same command again to label the remaining rows.\n`);
    }
    return result.cancelled ? 130 : EXIT_OK;
  },
};
