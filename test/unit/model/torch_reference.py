"""Independent reference: the supported families' forward pass in plain torch (float64), from the
same safetensors files, written after transformers' modelling_{llama,mistral,qwen2,qwen3,gemma3}.py.
No transformers or safetensors package needed (Debian has neither): a tiny safetensors reader.

stdin: {"checkpoint": dir, "sequences": [[ids...], ...], "steer": [L*E floats] | null}
stdout: {"logits": [[V floats] per sequence, last position], "hidden": [[L*E floats] per sequence]}
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            begin, end = meta["data_offsets"]
            f.seek(base + begin)
            raw = bytearray(f.read(end - begin))
            t = torch.frombuffer(raw, dtype=DTYPES[meta["dtype"]]) if raw else torch.zeros(0, dtype=DTYPES[meta["dtype"]])
            out[name] = t.reshape(meta["shape"]).to(torch.float64)
        return out


def load(dir_):
    config = json.load(open(os.path.join(dir_, "config.json")))
    weights = {}
    for f in sorted(os.listdir(dir_)):
        if f.endswith(".safetensors"):
            weights.update(read_safetensors(os.path.join(dir_, f)))
    return config, weights


def inv_freq(config, head_dim):
    base = config.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    rs = config.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "linear":
        inv = inv / rs["factor"]
    elif kind == "llama3":
        factor, low, high, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, scaled)
    return inv.to(torch.float64)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(config, w, ids, steer):
    arch = config["architectures"][0]
    E = config["hidden_size"]
    H = config["num_attention_heads"]
    K = config.get("num_key_value_heads", H)
    D = config.get("head_dim") or E // H
    eps = config.get("rms_norm_eps", 1e-6)
    L = config["num_hidden_layers"]
    qwen2 = arch == "Qwen2ForCausalLM"
    qwen3 = arch == "Qwen3ForCausalLM"
    gemma = arch == "Gemma3ForCausalLM"
    attn_bias = config.get("attention_bias", False)
    S = len(ids)

    def norm(x, name):  # Gemma3RMSNorm scales by (1 + w)
        weight = w[name]
        return rms_norm(x, 1 + weight if gemma else weight, eps)

    h = w["model.embed_tokens.weight"][torch.tensor(ids)]  # [S,E]
    if gemma:
        h = h * torch.tensor(E**0.5, dtype=torch.float32).to(torch.float64)
    pos = torch.arange(S, dtype=torch.float64)

    def tables(inv):
        freqs = torch.outer(pos, inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()  # [S,D]

    global_rope = tables(inv_freq(config, D))
    local_rope = tables(inv_freq({"rope_theta": config.get("rope_local_base_freq", 10000.0)}, D)) if gemma else global_rope
    qi, ki = torch.arange(S)[:, None], torch.arange(S)[None, :]
    causal = torch.where(ki <= qi, 0.0, float("-inf")).to(torch.float64)
    if gemma:
        window = config["sliding_window"]
        local = torch.where((ki <= qi) & (qi - ki < window), 0.0, float("-inf")).to(torch.float64)
        pattern = config.get("sliding_window_pattern", 6)
        types = config.get("layer_types") or ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(L)]
        scaling = config["query_pre_attn_scalar"] ** -0.5
    else:
        scaling = 1 / math.sqrt(D)
    hidden = []
    for l in range(L):
        p = f"model.layers.{l}"
        lin = lambda x, n, bias=False: x @ w[f"{p}.{n}.weight"].T + (w[f"{p}.{n}.bias"] if bias else 0)
        sliding = gemma and types[l] == "sliding_attention"
        cos, sin = local_rope if sliding else global_rope
        x = norm(h, f"{p}.input_layernorm.weight")
        q = lin(x, "self_attn.q_proj", qwen2 or attn_bias).view(S, H, D)
        k = lin(x, "self_attn.k_proj", qwen2 or attn_bias).view(S, K, D)
        v = lin(x, "self_attn.v_proj", qwen2 or attn_bias).view(S, K, D)
        if qwen3 or gemma:
            q = norm(q, f"{p}.self_attn.q_norm.weight")
            k = norm(k, f"{p}.self_attn.k_norm.weight")
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # [n,S,D]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // K, dim=0)
        v = v.repeat_interleave(H // K, dim=0)
        probs = torch.softmax(q @ k.transpose(1, 2) * scaling + (local if sliding else causal), dim=-1)
        attn = lin((probs @ v).transpose(0, 1).reshape(S, H * D), "self_attn.o_proj", attn_bias and not qwen2)
        h = h + (norm(attn, f"{p}.post_attention_layernorm.weight") if gemma else attn)
        if gemma:
            x = norm(h, f"{p}.pre_feedforward_layernorm.weight")
            mlp = lin(torch.nn.functional.gelu(lin(x, "mlp.gate_proj"), approximate="tanh") * lin(x, "mlp.up_proj"), "mlp.down_proj")
            h = h + norm(mlp, f"{p}.post_feedforward_layernorm.weight")
        else:
            x = norm(h, f"{p}.post_attention_layernorm.weight")
            h = h + lin(torch.nn.functional.silu(lin(x, "mlp.gate_proj")) * lin(x, "mlp.up_proj"), "mlp.down_proj")
        if steer is not None:
            h = h + steer[l]
        hidden.append(h[-1])
    tied = config.get("tie_word_embeddings", gemma) or "lm_head.weight" not in w
    head = w["model.embed_tokens.weight"] if tied else w["lm_head.weight"]
    logits = norm(h, "model.norm.weight") @ head.T
    return logits[-1], torch.cat(hidden)


def main():
    request = json.load(sys.stdin)
    config, w = load(request["checkpoint"])
    steer = request.get("steer")
    if steer is not None:
        steer = torch.tensor(steer, dtype=torch.float64).view(config["num_hidden_layers"], config["hidden_size"])
    out = {"logits": [], "hidden": []}
    with torch.no_grad():
        for ids in request["sequences"]:
            logits, hidden = forward(config, w, ids, steer)
            out["logits"].append(logits.tolist())
            out["hidden"].append(hidden.tolist())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
