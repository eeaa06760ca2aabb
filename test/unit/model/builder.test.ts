// Builder behaviour around the graph: refusals, the build cache, tokenizer and chat template,
// the CUDA -> CPU fallback notice, seeded sampling, cancellation.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildModel } from '../../../src/core/model/build';
import { parseConfig } from '../../../src/core/model/checkpoint';
import { openModel, OrtInferenceModel } from '../../../src/core/model/runtime';
import { sampleToken } from '../../../src/core/model/sampling';
import { rng as seededRandom } from '../../../src/shared/random';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { CancelledError } from '../../../src/shared/errors';

const root = mkdtempSync(join(tmpdir(), 'preflight-builder-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('checkpoint refusals', () => {
  it('names the supported architectures', () => {
    assert.throws(
      () => parseConfig({ architectures: ['GPT2LMHeadModel'] }),
      /unsupported architecture GPT2LMHeadModel; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM/,
    );
  });
  it('refuses unsupported rope scaling and activations', () => {
    const base = { architectures: ['LlamaForCausalLM'], hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 8, vocab_size: 8 };
    assert.throws(
      () => parseConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 2 } }),
      /rope_scaling type 'yarn'; supported: default, linear, llama3/,
    );
    assert.throws(() => parseConfig({ ...base, hidden_act: 'gelu' }), /unsupported activation gelu/);
  });
  it('refuses quantised weight dtypes', async () => {
    const dir = join(root, 'int8');
    await writeTinyCheckpoint(dir, { family: 'llama' });
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = bytes
      .subarray(8, 8 + n)
      .toString('utf8')
      .replace('"F32"', '"I8" ');
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), Buffer.from(header), bytes.subarray(8 + n)]));
    await assert.rejects(buildModel(dir, join(root, 'int8_onnx')), /unsupported weight dtype I8; supported: F32, F16, BF16/);
  });
});

describe('built model', () => {
  let model: OrtInferenceModel;
  const src = join(root, 'qwen2');
  const out = join(root, 'qwen2_onnx');
  const notices: string[] = [];
  before(async () => {
    await writeTinyCheckpoint(src, { family: 'qwen2' });
    await buildModel(src, out);
    model = await openModel(out, { provider: 'auto', onNotice: (m) => notices.push(m) });
  });
  after(() => model.dispose());

  it('reuses an unchanged build and rebuilds after a change', async () => {
    assert.equal((await buildModel(src, out)).reused, true);
    const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    writeFileSync(join(src, 'config.json'), JSON.stringify({ ...config, rms_norm_eps: 1e-5 }));
    const rebuilt = await buildModel(src, join(root, 'qwen2_onnx_b'));
    assert.equal(rebuilt.reused, false);
    assert.notEqual(rebuilt.manifest.sourceHash, JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).sourceHash);
  });

  it('falls back to the CPU with one notice when CUDA is not installed', () => {
    assert.equal(model.info.provider, 'cpu');
    assert.equal(notices.length, 1);
    assert.match(notices[0], /CUDA execution provider is not available/);
  });

  it('tokenizer round trip and chat template', () => {
    const ids = model.tokenizer.encode('the cat sat on the mat');
    assert.equal(model.tokenizer.decode(ids), 'the cat sat on the mat');
    const chat = model.tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    assert.equal(chat, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    assert.ok(model.tokenizer.eosTokenIds.length >= 1);
  });

  it('sampling is reproducible from a seed', async () => {
    const prompt = [model.tokenizer.encode('hello there')];
    const a = await model.generate(prompt, { maxTokens: 8, temperature: 1, topP: 0.9, seed: 7, stopTokenIds: [] });
    const b = await model.generate(prompt, { maxTokens: 8, temperature: 1, topP: 0.9, seed: 7, stopTokenIds: [] });
    assert.deepEqual(a, b);
    assert.ok(a[0].length > 0 && a[0].length <= 8);
  });

  it('cancellation stops generation between steps', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(model.generate([[1, 2, 3]], { maxTokens: 4, signal: controller.signal }), (e: unknown) => e instanceof CancelledError);
  });

  it('refuses steering vectors of the wrong size', async () => {
    await assert.rejects(model.forward([[1, 2]], { steering: { vectors: new Float32Array(3) } }), /numLayers\*hiddenSize/);
  });
});

