"""Model and tokenizer loading: the built-in TinyLlama, or any HF causal LM (+ LoRA via peft).

transformers and peft are imported lazily, only for model.type "hf"; the built-in path needs torch only.
"""

from __future__ import annotations

import json
import os
from typing import List, Optional, Tuple

import torch

from .config import RunConfig
from .data import prompt_text, response_text
from .tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from .tokenizer import HFTokenizer, WordTokenizer


def build_builtin_tokenizer(cfg: RunConfig, titles: List[str]) -> WordTokenizer:
    texts = [prompt_text(["x"]), response_text("x")] + titles
    return WordTokenizer.build(texts, pad_to_multiple=max(1, cfg.model.vocab_pad_to))


def is_peft_checkpoint(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "adapter_config.json"))


def load_model(cfg: RunConfig, titles: List[str], checkpoint: Optional[str] = None, dtype=None):
    """(model, tokenizer). `checkpoint` is a folder written by `save_model`."""
    m = cfg.model
    if m.type == "builtin":
        src = checkpoint or cfg.path(m.path)
        if src:
            return TinyLlamaForCausalLM.from_pretrained(src), WordTokenizer.load(src)
        tok = build_builtin_tokenizer(cfg, titles)
        conf = TinyLlamaConfig(
            vocab_size=tok.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.intermediate_size,
            num_hidden_layers=m.num_hidden_layers, num_attention_heads=m.num_attention_heads,
            num_key_value_heads=m.num_key_value_heads, tie_word_embeddings=m.tie_word_embeddings,
            bos_token_id=tok.bos_id, eos_token_id=tok.eos_id, pad_token_id=tok.pad_id,
        )
        return TinyLlamaForCausalLM(conf), tok

    from transformers import AutoModelForCausalLM  # lazy: optional dependency

    base_path = cfg.path(m.path) if m.path and os.path.exists(cfg.path(m.path)) else m.path
    kwargs = {"torch_dtype": dtype} if dtype is not None else {}
    if checkpoint and not is_peft_checkpoint(checkpoint):
        model = AutoModelForCausalLM.from_pretrained(checkpoint, **kwargs)
        return model, HFTokenizer(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    tok = HFTokenizer(base_path)
    if cfg.lora.enabled or (checkpoint and is_peft_checkpoint(checkpoint)):
        from peft import LoraConfig, PeftModel, get_peft_model  # lazy

        if checkpoint:
            model = PeftModel.from_pretrained(model, checkpoint, is_trainable=True)
        else:
            lc = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                            target_modules=list(cfg.lora.targets), bias="none", task_type="CAUSAL_LM")
            model = get_peft_model(model, lc)
    return model, tok


def save_model(model, tokenizer, folder: str) -> None:
    """HF layout: config.json + model.safetensors (or a peft adapter) + tokenizer files."""
    os.makedirs(folder, exist_ok=True)
    if isinstance(model, TinyLlamaForCausalLM):
        model.save_pretrained(folder)
    else:
        model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save(folder)


def export_merged(model, tokenizer, folder: str) -> None:
    """A full HF checkpoint with LoRA merged in (what the TypeScript ONNX builder reads)."""
    merged = model.merge_and_unload() if hasattr(model, "merge_and_unload") else model  # in place: pass a fresh load
    save_model(merged, tokenizer, folder)
