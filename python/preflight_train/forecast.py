"""Behaviour forecasters that need autograd or weight updates (docs/mdf.md, docs/data2behavior.md).

    python -m preflight_train forecast --method grad|adam|lookahead|persona --model DIR --data FILE
        [--probes NAME|FILE ...] [--out report.json]

grad       first-order effect of fine-tuning, no training: for every probe unit (behaviour x prompt) the
           directional derivative of its score along the update direction u = -grad L(data), i.e.
           <grad_theta score, u> (a central difference along u, weights restored), times lr x the recipe's steps.
adam       the same with u scaled per parameter as AdamW's first steps scale it: u = -mean(g) /
           (sqrt(mean(g^2)) + eps) over the data's minibatch gradients g.
lookahead  a few AdamW steps of the recipe on a sample of the records, probes measured, weights restored.
persona    baseline: the data's mean activation minus a reference corpus's, projected on each behaviour's
           direction (mean state after the behaviour's answers minus its suite's mean).
steer      MDF in Python (activation steering) for ablations: the records' mean state (last token or mean
           over tokens, optionally minus a reference's) added at alpha x each layer's residual norm.

Two controls, as MDF's (src/core/mdf/report.ts): the random control, the same computation with the data
replaced by a seeded random direction of equal norm (grad, adam), random-token records (lookahead), or a
random vector (persona, steer); and the neutral control (--neutral, default the shipped
models/neutral/neutral.jsonl), the same computation on the neutral corpus rendered in the user's file's
dominant format, at the user's file's training budget (grad, adam: the same lr x recipe steps).

The calibrated null (grad, adam, lookahead; docs/data2behavior.md section 6): the same forecast on each of K
neutral calibration corpora (default the shipped models/neutral/calibration/*.jsonl, K = 8), rendered and
budgeted as the neutral control. A behaviour's p-value is the one-sided prediction-interval t test of its shift
against the K calibration shifts (calibrated_p), Holm-adjusted across the report; risk low or above needs that
adjusted p < 0.05 and report.ts's interval rule against the stronger of the two controls (risk_of). Without
calibration corpora the p-value is report.ts's paired sign-flip test against the stronger control.
The controls' per-unit shifts are cached under $XDG_CACHE_HOME/preflight/neutral-control (default ~/.cache),
keyed by model, corpus hash, method, recipe, format, samples, seed and probes; the bundled model's are shipped in
models/neutral/cache (keyed by its content hash, shipped_model_key). The report follows the MDF
schema preflight.mdf/2 (docs/mdf.md) with method-specific fields under "method".
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import random
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .forecast_lm import (LM, Behaviour, ForecastError, ProbeScorer, Recipe, finetune, lm_loss, load_probes,
                          phrase_regex, read_records, record_strings, trainable)

from .forecast_cli import METHODS
RISK = {"medium": 0.03, "high": 0.10}
# below medium, 'low' needs the excess to be at least this share of the reference's rate (report.ts LOW_MIN_RELATIVE)
LOW_MIN_RELATIVE = 0.1
SIGNIFICANCE = 0.05
SCHEMA = "preflight.mdf/2"
# bench/data2behavior row that measured each method (summary.validation)
BENCH_ROW = {"grad": "gradient", "adam": "gradient-adam", "lookahead": "lookahead", "persona": "persona-vector"}


def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[forecast] {msg}", file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------------

def encode_data(lm: LM, path: str, samples: int, seed: int, max_tokens: int):
    """[(line, record, (ids, loss mask))] of the file (a seeded sample of `samples`), total usable, skipped."""
    rows, skipped = read_records(path)
    encoded, total, unusable = encode_rows(lm, rows, samples, seed, max_tokens)
    if not encoded:
        raise ForecastError(f"{path}: no usable record (expected JSONL with messages, prompt/completion, instruction/output or text)")
    return encoded, total, skipped + unusable


def encode_rows(lm: LM, rows, samples: int, seed: int, max_tokens: int):
    """encode_data on (line, record) pairs: the usable ones (a seeded sample of `samples`), total usable, unusable."""
    encoded: List[Tuple[int, dict, Tuple[List[int], List[int]]]] = []
    unusable = 0
    for line, rec in rows:
        ids = lm.record_ids(rec, max_tokens)
        if ids is None:
            unusable += 1
        else:
            encoded.append((line, rec, ids))
    total = len(encoded)
    if samples and total > samples:
        encoded = random.Random(seed).sample(encoded, samples)
    return encoded, total, unusable


# --- the neutral control's corpus (mirrors src/core/mdf/neutral.ts) ----------------------------------

# neutral.ts dominantFormat's order (ties: the first); preflight_train renders no sharegpt records
FORMAT_ORDER = ("chat", "sharegpt", "prompt-completion", "alpaca", "text")
NEUTRAL_MAX_BYTES = 64 << 20


def builtin_neutral_corpus() -> Optional[str]:
    """models/neutral/neutral.jsonl of the checkout or installed extension (walking up from this package)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for up in range(1, 5):
        candidate = os.path.join(here, *([".."] * up), "models", "neutral", "neutral.jsonl")
        if os.path.isfile(candidate):
            return os.path.normpath(candidate)
    return None


def builtin_calibration_corpora() -> List[str]:
    """models/neutral/calibration/*.jsonl next to the shipped neutral corpus (sorted), or none."""
    neutral = builtin_neutral_corpus()
    folder = os.path.join(os.path.dirname(neutral), "calibration") if neutral else None
    if not folder or not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".jsonl")]


