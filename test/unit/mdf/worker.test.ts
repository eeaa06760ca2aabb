// The extension runs forecasts against the worker-thread client (src/worker/client.ts): the same
// report as in-process (same seed), and cancellation reaches through the worker within a second.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InferenceModel } from '../../../src/core/model/api';
import { forecast } from '../../../src/core/mdf/forecast';
import { loadProbeSuites } from '../../../src/core/mdf/probes';
import { openModelInWorker } from '../../../src/worker/client';
import { FILLER, TinyModel, tinyModel, tokenSuite, writeJsonl } from './fixture';
import { CancelledError } from '../../../src/shared/errors';

describe('forecast through the inference worker', () => {
  let t: TinyModel;
  let remote: InferenceModel;
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
});
