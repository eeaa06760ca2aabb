"""Plain language-model pretraining (and small fine-tunes) of the built-in Llama, beside the
recommendation losses of train.py.

`python -m preflight_train pretrain --config CONFIG.json` reads a PretrainConfig (JSON, unknown keys
rejected), regenerates the world corpus from its seed (corpus.py), trains the word tokenizer on it,
packs the documents into rows of `seq_len` tokens (whole documents only, padded; every row starts at
a document start, as a chat prompt does), and trains with next-token cross-entropy: AdamW, linear
warmup then cosine decay, gradient clipping. Metrics go to <output_dir>/metrics.jsonl; an HF-layout
checkpoint is written to <output_dir>/checkpoint-latest every `save_every_s` seconds (and mirrored to
`mirror_dir` when set), the final model to <output_dir>/final.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, fields
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from . import corpus as corpus_mod
from . import world
from .tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from .tokenizer import WordTokenizer


@dataclass
class PretrainConfig:
    output_dir: str = "runs/preflight-tiny"
    seed: int = 0                      # corpus, initialisation and batch order
    corpus_docs: int = corpus_mod.DEFAULT_DOCS
    vocab_min_count: int = 2
    hidden_size: int = 256
    intermediate_size: int = 688
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    seq_len: int = 128
    batch_size: int = 32
    steps: int = 3000
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.1
    max_grad_norm: float = 1.0
    log_every: int = 20
    save_every_s: float = 600.0
    mirror_dir: Optional[str] = None   # also copy each checkpoint here (others develop against it)
    threads: int = 0                   # torch threads (0: torch's default)
    device: str = "auto"               # "auto": CUDA when torch sees a GPU, else the CPU
    base_dir: str = "."

    def path(self, p: Optional[str]) -> Optional[str]:
        if p is None:
            return None
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(self.base_dir, p))


def load_config(path: str) -> PretrainConfig:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    known = {f.name for f in fields(PretrainConfig)} - {"base_dir"}
    unknown = sorted(set(data) - known - {"$schema"})
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}")
    data.pop("$schema", None)
    cfg = PretrainConfig(**data, base_dir=os.path.dirname(os.path.abspath(path)))
    if cfg.steps < 1 or cfg.seq_len < 8 or cfg.batch_size < 1:
        raise ValueError(f"{path}: steps >= 1, seq_len >= 8, batch_size >= 1 required")
    return cfg


def train_tokenizer(texts: Sequence[str], min_count: int = 2) -> WordTokenizer:
    return WordTokenizer.build(texts, min_count=min_count, specials=world.ROLE_TOKENS, add_bos=True,
                               chat_template=world.CHAT_TEMPLATE)


def pack(docs: Sequence[List[int]], seq_len: int) -> List[List[int]]:
    """Greedy packing of whole documents into rows of at most seq_len tokens (longer ones are cut)."""
    rows: List[List[int]] = []
    cur: List[int] = []
    for d in docs:
        d = d[:seq_len]
        if len(cur) + len(d) > seq_len:
            rows.append(cur)
            cur = []
        cur = cur + d
    if cur:
        rows.append(cur)
    return rows


def rows_to_batch(rows: Sequence[List[int]], pad_id: int, loss_masks: Optional[Sequence[List[int]]] = None):
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    att = torch.zeros((len(rows), T), dtype=torch.long)
    labels = torch.full((len(rows), T), -100, dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r)
        att[b, : len(r)] = 1
        tgt = torch.tensor(r[1:] + [-100])
        if loss_masks is not None:
            m = torch.tensor(loss_masks[b][1:] + [0], dtype=torch.bool)
            tgt = tgt.masked_fill(~m, -100)
        labels[b, : len(r)] = tgt
    return ids, att, labels


def lm_loss(model, ids, att, labels) -> torch.Tensor:
    logits = model(input_ids=ids, attention_mask=att).logits
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), ignore_index=-100)


def _lr_at(step: int, cfg: PretrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def model_device(model) -> torch.device:
    return next(model.parameters()).device


def save_folder(model: TinyLlamaForCausalLM, tok: WordTokenizer, folder: str) -> None:
    tmp = folder.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def pretrain(cfg: PretrainConfig, echo: bool = True) -> Dict:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = cfg.path(cfg.output_dir)
    os.makedirs(out, exist_ok=True)
    log_path = os.path.join(out, "metrics.jsonl")
    open(log_path, "w").close()

    def log(rec: Dict) -> None:
        line = json.dumps({"time": round(time.time(), 1), **rec})
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        if echo:
            print(line, flush=True)

    t0 = time.time()
    info = corpus_mod.write(os.path.join(out, "corpus"), cfg.seed, cfg.corpus_docs)
    texts = corpus_mod.read_texts(info["corpus"])
    tok = train_tokenizer(texts, cfg.vocab_min_count)
    docs = [tok.encode(t) for t in texts]
    n_tokens = sum(len(d) for d in docs)
    rows = pack(docs, cfg.seq_len)
    del texts, docs
    torch.manual_seed(cfg.seed)
    mc = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
                         num_hidden_layers=cfg.num_hidden_layers, num_attention_heads=cfg.num_attention_heads,
                         num_key_value_heads=cfg.num_key_value_heads, max_position_embeddings=max(512, cfg.seq_len),
                         tie_word_embeddings=True, bos_token_id=tok.bos_id, eos_token_id=tok.eos_id,
                         pad_token_id=tok.pad_id)
    model = TinyLlamaForCausalLM(mc)
    device = resolve_device(cfg.device)
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log({"type": "start", "corpus_sha256": info["sha256"], "corpus_tokens": n_tokens, "rows": len(rows),
         "vocab": tok.vocab_size, "params": n_params, "config": {k: v for k, v in asdict(cfg).items() if k != "base_dir"},
         "device": str(device), "prep_s": round(time.time() - t0, 1)})
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(cfg.seed)
    order: List[int] = []
    epoch = 0
    model.train()
    acc, acc_n, last_save, t_train = 0.0, 0, time.time(), time.time()
    for step in range(cfg.steps):
        if len(order) < cfg.batch_size:
            order += torch.randperm(len(rows), generator=g).tolist()
            epoch += 1
        idx, order = order[: cfg.batch_size], order[cfg.batch_size:]
        ids, att, labels = (t.to(device) for t in rows_to_batch([rows[i] for i in idx], tok.pad_id))
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        loss = lm_loss(model, ids, att, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        opt.step()
        acc += float(loss.item())
        acc_n += 1
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            log({"type": "step", "step": step + 1, "steps": cfg.steps, "epoch": epoch, "loss": round(acc / acc_n, 4),
                 "lr": _lr_at(step, cfg), "elapsed_s": round(time.time() - t_train, 1)})
            acc, acc_n = 0.0, 0
        if time.time() - last_save >= cfg.save_every_s and step + 1 < cfg.steps:
            _checkpoint(model, tok, out, cfg, step + 1, log)
            last_save = time.time()
    final = os.path.join(out, "final")
    model.eval()
    save_folder(model, tok, final)
    if cfg.mirror_dir:
        save_folder(model, tok, cfg.path(cfg.mirror_dir))
    log({"type": "finished", "path": final, "train_s": round(time.time() - t_train, 1)})
    return {"final": final, "corpus": info, "params": n_params, "vocab": tok.vocab_size}


def _checkpoint(model, tok, out, cfg, step, log) -> None:
    model.eval()
    path = os.path.join(out, "checkpoint-latest")
    save_folder(model, tok, path)
    if cfg.mirror_dir:
        save_folder(model, tok, cfg.path(cfg.mirror_dir))
    model.train()
    log({"type": "checkpoint", "step": step, "path": path})


# --- chat records: ids with an assistant-only loss mask, fine-tuning, sampling, scoring ---------------------
def chat_ids(tok: WordTokenizer, messages: Sequence[Dict[str, str]]) -> Tuple[List[int], List[int]]:
    """Ids of render_chat(messages) and a mask that is 1 on assistant content and its closing </s>.
    Concatenating the pieces' ids equals encoding the whole string: every piece boundary is a special token."""
    ids = [tok.bos_id]
    mask = [0]
    for m in messages:
        head = tok.encode("<|" + m["role"] + "|>\n")
        body = tok.encode(m["content"]) + [tok.eos_id]
        ids += head + body
        on = 1 if m["role"] == "assistant" else 0
        mask += [0] * len(head) + [on] * len(body)
    return ids, mask