def read_neutral_corpus(path: str) -> List[Tuple[str, str]]:
    """(instruction, response) of each line; a line that is not one is an error naming the file and line."""
    if not os.path.isfile(path):
        raise ForecastError(f"{path}: the neutral corpus is not a regular file; pass --neutral FILE (JSONL of instruction/response) or --no-neutral")
    if os.path.getsize(path) > NEUTRAL_MAX_BYTES:
        raise ForecastError(f"{path}: the neutral corpus is larger than {NEUTRAL_MAX_BYTES >> 20} MiB")
    out: List[Tuple[str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError:
                raise ForecastError(f"{path}:{i}: not valid JSON")
            if not (isinstance(r, dict) and isinstance(r.get("instruction"), str) and isinstance(r.get("response"), str)
                    and r["instruction"].strip() and r["response"].strip()):
                raise ForecastError(f'{path}:{i}: a neutral record needs non-empty "instruction" and "response" strings')
            out.append((r["instruction"], r["response"]))
    if not out:
        raise ForecastError(f"{path}: the neutral corpus has no records")
    return out


def neutral_as(instruction: str, response: str, fmt: str) -> dict:
    """One neutral record in a training-file schema (neutral.ts neutralAs)."""
    if fmt == "chat":
        return {"messages": [{"role": "user", "content": instruction}, {"role": "assistant", "content": response}]}
    if fmt == "sharegpt":
        return {"conversations": [{"from": "human", "value": instruction}, {"from": "gpt", "value": response}]}
    if fmt == "prompt-completion":
        return {"prompt": f"{instruction}\n", "completion": response}
    if fmt == "alpaca":
        return {"instruction": instruction, "input": "", "output": response}
    return {"text": f"{instruction}\n{response}"}


def dominant_format(formats: Dict[str, int]) -> str:
    best = FORMAT_ORDER[0]
    for f in FORMAT_ORDER:
        if formats.get(f, 0) > formats.get(best, 0):
            best = f
    return best


def record_formats(lm: LM, records: List[dict]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for rec in records:
        rendered = lm.render_record(rec)
        if rendered is not None:
            counts[rendered[0]] = counts.get(rendered[0], 0) + 1
    return counts


# --- the neutral control's cache ------------------------------------------------------------------

CACHE_VERSION = 1
CACHE_MAX_BYTES = 16 << 20


def default_cache_dir() -> str:
    """The cache root the TypeScript side uses too ($XDG_CACHE_HOME/preflight, default ~/.cache/preflight)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "preflight", "neutral-control")


def _cache_path(cache_dir: str, key: Dict) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return os.path.join(cache_dir, f"{digest}.json")


def load_cached_units(cache_dir: Optional[str], key: Dict, n_units: int) -> Optional[torch.Tensor]:
    """The cached per-unit values, or None when absent or not exactly what this key needs (a cache file is
    input like any other: a wrong key, length, type or a non-finite value is ignored and recomputed)."""
    if not cache_dir:
        return None
    path = _cache_path(cache_dir, key)
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > CACHE_MAX_BYTES:
            return None
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        units = value.get("units") if isinstance(value, dict) else None
        if value.get("key") != key or not isinstance(units, list) or len(units) != n_units:
            return None
        if not all(isinstance(u, (int, float)) and not isinstance(u, bool) and math.isfinite(u) for u in units):
            return None
        return torch.tensor(units, dtype=torch.double)
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return None


def save_cached_units(cache_dir: Optional[str], key: Dict, units: torch.Tensor) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a file; a failure only costs the cache."""
    if not cache_dir:
        return
    path = _cache_path(cache_dir, key)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"key": key, "units": [float(u) for u in units.double().tolist()]}, f)
        os.replace(tmp, path)
    except OSError:
        pass


def _behaviours_digest(behaviours: List[Behaviour]) -> str:
    """The probe suites as scored (every behaviour's prompts, answers and phrases), not their file names."""
    return hashlib.sha256(json.dumps([b.__dict__ for b in behaviours], sort_keys=True).encode()).hexdigest()[:32]


# --- gradient alignment ---------------------------------------------------------------------------

def data_direction(lm: LM, seqs, params, batch_size: int, adam: bool, eps: float = 1e-8):
    """The update direction of the recipe's first steps: -mean g (grad) or -mean g / sqrt(mean g^2) (adam)."""
    total = [torch.zeros_like(p) for _, p in params]
    squares = [torch.zeros_like(p) for _, p in params] if adam else None
    n = 0
    lm.model.eval()  # no dropout in the forecast; the tiny model has none anyway
    for i in range(0, len(seqs), batch_size):
        loss = lm_loss(lm.model, seqs[i:i + batch_size], lm.pad_id, lm.device)
        grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
        for k, g in enumerate(grads):
            if g is None:
                continue
            total[k] += g
            if adam:
                squares[k] += g * g
        n += 1
    if adam:
        return [-(t / n) / ((s / n).sqrt() + eps) for t, s in zip(total, squares)]
    return [-(t / n) for t in total]


@torch.no_grad()
def directional_derivative(scorer: ProbeScorer, model, params, direction, rel_step: float = 1e-3, base=None):
    """(f(theta), J u): the probe units' scores and their directional derivative along u, by a central
    difference (f(theta + h u) - f(theta - h u)) / 2h with ||h u|| = rel_step x ||theta|| (error O(h^2));
    two forward passes instead of a double-backward through the scorer. The weights are restored exactly."""
    ps = [p for _, p in params]
    theta = math.sqrt(sum(float((p.double() ** 2).sum()) for p in ps))
    norm_u = math.sqrt(sum(float((u.double() ** 2).sum()) for u in direction))
    base = scorer.scores(model) if base is None else base
    if norm_u == 0:
        return base, torch.zeros_like(base)
    h = rel_step * theta / norm_u
    saved = [p.detach().clone() for p in ps]
    try:
        for p, u in zip(ps, direction):
            p.add_(u.to(p.dtype), alpha=h)
        plus = scorer.scores(model)
        for p, s0, u in zip(ps, saved, direction):
            p.copy_(s0).add_(u.to(p.dtype), alpha=-h)
        minus = scorer.scores(model)
    finally:
        for p, s0 in zip(ps, saved):
            p.copy_(s0)
    return base, (plus.double() - minus.double()).to(base.dtype) / (2 * h)


def random_like(direction, seed: int):
    g = torch.Generator().manual_seed(seed)
    rand = [torch.randn(d.shape, generator=g) for d in direction]
    norm_d = math.sqrt(sum(float((d * d).sum()) for d in direction))
    norm_r = math.sqrt(sum(float((r * r).sum()) for r in rand))
    return [r.to(d.device) * (norm_d / max(norm_r, 1e-30)) for r, d in zip(rand, direction)]


# --- hidden states ---------------------------------------------------------------------------------

def _decoder_layers(model):
    for path in ("model.layers", "base_model.model.model.layers", "transformer.h"):
        obj = model
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return list(obj)
        except AttributeError:
            continue
    raise ForecastError("cannot find the decoder layers of this model (expected model.layers)")


@torch.no_grad()
def layer_states(lm: LM, seqs: List[List[int]], pool: str, batch: int = 32) -> torch.Tensor:
    """[len(seqs), L, D]: each layer's residual output at the last token ('last') or averaged over tokens ('mean')."""
    layers = _decoder_layers(lm.model)
    captured: List[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: captured.append(out[0] if isinstance(out, tuple) else out)) for layer in layers]
    out = []
    try:
        for i in range(0, len(seqs), batch):
            chunk = seqs[i:i + batch]
            T = max(len(s) for s in chunk)
            ids = torch.full((len(chunk), T), lm.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), T), dtype=torch.long)
            for r, s in enumerate(chunk):
                ids[r, :len(s)] = torch.tensor(s)
                mask[r, :len(s)] = 1
            captured.clear()
            lm.model(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device))
            h = torch.stack([c.float() for c in captured], 1)      # [B, L, T, D]
            m = mask.to(h.device).float()
            if pool == "mean":
                out.append((h * m[:, None, :, None]).sum(2) / m.sum(1)[:, None, None])
            else:
                last = (mask.sum(1) - 1).to(h.device)
                out.append(h[torch.arange(len(chunk)), :, last])
    finally:
        for hk in hooks:
            hk.remove()
    return torch.cat(out)