describe('sampling', () => {
  it('top-p keeps only the nucleus', () => {
    const rng = seededRandom(1);
    const logits = [10, 9.9, -5, -5];
    for (let i = 0; i < 200; i++) assert.ok(sampleToken(logits, 1, 0.5, rng) <= 1);
    assert.equal(sampleToken(logits, 0, 1, rng), 0);
  });
});

describe('fp16 weights (the CUDA build), run on the CPU', () => {
  it('stays within fp16 rounding of the float64 reference, for each family', async () => {
    const { ReferenceModel } = await import('../../../src/core/model/reference');
    for (const family of ['llama', 'qwen2', 'qwen3'] as const) {
      const src = join(root, `fp16-${family}`);
      await writeTinyCheckpoint(src, { family });
      const built = await buildModel(src, `${src}_onnx`, { dtype: 'fp16' });
      assert.equal(built.manifest.info.dtype, 'fp16');
      const model = await openModel(`${src}_onnx`, { provider: 'cpu' });
      const ref = await ReferenceModel.load(src);
      const seq = [5, 9, 30, 200, 7, 64];
      const [got] = (await model.forward([seq, [1, 2]])).lastLogits;
      const expected = ref.forward(seq).logits[seq.length - 1];
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      assert.ok(worst < 2e-2, `${family}: fp16 max error ${worst}`);
      // the KV cache is fp16 too: generation must run
      assert.equal((await model.generate([seq], { maxTokens: 3, ignoreEos: true }))[0].length, 3);
      await model.dispose();
    }
  });
});

describe('large batches', () => {
  it('are split into runs by length and come back in input order', async () => {
    const src = join(root, 'runs');
    await writeTinyCheckpoint(src, { family: 'llama' });
    await buildModel(src, `${src}_onnx`);
    const model = await openModel(`${src}_onnx`, { provider: 'cpu' });
    // 120 rows of 1..120 tokens: more than one run of 8192 padded tokens
    const rows = Array.from({ length: 120 }, (_, i) => Array.from({ length: ((i * 37) % 120) + 1 }, (_, t) => (t * 7 + i) % 270));
    const all = await model.forward(rows);
    for (const i of [0, 1, 59, 119]) {
      const single = await model.forward([rows[i]]);
      let worst = 0;
      single.hiddenLast[0].forEach((v, k) => (worst = Math.max(worst, Math.abs(v - all.hiddenLast[i][k]))));
      assert.ok(worst < 1e-4, `row ${i}: ${worst}`);
    }
    await model.dispose();
  });
});

describe('multimodal Gemma 3 checkpoints', () => {
  it('build their language model only, identical to the same weights saved text-only', async () => {
    const text = join(root, 'gemma-text');
    const multi = join(root, 'gemma-multi');
    await writeTinyCheckpoint(text, { family: 'gemma3', seed: 5 });
    await writeTinyCheckpoint(multi, { family: 'gemma3', seed: 5, gemmaMultimodal: true });
    const a = await buildModel(text, `${text}_onnx`);
    const b = await buildModel(multi, `${multi}_onnx`);
    assert.equal(b.manifest.architecture, 'Gemma3ForConditionalGeneration');
    assert.equal(b.manifest.parameters, a.manifest.parameters, 'vision tensors are not counted');
    const ma = await openModel(`${text}_onnx`, { provider: 'cpu' });
    const mb = await openModel(`${multi}_onnx`, { provider: 'cpu' });
    const rows = [
      [3, 1, 4, 1, 5, 9, 2, 6],
      [5, 3],
    ];
    assert.deepEqual(await mb.forward(rows), await ma.forward(rows));
    await ma.dispose();
    await mb.dispose();
  });
});
