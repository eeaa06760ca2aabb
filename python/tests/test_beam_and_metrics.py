"""Constrained beam search and ranking metrics. References: a transcription of Hugging Face's beam search
(transformers 4.49 `_beam_search` + BeamSearchScorer.process/finalize + BeamHypotheses, the version the
BEAR authors pin) written here with tensors over all B beams, ghost beams at -1e9 included; exhaustive
scoring of every catalogue title (beam search with B >= catalogue size prunes nothing, docs/bear.md §7);
hand-computed HR/NDCG (NDCG@K with one relevant item = 1/log2(rank+1))."""

import math

import pytest
import torch

from preflight_train.data import prompt_text
from preflight_train.evaluate import (beam_search, rank_metrics, sequence_logprobs, sequence_logprobs_cached,
                                      target_in_top)
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.synth import make_catalogue
from preflight_train.tokenizer import WordTokenizer
from preflight_train.trie import TitleTrie


def _tiny_setup(titles, prompt_starts):
    """A seeded random tiny model over `titles`, their trie, and prompts of three titles from each start."""
    tok = WordTokenizer.build([prompt_text(["x"]), '"x"'] + titles)
    torch.manual_seed(0)
    cfg = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, initializer_range=0.5)
    model = TinyLlamaForCausalLM(cfg).eval()
    trie = TitleTrie.from_titles(titles, tok)
    prompts = [tok.encode(prompt_text(titles[i:i + 3])) for i in prompt_starts]
    return titles, tok, model, trie, prompts


@pytest.fixture(scope="module")
def setup():
    titles = [t for g in make_catalogue(3, 5) for t in g] + ["Crimson Harbor Returns", "Silent"]
    return _tiny_setup(titles, range(4))


class HFBeamHypotheses:
    """transformers' BeamHypotheses, early_stopping=False."""

    def __init__(self, num_beams, length_penalty):
        self.num_beams, self.length_penalty = num_beams, length_penalty
        self.beams = []
        self.worst_score = 1e9

    def __len__(self):
        return len(self.beams)

    def add(self, hyp, sum_logprobs, generated_len):
        score = sum_logprobs / (generated_len ** self.length_penalty)
        if len(self) < self.num_beams or score > self.worst_score:
            self.beams.append((score, hyp))
            if len(self) > self.num_beams:
                sorted_next_scores = sorted([(s, idx) for idx, (s, _) in enumerate(self.beams)])
                del self.beams[sorted_next_scores[0][1]]
                self.worst_score = sorted_next_scores[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs, cur_len, decoder_prompt_len):
        if len(self) < self.num_beams:
            return False
        highest_attainable_score = best_sum_logprobs / (cur_len - decoder_prompt_len) ** self.length_penalty
        return self.worst_score >= highest_attainable_score


def hf_reference_beam_search(model, prompt, trie, eos, num_beams, length_penalty=1.0, before_softmax=True,
                             max_new_tokens=64):
    """One prompt through HF's loop: B beams from the start (B-1 of them at -1e9), prefix-constrained logits
    (-inf outside the trie; EOS when the prefix left the trie), top 2B of B*V, process(), is_done, finalize."""
    V = model.config.vocab_size
    input_ids = torch.tensor([list(prompt)] * num_beams)
    prompt_len = input_ids.shape[1]
    beam_scores = torch.zeros(num_beams)
    beam_scores[1:] = -1e9
    hyps = HFBeamHypotheses(num_beams, length_penalty)
    done = False
    while True:
        logits = model(input_ids=input_ids).logits[:, -1, :].float()
        mask = torch.full((num_beams, V), float("-inf"))
        for b in range(num_beams):
            node = trie.node(input_ids[b, prompt_len:].tolist())
            allowed = trie.children(node) if node is not None and trie.children(node) else [eos]
            mask[b, allowed] = 0
        if before_softmax:     # the authors' customCBS_model: processor, then log_softmax
            scores = torch.log_softmax(logits + mask, dim=-1)
        else:                  # stock generate: log_softmax, then the processor
            scores = torch.log_softmax(logits, dim=-1) + mask
        next_token_scores = (scores + beam_scores[:, None]).view(1, num_beams * V)
        next_scores, next_tokens = torch.topk(next_token_scores, 2 * num_beams, dim=1, largest=True, sorted=True)
        next_indices = next_tokens // V
        next_tokens = next_tokens % V
        # BeamSearchScorer.process
        cur_len = input_ids.shape[-1] + 1
        new_scores, new_tokens, new_indices = [], [], []
        for rank, (tok, sc, idx) in enumerate(zip(next_tokens[0].tolist(), next_scores[0].tolist(), next_indices[0].tolist())):
            if tok == eos:
                if rank >= num_beams:
                    continue
                hyps.add(input_ids[idx].clone(), sc, generated_len=cur_len - prompt_len)
            else:
                new_scores.append(sc)
                new_tokens.append(tok)
                new_indices.append(idx)
            if len(new_scores) == num_beams:
                break
        done = hyps.is_done(next_scores[0].max().item(), cur_len, prompt_len)
        beam_scores = torch.tensor(new_scores)
        input_ids = torch.cat([input_ids[new_indices, :], torch.tensor(new_tokens)[:, None]], dim=-1)
        if done or input_ids.shape[1] - prompt_len >= max_new_tokens:
            break
    if not done:  # finalize: open beams join the finished list
        for b in range(num_beams):
            hyps.add(input_ids[b], beam_scores[b].item(), generated_len=input_ids.shape[-1] - prompt_len)
    out = []
    for score, hyp in sorted(hyps.beams, key=lambda x: -x[0]):
        node = trie.node(hyp[prompt_len:].tolist() + [eos])
        out.append((trie.item_at(node) if node is not None else None, score))
    return out


