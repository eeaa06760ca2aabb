"""The training loop: AdamW + linear warmup/decay, gradient accumulation, bf16/fp16 autocast on GPU,
an HF-layout checkpoint with optimiser/scheduler/RNG state after every epoch, exact resume, epoch
selection on the validation split, and metrics streamed as JSON lines to <output_dir>/metrics.jsonl
and stdout.

Several GPUs only through the standard launchers: under `torchrun` / `accelerate launch` the
environment carries WORLD_SIZE/RANK/LOCAL_RANK and the model is wrapped in DistributedDataParallel;
rank 0 evaluates, logs and writes checkpoints. Every rank runs the same number of steps (equal shards,
checked across ranks before training), a stop request is agreed on by all ranks at each step, and the
process group has a timeout (train.ddp_timeout) so a rank left waiting fails with a message instead of
hanging.

A stop (SIGTERM/SIGINT/SIGHUP) is honoured between training micro-batches, during validation and test
decoding, and before checkpoint writes and the merged export; the run then ends as "stopped".
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import shutil
import signal
import sys
import time
from contextlib import nullcontext
from typing import Dict, List, Optional

import numpy as np
import torch

from . import config as config_mod
from .config import RunConfig
from .data import catalogue_from, collate, encode_records, load_catalogue, load_id2name, load_records
from .evaluate import evaluate_encoded, pruning_audit
from .losses import compact_targets, loss_by_name
from .loading import export_merged, load_model, save_model
from .state_io import has_state, load_state, save_state, LEGACY_PICKLE, StateError
from .synth import generate
from .trie import TitleTrie


class StopRequested(Exception):
    pass


class DistributedError(RuntimeError):
    """A collective failed or timed out: a rank died or the ranks fell out of step (one line for the user)."""


class Stopper:
    """Turns SIGTERM/SIGINT/SIGHUP (VS Code's 'terminate task', Ctrl+C) into a clean stop at the next step."""

    def __init__(self):
        self.requested = False

    def install(self):
        for sig in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                try:
                    signal.signal(sig, self._handle)
                except (ValueError, OSError):  # not the main thread
                    pass
        return self

    def _handle(self, *_):
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise StopRequested()


class RunLog:
    """metrics.jsonl + stdout + status.json (rank 0 only)."""

    def __init__(self, out_dir: str, active: bool, echo: bool = True):
        self.active = active
        self.echo = echo
        self.path = os.path.join(out_dir, "metrics.jsonl")
        self.status_path = os.path.join(out_dir, "status.json")
        self.status: Dict = {"state": "running", "pid": os.getpid(), "started": time.time()}

    def write(self, record: Dict) -> None:
        if not self.active:
            return
        record = {"time": round(time.time(), 3), **record}
        line = json.dumps(record)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        if self.echo:
            try:
                print(line, flush=True)
            except (OSError, ValueError):  # the terminal went away (task terminated): keep logging to the file
                self.echo = False

    def set_status(self, **kw) -> None:
        if not self.active:
            return
        self.status.update(kw)
        self.status["updated"] = time.time()
        tmp = self.status_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.status, f, indent=2)
        os.replace(tmp, self.status_path)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def _rng_state() -> Dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Dict) -> None:
    version, internal, gauss = state["python"]   # JSON round trip: rebuild the tuples random.setstate wants
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _distributed():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local


def _precision(cfg: RunConfig, device: torch.device):
    p = cfg.train.precision
    if device.type != "cuda" or p == "fp32":
        return None
    if p == "auto":
        p = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return torch.bfloat16 if p == "bf16" else torch.float16


