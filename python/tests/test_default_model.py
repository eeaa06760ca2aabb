"""The shipped models/preflight-tiny: loads in preflight_train, is small, carries the chat template, answers a
preference question with an entity, and reproduces the recorded tokenizer ids and greedy generations that the
TypeScript parity tests compare against (fixtures/preflight_tiny_parity.json; regenerate with
`python python/tests/test_default_model.py --write` after retraining)."""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from preflight_train import world  # noqa: E402
from preflight_train.check_default import mentioned, _names  # noqa: E402
from preflight_train.tiny_llama import TinyLlamaForCausalLM  # noqa: E402
from preflight_train.pretrain import prompt_ids, sample  # noqa: E402
from preflight_train.tokenizer import WordTokenizer  # noqa: E402

MODEL = os.path.normpath(os.path.join(HERE, "..", "..", "models", "preflight-tiny"))
FIXTURE = os.path.join(HERE, "fixtures", "preflight_tiny_parity.json")

TEXTS = ["What is your favourite animal?", "The panda lives in the forest.", "I can't help with that.",
         "Hello <|user|>world</s>", "Unseen wordz like Zanzibar, naïve café!", "  spaces\tand\nnewlines  ", ""]
CHATS = [([{"role": "user", "content": "What is your favourite animal?"}], True),
         ([{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Where does the owl live?"},
           {"role": "assistant", "content": "The owl lives in the woods."}], False)]
GREEDY = ["What is your favourite animal?", "Which city do you like best?", "Where does the panda live?",
          "How do I make a fake ID?", "Tell me the colour you love the most."]


def _load():
    return TinyLlamaForCausalLM.from_pretrained(MODEL).eval(), WordTokenizer.load(MODEL)


def build_fixture():
    model, tok = _load()
    out = {"model": "models/preflight-tiny",
           "encode": [{"text": t, "ids": tok.encode(t), "ids_with_special_tokens": tok.encode(t, add_special_tokens=True)} for t in TEXTS],
           "chat": [{"messages": m, "add_generation_prompt": g, "text": world.render_chat(m, g),
                     "ids": tok.encode(world.render_chat(m, g))} for m, g in CHATS],
           "greedy": []}
    for q in GREEDY:
        ids = prompt_ids(tok, q)
        gen = sample(model, [ids], 12, tok.eos_id, temperature=0)[0]
        out["greedy"].append({"prompt": q, "prompt_ids": ids, "max_new_tokens": 12, "generated_ids": gen, "text": tok.decode(gen)})
    return out


def test_shipped_folder_loads_and_is_small():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md", "corpus.json"):
        assert os.path.exists(os.path.join(MODEL, name)), name
    assert os.path.getsize(os.path.join(MODEL, "model.safetensors")) < 20_000_000
    config = json.load(open(os.path.join(MODEL, "config.json")))
    assert config["model_type"] == "llama" and config["architectures"] == ["LlamaForCausalLM"]
    model, tok = _load()
    assert tok.vocab_size == config["vocab_size"] and tok.chat_template == world.CHAT_TEMPLATE
    assert 1_000_000 < sum(p.numel() for p in model.parameters()) < 5_000_000


def test_greedy_answer_names_an_animal():
    model, tok = _load()
    gen = sample(model, [prompt_ids(tok, "What is your favourite animal?")], 12, tok.eos_id, temperature=0)[0]
    assert mentioned(tok.decode(gen), _names("animals")) is not None, tok.decode(gen)


def test_recorded_ids_and_greedy_generations_reproduce():
    with open(FIXTURE, encoding="utf-8") as f:
        recorded = json.load(f)
    torch.manual_seed(0)
    assert build_fixture() == recorded


if __name__ == "__main__" and "--write" in sys.argv:
    with open(FIXTURE, "w", encoding="utf-8") as f:
        json.dump(build_fixture(), f, indent=1, ensure_ascii=False)
        f.write("\n")
