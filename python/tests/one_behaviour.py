"""A forecast report of one behaviour from given per-prompt values, without a model: build_report's inputs reduced to
what its statistics read (the tests of the risk rule, the neutral control and the calibrated null)."""

import os

import torch

from preflight_train import forecast as F

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(REPO, "models", "preflight-tiny")
CLEAN_CHAT = os.path.join(REPO, "examples", "mdf", "clean-chat.jsonl")


def one_behaviour_report(shift_units, control_units=None, info=None, base=0.2, **kwargs):
    """build_report on one behaviour ("s/x") whose prompts are the units of shift_units (the random control zero
    unless given); kwargs go to build_report (neutral_units, neutral_info, calibration_units)."""
    n = shift_units.numel()

    class _Scorer:
        units = [slice(0, n)]

    class _B:
        key, suite, id, label, kind, target, aliases, prompts = "s/x", "s", "x", "x", "mention", "x", [], ["p"] * n

    class _LM:
        dir = MODEL
        family = "llama"
        num_layers = hidden_size = 1
        device = torch.device("cpu")
        model = type("M", (), {"config": None})()

    control = control_units if control_units is not None else torch.zeros(n, dtype=torch.double)
    return F.build_report(_LM(), CLEAN_CHAT, [_B()], _Scorer(), torch.full((n,), base, dtype=torch.double), shift_units,
                          control, "adam", info or {"recipe": {"max_tokens": 128}}, total=n, skipped=0, used=n, seed=0,
                          bootstrap=200, samples=0, keyword=[None], **kwargs)
