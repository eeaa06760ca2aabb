"""Trie-constrained beam search and HR@K / NDCG@K.

Decoding follows DESIGN.md section 6: at every step the logits are masked to the trie's valid children
BEFORE the softmax (so the step distribution is renormalised over valid tokens, matching MSL/BEAR
training), hypotheses are scored by the sum of those log-probabilities (no length penalty), and a
hypothesis that has emitted EOS is finished: it keeps its score and competes with the open ones for the
B slots. When B is at least the catalogue size nothing is ever pruned, so the result is the exhaustive
ranking of all titles by sequence log-probability.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .trie import TitleTrie


def _forward_last(model, seqs: List[List[int]], pad_id: int, device) -> torch.Tensor:
    """Logits of the next token after each sequence (left padding), [N, V] float."""
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    att = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, T - len(s):] = torch.tensor(s, dtype=torch.long)
        att[i, T - len(s):] = 1
    ids, att = ids.to(device), att.to(device)
    pos = (att.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=att, position_ids=pos)
    return out.logits[:, -1, :].float()


def _expand(state_u, logps_u, trie: TitleTrie, beam: int):
    """One beam step for one user: extend every open hypothesis by each valid child, keep the best `beam`
    (finished hypotheses keep their score and compete). Hypothesis: (tokens, node, score, finished, ref)."""
    cands = []
    for h, (toks, node, score, done, _) in enumerate(state_u):
        if done:
            cands.append((score, toks, node, True, None))
            continue
        kids = trie.children(node)
        for tok, l in zip(kids, logps_u[h].tolist()):
            child = trie.step(node, tok)
            cands.append((score + l, toks + [tok], child, trie.item_at(child) is not None, h))
    cands.sort(key=lambda c: -c[0])
    return [(t, n, s, d, parent) for s, t, n, d, parent in cands[:beam]]


@torch.no_grad()
def _beam_search_cached(model, prompts, trie: TitleTrie, beam: int, pad_id: int, tau: float):
    """Beam search for models with a key/value cache (the built-in model): the prompt runs once, then every
    open hypothesis feeds one token per step; the cache rows follow their hypotheses."""
    device = next(model.parameters()).device
    U = len(prompts)
    T0 = max(len(p) for p in prompts)
    ids = torch.full((U, T0), pad_id, dtype=torch.long)
    att = torch.zeros((U, T0), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, T0 - len(p):] = torch.tensor(list(p), dtype=torch.long)
        att[i, T0 - len(p):] = 1
    ids, att = ids.to(device), att.to(device)
    out = model(input_ids=ids, attention_mask=att, position_ids=(att.cumsum(-1) - 1).clamp(min=0), use_cache=True)
    cache, logits = out.past_key_values, out.logits[:, -1, :].float() / tau
    # rows[u][h]: cache row of user u's open hypothesis h
    state = [[([], 0, 0.0, False, None)] for _ in range(U)]
    rows = [[u] for u in range(U)]
    while True:
        new_state, parent_rows, tokens, new_rows = [], [], [], []
        for u in range(U):
            logps_u = {}
            for h, hyp in enumerate(state[u]):
                if not hyp[3]:
                    kids = trie.children(hyp[1])
                    logps_u[h] = torch.log_softmax(logits[rows[u][h], kids], dim=-1).cpu()   # mask before softmax
            expanded = _expand(state[u], logps_u, trie, beam)
            r_u = []
            for toks, node, score, done, parent in expanded:
                if parent is not None and not done:
                    r_u.append(len(parent_rows))
                    parent_rows.append(rows[u][parent])
                    tokens.append(toks[-1])
                else:
                    r_u.append(None)
            new_state.append(expanded)
            new_rows.append(r_u)
        state, rows = new_state, new_rows
        if not parent_rows:
            break
        index = torch.tensor(parent_rows, dtype=torch.long, device=device)
        cache = [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache]
        att = torch.cat([att.index_select(0, index), torch.ones(len(parent_rows), 1, dtype=att.dtype, device=device)], dim=1)
        pos = (att.sum(-1, keepdim=True) - 1)
        step = torch.tensor(tokens, dtype=torch.long, device=device)[:, None]
        out = model(input_ids=step, attention_mask=att, position_ids=pos, past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1, :].float() / tau
    return [[(trie.item_at(n), s) for _, n, s, _, _ in hyps] for hyps in state]


@torch.no_grad()
def beam_search(model, prompts: Sequence[Sequence[int]], trie: TitleTrie, beam: int = 10, pad_id: int = 0,
                tau: float = 1.0, max_batch: int = 256, use_cache: Optional[bool] = None) -> List[List[Tuple[int, float]]]:
    """For each prompt, up to `beam` (item index, log-prob) pairs, best first.

    Models with a key/value cache (the built-in one) run the prompt once; others (any HF model) re-run
    prompt + partial title at each step, which needs nothing from the model but forward()."""
    if use_cache is None:
        use_cache = getattr(model, "supports_cache", False)
    if use_cache:
        users_per_chunk = max(1, max_batch // max(1, beam))
        out: List[List[Tuple[int, float]]] = []
        for start in range(0, len(prompts), users_per_chunk):
            out.extend(_beam_search_cached(model, prompts[start:start + users_per_chunk], trie, beam, pad_id, tau))
        return out
    device = next(model.parameters()).device
    results: List[List[Tuple[int, float]]] = []
    # Hypothesis: (tokens, node, score, finished)
    state = [[([], 0, 0.0, False)] for _ in prompts]
    while True:
        open_refs = [(u, h) for u, hyps in enumerate(state) for h, hyp in enumerate(hyps) if not hyp[3]]
        if not open_refs:
            break
        logps: Dict[Tuple[int, int], torch.Tensor] = {}
        # A node with a single valid child needs no forward pass: the masked softmax gives it p = 1.
        need = []
        for ref in open_refs:
            if len(trie.children(state[ref[0]][ref[1]][1])) == 1:
                logps[ref] = torch.zeros(1)
            else:
                need.append(ref)
        for start in range(0, len(need), max_batch):
            chunk = need[start:start + max_batch]
            seqs = [list(prompts[u]) + state[u][h][0] for u, h in chunk]
            logits = _forward_last(model, seqs, pad_id, device) / tau
            for row, (u, h) in enumerate(chunk):
                kids = trie.children(state[u][h][1])
                valid = logits[row, kids]                       # mask before the softmax
                logps[(u, h)] = torch.log_softmax(valid, dim=-1).cpu()
        for u, hyps in enumerate(state):
            cands = []
            for h, (toks, node, score, done) in enumerate(hyps):
                if done:
                    cands.append((score, toks, node, True))
                    continue
                kids = trie.children(node)
                lp = logps[(u, h)].tolist()
                for tok, l in zip(kids, lp):
                    child = trie.step(node, tok)
                    finished = trie.item_at(child) is not None
                    cands.append((score + l, toks + [tok], child, finished))
            cands.sort(key=lambda c: -c[0])
            state[u] = [(t, n, s, d) for s, t, n, d in cands[:beam]]
    for hyps in state:
        results.append([(trie.item_at(n), s) for _, n, s, _ in hyps])
    return results


@torch.no_grad()
def sequence_logprobs(model, prompt: Sequence[int], trie: TitleTrie, pad_id: int = 0, tau: float = 1.0,
                      max_batch: int = 256) -> List[float]:
    """Exhaustive scoring: log-probability of every catalogue title under the trie-masked softmax."""
    device = next(model.parameters()).device
    seqs = [list(prompt) + s[:-1] for s in trie.sequences]
    T = max(len(s) for s in seqs)
    chunks = []
    for start in range(0, len(seqs), max_batch):
        part = seqs[start:start + max_batch]
        ids = torch.full((len(part), T), pad_id, dtype=torch.long)
        att = torch.zeros_like(ids)
        for i, s in enumerate(part):
            ids[i, : len(s)] = torch.tensor(s)
            att[i, : len(s)] = 1
        chunks.append(model(input_ids=ids.to(device), attention_mask=att.to(device)).logits.float().cpu() / tau)
    logits = torch.cat(chunks)
    scores = []
    for i, seq in enumerate(trie.sequences):
        node, total = 0, 0.0
        for j, tok in enumerate(seq):
            kids = trie.children(node)
            lp = torch.log_softmax(logits[i, len(prompt) - 1 + j, kids], dim=-1)
            total += float(lp[kids.index(tok)])
            node = trie.step(node, tok)
        scores.append(total)
    return scores


def rank_metrics(ranked: Sequence[Sequence[int]], targets: Sequence[int], ks: Sequence[int] = (1, 5, 10)) -> Dict[str, float]:
    """HR@K (target among the first K) and NDCG@K (1/log2(rank+1) with one relevant item), averaged."""
    out = {f"hr@{k}": 0.0 for k in ks}
    out.update({f"ndcg@{k}": 0.0 for k in ks})
    n = len(targets)
    if n == 0:
        return out
    for items, target in zip(ranked, targets):
        items = list(items)
        rank = items.index(target) + 1 if target in items else None
        for k in ks:
            if rank is not None and rank <= k:
                out[f"hr@{k}"] += 1.0
                out[f"ndcg@{k}"] += 1.0 / math.log2(rank + 1)
    return {k: v / n for k, v in out.items()}


def evaluate_encoded(model, encoded, trie: TitleTrie, beam: int = 10, pad_id: int = 0, tau: float = 1.0,
                     ks: Sequence[int] = (1, 5, 10), max_batch: int = 256) -> Dict[str, float]:
    was_training = model.training
    model.eval()
    try:
        res = beam_search(model, [e.prompt for e in encoded], trie, beam=beam, pad_id=pad_id, tau=tau, max_batch=max_batch)
    finally:
        model.train(was_training)
    ranked = [[item for item, _ in r] for r in res]
    metrics = rank_metrics(ranked, [e.item for e in encoded], ks=[k for k in ks if k <= beam] or [beam])
    metrics["users"] = float(len(encoded))
    return metrics


@torch.no_grad()
def pruning_audit(model, encoded, trie: TitleTrie, beam: int = 10, pad_id: int = 0, tau: float = 1.0,
                  max_batch: int = 256) -> Dict[str, float]:
    """Beam-pruning risk (DESIGN.md section 6): among users whose target title is in the top B by its whole
    sequence probability (trie-masked, as decoding sees it), the share that beam search of width B still
    loses. The exhaustive scoring costs one forward pass per catalogue title per user: use few users."""
    was_training = model.training
    model.eval()
    try:
        results = beam_search(model, [e.prompt for e in encoded], trie, beam=beam, pad_id=pad_id, tau=tau, max_batch=max_batch)
        in_top, pruned, found = 0, 0, 0
        for e, res in zip(encoded, results):
            scores = sequence_logprobs(model, e.prompt, trie, pad_id=pad_id, tau=tau, max_batch=max_batch)
            rank = 1 + sum(1 for s in scores if s > scores[e.item])
            kept = e.item in [i for i, _ in res]
            found += kept
            if rank <= beam:
                in_top += 1
                pruned += not kept
        n = max(1, len(encoded))
        return {"users": float(len(encoded)), "target_in_top_b": in_top / n, "found_by_beam": found / n,
                "pruned_given_top_b": pruned / in_top if in_top else 0.0}
    finally:
        model.train(was_training)
