"""python -m preflight_train {train,evaluate,audit,synth,corpus,pretrain,check-default,forecast}."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight_train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train with LML, MSL or BEAR as the run config says")
    p.add_argument("--config", required=True)
    p.add_argument("--resume", help="'latest' or a checkpoint folder (overrides the config)")
    p.add_argument("--output-dir", help="override output_dir")

    p = sub.add_parser("evaluate", help="HR@K/NDCG@K of a checkpoint with trie-constrained beam search")
    p.add_argument("--config", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])

    p = sub.add_parser("audit", help="beam-pruning risk: targets in the top-B by probability that beam search loses")
    p.add_argument("--config", required=True)
    p.add_argument("--checkpoint", help="a trained checkpoint (default: the config's base model)")
    p.add_argument("--split", default="valid", choices=["train", "valid", "test"])
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--out", help="also write the result as JSON to this file")

    p = sub.add_parser("synth", help="write a synthetic catalogue and user histories")
    p.add_argument("--out", required=True)
    p.add_argument("--genres", type=int, default=8)
    p.add_argument("--per-genre", type=int, default=12)
    p.add_argument("--users", type=int, default=1200)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("corpus", help="write the preflight-tiny world corpus (corpus.jsonl + hash)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--docs", type=int, default=None)

    p = sub.add_parser("pretrain", help="plain language-model pretraining on the world corpus (preflight-tiny)")
    p.add_argument("--config", required=True)
    p.add_argument("--steps", type=int, help="override steps (smoke runs)")
    p.add_argument("--output-dir", help="override output_dir")
    p.add_argument("--device", help="override device (auto, cpu, cuda)")

    p = sub.add_parser("check-default", help="measure the default model's behaviours (model card figures)")
    p.add_argument("--model", default=None, help="model folder (default: models/preflight-tiny)")
    p.add_argument("--out", help="also write the figures as JSON to this file")
    p.add_argument("--quick", action="store_true", help="fewer samples (a smoke check, not the card's figures)")
    p.add_argument("--device", default="auto", help="auto (CUDA when torch sees a GPU), cpu or cuda")
    p.add_argument("--lr", type=float, help="fine-tune learning rate instead of the recipe's (a sweep, not the card)")
    p.add_argument("--epochs", type=int, help="fine-tune epochs instead of the recipe's")

    p = sub.add_parser("forecast", help="behaviour forecast by gradient alignment, look-ahead or a baseline (docs/data2behavior.md)")
    from .forecast_cli import add_arguments as add_forecast_arguments

    add_forecast_arguments(p)

    args = parser.parse_args(argv)
    if args.command == "corpus":
        from . import corpus

        info = corpus.write(args.out, seed=args.seed, n_docs=args.docs or corpus.DEFAULT_DOCS)
        print(json.dumps(info, indent=2))
        return 0
    if args.command == "pretrain":
        from .pretrain import pretrain_main

        return pretrain_main(args.config, steps=args.steps, output_dir=args.output_dir, device=args.device)
    if args.command == "check-default":
        from .check_default import check_main

        return check_main(args.model, args.out, quick=args.quick, device=args.device, lr=args.lr, epochs=args.epochs)
    if args.command == "forecast":
        from .forecast_cli import run_cli

        return run_cli(args)
    if args.command == "synth":
        from .synth import generate

        paths = generate(args.out, genres=args.genres, per_genre=args.per_genre, users=args.users, seed=args.seed)
        print(json.dumps(paths, indent=2))
        return 0

    from . import config as config_mod

    cfg = config_mod.load(args.config)
    if args.command == "train":
        from .train import StopRequested, Stopper, train

        if args.resume:
            cfg.resume = args.resume
        if args.output_dir:
            cfg.output_dir = args.output_dir
        stopper = Stopper().install()
        try:
            train(cfg, stopper=stopper)
        except StopRequested:
            try:
                print("preflight_train: stopped on request; the last finished epoch's checkpoint is kept.", file=sys.stderr)
            except (OSError, ValueError):
                pass
            return 130
        return 0
    if args.command == "evaluate":
        from .train import evaluate_checkpoint

        evaluate_checkpoint(cfg, args.checkpoint, split=args.split)
        return 0
    if args.command == "audit":
        from .train import audit_checkpoint

        result = audit_checkpoint(cfg, args.checkpoint, split=args.split, users=args.users)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump({"split": args.split, "beam": cfg.eval.beam, "checkpoint": args.checkpoint, **result}, f, indent=2)
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
