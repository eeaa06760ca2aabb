// Checks the ONNX graphs of every family against the float64 TypeScript reference forward pass
// (src/core/model/reference.ts, written from transformers' modelling files): logits and every
// layer's hidden state within 1e-4, with and without steering, with the KV cache, padded batches.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildModel } from '../../../src/core/model/build';
import { ReferenceModel } from '../../../src/core/model/reference';
import { openModel, OrtInferenceModel } from '../../../src/core/model/runtime';
import { seededNormal, TinyCheckpointOptions, writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const TOL = 1e-4;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  assert.ok(worst <= TOL, `${what}: max error ${worst.toExponential(2)} > ${TOL}`);
}

const CASES: { name: string; options: TinyCheckpointOptions }[] = [
  { name: 'llama, GQA (4 heads, 2 kv heads)', options: { family: 'llama', numHeads: 4, numKvHeads: 2 } },
  {
    name: 'llama-3 rope scaling, tied embeddings, bf16 shards',
    options: {
      family: 'llama',
      tieWordEmbeddings: true,
      dtype: 'BF16',
      shards: 3,
      ropeTheta: 500000,
      ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    },
  },
  { name: 'mistral, MHA, 3 layers', options: { family: 'mistral', numLayers: 3, numHeads: 4, numKvHeads: 4 } },
  { name: 'qwen2, q/k/v biases, GQA 4:1', options: { family: 'qwen2', numHeads: 4, numKvHeads: 1 } },
  { name: 'qwen3, q/k norm, head_dim != hidden/heads, tied', options: { family: 'qwen3', headDim: 12, tieWordEmbeddings: true, dtype: 'F16' } },
  { name: 'gemma3, sliding window 4 on alternate layers, GeGLU, (1+w) norms, 3 layers', options: { family: 'gemma3', numLayers: 3, headDim: 16 } },
];

const root = mkdtempSync(join(tmpdir(), 'preflight-parity-'));
after(() => rmSync(root, { recursive: true, force: true }));

function randomIds(n: number, vocab: number, seed: number): number[] {
  const z = seededNormal(seed);
  return Array.from({ length: n }, () => Math.floor(Math.abs(z() * 1e6)) % vocab);
}

