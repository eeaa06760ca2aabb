#!/usr/bin/env python3
"""GPU parity and timing of Preflight's ONNX builder against Hugging Face transformers.

For a machine with a CUDA GPU, torch, transformers, onnxruntime-gpu and numpy installed (no
internet needed), and this repository built (`npm ci && npm run build`):

    python3 scripts/gpu-parity.py [--families llama,llama3,mistral,qwen2,qwen3,gemma3] [--workdir DIR]
                                  [--skip-timing] [--timing-size small|medium]

1. Parity: for each family, a transformers model from a random config (GQA, and per family its
   peculiarity: Llama-3 RoPE scaling, tied embeddings, Qwen2 q/k/v biases, Qwen3 q/k norms, Gemma 3's
   norms, GeGLU and sliding-window layers) is
   saved as an HF checkpoint (safetensors + a small byte-level BPE tokenizer), converted with
   `node dist/cli.js build-model` to fp32 and fp16 ONNX, and run with ONNX Runtime (CUDA EP, and
   CPU EP for fp32). Compared with transformers on the GPU: last-token logits and every layer's
   residual output (hidden_last), with and without steering (alpha * vector added to each layer's
   output at every position, through forward hooks), right-padded batches, and KV-cache decoding.
   Tolerances: fp32 1e-4 (relative to max(1, |x|); TF32 off on both sides), fp16 5e-2.
2. Timing: a larger random Llama (~0.2B small / ~1.1B medium parameters): ONNX Runtime CUDA fp16
   vs ONNX Runtime CPU fp32 vs transformers GPU fp16 eager; prefill (8 x 256 tokens) and KV-cache
   greedy generation (batch 1, 64 tokens).

Exit status 0 when every parity check passes, 1 otherwise.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FP32_TOL = 1e-4
FP16_TOL = 5e-2


# ---------------------------------------------------------------- tokenizer (as test/helpers/tinyCheckpoint.ts)

def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = [None] * 256
    for b, c in zip(bs, cs):
        table[b] = chr(c)
    return table


MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("o", "n"), ("Ġ", "w"), ("a", "t"), ("a", "n")]
SPECIALS = ["<|begin_of_text|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
                 "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def write_tokenizer(out_dir):
    vocab = {c: i for i, c in enumerate(bytes_to_unicode())}
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    base = len(vocab)
    added = [{"id": base + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, t in enumerate(SPECIALS)]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in MERGES]},
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "chat_template": CHAT_TEMPLATE,
                   "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 4096}, f)
    return base + len(SPECIALS)


# ---------------------------------------------------------------- random models of each family

def family_config(name, vocab):
    common = dict(vocab_size=vocab, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=8,
                  num_key_value_heads=2, max_position_embeddings=1024, rms_norm_eps=1e-6, bos_token_id=vocab - 4, eos_token_id=vocab - 3)
    if name == "llama":
        return transformers.LlamaConfig(**common, rope_theta=10000.0)
    if name == "llama3":
        return transformers.LlamaConfig(**common, rope_theta=500000.0, tie_word_embeddings=True,
                                        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    if name == "mistral":
        return transformers.MistralConfig(**common, sliding_window=None)
    if name == "qwen2":
        return transformers.Qwen2Config(**common, use_sliding_window=False)
    if name == "qwen3":
        return transformers.Qwen3Config(**common, head_dim=48, tie_word_embeddings=True, use_sliding_window=False)
    if name == "gemma3":  # text-only Gemma3ForCausalLM; a short window so that the parity rows exceed it
        return transformers.Gemma3TextConfig(**common, head_dim=64, query_pre_attn_scalar=48, sliding_window=8, sliding_window_pattern=2,
                                             rope_local_base_freq=10000.0, rope_theta=1000000.0)
    raise SystemExit(f"unknown family {name}")


def randomise(model, seed):
    """transformers initialises norms to 1 and biases to 0, which would hide mistakes in either."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.6 / math.sqrt(p.shape[-1]))


