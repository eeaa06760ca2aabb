"""Trainer safety: resume never unpickles, a stop during evaluation ends the run as "stopped", bad configs
are one-line errors. Each trainer runs as a child in its own process group and is SIGKILLed on failure."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_trainer(args, timeout=120, **kw):
    env = {**os.environ, "PYTHONPATH": PKG, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    p = subprocess.Popen([sys.executable, "-m", "preflight_train", *args], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return p.returncode, out.decode(), err.decode()


class Payload:
    """Unpickling this writes a file: what a hostile trainer_state.pt in a cloned repository would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').write('pwned')",))


def test_resume_refuses_a_planted_pickle(tmp_path):
    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    ckpt = run / "checkpoint-epoch1"
    ckpt.mkdir(parents=True)
    with open(ckpt / "trainer_state.pt", "wb") as f:
        pickle.dump({"optimizer": Payload(str(marker))}, f)
    cfg = {"output_dir": str(run), "data": {"synthetic": {"genres": 2, "per_genre": 4, "users": 30}},
           "model": {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1},
           "train": {"epochs": 2, "batch_size": 8}, "eval": {"beam": 5}, "resume": "latest"}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    code, _, err = run_trainer(["train", "--config", str(path)])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "trainer_state.pt" in lines[0] and "refused" in lines[0], err
    assert not marker.exists()
    # An explicit checkpoint folder is refused the same way.
    code, _, err = run_trainer(["train", "--config", str(path), "--resume", str(ckpt)])
    assert code == 2 and "refused" in err and not marker.exists()
    # The payload is real: unpickling it does write the file.
    with open(ckpt / "trainer_state.pt", "rb") as f:
        pickle.load(f)
    assert marker.exists()


def test_bad_config_is_one_line(tmp_path):
    cases = [
        ({"train": {"epochs": "three"}}, "train.epochs"),
        ({"loss": {"name": "bear", "tau": "x"}}, "loss.tau"),
        ({"train": {"epochs": 1}, "unknown": 1}, "unknown"),
        ({"loss": {"normalize": "nope"}, "data": {"synthetic": {}}}, "loss.normalize"),
    ]
    for i, (cfg, needle) in enumerate(cases):
        path = tmp_path / f"cfg{i}.json"
        path.write_text(json.dumps(cfg))
        code, out, err = run_trainer(["train", "--config", str(path)])
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and needle in lines[0] and str(path) in lines[0], err
    broken = tmp_path / "broken.json"
    broken.write_text('{"train": {\n  "epochs": 1,,}')
    code, _, err = run_trainer(["train", "--config", str(broken)])
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"{broken}:2" in err, err


def test_paths_with_shell_metacharacters_are_passed_literally(tmp_path):
    odd = tmp_path / "a; touch pwned1 & echo $(touch pwned2) | b `touch pwned3`"
    odd.mkdir()
    path = odd / "config.json"
    path.write_text(json.dumps({"train": {"epochs": "bad"}}))
    code, _, err = run_trainer(["train", "--config", str(path)], cwd=str(tmp_path))
    assert code == 2 and str(path) in err
    assert not any(name.startswith("pwned") for name in os.listdir(tmp_path))


def test_sigterm_during_validation_stops_the_run(tmp_path):
    run = tmp_path / "run"
    cfg = {"output_dir": str(run), "data": {"synthetic": {"genres": 12, "per_genre": 12, "users": 1500}},
           "model": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1},
           "loss": {"name": "bear"}, "train": {"epochs": 1, "batch_size": 16, "max_steps": 2, "log_every": 1},
           "eval": {"beam": 10, "batch": 40}}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    env = {**os.environ, "PYTHONPATH": PKG, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    p = subprocess.Popen([sys.executable, "-m", "preflight_train", "train", "--config", str(path)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        metrics = run / "metrics.jsonl"
        deadline = time.time() + 120
        # The last training step is logged just before validation starts.
        while time.time() < deadline and p.poll() is None:
            if metrics.exists() and any(json.loads(l).get("step") == 2 for l in metrics.read_text().splitlines()
                                        if '"type": "step"' in l):
                break
            time.sleep(0.2)
        time.sleep(1.0)   # well inside the validation pass (1500 users)
        assert p.poll() is None, "the run ended before it could be stopped during validation"
        os.killpg(p.pid, signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 130, err.decode()
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "stopped"
    kinds = [json.loads(l)["type"] for l in metrics.read_text().splitlines()]
    assert "eval" not in kinds and kinds[-1] == "status"
    assert not (run / "checkpoint-epoch1").exists()
