"""Prefix trie of the catalogue's titles, tokenised exactly as training tokenises a response.

Every path from the root spells `encode('"' + title + '"') + [eos]`, so a leaf is reached only by
emitting EOS after a complete title, and a path identifies one item.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple


class TitleTrie:
    def __init__(self, sequences: Sequence[Sequence[int]], titles: Sequence[str]):
        if len(sequences) != len(titles):
            raise ValueError("one token sequence per title")
        self.titles = list(titles)
        self.sequences = [list(s) for s in sequences]
        self._children: List[Dict[int, int]] = [{}]   # node -> {token: child node}
        self._item: Dict[int, int] = {}                # leaf node -> item index
        for item, seq in enumerate(self.sequences):
            node = 0
            for tok in seq:
                nxt = self._children[node].get(tok)
                if nxt is None:
                    nxt = len(self._children)
                    self._children.append({})
                    self._children[node][tok] = nxt
                node = nxt
            if node in self._item:
                raise ValueError(f"titles {self.titles[self._item[node]]!r} and {titles[item]!r} tokenise identically")
            if self._children[node]:
                raise ValueError(f"title {titles[item]!r} is a prefix of another title's token sequence")
            self._item[node] = item
        self._child_list = [sorted(c) for c in self._children]

    @classmethod
    def from_titles(cls, titles: Iterable[str], tokenizer) -> "TitleTrie":
        from .data import response_ids

        titles = list(titles)
        return cls([response_ids(tokenizer, t) for t in titles], titles)

    def node(self, prefix: Sequence[int]) -> Optional[int]:
        node = 0
        for tok in prefix:
            node = self._children[node].get(int(tok))
            if node is None:
                return None
        return node

    def children(self, node: int) -> List[int]:
        return self._child_list[node]

    def step(self, node: int, token: int) -> Optional[int]:
        return self._children[node].get(int(token))

    def allowed(self, prefix: Sequence[int]) -> List[int]:
        n = self.node(prefix)
        return [] if n is None else self._child_list[n]

    def item_at(self, node: int) -> Optional[int]:
        return self._item.get(node)

    def allowed_along(self, seq: Sequence[int]) -> List[List[int]]:
        """Valid children at every position of one title's token sequence (for MSL/BEAR)."""
        out, node = [], 0
        for tok in seq:
            out.append(self._child_list[node])
            node = self._children[node][int(tok)]
        return out

    def __len__(self) -> int:
        return len(self.titles)
