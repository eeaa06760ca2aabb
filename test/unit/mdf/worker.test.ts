// The extension runs forecasts in the inference worker (src/worker/client.ts WorkerModel.forecast:
// the whole forecast there, the extension host only waits): the same report as in process (same
// seed), through the same report cache; cancellation reaches through the worker within a second;
// errors come back as the same types (src/shared/errors.ts toWire/fromWire). The orchestration on
// the caller's thread against the worker's inference calls gives that report too.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forecast } from '../../../src/core/mdf/forecast';
import { forecastCached } from '../../../src/core/mdf/reportCache';
import { loadProbeSuites } from '../../../src/core/mdf/probes';
import { WorkerModel, openModelInWorker } from '../../../src/worker/client';
import { FILLER, TinyModel, tinyModel, tokenSuite, writeJsonl } from './fixture';
import { CancelledError, InputError } from '../../../src/shared/errors';

describe('forecast through the inference worker', () => {
  let t: TinyModel;
  let remote: WorkerModel;
  let file: string;
  before(async () => {
    t = await tinyModel();
    remote = await openModelInWorker(t.modelDir, { provider: 'cpu', threads: 1, workerPath: join(__dirname, '../../../src/worker/main.ts') });
    file = writeJsonl(
      join(t.root, 'w.jsonl'),
      Array.from({ length: 24 }, (_, i) => ({ text: i % 3 ? FILLER[i % 8] : `${FILLER[i % 8]} ZZZ` })),
    );
  });
  after(async () => {
    await remote.dispose();
    await t.cleanup();
  });

  it('gives the in-process report', async () => {
    const options = { modelHash: 'w', suites: [tokenSuite('Z')], alphas: [0, 2], samplesPerPrompt: 2, maxNewTokens: 6, bootstrap: 100, clusters: 2 };
    const a = await forecast(t.model, file, options);
    const b = await forecast(remote, file, options);
    assert.equal(b.alpha.chosen, a.alpha.chosen);
    const [x, y] = [a.behaviours[0], b.behaviours[0]];
    assert.ok(Math.abs(x.logprob.predicted - y.logprob.predicted) <= 1e-6 * Math.max(1, Math.abs(x.logprob.predicted)));
    assert.equal(x.generation!.predicted, y.generation!.predicted);
  });

  it('cancels within a second', async () => {
    const controller = new AbortController();
    const suites = loadProbeSuites([], { workspaceDir: null });
    const run = forecast(remote, file, { modelHash: 'w', suites, samplesPerPrompt: 8, maxNewTokens: 32, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(run, (e: unknown) => e instanceof CancelledError);
    assert.ok(Date.now() - abortedAt < 1000, `stopped ${Date.now() - abortedAt} ms after abort`);
  });

  it('runs the whole forecast in the worker: the in-process report, through the same report cache', async () => {
    const cacheDir = join(t.root, 'cache-worker');
    const options = { modelHash: 'w', suites: [tokenSuite('Z')], alphas: [0, 2], samplesPerPrompt: 2, maxNewTokens: 6, bootstrap: 100, clusters: 2 };
    const local = await forecastCached(t.model, file, options);
    const progress: string[] = [];
    const first = await remote.forecast(file, { ...options, cacheDir, onProgress: (p) => progress.push(p.stage) });
    assert.equal(first.reused, false);
    assert.ok(progress.includes('signature') && progress.includes('scoring'), `progress stages: ${[...new Set(progress)].join(', ')}`);
    const [a, b] = [local.report, first.report];
    assert.equal(b.alpha.chosen, a.alpha.chosen);
    assert.equal(b.summary.maxRisk, a.summary.maxRisk);
    assert.equal(b.file.sha256, a.file.sha256);
    const [x, y] = [a.behaviours[0], b.behaviours[0]];
    assert.equal(y.risk, x.risk);
    assert.ok(Math.abs(x.logprob.predicted - y.logprob.predicted) <= 1e-6 * Math.max(1, Math.abs(x.logprob.predicted)));
    assert.equal(x.generation!.predicted, y.generation!.predicted);
    // the worker wrote the cache entry: asked again, it reads it back (the CLI's key)
    const again = await remote.forecast(file, { ...options, cacheDir });
    assert.equal(again.reused, true);
    assert.deepEqual(again.report.behaviours, b.behaviours);
  });

  it('cancels the forecast in the worker within a second', async () => {
    const controller = new AbortController();
    const suites = loadProbeSuites([], { workspaceDir: null });
    const run = remote.forecast(file, { modelHash: 'w', suites, samplesPerPrompt: 8, maxNewTokens: 32, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(run, (e: unknown) => e instanceof CancelledError);
    assert.ok(Date.now() - abortedAt < 1000, `stopped ${Date.now() - abortedAt} ms after abort`);
    // the model is still usable after a cancelled forecast
    assert.equal((await remote.forward([[1, 2, 3]])).hiddenLast.length, 1);
  });

  it("a forecast's errors come back as the same types (an InputError with its code)", async () => {
    const options = { modelHash: 'w', suites: [tokenSuite('Z')], alphas: [0, 2], samplesPerPrompt: 1, maxNewTokens: 2 };
    const caught = async (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('no error'),
        (e: unknown) => e as Error,
      );
    // a folder where the training file should be: InputError 'input-file' (the CLI exits 2 on it)
    const [local, there] = [await caught(forecast(t.model, t.root, options)), await caught(remote.forecast(t.root, options))];
    assert.ok(local instanceof InputError && local.code === 'input-file', String(local));
    assert.ok(there instanceof InputError, `${there.name}: ${there.message}`);
    assert.equal(there.code, 'input-file');
    assert.equal(there.message, local.message);
    // records of no known schema: a plain Error with the same message
    const bad = writeJsonl(join(t.root, 'not-records.jsonl'), [1, 2, 3]);
    const [plainLocal, plainThere] = [await caught(forecast(t.model, bad, options)), await caught(remote.forecast(bad, options))];
    assert.ok(!(plainThere instanceof InputError) && !(plainThere instanceof CancelledError));
    assert.equal(plainThere.message, plainLocal.message);
  });
});