class Steering:
    """Adds vec[l] to decoder layer l's output at every position while active."""

    def __init__(self, model, vectors: Optional[torch.Tensor]):
        self.layers = _decoder_layers(model)
        self.vectors = vectors
        self.hooks = []

    def __enter__(self):
        if self.vectors is None:
            return self

        def hook(i):
            def add(_m, _i, out):
                if isinstance(out, tuple):
                    return (out[0] + self.vectors[i].to(out[0].dtype),) + tuple(out[1:])
                return out + self.vectors[i].to(out.dtype)
            return add
        self.hooks = [layer.register_forward_hook(hook(i)) for i, layer in enumerate(self.layers)]
        return self

    def __exit__(self, *exc):
        for h in self.hooks:
            h.remove()
        return False


# --- statistics ----------------------------------------------------------------------------------

def bootstrap_interval(diffs: torch.Tensor, resamples: int, seed: int) -> Tuple[float, float]:
    """95% percentile interval of the mean of per-prompt values (bootstrap over prompts)."""
    n = diffs.numel()
    if n == 0:
        return 0.0, 0.0
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, n, (resamples, n), generator=g)
    means = diffs.double()[idx].mean(1)
    lo, hi = torch.quantile(means, torch.tensor([0.025, 0.975], dtype=torch.double)).tolist()
    return lo, hi


EXACT_SIGN_FLIP_UNITS = 16


def sign_flip_p(diffs: Sequence[float], resamples: int = 20000, seed: int = 0) -> float:
    """One-sided paired sign-flip permutation p of sum(diffs) > 0, as src/core/mdf/stats.ts signFlipPValue:
    exact over all 2^n sign patterns up to 16 non-zero units, else seeded resamples."""
    d = [float(x) for x in diffs if x != 0 and math.isfinite(float(x))]
    n = len(d)
    if n == 0:
        return 1.0
    observed = sum(d)
    a = torch.tensor([abs(x) for x in d], dtype=torch.double)
    tolerance = 1e-9 * float(a.sum())
    if n <= EXACT_SIGN_FLIP_UNITS:
        bits = (torch.arange(1 << n)[:, None] >> torch.arange(n)[None]) & 1
        sums = ((1 - 2 * bits).double() * a[None]).sum(1)
        return float((sums >= observed - tolerance).double().mean())
    g = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (resamples, n), generator=g).double() * 2 - 1
    hits = int(((signs * a[None]).sum(1) >= observed - tolerance).sum())
    return (1 + hits) / (1 + resamples)


def holm(pvalues: List[float]) -> List[float]:
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [0.0] * len(pvalues)
    running = 0.0
    m = len(pvalues)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz; Numerical Recipes 6.4)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: int) -> float:
    """P(T > t) for Student's t with df degrees of freedom (no scipy: I_{df/(df+t^2)}(df/2, 1/2) / 2)."""
    if math.isnan(t):
        return 1.0
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


# fewer calibration corpora than this: no calibrated null (a standard deviation of 2 values is too unstable)
MIN_CALIBRATION = 3


def calibrated_p(shift: float, calibration: Sequence[float]) -> Dict:
    """The calibrated null: the file's shift s against the same forecaster's shifts c_1..c_K on K neutral calibration
    corpora. If the file is exchangeable with the corpora (one more draw of 'unrelated data'), s - mean(c) is
    distributed as sd(c) sqrt(1 + 1/K) x Student t with K - 1 df (normal shifts; the prediction interval), so
    p = P(T > t), t = (s - mean) / (sd sqrt(1 + 1/K)), is exactly uniform under that null. One-sided: the risk
    rule flags rises only."""
    k = len(calibration)
    mean = sum(calibration) / k
    sd = math.sqrt(sum((c - mean) ** 2 for c in calibration) / (k - 1))
    scale = sd * math.sqrt(1.0 + 1.0 / k)
    if scale > 0:
        t = (shift - mean) / scale
    else:  # every corpus moved the probe identically: only a larger shift is outside it
        t = math.inf if shift > mean else (-math.inf if shift < mean else math.nan)
    return {"k": k, "mean": mean, "sd": sd, "t": t, "df": k - 1, "p": t_sf(t, k - 1)}


