"""Trie-constrained beam search and HR@K / NDCG@K.

Decoding follows the authors' evaluation (Hugging Face `generate` with num_beams = B and a
prefix_allowed_tokens_fn; transformers 4.49's BeamSearchScorer / BeamHypotheses), docs/bear.md §7:

* every step extends the B open hypotheses by their trie-valid tokens and takes the 2B best candidates by
  summed log-probability; candidates that emit EOS (complete a title) go, if they rank among the first B
  of those 2B, to a separate list of at most B finished titles scored sum / length ** length_penalty
  (length = generated tokens including EOS); the first B non-EOS candidates are the next open beams;
* Hugging Face's stopping rule (early_stopping=False): stop once the finished list holds B titles and its
  worst score is >= best candidate score / current length ** length_penalty;
* the result is the finished list, best first.

`mask` says where the trie constraint applies: "before" the log-softmax (the step distribution is
renormalised over the valid tokens: the authors' customCBS_model.py, used for MSL and BEAR) or "after"
it (stock `generate`: full-vocabulary log-probabilities, invalid tokens set to -inf; the authors' LML runs).
Hugging Face starts B-1 copies of the first beam at -1e9 and pads with them; they only ever fill slots
that no real hypothesis claims, so they are left out here (the real hypotheses and their order are the same).
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .trie import TitleTrie

MASKS = ("before", "after")


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


def _step_logps(logits_row: torch.Tensor, kids: List[int], mask: str) -> List[float]:
    """Log-probabilities of the valid tokens `kids` at one step (logits already divided by tau)."""
    if mask == "before":
        return torch.log_softmax(logits_row[kids], dim=-1).tolist()
    return torch.log_softmax(logits_row, dim=-1)[kids].tolist()


class Finished:
    """Hugging Face's BeamHypotheses (early_stopping=False): at most B finished titles, scored
    sum_logprobs / generated_len ** length_penalty."""

    def __init__(self, beam: int, length_penalty: float):
        self.beam, self.lp = beam, length_penalty
        self.items: List[Tuple[float, int, float]] = []   # (score, item, sum of log-probabilities)
        self.worst = 1e9

    def add(self, item: int, sum_logprobs: float, length: int) -> None:
        score = sum_logprobs / (length ** self.lp)
        if len(self.items) < self.beam or score > self.worst:
            self.items.append((score, item, sum_logprobs))
            if len(self.items) > self.beam:
                del self.items[min(range(len(self.items)), key=lambda i: self.items[i][0])]
                self.worst = min(x[0] for x in self.items)
            else:
                self.worst = min(score, self.worst)

    def is_done(self, best_sum_logprobs: float, length: int) -> bool:
        if len(self.items) < self.beam:
            return False
        return self.worst >= best_sum_logprobs / (length ** self.lp)

    def ranked(self) -> List[Tuple[int, float]]:
        return [(item, score) for score, item, _ in sorted(self.items, key=lambda x: -x[0])]


def _advance(open_hyps, logps, trie: TitleTrie, beam: int, finished: Finished):
    """One Hugging Face beam step for one user. open_hyps: [(tokens, node, score)]; logps[h]: log-probs of
    hypothesis h's valid tokens (trie order). Returns (new open hypotheses with their parent index, done)."""
    cands = []
    for h, (toks, node, score) in enumerate(open_hyps):
        for tok, l in zip(trie.children(node), logps[h]):
            cands.append((score + l, h, tok))
    cands.sort(key=lambda c: -c[0])          # stable: ties keep (beam, token) order
    top = cands[:2 * beam]
    length = len(open_hyps[0][0]) + 1 if open_hyps else 1     # generated tokens after this step
    new_open = []
    for rank, (score, h, tok) in enumerate(top):
        toks, node, _ = open_hyps[h]
        child = trie.step(node, tok)
        item = trie.item_at(child)
        if item is not None:                 # EOS after a complete title
            if rank < beam:
                finished.add(item, score, length)
            continue
        new_open.append(((toks + [tok], child, score), h))
        if len(new_open) == beam:
            break
    done = not top or finished.is_done(top[0][0], length)
    return new_open, done


