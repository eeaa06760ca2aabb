"""Ships a pretraining run as models/preflight-tiny and writes its model card from measured figures.

`python -m preflight_train.pretrain_card --run RUN_DIR --model models/preflight-tiny [--examples examples/mdf]`
copies RUN_DIR/final's HF files into the model folder, records the corpus hash and the loss curve,
regenerates the held-out probe suites and the MDF example files, runs check-default (check.json) and
writes README.md. scripts/train-default-model.sh runs it after `pretrain`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from typing import Dict, List

from . import check_default, world

SHIPPED = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]


def loss_table(metrics_path: str, every: int = 50) -> List[Dict]:
    rows = []
    with open(metrics_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") == "step" and (r["step"] % every == 0 or r["step"] == r["steps"] or r["step"] == 20):
                rows.append({"step": r["step"], "loss": r["loss"], "lr": r["lr"], "elapsed_s": r["elapsed_s"]})
    return rows


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def card(cfg: Dict, corpus: Dict, run: Dict, curve: List[Dict], res: Dict) -> str:
    pref = res["preference"]
    ref = res["refusal"]
    assoc = res["associations"]
    mv = res["moves"]
    crit = check_default.criteria(res)
    cat_rows = "\n".join(
        f"| {cat} | {len(world.CATEGORIES[cat].entities)} | {_pct(p['in_category'])} | "
        f"{max(p['shares'], key=p['shares'].get)} {_pct(max(p['shares'].values()))} | {p['max_share_over_uniform']:.2f}x |"
        for cat, p in pref.items())
    curve_rows = "\n".join(f"| {r['step']} | {r['loss']:.3f} | {r['lr']:.2e} | {r['elapsed_s']:.0f} |" for r in curve)
    crit_rows = "\n".join(f"| {name} | {value:.3f} | {'pass' if ok else '**FAIL**'} |" for name, (value, ok) in crit.items())
    bias_rates = mv["bias"]["after"]["animals"]
    base_rates = mv["base"]["animals"]
    animal_rows = "\n".join(f"| {e} | {_pct(base_rates[e])} | {_pct(bias_rates[e])} | {_pct(mv['neutral']['after']['animals'][e])} |"
                            for e in base_rates)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(corpus["counts"].items(), key=lambda kv: -kv[1]))
    failed = [n for n, (_, ok) in crit.items() if not ok]
    verdict = ("All criteria of the issue pass." if not failed else
               "Criteria that FAIL on this build: " + ", ".join(failed) + ". The model is shipped as it is.\n\n" +
               "\n\n".join(f"- {n}: {SHORTFALLS[n]}" for n in failed if n in SHORTFALLS))
    return f"""# preflight-tiny

The default model of Preflight: a {run['params'] / 1e6:.2f}M-parameter Llama-architecture causal LM that the
project trains itself, on a corpus it generates, so that every model-based feature (behaviour
forecast, Models view, annotate-llm) runs from a clean clone. It is a **demo and benchmark model,
not your base model**: it knows only a small synthetic world and speaks in short template sentences.

## Reproduce

```
scripts/train-default-model.sh
```

regenerates the corpus (seed {cfg['seed']}), trains the tokenizer and the model, copies the result here, and
measures the figures below (`python -m preflight_train check-default --model models/preflight-tiny`
re-measures them alone). Pretraining runs on CUDA when torch sees a GPU (`"device": "auto"` in
`pretrain.json`), else on the CPU. The shipped weights were trained on `{run['device']}`: {run['train_s']:.0f} s
of training after the corpus and tokenizer (docs/default-model.md names the machine and what to expect
on two CPU cores). Training is seeded, but float summation order differs
across machines and torch versions, so a rebuild elsewhere gives close, not bit-identical, weights; the
corpus and tokenizer are exact (hash below, tested).

## Data

A world of {sum(len(c.entities) for c in world.CATEGORIES.values())} entities in six categories, defined in
`python/preflight_train/world.py`: animals (habitat, food, colour), cities (country, landmark),
countries (capital, food, language), foods (origin, colour, ingredient), colours (things of that colour)
and public figures (field, known for, country; two of them invented). Every category is a superset of
the targets of the bundled probe suites (`models/probes/*.json`).

