// `preflight validate`: findings at exact lines, like a compiler; JSON with --json.
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { intFlag, listFlag, parseFlags } from '../args';
import { CliCommand, CliIO, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from '../command';
import { InputError } from '../../shared/errors';
import { Finding, PARALLEL_MIN_BYTES, ValidationOptions, ValidationResult, formatOf, isDataFileOnDisk, validateFile } from '../../core/data';

const USAGE = `Usage: preflight validate <files-or-dirs...> [options]

Checks JSONL/JSON training files (chat messages, ShareGPT, prompt/completion, Alpaca, text,
recommendation records) and CSV annotation files. Directories are searched for .jsonl, .json
and .csv files.

Options:
  --json                 print {version, findings, summaries} as JSON
  --max-findings N       findings kept per file (default 1000; the summary counts all)
  --context-limit N      context length in tokens for the length check (default 4096)
  --tokenizer FILE       tokenizer.json for exact token counts (otherwise estimated)
  --levels a,b,c         CSV: the ordered label scale
  --label-columns x,y    CSV: columns that must hold labels on the scale
                         (default with --levels: columns whose values are mostly on it)
  --workers N            threads for JSON Lines files of 64 MB or more (default: the
                         number of CPUs, at most 4; 1 = one pass); same findings either way

Exit status: 0 no errors, 1 errors found, 2 bad usage or unreadable input.`;

export const JSON_REPORT_VERSION = 1;

interface Parsed {
  paths: string[];
  json: boolean;
  options: ValidationOptions;
  /** --workers; undefined: the default */
  workers?: number;
}

/** Threads for a large JSON Lines file when --workers is not given. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

const FLAGS = {
  json: { type: 'boolean' },
  'max-findings': { type: 'string' },
  'context-limit': { type: 'string' },
  tokenizer: { type: 'string' },
  levels: { type: 'string' },
  'label-columns': { type: 'string' },
  workers: { type: 'string' },
} as const;

function nonEmptyList(flag: string, value: string | undefined): string[] | undefined {
  const items = listFlag(value);
  if (items !== undefined && items.length === 0) throw new UsageError(`--${flag} needs a comma-separated list`);
  return items;
}

export function parseValidateArgs(args: string[]): Parsed {
  const { values, positionals } = parseFlags(args, FLAGS, { positionals: true });
  if (values.tokenizer === '') throw new UsageError('--tokenizer needs a path to tokenizer.json');
  const options: ValidationOptions = {
    maxFindings: intFlag(values['max-findings'], 'max-findings', undefined, { min: 1 }),
    contextLimit: intFlag(values['context-limit'], 'context-limit', undefined, { min: 1 }),
    tokenizerPath: values.tokenizer,
    labelLevels: nonEmptyList('levels', values.levels),
    labelColumns: nonEmptyList('label-columns', values['label-columns']),
  };
  // absent options stay absent: the core's defaults apply
  for (const key of Object.keys(options) as (keyof ValidationOptions)[]) if (options[key] === undefined) delete options[key];
  const parsed: Parsed = { paths: positionals, json: values.json ?? false, options, workers: intFlag(values.workers, 'workers', undefined, { min: 1 }) };
  if (parsed.paths.length === 0) throw new UsageError('no files given. Usage: preflight validate <files-or-dirs...> [--json]');
  if (parsed.options.labelColumns && !parsed.options.labelLevels) throw new UsageError('--label-columns needs --levels (the scale the labels must be on)');
  return parsed;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

/** The data files named by the arguments: files as given, directories searched recursively. */
export async function expandPaths(paths: string[], walked: Set<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new UsageError(
        `cannot read '${path}': ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`,
      );
    }
    if (!info.isDirectory()) {
      out.push(path);
      continue;
    }
    const found: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
        const child = join(dir, entry.name);
        if (entry.isDirectory()) await walk(child);
        else if (!entry.isFile() && formatOf(child)) {
          // a FIFO, device, socket or link with a data file's name: validating it reports what it
          // is, and the run goes on (links to folders are not followed: no cycles)
          if (
            entry.isSymbolicLink() &&
            (await stat(child).then(
              (s) => s.isDirectory(),
              () => false,
            ))
          )
            continue;
          found.push(child);
          walked.add(child);
        } else if (entry.isFile() && formatOf(child) && (await isDataFileOnDisk(child))) {
          // an unreadable .json is kept: validating it reports why, and the run goes on
          found.push(child);
          walked.add(child);
        }
      }
    };
    await walk(path);
    if (found.length === 0) throw new UsageError(`no .jsonl, .json or .csv files in '${path}'`);
    out.push(...found);
  }
  return out;
}

