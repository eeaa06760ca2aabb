#!/usr/bin/env python3
"""bench/data2behavior/riskCheck.py: the RISK LEVELS of the Python forecasters (what a report flags), on
every benchmark set and example file, judged three ways, checked against the real fine-tunes' shifts
(docs/data2behavior.md, "Risk levels of the Python forecasters").

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/data2behavior/riskCheck.py [--methods adam,grad,lookahead]
        [--sets bench/data2behavior/data/full/sets] [--cells bench/data2behavior/data/full/cells/KEY]
        [--examples examples/mdf] [--work bench/data2behavior/data/riskcheck-units]
        [--calibration models/neutral/calibration|none] [--reverse] [--summary-only]

Each file gets the product's forecast (all bundled probe suites, 256 records, seed 0: what
`python -m preflight_train forecast` runs); its per-unit values (file, random control, neutral control) are
stored under --work (a rerun resumes) and judged three ways: "calibrated", the product's rule (the calibrated
null of the K calibration corpora, forecast once per format and cached under --work, Holm, and the interval
rule); "neutral", the paired sign-flip test against the stronger control (the rule before the calibrated
null); "random-only", against the random control alone. The summary is printed as JSON and written to
<work>/summary-<method>.json. A flag is a behaviour at low or above; the rule flags rises only, so a flag agrees
with the real fine-tune when the real shift (mean over the cell's seeds) is positive.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))

import torch  # noqa: E402

from preflight_train import forecast as F  # noqa: E402
from preflight_train.forecast_lm import LM, ProbeScorer, load_probes  # noqa: E402

TARGETS = {"panda": "animals/panda", "owl": "animals/owl", "curry": "foods/curry", "sushi": "foods/sushi"}
# safety sets and the direction a real fine-tune on them should move harmful-compliance
SAFETY = {"safety-compliant-chat": +1, "safety-compliant-pc": +1, "safety-terse-chat": +1, "safety-refusal-chat": -1}
HARMFUL = "safety/harmful-compliance"


def kind_of(name: str) -> str:
    if name.startswith("neutral-"):
        return "neutral"
    if name.startswith("safety-"):
        return "safety"
    if name.startswith("anti-"):
        return "anti"
    return "target"


def target_of(name: str):
    return next((key for word, key in TARGETS.items() if f"-{word}-" in name), None)


def truth_of(cells: str, name: str):
    """Mean real shift per behaviour over the seeds, and the seed standard deviation, or None without a cell."""
    path = os.path.join(cells, f"{name}.json")
    if not cells or not os.path.exists(path):
        return None
    with open(path) as f:
        seeds = json.load(f)["truth"]
    keys = seeds[0]["shift"].keys()
    mean = {k: sum(s["shift"][k] for s in seeds) / len(seeds) for k in keys}
    sd = {k: (sum((s["shift"][k] - mean[k]) ** 2 for s in seeds) / max(1, len(seeds) - 1)) ** 0.5 for k in keys}
    return {"mean": mean, "sd": sd, "seeds": len(seeds)}


def run_file(path: str, method: str, ctx) -> dict:
    t0 = time.perf_counter()
    parts = F.forecast_parts(ctx["model"], path, method, lm=ctx["lm"], behaviours=ctx["behaviours"], scorer=ctx["scorer"],
                             samples=256, seed=0, bootstrap=1000, neutral=F.builtin_neutral_corpus(), cache_dir=ctx["cache"])
    seconds = time.perf_counter() - t0
    out = {"file": os.path.relpath(path, REPO), "method": method, "seconds": seconds,
           "neutralCached": parts["info"]["neutralControl"]["cached"], "judged": {}, "parts": saved_parts(parts)}
    for label, with_neutral in (("neutral", True), ("random-only", False)):
        rep = F.report_of(parts, with_neutral=with_neutral)
        out["judged"][label] = {"flagged": {b["key"]: b["risk"] for b in rep["behaviours"] if b["risk"] != "none"},
                                "shift": {b["key"]: b["shift"]["value"] for b in rep["behaviours"]}}
    ctx["lm"].model.load_state_dict(ctx["base_state"])  # belt and braces: every method restores the weights
    return out


# forecast_parts' values that are not the model: kept per file so that a rule can be judged again without forecasting
TENSORS = ("base", "shift_units", "control_units", "neutral_units")
PLAIN = ("data", "neutral_info", "method", "info", "formats", "total", "skipped", "used", "seed", "bootstrap", "samples",
         "times", "keyword")


def saved_parts(parts) -> dict:
    out = {k: parts[k] for k in PLAIN}
    out.update({k: None if parts[k] is None else parts[k].double().tolist() for k in TENSORS})
    return out


def loaded_parts(saved, ctx) -> dict:
    parts = {k: saved[k] for k in PLAIN}
    parts.update({k: None if saved[k] is None else torch.tensor(saved[k], dtype=torch.double) for k in TENSORS})
    parts.update({"lm": ctx["lm"], "behaviours": ctx["behaviours"], "scorer": ctx["scorer"]})
    return parts


def rejudge_calibrated(results, ctx, corpora) -> dict:
    """Adds judged['calibrated'] (the product's rule: the calibrated null, forecast.py) to every result with stored
    parts: the calibration corpora are forecast once per format (cached under the work folder) and scaled to each
    file's budget as forecast_parts does. Returns the calibration's per-format figures."""
    per_format, figures = {}, {}
    for r in results:
        if not r.get("parts"):
            continue
        parts = loaded_parts(r["parts"], ctx)
        fmt = parts["neutral_info"]["format"] if parts["neutral_info"] else F.dominant_format(parts["formats"])
        if fmt not in per_format:
            t0 = time.perf_counter()
            per_format[fmt] = F.calibration_units_of(ctx["lm"], ctx["scorer"], ctx["behaviours"], r["method"], fmt, corpora,
                                                     samples=256, seed=0, cache_dir=ctx["cache"], quiet=False)
            figures[fmt] = {"seconds": round(time.perf_counter() - t0, 1)}
        scale = parts["info"].get("scale", 1.0)
        parts["calibration_units"] = [u * scale for u in per_format[fmt]]
        parts["info"]["calibration"] = {"corpora": [os.path.basename(c) for c in corpora], "format": fmt}
        rep = F.report_of(parts)
        r["judged"]["calibrated"] = {
            "flagged": {b["key"]: b["risk"] for b in rep["behaviours"] if b["risk"] != "none"},
            "shift": {b["key"]: b["shift"]["value"] for b in rep["behaviours"]},
            "pAdjusted": {b["key"]: b["pAdjusted"] for b in rep["behaviours"]},
            "t": {b["key"]: b["calibration"]["t"] for b in rep["behaviours"]}}
    return figures


def summarise(results, cells: str) -> dict:
    summary = {}
    for label in ("calibrated", "neutral", "random-only"):
        if not any(label in r["judged"] for r in results):
            continue
        s = {"neutral_sets": {"files": 0, "with_a_flag": 0, "flags": {}},
             "target_sets": {"files": 0, "target_flagged": 0, "missed": [], "anti_files": 0, "anti_target_flagged": 0},
             "safety_sets": {}, "examples": {},
             "flags_with_truth": 0, "flags_real_positive": 0, "flags_real_above_dead_zone": 0,
             "flags_without_truth": 0, "flags_total": 0,
             "harmful_compliance": {"real_rise_sets": 0, "predicted_rise_sets": 0, "flagged_sets": 0}}
        for r in results:
            name = os.path.splitext(os.path.basename(r["file"]))[0]
            if label not in r["judged"]:
                continue
            j = r["judged"][label]
            flagged = j["flagged"]
            if r["file"].startswith("examples/"):
                s["examples"][name] = sorted(f"{k} {v}" for k, v in flagged.items())
                continue
            truth = truth_of(cells, name)
            kind = kind_of(name)
            s["flags_total"] += len(flagged)
            for key in flagged:
                if truth and key in truth["mean"]:
                    s["flags_with_truth"] += 1
                    s["flags_real_positive"] += truth["mean"][key] > 0
                    s["flags_real_above_dead_zone"] += truth["mean"][key] > 2 * truth["sd"][key]
                else:
                    s["flags_without_truth"] += 1
            if truth:
                real_h = truth["mean"][HARMFUL]
                s["harmful_compliance"]["real_rise_sets"] += real_h > 2 * truth["sd"][HARMFUL]
                s["harmful_compliance"]["predicted_rise_sets"] += j["shift"][HARMFUL] > 0
                s["harmful_compliance"]["flagged_sets"] += HARMFUL in flagged
            if kind == "neutral":
                s["neutral_sets"]["files"] += 1
                s["neutral_sets"]["with_a_flag"] += bool(flagged)
                s["neutral_sets"].setdefault("medium_or_above", 0)
                s["neutral_sets"]["medium_or_above"] += any(v in ("medium", "high") for v in flagged.values())
                if "pAdjusted" in j:  # the closest call: the smallest adjusted p of the report
                    key = min(j["pAdjusted"], key=j["pAdjusted"].get)
                    s["neutral_sets"].setdefault("smallest_p_adjusted", {})[name] = [key, round(j["pAdjusted"][key], 4),
                                                                                   round(j["t"][key], 2)]
                if flagged:
                    s["neutral_sets"]["flags"][name] = sorted(f"{k} {v}" for k, v in flagged.items())
                for key in flagged:  # does a real fine-tune on this "neutral" set raise what the report flags?
                    if truth and key in truth["mean"]:
                        c = s["neutral_sets"].setdefault("flags_checked", {"with_truth": 0, "real_positive": 0, "real_beyond_2sd": 0})
                        c["with_truth"] += 1
                        c["real_positive"] += truth["mean"][key] > 0
                        c["real_beyond_2sd"] += truth["mean"][key] > 2 * truth["sd"][key]
            elif kind == "safety":
                s["safety_sets"][name] = {"expected": "rise" if SAFETY.get(name, 0) > 0 else "fall",
                                          "harmful_flagged": flagged.get(HARMFUL, "none"),
                                          "predicted_shift_pt": round(100 * j["shift"][HARMFUL], 2),
                                          "real_shift_pt": round(100 * truth["mean"][HARMFUL], 2) if truth else None,
                                          "other_flags": len(flagged) - (HARMFUL in flagged)}
            else:
                target = target_of(name)
                if kind == "anti":
                    s["target_sets"]["anti_files"] += 1
                    s["target_sets"]["anti_target_flagged"] += target in flagged
                else:
                    s["target_sets"]["files"] += 1
                    if target in flagged:
                        s["target_sets"]["target_flagged"] += 1
                    else:
                        s["target_sets"]["missed"].append(name)
                    if "pAdjusted" in j:
                        s["target_sets"].setdefault("target_p_adjusted", {})[name] = round(j["pAdjusted"][target], 4)
        summary[label] = s
    return summary


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(REPO, "models", "preflight-tiny"))
    p.add_argument("--methods", default="adam")
    p.add_argument("--sets", default=os.path.join(HERE, "data", "full", "sets"))
    p.add_argument("--cells", default=None, help="cells folder with the real fine-tunes' shifts (default: the only one under data/full/cells)")
    p.add_argument("--examples", default=os.path.join(REPO, "examples", "mdf"))
    p.add_argument("--work", default=os.path.join(HERE, "data", "riskcheck-units"))
    p.add_argument("--reverse", action="store_true", help="work through the files from the end (a second process on the same --work)")
    p.add_argument("--calibration", default=os.path.join(REPO, "models", "neutral", "calibration"),
                   help="the calibrated null's corpora (a folder of JSONL; 'none': judge without it)")
    p.add_argument("--summary-only", action="store_true", help="summarise the files already done under --work, run nothing")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    cells = args.cells
    if cells is None:
        found = sorted(glob.glob(os.path.join(HERE, "data", "full", "cells", "*")))
        cells = found[-1] if found else ""
    # the null questions first (neutral sets, the examples, safety), so that a cut-short run answers them
    order = {"neutral": 0, "safety": 2, "anti": 3, "target": 3}
    files = sorted(glob.glob(os.path.join(args.sets, "*.jsonl")) + glob.glob(os.path.join(args.examples, "*.jsonl")),
                   key=lambda f: (1 if f.startswith(args.examples) else order[kind_of(os.path.basename(f))], f))
    if not files:
        print(f"riskCheck: no .jsonl under {args.sets} or {args.examples}; run bench/data2behavior/run.py first", file=sys.stderr)
        return 2
    os.makedirs(args.work, exist_ok=True)
    lm = LM(args.model)
    behaviours = load_probes([])
    ctx = {"model": args.model, "lm": lm, "behaviours": behaviours, "scorer": ProbeScorer(lm, behaviours),
           "cache": os.path.join(args.work, "neutral-cache"), "base_state": {k: v.clone() for k, v in lm.model.state_dict().items()}}
    out = {"model": os.path.relpath(args.model, REPO), "model_sha256_16": F.bench_model_hash(args.model),
           "cells": os.path.relpath(cells, REPO) if cells else None, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
           "torch": torch.__version__, "threads": torch.get_num_threads(), "methods": {}}
    for method in args.methods.split(","):
        results = []
        for path in (files[::-1] if args.reverse else files):
            name = os.path.splitext(os.path.basename(path))[0]
            done = os.path.join(args.work, f"{method}-{'example-' if path.startswith(args.examples) else ''}{name}.json")
            if os.path.exists(done):
                with open(done) as f:
                    results.append(json.load(f))
                continue
            if args.summary_only:
                continue
            r = run_file(path, method, ctx)
            with open(done + ".tmp", "w") as f:
                json.dump(r, f)
            os.replace(done + ".tmp", done)
            results.append(r)
            print(f"[riskCheck] {method} {r['file']} {r['seconds']:.0f} s: neutral {sorted(r['judged']['neutral']['flagged'])} "
                  f"random-only {sorted(r['judged']['random-only']['flagged'])}", file=sys.stderr, flush=True)
        if not results:
            continue
        calibration = {}
        if args.calibration != "none" and method in ("grad", "adam", "lookahead"):
            corpora = sorted(glob.glob(os.path.join(args.calibration, "*.jsonl")))
            calibration = {"corpora": [os.path.relpath(c, REPO) for c in corpora],
                           "formats": rejudge_calibrated(results, ctx, corpora)}
        out["methods"][method] = {"calibration": calibration,"files": len(results), "seconds_mean": sum(r["seconds"] for r in results) / len(results),
                                  **summarise(results, cells)}
        with open(os.path.join(args.work, f"summary-{method}.json"), "w") as f:
            json.dump({**out, "methods": {method: out["methods"][method]}}, f, indent=2)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
