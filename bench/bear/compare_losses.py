"""LML vs MSL vs BEAR on one synthetic catalogue, same model, seed and budget (built-in model, CPU).

Prints, per loss: the validation-selected epoch, its validation NDCG@10, and test HR@K/NDCG@K from
trie-constrained beam search (B = 10), plus the share of target tokens outside the top-B in the last
logged steps. A small, quick sanity check of the whole pipeline, not a reproduction of the paper.

    /usr/bin/python3 bench/bear/compare_losses.py [--epochs 3] [--genres 20] [--per-genre 20] [--users 1500]
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from preflight_train import config as config_mod  # noqa: E402
from preflight_train.train import train  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--genres", type=int, default=20)
    ap.add_argument("--per-genre", type=int, default=20)
    ap.add_argument("--users", type=int, default=1500)
    ap.add_argument("--eval-users", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for loss in ("lml", "msl", "bear"):
            cfg = config_mod.from_dict({
                "output_dir": os.path.join(tmp, loss),
                "data": {"synthetic": {"genres": args.genres, "per_genre": args.per_genre, "users": args.users,
                                       "seed": args.seed, "p_next": 0.6, "p_genre": 0.25}},
                "model": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2},
                "loss": {"name": loss, "beam": 10, "lam": 0.25, "xi": 2.75},
                "train": {"epochs": args.epochs, "batch_size": 32, "lr": 3e-3, "seed": args.seed, "log_every": 20},
                "eval": {"beam": 10, "max_users": args.eval_users},
            }, base_dir=tmp)
            t0 = time.time()
            result = train(cfg, echo=False)
            with open(os.path.join(tmp, loss, "metrics.jsonl")) as f:
                steps = [json.loads(l) for l in f if '"type": "step"' in l]
            tail = steps[-5:]
            rows.append((loss, result["best"]["epoch"], result["best"]["metrics"]["ndcg@10"], result["test"],
                         sum(s["outside_top_b"] for s in tail) / len(tail), time.time() - t0))
    n_items = args.genres * args.per_genre
    print(f"synthetic: {args.genres} genres x {args.per_genre} items = {n_items} titles, {args.users} users, "
          f"{args.epochs} epochs, B = 10, eval on {args.eval_users} users; random HR@10 = {10 / n_items:.3f}")
    print(f"{'loss':5} {'best ep':>7} {'val NDCG@10':>11} {'HR@1':>6} {'HR@5':>6} {'HR@10':>6} {'NDCG@5':>7} {'NDCG@10':>8} "
          f"{'outside top-B':>13} {'time s':>7}")
    for loss, ep, val, test, outside, secs in rows:
        print(f"{loss:5} {ep:7d} {val:11.4f} {test['hr@1']:6.3f} {test['hr@5']:6.3f} {test['hr@10']:6.3f} "
              f"{test['ndcg@5']:7.4f} {test['ndcg@10']:8.4f} {outside:13.3f} {secs:7.0f}")


if __name__ == "__main__":
    main()