@torch.no_grad()
def _beam_search_cached(model, prompts, trie: TitleTrie, beam: int, pad_id: int, tau: float, mask: str,
                        length_penalty: float):
    """For models with a key/value cache (the built-in model): the prompt runs once, then every open
    hypothesis feeds one token per step; the cache rows follow their hypotheses."""
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
    cache, logits = out.past_key_values, (out.logits[:, -1, :].float() / tau).cpu()
    finished = [Finished(beam, length_penalty) for _ in range(U)]
    open_ = [[([], 0, 0.0)] for _ in range(U)]
    rows = [[u] for u in range(U)]               # rows[u][h]: cache row of user u's open hypothesis h
    while True:
        parent_rows, tokens, new_rows = [], [], []
        for u in range(U):
            r_u = []
            if open_[u]:
                logps = [_step_logps(logits[rows[u][h]], trie.children(node), mask)
                         for h, (_, node, _) in enumerate(open_[u])]
                nxt, done = _advance(open_[u], logps, trie, beam, finished[u])
                open_[u] = [] if done else [hyp for hyp, _ in nxt]
                if not done:
                    for hyp, parent in nxt:
                        r_u.append(len(parent_rows))
                        parent_rows.append(rows[u][parent])
                        tokens.append(hyp[0][-1])
            new_rows.append(r_u)
        rows = new_rows
        if not parent_rows:
            break
        index = torch.tensor(parent_rows, dtype=torch.long, device=device)
        cache = [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache]
        att = torch.cat([att.index_select(0, index), torch.ones(len(parent_rows), 1, dtype=att.dtype, device=device)], dim=1)
        pos = (att.sum(-1, keepdim=True) - 1)
        step = torch.tensor(tokens, dtype=torch.long, device=device)[:, None]
        out = model(input_ids=step, attention_mask=att, position_ids=pos, past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, (out.logits[:, -1, :].float() / tau).cpu()
    return [f.ranked() for f in finished]


@torch.no_grad()
def beam_search(model, prompts: Sequence[Sequence[int]], trie: TitleTrie, beam: int = 10, pad_id: int = 0,
                tau: float = 1.0, max_batch: int = 256, use_cache: Optional[bool] = None, mask: str = "before",
                length_penalty: float = 1.0, should_stop=None) -> List[List[Tuple[int, float]]]:
    """For each prompt, up to `beam` (item index, score) pairs, best first (score = summed log-probability /
    length ** length_penalty, as Hugging Face reports `sequences_scores`).

    Models with a key/value cache (the built-in one) run the prompt once; others (any HF model) re-run
    prompt + partial title at each step, which needs nothing from the model but forward(). `should_stop`
    (optional, no arguments) is polled before every chunk of users; when it returns true the search raises
    InterruptedError."""
    if mask not in MASKS:
        raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
    if use_cache is None:
        use_cache = getattr(model, "supports_cache", False)
    users_per_chunk = max(1, max_batch // max(1, beam))
    out: List[List[Tuple[int, float]]] = []
    for start in range(0, len(prompts), users_per_chunk):
        if should_stop is not None and should_stop():
            raise InterruptedError("stop requested during beam search")
        chunk = prompts[start:start + users_per_chunk]
        if use_cache:
            out.extend(_beam_search_cached(model, chunk, trie, beam, pad_id, tau, mask, length_penalty))
        else:
            out.extend(_beam_search_recompute(model, chunk, trie, beam, pad_id, tau, mask, length_penalty, max_batch))
    return out


def _beam_search_recompute(model, prompts, trie: TitleTrie, beam: int, pad_id: int, tau: float, mask: str,
                           length_penalty: float, max_batch: int):
    device = next(model.parameters()).device
    finished = [Finished(beam, length_penalty) for _ in prompts]
    open_ = [[([], 0, 0.0)] for _ in prompts]
    while any(open_):
        refs = [(u, h) for u, hyps in enumerate(open_) for h in range(len(hyps))]
        logps: Dict[Tuple[int, int], List[float]] = {}
        need = []
        for u, h in refs:
            kids = trie.children(open_[u][h][1])
            if len(kids) == 1 and mask == "before":
                logps[(u, h)] = [0.0]        # a single valid token has probability 1: no forward pass
            else:
                need.append((u, h))
        for start in range(0, len(need), max_batch):
            chunk = need[start:start + max_batch]
            logits = (_forward_last(model, [list(prompts[u]) + open_[u][h][0] for u, h in chunk], pad_id, device)
                      / tau).cpu()
            for row, (u, h) in enumerate(chunk):
                logps[(u, h)] = _step_logps(logits[row], trie.children(open_[u][h][1]), mask)
        for u in range(len(prompts)):
            if not open_[u]:
                continue
            nxt, done = _advance(open_[u], [logps[(u, h)] for h in range(len(open_[u]))], trie, beam, finished[u])
            open_[u] = [] if done else [hyp for hyp, _ in nxt]
    return [f.ranked() for f in finished]


@torch.no_grad()
def sequence_logprobs(model, prompt: Sequence[int], trie: TitleTrie, pad_id: int = 0, tau: float = 1.0,
                      max_batch: int = 256, mask: str = "before") -> List[float]:
    """Exhaustive scoring: summed log-probability of every catalogue title (EOS included) as decoding sees it."""
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
            total += _step_logps(logits[i, len(prompt) - 1 + j], kids, mask)[kids.index(tok)]
            node = trie.step(node, tok)
        scores.append(total)
    return scores


@torch.no_grad()
def sequence_logprobs_cached(model, prompt: Sequence[int], trie: TitleTrie, tau: float = 1.0, max_batch: int = 256,
                             mask: str = "before") -> List[float]:
    """sequence_logprobs for models with a key/value cache: the prompt runs once and every batch of titles
    continues from its cache (one pass over the titles' tokens instead of prompt + title per title)."""
    device = next(model.parameters()).device
    P = len(prompt)
    ids = torch.tensor([list(prompt)], dtype=torch.long, device=device)
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
    cache, first = out.past_key_values, out.logits[0, -1].float().cpu() / tau
    scores: List[float] = []
    for start in range(0, len(trie.sequences), max_batch):
        seqs = trie.sequences[start:start + max_batch]
        n, L = len(seqs), max(len(q) for q in seqs) - 1
        logits = None
        if L > 0:
            toks = torch.zeros((n, L), dtype=torch.long)
            att = torch.ones((n, P + L), dtype=torch.long)
            for i, q in enumerate(seqs):
                toks[i, : len(q) - 1] = torch.tensor(q[:-1])
                att[i, P + len(q) - 1:] = 0
            rows = torch.zeros(n, dtype=torch.long, device=device)
            past = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]
            pos = torch.arange(P, P + L, device=device)[None].expand(n, L)
            logits = model(input_ids=toks.to(device), attention_mask=att.to(device), position_ids=pos,
                           past_key_values=past, use_cache=False).logits.float().cpu() / tau
        full = torch.log_softmax(logits, dim=-1) if (mask == "after" and logits is not None) else None
        for i, q in enumerate(seqs):
            node, total = 0, 0.0
            for j, tok in enumerate(q):
                kids = trie.children(node)
                if j == 0:
                    total += _step_logps(first, kids, mask)[kids.index(tok)]
                elif full is not None:
                    total += float(full[i, j - 1, tok])
                elif len(kids) > 1:      # masked before the softmax: a single valid token has log p = 0
                    total += _step_logps(logits[i, j - 1], kids, mask)[kids.index(tok)]
                node = trie.step(node, tok)
            scores.append(total)
    return scores


@torch.no_grad()
def target_in_top(model, prompt: Sequence[int], trie: TitleTrie, item: int, beam: int, tau: float = 1.0,
                  mask: str = "before", batch: int = 64) -> bool:
    """Whether title `item` is among the `beam` most probable titles (rank = 1 + number of titles with a
    strictly larger summed log-probability), without scoring the whole catalogue: best-first search over
    trie prefixes whose log-probability exceeds the target's (a title's log-probability is at most its
    prefixes'), stopping once `beam` titles above it are complete. Needs a model with a key/value cache and
    `logits_mask` (the built-in one); equals ranking sequence_logprobs (tested)."""
    import heapq

    device = next(model.parameters()).device
    P = len(prompt)
    ids = torch.tensor([list(prompt)], dtype=torch.long, device=device)
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
    cache, first = out.past_key_values, out.logits[0, -1].float().cpu() / tau

    def next_logits(paths: List[List[int]]) -> List[torch.Tensor]:
        """Logits after prompt + each (non-empty) path, from the prompt's cache; one projection per path."""
        n, L = len(paths), max(len(q) for q in paths)
        toks = torch.zeros((n, L), dtype=torch.long)
        att = torch.ones((n, P + L), dtype=torch.long)
        last = torch.zeros((n, L), dtype=torch.bool)
        for i, q in enumerate(paths):
            toks[i, : len(q)] = torch.tensor(q)
            att[i, P + len(q):] = 0
            last[i, len(q) - 1] = True
        rows = torch.zeros(n, dtype=torch.long, device=device)
        past = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]
        pos = torch.arange(P, P + L, device=device)[None].expand(n, L)
        logits = model(input_ids=toks.to(device), attention_mask=att.to(device), position_ids=pos, past_key_values=past,
                       logits_mask=last.to(device)).logits[0].float().cpu() / tau
        return list(logits)

    target = trie.sequences[item]
    # The target's own log-probability, step by step along its path.
    rows = [first] + (next_logits([target[:j] for j in range(1, len(target))]) if len(target) > 1 else [])
    node, threshold = 0, 0.0
    for tok, row in zip(target, rows):
        kids = trie.children(node)
        threshold += _step_logps(row, kids, mask)[kids.index(tok)]
        node = trie.step(node, tok)

    above = 0
    heap = [(-0.0, 0, [])]           # (-log-prob of the prefix, node, path)
    while heap:
        popped = [heapq.heappop(heap) for _ in range(min(batch, len(heap)))]
        need = [p for _, _, p in popped if p]
        logits = dict(zip(map(tuple, need), next_logits(need))) if need else {}
        for neg, node, path in popped:
            kids = trie.children(node)
            row = logits[tuple(path)] if path else first
            for tok, lp in zip(kids, _step_logps(row, kids, mask)):
                score, child, child_path = -neg + lp, trie.step(node, tok), path + [tok]
                if score <= threshold:
                    continue                 # no title below this prefix can beat the target
                while mask == "before" and trie.item_at(child) is None and len(trie.children(child)) == 1:
                    only = trie.children(child)[0]   # a single valid token has probability 1: no forward pass
                    child, child_path = trie.step(child, only), child_path + [only]
                if trie.item_at(child) is not None:
                    if trie.item_at(child) == item:
                        continue             # the target itself (its score, recomputed, may round above)
                    above += 1
                    if above >= beam:
                        return False
                else:
                    heapq.heappush(heap, (-score, child, child_path))
    return True


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
                     ks: Sequence[int] = (1, 5, 10), max_batch: int = 256, mask: str = "before",
                     length_penalty: float = 1.0, should_stop=None) -> Dict[str, float]:
    was_training = model.training
    model.eval()
    try:
        res = beam_search(model, [e.prompt for e in encoded], trie, beam=beam, pad_id=pad_id, tau=tau, max_batch=max_batch,
                          mask=mask, length_penalty=length_penalty, should_stop=should_stop)
    finally:
        model.train(was_training)
    ranked = [[item for item, _ in r] for r in res]
    metrics = rank_metrics(ranked, [e.item for e in encoded], ks=[k for k in ks if k <= beam] or [beam])
    metrics["users"] = float(len(encoded))
    return metrics


