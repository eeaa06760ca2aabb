"""Token-level losses for LLM recommenders: LML (BIGRec), MSL and BEAR (arXiv 2601.22925).

Shared conventions
------------------
logits  [B, T, V]  float; logits[b, t] predicts labels[b, t] (the caller has already shifted).
labels  [B, T]     long; -100 marks positions without loss (prompt, padding).
allowed            trie-valid next tokens at each labelled position, either
                   * dense: bool [B, T, V], or
                   * sparse: a `SparseAllowed`, or a list of (row, position, LongTensor of token ids)
                     covering every labelled position. Memory is then O(total children), not O(B*T*V).
tau                temperature: every softmax is taken over logits / tau.

By default each loss computes what the authors' code (Tiny-Snow/BEAR-WWW-2026) computes per micro-batch:

LML   = mean over target tokens of -log softmax(z/tau)[y]                      (whole vocabulary; train_lml.py)
MSL   = mean over ALL target tokens of -log softmax_valid(z/tau)[y]            (train_msl.py: (pos + neg).mean())
BEAR  = sum_i ce_i * w_i / (sum_{i branching} w_i + 1e-8)                       (train_bear.py, compute_loss)
        ce_i = -log softmax_valid(z_i/tau)[y_i],
        w_i = 1 + lam * sigmoid((log p_y - log beta_B) / xi),  w and beta_B detached,
        beta_B = the B-th largest valid probability, or, where fewer than B tokens are valid (the B-th
        largest probability is then 0), the smallest valid probability.

"Branching" positions have more than one valid token; elsewhere the masked softmax gives p = 1, so ce = 0.
`normalize="branching"` keeps this package's earlier reduction as a named option: MSL and BEAR averaged
over branching positions (BEAR: sum ce*w / count). docs/bear.md section 6 shows the difference.

log p_y - log beta_B = (z_y - z_(B)) / tau: the softmax normaliser cancels, so the weight costs one top-k
over the valid logits per target position (and stays finite where the authors' probabilities underflow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

IGNORE = -100


@dataclass
class SparseAllowed:
    """CSR form of the valid next tokens: entry i is labelled position (rows[i], cols[i]) and its
    valid token ids are tokens[offsets[i]:offsets[i+1]]. Entries may come in any order."""

    rows: torch.Tensor     # [N] long
    cols: torch.Tensor     # [N] long
    offsets: torch.Tensor  # [N+1] long
    tokens: torch.Tensor   # [M] long

    @classmethod
    def from_list(cls, items: Sequence[Tuple[int, int, Union[torch.Tensor, Sequence[int]]]]) -> "SparseAllowed":
        rows, cols, lengths, chunks = [], [], [0], []
        for r, c, toks in items:
            t = torch.as_tensor(toks, dtype=torch.long).reshape(-1)
            rows.append(int(r))
            cols.append(int(c))
            lengths.append(t.numel())
            chunks.append(t)
        return cls(
            rows=torch.tensor(rows, dtype=torch.long),
            cols=torch.tensor(cols, dtype=torch.long),
            offsets=torch.tensor(lengths, dtype=torch.long).cumsum(0),
            tokens=torch.cat(chunks) if chunks else torch.zeros(0, dtype=torch.long),
        )

    @classmethod
    def from_dense(cls, allowed: torch.Tensor, labels: torch.Tensor) -> "SparseAllowed":
        pos = (labels != IGNORE).nonzero(as_tuple=False)
        return cls.from_list([(int(r), int(c), allowed[r, c].nonzero(as_tuple=False).reshape(-1)) for r, c in pos])

    def to(self, device) -> "SparseAllowed":
        return SparseAllowed(self.rows.to(device), self.cols.to(device), self.offsets.to(device), self.tokens.to(device))


AllowedLike = Union[torch.Tensor, SparseAllowed, Sequence[Tuple[int, int, torch.Tensor]]]


def _targets(logits: torch.Tensor, labels: torch.Tensor):
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(f"expected logits [B,T,V] and labels [B,T], got {tuple(logits.shape)} and {tuple(labels.shape)}")
    mask = labels != IGNORE
    pos = mask.nonzero(as_tuple=False)           # [N, 2], row-major order
    z = logits[mask]                              # [N, V]
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()                             # softmax statistics in fp32 under mixed precision
    y = labels[mask]                              # [N]
    return pos, z, y


def _valid_logits(z: torch.Tensor, y: torch.Tensor, pos: torch.Tensor, labels: torch.Tensor, allowed: AllowedLike):
    """Logits of the valid children as a padded matrix.

    Returns (zv [N, K] with -inf padding, target column [N], number of valid children [N]). The target
    token is always counted as valid (a label outside the trie would otherwise give an infinite loss).
    """
    N, V = z.shape
    if isinstance(allowed, torch.Tensor):
        if allowed.shape != labels.shape + (V,):
            raise ValueError(f"dense allowed must be [B,T,V]={tuple(labels.shape) + (V,)}, got {tuple(allowed.shape)}")
        a = allowed[labels != IGNORE].bool().clone()                     # [N, V]
        a[torch.arange(N, device=z.device), y] = True
        zv = z.masked_fill(~a, float("-inf"))
        return zv, y, a.sum(-1)
    sp = allowed if isinstance(allowed, SparseAllowed) else SparseAllowed.from_list(allowed)
    sp = sp.to(z.device)
    # Map every labelled position (row-major) to its sparse entry.
    T = labels.shape[1]
    key_sparse = sp.rows * T + sp.cols
    key_target = pos[:, 0] * T + pos[:, 1]
    order = torch.argsort(key_sparse)
    idx = torch.searchsorted(key_sparse[order], key_target)
    idx = idx.clamp(max=max(len(order) - 1, 0))
    if len(order) == 0 or not torch.equal(key_sparse[order][idx], key_target):
        raise ValueError("sparse allowed must list every labelled position (labels != -100)")
    entry = order[idx]                                                   # [N]
    starts, ends = sp.offsets[entry], sp.offsets[entry + 1]
    counts = ends - starts
    K = int(counts.max().item()) + 1 if N else 1                         # +1: room to add the target
    col = torch.arange(K, device=z.device)[None, :]                      # [1, K]
    inside = col < counts[:, None]
    tok = sp.tokens[(starts[:, None] + col).clamp(max=max(sp.tokens.numel() - 1, 0))] if sp.tokens.numel() else torch.zeros(N, K, dtype=torch.long, device=z.device)
    tok = torch.where(inside, tok, torch.zeros_like(tok))
    has_target = ((tok == y[:, None]) & inside).any(-1)
    # Append the target where the trie did not list it.
    extra = (~has_target)[:, None] & (col == counts[:, None])
    tok = torch.where(extra, y[:, None].expand_as(tok), tok)
    inside = inside | extra
    zv = torch.gather(z, 1, tok).masked_fill(~inside, float("-inf"))      # [N, K]
    tcol = ((tok == y[:, None]) & inside).float().argmax(-1)
    return zv, tcol, inside.sum(-1)


def compact_targets(labels: torch.Tensor, allowed: SparseAllowed):
    """(labels [1, N], allowed) for logits computed at the labelled positions only ([1, N, V], row-major, as
    `logits[labels != -100][None]`): every loss gives the same value and gradient on the compact form."""
    mask = labels != IGNORE
    index = torch.full(labels.shape, -1, dtype=torch.long, device=labels.device)
    index[mask] = torch.arange(int(mask.sum()), device=labels.device)
    cols = index[allowed.rows, allowed.cols]
    return labels[mask][None], SparseAllowed(torch.zeros_like(cols), cols, allowed.offsets, allowed.tokens)


NORMALIZATIONS = ("authors", "branching")


def _check_normalize(normalize: str) -> None:
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")


def _zero(logits: torch.Tensor) -> torch.Tensor:
    return logits.sum() * 0.0  # keeps the graph (and DDP) alive on a batch without any loss term


def lml_loss(logits: torch.Tensor, labels: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Plain next-token cross-entropy over the whole vocabulary (BIGRec's objective), mean over target tokens."""
    _, z, y = _targets(logits, labels)
    if z.shape[0] == 0:
        return _zero(logits)
    return F.cross_entropy(z / tau, y)


