"""Agreement between predicted and real behaviour shifts (docs/data2behavior.md): rank and linear
correlation, sign accuracy outside a noise dead zone, AUROC for a real rise, target identification,
and percentile bootstrap intervals that resample whole candidate sets. numpy only."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import numpy as np


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank): scipy.stats.rankdata(method="average"), vectorised."""
    x = np.asarray(x)
    sorter = np.argsort(x, kind="mergesort")
    inv = np.empty(len(x), dtype=np.intp)
    inv[sorter] = np.arange(len(x))
    xs = x[sorter]
    obs = np.r_[True, xs[1:] != xs[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], len(obs)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def pearson(x: Sequence[float], y: Sequence[float]) -> Optional[float]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return None
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return None  # a constant forecast has no correlation
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def spearman(x: Sequence[float], y: Sequence[float]) -> Optional[float]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return None
    return pearson(_rank(x), _rank(y))


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> Optional[float]:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U)."""
    s = np.asarray(scores, float)
    l = np.asarray(labels, bool)
    pos, neg = int(l.sum()), int((~l).sum())
    if pos == 0 or neg == 0:
        return None
    r = _rank(s)
    return float((r[l].sum() - pos * (pos + 1) / 2) / (pos * neg))


def sign_accuracy(pred: Sequence[float], real: Sequence[float], dead: Sequence[float]) -> Optional[float]:
    """Share of cells with |real| > dead zone whose predicted sign matches the real sign."""
    p, r, d = (np.asarray(v, float) for v in (pred, real, dead))
    keep = np.abs(r) > d
    if not keep.any():
        return None
    return float((np.sign(p[keep]) == np.sign(r[keep])).mean())


def bootstrap(stat, groups: List[List[int]], resamples: int = 1000, seed: int = 0):
    """95% percentile interval of stat(cell indices) when whole groups (candidate sets) are resampled."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, len(groups), len(groups))
        cells = [c for g in pick for c in groups[g]]
        v = stat(cells)
        if v is not None and math.isfinite(v):
            values.append(v)
    if len(values) < resamples // 2:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [float(lo), float(hi)]


def summarise(pred: Dict, real: Dict, dead: Dict, cells: List, groups: List[List[int]], rise: float = 0.05,
              resamples: int = 1000, seed: int = 0) -> Dict:
    """pred/real/dead: {cell: value}; cells: the cell keys in a fixed order; groups: indices of cells per set."""
    p = np.array([pred[c] for c in cells], float)
    r = np.array([real[c] for c in cells], float)
    d = np.array([dead[c] for c in cells], float)

    def rho(ix):
        return spearman(p[ix], r[ix])

    def r_lin(ix):
        return pearson(p[ix], r[ix])

    all_ix = [i for g in groups for i in g]
    return {
        "cells": len(all_ix),
        "spearman": rho(all_ix),
        "spearman_ci": bootstrap(rho, groups, resamples, seed),
        "pearson": r_lin(all_ix),
        "pearson_ci": bootstrap(r_lin, groups, resamples, seed + 1),
        "sign_accuracy": sign_accuracy(p[all_ix], r[all_ix], d[all_ix]),
        "sign_cells": int((np.abs(r[all_ix]) > d[all_ix]).sum()),
        "auroc": auroc(p[all_ix], r[all_ix] > rise),
        "positives": int((r[all_ix] > rise).sum()),
    }


def target_identification(pred: Dict, real: Dict, sets: List[Dict], behaviours: List[str]) -> Optional[float]:
    """Over sets written about a target: share where the behaviour with the largest predicted shift in the
    target's category is the one with the largest real shift."""
    hits = total = 0
    for s in sets:
        if not s.get("target"):
            continue
        keys = [b for b in behaviours if b.startswith(s["category"] + "/")]
        if not keys:
            continue
        best_pred = max(keys, key=lambda b: pred[(s["name"], b)])
        best_real = max(keys, key=lambda b: real[(s["name"], b)])
        hits += best_pred == best_real
        total += 1
    return hits / total if total else None
