"""Tokenisers.

`WordTokenizer` is the built-in model's tokenizer: whole words from the catalogue and prompt
template, with single characters (and their `##` continuations) as a fallback so no text maps to
[UNK]. It is stored as a Hugging Face `tokenizer.json` (BertPreTokenizer + WordPiece), a format
that both the Rust `tokenizers` crate and the TypeScript `@huggingface/tokenizers` package read,
and this module reimplements exactly the encoding those libraries perform, so Python (which has
no `tokenizers` package on Debian) and TypeScript produce the same ids.

`HFTokenizer` wraps `transformers.AutoTokenizer` for real checkpoints (imported lazily).
"""

from __future__ import annotations

import json
import os
import unicodedata
from typing import Dict, Iterable, List, Optional

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "<s>", "</s>"
SPECIALS = [PAD, UNK, BOS, EOS]


def _is_punctuation(ch: str) -> bool:
    # Same set as tokenizers' BertPreTokenizer: ASCII symbol ranges plus Unicode category P*.
    cp = ord(ch)
    if 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E:
        return True
    return unicodedata.category(ch).startswith("P")


def bert_pre_tokenize(text: str) -> List[str]:
    """Split on whitespace; every punctuation character becomes its own piece."""
    pieces: List[str] = []
    current: List[str] = []
    for ch in text:
        if ch.isspace():
            if current:
                pieces.append("".join(current))
                current = []
        elif _is_punctuation(ch):
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(ch)
        else:
            current.append(ch)
    if current:
        pieces.append("".join(current))
    return pieces


class WordTokenizer:
    """Word-level vocabulary with a WordPiece character fallback, saved as tokenizer.json."""

    def __init__(self, vocab: Dict[str, int], max_input_chars_per_word: int = 100):
        self.vocab = dict(vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.max_input_chars_per_word = max_input_chars_per_word
        self.pad_id = self.vocab[PAD]
        self.unk_id = self.vocab[UNK]
        self.bos_id = self.vocab[BOS]
        self.eos_id = self.vocab[EOS]
        self.prompt_prefix: List[int] = []   # the built-in model is trained from scratch without BOS

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1, pad_to_multiple: int = 1) -> "WordTokenizer":
        counts: Dict[str, int] = {}
        chars = set()
        for text in texts:
            for word in bert_pre_tokenize(text):
                counts[word] = counts.get(word, 0) + 1
                chars.update(word)
        tokens = list(SPECIALS)
        for ch in sorted(chars):
            tokens.append(ch)
        for ch in sorted(chars):
            if not _is_punctuation(ch):
                tokens.append("##" + ch)
        seen = set(tokens)
        for word in sorted(counts, key=lambda w: (-counts[w], w)):
            if counts[word] >= min_count and word not in seen:
                tokens.append(word)
                seen.add(word)
        # Optional padding of the vocabulary (e.g. to a realistic size for benchmarks).
        i = 0
        while len(tokens) % pad_to_multiple:
            tokens.append(f"[unused{i}]")
            i += 1
        return cls({t: i for i, t in enumerate(tokens)})

    def _word_pieces(self, word: str) -> List[int]:
        chars = list(word)
        if len(chars) > self.max_input_chars_per_word:
            return [self.unk_id]
        out: List[int] = []
        start = 0
        while start < len(chars):
            end = len(chars)
            found = None
            while start < end:
                sub = "".join(chars[start:end])
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    found = self.vocab[sub]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            out.append(found)
            start = end
        return out

    def encode(self, text: str) -> List[int]:
        """Ids of `text` without special tokens (what tokenizer.json yields with add_special_tokens=False)."""
        ids: List[int] = []
        for word in bert_pre_tokenize(text.strip()):
            ids.extend(self._word_pieces(word))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        words: List[str] = []
        for i in ids:
            tok = self.id_to_token.get(int(i), UNK)
            if tok in SPECIALS:
                continue
            if tok.startswith("##") and words:
                words[-1] += tok[2:]
            else:
                words.append(tok)
        return " ".join(words)

    def to_json(self) -> dict:
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": True}
                for t in SPECIALS
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": None,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {
                "type": "WordPiece",
                "unk_token": UNK,
                "continuing_subword_prefix": "##",
                "max_input_chars_per_word": self.max_input_chars_per_word,
                "vocab": self.vocab,
            },
        }

    def save(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False)
        config = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": BOS, "eos_token": EOS, "unk_token": UNK, "pad_token": PAD,
            "model_max_length": 4096, "clean_up_tokenization_spaces": False,
        }
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)

    @classmethod
    def load(cls, folder_or_file: str) -> "WordTokenizer":
        path = folder_or_file
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        model = data.get("model", {})
        if model.get("type") != "WordPiece" or (data.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer":
            raise ValueError(f"{path}: not a Preflight word tokenizer (WordPiece + BertPreTokenizer)")
        return cls(model["vocab"], model.get("max_input_chars_per_word", 100))


class HFTokenizer:
    """A transformers tokenizer behind the same small interface (encode without specials, eos/pad ids)."""

    def __init__(self, path: str):
        from transformers import AutoTokenizer  # lazy: optional dependency

        self.tok = AutoTokenizer.from_pretrained(path)
        if self.tok.eos_token_id is None:
            raise ValueError(f"{path}: tokenizer has no EOS token")
        self.eos_id = int(self.tok.eos_token_id)
        self.pad_id = int(self.tok.pad_token_id) if self.tok.pad_token_id is not None else self.eos_id
        self.vocab_size = len(self.tok)
        # The special tokens the model expects before a prompt (Llama's BOS; none for Qwen), found the
        # way the tokenizer itself adds them.
        with_specials = list(self.tok("a", add_special_tokens=True)["input_ids"])
        plain = list(self.tok("a", add_special_tokens=False)["input_ids"])
        self.prompt_prefix: List[int] = []
        for i in range(len(with_specials) - len(plain) + 1):
            if with_specials[i:i + len(plain)] == plain:
                self.prompt_prefix = with_specials[:i]
                break

    def encode(self, text: str) -> List[int]:
        return list(self.tok(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Iterable[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=True)

    def save(self, folder: str) -> None:
        self.tok.save_pretrained(folder)


def load_tokenizer(folder: str, prefer_hf: Optional[bool] = None):
    """WordTokenizer for Preflight's own tokenizer.json, else transformers' AutoTokenizer."""
    path = os.path.join(folder, "tokenizer.json")
    if prefer_hf is not True and os.path.exists(path):
        try:
            return WordTokenizer.load(path)
        except ValueError:
            if prefer_hf is False:
                raise
    return HFTokenizer(folder)
