// `preflight annotate`: annotation error analysis (DESIGN.md §5, docs/annotation.md).
//   preflight annotate <labels.csv> --human <human.csv> [...]     the report (table or --json)
//   preflight annotate sample <labels.csv> --n 40 --out sheet.csv  draw the human test, write the coder sheet
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { analyzeAnnotations, AnnotationInputError, formatReport, sampleHumanTest } from '../../core/annotation';
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

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
  switches: Set<string>;
}

const VALUE_FLAGS = new Set(['--human', '--levels', '--bootstrap', '--seed', '--confidence', '--out', '--gold-col', '--llm-col', '--id-col', '--text-col', '--group-col', '--human-annotator-col', '--human-id-col', '--human-label-col', '--n', '--coders']);
const SWITCHES = new Set(['--json', '--no-groups']);

function parseArgs(args: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      if (SWITCHES.has(name)) {
        switches.add(name);
        continue;
      }
      if (!VALUE_FLAGS.has(name)) throw new UsageError(`unknown option '${name}' (see --help)`);
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else positional.push(arg);
  }
  return { positional, flags, switches };
}

function one(p: Parsed, name: string): string | undefined {
  const values = p.flags.get(name);
  return values ? values[values.length - 1] : undefined;
}

function number(p: Parsed, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const raw = one(p, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${name} must be ${what} (got '${raw}')`);
  return n;
}

function list(raw: string | undefined): string[] | undefined {
  return raw === undefined ? undefined : raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

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
    if (error && typeof error === 'object' && 'code' in error && String((error as { code: unknown }).code).startsWith('CSV_')) throw new UsageError(`unreadable CSV: ${oneLine(error)}`);
    if (error && typeof error === 'object' && 'code' in error && ['ENOENT', 'EACCES', 'EISDIR'].includes(String((error as { code: unknown }).code))) throw new UsageError(oneLine(error));
    throw error;
  }
}

function columns(p: Parsed) {
  const groups = p.switches.has('--no-groups') ? [] : list(one(p, '--group-col'));
  return { gold: one(p, '--gold-col'), llm: one(p, '--llm-col'), id: one(p, '--id-col'), text: one(p, '--text-col'), groups };
}

export const annotateCommand: CliCommand = {
  name: 'annotate',
  summary: 'Annotation error analysis: agreement, error taxonomy and decomposition',
  usage: USAGE,
  async run(args, io) {
    const p = parseArgs(args);
    if (p.positional[0] === 'sample') {
      const file = p.positional[1];
      if (!file || p.positional.length > 2) throw new UsageError('usage: preflight annotate sample <labels.csv> --n N --out <sheet.csv>');
      readable(file, 'labels file');
      const n = number(p, '--n', (x) => Number.isInteger(x) && x > 0, 'a positive integer');
      if (n === undefined) throw new UsageError('sample needs --n N (items to draw)');
      const out = one(p, '--out');
      if (!out) throw new UsageError('sample needs --out <sheet.csv>');
      refuseOwnInput(out, [file]);
      const seed = number(p, '--seed', Number.isInteger, 'an integer') ?? 1;
      const sample = await guard(() => sampleHumanTest({ path: file }, { n, seed, coders: list(one(p, '--coders')), levels: list(one(p, '--levels')), columns: columns(p) }));
      writeFileSync(out, sample.sheet);
      if (p.switches.has('--json')) io.stdout(`${JSON.stringify({ out, seed, scale: sample.scale.levels, allocation: sample.allocation, items: sample.items }, null, 2)}\n`);
      else {
        const alloc = Object.entries(sample.allocation).map(([level, k]) => `${level} ${k}`).join(', ');
        io.stdout(`Wrote ${out}: ${sample.items.length} items (${alloc}) for coders ${(list(one(p, '--coders')) ?? ['A1', 'A2']).join(', ')}, seed ${seed}.\nFill in the Label column, then: preflight annotate ${file} --human ${out}\n`);
      }
      return EXIT_OK;
    }
    const file = p.positional[0];
    if (!file) throw new UsageError('missing <labels.csv> (see --help)');
    if (p.positional.length > 1) throw new UsageError(`unexpected argument '${p.positional[1]}' (one labels file; human tests go after --human)`);
    readable(file, 'labels file');
    const humans = p.flags.get('--human') ?? [];
    for (const h of humans) readable(h, 'human test');
    const outFile = one(p, '--out');
    if (outFile) refuseOwnInput(outFile, [file, ...humans]);
    const resamples = number(p, '--bootstrap', (x) => Number.isInteger(x) && x >= 0 && x <= 1_000_000, 'an integer from 0 to 1000000');
    const seed = number(p, '--seed', Number.isInteger, 'an integer');
    const confidence = number(p, '--confidence', (x) => x > 0 && x < 1, 'between 0 and 1');
    const analysis = await guard(() =>
      analyzeAnnotations(
        { path: file },
        humans.map((path) => ({ path })),
        {
          levels: list(one(p, '--levels')),
          columns: columns(p),
          humanColumns: { annotator: one(p, '--human-annotator-col'), id: one(p, '--human-id-col'), label: one(p, '--human-label-col') },
          resamples,
          seed,
          confidence,
        },
      ),
    );
    const json = `${JSON.stringify(analysis.report, null, 2)}\n`;
    const out = one(p, '--out');
    if (out) writeFileSync(out, json);
    io.stdout(p.switches.has('--json') ? json : formatReport(analysis.report));
    return EXIT_OK;
  },
};
