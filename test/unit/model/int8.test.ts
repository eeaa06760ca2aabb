// The int8 weight format: the quantiser is llama.cpp's Q8_0 (a hand-checked block), and the int8
// build of the bundled model runs on the real ONNX Runtime within a stated error of its fp32 build
// (hidden states, logits, greedy tokens); every family builds in int8; the build cache keys on it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import type { InferenceModel } from '../../../src/core/model/api';
import { builtModelDir, dtypeFor } from '../../../src/core/model/modelSource';
import { dequantizeRows, quantizeRows, quantizeStream } from '../../../src/core/model/onnx/quantize';
import { floatToHalf, halfToFloat } from '../../../src/core/model/safetensors';
import { renderRecord, tokenizeRecord } from '../../../src/core/mdf/records';
import { seededNormal, writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const root = mkdtempSync(join(tmpdir(), 'preflight-int8-'));
after(() => rmSync(root, { recursive: true, force: true }));
const BUNDLED = resolve('models/preflight-tiny');

describe('Q8_0 quantiser', () => {
  it('matches a hand-computed block (scale max/127 in fp16, round half away from zero, +128)', () => {
    const row = new Float32Array(32);
    row.set([1, -2, 0.5, 0.0078740157]); // 1/d = 63.5 exactly: 1 -> 63.5 -> 64; 0.00787.. * 63.5 = 0.5 -> 1
    const q = quantizeRows(row, 1, 32);
    assert.deepEqual(Array.from(q.data.subarray(0, 5)), [128 + 64, 128 - 127, 128 + 32, 128 + 1, 128]);
    assert.equal(q.scales[0], halfToFloat(floatToHalf(2 / 127)));
  });
  it('pads a partial last block, and streams in any pieces to the same bytes', async () => {
    const z = seededNormal(3);
    const [n, k] = [5, 40];
    const w = Float32Array.from({ length: n * k }, () => z());
    const q = quantizeRows(w, n, k);
    assert.equal(q.data.length, n * 2 * 32);
    assert.ok(
      q.data.subarray(32 + 8, 64).every((b) => b === 128),
      'padding holds zero',
    );
    const back = dequantizeRows(q, n, k);
    for (let i = 0; i < w.length; i++) {
      const scale = q.scales[Math.floor(i / k) * 2 + Math.floor((i % k) / 32)];
      assert.ok(Math.abs(back[i] - w[i]) <= scale * 0.5 + Math.abs(w[i]) * 1e-3, `element ${i}`);
    }
    const scales = new Float32Array(q.scales.length);
    async function* pieces() {
      for (const [a, b] of [
        [0, 7],
        [7, 90],
        [90, 200],
      ])
        yield w.slice(a, b);
    }
    const chunks: Uint8Array[] = [];
    for await (const c of quantizeStream(pieces(), n, k, scales)) chunks.push(c);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(q.data));
    assert.deepEqual(scales, q.scales);
  });
});

