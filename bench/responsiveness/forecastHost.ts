// How long an MDF forecast holds the calling thread (the extension host's, in the extension):
// the e2e responsiveness scenario's checkpoint and settings (test/e2e/scenarios/mdf.fixture.ts),
// the model in the inference worker (src/worker/client.ts), and the forecast's orchestration
// either on this thread against the worker's inference calls ("host", as before) or whole in the
// worker ("worker", WorkerModel.forecast, what the extension runs). A 10 ms timer on this thread
// records how late it fires: the longest lateness is the longest stall. Run after `npm run build`:
//   node --import tsx bench/responsiveness/forecastHost.ts [host|worker]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProbeSuites } from '../../src/core/mdf/probes';
import { forecastCached } from '../../src/core/mdf/reportCache';
import { modelFingerprint } from '../../src/core/mdf/signature';
import { ensureBuilt, resolveModelSource } from '../../src/core/model/modelSource';
import { buildModelInWorker, openModelInWorker } from '../../src/worker/client';

const ROOT = resolve(__dirname, '..', '..');
const WORKER = join(ROOT, 'dist', 'worker.js');

async function main(mode: string): Promise<void> {
  if (mode !== 'host' && mode !== 'worker') throw new Error('usage: forecastHost.ts host|worker');
  const dir = mkdtempSync(join(tmpdir(), 'preflight-forecast-host-'));
  try {
    const made = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'e2e', 'scenarios', 'mdf.fixture.ts'), dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(made.stderr);
    const source = resolveModelSource(join(dir, 'mdf-model'), { packageRoot: ROOT });
    const { dir: built } = await ensureBuilt(source, (src, out, o) => buildModelInWorker(src, out, { ...o, workerPath: WORKER }), {
      cacheRoot: join(dir, 'build'),
    });
    const model = await openModelInWorker(built, { provider: 'cpu', workerPath: WORKER });
    const suites = loadProbeSuites([join(dir, '.preflight', 'probes', 'planted.json'), 'safety'], {
      builtinDir: join(ROOT, 'models', 'probes'),
      workspaceDir: dir,
    });
    const options = {
      suites,
      modelHash: modelFingerprint(built),
      modelPath: built,
      alphas: [0, 0.5, 1],
      samplesPerPrompt: 2,
      scoring: 'both' as const,
      cacheDir: join(dir, 'cache'),
    };
    const stalls: number[] = [];
    let expected = performance.now() + 10;
    const timer = setInterval(() => {
      const now = performance.now();
      stalls.push(now - expected);
      expected = now + 10;
    }, 10);
    const started = performance.now();
    const { report } =
      mode === 'worker' ? await model.forecast(join(dir, 'mdf-train.jsonl'), options) : await forecastCached(model, join(dir, 'mdf-train.jsonl'), options);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    await model.dispose();
    stalls.sort((a, b) => b - a);
    console.log(
      `${mode}: forecast ${seconds.toFixed(1)} s (max risk ${report.summary.maxRisk}); longest stall of this thread ${Math.round(stalls[0])} ms, ` +
        `${stalls.filter((s) => s > 50).length} over 50 ms; load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv[2] ?? 'worker').catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
