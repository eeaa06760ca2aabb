"""Loss tests. Outside reference: the authors' code (Tiny-Snow/BEAR-WWW-2026, MIT), train_bear.py
`CustomTrainer.compute_loss` and train_msl.py `compute_loss`, transcribed below position by position in plain
Python/torch scalars -- written from their tensor code, not from losses.py:

  probs = softmax(logits / tau) with -inf outside the trie            (a row per labelled position)
  ce = -log probs[y]
  quantile = B-th largest of probs (0 when fewer than B tokens are valid) -> then min over valid probs
  w = 1 + topk_weight * sigmoid((log probs[y] - log quantile) / topk_tau), detached
  w[valid > 1] /= sum(w[valid > 1]) + 1e-8 ;  loss = sum(ce * w)
  MSL: mean over all labelled positions of (-z_y/tau + log sum_valid exp(z/tau)).
"""

import math

import pytest
import torch

from preflight_train.losses import (IGNORE, SparseAllowed, bear_loss, bear_loss_with_stats, compact_targets, lml_loss,
                                    loss_by_name, msl_loss)


def make_case(seed=0, B=3, T=6, V=40, beam=4, few=False):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, V, generator=g, dtype=torch.float64) * 2
    labels = torch.full((B, T), IGNORE, dtype=torch.long)
    allowed = torch.zeros(B, T, V, dtype=torch.bool)
    for b in range(B):
        for t in range(1, T):
            y = int(torch.randint(V, (1,), generator=g))
            labels[b, t] = y
            if t == T - 1:  # a single valid child (e.g. the EOS after a closing quote)
                allowed[b, t, y] = True
                continue
            # few: a mix of positions with fewer and with at least `beam` valid tokens
            lo, hi = (1, 2 * beam + 1) if few else (beam, V // 2)
            k = int(torch.randint(lo, hi, (1,), generator=g))
            ids = torch.randperm(V, generator=g)[:k]
            allowed[b, t, ids] = True
            allowed[b, t, y] = True
    return logits, labels, allowed


def positions(labels):
    B, T = labels.shape
    return [(b, t) for b in range(B) for t in range(T) if int(labels[b, t]) != IGNORE]


def reference_bear(logits, labels, allowed, tau, beam, lam, xi):
    """The authors' BEAR loss, one labelled position at a time (autograd flows through ce only)."""
    ces, weights, branching = [], [], []
    V = logits.shape[-1]
    for b, t in positions(labels):
        y = int(labels[b, t])
        valid = [v for v in range(V) if bool(allowed[b, t, v]) or v == y]
        z = logits[b, t]
        # softmax over the whole vocabulary with -inf outside the trie = softmax over the valid tokens
        m = max(float(z[v]) for v in valid)
        exps = {v: torch.exp((z[v] - m) / tau) for v in valid}
        denom = sum(exps.values())
        p_y = exps[y] / denom
        ces.append(-torch.log(p_y))
        probs = sorted([float(exps[v] / denom) for v in valid] + [0.0] * (V - len(valid)), reverse=True)
        quantile = probs[beam - 1]
        if quantile == 0:
            quantile = min(float(exps[v] / denom) for v in valid)
        w = 1 + lam * (1 / (1 + math.exp(-(math.log(float(p_y)) - math.log(quantile)) / xi)))
        weights.append(w)
        branching.append(len(valid) > 1)
    total_w = sum(w for w, br in zip(weights, branching) if br)
    loss = 0
    for ce, w, br in zip(ces, weights, branching):
        loss = loss + ce * (w / (total_w + 1e-8) if br else w)
    return loss


def reference_msl(logits, labels, allowed, tau):
    terms = []
    V = logits.shape[-1]
    for b, t in positions(labels):
        y = int(labels[b, t])
        valid = [v for v in range(V) if bool(allowed[b, t, v]) or v == y]
        z = logits[b, t]
        terms.append(-z[y] / tau + torch.log(sum(torch.exp(z[v] / tau) for v in valid)))
    return sum(terms) / len(terms)


def count_kinds(labels, allowed, beam):
    n = [int(allowed[b, t].sum()) for b, t in positions(labels)]
    return sum(1 for k in n if k == 1), sum(1 for k in n if 1 < k < beam), sum(1 for k in n if k >= beam)


@pytest.mark.parametrize("few", [False, True])
def test_bear_matches_authors_formula_value_and_gradient(few):
    for tau, beam, lam, xi in [(1.0, 4, 0.25, 2.75), (0.7, 3, 1.5, 0.5), (1.3, 10, 0.25, 2.75), (1.0, 10, 1.0, 1.0)]:
        logits, labels, allowed = make_case(seed=1, few=few, beam=beam, T=10)
        one, few_valid, full = count_kinds(labels, allowed, beam)
        assert one > 0 and full > 0 and (few_valid > 0 or not few)   # the case covers every kind of position
        x1 = logits.clone().requires_grad_(True)
        x2 = logits.clone().requires_grad_(True)
        got = bear_loss(x1, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi)
        ref = reference_bear(x2, labels, allowed, tau, beam, lam, xi)
        got.backward()
        ref.backward()
        assert abs(float(got) - float(ref)) < 1e-10
        assert torch.allclose(x1.grad, x2.grad, atol=1e-12)


def test_fallback_weight_uses_smallest_valid_probability():
    # One position, 3 valid tokens, B = 10: beta is the smallest valid probability, so the weight is
    # strictly between 1 + lam/2 and 1 + lam (the earlier reading gave exactly 1 + lam).
    V = 8
    logits = torch.tensor([[[2.0, 0.5, -1.0, 0, 0, 0, 0, 0]]], dtype=torch.float64)
    labels = torch.tensor([[1]])
    allowed = torch.zeros(1, 1, V, dtype=torch.bool)
    allowed[0, 0, :3] = True
    _, stats = bear_loss_with_stats(logits, labels, allowed, beam=10, lam=0.25, xi=2.75)
    expected = 1 + 0.25 / (1 + math.exp(-(0.5 - (-1.0)) / 2.75))
    assert stats["bear_weight"] == pytest.approx(expected, abs=1e-12)
    assert 1.125 < stats["bear_weight"] < 1.25


@pytest.mark.parametrize("few", [False, True])
def test_msl_matches_authors_formula_value_and_gradient(few):
    logits, labels, allowed = make_case(seed=8, few=few)
    for tau in (1.0, 0.6):
        x1 = logits.clone().requires_grad_(True)
        x2 = logits.clone().requires_grad_(True)
        got = msl_loss(x1, labels, allowed, tau=tau)
        ref = reference_msl(x2, labels, allowed, tau)
        got.backward()
        ref.backward()
        assert abs(float(got) - float(ref)) < 1e-10
        assert torch.allclose(x1.grad, x2.grad, atol=1e-12)


def test_named_branching_normalisation():
    logits, labels, allowed = make_case(seed=2)
    n_all = len(positions(labels))
    n_branch = sum(1 for b, t in positions(labels) if int(allowed[b, t].sum()) > 1)
    assert n_branch < n_all
    # MSL: the authors' mean over all target tokens = branching mean * (branching / all)
    a = msl_loss(logits, labels, allowed)
    b = msl_loss(logits, labels, allowed, normalize="branching")
    assert float(a) == pytest.approx(float(b) * n_branch / n_all, abs=1e-12)
    # BEAR with lam = 0: every weight is 1, so the weighted mean is the branching mean (up to the 1e-8)
    c = bear_loss(logits, labels, allowed, lam=0.0, beam=4)
    assert float(c) == pytest.approx(float(b) * n_branch / (n_branch + 1e-8), abs=1e-12)
    assert torch.equal(bear_loss(logits, labels, allowed, lam=0.0, beam=4, normalize="branching"), b)
    # BEAR, old reduction: sum ce*w / count; authors': sum ce*w / sum w
    _, stats = bear_loss_with_stats(logits, labels, allowed, beam=4, lam=0.5)
    old = bear_loss(logits, labels, allowed, beam=4, lam=0.5, normalize="branching")
    new = bear_loss(logits, labels, allowed, beam=4, lam=0.5)
    assert float(new) == pytest.approx(float(old) * n_branch / (stats["bear_weight"] * n_branch + 1e-8), rel=1e-12)
    with pytest.raises(ValueError):
        msl_loss(logits, labels, allowed, normalize="mean")


def test_msl_with_everything_allowed_is_lml():
    logits, labels, _ = make_case(seed=3)
    everything = torch.ones(logits.shape, dtype=torch.bool)
    for tau in (1.0, 0.5):
        assert torch.allclose(msl_loss(logits, labels, everything, tau=tau), lml_loss(logits, labels, tau=tau), atol=1e-12)


def test_bear_gradient_is_msl_plus_pruning_penalty():
    logits, labels, allowed = make_case(seed=4)
    tau, beam, lam, xi = 0.9, 4, 0.6, 1.7
    x1 = logits.clone().requires_grad_(True)
    _, stats = bear_loss_with_stats(x1, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi)
    bear_loss(x1, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi).backward()

    # [sum_t -log p_t + lam*xi * sum_t log sigmoid((log beta_B - log p_t)/xi)] / sum_t w_t over branching t,
    # beta_B and the normaliser detached (lam absorbs 1/xi).
    x2 = logits.clone().requires_grad_(True)
    mask = labels != IGNORE
    z = x2[mask] / tau
    a = allowed[mask]
    y = labels[mask]
    zv = z.masked_fill(~a, float("-inf"))
    logp_all = torch.log_softmax(zv, -1)
    logp = logp_all.gather(1, y[:, None]).squeeze(1)
    log_beta = logp_all.topk(beam, -1).values[:, -1].detach()
    branching = (a.sum(-1) > 1).double()
    assert torch.isfinite(log_beta[branching > 0]).all()   # >= B valid tokens at every branching position
    log_beta = torch.where(branching > 0, log_beta, logp.detach())
    norm = stats["bear_weight"] * branching.sum() + 1e-8
    penalty = torch.nn.functional.logsigmoid((log_beta - logp) / xi)
    objective = ((-logp * branching).sum() + lam * xi * (penalty * branching).sum()) / norm
    objective.backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-10)


