#!/usr/bin/env python3
"""bench/data2behavior/shipControlCache.py: writes models/neutral/cache/, the neutral and calibration controls'
per-prompt values for the bundled model in the product's settings (gradient-adam, all bundled probe suites, 256
records, seed 0, the default recipe), keyed by the model's content hash (forecast.py shipped_model_key), so that
the first Python forecast on preflight-tiny (npm run demo) does not pay for the 1 + K corpus forecasts. Rerun it
after the model, the probe suites or a corpus changes: a stale file never matches its key and is ignored.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/data2behavior/shipControlCache.py [--cache DIR] [--formats chat,...]

--cache: a neutral-control cache to reuse values from (e.g. riskCheck.py's work folder's neutral-cache).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))

import torch  # noqa: E402

from preflight_train import forecast as F  # noqa: E402
from preflight_train.forecast_lm import LM, ProbeScorer, Recipe, load_probes  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(REPO, "models", "preflight-tiny"))
    p.add_argument("--cache", default=None)
    p.add_argument("--formats", default="chat,prompt-completion,text")
    p.add_argument("--methods", default="adam")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = F.shipped_cache_dir()
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "*.json")):
        os.remove(old)
    lm = LM(args.model)
    behaviours = load_probes([])
    scorer = ProbeScorer(lm, behaviours)
    with torch.no_grad():
        base = scorer.scores(lm.model)
    corpora = [F.builtin_neutral_corpus()] + F.builtin_calibration_corpora()
    recipe = Recipe()
    written = 0
    for method in args.methods.split(","):
        other, extra = F.corpus_forecaster(lm, scorer, method, base, recipe, "all", 0, 8)
        for fmt in args.formats.split(","):
            key = F.control_key(lm, method, recipe, fmt, 256, 0, behaviours, "all", extra)
            for corpus in corpora:
                raw = F.corpus_control(lm, corpus, fmt, other, key, int(base.numel()), samples=256, seed=0,
                                       max_tokens=recipe.max_tokens, cache_dir=args.cache, quiet=False,
                                       label=f"{method} {fmt} {os.path.basename(corpus)}")[0]
                F.save_cached_units(out, F.shipped_model_key({**key, "neutral": F._sha256(corpus)}, args.model), raw)
                written += 1
    print(f"shipControlCache: {written} files in {os.path.relpath(out, REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
