// A planted model for LLM annotation tests (unit and end to end): a tiny Llama checkpoint whose
// preferences over level names are known by construction. Every layer adds nothing to the residual
// stream (o_proj and down_proj are zero), every embedding row is the unit vector e0 and the final
// norm keeps only dimension 0, so the logits at every position are lm_head[:, 0] · g with
// g = 1 / sqrt(1/E + eps): a context-free unigram model with the chosen logits `a` — 'm' far
// ahead, then 'h', then 'l', every other token 0. Built to ONNX by the engine's own builder.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../../src/core/model/build';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { loadTokenizer } from '../../../src/core/model/tokenizer';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const E = 32;
const EPS = 1e-6;

/** Writes the checkpoint into dir/ckpt and, unless `build` is false, its ONNX model into dir/model. */
export async function writePlantedModel(dir: string, build = true): Promise<{ checkpointDir: string; modelDir: string; a: Float64Array }> {
  const ckpt = await writeTinyCheckpoint(join(dir, 'ckpt'), { family: 'llama', numLayers: 1, hiddenSize: E, tieWordEmbeddings: false });
  // room for a few-shot prompt of the byte-level tokenizer (about a token per character)
  const config = JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8'));
  config.max_position_embeddings = 4096;
  writeFileSync(join(ckpt.dir, 'config.json'), JSON.stringify(config));
  const vocab = config.vocab_size as number;
  const tokenizer = loadTokenizer(ckpt.dir);
  const a = new Float64Array(vocab);
  const id = (s: string) => {
    const ids = tokenizer.encode(s, { addSpecialTokens: false });
    if (ids.length !== 1) throw new Error(`'${s}' is not one token`);
    return ids[0];
  };
  a[id('m')] = 4;
  a[id('h')] = 2;
  a[id('l')] = 1;
  const g = 1 / Math.sqrt(1 / E + EPS);
  const tensors = [...ckpt.tensors.entries()].map(([name, t]) => {
    const data = new Float32Array(t.data.length);
    if (name === 'model.embed_tokens.weight') for (let v = 0; v < vocab; v++) data[v * E] = 1;
    else if (name === 'model.norm.weight') data[0] = 1;
    else if (name === 'lm_head.weight') for (let v = 0; v < vocab; v++) data[v * E] = a[v] / g;
    else if (!/o_proj|down_proj/.test(name)) data.set(t.data);
    return { name, shape: t.shape, data };
  });
  await writeSafetensors(join(ckpt.dir, 'model.safetensors'), tensors);
  const modelDir = join(dir, 'model');
  if (build) await buildModel(ckpt.dir, modelDir);
  return { checkpointDir: ckpt.dir, modelDir, a };
}