function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code}: ${f.message}${f.fix ? ` [fix: ${f.fix.title}]` : ''}`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Check JSONL/JSON/CSV training and annotation files; findings at exact lines',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const { paths, json, options, workers } = parseValidateArgs(args);
    const walked = new Set<string>();
    const files = await expandPaths(paths, walked);
    const results: ValidationResult[] = [];
    let skipped = 0;
    for (const file of files) {
      try {
        // large JSON Lines files are cut into byte ranges validated in worker threads
        const large = formatOf(file) === 'jsonl' && (await stat(file)).size >= PARALLEL_MIN_BYTES;
        results.push(await validateFile(file, large ? { ...options, workers: workers ?? defaultWorkers() } : options));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (error instanceof InputError && error.code === 'tokenizer') throw new UsageError(error.message);
        if (code && walked.has(file)) {
          // found by walking a folder: one unreadable file is reported and the others still checked
          io.stderr(`preflight validate: skipped '${file}': ${(error as Error).message}\n`);
          skipped++;
          continue;
        }
        if (code) throw new UsageError(`cannot read '${file}': ${(error as Error).message}`);
        throw error;
      }
    }
    const errors = results.reduce((n, r) => n + r.summary.errors, 0);
    if (json) {
      const report = {
        version: JSON_REPORT_VERSION,
        findings: results.flatMap((r) => r.findings),
        summaries: results.map((r) => r.summary),
      };
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines: string[] = [];
      for (const r of results) {
        for (const f of r.findings) lines.push(formatFinding(f));
        const s = r.summary;
        const counts =
          s.errors + s.warnings + s.infos === 0 ? 'no findings' : `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${plural(s.infos, 'info')}`;
        lines.push(`${s.file}: ${plural(s.records, 'record')}${s.schema ? ` (${s.schema})` : ''}: ${counts}${s.truncated ? ' (findings truncated)' : ''}`);
        const byCode = Object.entries(s.byCode ?? {}).filter(([code]) => code !== 'findings-truncated');
        if (byCode.length > 1 || s.truncated) {
          byCode.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
          lines.push(`  by code: ${byCode.map(([code, n]) => `${code} ${n.toLocaleString('en-US')}`).join(', ')}`);
        }
      }
      const warnings = results.reduce((n, r) => n + r.summary.warnings, 0);
      const infos = results.reduce((n, r) => n + r.summary.infos, 0);
      const records = results.reduce((n, r) => n + r.summary.records, 0);
      lines.push(
        `${plural(results.length, 'file')}, ${plural(records, 'record')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(infos, 'info')}`,
      );
      if (!options.tokenizerPath && results.some((r) => r.findings.some((f) => f.code === 'tokens-over-limit' || f.code === 'length-outlier'))) {
        lines.push('token counts are estimates; pass --tokenizer path/to/tokenizer.json for exact counts');
      }
      io.stdout(`${lines.join('\n')}\n`);
    }
    if (skipped > 0) io.stderr(`preflight validate: ${plural(skipped, 'file')} could not be read (see above)\n`);
    return skipped > 0 ? EXIT_USAGE : errors > 0 ? EXIT_FINDINGS : EXIT_OK;
  },
};
