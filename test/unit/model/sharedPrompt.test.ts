// scoreContinuations shares the prompt's prefill among continuations of the same prompt (KV cache
// tiled per continuation). Checks that it scores exactly as one pass of each whole row (a pair
// alone) and as the float64 reference, under each steering `positions` mode, with prompts of
// different lengths in one padded prefill, continuations of different lengths (1 token included),
// and an empty continuation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Steering } from '../../../src/core/model/api';
import { buildModel } from '../../../src/core/model/build';
import { ReferenceModel } from '../../../src/core/model/reference';
import { openModel, OrtInferenceModel } from '../../../src/core/model/runtime';
import { seededNormal, TinyCheckpointOptions, writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const root = mkdtempSync(join(tmpdir(), 'preflight-shared-'));
after(() => rmSync(root, { recursive: true, force: true }));

function randomIds(n: number, vocab: number, seed: number): number[] {
  const z = seededNormal(seed);
  return Array.from({ length: n }, () => Math.floor(Math.abs(z() * 1e6)) % vocab);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const CASES: { name: string; options: TinyCheckpointOptions }[] = [
  { name: 'llama, GQA', options: { family: 'llama', numHeads: 4, numKvHeads: 2, seed: 3 } },
  { name: 'gemma3, sliding window 4 (padding holes in the cache)', options: { family: 'gemma3', numLayers: 3, headDim: 16, seed: 4 } },
];

for (const { name, options } of CASES) {
  describe(`scoreContinuations with shared prompts: ${name}`, () => {
    let model: OrtInferenceModel;
    let ref: ReferenceModel;
    const prompts = [randomIds(9, 280, 11), randomIds(3, 280, 12), randomIds(6, 280, 13), randomIds(1, 280, 14)];
    const conts = [randomIds(5, 280, 21), randomIds(1, 280, 22), randomIds(3, 280, 23), randomIds(2, 280, 24), randomIds(7, 280, 25)];
    // prompt 0: four continuations, prompt 1: three (one empty), prompt 2: one (scored whole), prompt 3: two;
    // interleaved so that the grouping is exercised
    const pairs = [
      { prompt: prompts[0], continuation: conts[0] },
      { prompt: prompts[1], continuation: conts[1] },
      { prompt: prompts[0], continuation: conts[1] },
      { prompt: prompts[2], continuation: conts[2] },
      { prompt: [...prompts[1]], continuation: conts[4] },
      { prompt: prompts[0], continuation: conts[2] },
      { prompt: prompts[3], continuation: conts[3] },
      { prompt: prompts[1], continuation: [] },
      { prompt: prompts[0], continuation: conts[4] },
      { prompt: prompts[3], continuation: conts[0] },
    ];

    it('builds and opens', async () => {
      const src = join(root, name.replace(/\W+/g, '_'));
      await writeTinyCheckpoint(src, options);
      await buildModel(src, `${src}_onnx`);
      model = await openModel(`${src}_onnx`, { provider: 'cpu', threads: 1 });
      ref = await ReferenceModel.load(src);
    });

    const modes: (Steering['positions'] | 'none')[] = ['none', 'all', 'prompt', 'generated'];
    for (const mode of modes) {
      it(`steering ${mode}: shared = each pair alone (1e-5) = reference (1e-4)`, async () => {
        const { numLayers: L, hiddenSize: E } = model.info;
        const z = seededNormal(7);
        const vectors = Float32Array.from({ length: L * E }, () => 0.5 * z());
        const steering: Steering | undefined = mode === 'none' ? undefined : { vectors, positions: mode };
        const shared = await model.scoreContinuations(pairs, { steering });
        assert.equal(shared.length, pairs.length);
        for (const [i, pair] of pairs.entries()) {
          const [alone] = await model.scoreContinuations([pair], { steering });
          assert.equal(shared[i].tokenLogProbs.length, pair.continuation.length, `pair ${i} length`);
          const diff = maxAbs(shared[i].tokenLogProbs, alone.tokenLogProbs);
          assert.ok(diff <= 1e-5, `pair ${i}: shared vs alone differ by ${diff.toExponential(2)}`);
          if (!pair.continuation.length) continue;
          const ids = [...pair.prompt, ...pair.continuation];
          const P = pair.prompt.length;
          const mask = ids.map((_, s) => (mode === 'prompt' ? s < P : mode === 'generated' ? s >= P : true));
          const r = steering ? ref.forward(ids, vectors, mask) : ref.forward(ids);
          const expected = pair.continuation.map((tok, t) => {
            const row = r.logits[P - 1 + t];
            const max = Math.max(...row);
            return row[tok] - (max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)));
          });
          const err = maxAbs(shared[i].tokenLogProbs, expected);
          assert.ok(err <= 1e-4, `pair ${i}: shared vs reference differ by ${err.toExponential(2)}`);
        }
      });
    }

    it('one padded prefill of the shared prompts and one run of their continuations, one whole-row run for the lone pair', async () => {
      let runs = 0;
      const step = model.step.bind(model);
      model.step = (args) => {
        runs++;
        return step(args);
      };
      try {
        await model.scoreContinuations(pairs);
      } finally {
        model.step = step;
      }
      assert.equal(runs, 3);
    });

    it('steering changes the shared scores (the steered cache is used)', async () => {
      const { numLayers: L, hiddenSize: E } = model.info;
      const z = seededNormal(7);
      const vectors = Float32Array.from({ length: L * E }, () => 0.5 * z());
      const plain = await model.scoreContinuations(pairs);
      for (const positions of ['prompt', 'generated'] as const) {
        const steered = await model.scoreContinuations(pairs, { steering: { vectors, positions } });
        // pair 8: prompt 0 with a 7-token continuation, so both its prompt and its continuation matter
        assert.ok(maxAbs(steered[8].tokenLogProbs, plain[8].tokenLogProbs) > 1e-3, positions);
      }
    });

    it('disposes', async () => {
      await model.dispose();
    });
  });
}