describe('int8 build of the bundled model (real ONNX Runtime)', () => {
  let fp32: InferenceModel;
  let int8: InferenceModel;
  let rows: number[][];
  let bytes: { fp32: number; int8: number };
  before(async () => {
    const a = await buildModel(BUNDLED, join(root, 'fp32'), { dtype: 'fp32' });
    const b = await buildModel(BUNDLED, join(root, 'int8'), { dtype: 'int8' });
    assert.notEqual(a.manifest.sourceHash, b.manifest.sourceHash);
    bytes = { fp32: a.manifest.bytes, int8: b.manifest.bytes };
    fp32 = await openModel(join(root, 'fp32'), { provider: 'cpu', threads: 1 });
    int8 = await openModel(join(root, 'int8'), { provider: 'cpu', threads: 1 });
    // the first 24 records of a benchmark example set, rendered as MDF renders them
    const lines = readFileSync('examples/mdf/bias-panda.jsonl', 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 24);
    rows = lines.map((l) => tokenizeRecord(renderRecord(JSON.parse(l), fp32.tokenizer)!, fp32.tokenizer, 256));
  });
  after(async () => {
    await fp32?.dispose();
    await int8?.dispose();
  });

  it('stores the linear layers and the LM head as MatMulNBits int8 weights, a third of the bytes', () => {
    const graph = onnx.ModelProto.decode(readFileSync(join(root, 'int8', 'model.onnx'))).graph!;
    const L = fp32.info.numLayers;
    assert.equal(graph.node!.filter((n) => n.opType === 'MatMulNBits').length, 5 * L + 1); // qkv, o, gate, up, down; the head
    assert.equal(int8.info.dtype, 'int8');
    assert.ok(bytes.int8 < 0.4 * bytes.fp32, `${bytes.int8} vs ${bytes.fp32} bytes`);
  });

  it('hidden states within 5% (relative L2, every layer), logits within 2% of their range, same argmax', async () => {
    const [a, b] = [await fp32.forward(rows), await int8.forward(rows)];
    const { numLayers: L, hiddenSize: E } = fp32.info;
    let worstHidden = 0,
      worstLogit = 0,
      sameArgmax = 0;
    rows.forEach((_, i) => {
      for (let l = 0; l < L; l++) {
        let d = 0,
          n = 0;
        for (let e = l * E; e < (l + 1) * E; e++) {
          d += (a.hiddenLast[i][e] - b.hiddenLast[i][e]) ** 2;
          n += a.hiddenLast[i][e] ** 2;
        }
        worstHidden = Math.max(worstHidden, Math.sqrt(d / n));
      }
      const [x, y] = [a.lastLogits[i], b.lastLogits[i]];
      let range = 0,
        diff = 0;
      for (let v = 0; v < x.length; v++) {
        range = Math.max(range, Math.abs(x[v]));
        diff = Math.max(diff, Math.abs(x[v] - y[v]));
      }
      worstLogit = Math.max(worstLogit, diff / range);
      const argmax = (z: Float32Array) => z.reduce((best, v, j) => (v > z[best] ? j : best), 0);
      if (argmax(x) === argmax(y)) sameArgmax++;
    });
    assert.ok(worstHidden > 0, 'int8 differs from fp32 at all (the quantised graph is used)');
    assert.ok(worstHidden < 0.05, `hidden states: worst relative error ${worstHidden}`);
    assert.ok(worstLogit < 0.02, `logits: worst error ${worstLogit} of the range`);
    assert.ok(sameArgmax >= rows.length - 1, `argmax agrees on ${sameArgmax}/${rows.length} rows`);
  });

  it('greedy generation agrees on the first 8 tokens of most prompts', async () => {
    const prompts = rows.slice(0, 8).map((r) => r.slice(0, Math.min(r.length, 24)));
    const [a, b] = [await fp32.generate(prompts, { maxTokens: 8, ignoreEos: true }), await int8.generate(prompts, { maxTokens: 8, ignoreEos: true })];
    const same = a.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(b[i])).length;
    assert.ok(same >= 6, `${same}/8 prompts generate the same 8 tokens`);
  });
});

describe('int8 across families and in the build cache', () => {
  it('every family builds in int8 and stays near its fp32 build (random tiny checkpoints, hidden sizes not a multiple of 32)', async () => {
    for (const family of ['llama', 'qwen2', 'qwen3', 'gemma3'] as const) {
      const src = join(root, `${family}-src`);
      await writeTinyCheckpoint(src, { family, hiddenSize: 48, intermediateSize: 80, numLayers: 2 });
      await buildModel(src, join(root, `${family}-fp32`), { dtype: 'fp32' });
      await buildModel(src, join(root, `${family}-int8`), { dtype: 'int8' });
      const a = await openModel(join(root, `${family}-fp32`), { provider: 'cpu', threads: 1 });
      const b = await openModel(join(root, `${family}-int8`), { provider: 'cpu', threads: 1 });
      const row = [[1, 5, 9, 14, 3, 7, 11]];
      const [x, y] = [(await a.forward(row)).lastLogits[0], (await b.forward(row)).lastLogits[0]];
      let range = 0,
        diff = 0;
      for (let v = 0; v < x.length; v++) {
        range = Math.max(range, Math.abs(x[v]));
        diff = Math.max(diff, Math.abs(x[v] - y[v]));
      }
      await a.dispose();
      await b.dispose();
      assert.ok(diff > 0 && diff < 0.05 * range, `${family}: logits differ by ${diff} of ${range}`);
    }
  });

  it('the weights setting picks the dtype, and the dtype names the cache folder', () => {
    assert.equal(dtypeFor('cpu'), 'fp32');
    assert.equal(dtypeFor('cuda'), 'fp16');
    assert.equal(dtypeFor('auto', 'int8'), 'int8');
    const cache = join(root, 'cache');
    assert.notEqual(builtModelDir(BUNDLED, 'int8', cache), builtModelDir(BUNDLED, 'fp32', cache));
    assert.match(builtModelDir(BUNDLED, 'int8', cache), /preflight-tiny-int8-/);
  });
});