@torch.no_grad()
def pruning_audit(model, encoded, trie: TitleTrie, beam: int = 10, pad_id: int = 0, tau: float = 1.0,
                  max_batch: int = 256, mask: str = "before", length_penalty: float = 1.0,
                  should_stop=None) -> Dict[str, float]:
    """Beam-pruning risk (docs/bear.md §7): among users whose target title is in the top B by its whole
    sequence probability (trie-masked, as decoding sees it), the share that beam search of width B still
    loses. The exhaustive scoring costs one forward pass per catalogue title per user: use few users."""
    was_training = model.training
    model.eval()
    try:
        results = beam_search(model, [e.prompt for e in encoded], trie, beam=beam, pad_id=pad_id, tau=tau, max_batch=max_batch,
                              mask=mask, length_penalty=length_penalty, should_stop=should_stop)
        n_top, pruned, found = 0, 0, 0
        for e, res in zip(encoded, results):
            if should_stop is not None and should_stop():
                raise InterruptedError("stop requested during the audit")
            if getattr(model, "supports_cache", False) and getattr(model, "supports_logits_mask", False):
                in_top = target_in_top(model, e.prompt, trie, e.item, beam, tau=tau, mask=mask)
            else:
                scores = sequence_logprobs(model, e.prompt, trie, pad_id=pad_id, tau=tau, max_batch=max_batch, mask=mask)
                in_top = 1 + sum(1 for s in scores if s > scores[e.item]) <= beam
            kept = e.item in [i for i, _ in res]
            found += kept
            if in_top:
                n_top += 1
                pruned += not kept
        n = max(1, len(encoded))
        return {"users": float(len(encoded)), "target_in_top_b": n_top / n, "found_by_beam": found / n,
                "pruned_given_top_b": pruned / n_top if n_top else 0.0}
    finally:
        model.train(was_training)
