// Forecasters that need autograd run in Python (python -m preflight_train forecast, docs/data2behavior.md):
// gradient alignment, its AdamW-scaled variant and the look-ahead. This module builds the command,
// runs it with progress and cancel, and returns its report, which has the MDF report's schema.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MdfReport, reportProblems } from './report';
import { CancelledError } from '../../shared/errors';

/** The forecast methods a user can pick: MDF (ONNX Runtime, anywhere) and the Python ones (torch). */
export const FORECAST_METHODS = ['mdf', 'gradient', 'gradient-adam', 'lookahead'] as const;
export type ForecastMethod = (typeof FORECAST_METHODS)[number];

const PYTHON_METHOD: Record<Exclude<ForecastMethod, 'mdf'>, string> = { gradient: 'grad', 'gradient-adam': 'adam', lookahead: 'lookahead' };

export interface PythonForecastOptions {
  python: string;
  /** the folder that holds the preflight_train package (<package root>/python) */
  packageDir: string;
  /** a checkpoint in Hugging Face layout (what preflight_train loads), not a built ONNX folder */
  model: string;
  data: string;
  method: Exclude<ForecastMethod, 'mdf'>;
  /** probe suite files */
  probes: string[];
  outPath: string;
  samples?: number;
  seed?: number;
  threads?: number;
  /** recompute the neutral and calibration controls instead of reusing their cache */
  noCache?: boolean;
  existingPythonPath?: string;
  pathSeparator?: string;
}

export function pythonForecastCommand(o: PythonForecastOptions): { executable: string; args: string[]; env: Record<string, string> } {
  const sep = o.pathSeparator ?? ':';
  const args = ['-m', 'preflight_train', 'forecast', '--method', PYTHON_METHOD[o.method], '--model', o.model, '--data', o.data, '--out', o.outPath];
  for (const p of o.probes) args.push('--probes', p);
  if (o.samples !== undefined) args.push('--samples', String(o.samples));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.threads) args.push('--threads', String(o.threads));
  if (o.noCache) args.push('--no-cache');
  const pythonPath = o.existingPythonPath ? `${o.packageDir}${sep}${o.existingPythonPath}` : o.packageDir;
  return { executable: o.python, args, env: { PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' } };
}

/**
 * Runs the Python forecaster; progress lines ("[forecast] ...") go to onProgress; the signal kills it.
 * Rejects with the forecaster's own one-line error (exit 2) or the tail of its stderr.
 */
export async function runPythonForecast(
  o: Omit<PythonForecastOptions, 'outPath'>,
  hooks: { onProgress?: (message: string) => void; signal?: AbortSignal } = {},
): Promise<MdfReport> {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-forecast-'));
  const outPath = join(dir, 'report.json');
  // run in the package folder, never the user's: `python -m` imports from its working folder first
  const cmd = pythonForecastCommand({ ...o, model: resolve(o.model), data: resolve(o.data), probes: o.probes.map((p) => resolve(p)), outPath });
  try {
    const stderr: string[] = [];
    const code = await new Promise<number>((resolvePromise, reject) => {
      if (hooks.signal?.aborted) return reject(new CancelledError());
      const child = spawn(cmd.executable, cmd.args, { cwd: o.packageDir, env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      const onAbort = () => child.kill('SIGTERM');
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      let pending = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          stderr.push(line);
          if (stderr.length > 200) stderr.shift();
          const m = /^\[forecast\] (.*)$/.exec(line);
          if (m) hooks.onProgress?.(m[1]);
        }
      });
      child.on('error', (error) => reject(new Error(`${cmd.executable}: cannot start Python (${error.message}); set preflight.python.path or pass --python`)));
      child.on('close', (status) => {
        hooks.signal?.removeEventListener('abort', onAbort);
        if (hooks.signal?.aborted) reject(new CancelledError());
        else resolvePromise(status ?? 1);
      });
    });
    if (code !== 0) {
      const own = stderr.find((l) => l.startsWith('preflight_train forecast: '));
      throw new Error(own ? own.slice('preflight_train forecast: '.length) : `the Python forecaster exited with ${code}: ${stderr.slice(-5).join(' | ')}`);
    }
    const report = JSON.parse(readFileSync(outPath, 'utf8')) as MdfReport;
    const problems = reportProblems(report);
    if (problems.length)
      throw new Error(`the Python forecaster wrote a report that does not match ${report.schema ?? 'the schema'}: ${problems.slice(0, 3).join('; ')}`);
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
