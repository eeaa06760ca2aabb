"""The transformers/peft code path, run against small stand-ins for those packages (Debian has neither).
It checks Preflight's plumbing — lazy imports, tokenizer wrapper, LoRA wrapping, adapter checkpoints,
resume and the merged export — not the libraries themselves; the stand-ins mimic the calls Preflight makes
(AutoModelForCausalLM/AutoTokenizer.from_pretrained, save_pretrained, get_peft_model, PeftModel.from_pretrained,
merge_and_unload)."""

import json
import os
import sys
import types

import pytest
import torch

from preflight_train import config as config_mod
from preflight_train.data import prompt_text, response_text
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.synth import make_catalogue
from preflight_train.tokenizer import WordTokenizer
from preflight_train.train import train


class FakeCausalLM(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask=None, position_ids=None):
        return self.inner(input_ids, attention_mask=attention_mask, position_ids=position_ids)

    def save_pretrained(self, folder, safe_serialization=True):
        assert safe_serialization
        self.inner.save_pretrained(folder)

    @classmethod
    def from_pretrained(cls, path, torch_dtype=None):
        return cls(TinyLlamaForCausalLM.from_pretrained(path))


class FakeTokenizer:
    def __init__(self, path):
        self.tok = WordTokenizer.load(path)
        self.eos_token_id = self.tok.eos_id
        self.pad_token_id = None  # like many causal LMs: the wrapper falls back to EOS

    @classmethod
    def from_pretrained(cls, path):
        return cls(path)

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([self.tok.bos_id] if add_special_tokens else []) + self.tok.encode(text)}

    def __len__(self):
        return self.tok.vocab_size

    def decode(self, ids, skip_special_tokens=True):
        return self.tok.decode(ids)

    def save_pretrained(self, folder):
        self.tok.save(folder)


class FakePeft(torch.nn.Module):
    """LoRA stand-in: only the target projections train; the adapter checkpoint stores their weights."""

    def __init__(self, base, targets):
        super().__init__()
        self.base = base
        self.targets = targets
        for name, p in base.named_parameters():
            p.requires_grad = any(t in name for t in targets)

    def forward(self, **kw):
        return self.base(**kw)

    def save_pretrained(self, folder, safe_serialization=True):
        os.makedirs(folder, exist_ok=True)
        json.dump({"target_modules": self.targets}, open(os.path.join(folder, "adapter_config.json"), "w"))
        state = {k: v for k, v in self.base.state_dict().items() if any(t in k for t in self.targets)}
        torch.save(state, os.path.join(folder, "adapter.pt"))

    @classmethod
    def from_pretrained(cls, base, folder, is_trainable=False):
        targets = json.load(open(os.path.join(folder, "adapter_config.json")))["target_modules"]
        base.load_state_dict(torch.load(os.path.join(folder, "adapter.pt")), strict=False)
        return cls(base, targets)

    def merge_and_unload(self):
        return self.base


@pytest.fixture
def fake_hf(monkeypatch, tmp_path):
    transformers = types.ModuleType("transformers")
    transformers.AutoModelForCausalLM = FakeCausalLM
    transformers.AutoTokenizer = FakeTokenizer
    peft = types.ModuleType("peft")
    peft.LoraConfig = lambda **kw: kw
    peft.get_peft_model = lambda model, cfg: FakePeft(model, cfg["target_modules"])
    peft.PeftModel = FakePeft
    monkeypatch.setitem(sys.modules, "transformers", transformers)
    monkeypatch.setitem(sys.modules, "peft", peft)
    # a "pretrained" base checkpoint in HF layout
    titles = [t for g in make_catalogue(3, 5) for t in g]
    tok = WordTokenizer.build([prompt_text(["x"]), response_text("x")] + titles)
    base = TinyLlamaForCausalLM(TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=1, eos_token_id=tok.eos_id))
    folder = tmp_path / "base"
    base.save_pretrained(str(folder))
    tok.save(str(folder))
    return str(folder)


@pytest.mark.parametrize("lora", [False, True])
def test_hf_path_trains_checkpoints_and_resumes(fake_hf, tmp_path, lora):
    data = {"output_dir": str(tmp_path / "run"), "model": {"type": "hf", "path": fake_hf},
            "lora": {"enabled": lora}, "data": {"synthetic": {"genres": 3, "per_genre": 5, "users": 60}},
            "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3}, "eval": {"max_users": 10}}
    result = train(config_mod.from_dict(data, base_dir=str(tmp_path)), echo=False)
    from preflight_train.tokenizer import HFTokenizer

    assert HFTokenizer(fake_hf).prompt_prefix == [WordTokenizer.load(fake_hf).bos_id]   # BOS like Llama's
    ck = result["best"]["checkpoint"]
    assert os.path.exists(os.path.join(ck, "tokenizer.json"))
    assert os.path.exists(os.path.join(ck, "adapter_config.json")) == lora
    if lora:
        assert os.path.exists(os.path.join(result["merged"], "model.safetensors"))
    data["train"]["epochs"] = 2
    data["resume"] = "latest"
    again = train(config_mod.from_dict(data, base_dir=str(tmp_path)), echo=False)
    assert [h["epoch"] for h in again["history"]] == [1, 2]
