"""Loss tests. Outside references: DESIGN.md section 6 (BEAR, arXiv 2601.22925: w = 1 + lam*sigmoid((log p - log beta_B)/xi),
w and beta detached; gradient equal to L_MSL + lam*xi * sum log sigmoid((log beta_B - log p)/xi)), and an independent
per-position re-implementation of the authors' weighting written with plain Python loops below."""

import math

import pytest
import torch

from preflight_train.losses import IGNORE, SparseAllowed, bear_loss, bear_loss_with_stats, lml_loss, msl_loss


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
            lo = 2 if few else beam
            k = int(torch.randint(lo, V // 2, (1,), generator=g))
            ids = torch.randperm(V, generator=g)[:k]
            allowed[b, t, ids] = True
            allowed[b, t, y] = True
    return logits, labels, allowed


def reference_bear(logits, labels, allowed, tau, beam, lam, xi):
    """The authors' weighting, position by position: softmax over the valid children, beta_B = the B-th largest
    valid probability (0 if fewer than B children), w = 1 + lam*sigmoid((log p - log beta)/xi); mean over branching positions."""
    total, count = 0.0, 0
    B, T, V = logits.shape
    for b in range(B):
        for t in range(T):
            y = int(labels[b, t])
            if y == IGNORE:
                continue
            valid = [v for v in range(V) if allowed[b, t, v]]
            if len(valid) <= 1:
                continue
            z = [float(logits[b, t, v]) / tau for v in valid]
            m = max(z)
            denom = sum(math.exp(x - m) for x in z)
            probs = {v: math.exp(x - m) / denom for v, x in zip(valid, z)}
            p = probs[y]
            ranked = sorted(probs.values(), reverse=True)
            beta = ranked[beam - 1] if len(ranked) >= beam else 0.0
            w = 1 + lam * (1.0 if beta == 0 else 1 / (1 + math.exp(-(math.log(p) - math.log(beta)) / xi)))
            total += w * -math.log(p)
            count += 1
    return total / count


@pytest.mark.parametrize("few", [False, True])
def test_bear_matches_independent_reference(few):
    logits, labels, allowed = make_case(seed=1, few=few)
    for tau, beam, lam, xi in [(1.0, 4, 0.25, 2.75), (0.7, 3, 1.5, 0.5), (1.3, 10, 0.25, 2.75)]:
        got = bear_loss(logits, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi)
        ref = reference_bear(logits, labels, allowed, tau, beam, lam, xi)
        assert abs(float(got) - ref) < 1e-9


def test_bear_lambda_zero_is_msl():
    logits, labels, allowed = make_case(seed=2)
    a = bear_loss(logits, labels, allowed, lam=0.0, beam=4)
    b = msl_loss(logits, labels, allowed)
    assert torch.equal(a, b)


def test_msl_with_everything_allowed_is_lml():
    logits, labels, _ = make_case(seed=3)
    everything = torch.ones(logits.shape, dtype=torch.bool)
    for tau in (1.0, 0.5):
        assert torch.allclose(msl_loss(logits, labels, everything, tau=tau), lml_loss(logits, labels, tau=tau), atol=1e-12)


def test_bear_gradient_is_msl_plus_pruning_penalty():
    logits, labels, allowed = make_case(seed=4)
    tau, beam, lam, xi = 0.9, 4, 0.6, 1.7
    x1 = logits.clone().requires_grad_(True)
    bear_loss(x1, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi).backward()

    # L_MSL + lam*xi * mean_t log sigmoid((log beta_B - log p_t)/xi), beta_B detached (lam absorbs 1/xi).
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
    n = branching.sum()
    penalty = torch.nn.functional.logsigmoid((log_beta - logp) / xi)
    objective = (-logp * branching).sum() / n + lam * xi * (penalty * branching).sum() / n
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
