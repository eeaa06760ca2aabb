// Which forecaster a behaviour forecast runs: one rule for the CLI (`preflight mdf`, `preflight demo`)
// and the extension, so the product defaults to the best forecaster that can run where the user is.
// The ranking comes from the Data2Behavior benchmark (docs/data2behavior.md, section 3): on
// preflight-tiny the AdamW-aware gradient alignment (Python with torch) predicts real fine-tunes best; MDF (ONNX Runtime)
// runs anywhere but showed no predictive value there. Every report says which forecaster ran and why.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FORECAST_METHODS, ForecastMethod } from './pythonForecast';

/**
 * The best forecaster of bench/data2behavior/results.json among those the product offers
 * (docs/data2behavior.md, section 3; on preflight-tiny fa866480cc3b2eb4: gradient-adam rho 0.58,
 * gradient 0.39, lookahead 0.39, MDF -0.02). test/unit/mdf/forecaster.test.ts holds it to the
 * committed results: rerun the benchmark, update this.
 */
export const BENCHMARK_BEST: ForecastMethod = 'gradient-adam';

/** What a user can ask for: a forecaster by name, or 'auto' (this module's rule). */
export const METHOD_CHOICES = ['auto', ...FORECAST_METHODS] as const;
export type MethodChoice = (typeof METHOD_CHOICES)[number];

/** What a report carries about its forecaster (report.forecaster). */
export interface ForecasterChoice {
  method: ForecastMethod;
  requested: MethodChoice;
  reason: string;
}

export interface PythonCheck {
  ok: boolean;
  /** 'torch 1.13.1', or why the interpreter cannot run the forecasters */
  detail: string;
}

/** The interpreter used when none is configured: Debian's /usr/bin/python3 (the one with python3-torch), else python3 on PATH. */
export function systemPython(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux' && existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  return platform === 'win32' ? 'python' : 'python3';
}

/** How long an interpreter gets to import torch: ~2 s on a quiet machine, over a minute on this project's loaded 2-core VM. */
const CHECK_TIMEOUT_MS = 180_000;
const checks = new Map<string, Promise<PythonCheck>>();

/**
 * Can `python` run `python -m preflight_train forecast`? Imports torch and preflight_train (from
 * `packageDir`, run there so that nothing is imported from the user's folder) and, given the
 * checkpoint, loads its tokenizer with preflight_train's own rule (a Hugging Face tokenizer needs
 * transformers); answered once per interpreter, checkpoint and process.
 */
export function checkPython(python: string, packageDir: string, modelDir?: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<PythonCheck> {
  const key = `${python}\0${packageDir}\0${modelDir ?? ''}`;
  let check = checks.get(key);
  if (!check) {
    check = probe(python, packageDir, modelDir, timeoutMs);
    checks.set(key, check);
  }
  return check;
}

const PROBE = [
  'import sys, torch, preflight_train',
  'if len(sys.argv) > 1:',
  '    from preflight_train.tokenizer import load_tokenizer',
  '    load_tokenizer(sys.argv[1])',
  'print(torch.__version__)',
].join('\n');

function probe(python: string, packageDir: string, modelDir: string | undefined, timeoutMs: number): Promise<PythonCheck> {
  return new Promise((resolvePromise) => {
    const existing = process.env.PYTHONPATH;
    let child;
    try {
      child = spawn(python, ['-c', PROBE, ...(modelDir ? [modelDir] : [])], {
        cwd: packageDir,
        env: { ...process.env, PYTHONPATH: existing ? `${packageDir}${delimiter}${existing}` : packageDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      resolvePromise({ ok: false, detail: `cannot start it (${error instanceof Error ? error.message : String(error)})` });
      return;
    }
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t.slice(0, 1000)));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err = (err + t).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ ok: false, detail: `cannot start it (${error.message})` });
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) resolvePromise({ ok: true, detail: `torch ${out.trim().split('\n').pop()}` });
      else if (signal) resolvePromise({ ok: false, detail: `it did not import torch within ${timeoutMs / 1000} s` });
      else {
        const last = err.trim().split('\n').pop() ?? '';
        const missing = /No module named '([^']+)'/.exec(last);
        resolvePromise({ ok: false, detail: missing ? `it has no ${missing[1]}` : `it cannot load the forecasters (${last.slice(0, 200)})` });
      }
    });
  });
}

