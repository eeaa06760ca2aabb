// Qwen2 / Qwen2.5: the Llama layout with biases on the q, k and v projections (not on o).
// Sliding-window attention (use_sliding_window, off in released Qwen2 checkpoints) is not applied.
import { Checkpoint, lmHeadName, ropeInvFreq } from '../checkpoint';
import {
  addSteering, applyRope, declareInputs, declareOutputs, gatherLast, GraphBuilder, groupedQueryAttention,
  linear, meanOverTokens, rmsNorm, ropeTables, sequenceInfo, splitHeads, swiglu,
} from '../onnx/graph';
import { Weights } from '../onnx/weights';

export async function buildQwen2Graph(g: GraphBuilder, ckpt: Checkpoint, w: Weights, onLayer: (layer: number) => void): Promise<void> {
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
    // --- self-attention block: h = h + o(attn(rope(q + bq), rope(k + bk), v + bv)) ---
    const x = rmsNorm(g, h, await w.vector(`${p}.ln1`, [`${p}.input_layernorm.weight`]), c.rmsNormEps); // [B,S,E]
    const qkvW = await w.linear(`${p}.qkv`, [`${p}.self_attn.q_proj.weight`, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.v_proj.weight`]); // [E,(H+2K)D]
    const qkvB = await w.vector(`${p}.qkv_bias`, [`${p}.self_attn.q_proj.bias`, `${p}.self_attn.k_proj.bias`, `${p}.self_attn.v_proj.bias`]); // [(H+2K)D]
    const [q, k, v] = g.opMulti('Split', [linear(g, x, qkvW, qkvB), g.i64([H * D, K * D, K * D])], { axis: -1 }, { outputs: 3 });
    const qr = g.op('Mul', [applyRope(g, splitHeads(g, q, H, D), cos, sin, D), scale]); // [B,H,S,D]
    const kr = applyRope(g, splitHeads(g, k, K, D), cos, sin, D); // [B,K,S,D]
    const keys = g.op('Concat', [inputs.pastKeys[l], kr], { axis: 2 }); // [B,K,T,D]
    const values = g.op('Concat', [inputs.pastValues[l], splitHeads(g, v, K, D)], { axis: 2 }); // [B,K,T,D]
    presentKeys.push(keys);
    presentValues.push(values);
    const attn = groupedQueryAttention(g, qr, keys, values, seq.maskBias, H, K, D); // [B,S,H*D]
    h = g.op('Add', [h, linear(g, attn, await w.linear(`${p}.o`, [`${p}.self_attn.o_proj.weight`]))]);

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
