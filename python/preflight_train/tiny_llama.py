"""A small Llama-style causal LM in plain torch, read top to bottom in the order the math happens.

Module names equal Hugging Face's LlamaForCausalLM names, so `state_dict()` keys are the HF tensor
names (model.embed_tokens.weight, model.layers.0.self_attn.q_proj.weight, ..., lm_head.weight) and
a saved folder (config.json with model_type "llama" + model.safetensors + tokenizer.json) loads in
transformers and in Preflight's TypeScript ONNX builder. RoPE uses HF's rotate-half convention.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .safetensors_io import load_file, save_file


@dataclass
class TinyLlamaConfig:
    vocab_size: int = 1000
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = False
    initializer_range: float = 0.02
    bos_token_id: int = 2
    eos_token_id: int = 3
    pad_token_id: int = 0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_hf(self) -> dict:
        d = asdict(self)
        d.update({
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "attention_bias": False, "mlp_bias": False, "rope_scaling": None, "torch_dtype": "float32",
            "head_dim": self.head_dim,
        })
        return d

    @classmethod
    def from_hf(cls, d: dict) -> "TinyLlamaConfig":
        names = cls.__dataclass_fields__.keys()
        kwargs = {k: d[k] for k in names if k in d and d[k] is not None}
        if "num_key_value_heads" not in kwargs:
            kwargs["num_key_value_heads"] = kwargs.get("num_attention_heads", cls.num_attention_heads)
        return cls(**kwargs)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_cos_sin(position_ids: torch.Tensor, head_dim: int, theta: float, dtype: torch.dtype):
    """cos, sin [B, T, head_dim] for positions [B, T] (HF layout: the two halves repeat)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=position_ids.device).float() / head_dim))
    freqs = position_ids.float()[..., None] * inv_freq  # [B, T, head_dim/2]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c: TinyLlamaConfig):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past=None):
        B, T, _ = x.shape
        c = self.c
        hd = c.head_dim
        q = self.q_proj(x).view(B, T, c.num_attention_heads, hd).transpose(1, 2)   # [B, H, T, hd]
        k = self.k_proj(x).view(B, T, c.num_key_value_heads, hd).transpose(1, 2)   # [B, Hkv, T, hd]
        v = self.v_proj(x).view(B, T, c.num_key_value_heads, hd).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:  # cached keys/values of earlier positions (already rotated)
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        groups = c.num_attention_heads // c.num_key_value_heads
        if groups > 1:  # grouped-query attention: each K/V head serves `groups` query heads
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias   # [B, H, T, T]
        att = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = (att @ v).transpose(1, 2).reshape(B, T, -1)
        return self.o_proj(out), present


class MLP(nn.Module):
    def __init__(self, c: TinyLlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # SwiGLU


class DecoderLayer(nn.Module):
    def __init__(self, c: TinyLlamaConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, bias, past=None):
        h, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Backbone(nn.Module):
    def __init__(self, c: TinyLlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class Output:
    def __init__(self, logits, past_key_values=None):
        self.logits = logits
        self.past_key_values = past_key_values


class TinyLlamaForCausalLM(nn.Module):
    """forward(input_ids [B,T], attention_mask [B,T]) -> Output(logits [B,T,V]); left or right padding."""

    def __init__(self, config: TinyLlamaConfig):
        super().__init__()
        self.config = config
        self.model = Backbone(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.apply(self._init)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def _init(self, m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=self.config.initializer_range)

    supports_cache = True  # beam search may feed one token at a time with past_key_values
    supports_logits_mask = True  # forward(logits_mask=...) projects only the selected positions

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=False,
                logits_mask=None, **_):
        """attention_mask covers the cached positions and the new ones: [B, T_past + T]. With `logits_mask`
        (bool [B, T]) only those positions go through the vocabulary projection: logits [1, N, V], row-major
        (training needs logits at the target tokens only; the projection dominates the cost)."""
        B, T = input_ids.shape
        T_past = past_key_values[0][0].shape[2] if past_key_values is not None else 0
        if attention_mask is None:
            attention_mask = torch.ones(B, T_past + T, dtype=torch.long, device=input_ids.device)
        if position_ids is None:
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, T_past:]
        x = self.model.embed_tokens(input_ids)                              # [B, T, D]
        cos, sin = rope_cos_sin(position_ids, self.config.head_dim, self.config.rope_theta, x.dtype)
        S = T_past + T
        causal = torch.ones(T, S, dtype=torch.bool, device=input_ids.device).tril(diagonal=T_past)
        allowed = causal[None] & attention_mask.bool()[:, None, :]          # [B, T(query), S(key)]
        # Padding queries see nothing; let them see themselves so softmax stays finite.
        eye = torch.zeros(T, S, dtype=torch.bool, device=input_ids.device)
        eye[:, T_past:] = torch.eye(T, dtype=torch.bool, device=input_ids.device)
        allowed = allowed | eye[None]
        bias = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device).masked_fill(~allowed, torch.finfo(x.dtype).min)
        bias = bias[:, None]                                                 # [B, 1, T, S]
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, present = layer(x, cos, sin, bias, past_key_values[i] if past_key_values is not None else None)
            if use_cache:
                presents.append(present)
        if logits_mask is not None:
            return Output(self.lm_head(self.model.norm(x[logits_mask]))[None], presents if use_cache else None)
        return Output(self.lm_head(self.model.norm(x)), presents if use_cache else None)   # logits [B, T, V]

    # --- HF layout -------------------------------------------------------------------------
    def save_pretrained(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(self.config.to_hf(), f, indent=2)
        state = {k: v.detach().float().cpu() for k, v in self.state_dict().items()}
        if self.config.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(folder, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": self.config.bos_token_id, "eos_token_id": self.config.eos_token_id,
                       "pad_token_id": self.config.pad_token_id}, f, indent=2)

    @classmethod
    def from_pretrained(cls, folder: str) -> "TinyLlamaForCausalLM":
        with open(os.path.join(folder, "config.json")) as f:
            config = TinyLlamaConfig.from_hf(json.load(f))
        model = cls(config)
        state = load_file(os.path.join(folder, "model.safetensors"))
        if config.tie_word_embeddings:
            state["lm_head.weight"] = state["model.embed_tokens.weight"]
        model.load_state_dict(state, strict=True)
        return model
