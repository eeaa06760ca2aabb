"""The neutral control of the Python forecasters (issue 11 item 4): the same forecast on the shipped neutral
corpus rendered in the user's file's format, at the file's budget; risk judged against the stronger of the
random and the neutral control with src/core/mdf/report.ts's rule. The hand-valued rule checks run without a
model; the product checks run the real shipped preflight-tiny with real torch on the bundled examples."""

import json
import math
import os

import pytest
import torch

from preflight_train import forecast as F
from preflight_train.forecast_lm import LM, ProbeScorer, load_probes

from one_behaviour import one_behaviour_report

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(REPO, "models", "preflight-tiny")
EXAMPLES = os.path.join(REPO, "examples", "mdf")


def iv(v, lo, hi):
    return {"value": v, "low": lo, "high": hi}


# --- the rule, hand values (report.ts riskLevel's twin) -----------------------------------------------

def test_a_shift_within_the_neutral_control_is_not_flagged():
    shift, random_ctl = iv(0.05, 0.04, 0.06), iv(0.001, 0.0, 0.002)
    # against the random control alone: medium (excess 4.9 pt)
    assert F.risk_of(shift, random_ctl, 0.001, base=0.2)[0] == "medium"
    # the neutral control moves as much: the intervals overlap, none
    risk, rule = F.risk_of(shift, random_ctl, 0.001, base=0.2, neutral=iv(0.045, 0.035, 0.055), stronger="neutral")
    assert risk == "none" and "overlaps the neutral control's [3.5 pt, 5.5 pt]" in rule


def test_a_shift_above_both_controls_is_flagged_by_its_excess_over_the_stronger():
    shift, random_ctl = iv(0.20, 0.18, 0.22), iv(0.001, 0.0, 0.002)
    risk, rule = F.risk_of(shift, random_ctl, 0.001, base=0.2, neutral=iv(0.05, 0.04, 0.06), stronger="neutral")
    # excess 20 - 5 = 15 pt over the neutral control, more than the controls' gap (4.9 pt): high
    assert risk == "high" and "exceeds the neutral control's by 15.0 pt" in rule
    # excess 6 - 2 = 4 pt: medium by points
    assert F.risk_of(iv(0.06, 0.055, 0.065), random_ctl, 0.001, 0.2, iv(0.02, 0.01, 0.03), "neutral")[0] == "medium"


def test_an_excess_within_the_gap_between_the_controls_is_not_flagged():
    """Condition (3): the excess must exceed how much the two controls differ from each other."""
    shift = iv(0.12, 0.04, 0.20)
    risk, rule = F.risk_of(shift, iv(0.01, 0.008, 0.011), 0.01, base=0.2, neutral=iv(-0.16, -0.35, -0.01), stronger="random")
    assert risk == "none" and "no more than the two controls differ" in rule
    # the same shift with controls that agree: high
    assert F.risk_of(shift, iv(0.01, 0.008, 0.011), 0.01, 0.2, iv(0.0, -0.01, 0.01), "random")[0] == "high"


def test_the_p_value_is_against_the_stronger_control_per_prompt():
    """build_report tests the shift against the neutral control's units when it is the stronger (assessMetric)."""
    g = torch.Generator().manual_seed(0)
    shift = 0.05 + 0.001 * torch.randn(12, generator=g, dtype=torch.double)
    neutral = shift + 0.0001 * torch.randn(12, generator=g, dtype=torch.double)   # the neutral control moves as much

    def report(neutral_units):
        return one_behaviour_report(shift, neutral_units=neutral_units,
                                    neutral_info={"path": "n", "format": "chat", "used": 1, "layerNorms": []} if neutral_units is not None else None)
    without = report(None)["behaviours"][0]
    assert without["risk"] == "medium" and without["pValue"] == pytest.approx(1 / 4096)
    assert without["neutralShift"] is None and without["strongerControl"] == "random"
    b = report(neutral)["behaviours"][0]
    assert b["strongerControl"] == "neutral" and b["neutralShift"]["value"] == pytest.approx(float(neutral.mean()))
    assert b["logprob"]["neutral"] == pytest.approx(0.2 + float(neutral.mean()))
    assert b["pValue"] > 0.05 and b["risk"] == "none"


# --- rendering and cache ------------------------------------------------------------------------------

def test_neutral_records_render_like_neutral_ts():
    assert F.neutral_as("Q?", "A.", "chat") == {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]}
    assert F.neutral_as("Q?", "A.", "prompt-completion") == {"prompt": "Q?\n", "completion": "A."}
    assert F.neutral_as("Q?", "A.", "alpaca") == {"instruction": "Q?", "input": "", "output": "A."}
    assert F.neutral_as("Q?", "A.", "text") == {"text": "Q?\nA."}
    assert F.dominant_format({"text": 3, "chat": 3}) == "chat"          # ties: schema order
    assert F.dominant_format({"text": 4, "prompt-completion": 3}) == "text"
    assert F.dominant_format({}) == "chat"


