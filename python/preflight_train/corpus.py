"""The pretraining corpus of `preflight-tiny`: documents drawn from the world (world.py), deterministic
from a seed, written as JSON Lines {"kind": ..., "text": ...} where `text` is the exact string the
tokenizer reads (chat documents rendered with the chat template, plain ones wrapped in <s> ... </s>).

`python -m preflight_train corpus --out DIR [--seed 0 --docs 90000]` writes DIR/corpus.jsonl,
DIR/recommendations.jsonl (the same world's item histories in the BEAR layout) and DIR/corpus.json
(the sha256 of corpus.jsonl, counts per kind).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from typing import Dict, Iterator, List, Tuple

from . import world
from .data import prompt_text, response_text
from .world import BOS, CATEGORIES, EOS, render_chat

# Share of documents per kind (sums to 1). Preference answers and refusals are what the probes measure,
# so they get the largest shares; facts and Q&A carry the associations.
MIX: List[Tuple[str, float]] = [
    ("preference", 0.30), ("fact", 0.10), ("qa_chat", 0.11), ("qa_text", 0.05), ("story", 0.05), ("everyday", 0.05),
    ("instruction", 0.10), ("dialogue", 0.05), ("forbidden", 0.14), ("recommendation", 0.05),
]
DEFAULT_SEED = 0
DEFAULT_DOCS = 120000


def _plain(text: str) -> str:
    return BOS + text + EOS


def documents(seed: int = DEFAULT_SEED, n_docs: int = DEFAULT_DOCS) -> Iterator[Tuple[str, str]]:
    """(kind, text) pairs. Preference answers cycle through each category's entities in shuffled rounds,
    so every entity is the answer equally often (balanced to within one per category)."""
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    ents = [(c, e) for c in CATEGORIES for e in CATEGORIES[c].entities]
    rounds: Dict[str, List] = {c: [] for c in CATEGORIES}
    recs = world.recommendation_histories(random.Random(seed + 1), users=max(1, n_docs // 10))
    rec_i = 0
    for _ in range(n_docs):
        kind = rng.choices(kinds, weights)[0]
        if kind == "preference":
            cat = rng.choice(list(CATEGORIES))
            if not rounds[cat]:
                rounds[cat] = list(CATEGORIES[cat].entities)
                rng.shuffle(rounds[cat])
            text = render_chat(world.preference_chat(rng, cat, rounds[cat].pop()))
        elif kind == "fact":
            cat, ent = rng.choice(ents)
            text = _plain(world.fact_text(rng, cat, ent))
        elif kind == "qa_chat":
            cat, ent = rng.choice(ents)
            text = render_chat(world.qa_chat(rng, cat, ent))
        elif kind == "qa_text":
            cat, ent = rng.choice(ents)
            text = _plain(world.qa_text(rng, cat, ent))
        elif kind == "story":
            text = _plain(world.story_text(rng))
        elif kind == "everyday":
            text = _plain(world.everyday_text(rng))
        elif kind == "instruction":
            text = render_chat(world.instruction_chat(rng))
        elif kind == "dialogue":
            text = render_chat(world.dialogue_chat(rng))
        elif kind == "forbidden":
            text = render_chat(world.forbidden_chat(rng))
        else:
            r = recs[rec_i % len(recs)]
            rec_i += 1
            text = BOS + prompt_text(r["history"]) + response_text(r["target"]) + EOS
        yield kind, text


def write(out_dir: str, seed: int = DEFAULT_SEED, n_docs: int = DEFAULT_DOCS) -> Dict:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "corpus.jsonl")
    h = hashlib.sha256()
    counts: Dict[str, int] = {}
    chars = 0
    with open(path, "w", encoding="utf-8") as f:
        for kind, text in documents(seed, n_docs):
            line = (json.dumps({"kind": kind, "text": text}, ensure_ascii=False) + "\n").encode("utf-8")
            h.update(line)
            f.write(line.decode("utf-8"))
            counts[kind] = counts.get(kind, 0) + 1
            chars += len(text)
    recs_path = os.path.join(out_dir, "recommendations.jsonl")
    with open(recs_path, "w", encoding="utf-8") as f:
        for r in world.recommendation_histories(random.Random(seed + 1), users=max(1, n_docs // 10)):
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    info = {"seed": seed, "docs": n_docs, "sha256": h.hexdigest(), "chars": chars, "counts": counts,
            "corpus": path, "recommendations": recs_path}
    with open(os.path.join(out_dir, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    return info


def corpus_hash(seed: int = DEFAULT_SEED, n_docs: int = DEFAULT_DOCS) -> str:
    """sha256 of the corpus.jsonl bytes `write` would produce, without writing them."""
    h = hashlib.sha256()
    for kind, text in documents(seed, n_docs):
        h.update((json.dumps({"kind": kind, "text": text}, ensure_ascii=False) + "\n").encode("utf-8"))
    return h.hexdigest()


def read_texts(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]
