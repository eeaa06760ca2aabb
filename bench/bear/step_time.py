"""Step time of LML, MSL and BEAR on the same model and batch (issue 5; goal: BEAR <= 1.05 x MSL).

Built-in Llama-style model on CPU, vocabulary padded to a realistic size, a batch of synthetic
recommendation prompts. Each repetition times one full optimiser step (forward, loss, backward,
AdamW) and, separately, the loss alone (loss + its backward into the logits). The three losses are
interleaved so that machine noise hits them alike; medians and minima of the process's CPU time
(time.process_time, one torch thread) are reported, which shared machines disturb less than wall time.

    /usr/bin/python3 bench/bear/step_time.py [--vocab 16384] [--batch 16] [--reps 20]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

from preflight_train.data import collate, encode_records, load_records, prompt_text, response_text  # noqa: E402
from preflight_train.losses import bear_loss, lml_loss, msl_loss  # noqa: E402
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM  # noqa: E402
from preflight_train.synth import generate  # noqa: E402
from preflight_train.tokenizer import WordTokenizer  # noqa: E402
from preflight_train.trie import TitleTrie  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--beam", type=int, default=10)
    args = ap.parse_args()

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(tmp, genres=20, per_genre=20, users=200, seed=0)
        records = load_records(paths["train"])[: args.batch]
        import json

        titles = list(json.load(open(paths["items"])).values())
    tok = WordTokenizer.build([prompt_text(["x"]), response_text("x")] + titles, pad_to_multiple=args.vocab)
    trie = TitleTrie.from_titles(titles, tok)
    batch = collate(encode_records(records, tok, trie), tok.pad_id)
    cfg = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=args.hidden, intermediate_size=args.hidden * 2,
                          num_hidden_layers=args.layers, num_attention_heads=4, num_key_value_heads=2)
    model = TinyLlamaForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    labels, allowed = batch["labels"], batch["allowed"]
    n_targets = int((labels != -100).sum())

    # The public loss functions, as a user of preflight_train.losses calls them.
    LOSSES = {
        "lml": lambda z: lml_loss(z, labels),
        "msl": lambda z: msl_loss(z, labels, allowed),
        "bear": lambda z: bear_loss(z, labels, allowed, beam=args.beam, lam=0.25, xi=2.75),
    }

    def full_step(name):
        t0 = time.process_time()
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        loss = LOSSES[name](out.logits)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.process_time() - t0

    with torch.no_grad():
        logits0 = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits

    def loss_only(name):
        x = logits0.clone().requires_grad_(True)
        t0 = time.process_time()
        loss = LOSSES[name](x)
        loss.backward()
        return time.process_time() - t0

    names = ["lml", "msl", "bear"]
    for name in names:  # warm-up
        full_step(name)
        loss_only(name)
    step = {n: [] for n in names}
    only = {n: [] for n in names}
    for _ in range(args.reps):
        for name in names:
            step[name].append(full_step(name))
            only[name].append(loss_only(name))
    med = lambda xs: statistics.median(xs) * 1000
    best = lambda xs: min(xs) * 1000
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, vocab {tok.vocab_size}, batch {args.batch} x "
          f"{batch['input_ids'].shape[1]} tokens, {n_targets} target tokens, hidden {args.hidden}, layers {args.layers}, "
          f"beam {args.beam}, reps {args.reps} (median)")
    print(f"{'loss':6} {'step ms (median/min)':>22} {'loss-only ms (median/min)':>27}")
    for name in names:
        print(f"{name:6} {med(step[name]):11.1f} /{best(step[name]):8.1f} {med(only[name]):14.2f} /{best(only[name]):9.2f}")
    print(f"BEAR / MSL step time: median {med(step['bear']) / med(step['msl']):.3f}, min {best(step['bear']) / best(step['msl']):.3f}"
          f"   (loss only: median {med(only['bear']) / med(only['msl']):.3f}, min {best(only['bear']) / best(only['msl']):.3f})")
    print(f"MSL / LML step time:  median {med(step['msl']) / med(step['lml']):.3f}, min {best(step['msl']) / best(step['lml']):.3f}")


if __name__ == "__main__":
    main()
