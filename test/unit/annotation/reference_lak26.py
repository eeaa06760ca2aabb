#!/usr/bin/env python3
"""Independent reference for the annotation analysis (stdlib csv + numpy only, no pandas).

Written from the definitions (Xu et al., LAK '26; Cohen 1960/1968; Krippendorff 2011), not from
the TypeScript code: per-row distances with numpy, α from pairable values unit by unit.
Usage: reference_lak26.py <full.csv> <human.csv> <gold_col> <pred_col> <level,level,...>
Prints JSON: overall and per (Technique, model) metrics and decomposition, human rates, α.
"""
import csv
import json
import sys

import numpy as np

GOLD_NAMES = {"groundtruth", "ground_truth", "gold", "gt"}


def norm(x):
    return " ".join(str(x).split()).lower()


def rates(gold, pred, k):
    d = np.abs(gold - pred)
    n = len(d)
    up = int(np.sum((d == 1) & (pred > gold)))
    down = int(np.sum((d == 1) & (pred < gold)))
    return {
        "n": n,
        "accuracy": float(np.mean(d == 0)),
        "boundaryRate": float(np.mean(d == 1)),
        "conceptualRate": float(np.mean(d >= 2)),
        "severityWeightedError": float(np.mean(d / (k - 1))),
        "boundaryBias": (up - down) / (up + down) if up + down else None,
        "signedShift": float(np.mean(pred - gold)),
        "kappa": kappa(gold, pred, k, quadratic=False),
        "quadraticKappa": kappa(gold, pred, k, quadratic=True),
    }


def kappa(a, b, k, quadratic):
    o = np.zeros((k, k))
    np.add.at(o, (a, b), 1)
    n = o.sum()
    e = np.outer(o.sum(1), o.sum(0)) / n
    i, j = np.indices((k, k))
    w = ((i - j) ** 2) / ((k - 1) ** 2) if quadratic else (i != j).astype(float)
    denom = (w * e).sum()
    return None if denom == 0 else float(1 - (w * o).sum() / denom)


def alpha(units, k, metric):
    """Krippendorff's alpha from the coincidence matrix; units = lists of level indices."""
    o = np.zeros((k, k))
    for u in units:
        m = len(u)
        if m < 2:
            continue
        for x in range(m):
            for y in range(m):
                if x != y:
                    o[u[x], u[y]] += 1.0 / (m - 1)
    nc = o.sum(1)
    n = nc.sum()
    delta = np.zeros((k, k))
    for c in range(k):
        for kk in range(k):
            if metric == "nominal":
                delta[c, kk] = 0.0 if c == kk else 1.0
            elif metric == "interval":
                delta[c, kk] = float((c - kk) ** 2)
            else:
                lo, hi = min(c, kk), max(c, kk)
                delta[c, kk] = (nc[lo:hi + 1].sum() - (nc[c] + nc[kk]) / 2.0) ** 2
    do = (o * delta).sum()
    de = (np.outer(nc, nc) * delta).sum()
    return None if de == 0 else float(1 - (n - 1) * do / de)


def main():
    full, human, gold_col, pred_col, levels = sys.argv[1:6]
    levels = [norm(x) for x in levels.split(",")]
    index = {lv: i for i, lv in enumerate(levels)}
    k = len(levels)
    with open(full, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kept = [r for r in rows if norm(r[gold_col]) in index and norm(r[pred_col]) in index]
    gold = np.array([index[norm(r[gold_col])] for r in kept])
    pred = np.array([index[norm(r[pred_col])] for r in kept])

    # human test: long (a label column) or wide (one column per level)
    with open(human, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader)
        hrows = [r for r in reader if r]
    lower = [norm(h) for h in header]
    level_cols = [i for i, h in enumerate(lower) if h in index]
    entries = {}
    for r in hrows:
        ann, item = r[0].strip(), r[1].strip()
        if len(level_cols) >= 2:
            marked = [lower[i] for i in level_cols if i < len(r) and r[i].strip() == "1"]
            label = marked[0] if marked else None
        else:
            label = norm(r[len(header) - 1]) if len(r) >= len(header) else None
        key = (ann.lower(), item)
        if key not in entries:
            entries[key] = label
    gt = {item: index[l] for (a, item), l in entries.items() if a in GOLD_NAMES and l in index}
    coders = sorted({a for (a, _) in entries if a not in GOLD_NAMES})
    hg, hp = [], []
    units = {}
    for (a, item), l in entries.items():
        if a in GOLD_NAMES or l not in index:
            continue
        units.setdefault(item, []).append(index[l])
        if item in gt:
            hg.append(gt[item])
            hp.append(index[l])
    hg, hp = np.array(hg), np.array(hp)
    h = rates(hg, hp, k)

    def decomposition(m):
        out = {"correct": m["accuracy"]}
        for t, key in (("boundary", "boundaryRate"), ("conceptual", "conceptualRate")):
            mt, ht = m[key], h[key]
            task = ht / (mt + ht) * mt if mt + ht > 0 else 0.0
            out[t + "Task"] = task
            out[t + "Model"] = mt - task
        return out

    overall = rates(gold, pred, k)
    result = {
        "overall": overall,
        "decomposition": decomposition(overall),
        "human": h,
        "coders": coders,
        "alpha": {m: alpha(list(units.values()), k, m) for m in ("nominal", "ordinal", "interval")},
        "groups": {},
    }
    if "Technique" in rows[0] and "model" in rows[0]:
        keys = sorted({(r["Technique"].strip(), r["model"].strip()) for r in kept})
        for tech, model in keys:
            mask = np.array([r["Technique"].strip() == tech and r["model"].strip() == model for r in kept])
            m = rates(gold[mask], pred[mask], k)
            result["groups"][tech + " × " + model] = {"metrics": m, "decomposition": decomposition(m)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
