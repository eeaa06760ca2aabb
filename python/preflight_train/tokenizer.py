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


def split_on_specials(text: str, specials: List[str]) -> List[tuple]:
    """[(segment, is_special)]: leftmost-longest matches of the special tokens, as tokenizers' AddedVocabulary."""
    out: List[tuple] = []
    if not specials:
        return [(text, False)]
    by_first: Dict[str, List[str]] = {}
    for t in sorted(set(specials), key=len, reverse=True):
        by_first.setdefault(t[0], []).append(t)
    start = i = 0
    n = len(text)
    while i < n:
        match = None
        for t in by_first.get(text[i], ()):
            if text.startswith(t, i):
                match = t
                break
        if match is None:
            i += 1
            continue
        if i > start:
            out.append((text[start:i], False))
        out.append((match, True))
        i += len(match)
        start = i
    if start < n:
        out.append((text[start:], False))
    return out


class WordTokenizer:
    """Word-level vocabulary with a WordPiece character fallback, saved as tokenizer.json."""

    def __init__(self, vocab: Dict[str, int], max_input_chars_per_word: int = 100,
                 specials: Optional[List[str]] = None, add_bos: bool = False,
                 chat_template: Optional[str] = None):
        self.vocab = dict(vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.max_input_chars_per_word = max_input_chars_per_word
        self.pad_id = self.vocab[PAD]
        self.unk_id = self.vocab[UNK]
        self.bos_id = self.vocab[BOS]
        self.eos_id = self.vocab[EOS]
        # Added special tokens (tokenizer.json "added_tokens"): matched in raw text before pre-tokenization,
        # as the HF library does; chat role markers like <|user|> are among them for preflight-tiny.
        self.specials: List[str] = list(dict.fromkeys(list(SPECIALS) + list(specials or [])))
        self.add_bos = add_bos               # post_processor TemplateProcessing "<s> $A" (preflight-tiny)
        self.chat_template = chat_template
        # The BEAR built-in model is trained from scratch without BOS; preflight-tiny saw BOS first.
        self.prompt_prefix: List[int] = [self.bos_id] if add_bos else []

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1, pad_to_multiple: int = 1,
              specials: Optional[List[str]] = None, add_bos: bool = False,
              chat_template: Optional[str] = None, max_words: int = 0) -> "WordTokenizer":
        """Vocabulary: special tokens, every character (and its ## continuation), then words by frequency
        (at least `min_count` occurrences; at most `max_words` of them when > 0)."""
        all_specials = list(dict.fromkeys(list(SPECIALS) + list(specials or [])))
        counts: Dict[str, int] = {}
        chars = set()
        for text in texts:
            for segment, is_special in split_on_specials(text, all_specials):
                if is_special:
                    continue
                for word in bert_pre_tokenize(segment):
                    counts[word] = counts.get(word, 0) + 1
                    chars.update(word)
        tokens = list(all_specials)
        for ch in sorted(chars):
            tokens.append(ch)
        for ch in sorted(chars):
            if not _is_punctuation(ch):
                tokens.append("##" + ch)
        seen = set(tokens)
        n_words = 0
        for word in sorted(counts, key=lambda w: (-counts[w], w)):
            if max_words and n_words >= max_words:
                break
            if counts[word] >= min_count and word not in seen:
                tokens.append(word)
                seen.add(word)
                n_words += 1
        # Optional padding of the vocabulary (e.g. to a realistic size for benchmarks).
        i = 0
        while len(tokens) % pad_to_multiple:
            tokens.append(f"[unused{i}]")
            i += 1
        return cls({t: i for i, t in enumerate(tokens)}, specials=all_specials, add_bos=add_bos,
                   chat_template=chat_template)

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

    def encode(self, text: str, add_special_tokens: bool = False) -> List[int]:
        """Ids of `text` as tokenizer.json yields them: added tokens ("<s>", "<|user|>") found in the raw
        text first, the rest pre-tokenized and split into word pieces; BOS in front only with
        add_special_tokens=True and a "<s> $A" post-processor (the default False adds nothing)."""
        ids: List[int] = [self.bos_id] if (add_special_tokens and self.add_bos) else []
        for segment, is_special in split_on_specials(text, self.specials):
            if is_special:
                ids.append(self.vocab[segment])
                continue
            for word in bert_pre_tokenize(segment):
                ids.extend(self._word_pieces(word))
        return ids

    def render_chat(self, messages, add_generation_prompt: bool = False) -> str:
        """The chat template's string for `messages` (preflight-tiny's template; see world.render_chat)."""
        if not self.chat_template:
            raise ValueError("this tokenizer has no chat template")
        from .world import CHAT_TEMPLATE, render_chat

        if self.chat_template != CHAT_TEMPLATE:
            raise ValueError("only preflight-tiny's chat template is rendered in Python")
        return render_chat(messages, add_generation_prompt)

    def decode(self, ids: Iterable[int]) -> str:
        words: List[str] = []
        specials = set(self.specials)
        for i in ids:
            tok = self.id_to_token.get(int(i), UNK)
            if tok in specials:
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
                for t in self.specials
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": self._post_processor(),
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
        if self.chat_template:
            config["chat_template"] = self.chat_template
            config["add_bos_token"] = False   # the template writes <s> itself
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
        specials = [t["content"] for t in data.get("added_tokens") or [] if t.get("special")]
        post = data.get("post_processor") or {}
        add_bos = post.get("type") == "TemplateProcessing"
        if post and not add_bos:
            raise ValueError(f"{path}: unsupported post_processor {post.get('type')!r}")
        template = None
        config_path = os.path.join(os.path.dirname(path), "tokenizer_config.json")
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as f:
                template = json.load(f).get("chat_template")
        return cls(model["vocab"], model.get("max_input_chars_per_word", 100), specials=specials, add_bos=add_bos,
                   chat_template=template if isinstance(template, str) else None)

    def _post_processor(self):
        if not self.add_bos:
            return None
        bos = {"SpecialToken": {"id": BOS, "type_id": 0}}
        return {"type": "TemplateProcessing",
                "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [self.bos_id], "tokens": [BOS]}}}


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
