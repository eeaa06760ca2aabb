"""The calibrated null of the Python forecasters (issue 11, docs/data2behavior.md section 6): a behaviour's shift is
compared with the same forecaster's shifts on K neutral calibration corpora (models/neutral/calibration) by a
prediction-interval t test, Holm across the report. Arithmetic against published t-table values and closed forms;
the rule on simulated nulls; the product on the shipped preflight-tiny with real torch."""

import json
import math
import os
import random

import pytest
import torch

from preflight_train import forecast as F
from preflight_train.forecast_lm import LM, ProbeScorer, load_probes, phrase_regex

from one_behaviour import one_behaviour_report

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(REPO, "models", "preflight-tiny")
EXAMPLES = os.path.join(REPO, "examples", "mdf")
CALIBRATION = os.path.join(REPO, "models", "neutral", "calibration")


# --- arithmetic ------------------------------------------------------------------------------------

# one-sided upper-tail critical values of Student's t (any published table, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2)
T_TABLE = [(7, 1.895, 0.05), (7, 2.365, 0.025), (7, 2.998, 0.01), (7, 3.499, 0.005), (8, 1.860, 0.05), (8, 3.355, 0.005),
           (10, 2.228, 0.025), (30, 1.697, 0.05), (1, 6.314, 0.05), (2, 2.920, 0.05)]


@pytest.mark.parametrize("df,t,p", T_TABLE)
def test_t_tail_matches_the_published_table(df, t, p):
    assert F.t_sf(t, df) == pytest.approx(p, abs=1.5e-4)        # the table's 3 decimals
    assert F.t_sf(-t, df) == pytest.approx(1 - p, abs=1.5e-4)   # symmetry


def test_t_tail_closed_forms():
    for t in (0.1, 0.7, 1.0, 2.5, 10.0):
        assert F.t_sf(t, 1) == pytest.approx(0.5 - math.atan(t) / math.pi, rel=1e-10)            # Cauchy
        assert F.t_sf(t, 2) == pytest.approx(0.5 - t / (2 * math.sqrt(2 + t * t)), rel=1e-10)    # df 2
    assert F.t_sf(0.0, 7) == 0.5
    assert F.t_sf(math.inf, 7) == 0.0 and F.t_sf(-math.inf, 7) == 1.0 and F.t_sf(math.nan, 7) == 1.0


def test_calibrated_p_hand_fixture():
    """K = 8 shifts 1..8 points: mean 4.5, sd sqrt(42/7)=sqrt(6) points, prediction scale sd x sqrt(9/8). A shift
    1.895 scales above the mean is the table's 5% point of t with 7 df."""
    cal = [0.01 * i for i in range(1, 9)]
    scale = math.sqrt(0.0006) * math.sqrt(9 / 8)
    got = F.calibrated_p(0.045 + 1.895 * scale, cal)
    assert got["k"] == 8 and got["df"] == 7
    assert got["mean"] == pytest.approx(0.045) and got["sd"] == pytest.approx(math.sqrt(0.0006))
    assert got["t"] == pytest.approx(1.895) and got["p"] == pytest.approx(0.05, abs=1.5e-4)
    assert F.calibrated_p(0.045, cal)["p"] == pytest.approx(0.5)
    # every corpus moved the probe identically: only a larger shift lies outside
    assert F.calibrated_p(0.02, [0.01] * 4)["p"] == 0.0 and F.calibrated_p(0.01, [0.01] * 4)["p"] == 1.0


def test_holm_hand_values():
    # sorted 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> kept monotone 0.06
    assert F.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert F.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def _null_world(rng, behaviours=37, prompts=12, k=8, corpus_sd=0.04, prompt_sd=0.01):
    """A forecaster whose shift on unrelated data has a corpus-level offset per behaviour (systematic across the
    behaviour's prompts, the measured failure of the paired test) plus per-prompt noise."""
    def behaviour():
        offset = rng.gauss(0.0, corpus_sd)
        return [offset + rng.gauss(0.0, prompt_sd) for _ in range(prompts)]

    def corpus():
        return [behaviour() for _ in range(behaviours)]
    return corpus(), [corpus() for _ in range(k)], corpus()


def test_a_file_exchangeable_with_the_calibration_corpora_is_rarely_flagged_and_a_biased_one_is():
    """Family-wise: Holm over 37 behaviours of exactly calibrated p-values; the paired test against one neutral
    corpus (the rule before) fires on almost every such report."""
    rng = random.Random(1)
    runs, calibrated_any, paired_any, biased_hits, paired_runs = 400, 0, 0, 0, 20
    for _ in range(runs):
        file, cals, neutral = _null_world(rng)
        means = lambda c: [sum(u) / len(u) for u in c]
        cal_means = list(zip(*[means(c) for c in cals]))
        p = [F.calibrated_p(s, list(cm))["p"] for s, cm in zip(means(file), cal_means)]
        calibrated_any += min(F.holm(p)) < F.SIGNIFICANCE
        if paired_runs > 0:  # the exact sign-flip test is slow: a few reports show it
            paired_runs -= 1
            paired = [F.sign_flip_p([a - b for a, b in zip(f, n)]) for f, n in zip(file, neutral)]
            paired_any += min(F.holm(paired)) < F.SIGNIFICANCE
        biased = means(file)
        biased[0] += 0.25  # one behaviour raised by 25 points, about 6 corpus s.d.
        biased_hits += F.holm([F.calibrated_p(s, list(cm))["p"] for s, cm in zip(biased, cal_means)])[0] < F.SIGNIFICANCE
    assert calibrated_any / runs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)
    assert paired_any >= 15
    assert biased_hits / runs > 0.8