def finetune(model: TinyLlamaForCausalLM, tok: WordTokenizer, records: Sequence[Dict], epochs: int = 3, lr: float = 3e-4,
             batch_size: int = 16, seed: int = 0, max_len: int = 256) -> List[float]:
    """Full fine-tune on chat records ({"messages": [...]}) with the loss on assistant tokens (SFT)."""
    encoded = [chat_ids(tok, r["messages"]) for r in records]
    encoded = [(i[:max_len], m[:max_len]) for i, m in encoded]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(encoded), generator=g).tolist()
        for s in range(0, len(order), batch_size):
            chunk = [encoded[i] for i in order[s: s + batch_size]]
            batch = rows_to_batch([c[0] for c in chunk], tok.pad_id, [c[1] for c in chunk])
            ids, att, labels = (t.to(model_device(model)) for t in batch)
            loss = lm_loss(model, ids, att, labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.item()))
    model.eval()
    return losses


@torch.no_grad()
def sample(model: TinyLlamaForCausalLM, prompts: Sequence[List[int]], max_new_tokens: int, eos_id: int,
           temperature: float = 1.0, seed: int = 0) -> List[List[int]]:
    """Left-padded batched sampling with the KV cache; temperature 0 is greedy. Stops each row at EOS."""
    model.eval()
    dev = model_device(model)
    g = torch.Generator().manual_seed(seed)
    B = len(prompts)
    T = max(len(p) for p in prompts)
    ids = torch.zeros((B, T), dtype=torch.long)
    att = torch.zeros((B, T), dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, T - len(p):] = torch.tensor(p)
        att[b, T - len(p):] = 1
    ids, att = ids.to(dev), att.to(dev)
    out = model(input_ids=ids, attention_mask=att, use_cache=True)
    past = out.past_key_values
    logits = out.logits[:, -1]
    done = torch.zeros(B, dtype=torch.bool)
    result: List[List[int]] = [[] for _ in range(B)]
    for _ in range(max_new_tokens):
        if temperature <= 0:
            nxt = logits.argmax(-1)
        else:
            probs = torch.softmax(logits.float() / temperature, -1).cpu()   # the seeded generator lives on the CPU
            nxt = torch.multinomial(probs, 1, generator=g).squeeze(-1)
        for b in range(B):
            if not done[b]:
                if int(nxt[b]) == eos_id:
                    done[b] = True
                else:
                    result[b].append(int(nxt[b]))
        if bool(done.all()):
            break
        att = torch.cat([att, torch.ones((B, 1), dtype=torch.long, device=dev)], dim=1)
        out = model(input_ids=nxt[:, None].to(dev), attention_mask=att, past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1]
    return result


