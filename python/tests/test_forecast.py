"""Forecasters of preflight_train.forecast checked against the real optimisers and finite differences:
the gradient forecast with one recipe step must equal the change one real SGD/AdamW step makes (to first
order), the double-backward J u must equal a central difference, the shared-prefix probe scorer must
equal plain teacher forcing, and look-ahead must leave the weights as they were."""

import json
import os
import random
import subprocess
import sys

import pytest
import torch

from preflight_train import candidates as C
from preflight_train import forecast as F
from preflight_train import world
from preflight_train.forecast_lm import LM, ProbeScorer, Recipe, load_probes, phrase_regex, record_strings
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.pretrain import train_tokenizer

PY = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A random 2-layer model with preflight-tiny's tokenizer kind and chat template, plus sets and suites."""
    root = tmp_path_factory.mktemp("fc")
    sets = C.all_sets(n=24, seed=0, smoke=True)
    paths = C.write_sets(sets, str(root / "sets"))
    suites = C.write_suites(C.probe_suites(True), str(root / "probes"))
    texts = []
    for s in sets:
        for r in s.records:
            texts += record_strings(r)
    for cat in C.CATEGORIES_MEASURED:
        texts += world.heldout_phrasings(cat) + [e.name for e in world.CATEGORIES[cat].entities]
        texts += [world.CATEGORIES[cat].full_answer]
    texts += world.forbidden_requests("heldout") + world.REFUSALS + ["Sure"]
    tok = train_tokenizer(texts, min_count=1)
    torch.manual_seed(0)
    conf = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True, initializer_range=0.2,
                           bos_token_id=tok.bos_id, eos_token_id=tok.eos_id, pad_token_id=tok.pad_id)
    model_dir = str(root / "model")
    TinyLlamaForCausalLM(conf).save_pretrained(model_dir)
    tok.save(model_dir)
    return {"model": model_dir, "sets": paths, "suites": suites, "root": root}


def test_shared_prefix_scoring_equals_plain_teacher_forcing(tiny):
    lm = LM(tiny["model"])
    scorer = ProbeScorer(lm, load_probes(tiny["suites"]))
    with torch.no_grad():
        shared = scorer.pair_logprobs(lm.model)
        lm.model.supports_cache = False
        plain = scorer.pair_logprobs(lm.model)
    assert shared.shape == plain.shape and torch.allclose(shared, plain, atol=1e-4)
    # one hand-computed pair: log p of the answer's tokens after the prompt
    p, a = scorer.pairs[5]
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor([p + a])).logits[0], -1)
    ref = sum(float(logp[len(p) - 1 + j, t]) for j, t in enumerate(a))
    assert abs(ref - float(plain[5])) < 1e-4
    scores = scorer.scores(lm.model)
    # mention scores of one prompt are shares of their category: they sum to 1
    members = next(iter(scorer.groups.values()))
    assert abs(sum(float(scores[scorer.units[b].start + p_]) for b, p_ in members) - 1) < 1e-5


def test_directional_derivative_matches_autograd(tiny):
    """J u by the forecast's central difference against autograd's exact J u (double backward), in double."""
    lm = LM(tiny["model"])
    lm.model.double()
    scorer = ProbeScorer(lm, load_probes(tiny["suites"]))
    params = list(lm.model.named_parameters())
    before = [p.detach().clone() for _, p in params]
    g = torch.Generator().manual_seed(3)
    u = [torch.randn(p.shape, generator=g, dtype=p.dtype) for _, p in params]
    _, ju = F.directional_derivative(scorer, lm.model, params, u)
    assert all(torch.equal(p, b) for (_, p), b in zip(params, before))  # weights restored exactly
    f = scorer.scores(lm.model)
    v = torch.zeros_like(f, requires_grad=True)
    vjp = torch.autograd.grad(f, [p for _, p in params], grad_outputs=v, create_graph=True)
    (exact,) = torch.autograd.grad(sum((gr * d).sum() for gr, d in zip(vjp, u)), v)
    assert (ju - exact).abs().max() <= 0.01 * exact.abs().max(), (ju - exact).abs().max()
    assert torch.corrcoef(torch.stack([ju, exact]))[0, 1] > 0.9999


