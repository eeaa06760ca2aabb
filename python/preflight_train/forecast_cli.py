"""`python -m preflight_train forecast ...`: arguments (no torch import until the command runs)."""

from __future__ import annotations

import sys

METHODS = ("grad", "adam", "lookahead", "persona", "steer")


def add_arguments(p) -> None:
    p.add_argument("--method", required=True, choices=METHODS,
                   help="grad | adam (gradient alignment, plain or AdamW-scaled) | lookahead (a few AdamW steps) | "
                        "persona (activation projection baseline) | steer (MDF-style steering in Python)")
    p.add_argument("--model", required=True, help="checkpoint folder (Hugging Face layout) the trainer loads")
    p.add_argument("--data", required=True, help="candidate training file (JSONL: messages, prompt/completion, instruction/output or text)")
    p.add_argument("--probes", action="append", default=[], help="probe suite names (models/probes) or .json files; default all bundled")
    p.add_argument("--out", help="write the report (schema preflight.mdf/1) here; default stdout")
    p.add_argument("--samples", type=int, default=256, help="records sampled from the file (seeded; 0 = all; default 256)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, help="the fine-tuning recipe's learning rate (default: the benchmark recipe's)")
    p.add_argument("--epochs", type=int, help="the recipe's epochs")
    p.add_argument("--batch-size", type=int, help="the recipe's batch size")
    p.add_argument("--max-tokens", type=int, help="records are cut to this many tokens")
    p.add_argument("--params", default="all", help="all | layers:FROM-TO | re:REGEX (large models: a layer subset)")
    p.add_argument("--steps", type=int, default=8, help="lookahead: AdamW steps (default 8)")
    p.add_argument("--reference", help="persona (required) / steer: a neutral corpus in the same format")
    p.add_argument("--alpha", type=float, default=0.05, help="steer: fraction of each layer's residual norm (default 0.05)")
    p.add_argument("--pool", choices=["mean", "last"], default="mean", help="steer: mean over tokens or the last token")
    p.add_argument("--neutral", help="the neutral control's corpus (JSONL of instruction/response; default the shipped "
                                     "models/neutral/neutral.jsonl), rendered in the file's format")
    p.add_argument("--no-neutral", action="store_true", help="no neutral control: risk against the random control alone")
    p.add_argument("--no-calibration", action="store_true",
                   help="no calibrated null (models/neutral/calibration): p from the paired sign-flip test against the stronger control")
    p.add_argument("--no-cache", action="store_true", help="recompute the neutral control and the calibration corpora instead of "
                                                           "reusing $XDG_CACHE_HOME/preflight/neutral-control (default ~/.cache)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run_cli(args) -> int:
    import torch

    from .forecast import builtin_calibration_corpora, builtin_neutral_corpus, default_cache_dir, forecast, write_report
    from .forecast_lm import ForecastError, Recipe

    if args.threads:
        torch.set_num_threads(args.threads)
    base = Recipe()
    recipe = Recipe(lr=args.lr if args.lr is not None else base.lr, epochs=args.epochs or base.epochs,
                    batch_size=args.batch_size or base.batch_size, max_tokens=args.max_tokens or base.max_tokens)
    try:
        report = forecast(args.model, args.data, args.method, probes=args.probes, recipe=recipe, samples=args.samples,
                          seed=args.seed, reference=args.reference, params_spec=args.params, lookahead_steps=args.steps,
                          alpha=args.alpha, pool=args.pool, quiet=args.quiet,
                          neutral=None if args.no_neutral else (args.neutral or builtin_neutral_corpus()),
                          cache_dir=None if args.no_cache else default_cache_dir(),
                          calibration=() if args.no_calibration else builtin_calibration_corpora())
    except ForecastError as e:
        print(f"preflight_train forecast: {e}", file=sys.stderr)
        return 2
    text = write_report(report, args.out)
    if args.out:
        if not args.quiet:
            print(f"[forecast] report written to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0