def _masked_terms(logits, labels, allowed, tau):
    pos, z, y = _targets(logits, labels)
    zv, tcol, n_valid = _valid_logits(z, y, pos, labels, allowed)
    zv = zv / tau
    logp = torch.log_softmax(zv, dim=-1).gather(1, tcol[:, None]).squeeze(1)   # [N] log p_y over valid children
    return zv, logp, tcol, n_valid


def msl_loss(logits: torch.Tensor, labels: torch.Tensor, allowed: AllowedLike, tau: float = 1.0,
             normalize: str = "authors") -> torch.Tensor:
    """Masked-softmax loss: cross-entropy with the softmax restricted to the trie's valid next tokens.
    authors: mean over all target tokens; branching: mean over positions with more than one valid token."""
    _check_normalize(normalize)
    _, logp, _, n_valid = _masked_terms(logits, labels, allowed, tau)
    if logp.numel() == 0:
        return _zero(logits)
    if normalize == "authors":
        return (-logp).mean()
    keep = (n_valid > 1).to(logp.dtype)
    if keep.sum().item() == 0:
        return _zero(logits)
    return (-logp * keep).sum() / keep.sum()


def bear_loss(logits: torch.Tensor, labels: torch.Tensor, allowed: AllowedLike, tau: float = 1.0,
              beam: int = 10, lam: float = 0.25, xi: float = 2.75, normalize: str = "authors") -> torch.Tensor:
    """BEAR: masked cross-entropy reweighted per target token by w = 1 + lam * sigmoid((log p - log beta_B)/xi)."""
    return _bear_terms(logits, labels, allowed, tau, beam, lam, xi, normalize)[0]