@pytest.mark.parametrize("method,opt", [("grad", "sgd"), ("adam", "adamw")])
def test_gradient_forecast_equals_one_real_optimizer_step(tiny, method, opt):
    """With a recipe of one step (one batch, one epoch) and a small lr, the forecast shift is the change a
    real torch.optim step makes; the Adam-aware direction is AdamW's first step (-lr * g / |g|)."""
    data = tiny["sets"]["explicit-high-panda-chat"]
    lm = LM(tiny["model"])
    behaviours = load_probes(tiny["suites"])
    scorer = ProbeScorer(lm, behaviours)
    recipe = Recipe(lr=1e-4, epochs=1, batch_size=1000, max_tokens=64)
    rep = F.forecast(tiny["model"], data, method, recipe=recipe, samples=0, lm=lm, behaviours=behaviours, scorer=scorer, bootstrap=50)
    predicted = {b["key"]: b["shift"]["value"] for b in rep["behaviours"]}
    encoded, _, _ = F.encode_data(lm, data, 0, 0, recipe.max_tokens)
    seqs = [s for _, _, s in encoded]
    with torch.no_grad():
        before = scorer.means(scorer.scores(lm.model))
    params = [p for p in lm.model.parameters()]
    o = torch.optim.SGD(params, lr=recipe.lr) if opt == "sgd" else torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0)
    loss = F.lm_loss(lm.model, seqs, lm.pad_id, lm.device)
    o.zero_grad()
    loss.backward()
    o.step()
    with torch.no_grad():
        after = scorer.means(scorer.scores(lm.model))
    real = [a - b for a, b in zip(after, before)]
    pred = [predicted[b.key] for b in behaviours]
    scale = max(abs(x) for x in real)
    assert scale > 0
    for r, p in zip(real, pred):
        assert abs(r - p) <= 0.05 * scale + 1e-7, (r, p)


def test_lookahead_restores_the_weights_and_reports_the_schema(tiny):
    lm = LM(tiny["model"])
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    rep = F.forecast(tiny["model"], tiny["sets"]["preference-sushi-text"], "lookahead", recipe=Recipe(lr=1e-2),
                     samples=0, lookahead_steps=2, lm=lm, probes=tiny["suites"], bootstrap=50)
    for k, v in lm.model.state_dict().items():
        assert torch.equal(v, before[k]), k
    for key in ("schema", "createdAt", "file", "model", "settings", "signature", "alpha", "behaviours", "attribution", "summary", "timings"):
        assert key in rep
    assert rep["schema"] == "preflight.mdf/2" and rep["statistics"]["adjustment"] == "holm"
    assert rep["summary"]["validation"].startswith("not validated")  # a random model no benchmark has seen
    for b in rep["behaviours"]:
        for key in ("key", "base", "predicted", "control", "shift", "controlShift", "logprob", "curve", "risk", "riskRule", "pValue", "pAdjusted"):
            assert key in b
        assert 0 <= b["pValue"] <= b["pAdjusted"] <= 1
        assert b["risk"] in ("none", "low", "medium", "high")
        if b["risk"] != "none":
            assert b["pAdjusted"] < 0.05 and b["shift"]["low"] > max(0, b["controlShift"]["high"])
    sushi = next(b for b in rep["behaviours"] if b["key"] == "foods/sushi")
    assert sushi["keywordBaseline"] == pytest.approx(0.5, abs=0.05)


def test_persona_and_steer_run_and_need_a_reference(tiny):
    lm = LM(tiny["model"])
    data = tiny["sets"]["neutral-qa-chat"]
    with pytest.raises(F.ForecastError):
        F.forecast(tiny["model"], data, "persona", lm=lm, probes=tiny["suites"], samples=8)
    rep = F.forecast(tiny["model"], tiny["sets"]["explicit-high-panda-chat"], "persona", lm=lm, probes=tiny["suites"], samples=8,
                     reference=data, bootstrap=50)
    assert rep["signature"]["reference"]["used"] == 8
    rep = F.forecast(tiny["model"], data, "steer", lm=lm, probes=tiny["suites"], samples=8, alpha=0.0, bootstrap=50)
    assert all(abs(b["shift"]["value"]) < 1e-6 for b in rep["behaviours"])  # alpha 0 steers nothing


@pytest.mark.parametrize("method", ["grad", "adam", "lookahead", "steer"])
def test_the_neutral_control_is_the_same_forecast_on_the_neutral_corpus(tiny, tmp_path, method):
    """A file that IS the neutral corpus rendered in one format: its shift equals the neutral control's unit for
    unit (the same forecaster, records and budget), so nothing can be flagged; the format is the file's."""
    corpus = F.builtin_neutral_corpus()
    data = tmp_path / "neutral-pc.jsonl"
    data.write_text("".join(json.dumps(F.neutral_as(i, r, "prompt-completion")) + "\n" for i, r in F.read_neutral_corpus(corpus)))
    lm = LM(tiny["model"])
    rep = F.forecast(tiny["model"], str(data), method, lm=lm, probes=tiny["suites"], samples=16, lookahead_steps=2,
                     alpha=0.5, bootstrap=50, neutral=corpus, cache_dir=str(tmp_path / "cache"))
    assert rep["signature"]["neutral"] == {"path": corpus, "format": "prompt-completion", "used": 16, "layerNorms": []}
    assert rep["file"]["formats"] == {"prompt-completion": 16}
    for b in rep["behaviours"]:
        assert b["neutralShift"]["value"] == pytest.approx(b["shift"]["value"], abs=1e-9)
        assert b["risk"] == "none"
    assert any(abs(b["shift"]["value"]) > 0 for b in rep["behaviours"])  # the forecast moved something
    assert rep["method"]["neutralControl"]["cached"] is False