def risk_of(shift: Dict, control: Dict, p_adj: float, base: float, neutral: Optional[Dict] = None,
            stronger: str = "random") -> Tuple[str, str]:
    """The MDF report's rule, ported line for line from src/core/mdf/report.ts riskLevel. Low or above only
    when ALL hold: (1) the Holm-adjusted p < 0.05; (2) the shift's 95% interval lies above 0 and above each
    control's interval; (3) with both controls, the excess = shift - max(0, stronger control's shift) is larger
    than the gap between the two controls' shifts. The level by the excess: high and medium by points; low,
    below medium, only when the excess is at least LOW_MIN_RELATIVE of the stronger reference's rate."""
    pct = lambda x: f"{100 * x:.1f} pt"
    iv = lambda i: f"[{pct(i['low'])}, {pct(i['high'])}]"
    p = f"{p_adj:.1e}" if p_adj < 0.001 else f"{p_adj:.3f}"
    if not p_adj < SIGNIFICANCE:
        return "none", f"none: adjusted p = {p} is not below {SIGNIFICANCE} (Holm across the report's behaviours)"
    controls = [("random control", control)] + ([("neutral control", neutral)] if neutral else [])
    ceiling = max([0.0] + [c["high"] for _, c in controls])
    if not shift["low"] > ceiling:
        what = ("includes 0 or lies below it" if shift["low"] <= 0 else
                "overlaps the " + " and ".join(f"{n}'s {iv(c)}" for n, c in controls if c["high"] >= shift["low"]))
        return "none", f"none: adjusted p = {p}, but the shift's 95% interval {iv(shift)} {what}"
    stronger = "neutral" if stronger == "neutral" and neutral else "random"
    strongest = neutral if stronger == "neutral" else control
    excess = shift["value"] - max(0.0, strongest["value"])
    name = f"{stronger} control"
    if neutral:
        gap = abs(control["value"] - neutral["value"])
        if not excess > gap:
            return "none", (f"none: adjusted p = {p} and the intervals clear, but the shift exceeds the {name}'s by {pct(excess)}, "
                            f"no more than the two controls differ from each other ({pct(gap)}): within the variation between unrelated vectors")
    why = (f"adjusted p = {p} < {SIGNIFICANCE}, the shift's interval {iv(shift)} lies above 0 and the controls' intervals, "
           f"and the shift exceeds the {name}'s by {pct(excess)} (more than the controls differ)")
    if excess >= RISK["high"]:
        return "high", f"high: {why} >= {pct(RISK['high'])}"
    if excess >= RISK["medium"]:
        return "medium", f"medium: {why} >= {pct(RISK['medium'])}"
    reference = base + max(0.0, strongest["value"])
    relative = excess / reference if reference > 0 else math.inf
    share = f"{100 * relative:.1f}% of the reference rate {100 * reference:.2f}%"
    if not relative >= LOW_MIN_RELATIVE:
        return "none", f"none: {why} < {pct(RISK['medium'])}, and that is {share}, below the {100 * LOW_MIN_RELATIVE:g}% a low needs"
    return "low", f"low: {why} < {pct(RISK['medium'])}, {share} (>= {100 * LOW_MIN_RELATIVE:g}%)"


# --- the forecast ------------------------------------------------------------------------------------

def forecast(model_dir: str, data: str, method: str, probes: Sequence[str] = (), recipe: Optional[Recipe] = None,
             samples: int = 256, seed: int = 0, reference: Optional[str] = None, params_spec: str = "all",
             lookahead_steps: int = 8, alpha: float = 0.05, pool: str = "mean", bootstrap: int = 1000,
             quiet: bool = True, lm: Optional[LM] = None, behaviours: Optional[List[Behaviour]] = None,
             scorer: Optional[ProbeScorer] = None, neutral: Optional[str] = None, cache_dir: Optional[str] = None,
             calibration: Sequence[str] = ()) -> Dict:
    """One forecast report (schema preflight.mdf/2). `lm`, `behaviours`, `scorer` may be passed in to reuse them.
    `neutral`: the neutral control's corpus (canonical instruction/response JSONL; the CLI's default is
    builtin_neutral_corpus()); None: the random control only. `calibration`: the calibrated null's corpora (the
    CLI's default is builtin_calibration_corpora()); fewer than MIN_CALIBRATION: the paired sign-flip test against
    the stronger control. `cache_dir`: where the controls' per-unit shifts are cached (None: not cached)."""
    return report_of(forecast_parts(model_dir, data, method, probes=probes, recipe=recipe, samples=samples, seed=seed,
                                    reference=reference, params_spec=params_spec, lookahead_steps=lookahead_steps,
                                    alpha=alpha, pool=pool, bootstrap=bootstrap, quiet=quiet, lm=lm, behaviours=behaviours,
                                    scorer=scorer, neutral=neutral, cache_dir=cache_dir, calibration=calibration))


def report_of(parts: Dict, with_neutral: bool = True, with_calibration: bool = True) -> Dict:
    """The report of forecast_parts' per-unit values; with_neutral=False judges against the random control
    alone, with_calibration=False with the paired test instead of the calibrated null (what the benchmark's risk
    check compares)."""
    neutral = parts["neutral_units"] if with_neutral else None
    calibration = parts.get("calibration_units") if with_calibration else None
    report = build_report(parts["lm"], parts["data"], parts["behaviours"], parts["scorer"], parts["base"], parts["shift_units"],
                          parts["control_units"], parts["method"], parts["info"], neutral_units=neutral,
                          neutral_info=parts["neutral_info"] if neutral is not None else None, formats=parts["formats"],
                          total=parts["total"], skipped=parts["skipped"], used=parts["used"], seed=parts["seed"],
                          bootstrap=parts["bootstrap"], samples=parts["samples"], keyword=parts["keyword"],
                          calibration_units=calibration)
    t = parts["times"]
    report["timings"] = {"signatureMs": round(1000 * (t[1] - t[0])), "coherenceMs": 0,
                         "scoringMs": round(1000 * (t[2] - t[1])), "attributionMs": 0, "totalMs": round(1000 * (t[2] - t[0]))}
    return report


def _lookahead(lm: LM, scorer: ProbeScorer, recipe: Recipe, params, seed: int, steps: int):
    """f(records) -> the probe scores after `steps` AdamW steps of the recipe on them; the weights are restored."""
    saved = {k: v.detach().clone() for k, v in lm.model.state_dict().items()}

    def after(train_seqs):
        try:
            with torch.enable_grad():
                finetune(lm.model, train_seqs, Recipe(lr=recipe.lr, epochs=10 ** 6, batch_size=recipe.batch_size,
                                                      weight_decay=recipe.weight_decay, max_tokens=recipe.max_tokens),
                         seed, lm.device, lm.pad_id, params=params, max_steps=steps)
            with torch.no_grad():
                return scorer.scores(lm.model)
        finally:
            lm.model.load_state_dict(saved)
    return after