def prepare_data(cfg: RunConfig, out_dir: str, write: bool = True):
    """(splits, catalogue titles). `write=False` reads synthetic data another rank has written."""
    d = cfg.data
    paths = {"train": cfg.path(d.train), "valid": cfg.path(d.valid), "test": cfg.path(d.test), "items": cfg.path(d.items)}
    if d.synthetic is not None:
        s = d.synthetic
        if write:
            gen = generate(os.path.join(out_dir, "data"), genres=s.genres, per_genre=s.per_genre, users=s.users,
                           seed=s.seed, max_history=d.max_history, p_next=s.p_next, p_genre=s.p_genre)
            paths = {"train": gen["train"], "valid": gen["valid"], "test": gen["test"], "items": gen["items"]}
        else:
            paths = dict(zip(("train", "valid", "test", "items"), _synthetic_paths(cfg, out_dir)))
    id2name = load_id2name(paths["items"]) if paths.get("items") and paths["items"].endswith(".json") else None
    splits = {}
    for name in ("train", "valid", "test"):
        if paths.get(name):
            splits[name] = load_records(paths[name], id2name, max_history=d.max_history)
    if paths.get("items") and id2name is None:
        titles = load_catalogue(paths["items"])
        titles = catalogue_from(list(splits.values()), {str(i): t for i, t in enumerate(titles)})
    else:
        titles = catalogue_from(list(splits.values()), id2name)
    return splits, titles


def _latest_checkpoint(out_dir: str) -> Optional[str]:
    """The last epoch's checkpoint folder that holds a trainer state (a legacy pickle counts, so that resume
    refuses it with a message instead of silently starting over)."""
    best, best_epoch = None, -1
    if not os.path.isdir(out_dir):
        return None
    for name in os.listdir(out_dir):
        folder = os.path.join(out_dir, name)
        suffix = name[len("checkpoint-epoch"):]
        if name.startswith("checkpoint-epoch") and suffix.isdigit() and (
                has_state(folder) or os.path.exists(os.path.join(folder, LEGACY_PICKLE))):
            if int(suffix) > best_epoch:
                best, best_epoch = folder, int(suffix)
    return best


def _stoppable(fn):
    """Runs a decoding pass that polls the stopper; its InterruptedError becomes StopRequested."""
    try:
        return fn()
    except InterruptedError:
        raise StopRequested() from None


def _synthetic_paths(cfg: RunConfig, out_dir: str) -> List[str]:
    folder = os.path.join(out_dir, "data")
    return [os.path.join(folder, n) for n in ("train.jsonl", "valid.jsonl", "test.jsonl", "items.json")]


def _wait_for_synthetic(cfg: RunConfig, out_dir: str) -> None:
    missing = [p for p in _synthetic_paths(cfg, out_dir) if not os.path.exists(p)]
    if missing:
        raise ValueError(f"rank 0 did not write the synthetic data: {missing[0]} is missing")


def _lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))
    return f


def train(cfg: RunConfig, stopper: Optional[Stopper] = None, echo: bool = True, data=None) -> Dict:
    """Runs cfg. `data` = (splits, titles) already in memory (benchmarks that subsample a data set without
    writing a copy of it) replaces reading cfg.data's files."""
    world, rank, local = _distributed()
    if world > 1 and not torch.distributed.is_initialized():
        # NCCL honours the timeout only with async error handling (the variable's name changed in torch 2.2).
        os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
        torch.distributed.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo",
                                             timeout=datetime.timedelta(seconds=cfg.train.ddp_timeout))
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    main = rank == 0
    out_dir = cfg.path(cfg.output_dir)
    os.makedirs(out_dir, exist_ok=True)
    log = RunLog(out_dir, main, echo=echo)
    stopper = stopper or Stopper()
    try:
        return _train(cfg, out_dir, log, stopper, world, rank, device, data)
    except StopRequested:
        log.write({"type": "status", "state": "stopped"})
        log.set_status(state="stopped")
        raise
    except Exception as exc:
        original = exc
        if world > 1 and isinstance(exc, RuntimeError):
            exc = DistributedError(f"distributed training failed on rank {rank} (a rank died, or the ranks fell out "
                               f"of step for more than train.ddp_timeout = {cfg.train.ddp_timeout} s): {exc}")
        log.write({"type": "status", "state": "failed", "error": f"{type(exc).__name__}: {exc}"})
        log.set_status(state="failed", error=f"{type(exc).__name__}: {exc}")
        if exc is not original:
            raise exc from None
        raise