for (const { name, options } of CASES) {
  describe(`ONNX graph vs TypeScript float64 reference: ${name}`, () => {
    let model: OrtInferenceModel;
    let ref: ReferenceModel;
    const seqs = [randomIds(7, 280, 1), randomIds(3, 280, 2), randomIds(11, 280, 3)];

    it('builds and opens', async () => {
      const src = join(root, name.replace(/\W+/g, '_'));
      await writeTinyCheckpoint(src, options);
      await buildModel(src, `${src}_onnx`);
      model = await openModel(`${src}_onnx`, { provider: 'cpu', threads: 1 });
      ref = await ReferenceModel.load(src);
    });

    it('padded batch: last logits, every layer hidden_last and hidden_mean match the reference', async () => {
      const out = await model.forward(seqs);
      const { numLayers: L, hiddenSize: E } = model.info;
      seqs.forEach((seq, b) => {
        const r = ref.forward(seq);
        assertClose(out.lastLogits[b], r.logits[seq.length - 1], `row ${b} logits`);
        for (let l = 0; l < L; l++) {
          assertClose(out.hiddenLast[b].subarray(l * E, (l + 1) * E), r.hidden[l][seq.length - 1], `row ${b} layer ${l}`);
          const mean = new Float64Array(E);
          for (const h of r.hidden[l]) for (let e = 0; e < E; e++) mean[e] += h[e] / seq.length;
          assertClose(out.hiddenMean![b].subarray(l * E, (l + 1) * E), mean, `row ${b} layer ${l} mean over tokens`);
        }
      });
    });

    it('every position: logits and hidden states of all prefixes match', async () => {
      const seq = seqs[2];
      const prefixes = seq.map((_, i) => seq.slice(0, i + 1));
      const out = await model.forward(prefixes);
      const r = ref.forward(seq);
      const { numLayers: L, hiddenSize: E } = model.info;
      prefixes.forEach((_, s) => {
        assertClose(out.lastLogits[s], r.logits[s], `position ${s} logits`);
        for (let l = 0; l < L; l++) assertClose(out.hiddenLast[s].subarray(l * E, (l + 1) * E), r.hidden[l][s], `position ${s} layer ${l}`);
      });
    });

    it('steering adds the vector to every layer output at every position', async () => {
      const { numLayers: L, hiddenSize: E } = model.info;
      const z = seededNormal(9);
      const vectors = Float32Array.from({ length: L * E }, () => 0.5 * z());
      const out = await model.forward(seqs, { steering: { vectors } });
      const plain = await model.forward(seqs);
      seqs.forEach((seq, b) => {
        const r = ref.forward(seq, vectors);
        assertClose(out.lastLogits[b], r.logits[seq.length - 1], `steered row ${b} logits`);
        for (let l = 0; l < L; l++) assertClose(out.hiddenLast[b].subarray(l * E, (l + 1) * E), r.hidden[l][seq.length - 1], `steered row ${b} layer ${l}`);
        assert.notDeepEqual(Array.from(out.lastLogits[b]), Array.from(plain.lastLogits[b]));
      });
    });

    it('KV cache: prefill then step-by-step decode matches the full pass', async () => {
      const seq = seqs[2];
      const r = ref.forward(seq);
      const V = model.info.vocabSize;
      const { numLayers: L, hiddenSize: E } = model.info;
      // prefill the first 4 tokens, then feed one token at a time
      const P = 4;
      const big = (xs: number[]) => BigInt64Array.from(xs, (x) => BigInt(x));
      let out = await model.step({
        ids: big(seq.slice(0, P)),
        batch: 1,
        seq: P,
        attentionMask: big(new Array(P).fill(1)),
        positionIds: big([0, 1, 2, 3]),
        steer: new Float32Array(L * E),
        steerMask: new Float32Array(P),
      });
      assertClose(out.logits.subarray((P - 1) * V, P * V), r.logits[P - 1], 'prefill logits');
      for (let s = P; s < seq.length; s++) {
        out = await model.step({
          ids: big([seq[s]]),
          batch: 1,
          seq: 1,
          attentionMask: big(new Array(s + 1).fill(1)),
          positionIds: big([s]),
          past: { keys: out.presentKeys, values: out.presentValues },
          steer: new Float32Array(L * E),
          steerMask: new Float32Array(1),
        });
        assertClose(out.logits, r.logits[s], `decode position ${s} logits`);
        for (let l = 0; l < L; l++) assertClose(out.hiddenLast.subarray(l * E, (l + 1) * E), r.hidden[l][s], `decode position ${s} layer ${l}`);
      }
    });

    it('KV cache after a right-padded prefill: each row decodes as it would alone', async () => {
      const { numLayers: L, hiddenSize: E, vocabSize: V } = model.info;
      const big = (xs: number[]) => BigInt64Array.from(xs, (x) => BigInt(x));
      const rows = [seqs[2].slice(0, 9), seqs[1].slice(0, 2)];
      const S = 9;
      const ids = rows.flatMap((r) => [...r, ...new Array(S - r.length).fill(0)]);
      const mask = rows.flatMap((r) => Array.from({ length: S }, (_, s) => (s < r.length ? 1 : 0)));
      let out = await model.step({
        ids: big(ids),
        batch: 2,
        seq: S,
        attentionMask: big(mask),
        positionIds: big(rows.flatMap(() => [...Array(S).keys()])),
        steer: new Float32Array(L * E),
        steerMask: new Float32Array(2 * S),
        logitsPositions: big(rows.map((r) => r.length - 1)),
      });
      let fullMask = mask;
      const extra = [seqs[0].slice(0, 6), seqs[2].slice(2, 8)];
      for (let t = 0; t < 6; t++) {
        fullMask = [0, 1].flatMap((b) => [...fullMask.slice(b * (S + t), (b + 1) * (S + t)), 1]);
        out = await model.step({
          ids: big([extra[0][t], extra[1][t]]),
          batch: 2,
          seq: 1,
          attentionMask: big(fullMask),
          positionIds: big(rows.map((r) => r.length + t)),
          past: { keys: out.presentKeys, values: out.presentValues },
          steer: new Float32Array(L * E),
          steerMask: new Float32Array(2),
          logitsPositions: big([0, 0]),
        });
        rows.forEach((r, b) => {
          const expected = ref.forward([...r, ...extra[b].slice(0, t + 1)]);
          assertClose(out.logits.subarray(b * V, (b + 1) * V), expected.logits[r.length + t], `row ${b} step ${t} logits`);
        });
      }
    });

    it('greedy generation of a padded batch equals greedy decoding by full passes of the reference', async () => {
      const prompts = [seqs[0], seqs[1]];
      const got = await model.generate(prompts, { maxTokens: 5, temperature: 0, stopTokenIds: [] });
      prompts.forEach((prompt, b) => {
        const ids = [...prompt];
        const expected: number[] = [];
        for (let t = 0; t < got[b].length; t++) {
          const logits = ref.forward(ids).logits[ids.length - 1];
          let best = 0;
          for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
          expected.push(best);
          ids.push(best);
          if (model.tokenizer.eosTokenIds.includes(best)) break;
        }
        assert.deepEqual(got[b], expected, `row ${b}`);
      });
    });

    it('padded batch equals each row alone', async () => {
      const batch = await model.forward(seqs);
      for (let b = 0; b < seqs.length; b++) {
        const single = await model.forward([seqs[b]]);
        assertClose(batch.lastLogits[b], single.lastLogits[0], `row ${b} logits`);
        assertClose(batch.hiddenLast[b], single.hiddenLast[0], `row ${b} hidden`);
      }
    });

    it('scoreContinuations equals log-softmax of the reference logits', async () => {
      const pairs = [
        { prompt: seqs[0], continuation: seqs[1] },
        { prompt: seqs[1], continuation: seqs[0].slice(0, 2) },
      ];
      const scores = await model.scoreContinuations(pairs);
      pairs.forEach((pair, i) => {
        const r = ref.forward([...pair.prompt, ...pair.continuation]);
        const expected = pair.continuation.map((tok, t) => {
          const row = r.logits[pair.prompt.length - 1 + t];
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
          return row[tok] - lse;
        });
        assertClose(scores[i].tokenLogProbs, expected, `pair ${i}`);
      });
    });

    it('disposes', async () => {
      await model.dispose();
    });
  });
}
