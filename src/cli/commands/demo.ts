// `preflight demo`: the main job on the bundled examples with the bundled model (what `npm run
// demo` runs), written as one self-contained HTML report with charts and a Markdown summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BENCHMARK_BEST, METHOD_CHOICES } from '../../core/mdf/forecaster';
import { packageRoot } from '../../core/model/modelSource';
import { runDemo } from '../../core/report/demo';
import { renderHtml } from '../../core/report/html';
import { renderMarkdown } from '../../core/report/markdown';
import { MDF_SETTINGS, MdfScoring } from '../../core/settings/schema';
import { choiceFlag, parseFlags, threadsFlag } from '../args';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { MODEL_FLAG_HELP } from '../model';

const USAGE = [
  'preflight demo [--examples DIR] [--out DIR] [--model DIR] [--method M] [--python PATH] [--scoring MODE] [--no-cache] [--json]',
  '',
  'Runs validation, the behaviour forecast of each file in <examples>/mdf/, the annotation analysis',
  '(annotations.csv with its human test annotations-human.csv) and the BEAR beam-pruning audit',
  '(recommendations.jsonl), then writes <out>/report.html (self-contained, charts) and <out>/report.md.',
  '',
  "  --examples DIR        the examples folder (default: the package's examples/)",
  '  --out DIR             where the report goes (default preflight-report)',
  MODEL_FLAG_HELP,
  `  --method M            the forecaster: ${METHOD_CHOICES.join(' | ')} (default auto: the benchmark's best, ${BENCHMARK_BEST}, when the model`,
  '                        is a Hugging Face checkpoint and the Python has torch, else MDF; the report says which ran and why)',
  '  --python PATH         the interpreter with torch (default: /usr/bin/python3 on Linux, else python3 on PATH)',
  '  --scoring MODE        MDF scoring: both | logprob | generation (default logprob: the demo stays under 3 minutes on 2 cores)',
  '  --no-cache            recompute forecasts even when file, model and settings are unchanged',
  '  --json                also write <out>/report.json',
  '  --threads N           ONNX Runtime CPU threads (default 0: ONNX Runtime decides)',
].join('\n');

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the main job on the bundled examples; write an HTML + Markdown report',
  usage: USAGE,
  async run(args, io) {
    const { values } = parseFlags(args, {
      examples: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      scoring: { type: 'string' },
      'no-cache': { type: 'boolean' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      method: { type: 'string' },
      python: { type: 'string' },
    });
    const method = choiceFlag(values.method, 'method', METHOD_CHOICES, 'auto');
    const scoring = choiceFlag(values.scoring, 'scoring', MDF_SETTINGS.scoring.enum as readonly MdfScoring[], 'logprob');
    const threads = threadsFlag(values.threads);
    const root = packageRoot();
    const examples = resolve(values.examples ?? join(root ?? '.', 'examples'));
    const out = resolve(values.out ?? 'preflight-report');
    const started = Date.now();
    const stamp = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
    let report;
    try {
      report = await runDemo({
        examples,
        workspace: process.cwd(),
        model: values.model,
        scoring,
        threads,
        method,
        python: values.python,
        cache: !values['no-cache'],
        onProgress: (message) => io.stderr(`${stamp()} ${message}\n`),
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message.split('\n')[0] : String(error));
    }
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'report.html'), renderHtml(report));
    writeFileSync(join(out, 'report.md'), renderMarkdown(report));
    if (values.json) writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const failed = report.steps.filter((s) => s.status === 'failed');
    io.stdout(
      `${failed.length ? `Demo finished with ${failed.length} failed step(s): ${failed.map((s) => s.name).join(', ')}.\n` : ''}Report: ${join(relative(process.cwd(), out) || '.', 'report.html')} (summary: ${join(relative(process.cwd(), out) || '.', 'report.md')}) in ${(report.totalMs / 1000).toFixed(1)} s\n`,
    );
    return failed.length ? 1 : EXIT_OK;
  },
};