def test_sparse_allowed_equals_dense():
    logits, labels, allowed = make_case(seed=5, V=60)
    sparse = SparseAllowed.from_dense(allowed, labels)
    # also the list-of-tuples form, in a scrambled order
    pos = (labels != IGNORE).nonzero().tolist()
    items = [(r, c, allowed[r, c].nonzero().reshape(-1)) for r, c in reversed(pos)]
    for form in (sparse, items):
        for fn, kw in [(msl_loss, {}), (bear_loss, {"beam": 4, "lam": 0.5, "xi": 2.0}), (bear_loss, {"beam": 50})]:
            x1 = logits.clone().requires_grad_(True)
            x2 = logits.clone().requires_grad_(True)
            l1 = fn(x1, labels, allowed, **kw)
            l2 = fn(x2, labels, form, **kw)
            l1.backward()
            l2.backward()
            assert torch.allclose(l1, l2, atol=1e-12)
            assert torch.allclose(x1.grad, x2.grad, atol=1e-12)


def test_stats_weight_and_outside_share():
    logits, labels, allowed = make_case(seed=6)
    _, stats = bear_loss_with_stats(logits, labels, allowed, beam=4, lam=0.25, xi=2.75)
    assert 1.0 <= stats["bear_weight"] <= 1.25
    assert 0.0 <= stats["outside_top_b"] <= 1.0
    # A target that is the arg-max of its valid children is never outside the top-B.
    logits2 = logits.clone()
    mask = labels != IGNORE
    logits2[mask] = logits2[mask].scatter(1, labels[mask][:, None], 100.0)
    _, stats2 = bear_loss_with_stats(logits2, labels, allowed, beam=1)
    assert stats2["outside_top_b"] == 0.0


