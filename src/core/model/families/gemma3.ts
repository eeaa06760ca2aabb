// Gemma 3 (text, Gemma3ForCausalLM: gemma-3-1b and the like). Differs from Llama in every block:
// embeddings scaled by sqrt(E); RMSNorm multiplies by (1 + w) (stored here as w + 1); four norms
// per layer (before and after attention, before and after the MLP); q/k RMSNorm per head; scores
// scaled by query_pre_attn_scalar^-0.5; GeGLU (GELU-tanh) MLP; sliding-window (local) layers with
// their own RoPE base interleaved with full (global) layers that use rope_theta and rope_scaling.
import { Checkpoint, ropeInvFreq } from '../checkpoint';
import {
  applyRope,
  declareInputs,
  geglu,
  GraphBuilder,
  groupedQueryAttention,
  linear,
  rmsNorm,
  ropeTables,
  sequenceInfo,
  slidingMaskBias,
} from '../onnx/graph';
import { Weights } from '../onnx/weights';
import { DecoderOutputs } from './decoder';

export async function buildGemma3Graph(g: GraphBuilder, ckpt: Checkpoint, w: Weights, onLayer: (layer: number) => void): Promise<void> {
  const c = ckpt.config;
  const gemma = c.gemma!;
  const [E, H, K, D, L] = [c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim, c.numLayers];
  const inputs = declareInputs(g, L, K, D, E);
  const seq = sequenceInfo(g, inputs); // full-attention mask bias [B,1,S,T], last-token index, steer mask
  const localMask = slidingMaskBias(g, inputs, seq, gemma.slidingWindow); // [B,1,S,T]
  const norm = async (name: string, hf: string) => w.vector(name, [hf], 1); // Gemma: x_normed * (1 + w)

  const embed = await w.raw('model.embed_tokens.weight', 'model.embed_tokens.weight'); // [V,E]
  let h = g.op('Mul', [g.op('Gather', [embed, inputs.inputIds], { axis: 0 }), g.scalar(gemma.embedScale)]); // [B,S,E]
  const globalRope = await ropeTables(g, inputs.positionIds, ropeInvFreq(c), 'rope.global'); // [B,1,S,D]
  const localRope = await ropeTables(
    g,
    inputs.positionIds,
    ropeInvFreq({ headDim: D, ropeTheta: gemma.ropeLocalTheta, ropeScaling: { type: 'default' } }),
    'rope.local',
  );
  const scale = g.scalar(gemma.queryPreAttnScalar ** -0.5);

  const out = new DecoderOutputs(g, inputs, seq);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const sliding = gemma.slidingLayers[l];
    const { cos, sin } = sliding ? localRope : globalRope;
    // --- attention block: h = h + post_norm(o(attn(rope(norm_q(q)), rope(norm_k(k)), v))) ---
    const x = rmsNorm(g, h, await norm(`${p}.ln_attn_in`, `${p}.input_layernorm.weight`), c.rmsNormEps); // [B,S,E]
    const qkvW = await w.linear(`${p}.qkv`, [`${p}.self_attn.q_proj.weight`, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.v_proj.weight`]); // [E,(H+2K)D]
    const [q, k, v] = g.opMulti('Split', [linear(g, x, qkvW), g.i64([H * D, K * D, K * D])], { axis: -1 }, { outputs: 3 });
    const qn = rmsNorm(g, g.op('Reshape', [q, g.i64([0, 0, H, D])]), await norm(`${p}.q_norm`, `${p}.self_attn.q_norm.weight`), c.rmsNormEps); // [B,S,H,D]
    const kn = rmsNorm(g, g.op('Reshape', [k, g.i64([0, 0, K, D])]), await norm(`${p}.k_norm`, `${p}.self_attn.k_norm.weight`), c.rmsNormEps); // [B,S,K,D]
    const toHeads = (t: string) => g.op('Transpose', [t], { perm: [0, 2, 1, 3] });
    const qr = g.op('Mul', [applyRope(g, toHeads(qn), cos, sin, D), scale]); // [B,H,S,D]
    const kr = applyRope(g, toHeads(kn), cos, sin, D); // [B,K,S,D]
    const keys = g.op('Concat', [inputs.pastKeys[l], kr], { axis: 2 }); // [B,K,T,D]
    const values = g.op('Concat', [inputs.pastValues[l], toHeads(g.op('Reshape', [v, g.i64([0, 0, K, D])]))], { axis: 2 });
    out.cache(keys, values);
    const attn = groupedQueryAttention(g, qr, keys, values, sliding ? localMask : seq.maskBias, H, K, D); // [B,S,H*D]
    const attnOut = linear(g, attn, await w.linear(`${p}.o`, [`${p}.self_attn.o_proj.weight`])); // [B,S,E]
    h = g.op('Add', [h, rmsNorm(g, attnOut, await norm(`${p}.ln_attn_out`, `${p}.post_attention_layernorm.weight`), c.rmsNormEps)]);

    // --- MLP block: h = h + post_norm(down(gelu_tanh(gate(x)) * up(x))) ---
    const x2 = rmsNorm(g, h, await norm(`${p}.ln_mlp_in`, `${p}.pre_feedforward_layernorm.weight`), c.rmsNormEps);
    const gate = await w.linear(`${p}.gate`, [`${p}.mlp.gate_proj.weight`]); // [E,I]
    const up = await w.linear(`${p}.up`, [`${p}.mlp.up_proj.weight`]); // [E,I]
    const mlpOut = geglu(g, x2, gate, up, await w.linear(`${p}.down`, [`${p}.mlp.down_proj.weight`])); // [B,S,E]
    h = g.op('Add', [h, rmsNorm(g, mlpOut, await norm(`${p}.ln_mlp_out`, `${p}.post_feedforward_layernorm.weight`), c.rmsNormEps)]);

    // --- MDF: steering on the residual output, then record it ---
    h = out.endLayer(h, l, E);
    onLayer(l);
  }

  await out.finish(ckpt, w, h, await norm('model.norm', 'model.norm.weight'), embed);
}
