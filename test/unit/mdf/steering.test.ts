// Injection against the engine's steering contract (src/core/model/api.ts, docs/engine.md, The graph contract): the
// vectors are added to each layer's residual output at the selected positions, zeros mean off.
// Checked on a tiny random Qwen3 built to ONNX, and against the float64 reference forward pass
// (src/core/model/reference.ts), the engine's own oracle.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReferenceModel } from '../../../src/core/model/reference';
import { randomControl, resolveBand, steeringFor } from '../../../src/core/mdf/steering';
import { layerNorms } from '../../../src/core/mdf/signature';
import { gaussian, rng } from '../../../src/shared/random';
import { TinyModel, tinyModel } from './fixture';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function randomVector(n: number, seed: number): Float32Array {
  const z = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => z());
}

describe('steering vectors', () => {
  it('are alpha * s inside the band and zero outside', () => {
    const s = Float32Array.from({ length: 4 * 3 }, (_, i) => i + 1);
    const { vectors } = steeringFor(s, 2, 4, 3, { from: 1, to: 2 });
    assert.deepEqual([...vectors], [0, 0, 0, 8, 10, 12, 14, 16, 18, 0, 0, 0]);
    assert.deepEqual(resolveBand(4, { from: -3, to: 99 }), { from: 0, to: 3 });
  });

  it('random control has the signature norm in every layer', () => {
    const s = randomVector(5 * 16, 3).map((v, i) => v * (1 + Math.floor(i / 16)));
    const control = randomControl(s, 5, 16, 7);
    const a = layerNorms(s, 5, 16);
    const b = layerNorms(control, 5, 16);
    a.forEach((n, l) => assert.ok(Math.abs(n - b[l]) < 1e-4 * n, `layer ${l}`));
    assert.deepEqual([...randomControl(s, 5, 16, 7)], [...control], 'seeded');
  });
});

describe('injection on the real engine (tiny qwen3, ONNX Runtime CPU)', () => {
  let t: TinyModel;
  let reference: ReferenceModel;
  const ids = [
    [5, 40, 77, 123, 9, 60],
    [200, 3, 17],
  ];
  before(async () => {
    t = await tinyModel();
    reference = await ReferenceModel.load(t.checkpoint.dir);
  });
  after(() => t.cleanup());

  it('injecting zeros changes nothing', async () => {
    const { numLayers, hiddenSize } = t.model.info;
    const plain = await t.model.forward(ids);
    const zero = await t.model.forward(ids, { steering: steeringFor(randomVector(numLayers * hiddenSize, 1), 0, numLayers, hiddenSize) });
    plain.lastLogits.forEach((row, i) => assert.equal(maxAbsDiff(row, zero.lastLogits[i]), 0));
    plain.hiddenLast.forEach((row, i) => assert.equal(maxAbsDiff(row, zero.hiddenLast[i]), 0));
  });

  it("a vector on the last layer only shifts that layer's state by exactly alpha * v (linear in alpha)", async () => {
    const { numLayers: L, hiddenSize: E } = t.model.info;
    const v = randomVector(L * E, 2);
    const plain = await t.model.forward(ids);
    for (const alpha of [0.5, 2, 8]) {
      const steered = await t.model.forward(ids, { steering: steeringFor(v, alpha, L, E, { from: L - 1, to: L - 1 }) });
      steered.hiddenLast.forEach((row, r) => {
        // layers before the band are untouched
        assert.ok(maxAbsDiff(row.subarray(0, (L - 1) * E), plain.hiddenLast[r].subarray(0, (L - 1) * E)) < 1e-6);
        const expected = plain.hiddenLast[r].subarray((L - 1) * E).map((h, e) => h + alpha * v[(L - 1) * E + e]);
        assert.ok(maxAbsDiff(row.subarray((L - 1) * E), expected) < 1e-4, `alpha ${alpha}`);
      });
    }
  });

  it('steered logits and states equal the float64 reference with the same vector on every layer', async () => {
    const { numLayers: L, hiddenSize: E } = t.model.info;
    const s = randomVector(L * E, 4);
    const steering = steeringFor(s, 1.5, L, E);
    const out = await t.model.forward(ids, { steering });
    ids.forEach((row, r) => {
      const ref = reference.forward(row, steering.vectors);
      const last = row.length - 1;
      assert.ok(maxAbsDiff(out.lastLogits[r], ref.logits[last]) < 1e-3, 'logits');
      for (let l = 0; l < L; l++) assert.ok(maxAbsDiff(out.hiddenLast[r].subarray(l * E, (l + 1) * E), ref.hidden[l][last]) < 1e-3, `layer ${l}`);
    });
  });
});

describe('steering bounds', () => {
  it('an alpha that overflows float32 is refused with one line, not turned into NaN logits', () => {
    const s = Float32Array.from({ length: 2 * 3 }, (_, i) => i + 1);
    assert.throws(() => steeringFor(s, 1e308, 2, 3), /steering vector at alpha 1e\+308, entry #0 is Infinity: steering values must be finite/);
  });
});
