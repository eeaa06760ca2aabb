"""Synthetic catalogues and user histories with learnable structure.

Items live in genres; a title is "<genre word> <series word>" (e.g. "Crimson Harbor"). Within a genre
the series words are ordered, and users mostly move to the next item of the genre they are in:
with probability `p_next` the next item is the successor (same genre, next series word), with
`p_genre` another item of the same genre, else a random item. A model that reads the last title of
the history can therefore reach a high HR@10, while a random ranking gets 10 / catalogue size.
"""

from __future__ import annotations

import json
import os
import random
from typing import Dict, List, Tuple

from .data import Record, save_records

GENRE_WORDS = ["Crimson", "Silent", "Golden", "Hollow", "Northern", "Velvet", "Iron", "Paper", "Electric", "Quiet",
               "Burning", "Frozen", "Hidden", "Lunar", "Scarlet", "Wild", "Amber", "Broken", "Distant", "Emerald"]
SERIES_WORDS = ["Harbor", "Garden", "Mountain", "River", "Castle", "Forest", "Station", "Island", "Bridge", "Desert",
                "Lantern", "Valley", "Tower", "Meadow", "Canyon", "Orchard", "Glacier", "Village", "Temple", "Market"]


def make_catalogue(genres: int = 8, per_genre: int = 12) -> List[List[str]]:
    if genres > len(GENRE_WORDS) or per_genre > len(SERIES_WORDS):
        raise ValueError(f"at most {len(GENRE_WORDS)} genres and {len(SERIES_WORDS)} items per genre")
    return [[f"{GENRE_WORDS[g]} {SERIES_WORDS[i]}" for i in range(per_genre)] for g in range(genres)]


def make_users(catalogue: List[List[str]], users: int, length: Tuple[int, int] = (4, 12), p_next: float = 0.8,
               p_genre: float = 0.1, seed: int = 0) -> List[List[str]]:
    rng = random.Random(seed)
    G, P = len(catalogue), len(catalogue[0])
    seqs = []
    for _ in range(users):
        g, i = rng.randrange(G), rng.randrange(P)
        seq = [catalogue[g][i]]
        for _ in range(rng.randint(*length) - 1):
            r = rng.random()
            if r < p_next:
                i = (i + 1) % P
            elif r < p_next + p_genre:
                i = rng.randrange(P)
            else:
                g, i = rng.randrange(G), rng.randrange(P)
            seq.append(catalogue[g][i])
        seqs.append(seq)
    return seqs


def generate(out_dir: str, genres: int = 8, per_genre: int = 12, users: int = 1200, seed: int = 0,
             max_history: int = 10, p_next: float = 0.8, p_genre: float = 0.1) -> Dict[str, str]:
    """Writes train/valid/test JSONL (leave-one-out per user: test = last item, valid = the one before,
    train = sliding windows over the rest), items.json (id2name) and the same data in the BEAR/D3 CSV layout."""
    os.makedirs(out_dir, exist_ok=True)
    catalogue = make_catalogue(genres, per_genre)
    titles = [t for genre in catalogue for t in genre]
    id_of = {t: i for i, t in enumerate(titles)}
    seqs = make_users(catalogue, users, p_next=p_next, p_genre=p_genre, seed=seed)
    train, valid, test = [], [], []
    for seq in seqs:
        test.append(Record(seq[:-1][-max_history:], seq[-1]))
        valid.append(Record(seq[:-2][-max_history:], seq[-2]))
        for j in range(1, len(seq) - 2):
            train.append(Record(seq[:j][-max_history:], seq[j]))
    random.Random(seed + 1).shuffle(train)
    paths = {name: os.path.join(out_dir, f"{name}.jsonl") for name in ("train", "valid", "test")}
    save_records(paths["train"], train)
    save_records(paths["valid"], valid)
    save_records(paths["test"], test)
    paths["items"] = os.path.join(out_dir, "items.json")
    with open(paths["items"], "w", encoding="utf-8") as f:
        json.dump({str(i): t for i, t in enumerate(titles)}, f, indent=1)
    # The same users in the BEAR/D3 layout: user_id,item_ids (the whole chronological sequence).
    paths["csv"] = os.path.join(out_dir, "sequences.csv")
    with open(paths["csv"], "w", encoding="utf-8") as f:
        f.write("user_id,item_ids\n")
        for u, seq in enumerate(seqs):
            f.write(f'{u},"{json.dumps([id_of[t] for t in seq])}"\n')
    return paths