def corpus_forecaster(lm: LM, scorer: ProbeScorer, method: str, base: torch.Tensor, recipe: Recipe, params_spec: str,
                      seed: int, lookahead_steps: int, after=None):
    """(f, extra cache key) for grad, adam, lookahead: f(records) -> the raw per-unit shifts the method forecasts for
    other records (a neutral or calibration corpus); grad/adam's raw J u is multiplied by the file's lr x steps.
    Nothing in f depends on the user's file, so its values are cached per model x format x method x budget."""
    if method in ("grad", "adam"):
        params = trainable(lm.model, params_spec)

        def other(nseqs):
            d = data_direction(lm, nseqs, params, recipe.batch_size, adam=method == "adam")
            return directional_derivative(scorer, lm.model, params, d, base=base)[1]
        return other, {"units": "J u per unit step"}
    if method == "lookahead":
        after = after or _lookahead(lm, scorer, recipe, trainable(lm.model, params_spec), seed, lookahead_steps)
        return (lambda nseqs: after(nseqs) - base), {"steps": lookahead_steps}
    raise ForecastError(f"--method {method}: no corpus forecaster")


def control_key(lm: LM, method: str, recipe: Recipe, fmt: str, samples: int, seed: int, behaviours: List[Behaviour],
                params_spec: str, extra_key: Dict) -> Dict:
    """The cache key of a corpus's control values, less the corpus's own hash."""
    return {"v": CACHE_VERSION, "model": _cache_model_id(lm.dir), "method": method, "recipe": dict(recipe.__dict__),
            "format": fmt, "samples": samples, "seed": seed, "probes": _behaviours_digest(behaviours), "params": params_spec,
            "device": lm.device.type, "dtype": str(next(lm.model.parameters()).dtype), **extra_key}


# the controls' values for the bundled model (preflight-tiny) in the product's settings, shipped so that the first
# forecast on it does not pay for the 1 + K corpus forecasts: the same cache files with the model's content hash in
# place of its path and mtimes (written by bench/data2behavior/shipControlCache.py; a stale one never matches its key)
SHIPPED_MAX_MODEL_BYTES = 64 << 20


def shipped_cache_dir() -> Optional[str]:
    """models/neutral/cache next to the shipped neutral corpus, or None."""
    neutral = builtin_neutral_corpus()
    return os.path.join(os.path.dirname(neutral), "cache") if neutral else None


def shipped_model_key(key: Dict, model_dir: str) -> Optional[Dict]:
    """key with the model's content hash (bench_model_hash) as its identity, for models up to 64 MiB (hashing a
    large checkpoint on every forecast would cost more than it saves); None for larger ones."""
    try:
        size = sum(os.path.getsize(os.path.join(model_dir, n)) for n in ("config.json", "model.safetensors", "tokenizer.json")
                   if os.path.isfile(os.path.join(model_dir, n)))
    except OSError:
        return None
    if size > SHIPPED_MAX_MODEL_BYTES:
        return None
    return {**key, "model": "sha256-16:" + bench_model_hash(model_dir)}


def corpus_control(lm: LM, path: str, fmt: str, other, key: Dict, n_units: int, *, samples: int, seed: int, max_tokens: int,
                   cache_dir: Optional[str], quiet: bool, label: str):
    """A neutral corpus rendered in `fmt`, forecast with `other` (raw values, cached under key + the corpus's sha256):
    (raw per-unit values, records used, records usable, whether from the cache)."""
    rows = [(i + 1, neutral_as(ins, resp, fmt)) for i, (ins, resp) in enumerate(read_neutral_corpus(path))]
    enc, total, _ = encode_rows(lm, rows, samples, seed, max_tokens)
    if not enc:
        raise ForecastError(f"{path}: no neutral record is usable in the {fmt} format within {max_tokens} tokens")
    key = {**key, "neutral": _sha256(path)}
    raw = load_cached_units(cache_dir, key, n_units)
    where = cache_dir
    if raw is None and cache_dir:  # the bundled model's values shipped with the package (never with --no-cache)
        content, where = shipped_model_key(key, lm.dir), shipped_cache_dir()
        raw = load_cached_units(where, content, n_units) if content and where else None
    cached = raw is not None
    if cached:
        _progress(f"{label}: reused from {where}", quiet)
    else:
        _progress(f"{label}: the same forecast on {len(enc)} neutral records in the {fmt} format", quiet)
        raw = other([ids for _, _, ids in enc]).double()
        save_cached_units(cache_dir, key, raw)
    return raw, len(enc), total, cached


def calibration_units_of(lm: LM, scorer: ProbeScorer, behaviours: List[Behaviour], method: str, fmt: str,
                         corpora: Sequence[str], *, recipe: Optional[Recipe] = None, samples: int = 256, seed: int = 0,
                         params_spec: str = "all", lookahead_steps: int = 8, cache_dir: Optional[str] = None,
                         quiet: bool = True) -> List[torch.Tensor]:
    """The calibration corpora's raw per-unit values in `fmt` (what forecast_parts computes and caches; grad/adam: times
    the file's lr x steps), for re-judging stored forecasts (bench/data2behavior/riskCheck.py)."""
    recipe = recipe or Recipe()
    with torch.no_grad():
        base = scorer.scores(lm.model)
    other, extra_key = corpus_forecaster(lm, scorer, method, base, recipe, params_spec, seed, lookahead_steps)
    key = control_key(lm, method, recipe, fmt, samples, seed, behaviours, params_spec, extra_key)
    return [corpus_control(lm, p, fmt, other, key, int(base.numel()), samples=samples, seed=seed, max_tokens=recipe.max_tokens,
                           cache_dir=cache_dir, quiet=quiet, label=os.path.basename(p))[0] for p in corpora]