def _train(cfg: RunConfig, out_dir: str, log: RunLog, stopper: Stopper, world: int, rank: int, device, data=None) -> Dict:
    main = rank == 0
    _seed_all(cfg.train.seed)
    if data is not None:
        splits, titles = data
    elif world > 1 and cfg.data.synthetic is not None:
        # Rank 0 writes the synthetic files once; the others read them after the barrier, when complete.
        if main:
            splits, titles = prepare_data(cfg, out_dir)
        torch.distributed.barrier()
        if not main:
            _wait_for_synthetic(cfg, out_dir)
            splits, titles = prepare_data(cfg, out_dir, write=False)
    else:
        splits, titles = prepare_data(cfg, out_dir)
    if "train" not in splits or "valid" not in splits:
        raise ValueError("training needs a train and a valid split")

    resume_from, state = None, None
    if cfg.resume:
        resume_from = _latest_checkpoint(out_dir) if cfg.resume == "latest" else cfg.path(cfg.resume)
    if resume_from:
        state = load_state(resume_from)   # JSON + safetensors only; refuses pickles, before anything is loaded
    amp_dtype = _precision(cfg, device)
    # LoRA on a GPU: keep the frozen base in bf16/fp16 (peft keeps the adapters in fp32).
    base_dtype = amp_dtype if (cfg.model.type == "hf" and cfg.lora.enabled and amp_dtype is not None) else None
    model, tok = load_model(cfg, titles, checkpoint=resume_from, dtype=base_dtype)
    model.to(device)
    trie = TitleTrie.from_titles(titles, tok)
    enc = {k: encode_records(v, tok, trie, cfg.data.max_prompt_tokens) for k, v in splits.items()}
    for k in ("valid", "test"):
        if k in enc and cfg.eval.max_users:
            enc[k] = enc[k][: cfg.eval.max_users]

    train_model = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        train_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    n_train = len(enc["train"]) // world * world
    if world > 1:
        # Equal shards need the same data on every rank: compare the sizes before the first collective of DDP.
        sizes = torch.tensor([len(enc["train"]), len(enc["valid"])], dtype=torch.long)
        lo, hi = sizes.clone(), sizes.clone()
        torch.distributed.all_reduce(lo, op=torch.distributed.ReduceOp.MIN)
        torch.distributed.all_reduce(hi, op=torch.distributed.ReduceOp.MAX)
        if not torch.equal(lo, hi):
            raise ValueError(f"the ranks loaded different data (train sizes {lo[0].item()}..{hi[0].item()}): "
                             "every rank must read the same files")
    micro_per_epoch = math.ceil(n_train / world / cfg.train.batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / cfg.train.grad_accum)
    total_steps = steps_per_epoch * cfg.train.epochs
    if cfg.train.max_steps:
        total_steps = min(total_steps, cfg.train.max_steps)
    warmup = int(round(cfg.train.warmup_ratio * total_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(warmup, total_steps))
    scaler = torch.cuda.amp.GradScaler() if amp_dtype == torch.float16 else None

    start_epoch, global_step, history, best = 0, 0, [], None
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        start_epoch, global_step = state["epoch"], state["global_step"]
        history, best = state.get("history", []), state.get("best")

    n_items = len(titles)
    log.set_status(state="running", output_dir=out_dir, epochs=cfg.train.epochs, epoch=start_epoch, step=global_step,
                   total_steps=total_steps, best=best)
    log.write({"type": "start", "loss": cfg.loss.name, "items": n_items, "train": len(enc["train"]),
               "valid": len(enc["valid"]), "test": len(enc.get("test", [])), "epochs": cfg.train.epochs,
               "total_steps": total_steps, "resumed_from": resume_from, "world_size": world,
               "device": str(device), "precision": str(amp_dtype or "fp32"),
               "random_hr@10": min(1.0, cfg.eval.beam / n_items) if n_items else 0.0})

    lc = cfg.loss
    pad_id = tok.pad_id
    mask = config_mod.eval_mask(cfg)
    decode = dict(beam=cfg.eval.beam, pad_id=pad_id, tau=cfg.eval.tau, ks=cfg.eval.ks, max_batch=cfg.eval.batch,
                  mask=mask, length_penalty=cfg.eval.length_penalty, should_stop=lambda: stopper.requested)

    def stop_agreed() -> bool:
        """All ranks stop at the same micro-batch, or none does (a lone rank leaving would hang the others)."""
        if world == 1:
            return stopper.requested
        flag = torch.tensor([1.0 if stopper.requested else 0.0], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item() > 0)

    model.train()
    done = cfg.train.max_steps and global_step >= cfg.train.max_steps
    for epoch in range(start_epoch, cfg.train.epochs):
        if done:
            break
        g = torch.Generator().manual_seed(cfg.train.seed * 1_000_003 + epoch)
        order = torch.randperm(len(enc["train"]), generator=g)[:n_train].tolist()[rank::world]   # equal shards
        batches = [order[i:i + cfg.train.batch_size] for i in range(0, len(order), cfg.train.batch_size)]
        acc = {"loss": 0.0, "bear_weight": 0.0, "outside_top_b": 0.0, "n": 0}
        for mi, idx in enumerate(batches):
            if stop_agreed():
                raise StopRequested()
            batch = collate([enc["train"][i] for i in idx], pad_id)
            last_micro = (mi + 1) % cfg.train.grad_accum == 0 or mi + 1 == len(batches)
            sync = nullcontext() if (world == 1 or last_micro) else train_model.no_sync()
            autocast = torch.autocast(device_type="cuda", dtype=amp_dtype) if amp_dtype is not None else nullcontext()
            with sync:
                labels, allowed = batch["labels"].to(device), batch["allowed"].to(device)
                compact = world == 1 and getattr(model, "supports_logits_mask", False)
                with autocast:
                    out = train_model(input_ids=batch["input_ids"].to(device),
                                      attention_mask=batch["attention_mask"].to(device),
                                      **({"logits_mask": labels != -100} if compact else {}))
                if compact:   # logits at the target tokens only: [1, N, V]
                    labels, allowed = compact_targets(labels, allowed)
                loss, stats = loss_by_name(lc.name, out.logits, labels, allowed, tau=lc.tau, beam=lc.beam, lam=lc.lam, xi=lc.xi,
                                           normalize=lc.normalize)
                scaled = loss / cfg.train.grad_accum
                (scaler.scale(scaled) if scaler else scaled).backward()
            acc["loss"] += float(loss.item())
            acc["bear_weight"] += stats.get("bear_weight", 1.0)
            acc["outside_top_b"] += stats.get("outside_top_b", 0.0)
            acc["n"] += 1
            if not last_micro:
                continue
            if scaler:
                scaler.unscale_(opt)
            if cfg.train.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, cfg.train.max_grad_norm)
            if scaler:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            global_step += 1
            if global_step % max(1, cfg.train.log_every) == 0 or mi + 1 == len(batches):
                n = max(1, acc["n"])
                log.write({"type": "step", "epoch": epoch + 1, "step": global_step, "total_steps": total_steps,
                           "loss": acc["loss"] / n, "lr": sched.get_last_lr()[0],
                           "bear_weight": acc["bear_weight"] / n, "outside_top_b": acc["outside_top_b"] / n})
                acc = {"loss": 0.0, "bear_weight": 0.0, "outside_top_b": 0.0, "n": 0}
                log.set_status(epoch=epoch + 1, step=global_step)
            if cfg.train.max_steps and global_step >= cfg.train.max_steps:
                done = True
                break

        # End of epoch: validate, checkpoint (rank 0), pick the best epoch on validation.
        ckpt = os.path.join(out_dir, f"checkpoint-epoch{epoch + 1}")
        if main:
            metrics = _stoppable(lambda: evaluate_encoded(model, enc["valid"], trie, **decode))
            log.write({"type": "eval", "split": "valid", "epoch": epoch + 1, "step": global_step, **metrics})
            history.append({"epoch": epoch + 1, **metrics})
            key = cfg.eval.select_by
            if best is None or metrics.get(key, 0.0) > best["metrics"].get(key, 0.0):
                best = {"epoch": epoch + 1, "metrics": metrics, "checkpoint": ckpt}
            stopper.check()
            save_model(model, tok, ckpt)
            state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "scaler": scaler.state_dict() if scaler else None, "rng": _rng_state(),
                     "epoch": epoch + 1, "global_step": global_step, "history": history, "best": best,
                     "config": cfg.to_dict()}
            save_state(ckpt, state)
            log.write({"type": "checkpoint", "epoch": epoch + 1, "path": ckpt})
            log.set_status(epoch=epoch + 1, step=global_step, best=best, last_checkpoint=ckpt)
        if world > 1:
            torch.distributed.barrier()

    result = {"best": best, "history": history, "output_dir": out_dir}
    if main and best is not None:
        if "test" in enc:
            best_model = model
            if best["checkpoint"] != os.path.join(out_dir, f"checkpoint-epoch{history[-1]['epoch']}"):
                best_model, _ = load_model(cfg, titles, checkpoint=best["checkpoint"])
                best_model.to(device)
            stopper.check()
            test = _stoppable(lambda: evaluate_encoded(best_model, enc["test"], trie, **decode))
            log.write({"type": "test", "split": "test", "epoch": best["epoch"], **test})
            result["test"] = test
        if cfg.lora.enabled and cfg.model.type == "hf":
            merged = os.path.join(out_dir, "best-merged")
            stopper.check()
            m, t = load_model(cfg, titles, checkpoint=best["checkpoint"])
            stopper.check()
            export_merged(m, t, merged)
            result["merged"] = merged
        stopper.check()
        log.write({"type": "status", "state": "finished", "best_epoch": best["epoch"],
                   "checkpoint": best["checkpoint"]})
        log.set_status(state="finished", best=best, test=result.get("test"))
    return result


