"""Constrained beam search and ranking metrics. References: exhaustive scoring of every catalogue title
(beam search with B >= catalogue size prunes nothing, DESIGN.md section 6) and hand-computed HR/NDCG
(NDCG@K with one relevant item = 1/log2(rank+1))."""

import math

import pytest
import torch

from preflight_train.data import prompt_text
from preflight_train.evaluate import beam_search, rank_metrics, sequence_logprobs
from preflight_train.model import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.synth import make_catalogue
from preflight_train.tokenizer import WordTokenizer
from preflight_train.trie import TitleTrie


@pytest.fixture(scope="module")
def setup():
    titles = [t for g in make_catalogue(3, 5) for t in g] + ["Crimson Harbor Returns", "Silent"]
    tok = WordTokenizer.build([prompt_text(["x"]), '"x"'] + titles)
    torch.manual_seed(0)
    cfg = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, initializer_range=0.5)
    model = TinyLlamaForCausalLM(cfg).eval()
    trie = TitleTrie.from_titles(titles, tok)
    prompts = [tok.encode(prompt_text(titles[i:i + 3])) for i in range(4)]
    return titles, tok, model, trie, prompts


def test_beam_returns_only_catalogue_titles(setup):
    titles, tok, model, trie, prompts = setup
    for beam in (1, 3, 5):
        for res in beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id):
            items = [i for i, _ in res]
            assert len(items) == beam and len(set(items)) == beam
            assert all(0 <= i < len(titles) for i in items)
            scores = [s for _, s in res]
            assert scores == sorted(scores, reverse=True)


def test_beam_equals_exhaustive_when_beam_covers_catalogue(setup):
    titles, tok, model, trie, prompts = setup
    results = beam_search(model, prompts, trie, beam=len(titles), pad_id=tok.pad_id)
    for prompt, res in zip(prompts, results):
        exhaustive = sequence_logprobs(model, prompt, trie, pad_id=tok.pad_id)
        order = sorted(range(len(titles)), key=lambda i: -exhaustive[i])
        assert [i for i, _ in res] == order
        for i, s in res:
            assert abs(s - exhaustive[i]) < 1e-4
        # the masked step distributions are normalised: the title probabilities sum to one
        assert abs(sum(math.exp(s) for s in exhaustive) - 1) < 1e-4


def test_trie_allows_only_title_continuations(setup):
    titles, tok, model, trie, prompts = setup
    seq = trie.sequences[titles.index("Crimson Harbor")]
    after_word = trie.allowed(seq[:3])  # '"', 'Crimson', 'Harbor' -> closing quote or 'Returns'
    assert sorted(after_word) == sorted([tok.encode('"')[0], tok.encode("Returns")[0]])
    assert trie.allowed(seq[:-1]) == [tok.eos_id]
    assert trie.item_at(trie.node(seq)) == titles.index("Crimson Harbor")


def test_rank_metrics_hand_made():
    ranked = [[3, 1, 2], [1, 2, 3], [2, 3, 4], [9, 8, 7]]
    targets = [3, 2, 4, 1]
    m = rank_metrics(ranked, targets, ks=(1, 2, 3))
    # ranks: 1, 2, 3, missing
    assert m["hr@1"] == pytest.approx(1 / 4)
    assert m["hr@2"] == pytest.approx(2 / 4)
    assert m["hr@3"] == pytest.approx(3 / 4)
    assert m["ndcg@1"] == pytest.approx(1 / 4)
    assert m["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 4)
    assert m["ndcg@3"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(4)) / 4)


def test_pruning_audit_counts_only_top_b_targets(setup):
    from preflight_train.data import Encoded
    from preflight_train.evaluate import pruning_audit

    titles, tok, model, trie, prompts = setup
    enc = [Encoded(p, trie.sequences[i], trie.allowed_along(trie.sequences[i]), i) for i, p in enumerate(prompts)]
    full = pruning_audit(model, enc, trie, beam=len(titles), pad_id=tok.pad_id)
    assert full["target_in_top_b"] == 1.0 and full["pruned_given_top_b"] == 0.0 and full["found_by_beam"] == 1.0
    small = pruning_audit(model, enc, trie, beam=2, pad_id=tok.pad_id)
    assert 0.0 <= small["pruned_given_top_b"] <= 1.0 and small["found_by_beam"] <= 1.0


def test_cached_and_recomputed_beam_search_agree(setup):
    titles, tok, model, trie, prompts = setup
    for beam in (1, 4, len(titles)):
        a = beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id, use_cache=True, max_batch=8)
        b = beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id, use_cache=False)
        assert [[i for i, _ in r] for r in a] == [[i for i, _ in r] for r in b]
        for ra, rb in zip(a, b):
            for (_, sa), (_, sb) in zip(ra, rb):
                assert abs(sa - sb) < 1e-4