export interface ChoiceInputs {
  requested: MethodChoice;
  /** false in an untrusted VS Code workspace: no Python runs there */
  trusted: boolean;
  /** the model's folder: a Hugging Face checkpoint (what the Python forecasters load) or a built ONNX model */
  modelKind: 'checkpoint' | 'built';
  /** that folder (the check loads its tokenizer the way the forecasters do) */
  modelDir?: string;
  /** the interpreter and where its path came from (a setting, --python, the system default) */
  python: { path: string; source: string };
  /** <package root>/python, the folder that holds preflight_train; null when the package is not found */
  packageDir: string | null;
  /** MDF-only options the user set (e.g. --scoring, --reference): they ask for MDF */
  mdfOptions?: string[];
}

const LABEL: Record<ForecastMethod, string> = {
  mdf: 'MDF',
  gradient: 'gradient alignment',
  'gradient-adam': 'AdamW-aware gradient alignment',
  lookahead: 'look-ahead',
};

/**
 * The rule. An explicit method runs as asked (the Python ones refused in an untrusted workspace).
 * 'auto' runs BENCHMARK_BEST when it can run here (a trusted workspace, a Hugging Face checkpoint,
 * an interpreter that imports torch and preflight_train, no MDF-only option given), else MDF, which
 * runs anywhere on ONNX Runtime. The reason says which condition decided.
 */
export async function chooseForecaster(o: ChoiceInputs): Promise<ForecasterChoice> {
  const requested = o.requested;
  if (requested !== 'auto') {
    if (requested !== 'mdf' && !o.trusted) throw new Error(`--method ${requested} runs Python, which is disabled in an untrusted workspace`);
    return { method: requested, requested, reason: `${LABEL[requested]} was asked for (method ${requested})` };
  }
  const best = BENCHMARK_BEST;
  const mdf = (why: string): ForecasterChoice => ({
    method: 'mdf',
    requested,
    reason: `MDF, because ${LABEL[best]} (the best forecaster of the Data2Behavior benchmark, docs/data2behavior.md) cannot run here: ${why}`,
  });
  if (best === 'mdf') return { method: 'mdf', requested, reason: 'MDF is the best forecaster of the Data2Behavior benchmark (docs/data2behavior.md)' };
  if (o.mdfOptions?.length)
    return {
      method: 'mdf',
      requested,
      reason: `MDF, because MDF-only options were given (${o.mdfOptions.map((n) => `--${n}`).join(', ')}); pass --method ${best} for ${LABEL[best]}`,
    };
  if (!o.trusted) return mdf('the workspace is not trusted, so no Python runs');
  if (o.modelKind !== 'checkpoint') return mdf('the model is a built ONNX folder; the Python forecasters need the Hugging Face checkpoint it was built from');
  if (!o.packageDir) return mdf("the Preflight package's python/ folder was not found");
  const check = await checkPython(o.python.path, o.packageDir, o.modelDir);
  if (!check.ok)
    return mdf(
      `the Python ${o.python.path} (${o.python.source}) cannot run it: ${check.detail}; set preflight.python.path or pass --python to an interpreter with torch`,
    );
  return {
    method: best,
    requested,
    reason: `${LABEL[best]}, the best forecaster of the Data2Behavior benchmark (docs/data2behavior.md), runs here: ${o.python.path} (${o.python.source}) has ${check.detail}`,
  };
}

/** <package root>/python when it holds preflight_train. */
export function pythonPackageDir(root: string | null): string | null {
  const dir = root ? join(root, 'python') : null;
  return dir && existsSync(join(dir, 'preflight_train', '__init__.py')) ? dir : null;
}
