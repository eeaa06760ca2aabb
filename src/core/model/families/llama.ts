// The Llama layout and the families that differ from it only by a flag of the parsed config
// (checkpoint.ts): Llama 1/2/3 (incl. Llama-3 RoPE scaling), Mistral, Qwen2/2.5 (`qkvBias`: biases
// on q, k and v, not on o) and Qwen3 (`qkNorm`: a per-head RMSNorm of q and k over head_dim before
// RoPE; its head_dim need not be hidden_size / num_heads). Pre-norm decoder, RMSNorm, RoPE,
// grouped-query attention, SwiGLU MLP; `attention_bias` puts biases on every projection.
// Sliding windows (Mistral's `sliding_window`, Qwen2's `use_sliding_window`, off in released
// checkpoints) are not applied: exact up to the window. A family gets its own file only when its
// blocks differ (gemma3.ts).
import { Checkpoint, ropeInvFreq } from '../checkpoint';
import { applyRope, declareInputs, GraphBuilder, groupedQueryAttention, linear, rmsNorm, ropeTables, sequenceInfo, splitHeads, swiglu } from '../onnx/graph';
import { Weights } from '../onnx/weights';
import { DecoderOutputs } from './decoder';

export async function buildLlamaGraph(g: GraphBuilder, ckpt: Checkpoint, w: Weights, onLayer: (layer: number) => void): Promise<void> {
  const c = ckpt.config;
  const [E, H, K, D, L] = [c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim, c.numLayers];
  const inputs = declareInputs(g, L, K, D, E);
  const seq = sequenceInfo(g, inputs); // mask bias [B,1,S,T], last-token index, steer mask

  const embed = await w.raw('model.embed_tokens.weight', 'model.embed_tokens.weight'); // [V,E]
  let h = g.op('Gather', [embed, inputs.inputIds], { axis: 0 }); // [B,S,E]
  const { cos, sin } = await ropeTables(g, inputs.positionIds, ropeInvFreq(c)); // [B,1,S,D]
  const scale = g.scalar(1 / Math.sqrt(D));

  const out = new DecoderOutputs(g, inputs, seq);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    // --- self-attention block: h = h + o(attn(rope(q), rope(k), v)), q/k normed per head with qkNorm ---
    const x = rmsNorm(g, h, await w.vector(`${p}.ln1`, [`${p}.input_layernorm.weight`]), c.rmsNormEps); // [B,S,E]
    const qkvW = await w.linear(`${p}.qkv`, [`${p}.self_attn.q_proj.weight`, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.v_proj.weight`]); // [E,(H+2K)D]
    const qkvB = c.qkvBias
      ? await w.vector(`${p}.qkv_bias`, [`${p}.self_attn.q_proj.bias`, `${p}.self_attn.k_proj.bias`, `${p}.self_attn.v_proj.bias`])
      : undefined;
    const [q, k, v] = g.opMulti('Split', [linear(g, x, qkvW, qkvB), g.i64([H * D, K * D, K * D])], { axis: -1 }, { outputs: 3 });
    let qh: string; // [B,H,S,D]
    let kh: string; // [B,K,S,D]
    if (c.qkNorm) {
      const qNorm = await w.vector(`${p}.q_norm`, [`${p}.self_attn.q_norm.weight`]); // [D]
      const kNorm = await w.vector(`${p}.k_norm`, [`${p}.self_attn.k_norm.weight`]); // [D]
      const toHeads = (t: string) => g.op('Transpose', [t], { perm: [0, 2, 1, 3] });
      qh = toHeads(rmsNorm(g, g.op('Reshape', [q, g.i64([0, 0, H, D])]), qNorm, c.rmsNormEps)); // normed per head
      kh = toHeads(rmsNorm(g, g.op('Reshape', [k, g.i64([0, 0, K, D])]), kNorm, c.rmsNormEps));
    } else {
      qh = splitHeads(g, q, H, D);
      kh = splitHeads(g, k, K, D);
    }
    const qr = g.op('Mul', [applyRope(g, qh, cos, sin, D), scale]); // [B,H,S,D]
    const kr = applyRope(g, kh, cos, sin, D); // [B,K,S,D]
    const keys = g.op('Concat', [inputs.pastKeys[l], kr], { axis: 2 }); // [B,K,T,D]
    const values = g.op('Concat', [inputs.pastValues[l], splitHeads(g, v, K, D)], { axis: 2 }); // [B,K,T,D]
    out.cache(keys, values);
    const attn = groupedQueryAttention(g, qr, keys, values, seq.maskBias, H, K, D); // [B,S,H*D]
    const oB = c.oBias ? await w.vector(`${p}.o_bias`, [`${p}.self_attn.o_proj.bias`]) : undefined;
    h = g.op('Add', [h, linear(g, attn, await w.linear(`${p}.o`, [`${p}.self_attn.o_proj.weight`]), oB)]);

    // --- MLP block: h = h + down(silu(gate(x)) * up(x)) ---
    const x2 = rmsNorm(g, h, await w.vector(`${p}.ln2`, [`${p}.post_attention_layernorm.weight`]), c.rmsNormEps);
    const gate = await w.linear(`${p}.gate`, [`${p}.mlp.gate_proj.weight`]); // [E,I]
    const up = await w.linear(`${p}.up`, [`${p}.mlp.up_proj.weight`]); // [E,I]
    h = g.op('Add', [h, swiglu(g, x2, gate, up, await w.linear(`${p}.down`, [`${p}.mlp.down_proj.weight`]))]);

    // --- MDF: steering on the residual output, then record it at the last real token ---
    h = out.endLayer(h, l, E);
    onLayer(l);
  }

  await out.finish(ckpt, w, h, await w.vector('model.norm', ['model.norm.weight']), embed);
}