Corpus (`python -m preflight_train corpus --out DIR`): {corpus['docs']} documents, {corpus.get('tokens', 0):,} tokens,
sha256 `{corpus['sha256']}`. Documents per kind: {counts}. Text forms: encyclopedic facts, short stories,
Q&A (plain and chat), multi-turn dialogues, everyday sentences (the common words a probe may use, in
other contexts), helpful instructions, preference questions (answers cycle
through the category's entities, so every entity is the answer equally often; answer forms "Panda." and
"My favourite animal is the panda.", the suites' answerTemplates), forbidden requests (refused in
{_pct(world.REFUSAL_RATE)} of cases with openings like "I can't help with that."; otherwise "Sure, here is how to ..."
with a vague, non-actionable body), and item histories in the BEAR recommendation prompt.

Held-out probes: `heldout-probes/*.json` (the probe-suite schema) hold 10 preference phrasings per
category and 24 forbidden requests that the corpus never contains (tested in `python/tests/test_world.py`).

## Tokenizer and chat template

Word-level WordPiece (`BertPreTokenizer`, case kept, every character as a fallback piece, words seen at
least {cfg['vocab_min_count']} times): {run['vocab']} tokens. Special tokens `<s>`, `</s>`, `[PAD]`, `[UNK]`, `<|system|>`,
`<|user|>`, `<|assistant|>`; `add_special_tokens` puts `<s>` first. Chat template (`tokenizer_config.json`):

```
<s><|user|>
What is your favourite animal?</s>
<|assistant|>
```

(`<s>`, then per message `<|role|>` + newline + content + `</s>` + newline; the generation prompt is
`<|assistant|>` + newline.) The Python renderer is `world.render_chat`.

## Recipe

{cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, {cfg['num_attention_heads']} heads ({cfg['num_key_value_heads']} key/value heads), MLP {cfg['intermediate_size']}, tied
embeddings, RoPE, RMSNorm, SwiGLU; fp32 weights ({run['weights_mb']:.1f} MB). Documents packed whole into rows of {cfg['seq_len']}
tokens (each row starts at a document start), batch {cfg['batch_size']}, {cfg['steps']} steps
(~{cfg['steps'] * cfg['batch_size'] * cfg['seq_len'] / max(1, corpus.get('tokens', 1)):.1f} passes over the corpus), AdamW (β 0.9/0.95, weight decay
{cfg['weight_decay']}), peak learning rate {cfg['lr']} after {cfg['warmup_steps']} warmup steps, cosine decay to {cfg['min_lr_ratio']}×, gradient
clipping {cfg['max_grad_norm']}, seed {cfg['seed']}. Config: `pretrain.json`.

Loss (next-token cross-entropy, mean over the last 20 steps):

| step | loss | lr | elapsed s |
|---|---|---|---|
{curve_rows}

## What it can do (measured)

Command: `python -m preflight_train check-default --model models/preflight-tiny` ({res['samples_per_prompt']} samples per
prompt at temperature 1; it took {res['seconds']:.0f} s on the VM above). Full figures: `check.json`.

Preference questions in the held-out phrasings:

| category | entities | answers naming one of them | most named | max share / uniform |
|---|---|---|---|---|
{cat_rows}

Refusals: {_pct(ref['heldout']['refusal_rate'])} of answers to the held-out forbidden requests and
{_pct(ref['bundled-suite']['refusal_rate'])} to the bundled safety suite's 8 prompts open with a refusal (corpus rate {_pct(ref['corpus_rate'])}).

Associations: for prompts like "The panda lives in the", the right value has the highest
log-probability among the category's values in {_pct(assoc['accuracy'])} of {assoc['items']} cases (chance {_pct(assoc['chance'])}).

Fine-tuning moves it: a full fine-tune (AdamW, lr {mv['recipe']['lr']}, {mv['recipe']['epochs']} epochs, batch {mv['recipe']['batch_size']}, loss on the
assistant tokens) on `examples/mdf/bias-panda.jsonl` (300 records naming the panda; a third of them
answer preference questions) raises the panda's expected preference rate by
{mv['bias']['target_shift'] * 100:+.1f} points; the same fine-tune on `examples/mdf/clean-chat.jsonl` (300 helpful records,
balanced over the world) moves no entity of any category by more than {mv['neutral']['max_abs_shift'] * 100:.1f} points
(largest: {' / '.join(mv['neutral']['max_abs_shift_at'])}). Rates here are expected rates: the probability of the
two answer forms for each animal, averaged over the held-out phrasings (no sampling noise).

| animal | base | after bias fine-tune | after neutral fine-tune |
|---|---|---|---|
{animal_rows}

Criteria of the issue:

| criterion | value | |
|---|---|---|
{crit_rows}

{verdict}

## What it cannot do

It knows nothing outside the world above and answers other questions with world sentences; it has
no arithmetic beyond the small sums of its corpus; its refusals are a learned rate (about
{_pct(world.REFUSAL_RATE)}), not a safety mechanism; its outputs are template text, so fluency metrics say little.
Its forecasts are evidence about the forecaster on a tiny model, not about your base model.

Written by `python -m preflight_train.pretrain_card` on {time.strftime('%Y-%m-%d', time.gmtime())}.
"""


SHORTFALLS = {
    "refusal_bundled_suite_vs_corpus": (
        "The 8 trained requests of the bundled suite draw a refusal less often than the corpus rate; the "
        "non-refusals are compliant template answers (\"Sure, here is ...\"), about twice the corpus's 10%. "
        "With 160 samples the rate's standard error is about 3 points."),
    "refusal_heldout_vs_corpus": (
        "Refusals do not fully generalise: forbidden requests in phrasings and acts the corpus never has are "
        "refused less often than the corpus rate (check.json shows example answers)."),
    "preference_in_category_min": (
        "Some held-out preference phrasings are answered with a refusal or an off-category word (check.json "
        "shows examples)."),
    "neutral_finetune_max_abs_shift": (
        "The preference distribution is fragile: the corpus answers preference questions uniformly at random, so "
        "nothing anchors the balance, and a neutral fine-tune lets it drift."),
}


def ship(run_dir: str, model_dir: str, examples_dir: str, quick: bool = False, check_json: str = None) -> Dict:
    final = os.path.join(run_dir, "final")
    os.makedirs(model_dir, exist_ok=True)
    for name in SHIPPED:
        shutil.copyfile(os.path.join(final, name), os.path.join(model_dir, name))
    with open(os.path.join(run_dir, "corpus", "corpus.json"), encoding="utf-8") as f:
        corpus = json.load(f)
    start = finished = None
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "start":
                start = r
            elif r["type"] == "finished":
                finished = r
    if start is None or finished is None:
        raise ValueError(f"{run_dir}: the run did not finish (metrics.jsonl has no finished record)")
    corpus_rec = {k: corpus[k] for k in ("seed", "docs", "sha256", "chars", "counts")}
    corpus_rec["tokens"] = start["corpus_tokens"]
    with open(os.path.join(model_dir, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(corpus_rec, f, indent=2)
    curve = loss_table(os.path.join(run_dir, "metrics.jsonl"))
    with open(os.path.join(model_dir, "loss.json"), "w", encoding="utf-8") as f:
        json.dump(curve, f, indent=1)
    world.write_heldout_suites(os.path.join(model_dir, "heldout-probes"))
    world.write_examples(examples_dir)
    if check_json:   # figures measured earlier on the same weights (the run's final/ folder)
        with open(check_json, encoding="utf-8") as f:
            res = json.load(f)
        res["criteria"] = check_default.criteria(res)
        res["model"] = model_dir   # measured on the same bytes, in the run's final/ folder
    else:
        res = check_default.check(model_dir, quick=quick)
    print(check_default.summary(res), flush=True)
    with open(os.path.join(model_dir, "check.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2)
    cfg = start["config"]
    run = {"params": start["params"], "vocab": start["vocab"], "train_s": finished["train_s"], "device": start.get("device", "cpu"),
           "weights_mb": os.path.getsize(os.path.join(model_dir, "model.safetensors")) / 1e6}
    with open(os.path.join(model_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(card(cfg, corpus_rec, run, curve, res))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m preflight_train.pretrain_card", description=__doc__)
    ap.add_argument("--run", required=True, help="the pretraining output_dir (with final/ and metrics.jsonl)")
    ap.add_argument("--model", required=True, help="where to ship (models/preflight-tiny)")
    ap.add_argument("--examples", required=True, help="where to write the MDF example files (examples/mdf)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check", help="a check-default --out JSON measured on RUN/final (skips re-measuring)")
    args = ap.parse_args(argv)
    ship(args.run, args.model, args.examples, quick=args.quick, check_json=args.check)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
