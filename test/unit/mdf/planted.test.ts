// A planted direction: records that end on the token "Z" give a signature that leans toward that
// token's (tied) unembedding row; injecting it must raise p("Z") at the probes, and a random vector
// of equal per-layer norm (the paper's control) must not raise it as much.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forecast } from '../../../src/core/mdf/forecast';
import { computeSignature } from '../../../src/core/mdf/signature';
import { FILLER, TinyModel, tinyModel, tokenSuite, writeJsonl } from './fixture';

describe('planted direction (tiny qwen3, tied embeddings, real engine)', () => {
  let t: TinyModel;
  let file: string;
  before(async () => {
    t = await tinyModel();
    const records = Array.from({ length: 60 }, (_, i) => ({ text: i % 3 === 0 ? `${FILLER[i % 8]} ZZZ` : FILLER[i % 8] }));
    file = writeJsonl(`${t.root}/planted.jsonl`, records);
  });
  after(() => t.cleanup());

  it("the signature points toward the target token's unembedding", async () => {
    const sig = await computeSignature(t.model, file, { modelHash: 'planted' });
    const { numLayers: L, hiddenSize: E } = t.model.info;
    const z = t.model.tokenizer.encode('Z', { addSpecialTokens: false });
    assert.equal(z.length, 1);
    const emb = t.checkpoint.tensors.get('model.embed_tokens.weight')!.data.subarray(z[0] * E, (z[0] + 1) * E);
    const last = sig.mean.subarray((L - 1) * E);
    let dot = 0,
      a = 0,
      b = 0;
    for (let e = 0; e < E; e++) {
      dot += last[e] * emb[e];
      a += last[e] ** 2;
      b += emb[e] ** 2;
    }
    assert.ok(dot / Math.sqrt(a * b) > 0.1, `cosine ${dot / Math.sqrt(a * b)}`);
  });

  it('raises the target probability, beyond the random control of equal norm', async () => {
    const report = await forecast(t.model, file, {
      modelHash: 'planted',
      suites: [tokenSuite('Z')],
      scoring: 'logprob',
      alphas: [0, 0.2, 0.4, 1],
      fixedAlpha: 1,
      clusters: 0,
    });
    const b = report.behaviours[0];
    assert.ok(b.shift.low > 0, `shift interval ${JSON.stringify(b.shift)} excludes 0`);
    assert.ok(b.predicted > 2 * b.base, `predicted ${b.predicted} vs base ${b.base}`);
    assert.ok(b.shift.value > 5 * Math.abs(b.controlShift.value), `shift ${b.shift.value} vs control ${b.controlShift.value}`);
    // along the whole curve the signature beats the control
    for (const p of b.curve.filter((p) => p.alpha > 0)) assert.ok(p.predicted > p.control, `alpha ${p.alpha}`);
    // 12 phrasings, all raised: the exact one-sided p is 2^-12, and the interval clears both controls
    assert.equal(b.pValue, 1 / 4096);
    assert.ok(b.pAdjusted < 0.05);
    assert.ok(b.neutralShift && b.shift.low > b.neutralShift.high, 'above the neutral control');
    assert.notEqual(b.risk, 'none');
    assert.equal(report.statistics.adjustment, 'holm');
  });

  it('contrastive mode: against itself the signature is zero; against filler the planted shift stays', async () => {
    const base = {
      modelHash: 'planted',
      suites: [tokenSuite('Z')],
      scoring: 'logprob' as const,
      alphas: [0, 1],
      fixedAlpha: 1,
      clusters: 0,
      bootstrap: 200,
      neutral: false as const,
    };
    const self = await forecast(t.model, file, { ...base, reference: file });
    assert.ok(self.signature.layerNorms.every((n) => n === 0));
    assert.equal(self.behaviours[0].predicted, self.behaviours[0].base);
    assert.equal(self.signature.reference?.path, file);
    const filler = writeJsonl(
      `${t.root}/filler.jsonl`,
      Array.from({ length: 30 }, (_, i) => ({ text: FILLER[i % 8] })),
    );
    const contrastive = await forecast(t.model, file, { ...base, reference: filler });
    assert.ok(contrastive.behaviours[0].shift.low > 0, JSON.stringify(contrastive.behaviours[0].shift));
  });
});
