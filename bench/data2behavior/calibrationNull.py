#!/usr/bin/env python3
"""bench/data2behavior/calibrationNull.py: the false-alarm rate of the default Python forecaster on held-out
GENERIC neutral files (docs/data2behavior.md, "The calibrated null").

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/data2behavior/calibrationNull.py [--formats chat,prompt-completion,text]
        [--subsamples 2] [--work bench/data2behavior/data/calibration-null]

Leave one out: each of the K shipped calibration corpora (models/neutral/calibration) in turn becomes the user's
file, rendered in each format, and is judged by the product's forecast (`gradient-adam`, every bundled suite, 256
records, seed 0, the shipped neutral control) against a calibrated null of the OTHER K - 1 corpora only, so the
file is held out from its own null. --subsamples N adds N seeded halves of each held-out corpus (a smaller file,
another budget). A false alarm is a report with any behaviour at low or above (the product's flags); "medium" is
what `--fail-on medium` gates on. The same units are also judged with the paired test (the rule before the
calibrated null). Prints one JSON line per report and a summary, written to <work>/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))

import torch  # noqa: E402

from preflight_train import forecast as F  # noqa: E402
from preflight_train.forecast_lm import LM, ProbeScorer, load_probes  # noqa: E402

MODEL = os.path.join(REPO, "models", "preflight-tiny")
LEVELS = ("none", "low", "medium", "high")


def write_file(path: str, records, fmt: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for ins, resp in records:
            f.write(json.dumps(F.neutral_as(ins, resp, fmt)) + "\n")


def flags_of(report) -> dict:
    flagged = [b for b in report["behaviours"] if b["risk"] != "none"]
    return {"flags": [(b["key"], b["risk"]) for b in flagged],
            "low": bool(flagged), "medium": any(LEVELS.index(b["risk"]) >= 2 for b in flagged),
            "minPAdjusted": min(b["pAdjusted"] for b in report["behaviours"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--formats", default="chat,prompt-completion,text")
    ap.add_argument("--subsamples", type=int, default=0)
    ap.add_argument("--work", default=os.path.join(HERE, "data", "calibration-null"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work, exist_ok=True)
    cache = os.path.join(args.work, "cache")
    corpora = F.builtin_calibration_corpora()
    neutral = F.builtin_neutral_corpus()
    lm = LM(MODEL)
    behaviours = load_probes([])
    scorer = ProbeScorer(lm, behaviours)
    started = time.time()
    rows = []
    for fmt in args.formats.split(","):
        for j, held in enumerate(corpora):
            records = F.read_neutral_corpus(held)
            files = [("all", records)]
            for s in range(args.subsamples):
                files.append((f"half-{s + 1}", random.Random(s + 1).sample(records, len(records) // 2)))
            for variant, recs in files:
                name = f"{os.path.basename(held)[:-6]}-{variant}-{fmt}"
                path = os.path.join(args.work, name + ".jsonl")
                write_file(path, recs, fmt)
                t0 = time.time()
                parts = F.forecast_parts(MODEL, path, "adam", lm=lm, behaviours=behaviours, scorer=scorer, neutral=neutral,
                                         cache_dir=cache, calibration=corpora[:j] + corpora[j + 1:])
                row = {"file": name, "format": fmt, "records": len(recs), "k": len(corpora) - 1,
                       "calibrated": flags_of(F.report_of(parts)),
                       "paired": flags_of(F.report_of(parts, with_calibration=False)),
                       "seconds": round(time.time() - t0, 1)}
                print(json.dumps(row), flush=True)
                rows.append(row)

    def rate(rule, level):
        return sum(r[rule][level] for r in rows)

    summary = {"model": "models/preflight-tiny", "model_sha256_16": F.bench_model_hash(MODEL),
               "reports": len(rows), "behaviours": len(behaviours),
               "calibrated": {"low+": rate("calibrated", "low"), "medium+": rate("calibrated", "medium")},
               "paired": {"low+": rate("paired", "low"), "medium+": rate("paired", "medium")},
               "smallestPAdjusted": min(r["calibrated"]["minPAdjusted"] for r in rows),
               "seconds": round(time.time() - started), "load": os.getloadavg(), "machine": platform.machine(),
               "torch": torch.__version__}
    print(json.dumps(summary), flush=True)
    with open(os.path.join(args.work, "summary.json"), "w") as f:
        json.dump({"summary": summary, "reports": rows}, f, indent=1)


if __name__ == "__main__":
    main()