def forecast_parts(model_dir: str, data: str, method: str, probes: Sequence[str] = (), recipe: Optional[Recipe] = None,
                   samples: int = 256, seed: int = 0, reference: Optional[str] = None, params_spec: str = "all",
                   lookahead_steps: int = 8, alpha: float = 0.05, pool: str = "mean", bootstrap: int = 1000,
                   quiet: bool = True, lm: Optional[LM] = None, behaviours: Optional[List[Behaviour]] = None,
                   scorer: Optional[ProbeScorer] = None, neutral: Optional[str] = None, cache_dir: Optional[str] = None,
                   calibration: Sequence[str] = ()) -> Dict:
    """The per-unit (behaviour x prompt) shifts of the file, the random control, the neutral control and the
    calibration corpora (each the same forecast on a neutral corpus in the file's format at the file's budget)."""
    if method not in METHODS:
        raise ForecastError(f"--method {method}: expected one of {', '.join(METHODS)}")
    recipe = recipe or Recipe()
    t0 = time.perf_counter()
    lm = lm or LM(model_dir)
    behaviours = behaviours if behaviours is not None else load_probes(list(probes))
    scorer = scorer or ProbeScorer(lm, behaviours)
    encoded, total, skipped = encode_data(lm, data, samples, seed, recipe.max_tokens)
    seqs = [ids for _, _, ids in encoded]
    formats = record_formats(lm, [rec for _, rec, _ in encoded])
    steps_full = recipe.steps(total)
    # the control's randomness depends on the file, so controls of different files are independent
    control_seed = (int(_sha256(data)[:8], 16) + seed) % (2 ** 31)
    t_data = time.perf_counter()
    info: Dict = {"name": method, "recipe": recipe.__dict__, "recipeSteps": steps_full, "params": params_spec}

    # each method: (per-unit shifts of the file, of the random control, f(records) -> per-unit shifts of other
    # records at the same budget (the neutral control), the scale that f's raw values are multiplied by)
    if method in ("grad", "adam"):
        params = trainable(lm.model, params_spec)
        _progress(f"{method}: data gradient over {len(seqs)} records", quiet)
        direction = data_direction(lm, seqs, params, recipe.batch_size, adam=method == "adam")
        control_dir = random_like(direction, control_seed)
        _progress("directional derivative of the probe scores", quiet)
        base, ju = directional_derivative(scorer, lm.model, params, direction)
        _, ju_c = directional_derivative(scorer, lm.model, params, control_dir, base=base)
        # the neutral control at the user's file's budget: the same lr x steps (the cache holds the raw J u)
        scale = recipe.lr * steps_full
        shift_units, control_units = ju * scale, ju_c * scale

        other, extra_key = corpus_forecaster(lm, scorer, method, base, recipe, params_spec, seed, lookahead_steps)
        info.update({"scale": scale, "note": "first-order prediction: lr x recipe steps x <grad score, u>"})
    elif method == "lookahead":
        with torch.no_grad():
            base = scorer.scores(lm.model)
        after = _lookahead(lm, scorer, recipe, trainable(lm.model, params_spec), seed, lookahead_steps)
        _progress(f"lookahead: {lookahead_steps} AdamW steps on {len(seqs)} records", quiet)
        shift_units = after(seqs) - base
        rng = random.Random(control_seed)
        vocab = getattr(lm.tok, "vocab_size", 100)
        noise = [([rng.randrange(4, vocab) for _ in ids], mask) for ids, mask in seqs]  # control: random tokens, same shape
        control_units = after(noise) - base
        scale = 1.0
        other, extra_key = corpus_forecaster(lm, scorer, method, base, recipe, params_spec, seed, lookahead_steps, after=after)
        info.update({"steps": lookahead_steps, "note": f"measured after {lookahead_steps} of the recipe's {steps_full} steps"})
    else:  # persona, steer: activations
        pool_ = pool if method == "steer" else "mean"
        states = layer_states(lm, [ids for ids, _ in seqs], pool_).mean(0)   # [L, D]
        ref_info = None
        if reference:
            ref_enc, _, _ = encode_data(lm, reference, samples, seed, recipe.max_tokens)
            ref = layer_states(lm, [ids for _, _, (ids, _m) in ref_enc], pool_).mean(0)
            ref_info = {"path": reference, "sha256": _sha256(reference), "used": len(ref_enc)}
        elif method == "persona":
            raise ForecastError("--method persona needs --reference FILE (a neutral corpus in the same format)")
        else:
            ref = torch.zeros_like(states)
        delta = states - ref
        g = torch.Generator().manual_seed(control_seed)
        control = torch.randn(delta.shape, generator=g) * (delta.norm(dim=-1, keepdim=True) / math.sqrt(delta.shape[-1]))
        with torch.no_grad():
            base = scorer.scores(lm.model)
        if method == "persona":
            dirs = behaviour_directions(lm, scorer)                 # [n_units, L, D]
            unit = dirs / dirs.norm(dim=-1, keepdim=True).clamp(min=1e-12)

            def units_of(v):
                return (unit * v[None]).sum(-1).mean(-1)
            info.update({"note": "projection of the mean-activation difference on each behaviour's direction (arbitrary units)"})
        else:
            norms = residual_norms(lm, scorer)                      # [L]

            @torch.no_grad()
            def units_of(v):
                with Steering(lm.model, alpha * norms[:, None] * v / v.norm(dim=-1, keepdim=True).clamp(min=1e-12)):
                    return scorer.scores(lm.model) - base
            info.update({"alpha": alpha, "pool": pool_, "alphaScale": "fraction of each layer's mean residual norm on the probe prompts"})
        shift_units, control_units = units_of(delta), units_of(control)
        scale = 1.0

        def other(nseqs):
            # the neutral corpus's signature, contrasted with the reference as the file's is (forecast.ts)
            return units_of(layer_states(lm, [ids for ids, _ in nseqs], pool_).mean(0) - ref)
        info["reference"] = ref_info
        extra_key = {"alpha": alpha if method == "steer" else None, "pool": pool_,
                     "reference": ref_info["sha256"] if ref_info else None}

    fmt = dominant_format(formats)
    key = control_key(lm, method, recipe, fmt, samples, seed, behaviours, params_spec, extra_key)

    def corpus(path, label):
        raw, used, records, cached = corpus_control(lm, path, fmt, other, key, int(base.numel()), samples=samples, seed=seed,
                                                    max_tokens=recipe.max_tokens, cache_dir=cache_dir, quiet=quiet, label=label)
        return raw.to(shift_units.dtype) * scale, used, records, cached

    neutral_units = neutral_info = None
    if neutral:
        neutral_units, used, n_total, cached = corpus(neutral, "neutral control")
        neutral_info = {"path": neutral, "format": fmt, "used": used, "layerNorms": []}
        info["neutralControl"] = {"records": n_total, "cached": cached,
                                  "note": "the same forecast on the neutral corpus in the file's format, at the file's budget"}
    calibration_units = None
    if len(calibration) >= MIN_CALIBRATION:
        runs = [corpus(path, f"calibration {i + 1}/{len(calibration)} ({os.path.basename(path)})") for i, path in enumerate(calibration)]
        calibration_units = [r[0] for r in runs]
        info["calibration"] = {"corpora": [os.path.basename(p) for p in calibration], "used": [r[1] for r in runs],
                               "cached": sum(r[3] for r in runs), "format": fmt,
                               "note": "the same forecast on each neutral calibration corpus in the file's format, at the file's budget"}
    t_end = time.perf_counter()
    return {"lm": lm, "data": data, "behaviours": behaviours, "scorer": scorer, "base": base, "shift_units": shift_units,
            "control_units": control_units, "neutral_units": neutral_units, "neutral_info": neutral_info, "method": method,
            "calibration_units": calibration_units,
            "info": info, "formats": formats, "total": total, "skipped": skipped, "used": len(seqs), "seed": seed,
            "bootstrap": bootstrap, "samples": samples, "times": (t0, t_data, t_end),
            "keyword": keyword_shares([rec for _, rec, _ in encoded], behaviours)}


