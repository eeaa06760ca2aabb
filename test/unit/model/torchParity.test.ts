// Checks the ONNX graphs against an independent implementation: each family's forward pass in plain
// torch (test/unit/model/torch_reference.py, float64, its own safetensors reader), run through
// /usr/bin/python3. Skipped, saying why, where that interpreter has no torch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import { seededNormal, TinyCheckpointOptions, writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const PYTHON = process.env.PREFLIGHT_TORCH_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `no torch in ${PYTHON} (install python3-torch, or set PREFLIGHT_TORCH_PYTHON)`;

const CASES: TinyCheckpointOptions[] = [
  {
    family: 'llama',
    numHeads: 4,
    numKvHeads: 2,
    ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    ropeTheta: 500000,
  },
  { family: 'mistral', tieWordEmbeddings: true },
  { family: 'qwen2', numKvHeads: 1 },
  { family: 'qwen3', headDim: 12, dtype: 'BF16' },
  { family: 'gemma3', numLayers: 3, headDim: 16 },
];

const root = mkdtempSync(join(tmpdir(), 'preflight-torch-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('ONNX graph vs independent torch implementation (torch_reference.py)', { skip }, () => {
  for (const options of CASES) {
    it(`${options.family}: last logits and hidden_last, with and without steering`, async () => {
      const src = join(root, options.family);
      await writeTinyCheckpoint(src, options);
      await buildModel(src, `${src}_onnx`);
      const model = await openModel(`${src}_onnx`, { provider: 'cpu', threads: 1 });
      const z = seededNormal(5);
      const sequences = [
        [5, 17, 200, 33, 8, 90],
        [44, 2, 250],
      ];
      const vectors = Float32Array.from({ length: model.info.numLayers * model.info.hiddenSize }, () => 0.3 * z());
      for (const steer of [null, vectors]) {
        const request = JSON.stringify({ checkpoint: src, sequences, steer: steer && Array.from(steer) });
        const py = spawnSync(PYTHON, [join(__dirname, 'torch_reference.py')], { input: request, encoding: 'utf8', maxBuffer: 1 << 26 });
        assert.equal(py.status, 0, py.stderr);
        const expected = JSON.parse(py.stdout) as { logits: number[][]; hidden: number[][] };
        const got = await model.forward(sequences, steer ? { steering: { vectors: steer } } : {});
        sequences.forEach((_, b) => {
          for (const [name, a, e] of [
            ['logits', got.lastLogits[b], expected.logits[b]],
            ['hidden', got.hiddenLast[b], expected.hidden[b]],
          ] as const) {
            let worst = 0;
            for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.max(1, Math.abs(e[i])));
            assert.ok(worst <= 1e-4, `${options.family} row ${b} ${name}${steer ? ' (steered)' : ''}: max error ${worst.toExponential(2)}`);
          }
        });
      }
      await model.dispose();
    });
  }
});
