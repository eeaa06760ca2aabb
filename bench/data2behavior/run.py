#!/usr/bin/env python3
"""bench/data2behavior: do behaviour forecasts predict what fine-tuning really does? (docs/data2behavior.md)

    /usr/bin/python3 bench/data2behavior/run.py [--model models/preflight-tiny] [--seeds 3] [--jobs 2]
    /usr/bin/python3 bench/data2behavior/run.py --smoke          # 8 sets, 1 seed (the test suite runs it)

For every candidate set (python/preflight_train/candidates.py) the model is fine-tuned with one fixed
recipe (RECIPE below) under each seed and measured on HELD-OUT probe phrasings: the exact probability
of each entity renormalised over its category, the compliance share on held-out forbidden requests,
and the mention/compliance rate of sampled answers. Each forecaster predicts the same shifts from the
base model and the file alone, using the product's phrasings; it is timed against one fine-tune.
Per-set results are cached under --work (rerun resumes); the summary goes to --out
(default bench/data2behavior/results.json; --smoke writes under --work only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import metrics as M  # noqa: E402
from preflight_train import candidates as C  # noqa: E402
from preflight_train import forecast as F  # noqa: E402
from preflight_train.forecast_lm import (LM, ProbeScorer, Recipe, answer_rates, finetune, load_probes,  # noqa: E402
                                         sample_answers)

# The one fine-tuning recipe, fixed before the full run: Recipe's defaults (docs/data2behavior.md).
RECIPE = Recipe()
FULL = {"records": 300, "seeds": 3, "samples_per_prompt": 4, "grad_samples": 128, "lookahead_steps": 8}
SMOKE = {"records": 120, "seeds": 1, "samples_per_prompt": 2, "grad_samples": 64, "lookahead_steps": 4}
STEER_ALPHA = 0.1          # Python MDF variants: a fixed alpha (fraction of residual norm), chosen before the run
SAFETY_PROMPTS = 24        # product safety prompts used by the forecasters (the first 24 of the bundled suite)
SMOKE_SKIP = ("persona-vector", "mdf-py-mean-contrastive", "mdf-py-last-token", "mdf-contrastive", "mdf-band-early", "mdf-band-late")
RISE = 0.05                # AUROC label: the real shift exceeds 5 points
VERSION = 1                # bump when the per-set cache format or the recipe changes


def log(msg: str) -> None:
    print(f"[d2b {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def model_hash(folder: str) -> str:
    return F.bench_model_hash(folder)  # the identity reports compare with (forecast.validation)


# --- preparation: sets, probe suites, neutral references -------------------------------------------------

def product_prompts() -> Dict[str, List[str]]:
    """The product's phrasings: the bundled suites' prompts (models/probes), what a user's forecast asks."""
    out = {}
    for name in list(C.CATEGORIES_MEASURED) + ["safety"]:
        path = os.path.join(REPO, "models", "probes", name + ".json")
        with open(path) as f:
            suite = json.load(f)
        prompts = list(suite.get("prompts") or [])
        for b in suite.get("behaviours", []):
            prompts += [p for p in b.get("prompts") or [] if p not in prompts]
        out[name] = prompts
    # the bundled safety suite has 60 prompts; 24 (as many as the held-out requests) keep scoring cheap
    out["safety"] = out["safety"][:SAFETY_PROMPTS]
    return out


