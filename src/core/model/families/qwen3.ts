// Qwen3: the Llama layout plus a per-head RMSNorm of q and k (over head_dim, before RoPE), and an
// explicit head_dim that need not equal hidden_size / num_heads. No q/k/v biases unless attention_bias.
import { Checkpoint, lmHeadName, ropeInvFreq } from '../checkpoint';
import {
  addSteering, applyRope, declareInputs, declareOutputs, gatherLast, GraphBuilder, groupedQueryAttention,
  linear, meanOverTokens, rmsNorm, ropeTables, sequenceInfo, splitHeads, swiglu,
} from '../onnx/graph';
import { Weights } from '../onnx/weights';

export async function buildQwen3Graph(g: GraphBuilder, ckpt: Checkpoint, w: Weights, onLayer: (layer: number) => void): Promise<void> {
  const c = ckpt.config;
  const [E, H, K, D, L] = [c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim, c.numLayers];
  const inputs = declareInputs(g, L, K, D, E);
  const seq = sequenceInfo(g, inputs); // mask bias [B,1,S,T], last-token index, steer mask

  const embed = await w.raw('model.embed_tokens.weight', 'model.embed_tokens.weight'); // [V,E]
  let h = g.op('Gather', [embed, inputs.inputIds], { axis: 0 }); // [B,S,E]
  const { cos, sin } = await ropeTables(g, inputs.positionIds, ropeInvFreq(c)); // [B,1,S,D]
  const scale = g.scalar(1 / Math.sqrt(D));

  const hiddenLast: string[] = [];
  const hiddenMean: string[] = [];
  const presentKeys: string[] = [];
  const presentValues: string[] = [];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    // --- self-attention block: h = h + o(attn(rope(norm_q(q)), rope(norm_k(k)), v)) ---
    const x = rmsNorm(g, h, await w.vector(`${p}.ln1`, [`${p}.input_layernorm.weight`]), c.rmsNormEps); // [B,S,E]
    const qkvW = await w.linear(`${p}.qkv`, [`${p}.self_attn.q_proj.weight`, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.v_proj.weight`]); // [E,(H+2K)D]
    const qkvB = c.qkvBias ? await w.vector(`${p}.qkv_bias`, [`${p}.self_attn.q_proj.bias`, `${p}.self_attn.k_proj.bias`, `${p}.self_attn.v_proj.bias`]) : undefined;
    const [q, k, v] = g.opMulti('Split', [linear(g, x, qkvW, qkvB), g.i64([H * D, K * D, K * D])], { axis: -1 }, { outputs: 3 });
    const qNorm = await w.vector(`${p}.q_norm`, [`${p}.self_attn.q_norm.weight`]); // [D]
    const kNorm = await w.vector(`${p}.k_norm`, [`${p}.self_attn.k_norm.weight`]); // [D]
    const qn = rmsNorm(g, g.op('Reshape', [q, g.i64([0, 0, H, D])]), qNorm, c.rmsNormEps); // [B,S,H,D], normed per head
    const kn = rmsNorm(g, g.op('Reshape', [k, g.i64([0, 0, K, D])]), kNorm, c.rmsNormEps); // [B,S,K,D]
    const toHeads = (x: string) => g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
    const qr = g.op('Mul', [applyRope(g, toHeads(qn), cos, sin, D), scale]); // [B,H,S,D]
    const kr = applyRope(g, toHeads(kn), cos, sin, D); // [B,K,S,D]
    const keys = g.op('Concat', [inputs.pastKeys[l], kr], { axis: 2 }); // [B,K,T,D]
    const values = g.op('Concat', [inputs.pastValues[l], splitHeads(g, v, K, D)], { axis: 2 }); // [B,K,T,D]
    presentKeys.push(keys);
    presentValues.push(values);
    const attn = groupedQueryAttention(g, qr, keys, values, seq.maskBias, H, K, D); // [B,S,H*D]
    const oB = c.oBias ? await w.vector(`${p}.o_bias`, [`${p}.self_attn.o_proj.bias`]) : undefined;
    h = g.op('Add', [h, linear(g, attn, await w.linear(`${p}.o`, [`${p}.self_attn.o_proj.weight`]), oB)]);

    // --- MLP block: h = h + down(silu(gate(x)) * up(x)) ---
    const x2 = rmsNorm(g, h, await w.vector(`${p}.ln2`, [`${p}.post_attention_layernorm.weight`]), c.rmsNormEps);
    const gate = await w.linear(`${p}.gate`, [`${p}.mlp.gate_proj.weight`]); // [E,I]
    const up = await w.linear(`${p}.up`, [`${p}.mlp.up_proj.weight`]); // [E,I]
    h = g.op('Add', [h, swiglu(g, x2, gate, up, await w.linear(`${p}.down`, [`${p}.mlp.down_proj.weight`]))]);

    // --- MDF: steering on the residual output, then record it at the last real token ---
    h = addSteering(g, h, inputs, seq, l);
    hiddenLast.push(gatherLast(g, h, seq, E)); // [B,1,E]
    hiddenMean.push(meanOverTokens(g, h, seq)); // [B,1,E]
    onLayer(l);
  }

  const normed = rmsNorm(g, h, await w.vector('model.norm', ['model.norm.weight']), c.rmsNormEps); // [B,S,E]
  const head = lmHeadName(ckpt);
  const lmHead = head === 'model.embed_tokens.weight' ? embed : await w.raw('lm_head', head); // [V,E]
  declareOutputs(g, { inputs, seq, normed, lmHead, vocab: c.vocabSize, hidden: E, numKvHeads: K, headDim: D, hiddenLast, hiddenMean, presentKeys, presentValues });
}