def _fake_report(shift_units, calibration_units, control_units=None):
    return one_behaviour_report(shift_units, control_units, {"recipe": {"max_tokens": 128}, "calibration": {"corpora": ["a"]}},
                                calibration_units=calibration_units)["behaviours"][0]


def test_build_report_uses_the_calibrated_p_and_keeps_the_interval_rule():
    g = torch.Generator().manual_seed(0)
    noise = lambda: 0.002 * torch.randn(14, generator=g, dtype=torch.double)
    cal = [torch.full((14,), 0.01 * i, dtype=torch.double) + noise() for i in range(1, 9)]   # corpora move it 1..8 pt
    # 6 points: the paired test against zero is tiny, but it lies within what unrelated corpora do
    b = _fake_report(0.06 + noise(), cal)
    assert b["pairedPValue"] < 1e-3 and b["calibration"]["k"] == 8 and b["calibration"]["df"] == 7
    assert b["pValue"] == pytest.approx(F.t_sf(b["calibration"]["t"], 7)) and b["pValue"] > 0.2 and b["risk"] == "none"
    # 30 points: outside the calibration's prediction interval (t about 10) and above the controls: high
    b = _fake_report(0.30 + noise(), cal)
    assert b["pAdjusted"] < 0.01 and b["risk"] == "high"
    # a calibrated p alone is not enough: the interval must clear the random control's
    wide = _fake_report(0.30 + noise(), cal, control_units=torch.full((14,), 0.31, dtype=torch.double) + noise())
    assert wide["pAdjusted"] < 0.01 and wide["risk"] == "none" and "overlaps the random control" in wide["riskRule"]
    # fewer than MIN_CALIBRATION corpora: the paired test, as before
    assert _fake_report(0.06 + noise(), cal[:2])["pValue"] == _fake_report(0.06 + noise(), None)["pValue"]


# --- the shipped corpora -------------------------------------------------------------------------------

def _corpus_texts():
    out = {}
    for path in F.builtin_calibration_corpora():
        out[os.path.basename(path)] = [f"{i}\n{r}" for i, r in F.read_neutral_corpus(path)]
    return out


def test_the_shipped_calibration_corpora():
    corpora = _corpus_texts()
    assert len(corpora) >= 8, sorted(corpora)
    assert all(60 <= len(texts) <= 120 for texts in corpora.values()), {k: len(v) for k, v in corpora.items()}
    every = [t for texts in corpora.values() for t in texts]
    assert len(set(every)) == len(every)                                   # no record twice, within or across corpora
    # and none is a record of the neutral control's corpus: K + 1 separate draws of unrelated data
    asked = {t.split("\n")[0] for t in every}
    assert F.builtin_neutral_corpus() and not asked & {i for i, _ in F.read_neutral_corpus(F.builtin_neutral_corpus())}


def test_no_calibration_corpus_names_a_bundled_probe_target():
    """The corpora must be neutral for every bundled behaviour: none names a target or alias (the report's own
    word-boundary matcher), and none asks a probe prompt."""
    behaviours = load_probes([])
    for name, texts in _corpus_texts().items():
        text = "\n".join(texts)
        for b in behaviours:
            if b.kind == "mention":
                found = phrase_regex([b.target] + b.aliases).findall(text)
                assert not found, f"{name} names {b.key}: {found[:3]}"
            for prompt in b.prompts:
                assert prompt not in text, f"{name} asks the probe prompt {prompt!r}"


needs_model = pytest.mark.skipif(not os.path.exists(os.path.join(MODEL, "model.safetensors")), reason="models/preflight-tiny is not built")


@needs_model
def test_the_corpora_are_written_in_words_the_shipped_tokenizer_knows():
    """[UNK] share of the tokens under preflight-tiny's tokenizer (WordPiece, vocabulary 910): below 0.2%."""
    from preflight_train.tokenizer import load_tokenizer
    tok = load_tokenizer(MODEL)
    unk = tok.vocab["[UNK]"]
    ids = [i for texts in _corpus_texts().values() for t in texts for i in tok.encode(t)]
    assert sum(i == unk for i in ids) / len(ids) < 0.002


# --- the product on the shipped model ---------------------------------------------------------------

