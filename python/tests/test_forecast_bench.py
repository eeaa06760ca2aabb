"""The Data2Behavior smoke run (bench/data2behavior/run.py --smoke: 8 sets, 1 seed, 120 records) on the
shipped default model: real fine-tunes, every forecaster, the metrics, the results schema."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(REPO, "models", "preflight-tiny")


@pytest.mark.skipif(not os.path.exists(os.path.join(MODEL, "model.safetensors")), reason="models/preflight-tiny is not built")
def test_smoke_benchmark(tmp_path):
    out = tmp_path / "results.json"
    cmd = [sys.executable, os.path.join(REPO, "bench", "data2behavior", "run.py"), "--smoke", "--jobs", "2",
           "--work", str(tmp_path / "work"), "--out", str(out), "--resamples", "200"]
    with_mdf = shutil.which("node") is not None and os.path.exists(os.path.join(REPO, "dist", "cli.js"))
    if not with_mdf:
        cmd.append("--no-mdf")
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=1200)
    print(f"smoke benchmark: {time.time() - t0:.0f} s")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["sets"] == 8 and res["seeds"] == 1 and res["cells"] == 8 * 21 and res["complete"] is True
    rows = {f["name"]: f for f in res["forecasters"]}
    expected = {"gradient", "gradient-adam", "lookahead", "keyword", "random-control"} | ({"mdf", "mdf-oracle-alpha"} if with_mdf else set())
    assert expected <= set(rows)
    for f in res["forecasters"]:
        for key in ("spearman", "spearman_ci", "pearson", "sign_accuracy", "auroc", "cost_ratio", "keyword_invisible"):
            assert key in f, (f["name"], key)
        assert f["spearman"] is None or -1 <= f["spearman"] <= 1
    assert rows["gradient"]["cost_ratio"] > 0 and rows["keyword"]["keyword_invisible"]["cells"] == 4 * 21
    # the fine-tune really moves the model: a set naming the panda in half its records raises the panda most, by
    # more than 1 point (the full run's pooled seed-to-seed standard deviation is 0.45 points; with the recipe's
    # gentle learning rate, 120 records raise it by about 2.6 points)
    cells = json.loads(open(next((tmp_path / "work").glob("cells/*/explicit-high-panda-chat.json"))).read())
    shift = cells["truth"][0]["shift"]
    animals = {k: v for k, v in shift.items() if k.startswith("animals/")}
    assert max(animals, key=animals.get) == "animals/panda" and animals["animals/panda"] > 0.01