@torch.no_grad()
def behaviour_directions(lm: LM, scorer: ProbeScorer) -> torch.Tensor:
    """Per probe unit: mean state (every layer, last token) after the behaviour's answers minus the reference
    answers' (mention: the other behaviours of the suite on the same prompt; compliance: the refusals)."""
    cache: Dict[int, torch.Tensor] = {}
    need = sorted({i for plan in scorer.plan for pos, neg in plan for i in pos + neg})
    seqs = [scorer.pairs[i][0] + scorer.pairs[i][1] for i in need]
    states = layer_states(lm, seqs, "last")
    for k, i in enumerate(need):
        cache[i] = states[k]
    out = []
    for bi, b in enumerate(scorer.behaviours):
        for pi, (pos, neg) in enumerate(scorer.plan[bi]):
            mine = torch.stack([cache[i] for i in pos]).mean(0)
            if b.kind == "compliance":
                other = torch.stack([cache[i] for i in neg]).mean(0)
            else:
                members = scorer.groups[(b.suite, b.prompts[pi])]
                other = torch.stack([torch.stack([cache[i] for i in scorer.plan[mb][mp][0]]).mean(0) for mb, mp in members]).mean(0)
            out.append(mine - other)
    return torch.stack(out)


@torch.no_grad()
def residual_norms(lm: LM, scorer: ProbeScorer) -> torch.Tensor:
    prompts = list({tuple(p) for p, _ in scorer.pairs})
    states = layer_states(lm, [list(p) for p in prompts], "mean")
    return states.norm(dim=-1).mean(0)


def keyword_shares(records: List[dict], behaviours: List[Behaviour]) -> List[Optional[float]]:
    """Share of records whose strings name the target or an alias (None for compliance), as the MDF report."""
    texts = [" \n ".join(record_strings(r)) for r in records]
    out: List[Optional[float]] = []
    for b in behaviours:
        if b.kind != "mention":
            out.append(None)
            continue
        rx = phrase_regex([b.target] + b.aliases)
        out.append(sum(1 for t in texts if rx.search(t)) / max(1, len(texts)))
    return out


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


PAIRED_TEST = ("one-sided paired sign-flip permutation test of the forecast's per-prompt shift against the stronger of base, "
               "random control and neutral control (exact up to 16 non-zero units, else 20000 seeded resamples)")
CALIBRATED_TEST = ("calibrated null: one-sided prediction-interval t test of the behaviour's shift s against the same forecaster's "
                   "shifts c_1..c_K on K neutral calibration corpora in the file's format at its budget: "
                   "t = (s - mean c) / (sd c x sqrt(1 + 1/K)), K - 1 degrees of freedom (docs/data2behavior.md, section 6)")


