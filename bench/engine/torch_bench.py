"""PyTorch eager side of the engine benchmark (run through run.mjs): the same Llama-style forward
pass in plain torch fp32, from the same safetensors, same batch, same thread count. Prints one JSON
line: prefill and KV-cache generation tokens/s, sgemm GFLOP/s, peak RSS, and torch's BLAS."""
import json
import math
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "unit", "model"))
from torch_reference import inv_freq, load, rms_norm, rotate_half  # noqa: E402


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(f"--{name}") + 1]) if f"--{name}" in sys.argv else default


class Model:
    def __init__(self, ckpt):
        self.c, w = load(ckpt)
        self.w = {k: v.to(torch.float32).contiguous() for k, v in w.items()}
        c = self.c
        self.E, self.H, self.K = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.D = c.get("head_dim") or self.E // self.H
        self.L, self.eps = c["num_hidden_layers"], c["rms_norm_eps"]
        self.inv = inv_freq(c, self.D).to(torch.float32)
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def forward(self, ids, past=None):
        """ids [B,S]; past: list of (k,v) [B,K,P,D]. Returns logits [B,S,V], hidden_last [B,L,E], present."""
        B, S = ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        H, K, D, E = self.H, self.K, self.D, self.E
        h = self.w["model.embed_tokens.weight"][ids]
        pos = torch.arange(P, P + S, dtype=torch.float32)
        emb = torch.cat([torch.outer(pos, self.inv)] * 2, dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((S, P + S), float("-inf")).triu(P + 1)
        hidden, present = [], []
        for l in range(self.L):
            p = f"model.layers.{l}"
            w = lambda n: self.w[f"{p}.{n}.weight"]
            x = rms_norm(h, w("input_layernorm"), self.eps)
            q = (x @ w("self_attn.q_proj").T).view(B, S, H, D).transpose(1, 2)
            k = (x @ w("self_attn.k_proj").T).view(B, S, K, D).transpose(1, 2)
            v = (x @ w("self_attn.v_proj").T).view(B, S, K, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if past is not None:
                k = torch.cat([past[l][0], k], dim=2)
                v = torch.cat([past[l][1], v], dim=2)
            present.append((k, v))
            kk = k.repeat_interleave(H // K, dim=1)
            vv = v.repeat_interleave(H // K, dim=1)
            probs = torch.softmax(q @ kk.transpose(-1, -2) / math.sqrt(D) + mask, dim=-1)
            h = h + (probs @ vv).transpose(1, 2).reshape(B, S, H * D) @ w("self_attn.o_proj").T
            x = rms_norm(h, w("post_attention_layernorm"), self.eps)
            h = h + (torch.nn.functional.silu(x @ w("mlp.gate_proj").T) * (x @ w("mlp.up_proj").T)) @ w("mlp.down_proj").T
            hidden.append(h[:, -1])
        logits = rms_norm(h, self.w["model.norm.weight"], self.eps) @ self.head.T
        return logits, torch.stack(hidden, 1), present


def main():
    ckpt = arg("ckpt", "bench/engine/data/llama30m")
    threads, batch, seq, prompt_len, gen, reps = arg("threads", 2), arg("batch", 8), arg("seq", 128), arg("prompt", 16), arg("gen", 128), arg("reps", 5)
    torch.set_num_threads(threads)
    cfg = torch.__config__.show()
    blas = [part.strip().split(": ")[-1] for line in cfg.splitlines() for part in line.split(", ") if "BLAS_INFO=" in part]
    torch.randn(64, 64) @ torch.randn(64, 64)  # make sure the BLAS library is loaded
    with open("/proc/self/maps") as maps:
        blas += sorted({line.split()[-1] for line in maps if "blas" in line.lower() or "mkl" in line.lower()})
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
    gflops = 2 * n**3 / best / 1e9

    m = Model(ckpt)
    rows = torch.tensor(json.load(open(arg("rows", os.path.join(os.path.dirname(ckpt), "rows.json")))))
    assert rows.shape == (batch, seq)
    with torch.inference_mode():
        m.forward(rows[:2])
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            _, hidden, _ = m.forward(rows)
            times.append(time.perf_counter() - t0)
        prefill = min(times)  # best of: the machine is shared
        prompt = rows[:1, :prompt_len]
        gen_times, ids = [], []
        for _ in range(max(2, math.ceil(reps / 2))):
            t0 = time.perf_counter()
            logits, _, past = m.forward(prompt)
            ids = []
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            for _ in range(gen):
                ids.append(int(nxt))
                if len(ids) == gen:
                    break
                logits, _, past = m.forward(nxt, past)
                nxt = logits[:, -1].argmax(-1, keepdim=True)
            gen_times.append(time.perf_counter() - t0)
        gen_s = min(gen_times)
        # batched generation, as MDF samples answers: every row's first `prompt` tokens, 32 new each
        batch_times = []
        for _ in range(2):
            t0 = time.perf_counter()
            logits, _, past = m.forward(rows[:, :prompt_len])
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            for _ in range(31):
                logits, _, past = m.forward(nxt, past)
                nxt = logits[:, -1].argmax(-1, keepdim=True)
            batch_times.append(time.perf_counter() - t0)
        batch_s = min(batch_times)
    print(json.dumps({
        "engine": "pytorch-eager", "torch": torch.__version__, "threads": threads, "blas": blas,
        "prefill": {"batch": batch, "seq": seq, "seconds": prefill, "tokensPerSecond": batch * seq / prefill, "hiddenLastTail": hidden[0, -1, -8:].tolist()},
        "generate": {"prompt": prompt_len, "tokens": gen, "seconds": gen_s, "tokensPerSecond": gen / gen_s, "ids": ids[:16]},
        "generateBatch": {"batch": batch, "tokens": 32, "seconds": batch_s, "tokensPerSecond": batch * 32 / batch_s},
        "matmulGflops": gflops, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "config": cfg,
    }))


if __name__ == "__main__":
    main()
