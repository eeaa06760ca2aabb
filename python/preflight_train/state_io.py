"""Trainer state without pickle: a JSON document plus one safetensors file for its tensors.

Resume reads this pair and nothing else. A checkpoint folder shipped with a repository can therefore never
run code when resumed (`torch.load` unpickles, and Debian's torch 1.13 has no safe `weights_only` loader
for arbitrary state); an older `trainer_state.pt` is refused with a message instead of being opened.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import numpy as np
import torch

from .safetensors_io import load_file, save_file

STATE_JSON = "trainer_state.json"
STATE_TENSORS = "trainer_state.safetensors"
LEGACY_PICKLE = "trainer_state.pt"
MAX_STATE_JSON = 64 * 1024 * 1024


class StateError(ValueError):
    pass


def _flatten(obj: Any, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        key = f"t{len(tensors)}"
        tensors[key] = torch.from_numpy(obj.astype(np.int64) if obj.dtype == np.uint32 else obj.copy())
        return {"__ndarray__": key, "dtype": str(obj.dtype)}
    if isinstance(obj, dict):
        if any(not isinstance(k, (str, int)) for k in obj):
            raise TypeError("trainer state: dict keys must be str or int")
        # JSON keys are strings: remember which were ints (optimizer state is keyed by parameter index).
        return {"__dict__": [[k, _flatten(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__tuple__" if isinstance(obj, tuple) else "__list__": [_flatten(v, tensors) for v in obj]}
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"trainer state: cannot store a {type(obj).__name__}")


def _unflatten(obj: Any, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__ndarray__" in obj:
            return tensors[obj["__ndarray__"]].numpy().astype(np.dtype(str(obj["dtype"])))
        if "__dict__" in obj:
            return {k: _unflatten(v, tensors) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_unflatten(v, tensors) for v in obj["__tuple__"])
        if "__list__" in obj:
            return [_unflatten(v, tensors) for v in obj["__list__"]]
        raise StateError("unknown entry in trainer state")
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    return obj


def save_state(folder: str, state: Dict[str, Any]) -> None:
    tensors: Dict[str, torch.Tensor] = {}
    doc = {"format": "preflight.trainer_state/1", "state": _flatten(state, tensors)}
    tmp_t = os.path.join(folder, STATE_TENSORS + ".tmp")
    save_file(tensors, tmp_t)
    os.replace(tmp_t, os.path.join(folder, STATE_TENSORS))
    tmp_j = os.path.join(folder, STATE_JSON + ".tmp")
    with open(tmp_j, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    os.replace(tmp_j, os.path.join(folder, STATE_JSON))  # written last: its presence marks a complete state


def has_state(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, STATE_JSON)) and os.path.isfile(os.path.join(folder, STATE_TENSORS))


def load_state(folder: str) -> Dict[str, Any]:
    jpath = os.path.join(folder, STATE_JSON)
    if not has_state(folder):
        if os.path.exists(os.path.join(folder, LEGACY_PICKLE)):
            raise StateError(f"{folder}: only a {LEGACY_PICKLE} (a pickle from an older Preflight) is there; resuming from "
                             "it could run code, so it is refused. Train again, or resume from a checkpoint that has "
                             f"{STATE_JSON} + {STATE_TENSORS}.")
        raise StateError(f"{folder}: no {STATE_JSON} + {STATE_TENSORS}: not a complete Preflight checkpoint")
    if os.path.getsize(jpath) > MAX_STATE_JSON:
        raise StateError(f"{jpath}: larger than {MAX_STATE_JSON} bytes")
    try:
        with open(jpath, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or doc.get("format") != "preflight.trainer_state/1":
            raise StateError("unknown format")
        tensors = load_file(os.path.join(folder, STATE_TENSORS))
        state = _unflatten(doc["state"], tensors)
    except StateError as exc:
        raise StateError(f"{jpath}: {exc}") from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise StateError(f"{jpath}: unreadable trainer state ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict):
        raise StateError(f"{jpath}: unreadable trainer state")
    return state