@pytest.fixture(scope="module")
def product(tmp_path_factory):
    torch.set_num_threads(1)
    lm = LM(MODEL)
    behaviours = load_probes(["animals", "safety"])
    return {"lm": lm, "behaviours": behaviours, "scorer": ProbeScorer(lm, behaviours), "cache": str(tmp_path_factory.mktemp("cache")),
            "tmp": tmp_path_factory.mktemp("files")}


def _parts(product, path, calibration):
    return F.forecast_parts(MODEL, path, "adam", lm=product["lm"], behaviours=product["behaviours"], scorer=product["scorer"],
                            neutral=F.builtin_neutral_corpus(), cache_dir=product["cache"], calibration=calibration)


@needs_model
def test_the_product_with_the_calibrated_null(product):
    corpora = F.builtin_calibration_corpora()
    clean = F.report_of(_parts(product, os.path.join(EXAMPLES, "clean-chat.jsonl"), corpora))
    assert clean["statistics"]["test"] == F.CALIBRATED_TEST and clean["statistics"]["calibration"]["format"] == "chat"
    assert clean["statistics"]["calibration"]["corpora"] == [os.path.basename(c) for c in corpora]
    assert clean["method"]["calibration"]["cached"] == 0
    assert clean["summary"]["flagged"] == [], [(b["key"], b["riskRule"]) for b in clean["behaviours"] if b["risk"] != "none"]
    for b in clean["behaviours"]:
        assert b["calibration"]["k"] == len(corpora) and b["pValue"] == pytest.approx(F.t_sf(b["calibration"]["t"], len(corpora) - 1))
    bias_parts = _parts(product, os.path.join(EXAMPLES, "bias-panda.jsonl"), corpora)
    assert bias_parts["info"]["calibration"]["cached"] == len(corpora)      # same format: reused
    bias = F.report_of(bias_parts)
    panda = next(b for b in bias["behaviours"] if b["key"] == "animals/panda")
    assert panda["risk"] in ("medium", "high") and panda["pAdjusted"] < 0.05, panda["riskRule"]
    for b in bias["behaviours"]:
        if b["risk"] != "none":   # every flag satisfies the adjusted-p and interval rule
            assert b["pAdjusted"] < 0.05 and b["shift"]["low"] > max(0, b["controlShift"]["high"], b["neutralShift"]["high"])
    # leave one out: a calibration corpus as the user's file, judged against the other K-1, is not flagged
    held = corpora[0]
    path = os.path.join(str(product["tmp"]), "held.jsonl")
    with open(path, "w") as f:
        for i, r in F.read_neutral_corpus(held):
            f.write(json.dumps(F.neutral_as(i, r, "chat")) + "\n")
    held_report = F.report_of(_parts(product, path, corpora[1:]))
    assert held_report["summary"]["flagged"] == [], [(b["key"], b["riskRule"]) for b in held_report["behaviours"] if b["risk"] != "none"]


@needs_model
def test_the_shipped_control_cache_is_what_the_forecaster_computes(tmp_path):
    """models/neutral/cache (bench/data2behavior/shipControlCache.py): the bundled model's control values, keyed by
    its content hash; one entry recomputed from scratch must match, and a forecast with an empty cache folder
    reads it (the first forecast on preflight-tiny does not pay for the 1 + K corpus forecasts)."""
    torch.set_num_threads(1)
    lm = LM(MODEL)
    behaviours = load_probes([])
    scorer = ProbeScorer(lm, behaviours)
    corpus = os.path.join(CALIBRATION, "smalltalk.jsonl")
    fresh = F.calibration_units_of(lm, scorer, behaviours, "adam", "chat", [corpus], cache_dir=None)[0]
    shipped = F.calibration_units_of(lm, scorer, behaviours, "adam", "chat", [corpus], cache_dir=str(tmp_path))[0]
    assert len(os.listdir(tmp_path)) == 0                    # read from the shipped folder, nothing recomputed or written
    # J u is a finite difference of float32 scores: OpenBLAS's thread count (OMP_NUM_THREADS, not torch.set_num_threads)
    # changes its rounding, measured up to 7e-5 of the vector's largest value (1e-3 of small entries); another model,
    # corpus or format differs by the order of the values themselves
    scale = float(fresh.abs().max())
    assert torch.allclose(shipped, fresh, rtol=1e-2, atol=1e-3 * scale), float((shipped - fresh).abs().max())
    # a model with other weights (another content hash) never matches the shipped keys
    with torch.no_grad():
        base = scorer.scores(lm.model)
    other, extra = F.corpus_forecaster(lm, scorer, "adam", base, F.Recipe(), "all", 0, 8)
    key = {**F.control_key(lm, "adam", F.Recipe(), "chat", 256, 0, behaviours, "all", extra), "neutral": F._sha256(corpus)}
    assert F.load_cached_units(F.shipped_cache_dir(), F.shipped_model_key(key, MODEL), int(base.numel())) is not None
    assert F.load_cached_units(F.shipped_cache_dir(), {**F.shipped_model_key(key, MODEL), "model": "sha256-16:0"}, int(base.numel())) is None