def _bear_terms(logits, labels, allowed, tau, beam, lam, xi, normalize="authors"):
    _check_normalize(normalize)
    zv, logp, tcol, n_valid = _masked_terms(logits, labels, allowed, tau)
    branching = n_valid > 1
    with torch.no_grad():
        if zv.shape[0]:
            k = min(beam, zv.shape[1])
            kth = zv.topk(k, dim=-1).values[:, -1]                      # -inf where fewer than k are valid
            smallest = zv.masked_fill(torch.isinf(zv), float("inf")).min(dim=-1).values
            # The authors' fallback: fewer than B valid tokens (beta_B = 0) -> the smallest valid probability.
            few = n_valid < beam
            ref = torch.where(few, smallest, kth)
            log_ratio = zv.gather(1, tcol[:, None]).squeeze(1) - ref    # = log p_y - log beta_B
        else:
            log_ratio = zv.new_zeros(0)
        w = 1.0 + lam * torch.sigmoid(log_ratio / xi)
    ce = -logp
    if ce.numel() == 0 or branching.sum().item() == 0:
        return _zero(logits), w, log_ratio, branching
    keep = branching.to(ce.dtype)
    if normalize == "authors":
        # w / (sum of w over branching positions + 1e-8); non-branching positions have ce = 0 exactly.
        loss = (ce * w * keep).sum() / ((w * keep).sum() + 1e-8)
    else:
        loss = (ce * w * keep).sum() / keep.sum()
    return loss, w, log_ratio, branching


def bear_loss_with_stats(logits, labels, allowed, tau: float = 1.0, beam: int = 10, lam: float = 0.25,
                         xi: float = 2.75, normalize: str = "authors") -> Tuple[torch.Tensor, Dict[str, float]]:
    """(loss, stats): stats has `bear_weight` (mean w over branching targets, before normalisation),
    `outside_top_b` (share of branching targets whose valid-token rank exceeds `beam`) and `branching`."""
    loss, w, log_ratio, branching = _bear_terms(logits, labels, allowed, tau, beam, lam, xi, normalize)
    return loss, _stats(w, log_ratio, branching)


def _stats(w, log_ratio, branching):
    with torch.no_grad():
        nb = int(branching.sum().item())
        # Rank > B <=> p_y below the B-th largest valid probability (never with fewer than B valid tokens).
        outside = ((log_ratio < 0) & branching).sum()
        return {
            "bear_weight": float((w * branching).sum().item() / nb) if nb else 1.0,
            "outside_top_b": float(outside.item() / nb) if nb else 0.0,
            "branching": float(nb),
        }


def loss_by_name(name: str, logits, labels, allowed, tau=1.0, beam=10, lam=0.25, xi=2.75, normalize="authors"):
    """The trainer's entry point: (loss, stats) for 'lml', 'msl' or 'bear'. Stats are reported for all three."""
    name = name.lower()
    if name not in ("lml", "msl", "bear"):
        raise ValueError(f"unknown loss {name!r} (lml, msl, bear)")
    if name == "bear":
        return bear_loss_with_stats(logits, labels, allowed, tau=tau, beam=beam, lam=lam, xi=xi, normalize=normalize)
    loss = lml_loss(logits, labels, tau=tau) if name == "lml" else msl_loss(logits, labels, allowed, tau=tau,
                                                                               normalize=normalize)
    if allowed is None:
        return loss, {}
    _, w, log_ratio, branching = _bear_terms(logits.detach(), labels, allowed, tau, beam, 0.0, xi, normalize)
    return loss, _stats(w, log_ratio, branching)


__all__ = ["SparseAllowed", "lml_loss", "msl_loss", "bear_loss", "bear_loss_with_stats", "loss_by_name", "compact_targets", "IGNORE", "NORMALIZATIONS"]
