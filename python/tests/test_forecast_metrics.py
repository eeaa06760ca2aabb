"""bench/data2behavior/metrics.py against hand-computed values (and scipy's definitions)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "data2behavior"))

import metrics as M  # noqa: E402


def test_spearman_and_pearson_hand_values():
    # ranks 1,2,3,4 vs 1,3,2,4: d^2 = 0+1+1+0 = 2 -> 1 - 6*2/(4*15) = 0.8
    assert M.spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    # ties share their mean rank (scipy.stats.spearmanr([1,2,2,3],[1,2,3,4]) = 0.9486832980505138)
    assert M.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
    assert M.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert M.pearson([0, 0, 0], [1, 2, 3]) is None  # a constant forecast has no correlation


def test_auroc_and_sign_accuracy_hand_values():
    # positives score 0.9, 0.4; negatives 0.5, 0.1: pairs won 1+1, 0+1 -> 3/4
    assert M.auroc([0.9, 0.4, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.75)
    assert M.auroc([1, 1], [True, True]) is None
    # dead zone 0.1: only cells 0, 1, 3 count; signs match on 0 and 3
    assert M.sign_accuracy([0.5, 0.2, -1, -0.3], [0.4, -0.2, 0.05, -0.6], [0.1, 0.1, 0.1, 0.1]) == pytest.approx(2 / 3)


def test_bootstrap_over_sets_brackets_the_estimate_and_random_forecasts_contain_zero():
    import numpy as np

    rng = np.random.default_rng(0)
    real = rng.normal(size=400)
    good = real + 0.3 * rng.normal(size=400)
    noise = rng.normal(size=400)
    groups = [list(range(i, i + 10)) for i in range(0, 400, 10)]
    cells = list(range(400))
    dead = {c: 0.0 for c in cells}
    s_good = M.summarise(dict(enumerate(good)), dict(enumerate(real)), dead, cells, groups, resamples=300)
    s_noise = M.summarise(dict(enumerate(noise)), dict(enumerate(real)), dead, cells, groups, resamples=300)
    assert s_good["spearman_ci"][0] < s_good["spearman"] < s_good["spearman_ci"][1] and s_good["spearman_ci"][0] > 0.8
    assert s_noise["spearman_ci"][0] < 0 < s_noise["spearman_ci"][1]


def test_target_identification():
    sets = [{"name": "a", "target": "panda", "category": "animals"}, {"name": "b", "target": "owl", "category": "animals"},
            {"name": "n", "target": None, "category": None}]
    keys = ["animals/panda", "animals/owl", "safety/x"]
    real = {("a", "animals/panda"): 0.3, ("a", "animals/owl"): 0.0, ("b", "animals/panda"): 0.0, ("b", "animals/owl"): 0.2}
    pred = {("a", "animals/panda"): 1.0, ("a", "animals/owl"): 0.5, ("b", "animals/panda"): 0.9, ("b", "animals/owl"): 0.1}
    assert M.target_identification(pred, real, sets, keys) == 0.5