def test_sparse_requires_every_labelled_position():
    logits, labels, allowed = make_case(seed=7)
    pos = (labels != IGNORE).nonzero().tolist()[1:]
    with pytest.raises(ValueError):
        msl_loss(logits, labels, [(r, c, allowed[r, c].nonzero().reshape(-1)) for r, c in pos])


def test_compact_targets_give_the_same_losses_and_gradients():
    logits, labels, allowed = make_case(seed=9, few=True)
    sparse = SparseAllowed.from_dense(allowed, labels)
    c_labels, c_allowed = compact_targets(labels, sparse)
    for name in ("lml", "msl", "bear"):
        x1 = logits.clone().requires_grad_(True)
        x2 = logits.clone().requires_grad_(True)
        l1, s1 = loss_by_name(name, x1, labels, sparse, beam=4)
        l2, s2 = loss_by_name(name, x2[labels != IGNORE][None], c_labels, c_allowed, beam=4)
        l1.backward()
        l2.backward()
        assert torch.allclose(l1, l2, atol=1e-12) and s1 == s2
        assert torch.allclose(x1.grad, x2.grad, atol=1e-12)


def test_builtin_model_projects_only_masked_positions():
    from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM

    torch.manual_seed(0)
    m = TinyLlamaForCausalLM(TinyLlamaConfig(vocab_size=50)).eval()
    ids = torch.randint(0, 50, (3, 7))
    att = torch.ones(3, 7, dtype=torch.long)
    att[1, 5:] = 0
    mask = torch.zeros(3, 7, dtype=torch.bool)
    mask[0, 2:5] = True
    mask[2, 6] = True
    full = m(input_ids=ids, attention_mask=att).logits[mask]
    part = m(input_ids=ids, attention_mask=att, logits_mask=mask).logits
    assert part.shape == (1, 4, 50) and torch.allclose(full, part[0], atol=1e-6)
