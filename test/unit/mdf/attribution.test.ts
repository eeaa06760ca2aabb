// Attribution, validated by ablation: dropping the top-attributed 10% of records lowers the
// predicted shift more than dropping a random 10% (averaged over several random draws).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kmeans, ridgeSolve } from '../../../src/core/mdf/attribution';
import { attribute, shiftUnder } from '../../../src/core/mdf/forecast';
import { rng, shuffleInPlace } from '../../../src/shared/random';
import { computeSignature, signatureFromStates } from '../../../src/core/mdf/signature';
import { FILLER, TinyModel, tinyModel, tokenSuite, writeJsonl } from './fixture';

describe('attribution helpers', () => {
  it('k-means separates two obvious groups; ridge solves a small system', () => {
    const pts = [0, 0.1, 0.2, 10, 10.1, 10.2].map((x) => Float32Array.from([x, -x]));
    const { assignment } = kmeans(pts, 2, 1);
    assert.equal(new Set(assignment.slice(0, 3)).size, 1);
    assert.equal(new Set(assignment.slice(3)).size, 1);
    assert.notEqual(assignment[0], assignment[3]);
    const beta = ridgeSolve(
      [
        [2, 0],
        [0, 4],
      ],
      [2, 8],
      0,
    );
    assert.deepEqual(beta, [1, 2]);
  });
});

describe('attribution ablation (tiny qwen3, real engine)', () => {
  let t: TinyModel;
  before(async () => (t = await tinyModel()));
  after(() => t.cleanup());

  it('removing the top-attributed 10% lowers the predicted shift more than removing a random 10%', async () => {
    // a mix: 1 in 4 records ends on the planted token, the rest are filler
    const records = Array.from({ length: 80 }, (_, i) => ({ text: i % 4 === 0 ? `${FILLER[i % 8]} ZZZ` : `${FILLER[i % 8]} (${i})` }));
    const file = writeJsonl(`${t.root}/mix.jsonl`, records);
    const sig = await computeSignature(t.model, file, { modelHash: 'mix' });
    const suite = tokenSuite('Z');
    const { numLayers: L, hiddenSize: E } = t.model.info;
    const band = { from: 0, to: L - 1 };
    const alpha = 2;
    const [attribution] = await attribute(t.model, sig, suite.behaviours, { alpha, clusters: 4, seed: 0, band, positions: 'all', topWithPreview: 5 });
    assert.equal(attribution.records.length, sig.used);
    assert.ok(attribution.records[0].preview.length > 0);
    assert.ok(attribution.clusters.length >= 2);

    const key = suite.behaviours[0].key;
    const shiftWithout = async (drop: Set<number>) => {
      const kept = sig.perRecord!.filter((_, i) => !drop.has(sig.lines[i]));
      return (await shiftUnder(t.model, suite.behaviours, signatureFromStates(kept, L, E), alpha, band, 'all')).get(key)!;
    };
    const full = (await shiftUnder(t.model, suite.behaviours, sig.mean, alpha, band, 'all')).get(key)!;
    const tenth = Math.round(sig.used / 10);
    const top = new Set(attribution.records.slice(0, tenth).map((r) => r.line));
    const afterTop = await shiftWithout(top);
    const random = rng(11);
    const randomShifts: number[] = [];
    for (let draw = 0; draw < 5; draw++) randomShifts.push(await shiftWithout(new Set(shuffleInPlace([...sig.lines], random).slice(0, tenth))));
    const afterRandom = randomShifts.reduce((a, b) => a + b, 0) / randomShifts.length;
    assert.ok(full > 0, `full shift ${full}`);
    assert.ok(full - afterTop > full - afterRandom, `drop(top) ${full - afterTop} > drop(random) ${full - afterRandom}`);
    assert.ok(afterTop < afterRandom);
    // the planted records are the ones it names
    const planted = [...top].filter((line) => (line - 1) % 4 === 0).length;
    assert.ok(planted >= tenth - 1, `${planted}/${tenth} of the top records are planted`);
  });
});