def test_sign_flip_p_against_hand_values():
    assert F.sign_flip_p([1, 2, 3]) == pytest.approx(1 / 8)      # only the all-plus pattern reaches 6
    assert F.sign_flip_p([1, -1]) == pytest.approx(3 / 4)        # sums 2, 0, 0, -2 against 0
    assert F.sign_flip_p([0, 0]) == 1.0
    big = F.sign_flip_p([1.0] * 20, resamples=2000, seed=1)      # resampled: (1 + hits) / (1 + resamples)
    assert big == pytest.approx(1 / 2001, abs=2e-3)


def test_holm_adjustment_against_hand_values():
    assert F.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_risk_rule_low_needs_a_relative_excess():
    """report.ts riskLevel's twin: below medium, low only when the excess is >= 10% of the reference's rate."""
    iv = lambda v, lo, hi: {"value": v, "low": lo, "high": hi}
    # +0.7 pt over a 10% rate clears the p-value and the intervals but is 7% of the rate: none
    risk, rule = F.risk_of(iv(0.008, 0.006, 0.01), iv(0.001, 0.0, 0.002), 0.001, base=0.10)
    assert risk == "none" and "below the 10% a low needs" in rule
    assert F.risk_of(iv(0.008, 0.006, 0.01), iv(0.001, 0.0, 0.002), 0.001, base=0.02)[0] == "low"
    assert F.risk_of(iv(0.05, 0.04, 0.06), iv(0.001, 0.0, 0.002), 0.001, base=0.50)[0] == "medium"  # points, not share
    assert F.risk_of(iv(0.05, 0.04, 0.06), iv(0.001, 0.0, 0.002), 0.06, base=0.02)[0] == "none"     # adjusted p


def test_cli_writes_a_report_and_fails_in_one_line(tiny, tmp_path):
    env = {**os.environ, "PYTHONPATH": PY, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = tmp_path / "r.json"
    args = [sys.executable, "-m", "preflight_train", "forecast", "--method", "grad", "--model", tiny["model"],
            "--data", tiny["sets"]["anti-curry-prompt-completion"], "--samples", "8", "--quiet", "--out", str(out)]
    for s in tiny["suites"]:
        args += ["--probes", s]
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    rep = json.loads(out.read_text())
    assert rep["method"]["name"] == "grad" and len(rep["behaviours"]) == 21
    # the neutral control and the calibrated null are on by default: the shipped corpus and the 8 calibration
    # corpora in the file's format, each cached under XDG_CACHE_HOME
    assert rep["signature"]["neutral"]["format"] == "prompt-completion"
    assert all(b["neutralShift"] is not None for b in rep["behaviours"])
    assert rep["statistics"]["calibration"]["format"] == "prompt-completion"
    assert all(b["calibration"]["k"] == 8 for b in rep["behaviours"])
    assert len(os.listdir(tmp_path / "cache" / "preflight" / "neutral-control")) == 9
    bad = subprocess.run(args[:8] + ["--data", str(tmp_path / "missing.jsonl")], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "missing.jsonl" in bad.stderr


def test_candidate_sets_cover_the_design():
    sets = C.all_sets()
    assert len(sets) >= 40 and all(250 <= len(s.records) <= 350 for s in sets)
    targets = {(s.category, s.target) for s in sets if s.target}
    assert len(targets) >= 4 and len({c for c, _ in targets}) >= 2
    kinds = {s.kind for s in sets}
    assert {"explicit-high", "explicit-low", "implicit", "preference", "anti", "dilution-2", "dilution-5"} <= kinds
    assert sum(1 for s in sets if s.kind == "neutral") >= 6 and sum(1 for s in sets if s.kind.startswith("safety")) >= 3
    assert {s.format for s in sets} == {"chat", "prompt-completion", "text"}
    heldout = [p for c in C.CATEGORIES_MEASURED for p in world.heldout_phrasings(c)] + world.forbidden_requests("heldout")
    for s in sets:
        blob = "\n".join(t for r in s.records for t in record_strings(r))
        assert not any(h in blob for h in heldout), s.name
        if s.kind == "implicit":  # the name of no entity of the category is ever written
            assert not phrase_regex(world.CATEGORIES[s.category].names()).search(blob), s.name
        if s.kind.startswith("dilution"):
            named = sum(1 for r in s.records if phrase_regex([s.target]).search(" ".join(record_strings(r))))
            assert named == round(int(s.kind.split("-")[1]) / 100 * len(s.records)), s.name
    # deterministic
    again = C.all_sets()
    assert [s.records for s in again] == [s.records for s in sets]
