"""bench/data2behavior reruns: which rows a cached set still needs, the layer-band rows, and compare.py."""

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(REPO, "bench", "data2behavior")
sys.path.insert(0, BENCH)

import run as R  # noqa: E402


def _model(tmp_path, layers):
    d = tmp_path / f"m{layers}"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"num_hidden_layers": layers}))
    return str(d)


def _args(model, skip=(), smoke=False, no_mdf=False):
    return argparse.Namespace(model=model, skip=list(skip), smoke=smoke, no_mdf=no_mdf)


def test_band_rows_split_the_layers_in_halves(tmp_path):
    rows = dict(R.mdf_ts_rows(_model(tmp_path, 4), "ref.jsonl"))
    assert rows["mdf"] == [] and rows["mdf-contrastive"] == ["--reference", "ref.jsonl"]
    assert rows["mdf-band-early"] == ["--band", "0-1"] and rows["mdf-band-late"] == ["--band", "2-3"]
    rows = dict(R.mdf_ts_rows(_model(tmp_path, 5), "ref.jsonl"))
    assert rows["mdf-band-early"] == ["--band", "0-1"] and rows["mdf-band-late"] == ["--band", "2-4"]
    assert "mdf-band-early" not in dict(R.mdf_ts_rows(_model(tmp_path, 1), "ref.jsonl"))  # one layer: no band to split


def test_a_cached_set_recomputes_only_the_rows_it_lacks(tmp_path):
    model = _model(tmp_path, 4)
    full = R.wanted_rows(_args(model), "ref")
    assert {"gradient", "random-control", "keyword", "gradient-adam", "lookahead", "mdf", "mdf-band-early", "mdf-band-late"} <= set(full)
    done = {r: {"seconds": 1.0, "shift": {"animals/panda": 0.1}} for r in full}
    assert R.missing_rows({"forecasts": done}, _args(model), "ref") == []
    partial = {k: v for k, v in done.items() if k not in ("mdf-band-early", "lookahead")}
    partial["mdf"] = {"error": "mdf failed (2): ..."}  # a row that failed is computed again
    assert R.missing_rows({"forecasts": partial}, _args(model), "ref") == ["lookahead", "mdf", "mdf-band-early"]
    # --skip and --smoke leave rows out, --no-mdf every TypeScript row; gradient, random control and keyword always run
    assert R.missing_rows({"forecasts": partial}, _args(model, skip=["lookahead"]), "ref") == ["mdf", "mdf-band-early"]
    assert R.missing_rows({"forecasts": partial}, _args(model, smoke=True), "ref") == ["lookahead", "mdf"]
    assert R.missing_rows({"forecasts": partial}, _args(model, no_mdf=True), "ref") == ["lookahead"]
    assert R.missing_rows({"forecasts": {}}, _args(model, skip=["gradient"]), "ref")[:3] == ["gradient", "random-control", "keyword"]


def _cell(folder, name, truth, forecasts):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"name": name, "truth": truth, "forecasts": forecasts}))


def test_compare_reports_the_largest_differences(tmp_path):
    t = [{"seed": 0, "shift": {"a": 0.10, "b": -0.02}, "rate_shift": {"a": 0.25, "b": 0.0}}]
    t2 = [{"seed": 0, "shift": {"a": 0.13, "b": -0.02}, "rate_shift": {"a": 0.25, "b": 0.0}}]
    _cell(tmp_path / "A", "s1", t, {"mdf": {"shift": {"a": 0.5, "b": 0.25}}, "keyword": {"shift": {"a": 0.5}}})
    _cell(tmp_path / "B", "s1", t2, {"mdf": {"shift": {"a": 0.5, "b": 0.0}}, "keyword": {"error": "x"}})
    _cell(tmp_path / "B", "s2", t, {})
    (tmp_path / "A" / "base.json").write_text("{}")
    out = subprocess.run([sys.executable, os.path.join(BENCH, "compare.py"), "--cells", str(tmp_path / "A"), str(tmp_path / "B")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "1 sets in common"
    assert "truth shift (exact score): max |diff| 3.000e-02" in out
    assert "truth shift (sampled rate): max |diff| 0.000e+00" in out
    assert "forecast mdf: max |diff| 2.500e-01" in out and not any("keyword" in line for line in out)

    row = {"name": "mdf", "spearman": 0.2, "spearman_ci": [0.1, 0.3], "pearson": 0.1, "sign_accuracy": 0.5, "auroc": 0.6,
           "target_identification": 0.25, "keyword_invisible": {"spearman": 0.0, "spearman_ci": [-0.1, 0.1]}}
    a = {"sets": 40, "ceiling": {"spearman": 0.9}, "forecasters": [row]}
    b = {"sets": 40, "ceiling": {"spearman": 0.9}, "forecasters": [{**row, "spearman": 0.35, "auroc": 0.5},
                                                                    {**row, "name": "mdf-band-late"}]}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    out = subprocess.run([sys.executable, os.path.join(BENCH, "compare.py"), str(tmp_path / "a.json"), str(tmp_path / "b.json")],
                         capture_output=True, text=True, check=True).stdout
    assert "mdf: rho 0.2000 vs 0.3500; max |diff| 1.50e-01 (spearman); B's rho inside A's interval: NO" in out
    assert "rows only in B: mdf-band-late" in out
    bad = subprocess.run([sys.executable, os.path.join(BENCH, "compare.py"), str(tmp_path / "nope.json"), str(tmp_path / "b.json")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("compare.py: ")