@pytest.fixture(scope="module")
def branchy():
    """47 titles of 1-3 words over 12 shared words: many branching points and unequal lengths."""
    import random

    words = "red blue green gold iron stone river hill lake wind fire snow".split()
    rng = random.Random(0)
    titles = sorted({" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(60)})
    return _tiny_setup(titles, range(0, 24, 4))


@pytest.mark.parametrize("before_softmax", [True, False])
def test_beam_search_matches_hugging_face_reference_with_pruning(branchy, before_softmax):
    titles, tok, model, trie, prompts = branchy
    pruned_somewhere = False
    for beam in (2, 5):
        for lp in (1.0, 0.0):
            mask = "before" if before_softmax else "after"
            ours = beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id, mask=mask, length_penalty=lp)
            for prompt, res in zip(prompts, ours):
                ref = hf_reference_beam_search(model, prompt, trie, tok.eos_id, beam, lp, before_softmax)
                real = [(i, s) for i, s in ref if i is not None and s > -1e8]   # drop HF's -1e9 ghost beams
                assert [i for i, _ in res] == [i for i, _ in real]
                for (_, a), (_, b) in zip(res, real):
                    assert abs(a - b) < 1e-4
                exhaustive = sequence_logprobs(model, prompt, trie, pad_id=tok.pad_id, mask=mask)
                lengths = [len(s) for s in trie.sequences]
                best = sorted(range(len(titles)), key=lambda i: -exhaustive[i] / lengths[i] ** lp)[:beam]
                pruned_somewhere |= sorted(best) != sorted(i for i, _ in res)
    assert len(titles) > 5 and pruned_somewhere   # pruning happened: beam search missed an exhaustive top-B title


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
    for lp in (0.0, 1.0):
        results = beam_search(model, prompts, trie, beam=len(titles), pad_id=tok.pad_id, length_penalty=lp)
        for prompt, res in zip(prompts, results):
            exhaustive = sequence_logprobs(model, prompt, trie, pad_id=tok.pad_id)
            norm = [s / len(seq) ** lp for s, seq in zip(exhaustive, trie.sequences)]
            order = sorted(range(len(titles)), key=lambda i: -norm[i])
            assert [i for i, _ in res] == order
            for i, s in res:
                assert abs(s - norm[i]) < 1e-4
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
    for beam, mask in ((1, "before"), (4, "before"), (4, "after"), (len(titles), "before")):
        a = beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id, use_cache=True, max_batch=8, mask=mask)
        b = beam_search(model, prompts, trie, beam=beam, pad_id=tok.pad_id, use_cache=False, mask=mask)
        assert [[i for i, _ in r] for r in a] == [[i for i, _ in r] for r in b]
        for ra, rb in zip(a, b):
            for (_, sa), (_, sb) in zip(ra, rb):
                assert abs(sa - sb) < 1e-4


def test_cached_exhaustive_scoring_equals_recomputed(branchy):
    titles, tok, model, trie, prompts = branchy
    for mask in ("before", "after"):
        for prompt in prompts[:3]:
            a = sequence_logprobs(model, prompt, trie, pad_id=tok.pad_id, mask=mask)
            b = sequence_logprobs_cached(model, prompt, trie, max_batch=7, mask=mask)
            assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4


def test_target_in_top_equals_exhaustive_rank(branchy):
    titles, tok, model, trie, prompts = branchy
    for mask in ("before", "after"):
        for prompt in prompts[:2]:
            scores = sequence_logprobs(model, prompt, trie, pad_id=tok.pad_id, mask=mask)
            for item in range(0, len(titles), 4):
                rank = 1 + sum(1 for s in scores if s > scores[item])
                for beam in (2, 8):
                    assert target_in_top(model, prompt, trie, item, beam, mask=mask, batch=5) == (rank <= beam), (mask, item, beam)
