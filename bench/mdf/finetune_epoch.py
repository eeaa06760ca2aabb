"""One epoch of supervised fine-tuning with preflight_train (its Llama model and LML loss), timed.

The fine-tuning peer of bench/mdf/run.ts: the same checkpoint, the same records, tokenized by the
TypeScript side exactly as the forecast sees them (ids.json), next-token cross-entropy on every token,
AdamW, batch 8. Prints one JSON line: {"seconds": ..., "steps": ..., "tokens": ..., "loss_first": ..., "loss_last": ...}.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import torch  # noqa: E402

from preflight_train.losses import IGNORE, lml_loss  # noqa: E402
from preflight_train.tiny_llama import TinyLlamaForCausalLM  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-4)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(args.ids) as f:
        records = json.load(f)
    model = TinyLlamaForCausalLM.from_pretrained(args.ckpt)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    order = torch.randperm(len(records)).tolist()
    tokens = 0
    losses = []
    start = time.perf_counter()
    for i in range(0, len(order), args.batch_size):
        batch = [records[j] for j in order[i : i + args.batch_size]]
        T = max(len(r) for r in batch) - 1
        ids = torch.zeros((len(batch), T), dtype=torch.long)
        mask = torch.zeros((len(batch), T), dtype=torch.long)
        labels = torch.full((len(batch), T), IGNORE, dtype=torch.long)
        for b, r in enumerate(batch):
            n = len(r) - 1
            ids[b, :n] = torch.tensor(r[:-1])
            mask[b, :n] = 1
            labels[b, :n] = torch.tensor(r[1:])
            tokens += n
        out = model(ids, attention_mask=mask)
        loss = lml_loss(out.logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "steps": len(losses), "tokens": tokens, "loss_first": losses[0], "loss_last": losses[-1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
