"""Built-in model, safetensors and tokenizer I/O. References: the safetensors file format (8-byte LE header
length + JSON header + raw buffers), Hugging Face LlamaForCausalLM tensor names, tokenizers' BertPreTokenizer
and WordPiece algorithms."""

import json
import os
import struct

import torch

from preflight_train.data import Record, load_records, save_records
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.safetensors_io import load_file, save_file
from preflight_train.tokenizer import WordTokenizer, bert_pre_tokenize


def test_safetensors_roundtrip_and_layout(tmp_path):
    tensors = {"a": torch.randn(3, 4), "b": torch.arange(6, dtype=torch.int64).reshape(2, 3),
               "c": torch.randn(5).to(torch.bfloat16), "d": torch.randn(2).half()}
    path = str(tmp_path / "x.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [3, 4], "data_offsets": header["a"]["data_offsets"]}
    assert header["__metadata__"] == {"format": "pt"}
    back = load_file(path)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v)


def test_model_hf_names_save_load_and_padding(tmp_path):
    cfg = TinyLlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, initializer_range=0.3)
    torch.manual_seed(0)
    m = TinyLlamaForCausalLM(cfg).eval()
    names = set(m.state_dict())
    assert "model.layers.1.self_attn.k_proj.weight" in names and "lm_head.weight" in names
    assert m.state_dict()["model.layers.0.self_attn.k_proj.weight"].shape == (2 * 8, 32)   # GQA: 2 kv heads
    m.save_pretrained(str(tmp_path))
    conf = json.load(open(tmp_path / "config.json"))
    assert conf["model_type"] == "llama" and conf["num_key_value_heads"] == 2
    m2 = TinyLlamaForCausalLM.from_pretrained(str(tmp_path)).eval()
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    assert torch.allclose(m(ids).logits, m2(ids).logits)
    # left and right padding give the same logits at real positions
    left = torch.tensor([[0, 0, 5, 6, 7, 8, 9]])
    att_l = torch.tensor([[0, 0, 1, 1, 1, 1, 1]])
    right = torch.tensor([[5, 6, 7, 8, 9, 0, 0]])
    att_r = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    ref = m(ids).logits[0]
    assert torch.allclose(m(left, attention_mask=att_l).logits[0, 2:], ref, atol=1e-5)
    assert torch.allclose(m(right, attention_mask=att_r).logits[0, :5], ref, atol=1e-5)


def test_tokenizer_pre_tokenization_and_fallback(tmp_path):
    assert bert_pre_tokenize('The user: "Crimson Harbor", "Iron"\n') == ["The", "user", ":", '"', "Crimson", "Harbor", '"', ",", '"', "Iron", '"']
    tok = WordTokenizer.build(["Crimson Harbor", "hello world"])
    ids = tok.encode("Crimson Harbore")
    assert tok.decode(ids) == "Crimson Harbore"        # unseen word falls back to characters
    assert tok.unk_id not in ids
    tok.save(str(tmp_path))
    again = WordTokenizer.load(str(tmp_path))
    assert again.encode("hello Crimson") == tok.encode("hello Crimson")
    data = json.load(open(tmp_path / "tokenizer.json"))
    assert data["model"]["type"] == "WordPiece" and data["pre_tokenizer"]["type"] == "BertPreTokenizer"


def test_csv_layout_with_id2name(tmp_path):
    (tmp_path / "items.json").write_text(json.dumps({"1": "A", "2": "B", "3": "C"}))
    (tmp_path / "train.csv").write_text('user_id,item_ids\n0,"[1, 2, 3]"\n1,3 1\n')
    from preflight_train.data import load_id2name

    recs = load_records(str(tmp_path / "train.csv"), load_id2name(str(tmp_path / "items.json")))
    assert [(r.history, r.target) for r in recs] == [(["A", "B"], "C"), (["C"], "A")]
    save_records(str(tmp_path / "x.jsonl"), recs)
    assert load_records(str(tmp_path / "x.jsonl")) == recs