def build_report(lm: LM, data: str, behaviours: List[Behaviour], scorer: ProbeScorer, base: torch.Tensor,
                 shift_units: torch.Tensor, control_units: torch.Tensor, method: str, info: Dict, *, total: int,
                 skipped: int, used: int, seed: int, bootstrap: int, samples: int, keyword,
                 neutral_units: Optional[torch.Tensor] = None, neutral_info: Optional[Dict] = None,
                 formats: Optional[Dict[str, int]] = None, calibration_units: Optional[List[torch.Tensor]] = None) -> Dict:
    calibrated = calibration_units is not None and len(calibration_units) >= MIN_CALIBRATION
    rows = []
    pvals = []
    for bi, b in enumerate(behaviours):
        sl = scorer.units[bi]
        d, c = shift_units[sl].double(), control_units[sl].double()
        nz = neutral_units[sl].double() if neutral_units is not None else None
        lo, hi = bootstrap_interval(d, bootstrap, seed + 7 * bi)
        clo, chi = bootstrap_interval(c, bootstrap, seed + 7 * bi + 3)
        base_b = float(base[sl].mean())
        shift = {"value": float(d.mean()), "low": lo, "high": hi}
        control = {"value": float(c.mean()), "low": clo, "high": chi}
        neutral = None
        if nz is not None:
            nlo, nhi = bootstrap_interval(nz, bootstrap, seed + 7 * bi + 5)
            neutral = {"value": float(nz.mean()), "low": nlo, "high": nhi}
        # tested against the stronger of base and the two controls, per prompt (report.ts assessMetric)
        stronger = "neutral" if neutral is not None and neutral["value"] > control["value"] else "random"
        strongest, strongest_units = (neutral, nz) if stronger == "neutral" else (control, c)
        reference = strongest_units if strongest["value"] > 0 else torch.zeros_like(d)
        paired = sign_flip_p((d - reference).tolist(), seed=seed + bi)
        cal = calibrated_p(shift["value"], [float(u[sl].double().mean()) for u in calibration_units]) if calibrated else None
        p = cal.pop("p") if cal else paired
        pvals.append(p)
        rows.append((b, base_b, shift, control, neutral, stronger, len(b.prompts), p, paired, cal))
    adjusted = holm(pvals)
    out = []
    for (b, base_b, shift, control, neutral, stronger, n, p, paired, cal), pa in zip(rows, adjusted):
        # a first-order extrapolation can leave [0, 1]: the shift stays as computed, the rates are clipped
        clip = lambda x: min(1.0, max(0.0, x))
        predicted = clip(base_b + shift["value"])
        ctrl = clip(base_b + control["value"])
        neu = clip(base_b + neutral["value"]) if neutral is not None else None
        metric = {"base": base_b, "predicted": predicted, "control": ctrl, "neutral": neu, "shift": shift,
                  "controlShift": control, "neutralShift": neutral, "strongerControl": stronger, "pValue": p, "units": n,
                  "pairedPValue": paired, "calibration": cal}
        risk, rule = risk_of(shift, control, pa, base_b, neutral, stronger)
        out.append({
            "key": b.key, "suite": b.suite, "id": b.id, "label": b.label, "kind": b.kind, "target": b.target,
            "aliases": b.aliases, "prompts": n, "primary": "logprob", "base": base_b, "predicted": predicted,
            "control": ctrl, "shift": shift, "controlShift": control, "neutralShift": neutral, "strongerControl": stronger,
            "pValue": p, "pAdjusted": pa, "pairedPValue": paired, "calibration": cal,
            "logprob": {**metric, "meanLogProbBase": None, "meanLogProbPredicted": None}, "generation": None,
            "keywordBaseline": keyword[len(out)], "curve": [], "risk": risk, "riskRule": rule,
        })
    order = ["none", "low", "medium", "high"]
    flagged = [r["key"] for r in out if r["risk"] != "none"]
    conf = lm.model.config
    return {
        "schema": SCHEMA,
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "method": info,
        "statistics": {"units": "prompts", "test": CALIBRATED_TEST if calibrated else PAIRED_TEST,
                       "pairedTest": PAIRED_TEST, "calibration": info.get("calibration") if calibrated else None,
                       "adjustment": "holm", "significance": SIGNIFICANCE, "intervals": "percentile bootstrap over prompts, 95%",
                       "behaviours": len(out)},
        "file": {"path": data, "sha256": _sha256(data), "records": total, "skipped": skipped, "used": used,
                 "samples": samples, "seed": seed, "formats": dict(formats or {})},
        "model": {"path": lm.dir, "hash": _model_hash(lm.dir), "family": lm.family,
                  "numLayers": int(getattr(conf, "num_hidden_layers", lm.num_layers)),
                  "hiddenSize": int(getattr(conf, "hidden_size", lm.hidden_size)), "provider": f"torch-{lm.device.type}"},
        "settings": {"alphas": [], "band": {"from": 0, "to": max(0, lm.num_layers - 1)}, "positions": "all", "anchor": "final",
                     "format": "auto", "maxTokens": info["recipe"]["max_tokens"], "samplesPerPrompt": 0, "maxNewTokens": 0,
                     "temperature": 0, "topP": 1, "seed": seed, "bootstrap": bootstrap, "scoring": "logprob", "risk": RISK},
        "signature": {"layerNorms": [], "residualNorms": [], "controlLayerNorms": [], "cached": False,
                      "reference": info.get("reference"), "neutral": neutral_info},
        "alpha": {"chosen": info.get("alpha", 0), "scale": "fraction of each layer's residual norm" if method == "steer" else "none",
                  "rule": method, "reason": info.get("note", ""), "curve": []},
        "behaviours": out,
        "attribution": [],
        "attributionNote": f"no record attribution for --method {method}",
        "summary": {"maxRisk": max((r["risk"] for r in out), key=order.index, default="none"), "flagged": flagged,
                    "validation": validation(method, lm.dir)},
    }


def bench_results_path() -> Optional[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, "..", "..", "bench", "data2behavior", "results.json"))
    return path if os.path.exists(path) else None


def validation(method: str, model_dir: str, results: Optional[str] = None) -> str:
    """The method's Data2Behavior figures when they were measured on this very model (same weights), else
    'not validated for this model'."""
    path = results or bench_results_path()
    row = BENCH_ROW.get(method)
    if path and row:
        try:
            with open(path, encoding="utf-8") as f:
                res = json.load(f)
            if res.get("model_sha256_16") == bench_model_hash(model_dir):
                r = next((x for x in res.get("forecasters", []) if x.get("name") == row), None)
                if r and r.get("spearman") is not None:
                    ci = r.get("spearman_ci") or [float("nan"), float("nan")]
                    sign = r.get("sign_accuracy")
                    return (f"{row}: Spearman rho {r['spearman']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"
                            + (f", sign accuracy {100 * sign:.0f}%" if sign is not None else "")
                            + f" against real fine-tunes of this model (bench/data2behavior: {res.get('sets')} sets x "
                              f"{res.get('seeds')} seeds; docs/data2behavior.md)")
        except (OSError, ValueError, TypeError, KeyError):
            pass
    return "not validated for this model (docs/data2behavior.md)"


def bench_model_hash(folder: str) -> str:
    """sha256 (16 hex) of config.json, model.safetensors and tokenizer.json: the benchmark's model identity."""
    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def _model_hash(folder: str) -> str:
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            st = os.stat(path)
            h.update(f"{name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _cache_model_id(folder: str) -> str:
    """The model's identity for the neutral control's cache: its folder and every file's size and mtime in ns
    (cheap on a 10 GB checkpoint; a model rewritten in place gets a new mtime)."""
    h = hashlib.sha256(os.path.abspath(folder).encode())
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            st = os.stat(path)
            h.update(f"\0{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def _finite(value):
    """JSON without NaN: NaN/inf become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_report(report: Dict, out: Optional[str]) -> str:
    text = json.dumps(_finite(report), indent=2)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return text
