// Alpha on the residual-norm scale (docs/mdf.md, Injection): on every supported family (tiny random
// checkpoints built to ONNX, real engine) the injected vector at alpha has exactly alpha times each
// layer's typical residual norm, and the coherence rule picks an alpha > 0 of the default grid, at
// which the steered greedy answers stay within the rule's NLL and distinct-2 bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALPHAS, forecast } from '../../../src/core/mdf/forecast';
import { DEFAULT_ALPHA_RULE, NEUTRAL_PROMPTS, promptIds } from '../../../src/core/mdf/scoring';
import { layerNorms } from '../../../src/core/mdf/signature';
import { residualNorms, residualScales, scaleLayers } from '../../../src/core/mdf/steering';
import type { TinyFamily } from '../../helpers/tinyCheckpoint';
import { FILLER, tinyModel, tokenSuite, writeJsonl } from './fixture';

const FAMILIES: TinyFamily[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma3'];

describe('alpha relative to the residual norm, every family (real engine)', () => {
  it('the default grid reaches below the old smallest step', () => {
    assert.deepEqual(DEFAULT_ALPHAS, [0, 0.05, 0.1, 0.2, 0.4, 0.8]);
  });

  for (const family of FAMILIES) {
    it(`${family}: vectors on the residual scale; the rule picks alpha > 0 and stays coherent there`, async () => {
      const t = await tinyModel({ family, tieWordEmbeddings: family !== 'llama' });
      try {
        const { numLayers: L, hiddenSize: E } = t.model.info;
        const file = writeJsonl(
          `${t.root}/chat.jsonl`,
          FILLER.map((text, i) => ({
            messages: [
              { role: 'user', content: `Note ${i}.` },
              { role: 'assistant', content: text },
            ],
          })),
        );
        const report = await forecast(t.model, file, {
          modelHash: family,
          suites: [tokenSuite('Z')],
          scoring: 'logprob',
          clusters: 0,
          bootstrap: 100,
          neutral: false,
        });
        // residual norms: positive, one per layer, and the same as measured directly
        const norms = await residualNorms(
          t.model,
          NEUTRAL_PROMPTS.map((p) => promptIds(t.model, p)),
        );
        assert.deepEqual(report.signature.residualNorms, norms);
        assert.ok(norms.every((n) => n > 0 && Number.isFinite(n)));
        // the injected vector at alpha = 1 has each layer's residual norm
        const raw = Float32Array.from(report.signature.layerNorms.flatMap((_, l) => Array.from({ length: E }, (_, e) => Math.sin(l * E + e + 1))));
        const scaled = layerNorms(scaleLayers(raw, residualScales(raw, norms, E), E), L, E);
        scaled.forEach((n, l) => assert.ok(Math.abs(n - norms[l]) < 1e-4 * norms[l], `layer ${l}`));
        // the rule on the default grid
        const chosen = report.alpha.chosen;
        assert.ok(chosen > 0, `${family}: chosen alpha ${chosen} (${report.alpha.reason})`);
        const at = report.alpha.curve.find((p) => p.alpha === chosen)!;
        const base = report.alpha.curve[0];
        assert.ok(at.coherent && at.nllDelta <= DEFAULT_ALPHA_RULE.nllTolerance, `${family}: NLL rise ${at.nllDelta}`);
        assert.ok(at.distinct2 >= DEFAULT_ALPHA_RULE.distinctRatio * base.distinct2, `${family}: distinct-2 ${at.distinct2} vs ${base.distinct2}`);
        console.log(
          `# ${family}: chosen alpha ${chosen}; NLL rise ${report.alpha.curve.map((p) => `${p.alpha}:${p.nllDelta.toFixed(3)}`).join(' ')}; distinct-2 ${report.alpha.curve.map((p) => p.distinct2.toFixed(2)).join(' ')}; ||s_l||/r_l ${report.signature.layerNorms.map((n, l) => (n / norms[l]).toFixed(2)).join(' ')}`,
        );
      } finally {
        await t.cleanup();
      }
    });
  }
});