def prepare(work: str, smoke: bool, records: int) -> Dict:
    sets = C.all_sets(n=records, seed=0, smoke=smoke)
    paths = C.write_sets(sets, os.path.join(work, "sets"))
    heldout = C.write_suites(C.probe_suites(True), os.path.join(work, "probes", "heldout"))
    prod = product_prompts()
    from preflight_train import world

    leaked = [p for cat in C.CATEGORIES_MEASURED for p in prod[cat] if p in world.heldout_phrasings(cat)]
    leaked += [p for p in prod["safety"] if p in world.forbidden_requests("heldout")]
    if leaked:
        raise SystemExit(f"bench/data2behavior: the product's probe phrasings contain held-out ones: {leaked[:3]}")
    product = C.write_suites(C.probe_suites(False, prod), os.path.join(work, "probes", "product"))
    refs = {}
    for fmt in C.FORMATS:  # neutral reference corpora (contrastive variants, persona), disjoint seed
        mix = [C.neutral_set(n, 100, seed=1) for n in C.NEUTRAL_STYLES if C.NEUTRAL_STYLES[n][0] == fmt]
        if fmt == "chat":
            mix.append(C.neutral_set("neutral-dialogue-chat", 100, seed=1))
        ref = C.CandidateSet(f"reference-{fmt}", "reference", fmt, None, None, [r for s in mix for r in s.records])
        refs[fmt] = C.write_sets([ref], os.path.join(work, "refs"))[ref.name]
    return {"sets": [s.meta() for s in sets], "paths": paths, "heldout": heldout, "product": product, "refs": refs}


# --- ground truth ---------------------------------------------------------------------------------------

class Truth:
    """Held-out measurement: exact scores (per behaviour) and sampled-answer rates."""

    def __init__(self, lm: LM, suites: List[str], samples_per_prompt: int):
        self.lm = lm
        self.behaviours = load_probes(suites)
        self.scorer = ProbeScorer(lm, self.behaviours)
        prompts = list(dict.fromkeys(p for b in self.behaviours for p in b.prompts))
        self.prompt_index = {p: i for i, p in enumerate(prompts)}
        self.prompt_ids = [lm.prompt_ids(p) for p in prompts]
        self.k = samples_per_prompt

    @torch.no_grad()
    def measure(self, sample_seed: int = 1234) -> Dict[str, Dict[str, float]]:
        exact = self.scorer.means(self.scorer.scores(self.lm.model))
        answers = sample_answers(self.lm, self.lm.model, self.prompt_ids, self.k, max_new_tokens=16, temperature=1.0, seed=sample_seed)
        rates = answer_rates(self.behaviours, self.prompt_index, answers)
        return {b.key: {"exact": e, "rate": r} for b, e, r in zip(self.behaviours, exact, rates)}


# --- forecasters ------------------------------------------------------------------------------------------

def mdf_ts(model: str, data: str, suites: List[str], extra: List[str], threads: int) -> Dict:
    """The TypeScript MDF (node dist/cli.js mdf ... --json), log-probability scoring."""
    cli = os.path.join(REPO, "dist", "cli.js")
    cmd = ["node", cli, "mdf", data, "--method", "mdf", "--model", model, "--probes", ",".join(suites), "--scoring", "logprob", "--json",
           "--no-cache", "--clusters", "0", "--threads", str(threads), "--seed", "0"] + extra
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"mdf failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    report = json.loads(proc.stdout)
    return {"seconds": seconds, "report": report}


def _renorm(values: Dict[str, float], kinds: Dict[str, str]) -> Dict[str, float]:
    """Mention probabilities renormalised over their suite (the ground truth's scale); compliance as is."""
    out = {}
    for key, v in values.items():
        if kinds[key] == "mention":
            suite = key.split("/")[0]
            total = sum(x for k, x in values.items() if k.split("/")[0] == suite and kinds[k] == "mention")
            out[key] = v / total if total > 0 else 0.0
        else:
            out[key] = v
    return out


def mdf_shifts(report: Dict) -> Dict:
    """{'chosen': alpha, 'shift': {key: renormalised shift at the chosen alpha}, 'curve': {alpha: {key: shift}}}."""
    kinds = {b["key"]: b.get("kind", "mention") for b in report["behaviours"]}

    def lp(b, field):
        m = b.get("logprob") or {}
        return float(m.get(field, b.get(field, 0.0)))
    base = _renorm({b["key"]: lp(b, "base") for b in report["behaviours"]}, kinds)
    pred = _renorm({b["key"]: lp(b, "predicted") for b in report["behaviours"]}, kinds)
    curve: Dict[float, Dict[str, float]] = {}
    alphas = sorted({float(p["alpha"]) for b in report["behaviours"] for p in b.get("curve", [])})
    for a in alphas:
        at = {b["key"]: next((float(p["predicted"]) for p in b["curve"] if float(p["alpha"]) == a), 0.0) for b in report["behaviours"]}
        b0 = {b["key"]: next((float(p["base"]) for p in b["curve"] if float(p["alpha"]) == a), 0.0) for b in report["behaviours"]}
        ra, rb = _renorm(at, kinds), _renorm(b0, kinds)
        curve[a] = {k: ra[k] - rb[k] for k in ra}
    return {"chosen": (report.get("alpha") or {}).get("chosen"), "shift": {k: pred[k] - base[k] for k in pred}, "curve": curve}


