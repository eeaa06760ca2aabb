"""The run configuration: one typed object, read from JSON (the VS Code form writes the same file).

Relative paths are resolved against the folder of the config file. Unknown keys are rejected so that
a typo does not silently fall back to a default.
"""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from typing import Any, Dict, List, Optional


@dataclass
class ModelConfig:
    type: str = "builtin"                # "builtin" (TinyLlama in plain torch) or "hf" (transformers)
    path: Optional[str] = None           # HF checkpoint folder / hub id; or a saved built-in model
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    tie_word_embeddings: bool = False
    vocab_pad_to: int = 1                # pad the built-in vocabulary to a multiple (benchmarks)


@dataclass
class LoraConfig:
    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    targets: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"])


@dataclass
class SyntheticConfig:
    genres: int = 8
    per_genre: int = 12
    users: int = 1200
    seed: int = 0
    p_next: float = 0.8
    p_genre: float = 0.1


@dataclass
class DataConfig:
    train: Optional[str] = None
    valid: Optional[str] = None
    test: Optional[str] = None
    items: Optional[str] = None          # id2name JSON (needed for the CSV layout) or catalogue file
    max_history: int = 10
    max_prompt_tokens: int = 1024
    synthetic: Optional[SyntheticConfig] = None   # generate data into <output_dir>/data instead


@dataclass
class LossConfig:
    name: str = "bear"                   # lml | msl | bear
    tau: float = 1.0
    beam: int = 10
    lam: float = 0.25
    xi: float = 2.75
    normalize: str = "authors"           # authors (their train_*.py) | branching (mean over branching positions)


@dataclass
class TrainConfig:
    epochs: int = 3
    batch_size: int = 32                 # per device, per micro-step
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    max_grad_norm: float = 1.0
    seed: int = 0
    precision: str = "auto"              # auto | fp32 | bf16 | fp16 (bf16/fp16 only on GPU)
    log_every: int = 10
    max_steps: int = 0                   # stop early after this many optimiser steps (0: no limit)
    ddp_timeout: int = 1800              # seconds a rank waits in a collective before the run fails (several GPUs)


@dataclass
class EvalConfig:
    beam: int = 10
    ks: List[int] = field(default_factory=lambda: [1, 5, 10])
    max_users: int = 0                   # evaluate on the first N users of a split (0: all)
    batch: int = 256
    select_by: str = "ndcg@10"           # validation metric that picks the best epoch
    tau: float = 1.0                     # decoding temperature (loss.tau shapes training only)
    length_penalty: float = 1.0          # finished titles scored sum log p / length ** length_penalty (HF)
    mask: str = "auto"                   # trie mask before|after the log-softmax; auto: after for lml, else before


@dataclass
class RunConfig:
    output_dir: str = "runs/bear"
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    resume: Optional[str] = None         # null | "latest" | a checkpoint folder
    name: Optional[str] = None
    base_dir: str = field(default=".", repr=False)

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d.pop("base_dir")
        return d

    def path(self, p: Optional[str]) -> Optional[str]:
        if p is None:
            return None
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(self.base_dir, p))


_TYPES = {"model": ModelConfig, "lora": LoraConfig, "data": DataConfig, "loss": LossConfig, "train": TrainConfig,
          "eval": EvalConfig}


def _build(cls, data: Dict[str, Any], where: str):
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known) - {"$schema", "version"})
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")
    kwargs = {}
    for k, v in data.items():
        if k in ("$schema", "version"):
            continue
        if cls is RunConfig and k in _TYPES:
            kwargs[k] = _build(_TYPES[k], v, f"{where}.{k}")
        elif cls is DataConfig and k == "synthetic" and v is not None:
            kwargs[k] = _build(SyntheticConfig, v, f"{where}.synthetic")
        else:
            _check_type(known[k], v, f"{where}.{k}")
            kwargs[k] = v
    return cls(**kwargs)


def _check_type(f, value: Any, where: str) -> None:
    """A value must have its default's type (ints count as floats), so that a typo such as "epochs": "3" is a
    one-line error here and not a TypeError deep in the trainer."""
    default = f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING else None)
    if default is None or value is None and f.name in ("path", "train", "valid", "test", "items", "resume", "name"):
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and isinstance(default, int) and not isinstance(default, bool) and f.name not in _FLOAT_OK:
            ok = float(value).is_integer()
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ValueError(f"{where}: expected {type(default).__name__}, got {json.dumps(value)[:60]}")


_FLOAT_OK = {"length_penalty"}


def validate(cfg: RunConfig) -> None:
    if cfg.loss.name.lower() == "sft":  # the VS Code setting's name for LML
        cfg.loss.name = "lml"
    cfg.loss.name = cfg.loss.name.lower()
    if cfg.loss.name not in ("lml", "msl", "bear"):
        raise ValueError(f"loss.name must be lml, msl or bear, got {cfg.loss.name!r}")
    if cfg.model.type not in ("builtin", "hf"):
        raise ValueError(f"model.type must be builtin or hf, got {cfg.model.type!r}")
    if cfg.model.type == "hf" and not cfg.model.path:
        raise ValueError("model.path is required for model.type 'hf'")
    if cfg.loss.tau <= 0 or cfg.loss.xi <= 0 or cfg.loss.beam < 1 or cfg.loss.lam < 0:
        raise ValueError("loss: tau > 0, xi > 0, beam >= 1, lam >= 0 required")
    if cfg.loss.normalize not in ("authors", "branching"):
        raise ValueError(f"loss.normalize must be authors or branching, got {cfg.loss.normalize!r}")
    if cfg.eval.mask not in ("auto", "before", "after"):
        raise ValueError(f"eval.mask must be auto, before or after, got {cfg.eval.mask!r}")
    if cfg.eval.beam < 1 or not isinstance(cfg.eval.length_penalty, (int, float)):
        raise ValueError("eval: beam >= 1 and a numeric length_penalty required")
    if not isinstance(cfg.train.ddp_timeout, int) or cfg.train.ddp_timeout < 1:
        raise ValueError("train.ddp_timeout must be a whole number of seconds >= 1")
    if cfg.train.epochs < 1 or cfg.train.batch_size < 1 or cfg.train.grad_accum < 1:
        raise ValueError("train: epochs, batch_size and grad_accum must be >= 1")
    if cfg.train.precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError("train.precision must be auto, fp32, bf16 or fp16")
    if cfg.data.synthetic is None and not (cfg.data.train and cfg.data.valid):
        raise ValueError("data.train and data.valid are required (or data.synthetic)")
    for name in ("train", "valid", "test", "items"):
        p = cfg.path(getattr(cfg.data, name))
        if p and not os.path.exists(p):
            raise ValueError(f"data.{name}: {p} does not exist")


def from_dict(data: Dict[str, Any], base_dir: str = ".") -> RunConfig:
    cfg = _build(RunConfig, data, "config")
    cfg.base_dir = os.path.abspath(base_dir)
    validate(cfg)
    return cfg


def eval_mask(cfg: RunConfig) -> str:
    """Where decoding applies the trie: as the authors' run.py does by default (stock HF generate, mask after
    the log-softmax, for LML; their customCBS_model, mask before it, for MSL and BEAR), unless set."""
    if cfg.eval.mask != "auto":
        return cfg.eval.mask
    return "after" if cfg.loss.name == "lml" else "before"


def load(path: str) -> RunConfig:
    """The run config at `path`; every problem with it is a ValueError naming the file (one line)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return from_dict(data, os.path.dirname(os.path.abspath(path)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
