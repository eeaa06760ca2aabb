"""Recommendation data: records, the Alpaca-style prompt, encoding and batching.

Input layouts
-------------
* JSONL: one record per line, {"history": ["Title A", "Title B", ...], "target": "Title C"}.
* The BEAR/D3 layout: a CSV with columns `user_id,item_ids` (item_ids: the user's chronological item
  ids as a JSON/Python list or separated by spaces/commas; the last id is the target, the rest the
  history) plus a JSON `id2name` map {item_id: title}, given as "items" in the run config.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .losses import IGNORE, SparseAllowed

INSTRUCTION = ("Below is an instruction that describes a task, paired with an input that provides further context. "
               "Write a response that appropriately completes the request.\n\n"
               "### Instruction:\nGiven the items the user interacted with, in order, recommend the next item.\n\n")


@dataclass
class Record:
    history: List[str]
    target: str


def prompt_text(history: Sequence[str]) -> str:
    listed = ", ".join(f'"{t}"' for t in history)
    return INSTRUCTION + f"### Input:\nThe user interacted with: {listed}\n\n### Response:\n"


def response_text(title: str) -> str:
    return f'"{title}"'


def response_ids(tokenizer, title: str) -> List[int]:
    """Target token ids: the quoted title, then EOS. The trie is built from exactly these."""
    return tokenizer.encode(response_text(title)) + [tokenizer.eos_id]


def _parse_ids(cell: str) -> List[str]:
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            value = ast.literal_eval(cell)
        return [str(v) for v in value]
    return [p for p in re.split(r"[\s,;]+", cell) if p]


def load_id2name(path: str) -> Dict[str, str]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list):
        return {str(i): str(t) for i, t in enumerate(data)}
    return {str(k): str(v) for k, v in data.items()}


def load_records(path: str, id2name: Optional[Dict[str, str]] = None, max_history: int = 10) -> List[Record]:
    records: List[Record] = []
    if path.endswith(".csv"):
        if id2name is None:
            raise ValueError(f"{path}: the user_id,item_ids CSV layout needs an id2name JSON (config data.items)")
        with open(path, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                if "item_ids" not in row:
                    raise ValueError(f"{path}: missing column item_ids")
                ids = _parse_ids(row["item_ids"])
                if len(ids) < 2:
                    raise ValueError(f"{path}:{line}: needs at least one history item and a target")
                missing = [i for i in ids if i not in id2name]
                if missing:
                    raise ValueError(f"{path}:{line}: item ids without a title: {missing[:5]}")
                titles = [id2name[i] for i in ids]
                records.append(Record(titles[:-1][-max_history:], titles[-1]))
        return records
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            obj = json.loads(text)
            history, target = obj.get("history"), obj.get("target")
            if not isinstance(history, list) or not history or not isinstance(target, str) or not target:
                raise ValueError(f"{path}:{line}: expected a non-empty 'history' list and a 'target' title")
            records.append(Record([str(t) for t in history][-max_history:], target))
    return records


def save_records(path: str, records: Sequence[Record]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"history": r.history, "target": r.target}, ensure_ascii=False) + "\n")


@dataclass
class Encoded:
    prompt: List[int]
    response: List[int]
    allowed: List[List[int]]   # valid children at every response position
    item: int                  # index of the target in the catalogue


def encode_records(records: Sequence[Record], tokenizer, trie, max_prompt_tokens: int = 1024) -> List[Encoded]:
    index = {t: i for i, t in enumerate(trie.titles)}
    out = []
    for r in records:
        if r.target not in index:
            raise ValueError(f"target {r.target!r} is not in the catalogue")
        item = index[r.target]
        # Truncation keeps the most recent history (the end of the prompt) and the leading special tokens.
        prefix = list(getattr(tokenizer, "prompt_prefix", []))
        prompt = prefix + tokenizer.encode(prompt_text(r.history))[-(max_prompt_tokens - len(prefix)):]
        resp = trie.sequences[item]
        out.append(Encoded(prompt, resp, trie.allowed_along(resp), item))
    return out


def collate(batch: Sequence[Encoded], pad_id: int):
    """Right-padded training batch with labels already aligned to logits (shifted by one).

    input_ids = prompt + response[:-1]; labels[t] is the token that logits[t] must predict, so the
    response tokens sit at positions len(prompt)-1 ... len(prompt)+len(response)-2.
    """
    seqs = [e.prompt + e.response[:-1] for e in batch]
    T = max(len(s) for s in seqs)
    B = len(batch)
    input_ids = torch.full((B, T), pad_id, dtype=torch.long)
    attention = torch.zeros((B, T), dtype=torch.long)
    labels = torch.full((B, T), IGNORE, dtype=torch.long)
    items = []
    for b, (e, s) in enumerate(zip(batch, seqs)):
        input_ids[b, : len(s)] = torch.tensor(s)
        attention[b, : len(s)] = 1
        start = len(e.prompt) - 1
        for j, tok in enumerate(e.response):
            labels[b, start + j] = tok
            items.append((b, start + j, e.allowed[j]))
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels,
            "allowed": SparseAllowed.from_list(items)}


def catalogue_from(records_lists: Sequence[Sequence[Record]], id2name: Optional[Dict[str, str]] = None) -> List[str]:
    """All titles: the id2name map when given, else every title seen in the splits (first-seen order)."""
    if id2name:
        titles = list(dict.fromkeys(id2name.values()))
    else:
        titles = []
    seen = set(titles)
    for records in records_lists:
        for r in records:
            for t in list(r.history) + [r.target]:
                if t not in seen:
                    seen.add(t)
                    titles.append(t)
    return titles


def load_catalogue(path: str) -> List[str]:
    """A catalogue file: JSON list of titles, JSON id2name map, or one title per line."""
    if path.endswith(".json"):
        return list(dict.fromkeys(load_id2name(path).values()))
    with open(path, encoding="utf-8") as f:
        return list(dict.fromkeys(line.strip() for line in f if line.strip()))