def evaluate_checkpoint(cfg: RunConfig, checkpoint: str, split: str = "test", echo: bool = True) -> Dict:
    out_dir = cfg.path(cfg.output_dir)
    splits, titles = prepare_data(cfg, out_dir)
    if split not in splits:
        raise ValueError(f"the config has no {split} split")
    model, tok = load_model(cfg, titles, checkpoint=checkpoint)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    trie = TitleTrie.from_titles(titles, tok)
    enc = encode_records(splits[split], tok, trie, cfg.data.max_prompt_tokens)
    if cfg.eval.max_users:
        enc = enc[: cfg.eval.max_users]
    metrics = evaluate_encoded(model, enc, trie, beam=cfg.eval.beam, pad_id=tok.pad_id, tau=cfg.eval.tau,
                               ks=cfg.eval.ks, max_batch=cfg.eval.batch, mask=config_mod.eval_mask(cfg),
                               length_penalty=cfg.eval.length_penalty)
    metrics["random_hr@10"] = min(1.0, cfg.eval.beam / len(titles))
    if echo:
        print(json.dumps({"type": "eval", "split": split, "checkpoint": checkpoint, **metrics}), flush=True)
    return metrics


def audit_checkpoint(cfg: RunConfig, checkpoint: Optional[str] = None, split: str = "valid", users: int = 100,
                     echo: bool = True) -> Dict:
    """Beam-pruning risk of a split under a model (the base model when no checkpoint is given)."""
    out_dir = cfg.path(cfg.output_dir)
    splits, titles = prepare_data(cfg, out_dir)
    if split not in splits:
        raise ValueError(f"the config has no {split} split")
    model, tok = load_model(cfg, titles, checkpoint=checkpoint)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    trie = TitleTrie.from_titles(titles, tok)
    enc = encode_records(splits[split], tok, trie, cfg.data.max_prompt_tokens)[:users]
    result = pruning_audit(model, enc, trie, beam=cfg.eval.beam, pad_id=tok.pad_id, tau=cfg.eval.tau,
                           max_batch=cfg.eval.batch, mask=config_mod.eval_mask(cfg),
                           length_penalty=cfg.eval.length_penalty)
    if echo:
        print(json.dumps({"type": "audit", "split": split, "checkpoint": checkpoint, "beam": cfg.eval.beam, **result}),
              flush=True)
    return result
