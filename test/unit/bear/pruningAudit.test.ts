// The beam-pruning audit on the ONNX engine (src/core/bear/pruningAudit.ts). References: the
// textbook case where beam search of width 1 loses the most probable sequence (a greedy first
// step), Hugging Face's beam search as transcribed in python/tests/test_beam_and_metrics.py
// (finished titles scored sum / length, the length penalty changing the order), a beam at least as
// wide as the catalogue finding every title, and the trie-masked log-probabilities recomputed by
// hand from the model's logits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceModel } from '../../../src/core/model/api';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import { TitleTrie, beamSearch, nodeLogProbs, parseRecommendations, promptText, pruningAudit, sequenceScores } from '../../../src/core/bear/pruningAudit';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const EOS = 9;

describe('beam search over the title trie', () => {
  // A = 1 2 EOS (p .45), B = 3 4 EOS (p .275), C = 3 5 EOS (p .275)
  const trie = new TitleTrie(['A', 'B', 'C'], (t) => ({ A: [1, 2, EOS], B: [3, 4, EOS], C: [3, 5, EOS] })[t]!);
  const logp = new Map<number, Map<number, number>>();
  trie.children.forEach((c, node) => {
    const kids = [...c.keys()];
    if (kids.length === 1) logp.set(node, new Map([[kids[0], 0]]));
  });
  logp.set(
    0,
    new Map([
      [1, Math.log(0.45)],
      [3, Math.log(0.55)],
    ]),
  );
  const after3 = trie.children[0].get(3)!;
  logp.set(
    after3,
    new Map([
      [4, Math.log(0.5)],
      [5, Math.log(0.5)],
    ]),
  );

  it('scores each title by its whole masked sequence probability', () => {
    assert.deepEqual(
      sequenceScores(trie, logp).map((s) => Number(Math.exp(s).toFixed(3))),
      [0.45, 0.275, 0.275],
    );
  });

  it('width 1 takes the greedy first step and loses the most probable title', () => {
    const found = beamSearch(trie, logp, 1);
    assert.equal(found.length, 1);
    assert.equal(trie.titles[found[0].item ?? -1], 'B');
  });

  it('a beam as wide as the catalogue returns the exhaustive ranking', () => {
    const found = beamSearch(trie, logp, 3);
    assert.deepEqual(
      found.map((h) => trie.titles[h.item ?? -1]),
      ['A', 'B', 'C'],
    );
  });

  it('ranks finished titles by sum / length^lengthPenalty (Hugging Face), not by the raw sum', () => {
    // D = 6 7 8 9 EOS (p .35, 5 tokens), E = 5 EOS (p .65, 2 tokens): by raw sum E first; per token
    // (lp = 1) log(.35)/5 = -0.210 > log(.65)/2 = -0.215, so D first
    const t = new TitleTrie(['D', 'E'], (x) => ({ D: [6, 7, 8, 9, EOS], E: [5, EOS] })[x]!);
    const lp = new Map<number, Map<number, number>>();
    t.children.forEach((c, node) => {
      const kids = [...c.keys()];
      if (kids.length === 1) lp.set(node, new Map([[kids[0], 0]]));
    });
    lp.set(
      0,
      new Map([
        [5, Math.log(0.65)],
        [6, Math.log(0.35)],
      ]),
    );
    const ranked = (penalty: number) => beamSearch(t, lp, 2, penalty).map((h) => t.titles[h.item!]);
    assert.deepEqual(ranked(1), ['D', 'E']);
    assert.deepEqual(ranked(0), ['E', 'D']);
  });

  it("drops titles whose token sequence is another's prefix or equal to it", () => {
    const t = new TitleTrie(['x', 'xy', 'z', 'z2'], (s) => ({ x: [1, EOS], xy: [1, EOS, 2], z: [5, EOS], z2: [5, EOS] })[s]!);
    assert.deepEqual(t.dropped, ['x', 'z2']);
    assert.deepEqual(t.titles, ['xy', 'z']);
  });
});

describe('pruning audit on the engine (tiny llama)', () => {
  const root = mkdtempSync(join(tmpdir(), 'preflight-audit-'));
  let model: InferenceModel;
  before(async () => {
    await writeTinyCheckpoint(join(root, 'ckpt'), { family: 'llama' });
    await buildModel(join(root, 'ckpt'), join(root, 'onnx'));
    model = await openModel(join(root, 'onnx'), { provider: 'cpu' });
  });
  after(async () => {
    await model?.dispose();
    rmSync(root, { recursive: true, force: true });
  });
  const { records, skipped } = parseRecommendations(
    [
      '{"history": ["the cat", "a dog"], "target": "the bird"}',
      '{"history": ["a dog"], "target": "the cat"}',
      '{"history": [], "target": "x"}',
      '{"history": ["a"]}',
      'nope',
      '{"history": ["the bird", "the cat"], "target": "a dog"}',
    ].join('\n'),
  );

  it('skips unusable records with their line and reason', () => {
    assert.deepEqual(skipped, [
      { line: 3, reason: 'empty or malformed history' },
      { line: 4, reason: 'no target' },
      { line: 5, reason: 'not JSON' },
    ]);
    assert.equal(records.length, 3);
  });

  it('masked log-probabilities match the logits recomputed by hand', async () => {
    const tok = model.tokenizer;
    const eos = tok.eosTokenIds[0];
    const trie = new TitleTrie(['the cat', 'a dog', 'the bird'], (t) => [...tok.encode(`"${t}"`, { addSpecialTokens: false }), eos]);
    const prompt = tok.encode(promptText(['the cat']), { addSpecialTokens: false }).slice(-200);
    const logp = await nodeLogProbs(model, prompt, trie);
    const scores = sequenceScores(trie, logp);
    for (const [i, seq] of trie.sequences.entries()) {
      let node = 0;
      let total = 0;
      for (const t of seq) {
        const kids = trie.kids(node);
        if (kids.length > 1) {
          const { lastLogits } = await model.forward([[...prompt, ...trie.path[node]]]);
          const z = kids.map((k) => lastLogits[0][k]);
          const m = Math.max(...z);
          total += lastLogits[0][t] - (m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)));
        }
        node = trie.children[node].get(t)!;
      }
      assert.ok(Math.abs(total - scores[i]) < 1e-5, `${trie.titles[i]}: ${total} vs ${scores[i]}`);
    }
  });

  it('a beam as wide as the catalogue finds every target and prunes nothing', async () => {
    const audit = await pruningAudit(model, records, { beam: 3 });
    assert.equal(audit.items, 3);
    assert.equal(audit.users, 3);
    assert.equal(audit.foundByBeam, 1);
    assert.equal(audit.targetInTopB, 1);
    assert.equal(audit.prunedGivenTopB, 0);
  });

  it('with B = 1, pruned users are exactly those ranked first by probability that beam search misses', async () => {
    const audit = await pruningAudit(model, records, { beam: 1 });
    for (const u of audit.perUser) assert.equal(u.pruned, u.rank === 1 && !u.foundByBeam);
    const top = audit.perUser.filter((u) => u.rank === 1).length;
    assert.equal(audit.targetInTopB, top / 3);
  });
});