def save_checkpoint(config, out_dir, seed=0, randomise_weights=True):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32, attn_implementation="eager")
    if randomise_weights:
        randomise(model, seed)
    model.save_pretrained(out_dir, safe_serialization=True)
    return model


def build(node, src, out, dtype):
    cmd = [node, os.path.join(ROOT, "dist", "cli.js"), "build-model", src, "--out", out, "--dtype", dtype]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"build-model failed: {' '.join(cmd)}\n{r.stderr}")


# ---------------------------------------------------------------- ONNX Runtime side (the graph contract)

def session(path, provider, threads=0):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    if provider == "cuda":
        try:  # TF32 off, for 1e-4 parity in fp32 (the option exists from onnxruntime 1.18)
            s = ort.InferenceSession(path, opts, providers=[("CUDAExecutionProvider", {"use_tf32": 0}), "CPUExecutionProvider"])
        except Exception:
            s = ort.InferenceSession(path, opts, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    else:
        s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    if provider == "cuda" and "CUDAExecutionProvider" not in s.get_providers():
        raise SystemExit("CUDAExecutionProvider unavailable: install onnxruntime-gpu matching the CUDA runtime")
    return s


class OnnxModel:
    def __init__(self, model_dir, provider, threads=0):
        self.manifest = json.load(open(os.path.join(model_dir, "manifest.json")))
        info = self.manifest["info"]
        self.L, self.E, self.K, self.D = info["numLayers"], info["hiddenSize"], info["numKvHeads"], self.manifest["headDim"]
        self.kv_dtype = np.float16 if info["dtype"] == "fp16" else np.float32
        self.s = session(os.path.join(model_dir, "model.onnx"), provider, threads)

    def run(self, ids, mask, pos, logits_positions, past=None, steer=None, steer_mask=None):
        B, S = ids.shape
        feeds = {
            "input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64), "position_ids": pos.astype(np.int64),
            "steer": (steer if steer is not None else np.zeros((self.L, self.E))).astype(np.float32),
            "steer_mask": (steer_mask if steer_mask is not None else np.zeros((B, S))).astype(np.float32),
            "logits_positions": logits_positions.astype(np.int64),
        }
        for l in range(self.L):
            empty = np.zeros((B, self.K, 0, self.D), dtype=self.kv_dtype)
            feeds[f"past_key.{l}"] = past[0][l] if past else empty
            feeds[f"past_value.{l}"] = past[1][l] if past else empty
        names = ["logits", "hidden_last"] + [f"present_key.{l}" for l in range(self.L)] + [f"present_value.{l}" for l in range(self.L)]
        out = self.s.run(names, feeds)
        return out[0], out[1], (out[2:2 + self.L], out[2 + self.L:])

    def prefill(self, rows, steer=None):
        """right-padded batch -> last logits [B,V], hidden_last [B,L,E], present, mask"""
        B, S = len(rows), max(len(r) for r in rows)
        ids = np.zeros((B, S), np.int64)
        mask = np.zeros((B, S), np.int64)
        for b, r in enumerate(rows):
            ids[b, :len(r)] = r
            mask[b, :len(r)] = 1
        pos = np.tile(np.arange(S), (B, 1))
        last = np.array([[len(r) - 1] for r in rows])
        logits, hidden, present = self.run(ids, mask, pos, last, steer=steer, steer_mask=mask.astype(np.float32) if steer is not None else None)
        return logits[:, 0], hidden, present, mask


# ---------------------------------------------------------------- transformers side

class HfModel:
    def __init__(self, model, dtype):
        self.m = model.to("cuda", dtype).eval()
        self.layers = self.m.model.layers
        self.steer = None
        self.captured = []
        for l, layer in enumerate(self.layers):
            layer.register_forward_hook(self._hook(l))

    def _hook(self, l):
        def hook(_module, _inputs, output):
            hidden = output[0] if isinstance(output, tuple) else output
            if self.steer is not None:
                hidden = hidden + self.steer[l].to(hidden.dtype)
            self.captured.append(hidden.float())
            if isinstance(output, tuple):
                return (hidden,) + tuple(output[1:])
            return hidden
        return hook

    @torch.no_grad()
    def last(self, rows, steer=None):
        """each row alone (no padding on the reference side): last logits and every layer's output there"""
        self.steer = None if steer is None else torch.tensor(steer, device="cuda")
        logits, hidden = [], []
        for r in rows:
            self.captured = []
            out = self.m(torch.tensor([r], device="cuda"), use_cache=False)
            logits.append(out.logits[0, -1].float().cpu().numpy())
            hidden.append(np.stack([h[0, -1].cpu().numpy() for h in self.captured]))
        self.steer = None
        return np.stack(logits), np.stack(hidden)

    @torch.no_grad()
    def all_logits(self, row):
        return self.m(torch.tensor([row], device="cuda"), use_cache=False).logits[0].float().cpu().numpy()


def max_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


# ---------------------------------------------------------------- parity

def parity(family, workdir, node, failures):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    src = os.path.join(workdir, family)
    os.makedirs(src, exist_ok=True)
    vocab = write_tokenizer(src) + 12  # a few unused ids past the tokenizer, as real models have
    model = save_checkpoint(family_config(family, vocab), src, seed=sum(map(ord, family)))
    rng = np.random.default_rng(0)
    rows = [list(rng.integers(0, vocab, n)) for n in (17, 5, 11)]
    results = []
    for dtype, provider in (("fp32", "cuda"), ("fp32", "cpu"), ("fp16", "cuda")):
        out = os.path.join(workdir, f"{family}_{dtype}")
        if not os.path.exists(os.path.join(out, "manifest.json")):
            build(node, src, out, dtype)
        onnx = OnnxModel(out, provider)
        hf = HfModel(transformers.AutoModelForCausalLM.from_pretrained(src, torch_dtype=torch.float32, attn_implementation="eager"),
                     torch.float16 if dtype == "fp16" else torch.float32)
        tol = FP16_TOL if dtype == "fp16" else FP32_TOL
        steer = (0.5 * rng.standard_normal((onnx.L, onnx.E))).astype(np.float32)
        checks = {}
        for label, vec in (("plain", None), ("steered", steer)):
            logits, hidden, _, _ = onnx.prefill(rows, vec)
            ref_logits, ref_hidden = hf.last(rows, vec)
            checks[f"{label} logits"] = max_err(logits, ref_logits)
            checks[f"{label} hidden_last"] = max_err(hidden, ref_hidden)
        # KV cache: prefill 6 tokens of row 0, then one token at a time
        row = rows[0]
        ref = hf.all_logits(row)
        P = 6
        ids = np.array([row[:P]])
        logits, _, present = onnx.run(ids, np.ones((1, P)), np.arange(P)[None], np.array([[P - 1]]))
        worst = max_err(logits[0, 0], ref[P - 1])
        for s in range(P, len(row)):
            logits, _, present = onnx.run(np.array([[row[s]]]), np.ones((1, s + 1)), np.array([[s]]), np.zeros((1, 1)), past=present)
            worst = max(worst, max_err(logits[0, 0], ref[s]))
        checks["kv-cache decode logits"] = worst
        ok = all(v <= tol for v in checks.values())
        if not ok:
            failures.append(f"{family} {dtype} {provider}")
        results.append((dtype, provider, ok, checks))
        del hf
        torch.cuda.empty_cache()
    for dtype, provider, ok, checks in results:
        detail = ", ".join(f"{k} {v:.1e}" for k, v in checks.items())
        print(f"  {family:8s} {dtype} {provider:4s} {'PASS' if ok else 'FAIL'}  {detail}")


# ---------------------------------------------------------------- timing

def timing(workdir, node, size):
    dims = {"small": dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=12, num_attention_heads=16, num_key_value_heads=4),
            "medium": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4)}[size]
    src = os.path.join(workdir, f"timing_{size}")
    vocab = 32000
    if not os.path.exists(os.path.join(src, "config.json")):
        os.makedirs(src, exist_ok=True)
        write_tokenizer(src)
        save_checkpoint(transformers.LlamaConfig(vocab_size=vocab, max_position_embeddings=2048, **dims), src, randomise_weights=False)
    for dtype in ("fp16", "fp32"):
        out = os.path.join(workdir, f"timing_{size}_{dtype}")
        if not os.path.exists(os.path.join(out, "manifest.json")):
            t0 = time.perf_counter()
            build(node, src, out, dtype)
            print(f"  build-model {dtype}: {time.perf_counter() - t0:.1f} s")
    params = json.load(open(os.path.join(out, "manifest.json")))["parameters"]
    rng = np.random.default_rng(1)
    B, S, G = 8, 256, 64
    rows = [list(rng.integers(0, vocab, S)) for _ in range(B)]
    prompt = rows[0][:32]

    def time_onnx(model):
        model.prefill(rows[:2])
        t0 = time.perf_counter()
        for _ in range(3):
            model.prefill(rows)
        prefill = B * S * 3 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        logits, _, present, mask = model.prefill([prompt])
        tok = int(np.argmax(logits[0]))
        total = len(prompt)
        for step in range(G - 1):
            logits, _, present = model.run(np.array([[tok]]), np.ones((1, total + 1)), np.array([[total]]), np.zeros((1, 1)), past=present)
            tok = int(np.argmax(logits[0, 0]))
            total += 1
        return prefill, G / (time.perf_counter() - t0)

    table = []
    gpu = OnnxModel(os.path.join(workdir, f"timing_{size}_fp16"), "cuda")
    table.append(("ONNX Runtime CUDA fp16",) + time_onnx(gpu))
    del gpu
    cpu = OnnxModel(os.path.join(workdir, f"timing_{size}_fp32"), "cpu", threads=os.cpu_count())
    table.append((f"ONNX Runtime CPU fp32 ({os.cpu_count()} threads)",) + time_onnx(cpu))
    del cpu
    hf = transformers.AutoModelForCausalLM.from_pretrained(src, torch_dtype=torch.float16, attn_implementation="eager").cuda().eval()
    with torch.no_grad():
        batch = torch.tensor(rows, device="cuda")
        hf(batch[:2], output_hidden_states=True)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(3):
            hf(batch, output_hidden_states=True)
        torch.cuda.synchronize()
        prefill = B * S * 3 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        hf.generate(torch.tensor([prompt], device="cuda"), max_new_tokens=G, min_new_tokens=G, do_sample=False)
        torch.cuda.synchronize()
        gen = G / (time.perf_counter() - t0)
    table.append(("transformers GPU fp16 eager", prefill, gen))
    print(f"\n  timing: random Llama, {params / 1e6:.0f}M parameters; prefill {B}x{S} with hidden states; greedy generation batch 1, {G} tokens")
    print(f"  {torch.cuda.get_device_name(0)}; onnxruntime {ort.__version__}; torch {torch.__version__}; transformers {transformers.__version__}")
    for name, p, g in table:
        print(f"  {name:40s} prefill {p:10.0f} tok/s   generation {g:8.1f} tok/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="llama,llama3,mistral,qwen2,qwen3,gemma3")
    ap.add_argument("--workdir", default=None, help="keep checkpoints and builds here (default: a temp dir, removed)")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--timing-size", default="small", choices=["small", "medium"])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch")
    if not os.path.exists(os.path.join(ROOT, "dist", "cli.js")):
        raise SystemExit("dist/cli.js missing: run `npm ci && npm run build` first")
    workdir = args.workdir or tempfile.mkdtemp(prefix="preflight-gpu-parity-")
    failures = []
    try:
        print(f"parity vs transformers {transformers.__version__} (fp32 tol {FP32_TOL}, fp16 tol {FP16_TOL}):")
        for family in args.families.split(","):
            parity(family, workdir, args.node, failures)
        if not args.skip_timing:
            timing(workdir, args.node, args.timing_size)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print(f"\nFAILED: {', '.join(failures)}")
        sys.exit(1)
    print("\nall parity checks passed")


if __name__ == "__main__":
    main()
