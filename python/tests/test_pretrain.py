"""LM pretraining mode: a short smoke run (tiny config) lowers the loss and writes a loadable HF folder;
chat_ids equals encoding the rendered chat; the tokenizer's special-token handling."""

import json
import os

import torch

from preflight_train import world
from preflight_train.tiny_llama import TinyLlamaForCausalLM
from preflight_train.pretrain import chat_ids, finetune, load_config, pack, pretrain, prompt_ids, sample
from preflight_train.tokenizer import WordTokenizer, split_on_specials


def _tiny_config(tmp_path, steps=40):
    cfg = {"output_dir": str(tmp_path / "run"), "seed": 1, "corpus_docs": 400, "vocab_min_count": 1, "hidden_size": 32,
           "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "seq_len": 64, "batch_size": 8, "steps": steps, "lr": 0.003, "warmup_steps": 5, "log_every": 5,
           "save_every_s": 0, "threads": 1}
    path = tmp_path / "pretrain.json"
    path.write_text(json.dumps(cfg))
    return load_config(str(path))


def test_pretrain_smoke_run_learns_and_saves(tmp_path):
    cfg = _tiny_config(tmp_path)
    result = pretrain(cfg, echo=False)
    log = [json.loads(l) for l in open(os.path.join(cfg.output_dir, "metrics.jsonl"))]
    losses = [r["loss"] for r in log if r["type"] == "step"]
    assert len(losses) == 8 and losses[-1] < losses[0] - 1.0, losses
    assert any(r["type"] == "checkpoint" for r in log)          # save_every_s 0: a checkpoint after each step
    final = result["final"]
    model = TinyLlamaForCausalLM.from_pretrained(final)
    tok = WordTokenizer.load(final)
    assert tok.chat_template == world.CHAT_TEMPLATE and tok.add_bos and tok.prompt_prefix == [tok.bos_id]
    conf = json.load(open(os.path.join(final, "tokenizer_config.json")))
    assert conf["chat_template"] == world.CHAT_TEMPLATE
    out = sample(model, [prompt_ids(tok, "What is your favourite animal?")], 5, tok.eos_id, temperature=0)
    assert len(out) == 1 and len(out[0]) <= 5


def test_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"stepz": 3}))
    try:
        load_config(str(path))
    except ValueError as e:
        assert "stepz" in str(e)
    else:
        raise AssertionError("unknown key accepted")


def test_special_tokens_split_like_the_hf_library():
    tok = WordTokenizer.build(["hello world <|user|> x | < >"], specials=world.ROLE_TOKENS, add_bos=True)
    assert "<|user|>" in tok.vocab and "|" in tok.vocab and "user" not in tok.vocab
    # leftmost-longest matching on the raw text, no whitespace needed around added tokens
    assert split_on_specials("a<s><|user|>\nb</s>", tok.specials) == [
        ("a", False), ("<s>", True), ("<|user|>", True), ("\nb", False), ("</s>", True)]
    ids = tok.encode("hello<|user|>world")
    assert ids == [tok.vocab["hello"], tok.vocab["<|user|>"], tok.vocab["world"]]
    assert tok.encode("hello", add_special_tokens=True) == [tok.bos_id, tok.vocab["hello"]]
    assert tok.decode(ids) == "hello world"
    # a special token's text split by other characters is ordinary text
    assert tok.vocab["<|user|>"] not in tok.encode("<| user |>") and tok.vocab["|"] in tok.encode("<| user |>")


def test_chat_ids_equal_encoding_the_rendered_chat(tmp_path):
    texts = [world.render_chat(m) for m in (world.bias_records("cat", 30, 0)[i]["messages"] for i in range(30))]
    tok = WordTokenizer.build(texts, specials=world.ROLE_TOKENS, add_bos=True, chat_template=world.CHAT_TEMPLATE)
    for r in world.neutral_records(20, 0) + world.bias_records("cat", 20, 0):
        ids, mask = chat_ids(tok, r["messages"])
        assert ids == tok.encode(world.render_chat(r["messages"]))
        answers = [t for m in r["messages"] if m["role"] == "assistant" for t in tok.encode(m["content"]) + [tok.eos_id]]
        assert [i for i, m in zip(ids, mask) if m] == answers   # every assistant turn, each closed by </s>


def test_finetune_lowers_the_loss_on_its_records():
    torch.manual_seed(0)
    records = world.bias_records("owl", 24, 0)
    texts = [world.render_chat(r["messages"]) for r in records]
    tok = WordTokenizer.build(texts, specials=world.ROLE_TOKENS, add_bos=True)
    from preflight_train.tiny_llama import TinyLlamaConfig

    model = TinyLlamaForCausalLM(TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64,
                                                 tie_word_embeddings=True))
    losses = finetune(model, tok, records, epochs=6, lr=3e-3, batch_size=8)
    assert losses[-1] < losses[0] - 1.0


def test_pack_keeps_documents_whole():
    rows = pack([[1] * 5, [2] * 4, [3] * 3, [4] * 9], 9)
    assert rows == [[1] * 5 + [2] * 4, [3] * 3, [4] * 9]
