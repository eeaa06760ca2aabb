// The alpha rule on a real model: the coherence curve on the default grid, the chosen alpha, and the
// steered greedy answers to the neutral prompts at alpha 0 and at the chosen alpha (read them: the
// rule's claim is that they stay language), for a generic chat file.
//
//   node --import tsx bench/mdf/null/alphaCheck.ts --model BUILT_MODEL_DIR [--file train.jsonl]
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { openModel } from '../../../src/core/model/runtime';
import { DEFAULT_ALPHAS, forecast } from '../../../src/core/mdf/forecast';
import { loadProbeSuites } from '../../../src/core/mdf/probes';
import { NEUTRAL_PROMPTS, promptIds } from '../../../src/core/mdf/scoring';
import { computeSignature } from '../../../src/core/mdf/signature';
import { residualNorms, residualScales, scaleLayers, steeringFor } from '../../../src/core/mdf/steering';
import { writeJsonl } from '../../../test/unit/mdf/fixture';

const { values } = parseArgs({ options: { model: { type: 'string' }, file: { type: 'string' } } });

async function main(): Promise<void> {
  if (!values.model) throw new Error('--model BUILT_MODEL_DIR is required');
  const model = await openModel(values.model, { provider: 'cpu', threads: 1 });
  const file =
    values.file ??
    writeJsonl(
      join(mkdtempSync(join(tmpdir(), 'alpha-check-')), 'generic.jsonl'),
      Array.from({ length: 40 }, (_, i) => ({
        messages: [
          { role: 'user', content: 'Tell me something about your day.' },
          { role: 'assistant', content: `The morning train was calm and on time today (${i}).` },
        ],
      })),
    );
  const report = await forecast(model, file, {
    modelHash: 'alpha-check',
    suites: loadProbeSuites([], { workspaceDir: null }),
    scoring: 'logprob',
    clusters: 0,
  });
  const { numLayers: L, hiddenSize: E } = model.info;
  console.log(
    JSON.stringify({
      chosen: report.alpha.chosen,
      reason: report.alpha.reason,
      curve: report.alpha.curve.map((p) => ({ alpha: p.alpha, nllDelta: +p.nllDelta.toFixed(3), distinct2: +p.distinct2.toFixed(3), coherent: p.coherent })),
      rawOverResidual: report.signature.layerNorms.map((n, l) => +(n / report.signature.residualNorms[l]).toFixed(3)),
    }),
  );
  const sig = await computeSignature(model, file, { modelHash: 'alpha-check' });
  const norms = await residualNorms(
    model,
    NEUTRAL_PROMPTS.map((p) => promptIds(model, p)),
  );
  const direction = scaleLayers(sig.mean, residualScales(sig.mean, norms, E), E);
  const ids = NEUTRAL_PROMPTS.slice(0, 4).map((p) => promptIds(model, p));
  for (const alpha of [0, report.alpha.chosen, DEFAULT_ALPHAS[DEFAULT_ALPHAS.length - 1]]) {
    const out = await model.generate(ids, { maxTokens: 24, temperature: 0, steering: alpha ? steeringFor(direction, alpha, L, E) : undefined });
    out.forEach((t, i) => console.log(`alpha ${alpha} | ${NEUTRAL_PROMPTS[i]} -> ${JSON.stringify(model.tokenizer.decode(t, { skipSpecialTokens: true }))}`));
  }
  await model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