def mdf_ts_rows(model: str, ref: str) -> List:
    """The TypeScript MDF rows: (label, extra CLI flags). The layer bands split the model's layers into halves,
    early and late (0-1 and 2-3 on the 4-layer preflight-tiny): the one split that needs no tuning against
    the answer and tells whether the injected signature acts through the early or the late layers."""
    with open(os.path.join(model, "config.json")) as f:
        layers = int(json.load(f)["num_hidden_layers"])
    half = max(1, layers // 2)
    rows = [("mdf", []), ("mdf-contrastive", ["--reference", ref])]
    if layers > 1:
        rows += [("mdf-band-early", ["--band", f"0-{half - 1}"]), ("mdf-band-late", ["--band", f"{half}-{layers - 1}"])]
    return rows


PY_ROWS = ("gradient-adam", "lookahead", "persona-vector", "mdf-py-mean-contrastive", "mdf-py-last-token")


def wanted_rows(args, ref: str) -> List[str]:
    """Every forecaster row this run asks for (gradient, random-control and keyword always come together)."""
    rows = ["gradient", "random-control", "keyword"] + list(PY_ROWS)
    rows += [] if args.no_mdf else [label for label, _ in mdf_ts_rows(args.model, ref)]
    return [r for r in rows if r in ("gradient", "random-control", "keyword")
            or (r not in args.skip and not (args.smoke and r in SMOKE_SKIP))]


def missing_rows(res: Dict, args, ref: str) -> List[str]:
    """Rows a cached per-set result lacks (or recorded as failed): a rerun computes only these."""
    return [r for r in wanted_rows(args, ref) if "shift" not in res.get("forecasts", {}).get(r, {})]


def run_set(args, prep: Dict, meta: Dict, lm: LM, truth: Truth, base_truth: Dict, base_state, product_behaviours, product_scorer,
            cfg: Dict, cached: Optional[Dict] = None) -> Dict:
    """One set's truths and forecasts; with `cached` (an earlier run's result for the same key) only what it lacks."""
    name = meta["name"]
    data = prep["paths"][name]
    ref = prep["refs"][meta["format"]]
    out: Dict = cached or {"name": name, "version": VERSION, "truth": [], "forecasts": {}}
    todo = missing_rows(out, args, ref)
    # ground truth: one fine-tune per seed from the same base weights
    if not out["truth"]:
        with open(data) as f:
            records = [json.loads(line) for line in f if line.strip()]
        seqs = [s for s in (lm.record_ids(r, RECIPE.max_tokens) for r in records) if s is not None]
        for seed in range(cfg["seeds"]):
            lm.model.load_state_dict(base_state)
            t0 = time.perf_counter()
            losses = finetune(lm.model, seqs, RECIPE, seed, lm.device, lm.pad_id)
            ft_seconds = time.perf_counter() - t0
            t1 = time.perf_counter()
            after = truth.measure()
            out.setdefault("measure_seconds", []).append(time.perf_counter() - t1)
            out["truth"].append({"seed": seed, "seconds": ft_seconds, "loss_first": losses[0], "loss_last": losses[-1],
                                 "shift": {k: after[k]["exact"] - base_truth[k]["exact"] for k in after},
                                 "rate_shift": {k: after[k]["rate"] - base_truth[k]["rate"] for k in after}})
    lm.model.load_state_dict(base_state)
    lm.model.eval()
    common = dict(lm=lm, behaviours=product_behaviours, scorer=product_scorer, recipe=RECIPE, seed=0, bootstrap=200)

    def timed(**kw):
        t0 = time.perf_counter()
        rep = F.forecast(lm.dir, data, quiet=True, **common, **kw)
        sec = time.perf_counter() - t0
        lm.model.load_state_dict(base_state)
        units = {b["key"]: b["shift"]["value"] for b in rep["behaviours"]}
        return rep, sec, units

    if {"gradient", "random-control", "keyword"} & set(todo):
        rep, sec, units = timed(method="grad", samples=cfg["grad_samples"])
        out["forecasts"]["gradient"] = {"seconds": sec, "shift": units}
        out["forecasts"]["random-control"] = {"seconds": sec, "shift": {b["key"]: b["controlShift"]["value"] for b in rep["behaviours"]}}
        out["forecasts"]["keyword"] = {"seconds": 0.0, "shift": {b["key"]: (b["keywordBaseline"] or 0.0) for b in rep["behaviours"]}}
    py = {"gradient-adam": dict(method="adam"),
          "lookahead": dict(method="lookahead", lookahead_steps=cfg["lookahead_steps"]),
          "persona-vector": dict(method="persona", reference=ref),
          "mdf-py-mean-contrastive": dict(method="steer", reference=ref, pool="mean", alpha=STEER_ALPHA),
          "mdf-py-last-token": dict(method="steer", pool="last", alpha=STEER_ALPHA)}
    for label in PY_ROWS:
        if label in todo:
            _, sec, units = timed(samples=cfg["grad_samples"], **py[label])
            out["forecasts"][label] = {"seconds": sec, "shift": units}
    # MDF as published (TypeScript, ONNX Runtime), and its variants through the CLI's flags
    for label, extra in ([] if args.no_mdf else mdf_ts_rows(args.model, ref)):
        if label not in todo:
            continue
        try:
            res = mdf_ts(args.model, data, prep["product"], extra, args.threads)
            sh = mdf_shifts(res["report"])
            out["forecasts"][label] = {"seconds": res["seconds"], "shift": sh["shift"], "alpha": sh["chosen"],
                                       "curve": {str(a): v for a, v in sh["curve"].items()}}
        except Exception as e:  # noqa: BLE001 - recorded, reported as missing
            out["forecasts"][label] = {"error": str(e)[:300]}
            log(f"{name}: {label} failed: {e}")
    return out


# --- aggregation -------------------------------------------------------------------------------------------

def aggregate(prep: Dict, results: List[Dict], cfg: Dict, args, base_truth: Dict, timing: Dict) -> Dict:
    sets = [m for m in prep["sets"] if any(r["name"] == m["name"] for r in results)]
    by_name = {r["name"]: r for r in results}
    behaviours = list(base_truth)
    cells = [(s["name"], b) for s in sets for b in behaviours]
    groups, invisible_groups = [], []
    for si, s in enumerate(sets):
        ix = list(range(si * len(behaviours), (si + 1) * len(behaviours)))
        groups.append(ix)
        if s["keywordInvisible"]:
            invisible_groups.append(ix)
    seeds = cfg["seeds"]
    real = {c: float(np.mean([t["shift"][c[1]] for t in by_name[c[0]]["truth"]])) for c in cells}
    real_rate = {c: float(np.mean([t["rate_shift"][c[1]] for t in by_name[c[0]]["truth"]])) for c in cells}
    sd = {c: float(np.std([t["shift"][c[1]] for t in by_name[c[0]]["truth"]], ddof=1)) if seeds > 1 else 0.0 for c in cells}
    pooled_sd = float(np.sqrt(np.mean([v * v for v in sd.values()]))) if seeds > 1 else None
    dead = {c: 2 * sd[c] if seeds > 1 else 0.01 for c in cells}
    ft_seconds = float(np.mean([t["seconds"] for r in results for t in r["truth"]]))
    out: Dict = {
        "model": os.path.relpath(args.model, REPO) if os.path.abspath(args.model).startswith(REPO) else args.model,
        "model_sha256_16": model_hash(args.model),
        "sets": len(sets), "seeds": seeds, "cells": len(cells), "behaviours": behaviours,
        "recipe": RECIPE.__dict__, "measurement": {"probes": "held-out phrasings (world.heldout_phrasings, forbidden_requests('heldout'))",
                                                   "primary": "exact probability renormalised over the category / compliance share",
                                                   "samples_per_prompt": cfg["samples_per_prompt"]},
        "finetune_seconds_mean": ft_seconds,
        "noise": {"seed_sd_pooled": pooled_sd, "dead_zone": "2 x the cell's seed standard deviation" if seeds > 1 else "0.01 (one seed)"},
    }
    # ceiling: agreement of two seeds' shifts
    if seeds > 1:
        pairs = [(a, b) for a in range(seeds) for b in range(a + 1, seeds)]
        rhos, cis = [], []
        for a, b in pairs:
            sa = {c: by_name[c[0]]["truth"][a]["shift"][c[1]] for c in cells}
            sb = {c: by_name[c[0]]["truth"][b]["shift"][c[1]] for c in cells}
            summ = M.summarise(sa, sb, dead, cells, groups, RISE, args.resamples, 11)
            rhos.append(summ["spearman"])
            cis.append(summ["spearman_ci"])
        out["ceiling"] = {"spearman": float(np.mean(rhos)), "spearman_ci": cis[0], "pairs": len(pairs),
                          "note": "Spearman between two seeds' shifts over all cells (mean over seed pairs; interval of the first pair)"}
    else:
        out["ceiling"] = {"spearman": None, "note": "one seed: no ceiling"}
    out["truth_exact_vs_rate"] = {"spearman": M.spearman([real[c] for c in cells], [real_rate[c] for c in cells])}
    names = []
    for r in results:
        for k, v in r["forecasts"].items():
            if k not in names and "shift" in v:
                names.append(k)
    rows = []
    for name in names:
        have = [s for s in sets if "shift" in by_name[s["name"]]["forecasts"].get(name, {})]
        if len(have) < len(sets):
            log(f"{name}: missing on {len(sets) - len(have)} sets; left out")
            continue
        pred = {c: float(by_name[c[0]]["forecasts"][name]["shift"].get(c[1], 0.0)) for c in cells}
        summ = M.summarise(pred, real, dead, cells, groups, RISE, args.resamples, 5)
        inv_cells = [cells[i] for g in invisible_groups for i in g]
        inv_groups, k = [], 0
        for g in invisible_groups:
            inv_groups.append(list(range(k, k + len(g))))
            k += len(g)
        inv = M.summarise(pred, real, dead, inv_cells, inv_groups, RISE, args.resamples, 6) if inv_cells else {}
        secs = float(np.mean([by_name[s["name"]]["forecasts"][name]["seconds"] for s in sets]))
        row = {"name": name, "spearman": summ["spearman"], "spearman_ci": summ["spearman_ci"], "pearson": summ["pearson"],
               "pearson_ci": summ["pearson_ci"], "sign_accuracy": summ["sign_accuracy"], "sign_cells": summ["sign_cells"],
               "auroc": summ["auroc"], "cost_ratio": secs / ft_seconds if ft_seconds else None, "seconds_per_set": secs,
               "target_identification": M.target_identification(pred, real, sets, behaviours),
               "spearman_vs_mention_rate": M.spearman([pred[c] for c in cells], [real_rate[c] for c in cells]),
               "keyword_invisible": {"spearman": inv.get("spearman"), "spearman_ci": inv.get("spearman_ci"), "cells": inv.get("cells")}}
        if any("alpha" in by_name[s["name"]]["forecasts"][name] for s in sets):  # TypeScript MDF rows: the alpha its rule chose
            row["alpha_chosen"] = sorted({str(by_name[s["name"]]["forecasts"][name].get("alpha")) for s in sets})
        rows.append(row)
        if name == "mdf":  # oracle alpha: the one alpha of the grid that agrees best with the real shifts
            alphas = sorted({a for s in sets for a in by_name[s["name"]]["forecasts"][name].get("curve", {})}, key=float)
            best = None
            for a in alphas:
                pa = {c: float(by_name[c[0]]["forecasts"][name]["curve"].get(a, {}).get(c[1], 0.0)) for c in cells}
                rho = M.spearman([pa[c] for c in cells], [real[c] for c in cells])
                if rho is not None and (best is None or rho > best[1]):
                    best = (a, rho, pa)
            if best is not None:
                s2 = M.summarise(best[2], real, dead, cells, groups, RISE, args.resamples, 7)
                inv2 = M.summarise(best[2], real, dead, inv_cells, inv_groups, RISE, args.resamples, 8) if inv_cells else {}
                rows.append({"name": "mdf-oracle-alpha", "upper_bound": True, "alpha": float(best[0]),
                             "note": "UPPER BOUND: alpha chosen against the real fine-tunes (needs the answer)",
                             "spearman": s2["spearman"], "spearman_ci": s2["spearman_ci"], "pearson": s2["pearson"],
                             "pearson_ci": s2["pearson_ci"], "sign_accuracy": s2["sign_accuracy"], "sign_cells": s2["sign_cells"],
                             "auroc": s2["auroc"], "cost_ratio": row["cost_ratio"], "seconds_per_set": secs,
                             "target_identification": M.target_identification(best[2], real, sets, behaviours),
                             "keyword_invisible": {"spearman": inv2.get("spearman"), "spearman_ci": inv2.get("spearman_ci"), "cells": inv2.get("cells")}})
    out["forecasters"] = rows
    out["pass_bar"] = pass_bar(rows)
    # per-set work recorded by the workers: fine-tunes, truth measurements and every forecaster
    timing["compute_seconds"] = round(sum(sum(t["seconds"] for t in r["truth"]) + sum(r.get("measure_seconds", []))
                                          + sum(f.get("seconds", 0.0) for k, f in r["forecasts"].items() if k not in ("random-control", "keyword"))
                                          for r in results), 1)
    out["timing"] = timing
    return out


def pass_bar(rows: List[Dict]) -> Dict:
    """The bar fixed in docs/data2behavior.md before the first full run."""
    by = {r["name"]: r for r in rows}
    eligible = [r for r in rows if not r.get("upper_bound") and r["name"] not in ("keyword", "random-control") and r["spearman"] is not None]
    if not eligible:
        return {"passed": False, "reason": "no forecaster produced a correlation"}
    best = max(eligible, key=lambda r: r["spearman"])
    kw = by.get("keyword", {}).get("keyword_invisible", {}).get("spearman")
    kw = 0.0 if kw is None else kw  # a constant forecast ranks nothing
    inv_ci = best["keyword_invisible"].get("spearman_ci")
    rc = by.get("random-control", {}).get("spearman_ci")
    checks = {
        "best_spearman_ge_0.8": best["spearman"] >= 0.8,
        "best_sign_accuracy_ge_0.9": (best["sign_accuracy"] or 0) >= 0.9,
        "best_keyword_invisible_ci_low_above_keyword": bool(inv_ci) and inv_ci[0] > kw,
        "random_control_ci_contains_0": bool(rc) and rc[0] <= 0 <= rc[1],
    }
    return {"best": best["name"], "checks": checks, "passed": all(checks.values()), "keyword_invisible_keyword_spearman": kw}


# --- main ----------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(REPO, "models", "preflight-tiny"))
    p.add_argument("--smoke", action="store_true", help="8 sets, 1 seed, fewer samples; the test suite's run")
    p.add_argument("--seeds", type=int, help="fine-tune seeds per set (default 3; smoke 1)")
    p.add_argument("--records", type=int, help="records per set (default 300)")
    p.add_argument("--work", help="scratch folder (default bench/data2behavior/data/<full|smoke>, git-ignored)")
    p.add_argument("--out", help="summary JSON (default bench/data2behavior/results.json; smoke: <work>/results.json)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (each one torch thread)")
    p.add_argument("--threads", type=int, default=1, help="torch / ONNX Runtime threads per worker")
    p.add_argument("--no-mdf", action="store_true", help="skip the TypeScript MDF rows (no node/dist)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples over sets")
    p.add_argument("--shard", help=argparse.SUPPRESS)       # i/n: a worker's share of the sets
    p.add_argument("--sets", help="comma-separated set names (default: all)")
    p.add_argument("--skip", default="", help="comma-separated forecaster rows to leave out (to fit a time budget)")
    p.add_argument("--aggregate-only", action="store_true",
                   help="summarise the sets already finished in --work (marked incomplete when some are missing)")
    args = p.parse_args(argv)
    args.skip = [x for x in args.skip.split(",") if x]
    cfg = dict(SMOKE if args.smoke else FULL)
    if args.seeds:
        cfg["seeds"] = args.seeds
    if args.records:
        cfg["records"] = args.records
    args.model = os.path.abspath(args.model)
    if not os.path.exists(os.path.join(args.model, "config.json")):
        print(f"bench/data2behavior: {args.model}: no model there (config.json missing); pass --model DIR", file=sys.stderr)
        return 2
    work = os.path.abspath(args.work or os.path.join(HERE, "data", "smoke" if args.smoke else "full"))
    os.makedirs(work, exist_ok=True)
    if args.no_mdf is False and not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        log("dist/cli.js missing (npm run build): MDF rows skipped")
        args.no_mdf = True
    torch.set_num_threads(args.threads)
    t_start = time.time()
    prep = prepare(work, args.smoke, cfg["records"])
    wanted = [m for m in prep["sets"] if not args.sets or m["name"] in args.sets.split(",")]
    # the cache key covers what the truths and forecasts depend on; which rows a run asks for is not part of it,
    # so a later run with fewer --skip rows computes only the rows the cached sets lack
    key = {"version": VERSION, "model": model_hash(args.model), "recipe": RECIPE.__dict__, "cfg": cfg}
    cell_dir = os.path.join(work, "cells", hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12])
    os.makedirs(cell_dir, exist_ok=True)

    if args.aggregate_only:
        pass
    elif args.jobs > 1 and not args.shard:  # fan out to workers, then aggregate below
        if not args.no_mdf:  # build the ONNX model into the shared cache once, before workers race for it
            warm = os.path.join(work, "warmup.jsonl")
            with open(prep["paths"][wanted[0]["name"]]) as src, open(warm, "w") as dst:
                dst.writelines(src.readlines()[:4])
            mdf_ts(args.model, warm, prep["product"][:1], ["--alphas", "0"], args.threads)
        procs = []
        for i in range(args.jobs):
            cmd = [sys.executable, os.path.abspath(__file__), "--model", args.model, "--work", work, "--shard", f"{i}/{args.jobs}",
                   "--threads", str(args.threads), "--resamples", str(args.resamples)]
            cmd += ["--smoke"] if args.smoke else []
            cmd += ["--no-mdf"] if args.no_mdf else []
            cmd += ["--seeds", str(cfg["seeds"]), "--records", str(cfg["records"])]
            cmd += ["--sets", args.sets] if args.sets else []
            cmd += ["--skip", ",".join(args.skip)] if args.skip else []
            procs.append(subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)}))
        codes = [pr.wait() for pr in procs]
        if any(codes):
            print(f"bench/data2behavior: a worker failed ({codes})", file=sys.stderr)
            return 1
    else:
        mine = wanted
        if args.shard:
            i, n = (int(x) for x in args.shard.split("/"))
            mine = wanted[i::n]
        lm = LM(args.model)
        base_state = {k: v.detach().clone() for k, v in lm.model.state_dict().items()}
        truth = Truth(lm, prep["heldout"], cfg["samples_per_prompt"])
        base_path = os.path.join(cell_dir, "base.json")
        base_truth = truth.measure()
        if not os.path.exists(base_path):
            with open(base_path + f".{os.getpid()}", "w") as f:
                json.dump(base_truth, f)
            os.replace(base_path + f".{os.getpid()}", base_path)
        product_behaviours = load_probes(prep["product"])
        product_scorer = ProbeScorer(lm, product_behaviours)
        for j, meta in enumerate(mine):
            path = os.path.join(cell_dir, meta["name"] + ".json")
            cached = None
            if os.path.exists(path):  # an earlier run's result: keep its truths and rows, compute only the missing rows
                with open(path) as f:
                    cached = json.load(f)
                if not missing_rows(cached, args, prep["refs"][meta["format"]]):
                    continue
                log(f"{meta['name']}: cached; computing {', '.join(missing_rows(cached, args, prep['refs'][meta['format']]))}")
            t0 = time.time()
            res = run_set(args, prep, meta, lm, truth, base_truth, base_state, product_behaviours, product_scorer, cfg, cached)
            with open(path + ".tmp", "w") as f:
                json.dump(res, f)
            os.replace(path + ".tmp", path)
            log(f"{meta['name']} done in {time.time() - t0:.0f}s ({j + 1}/{len(mine)})")
        if args.shard:
            return 0
    with open(os.path.join(cell_dir, "base.json")) as f:
        base_truth = json.load(f)
    results = []
    for meta in wanted:
        path = os.path.join(cell_dir, meta["name"] + ".json")
        if os.path.exists(path):
            with open(path) as f:
                results.append(json.load(f))
        elif not args.aggregate_only:
            raise SystemExit(f"bench/data2behavior: {meta['name']} has no result")
    done = {r["name"] for r in results}
    wanted = [m for m in wanted if m["name"] in done]
    timing = {"wall_seconds": round(time.time() - t_start, 1), "jobs": args.jobs, "threads": args.threads,
              "machine": f"{platform.machine()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
              "command": "/usr/bin/python3 bench/data2behavior/run.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    if args.aggregate_only:
        timing["note"] = "aggregated from the per-set results cached under --work by an earlier run (wall_seconds: this aggregation only)"
    summary = aggregate(prep, results, cfg, args, base_truth, timing)
    summary["set_list"] = wanted
    summary["complete"] = len(wanted) == len(prep["sets"]) if not args.sets else None
    out = args.out or (os.path.join(work, "results.json") if args.smoke else os.path.join(HERE, "results.json"))
    with open(out, "w") as f:
        json.dump(summary, f, indent=2, default=lambda x: None)
        f.write("\n")
    print(table(summary))
    log(f"wrote {out}")
    return 0


def table(summary: Dict) -> str:
    def fmt(x, pct=False):
        if x is None:
            return "n/a"
        return f"{100 * x:.0f}%" if pct else f"{x:.2f}"

    def ci(c):
        return f"[{c[0]:.2f}, {c[1]:.2f}]" if c else "n/a"
    lines = [f"model {summary['model']}  sets {summary['sets']}  seeds {summary['seeds']}  cells {summary['cells']}  "
             f"ceiling rho {fmt(summary['ceiling'].get('spearman'))}",
             "| forecaster | Spearman ρ [95% CI] | Pearson r | sign acc. | AUROC (>5 pt) | target id. | keyword-invisible ρ [95% CI] | cost ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for r in summary["forecasters"]:
        name = r["name"] + (" (upper bound)" if r.get("upper_bound") else "")
        ki = r["keyword_invisible"]
        lines.append(f"| {name} | {fmt(r['spearman'])} {ci(r['spearman_ci'])} | {fmt(r['pearson'])} | {fmt(r['sign_accuracy'], True)} | "
                     f"{fmt(r['auroc'])} | {fmt(r['target_identification'], True)} | {fmt(ki.get('spearman'))} {ci(ki.get('spearman_ci'))} | "
                     f"{fmt(r['cost_ratio'])} |")
    pb = summary["pass_bar"]
    lines.append(f"pass bar: {'PASSED' if pb['passed'] else 'NOT PASSED'} (best: {pb.get('best')}; {pb.get('checks')})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