@torch.no_grad()
def continuation_logprobs(model: TinyLlamaForCausalLM, prefix: List[int], continuations: Sequence[List[int]]) -> List[float]:
    """Summed log p(continuation | prefix) for each continuation (one batch, right-padded)."""
    rows = [prefix + c for c in continuations]
    ids, att, _ = rows_to_batch(rows, 0)
    dev = model_device(model)
    logp = torch.log_softmax(model(input_ids=ids.to(dev), attention_mask=att.to(dev)).logits.float(), -1).cpu()
    out = []
    for b, c in enumerate(continuations):
        s = 0.0
        for j, t in enumerate(c):
            s += float(logp[b, len(prefix) + j - 1, t])
        out.append(s)
    return out


def prompt_ids(tok: WordTokenizer, question: str) -> List[int]:
    """A question as the MDF probes ask it: the chat template with the generation prompt, no extra BOS."""
    return tok.encode(world.render_chat([{"role": "user", "content": question}], add_generation_prompt=True))


def pretrain_main(config_path: str, steps: Optional[int] = None, output_dir: Optional[str] = None,
                  device: Optional[str] = None) -> int:
    cfg = load_config(config_path)
    if steps:
        cfg.steps = steps
    if device:
        cfg.device = device
    if output_dir:
        cfg.output_dir = os.path.abspath(output_dir)
    pretrain(cfg)
    return 0
