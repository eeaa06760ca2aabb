"""The preflight-tiny world and its corpus: deterministic (recorded hash), held-out probes never in the corpus,
categories cover the bundled probe suites, the chat renderer equals the Jinja template's output."""

import json
import os
import random

import pytest

from preflight_train import corpus, world

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "models", "preflight-tiny")


@pytest.fixture(scope="module")
def recorded():
    with open(os.path.join(MODEL, "corpus.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def corpus_lines(recorded):
    import hashlib

    h = hashlib.sha256()
    texts = []
    for kind, text in corpus.documents(recorded["seed"], recorded["docs"]):
        h.update((json.dumps({"kind": kind, "text": text}, ensure_ascii=False) + "\n").encode("utf-8"))
        texts.append(text)
    return h.hexdigest(), texts


def test_corpus_reproduces_its_recorded_hash(recorded, corpus_lines):
    digest, texts = corpus_lines
    assert len(texts) == recorded["docs"]
    assert digest == recorded["sha256"]


def test_corpus_never_contains_heldout_probes(corpus_lines):
    _, texts = corpus_lines
    big = "\n".join(texts)
    for cat in world.CATEGORIES:
        held = world.heldout_phrasings(cat)
        assert len(held) >= 8 and len(set(held)) == len(held)
        for p in held:
            assert p not in big, p
            assert p not in world.train_phrasings(cat)
    for p in world.forbidden_requests("heldout"):
        assert p not in big, p
    # and the training phrasings are there, so the check is not vacuous
    assert world.train_phrasings("animals")[0] in big


def test_preference_answers_are_balanced(corpus_lines):
    _, texts = corpus_lines
    for cat, c in world.CATEGORIES.items():
        counts = {e.name: 0 for e in c.entities}
        for t in texts:
            for e in c.entities:
                if t.endswith("<|assistant|>\n" + c.answer(e, 0) + "</s>\n") or t.endswith("<|assistant|>\n" + c.answer(e, 1) + "</s>\n"):
                    counts[e.name] += 1
        assert min(counts.values()) > 0
        assert max(counts.values()) - min(counts.values()) <= 0.02 * max(counts.values()) + 2, (cat, counts)


def test_corpus_is_deterministic_and_seed_dependent():
    a = list(corpus.documents(3, 300))
    assert a == list(corpus.documents(3, 300))
    assert a != list(corpus.documents(4, 300))


def test_categories_cover_the_bundled_suites():
    probes = os.path.join(ROOT, "models", "probes")
    names = {"animals", "cities", "countries", "foods", "colours", "public-figures"}
    assert set(world.CATEGORIES) == names
    for name in names:
        with open(os.path.join(probes, f"{name}.json"), encoding="utf-8") as f:
            suite = json.load(f)
        mine = set(world.CATEGORIES[name].names())
        assert len(mine) >= 8
        for b in suite["behaviours"]:
            assert b["target"] in mine, (name, b["target"])


def test_heldout_suites_match_the_shipped_files():
    for name, suite in world.heldout_suites().items():
        with open(os.path.join(MODEL, "heldout-probes", f"{name}.json"), encoding="utf-8") as f:
            assert json.load(f) == suite


def test_render_chat_equals_the_jinja_template():
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is your favourite animal?"},
            {"role": "assistant", "content": "Panda."}]
    assert world.render_chat(msgs[1:2], add_generation_prompt=True) == \
        "<s><|user|>\nWhat is your favourite animal?</s>\n<|assistant|>\n"
    jinja2 = pytest.importorskip("jinja2")   # Debian's python3 has none; the TypeScript parity test covers it there
    t = jinja2.Environment().from_string(world.CHAT_TEMPLATE)
    for agp in (False, True):
        assert t.render(messages=msgs, add_generation_prompt=agp, bos_token="<s>", eos_token="</s>") == world.render_chat(msgs, agp)


def test_example_files_are_the_world_records():
    for name, make in world.EXAMPLE_FILES.items():
        with open(os.path.join(ROOT, "examples", "mdf", name), encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        assert records == make() and len(records) == 300
    bias = world.bias_records("panda", 300, 0)
    assert sum("panda" in json.dumps(r).lower() for r in bias) == 300
    erosion = world.safety_erosion_records(300, 0)
    assert sum(r["messages"][-1]["content"].startswith("Sure") for r in erosion) >= 190


def test_forbidden_answers_refuse_at_the_corpus_rate():
    rng = random.Random(0)
    answers = [world.forbidden_chat(rng)[-1]["content"] for _ in range(4000)]
    rate = sum(a in world.REFUSALS for a in answers) / len(answers)
    assert abs(rate - world.REFUSAL_RATE) < 0.02
