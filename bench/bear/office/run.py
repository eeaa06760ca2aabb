#!/usr/bin/env python3
"""BEAR on the authors' Office data (Tiny-Snow/BEAR-WWW-2026, MIT): LML, MSL and BEAR with the built-in model,
several seeds, HR@K / NDCG@K on a test subsample with 95% intervals over seeds, and the paper's motivating
statistic (targets whose whole-title probability is in the top B that beam search still prunes).

    nice -n 15 bash bench/bear/office/run.sh      # from the repository root: one process per loss, then the table
    /usr/bin/python3 bench/bear/office/run.py --losses bear --seeds 0 1 2     # one loss
    /usr/bin/python3 bench/bear/office/run.py --report                         # the table from --out

The data is read in place from ../shared/datasets/bear-office (train_10000.csv, test_5000.csv,
id2name4Rec.json) and subsampled in memory; nothing is copied. Every CSV row is one example (history = all
its ids but the last, target = the last), as the authors' generate_list_from_csv does. The authors have no
validation split (they report the best epoch on test); here the validation split is the latest training row
of `--valid` random users, removed from the training pool, and it alone picks the epoch.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402

from preflight_train import config as config_mod  # noqa: E402
from preflight_train.data import catalogue_from, encode_records, load_id2name, load_records  # noqa: E402
from preflight_train.evaluate import pruning_audit  # noqa: E402
from preflight_train.loading import load_model  # noqa: E402
from preflight_train.train import train  # noqa: E402
from preflight_train.trie import TitleTrie  # noqa: E402

T975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 8: 2.365, 10: 2.262}


def user_column(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row["user_id"] for row in csv.DictReader(f)]


def interval(values):
    m = statistics.mean(values)
    if len(values) < 2:
        return m, 0.0
    return m, T975.get(len(values), 1.96) * statistics.stdev(values) / math.sqrt(len(values))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets", "bear-office"))
    ap.add_argument("--out", default="/tmp/preflight-bear-office")
    ap.add_argument("--train", type=int, default=800, help="training rows (random subsample of train_10000.csv)")
    ap.add_argument("--valid", type=int, default=100, help="validation users (their latest training row)")
    ap.add_argument("--test", type=int, default=300, help="test rows (random subsample of test_5000.csv)")
    ap.add_argument("--losses", nargs="+", default=["lml", "msl", "bear"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--audit-users", type=int, default=30, help="test users for the pruning statistic (0: skip)")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--report", action="store_true", help="only print the table of the runs found in --out")
    ap.add_argument("--audit-only", action="store_true",
                    help="only the pruning statistic, on the first seed's best checkpoints found in --out")
    args = ap.parse_args()
    if args.report:
        return report(args.out)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    paths = {k: os.path.abspath(os.path.join(args.data, f)) for k, f in
             (("train", "train_10000.csv"), ("test", "test_5000.csv"), ("items", "id2name4Rec.json"))}
    id2name = load_id2name(paths["items"])
    train_all = load_records(paths["train"], id2name)
    test_all = load_records(paths["test"], id2name)
    users = user_column(paths["train"])
    assert len(users) == len(train_all), "one example per CSV row"
    titles = catalogue_from([], id2name)   # the authors' trie: every title of id2name4Rec.json

    rng = random.Random(args.data_seed)
    last_row = {}
    for i, u in enumerate(users):           # rows are in time order: a user's last row is their latest
        last_row[u] = i
    valid_rows = sorted(rng.sample(sorted(last_row.values()), args.valid))
    held = set(valid_rows)
    pool = [i for i in range(len(train_all)) if i not in held]
    train_rows = sorted(rng.sample(pool, min(args.train, len(pool))))
    test_rows = sorted(rng.sample(range(len(test_all)), min(args.test, len(test_all))))
    splits = {"train": [train_all[i] for i in train_rows], "valid": [train_all[i] for i in valid_rows],
              "test": [test_all[i] for i in test_rows]}
    print(json.dumps({"catalogue": len(titles), "train_rows_total": len(train_all), "test_rows_total": len(test_all),
                      **{k: len(v) for k, v in splits.items()}}), flush=True)

    if args.audit_only:
        for loss in args.losses:
            folder = os.path.join(args.out, f"{loss}-seed{args.seeds[0]}")
            with open(os.path.join(folder, "result.json")) as f:
                entry = json.load(f)
            t0 = time.time()
            entry["audit"] = audit(entry["checkpoint"], loss, titles, splits["test"][: args.audit_users])
            entry["audit"]["wall_s"] = round(time.time() - t0, 1)
            with open(os.path.join(folder, "result.json"), "w") as f:
                json.dump(entry, f, indent=1)
            print(json.dumps({"loss": loss, "audit": entry["audit"]}), flush=True)
        return 0

    os.makedirs(args.out, exist_ok=True)
    results = []
    t_all = time.time()
    for seed in args.seeds:
        for loss in args.losses:
            out_dir = os.path.join(args.out, f"{loss}-seed{seed}")
            cfg = config_mod.from_dict({
                "output_dir": out_dir, "name": f"office-{loss}-{seed}",
                "data": {"train": paths["train"], "valid": paths["train"], "test": paths["test"], "items": paths["items"]},
                "model": {"hidden_size": args.hidden, "intermediate_size": 2 * args.hidden,
                          "num_hidden_layers": args.layers, "num_attention_heads": 4, "num_key_value_heads": 2},
                "loss": {"name": loss, "beam": 10, "lam": 0.25, "xi": 2.75, "tau": 1.0},
                "train": {"epochs": args.epochs, "batch_size": args.batch, "lr": args.lr, "seed": seed, "log_every": 20},
                "eval": {"beam": 10, "ks": [1, 5, 10], "batch": 100},
            }, base_dir=ROOT)
            t0, c0 = time.time(), time.process_time()
            res = train(cfg, echo=False, data=(splits, titles))
            entry = {"loss": loss, "seed": seed, "best_epoch": res["best"]["epoch"], "checkpoint": res["best"]["checkpoint"],
                     "valid": res["best"]["metrics"], "test": res["test"],
                     "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}
            if args.audit_users and seed == args.seeds[0]:
                entry["audit"] = audit(res["best"]["checkpoint"], loss, titles, splits["test"][: args.audit_users])
            entry["args"] = vars(args)
            results.append(entry)
            with open(os.path.join(out_dir, "result.json"), "w") as f:
                json.dump(entry, f, indent=1)
            print(json.dumps(entry), flush=True)
    print(f"wall {time.time() - t_all:.0f} s", flush=True)
    return 0


def audit(checkpoint, loss, titles, records):
    """The motivating statistic on `records` with a trained checkpoint, decoding as the evaluation does."""
    cfg = config_mod.from_dict({"model": {"path": checkpoint}, "loss": {"name": loss}, "data": {"synthetic": {}}})
    model, tok = load_model(cfg, titles, checkpoint=checkpoint)
    trie = TitleTrie.from_titles(titles, tok)
    enc = encode_records(records, tok, trie)
    return pruning_audit(model, enc, trie, beam=10, pad_id=tok.pad_id, mask=config_mod.eval_mask(cfg), max_batch=256)


def report(out: str) -> int:
    results = []
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name, "result.json")
        if os.path.exists(path):
            with open(path) as f:
                results.append(json.load(f))
    if not results:
        print(f"no result.json under {out}")
        return 1
    losses = [l for l in ("lml", "msl", "bear") if any(r["loss"] == l for r in results)]
    keys = ["hr@1", "hr@5", "hr@10", "ndcg@5", "ndcg@10"]
    print(f"\n| loss | {' | '.join(k.upper().replace('NDCG', 'NDCG') for k in keys)} | best epochs |")
    print("|---|" + "---|" * (len(keys) + 1))
    for loss in losses:
        rows = sorted((r for r in results if r["loss"] == loss), key=lambda r: r["seed"])
        cells = []
        for k in keys:
            m, h = interval([r["test"][k] for r in rows])
            cells.append(f"{m:.4f} ± {h:.4f}")
        print(f"| {loss.upper()} | {' | '.join(cells)} | {','.join(str(r['best_epoch']) for r in rows)} |")
    print("\nper run: " + "; ".join(f"{r['loss']} s{r['seed']}: HR@10 {r['test']['hr@10']:.4f}, NDCG@10 "
                                    f"{r['test']['ndcg@10']:.4f}, {r['wall_s']:.0f} s wall / {r['cpu_s']:.0f} s CPU"
                                    for r in results))
    audits = [r for r in results if "audit" in r]
    for r in audits:
        a = r["audit"]
        print(f"audit {r['loss']} seed {r['seed']}: target in top-10 by title probability {a['target_in_top_b']:.3f}, "
              f"found by beam search {a['found_by_beam']:.3f}, pruned among top-10 targets {a['pruned_given_top_b']:.3f} "
              f"({round(a['target_in_top_b'] * a['users'])} of {int(a['users'])} test users have their target in the top 10)")
    a = results[0]["args"]
    print(f"train {a['train']} rows, valid {a['valid']} users, test {a['test']} rows, {a['epochs']} epochs, "
          f"hidden {a['hidden']} x {a['layers']} layer(s), lr {a['lr']}, batch {a['batch']}; "
          f"random HR@10 = {10 / 2411:.4f} (2411 titles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