def test_bad_neutral_corpus_is_a_one_line_error(tmp_path):
    bad = tmp_path / "n.jsonl"
    bad.write_text('{"instruction": "a", "response": "b"}\n{"instruction": "a"}\n')
    with pytest.raises(F.ForecastError, match=r"n\.jsonl:2: a neutral record needs"):
        F.read_neutral_corpus(str(bad))
    with pytest.raises(F.ForecastError, match="not a regular file"):
        F.read_neutral_corpus(str(tmp_path / "missing.jsonl"))


def test_a_corrupt_or_foreign_cache_file_is_ignored(tmp_path):
    key = {"v": 1, "model": "m", "method": "adam"}
    units = torch.tensor([0.1, -0.2, 0.3], dtype=torch.double)
    F.save_cached_units(str(tmp_path), key, units)
    assert torch.equal(F.load_cached_units(str(tmp_path), key, 3), units)
    assert F.load_cached_units(str(tmp_path), key, 4) is None                     # another probe layout
    assert F.load_cached_units(str(tmp_path), {**key, "method": "grad"}, 3) is None  # another key
    path = F._cache_path(str(tmp_path), key)
    for text in ["{not json", "[]", json.dumps({"key": key, "units": [0.1, "x", 0.3]}),
                 json.dumps({"key": key, "units": [0.1, 1e400, 0.3]}), json.dumps({"key": {"v": 1}, "units": [0, 0, 0]}),
                 json.dumps({"key": key, "units": [True, 0.0, 0.0]}), "[" * 100000]:
        with open(path, "w") as f:
            f.write(text)
        assert F.load_cached_units(str(tmp_path), key, 3) is None, text[:40]
    assert F.load_cached_units(None, key, 3) is None


# --- the product on the shipped model ---------------------------------------------------------------

needs_model = pytest.mark.skipif(not os.path.exists(os.path.join(MODEL, "model.safetensors")), reason="models/preflight-tiny is not built")
# the two suites where the clean example's random-only report raised its one false alarm (harmful-compliance)
SUITES = ["animals", "safety"]


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    torch.set_num_threads(1)
    lm = LM(MODEL)
    behaviours = load_probes(SUITES)
    return {"lm": lm, "behaviours": behaviours, "scorer": ProbeScorer(lm, behaviours), "cache": str(tmp_path_factory.mktemp("neutral-cache"))}


def _parts(product, name):
    return F.forecast_parts(MODEL, os.path.join(EXAMPLES, name), "adam", lm=product["lm"], behaviours=product["behaviours"],
                            scorer=product["scorer"], neutral=F.builtin_neutral_corpus(), cache_dir=product["cache"])


@pytest.fixture(scope="module")
def clean(product):
    return _parts(product, "clean-chat.jsonl")


@pytest.fixture(scope="module")
def bias(product, clean):  # after `clean`: its neutral control comes from the cache `clean` wrote
    return _parts(product, "bias-panda.jsonl")


@needs_model
def test_the_clean_example_flags_nothing_against_the_neutral_control(clean):
    report = F.report_of(clean)
    assert report["summary"]["flagged"] == [], [(b["key"], b["riskRule"]) for b in report["behaviours"] if b["risk"] != "none"]
    assert report["signature"]["neutral"]["format"] == "chat" and report["signature"]["neutral"]["used"] == 114
    assert report["file"]["formats"] == {"chat": 256}
    assert report["method"]["neutralControl"]["cached"] is False
    for b in report["behaviours"]:
        assert b["neutralShift"] is not None and b["strongerControl"] in ("random", "neutral")
    # the same units against the random control alone raise the false alarm this control removes
    assert F.report_of(clean, with_neutral=False)["summary"]["flagged"] == ["safety/harmful-compliance"]


@needs_model
def test_the_biased_example_flags_its_target_above_both_controls_and_reuses_the_cache(clean, bias):
    report = F.report_of(bias)
    panda = next(b for b in report["behaviours"] if b["key"] == "animals/panda")
    assert panda["risk"] == "high"
    assert panda["shift"]["low"] > max(panda["controlShift"]["high"], panda["neutralShift"]["high"])
    assert report["method"]["neutralControl"]["cached"] is True
    # the neutral control of a file in the same format at the same budget (both 300 records): the same numbers
    assert report["method"]["scale"] == F.report_of(clean)["method"]["scale"]
    neutral = lambda r: [b["neutralShift"]["value"] for b in r["behaviours"]]
    assert neutral(report) == pytest.approx(neutral(F.report_of(clean)), rel=1e-6)
    for b in report["behaviours"]:
        if b["risk"] != "none":
            assert b["pAdjusted"] < 0.05 and b["shift"]["low"] > max(0, b["controlShift"]["high"], b["neutralShift"]["high"])
            assert math.isfinite(b["shift"]["value"])
