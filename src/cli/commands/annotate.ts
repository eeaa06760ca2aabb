// `preflight annotate`: annotation error analysis (docs/annotation.md).
//   preflight annotate <labels.csv> --human <human.csv> [...]     the report (table or --json)
//   preflight annotate sample <labels.csv> --n 40 --out sheet.csv  draw the human test, write the coder sheet
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { analyzeAnnotations, AnnotationInputError, formatReport, sampleHumanTest } from '../../core/annotation';
import { intFlag, listFlag, numberFlag, parseFlags, seedFlag } from '../args';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { refuseOwnInput } from '../outPath';

const USAGE = `preflight annotate <labels.csv> [--human <human.csv> ...] [options]
preflight annotate sample <labels.csv> --n N --out <sheet.csv> [--seed S] [--coders A1,A2]

Annotation error analysis: the LLM's labels against gold on an ordered scale (accuracy,
boundary/conceptual error rates, bias, kappa, QWK, Krippendorff's alpha) and, with a human test,
the decomposition into task-inherent and model-specific errors (Xu et al., LAK 2026), all with
bootstrap intervals.

Options:
  --human FILE          human test (long: Annotator,ID,Label; wide: Annotator,ID,<one column per level>);
                        gold rows are annotator groundtruth/gold/gt, else gold comes from the labels file by ID.
                        Repeat for several files (e.g. one per coder).
  --levels a,b,c        the ordered scale, lowest first (default: detected; a guessed order is flagged)
  --bootstrap N         resamples for the intervals (default 1000; 0 = none)
  --seed S              seed of the bootstrap (default 1)
  --confidence C        interval level (default 0.95)
  --json                print the whole report as JSON
  --out FILE            also write the JSON report to FILE
  --gold-col C --llm-col C --id-col C --text-col C
                        columns of the labels file (default: detected by name)
  --group-col C[,C]     group columns (default: technique/model/condition/... by name); --no-groups to turn off
  --human-annotator-col C --human-id-col C --human-label-col C
                        columns of the human test (default: detected)
Sample options:
  --n N                 items to draw, stratified by gold label
  --out FILE            the coder sheet (CSV: Annotator,ID,Text,Label with blank labels)
  --coders A1,A2        coder names (default A1,A2)

Exit status: 0 ok, 2 unusable input (the reason on one line).`;

const FLAGS = {
  human: { type: 'string', multiple: true },
  levels: { type: 'string' },
  bootstrap: { type: 'string' },
  seed: { type: 'string' },
  confidence: { type: 'string' },
  out: { type: 'string' },
  'gold-col': { type: 'string' },
  'llm-col': { type: 'string' },
  'id-col': { type: 'string' },
  'text-col': { type: 'string' },
  'group-col': { type: 'string' },
  'human-annotator-col': { type: 'string' },
  'human-id-col': { type: 'string' },
  'human-label-col': { type: 'string' },
  n: { type: 'string' },
  coders: { type: 'string' },
  json: { type: 'boolean' },
  'no-groups': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

function readable(path: string, what: string): void {
  if (!existsSync(path)) throw new UsageError(`${what} '${path}' not found`);
  if (!statSync(path).isFile()) throw new UsageError(`${what} '${path}' is not a file`);
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof AnnotationInputError) throw new UsageError(oneLine(error));
    // csv-parse errors carry a code such as CSV_INVALID_CLOSING_QUOTE
    if (error && typeof error === 'object' && 'code' in error && String((error as { code: unknown }).code).startsWith('CSV_'))
      throw new UsageError(`unreadable CSV: ${oneLine(error)}`);
    if (error && typeof error === 'object' && 'code' in error && ['ENOENT', 'EACCES', 'EISDIR'].includes(String((error as { code: unknown }).code)))
      throw new UsageError(oneLine(error));
    throw error;
  }
}

function columns(v: Values) {
  const groups = v['no-groups'] ? [] : listFlag(v['group-col']);
  return { gold: v['gold-col'], llm: v['llm-col'], id: v['id-col'], text: v['text-col'], groups };
}

export const annotateCommand: CliCommand = {
  name: 'annotate',
  summary: 'Annotation error analysis: agreement, error taxonomy and decomposition',
  usage: USAGE,
  async run(args, io) {
    const { values: v, positionals } = parseFlags(args, FLAGS, { positionals: true });
    // every number is checked before any file is read
    const n = intFlag(v.n, 'n', undefined, { min: 1 });
    const seed = v.seed === undefined ? undefined : seedFlag(v.seed, 1);
    const resamples = intFlag(v.bootstrap, 'bootstrap', undefined, { min: 0, max: 1_000_000 });
    const confidence = numberFlag(v.confidence, 'confidence', undefined, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
    if (positionals[0] === 'sample') {
      const file = positionals[1];
      if (!file || positionals.length > 2) throw new UsageError('usage: preflight annotate sample <labels.csv> --n N --out <sheet.csv>');
      readable(file, 'labels file');
      if (n === undefined) throw new UsageError('sample needs --n N (items to draw)');
      const out = v.out;
      if (!out) throw new UsageError('sample needs --out <sheet.csv>');
      refuseOwnInput(out, [file]);
      const coders = listFlag(v.coders);
      const sample = await guard(() => sampleHumanTest({ path: file }, { n, seed: seed ?? 1, coders, levels: listFlag(v.levels), columns: columns(v) }));
      writeFileSync(out, sample.sheet);
      if (v.json)
        io.stdout(`${JSON.stringify({ out, seed: seed ?? 1, scale: sample.scale.levels, allocation: sample.allocation, items: sample.items }, null, 2)}\n`);
      else {
        const alloc = Object.entries(sample.allocation)
          .map(([level, k]) => `${level} ${k}`)
          .join(', ');
        io.stdout(
          `Wrote ${out}: ${sample.items.length} items (${alloc}) for coders ${(coders ?? ['A1', 'A2']).join(', ')}, seed ${seed ?? 1}.\nFill in the Label column, then: preflight annotate ${file} --human ${out}\n`,
        );
      }
      return EXIT_OK;
    }
    const file = positionals[0];
    if (!file) throw new UsageError('missing <labels.csv> (see --help)');
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (one labels file; human tests go after --human)`);
    readable(file, 'labels file');
    const humans = v.human ?? [];
    for (const h of humans) readable(h, 'human test');
    const out = v.out;
    if (out) refuseOwnInput(out, [file, ...humans]);
    const analysis = await guard(() =>
      analyzeAnnotations(
        { path: file },
        humans.map((path) => ({ path })),
        {
          levels: listFlag(v.levels),
          columns: columns(v),
          humanColumns: { annotator: v['human-annotator-col'], id: v['human-id-col'], label: v['human-label-col'] },
          resamples,
          seed,
          confidence,
        },
      ),
    );
    const json = `${JSON.stringify(analysis.report, null, 2)}\n`;
    if (out) writeFileSync(out, json);
    io.stdout(v.json ? json : formatReport(analysis.report));
    return EXIT_OK;
  },
};
