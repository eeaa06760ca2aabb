#!/usr/bin/env python3
"""Does a rerun of bench/data2behavior reproduce an earlier one? (docs/data2behavior.md, section 3, "Reproducibility")

    python3 bench/data2behavior/compare.py RESULTS_A.json RESULTS_B.json        # summaries: every shared row
    python3 bench/data2behavior/compare.py --cells DIR_A DIR_B                   # per-set caches (<work>/cells/<key>)

Summaries: for each forecaster row both files hold, the largest absolute difference over its figures (rho,
r, sign accuracy, AUROC, target identification, the keyword-invisible rho and every interval end), and
whether B's rho lies inside A's interval. Cells: over the sets both folders hold, the largest absolute
difference of the truth shifts (per seed and behaviour) and of each forecaster's predicted shifts.
Plain Python, no torch: it only reads JSON.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from typing import Dict, List, Optional

FIGURES = ("spearman", "pearson", "sign_accuracy", "auroc", "target_identification")


def _flat(row: Dict) -> Dict[str, float]:
    out = {k: row.get(k) for k in FIGURES}
    for k in ("spearman_ci", "pearson_ci"):
        for i, v in enumerate(row.get(k) or []):
            out[f"{k}[{i}]"] = v
    ki = row.get("keyword_invisible") or {}
    out["keyword_invisible.spearman"] = ki.get("spearman")
    for i, v in enumerate(ki.get("spearman_ci") or []):
        out[f"keyword_invisible.spearman_ci[{i}]"] = v
    return {k: float(v) for k, v in out.items() if v is not None}


def compare_results(a: Dict, b: Dict) -> List[str]:
    lines = []
    for key in ("model_sha256_16", "sets", "seeds", "cells"):
        if a.get(key) != b.get(key):
            lines.append(f"different {key}: {a.get(key)} vs {b.get(key)}")
    ca, cb = (a.get("ceiling") or {}).get("spearman"), (b.get("ceiling") or {}).get("spearman")
    if ca is not None and cb is not None:
        lines.append(f"ceiling rho: {ca:.6f} vs {cb:.6f} (|diff| {abs(ca - cb):.2e})")
    rows_b = {r["name"]: r for r in b.get("forecasters", [])}
    for ra in a.get("forecasters", []):
        rb = rows_b.get(ra["name"])
        if rb is None:
            continue
        fa, fb = _flat(ra), _flat(rb)
        shared = [k for k in fa if k in fb]
        worst = max(shared, key=lambda k: abs(fa[k] - fb[k])) if shared else None
        ci = ra.get("spearman_ci")
        inside = ci is not None and rb.get("spearman") is not None and ci[0] <= rb["spearman"] <= ci[1]
        diff = f"max |diff| {abs(fa[worst] - fb[worst]):.2e} ({worst})" if worst else "no shared figures"
        lines.append(f"{ra['name']}: rho {ra.get('spearman'):.4f} vs {rb.get('spearman'):.4f}; {diff}; "
                     f"B's rho inside A's interval: {'yes' if inside else 'NO'}")
    only = sorted(set(rows_b) - {r["name"] for r in a.get("forecasters", [])})
    if only:
        lines.append(f"rows only in B: {', '.join(only)}")
    return lines


def _cells(folder: str) -> Dict[str, Dict]:
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = os.path.basename(path)[:-5]
        if name != "base":
            with open(path) as f:
                out[name] = json.load(f)
    return out


def _maxdiff(a: Dict[str, float], b: Dict[str, float]) -> Optional[float]:
    keys = [k for k in a if k in b]
    return max(abs(float(a[k]) - float(b[k])) for k in keys) if keys else None


def compare_cells(dir_a: str, dir_b: str) -> List[str]:
    a, b = _cells(dir_a), _cells(dir_b)
    sets = sorted(set(a) & set(b))
    if not sets:
        return [f"no set in common between {dir_a} and {dir_b}"]
    lines = [f"{len(sets)} sets in common"]
    worst: Dict[str, float] = {}

    def note(label: str, d: Optional[float]) -> None:
        if d is not None:
            worst[label] = max(worst.get(label, 0.0), d)
    for s in sets:
        for ta, tb in zip(a[s].get("truth", []), b[s].get("truth", [])):
            note("truth shift (exact score)", _maxdiff(ta["shift"], tb["shift"]))
            note("truth shift (sampled rate)", _maxdiff(ta["rate_shift"], tb["rate_shift"]))
        fa, fb = a[s].get("forecasts", {}), b[s].get("forecasts", {})
        for row in fa:
            if "shift" in fa[row] and "shift" in fb.get(row, {}):
                note(f"forecast {row}", _maxdiff(fa[row]["shift"], fb[row]["shift"]))
    for label, d in worst.items():
        lines.append(f"{label}: max |diff| {d:.3e}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--cells", action="store_true", help="A and B are per-set cache folders (<work>/cells/<key>)")
    args = p.parse_args(argv)
    try:
        if args.cells:
            lines = compare_cells(args.a, args.b)
        else:
            with open(args.a) as fa, open(args.b) as fb:
                lines = compare_results(json.load(fa), json.load(fb))
    except (OSError, ValueError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
