"""End-to-end training on synthetic data. References: random ranking gets HR@10 = 10 / catalogue size;
an interrupted run resumed from its epoch checkpoint must end bit-identical to an uninterrupted run."""

import json
import os

import torch

from preflight_train import config as config_mod
from preflight_train.cli import main as cli_main
from preflight_train.safetensors_io import load_file
from preflight_train.train import Stopper, StopRequested, train


def small_config(out_dir, **train_overrides):
    data = {
        "output_dir": str(out_dir),
        "data": {"synthetic": {"genres": 4, "per_genre": 10, "users": 260, "seed": 3}},
        "model": {"hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
                  "num_key_value_heads": 2},
        "loss": {"name": "bear", "beam": 10},
        "train": {"epochs": 2, "batch_size": 32, "lr": 4e-3, "log_every": 5, "seed": 1, **train_overrides},
        "eval": {"beam": 10, "max_users": 60},
    }
    return config_mod.from_dict(data, base_dir=str(out_dir))


def read_metrics(out_dir):
    with open(os.path.join(out_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_short_run_beats_random(tmp_path):
    cfg = small_config(tmp_path / "run", epochs=2)
    result = train(cfg, echo=False)
    random_hr10 = 10 / 40
    assert result["best"]["metrics"]["hr@10"] > random_hr10 + 0.3
    assert result["test"]["hr@10"] > random_hr10 + 0.3
    lines = read_metrics(cfg.path(cfg.output_dir))
    kinds = [l["type"] for l in lines]
    assert kinds[0] == "start" and kinds[-1] == "status" and "eval" in kinds and "test" in kinds
    step = next(l for l in lines if l["type"] == "step")
    assert {"loss", "lr", "bear_weight", "outside_top_b", "step", "epoch"} <= set(step)
    status = json.load(open(os.path.join(cfg.path(cfg.output_dir), "status.json")))
    assert status["state"] == "finished" and os.path.isdir(status["best"]["checkpoint"])
    ck = status["best"]["checkpoint"]
    assert {"config.json", "model.safetensors", "tokenizer.json", "trainer_state.json",
            "trainer_state.safetensors"} <= set(os.listdir(ck))
    assert "trainer_state.pt" not in os.listdir(ck)


class StopAfterFirstEpoch(Stopper):
    def __init__(self, out_dir):
        super().__init__()
        self.out_dir = out_dir

    @property
    def requested(self):
        return os.path.exists(os.path.join(self.out_dir, "checkpoint-epoch1", "trainer_state.json"))

    @requested.setter
    def requested(self, value):
        pass


def test_resume_is_identical_to_uninterrupted(tmp_path):
    full = small_config(tmp_path / "full", epochs=2, grad_accum=2)
    full.eval.max_users = 20
    train(full, echo=False)

    part = small_config(tmp_path / "part", epochs=2, grad_accum=2)
    part.eval.max_users = 20
    out = part.path(part.output_dir)
    try:
        train(part, stopper=StopAfterFirstEpoch(out), echo=False)
        raise AssertionError("expected a stop")
    except StopRequested:
        pass
    assert json.load(open(os.path.join(out, "status.json")))["state"] == "stopped"
    assert not os.path.exists(os.path.join(out, "checkpoint-epoch2"))
    part.resume = "latest"
    train(part, echo=False)

    a = load_file(os.path.join(full.path(full.output_dir), "checkpoint-epoch2", "model.safetensors"))
    b = load_file(os.path.join(out, "checkpoint-epoch2", "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    steps_full = [l for l in read_metrics(full.path(full.output_dir)) if l["type"] in ("step", "eval")]
    steps_part = [l for l in read_metrics(out) if l["type"] in ("step", "eval") and l["epoch"] == 2]
    ep2_full = [l for l in steps_full if l["epoch"] == 2]
    strip = lambda ls: [{k: v for k, v in l.items() if k != "time"} for l in ls]
    assert strip(ep2_full) == strip(steps_part)


def test_cli_synth_and_evaluate(tmp_path, capsys):
    assert cli_main(["synth", "--out", str(tmp_path / "d"), "--genres", "2", "--per-genre", "4", "--users", "30"]) == 0
    assert os.path.exists(tmp_path / "d" / "sequences.csv")
    cfg = {"output_dir": str(tmp_path / "r"),
           "data": {"train": "d/sequences.csv", "valid": "d/valid.jsonl", "test": "d/test.jsonl", "items": "d/items.json"},
           "model": {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1},
           "loss": {"name": "msl"}, "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3}, "eval": {"beam": 5, "ks": [1, 5]}}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    assert cli_main(["train", "--config", str(path)]) == 0
    capsys.readouterr()
    assert cli_main(["evaluate", "--config", str(path), "--checkpoint", str(tmp_path / "r" / "checkpoint-epoch1"),
                     "--split", "valid"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["split"] == "valid" and 0.0 <= out["hr@5"] <= 1.0
    audit = tmp_path / "audit.json"
    assert cli_main(["audit", "--config", str(path), "--users", "5", "--out", str(audit)]) == 0
    result = json.loads(audit.read_text())
    assert result["users"] == 5 and 0.0 <= result["pruned_given_top_b"] <= 1.0


def run_children(cmds, envs, timeout):
    """Starts each command in its own process group and SIGKILLs every group on failure or timeout, so that
    no trainer outlives the test (a rank stuck in a C++ collective ignores SIGTERM)."""
    import signal
    import subprocess

    procs = []
    try:
        for cmd, env in zip(cmds, envs):
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          start_new_session=True))
        return [p.communicate(timeout=timeout)[0].decode() for p in procs], [p.returncode for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


def test_distributed_two_cpu_processes(tmp_path):
    """The DistributedDataParallel path as torchrun starts it (WORLD_SIZE/RANK/LOCAL_RANK env), gloo on CPU."""
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = {"output_dir": str(tmp_path / "ddp"), "data": {"synthetic": {"genres": 2, "per_genre": 5, "users": 40}},
           "model": {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1},
           "train": {"epochs": 2, "batch_size": 4, "grad_accum": 2, "lr": 1e-3, "ddp_timeout": 120},
           "eval": {"max_users": 5, "beam": 5}}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    envs = [{**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2", "RANK": str(rank),
             "LOCAL_RANK": str(rank), "PYTHONPATH": pkg, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
            for rank in (0, 1)]
    cmd = [sys.executable, "-m", "preflight_train", "train", "--config", str(path)]
    outs, codes = run_children([cmd, cmd], envs, timeout=300)
    assert codes == [0, 0], outs
    assert outs[1].strip() == ""                       # only rank 0 logs
    start = json.loads(outs[0].splitlines()[0])
    assert start["world_size"] == 2
    assert os.path.exists(tmp_path / "ddp" / "checkpoint-epoch2" / "model.safetensors")


def test_distributed_lone_rank_fails_with_a_message(tmp_path):
    """A rank whose peer never arrives at a collective fails after train.ddp_timeout instead of hanging."""
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = {"output_dir": str(tmp_path / "ddp"), "data": {"synthetic": {"genres": 2, "per_genre": 5, "users": 40}},
           "model": {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1},
           "train": {"epochs": 1, "batch_size": 4, "ddp_timeout": 5}, "eval": {"max_users": 5, "beam": 5}}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Rank 1 joins the rendezvous, then stalls (a Python process that never enters a collective).
    stall = ("import datetime, os, time, torch.distributed as d; "
             "d.init_process_group('gloo', timeout=datetime.timedelta(seconds=60)); time.sleep(60)")
    envs = [{**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2", "RANK": str(rank),
             "LOCAL_RANK": str(rank), "PYTHONPATH": pkg, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
            for rank in (0, 1)]
    cmds = [[sys.executable, "-m", "preflight_train", "train", "--config", str(path)], [sys.executable, "-c", stall]]
    import subprocess
    import signal
    import time

    t0 = time.time()
    p0 = subprocess.Popen(cmds[0], env=envs[0], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    p1 = subprocess.Popen(cmds[1], env=envs[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    try:
        _, err = p0.communicate(timeout=120)
    finally:
        for p in (p0, p1):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert p0.returncode != 0 and time.time() - t0 < 120, err.decode()[-3000:]
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "ddp_timeout" in lines[0], err.decode()
    status = json.load(open(tmp_path / "ddp" / "status.json"))
    assert status["state"] == "failed" and "ddp_timeout" in status["error"]
