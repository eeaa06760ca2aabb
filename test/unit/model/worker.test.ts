// The worker-thread client (src/worker/client.ts) against the in-process model: same results,
// typed arrays back across the boundary, cancellation mid-generation, the fallback notice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InferenceModel } from '../../../src/core/model/api';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import { WorkerModel, openModelInWorker } from '../../../src/worker/client';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { CancelledError } from '../../../src/shared/errors';

const root = mkdtempSync(join(tmpdir(), 'preflight-worker-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('worker-thread InferenceModel', () => {
  let local: InferenceModel;
  let remote: WorkerModel;
  const notices: string[] = [];
  before(async () => {
    await writeTinyCheckpoint(join(root, 'src'), { family: 'qwen3' });
    await buildModel(join(root, 'src'), join(root, 'onnx'));
    local = await openModel(join(root, 'onnx'), { provider: 'cpu' });
    remote = await openModelInWorker(join(root, 'onnx'), {
      provider: 'auto',
      onNotice: (m) => notices.push(m),
      workerPath: join(__dirname, '../../../src/worker/main.ts'),
    });
  });
  after(async () => {
    await local.dispose();
    await remote.dispose();
  });

  it('reports info and the CPU fallback notice', () => {
    assert.equal(remote.info.provider, 'cpu');
    assert.equal(remote.info.family, 'qwen3');
    assert.equal(notices.length, 1);
  });

  it('forward, scoreContinuations and generate equal the in-process model', async () => {
    const batch = [
      [1, 2, 3, 4],
      [9, 8],
    ];
    const vectors = new Float32Array(remote.info.numLayers * remote.info.hiddenSize).fill(0.1);
    const a = await remote.forward(batch, { steering: { vectors } });
    const b = await local.forward(batch, { steering: { vectors } });
    assert.ok(a.hiddenLast[0] instanceof Float32Array);
    assert.deepEqual(a, b);
    assert.equal(vectors.length, remote.info.numLayers * remote.info.hiddenSize, 'steering vectors are not detached by the call');
    const pairs = [{ prompt: [1, 2], continuation: [3, 4] }];
    assert.deepEqual(await remote.scoreContinuations(pairs), await local.scoreContinuations(pairs));
    const opts = { maxTokens: 6, temperature: 0.7, seed: 11 };
    assert.deepEqual(await remote.generate(batch, opts), await local.generate(batch, opts));
  });

  it('cancels a running generation between steps', async () => {
    const controller = new AbortController();
    // ignoreEos: a sampled end-of-text must not finish the run before the cancel arrives (it did, by seed)
    const run = remote.generate([[1, 2, 3]], { maxTokens: 100000, stopTokenIds: [], ignoreEos: true, temperature: 1, seed: 1, signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(run, (e: unknown) => e instanceof CancelledError);
    // the worker is still usable
    assert.equal((await remote.forward([[1]])).lastLogits.length, 1);
  });

  it('whenIdle settles at once when idle, and only after the calls in flight when busy', async () => {
    await remote.whenIdle();
    const order: string[] = [];
    const run = remote.generate([[1, 2, 3]], { maxTokens: 40, stopTokenIds: [], ignoreEos: true, temperature: 1, seed: 3 }).then(() => order.push('generate'));
    const idle = remote.whenIdle().then(() => order.push('idle'));
    await Promise.all([run, idle]);
    assert.deepEqual(order, ['generate', 'idle']);
  });
});

describe('building in a worker thread', () => {
  it('reports progress, then the catalog lists the built model; an aborted build leaves no manifest', async () => {
    const { buildModelInWorker } = await import('../../../src/worker/client');
    const { listModels, describeModelDir } = await import('../../../src/core/model/catalog');
    const src = join(root, 'ckpt-llama');
    await writeTinyCheckpoint(src, { family: 'llama', numLayers: 3 });
    const workerPath = join(__dirname, '../../../src/worker/main.ts');
    const seen: number[] = [];
    const result = await buildModelInWorker(src, join(root, 'models', 'llama'), { workerPath, onProgress: (p) => seen.push(p.fraction) });
    assert.equal(result.reused, false);
    assert.ok(seen.length > 3 && seen[seen.length - 1] === 1);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      buildModelInWorker(src, join(root, 'models', 'aborted'), { workerPath, signal: controller.signal }),
      (e: unknown) => e instanceof CancelledError,
    );
    const listed = listModels([join(root, 'models')], [src]);
    assert.deepEqual(
      listed.map((e) => e.kind),
      ['checkpoint', 'built'],
    );
    assert.equal(describeModelDir(join(root, 'models', 'aborted')).kind, 'invalid');
  });
});
