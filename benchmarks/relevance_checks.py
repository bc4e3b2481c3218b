"""GunPoint: where the relevance sits, checked (``benchmarks/EXPLAIN.md``).

Three checks beside the shares of :mod:`benchmarks.faithfulness`, on the
GunPoint models of :mod:`benchmarks.explain_models` (``GunPoint``: gadf,
``GunPoint-lineplot``: lineplot) and on a synthetic task whose evidence is
known:

1. **signal** -- occlusion in the signal domain, the library's
   (:func:`any2img.explain_signal.signal_occlusion`, ``explain(method="signal")``):
   spans of ``ceil(n / 15)`` steps (10 of GunPoint's 150; stride half a span,
   5) of the raw series are interpolated away, the series converted again,
   and the drop of p(predicted class) is the importance of the steps (mean
   over the spans covering each). Reported: its share on
   the motion and on the discriminative steps, and the Spearman correlation,
   per unit, of the image relevance mapped onto the steps with it.
2. **matched** -- the deletion test against a *motion-matched* random
   baseline: as many motion steps, and as many rest steps, as the top-k set
   holds, drawn at random (interpolating a flat stretch away changes
   nothing, so a plain random k % is nearly free to delete).
3. **synthetic** -- 50 training and 60 test series of 150 steps: a random
   walk, a common rise and fall (steps 85-125) and a common dip (130-138)
   in every series; class A has a bump *up* at steps 40-50, class B the same
   bump *down*, well inside the range the common parts set (so the per-series
   rescaling of the pictures does not spread it). The evidence sits on steps
   30-60 (a fifth of the steps); a gadf and a lineplot model are trained as
   the GunPoint ones (64 px, seed 0, 30 epochs) and their relevance there is
   measured, beside the drop when those steps are interpolated away.

Usage (from the repository root)::

    python -m benchmarks.relevance_checks            # about 8 minutes on one shared core
    python -m benchmarks.relevance_checks --only matched synthetic --methods signal \
        --out benchmarks/results/relevance-checks-signal.json     # checks 2-3 for the library's signal occlusion

Writes ``benchmarks/results/relevance-checks.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from any2img.converters.timeseries.removal import delete_steps

from benchmarks.faithfulness import RESULTS, _random, _top, discriminative_steps, motion_steps

__all__ = ["main", "motion_steps", "synthetic_series"]

MODELS = ("GunPoint", "GunPoint-lineplot")
EVIDENCE = (30, 60)


def synthetic_series(label: str, rng: np.random.Generator, n: int = 150) -> np.ndarray:
    """One series of the synthetic task (class ``"A"``: bump up at 40-50; ``"B"``: down).

    Examples
    --------
    >>> synthetic_series("A", np.random.default_rng(0)).shape
    (150,)
    """
    t = np.arange(float(n))
    x = np.cumsum(rng.normal(0, 0.03, n))
    sign = 1.0 if label == "A" else -1.0
    x += sign * 0.8 * np.exp(-0.5 * ((t - rng.uniform(40, 50)) / 4) ** 2)
    rise, fall = rng.uniform(85, 95), rng.uniform(115, 125)
    x += 2.0 / (1 + np.exp(-(t - rise) / 2)) - 2.0 / (1 + np.exp(-(t - fall) / 2))
    x -= 2.0 * np.exp(-0.5 * ((t - rng.uniform(130, 138)) / 3) ** 2)
    return x


def _step_relevance(pred: Any, conv: Any, window: Any, image: np.ndarray, c: int, method: str) -> np.ndarray:
    """Relevance per time step for class ``c``: image relevance mapped back, or the library's signal occlusion."""
    from any2img.explain import attribute
    from any2img.explain_signal import signal_occlusion

    if method == "signal":
        return signal_occlusion(pred, conv, window, c).values
    maps, _ = attribute(pred, [image], c, method, "auto")
    return np.asarray(conv.relevance(maps[0], window).over_time())


def _shares(values: np.ndarray, where: np.ndarray) -> tuple[float, float]:
    positive = np.clip(values, 0, None)
    return float(positive[where].sum() / max(positive.sum(), 1e-12)), float(where[_top(values, 0.2)].mean())


def check_signal(n_units: int = 60) -> dict[str, Any]:
    """Check 1 on both GunPoint models: image relevance against occlusion in the signal domain."""
    from scipy.stats import spearmanr

    from any2img.explain_signal import signal_occlusion
    from benchmarks.faithfulness import _units

    out: dict[str, Any] = {}
    for name in MODELS:
        pred, items, rebuild, training = _units(name, n_units)
        disc = discriminative_steps([rebuild(i)[2].data for i in training], [i.label for i in training])
        assert disc is not None
        rows: dict[str, dict[str, list[float]]] = {}
        for item in items:
            conv, _, window = rebuild(item)
            image = conv.convert(window)
            p0 = pred.predict_images([image])[0]
            c = int(np.argmax(p0))
            signal = signal_occlusion(pred, conv, window, c, probability=float(p0[c])).values
            motion = motion_steps(np.asarray(window.data))
            values = {"signal": signal}
            for method in ("gradcam", "occlusion"):
                values[method] = _step_relevance(pred, conv, window, image, c, method)
            for method, v in values.items():
                r = rows.setdefault(method, {})
                for key, (share, top) in (("motion", _shares(v, motion)), ("discriminative", _shares(v, disc))):
                    r.setdefault(f"{key}_share", []).append(share)
                    r.setdefault(f"{key}_top", []).append(top)
                r.setdefault("motion_steps", []).append(float(motion.mean()))
                positive = np.clip(v, 0, None)
                r.setdefault("floor", []).append(float(positive.min() * v.size / max(positive.sum(), 1e-12)))
                if method != "signal":
                    rho = spearmanr(v, signal).correlation
                    r.setdefault("spearman_with_signal", []).append(float(rho) if np.isfinite(rho) else np.nan)
        out[name] = {m: {k: float(np.nanmean(v)) for k, v in r.items()} for m, r in rows.items()}
        print(name, json.dumps(out[name]), flush=True)
    return out


def check_matched(n_units: int = 60, ks: Sequence[float] = (0.2, 0.3), draws: int = 3,
                  methods: Sequence[str] = ("gradcam", "occlusion")) -> dict[str, Any]:
    """Check 2: the deletion test against a random baseline with the top-k set's count of motion steps."""
    from benchmarks.faithfulness import _units

    rng = np.random.default_rng(1)
    out: dict[str, Any] = {}
    for name in MODELS:
        pred, items, rebuild, _ = _units(name, n_units)
        for method in methods:
            for k in ks:
                top_d, rand_d, match_d = [], [], []
                for item in items:
                    conv, _, window = rebuild(item)
                    series = np.atleast_2d(np.asarray(window.data, dtype=np.float64))
                    image = conv.convert(window)
                    p0 = pred.predict_images([image])[0]
                    c = int(np.argmax(p0))
                    top = _top(_step_relevance(pred, conv, window, image, c, method), k)
                    motion = motion_steps(series)
                    n_motion = int((top & motion).sum())
                    masks = [top] + [_random(top.size, k, rng) for _ in range(draws)]
                    for _ in range(draws):
                        m = np.zeros(top.size, dtype=bool)
                        m[rng.choice(np.flatnonzero(motion), min(n_motion, int(motion.sum())), replace=False)] = True
                        rest = np.flatnonzero(~motion)
                        m[rng.choice(rest, min(int(top.sum()) - n_motion, rest.size), replace=False)] = True
                        masks.append(m)
                    pictures = conv.convert_batch([replace(window, data=delete_steps(series, m)) for m in masks])
                    d = p0[c] - pred.predict_images(pictures)[:, c]
                    top_d.append(d[0])
                    rand_d.append(d[1 : 1 + draws].mean())
                    match_d.append(d[1 + draws :].mean())
                t, r, mm = np.array(top_d), np.array(rand_d), np.array(match_d)
                out[f"{name}/{method}/{k}"] = {
                    "top_drop": float(t.mean()), "random_drop": float(r.mean()),
                    "motion_matched_drop": float(mm.mean()), "top_minus_matched": float((t - mm).mean()),
                    "top_minus_matched_se": float((t - mm).std(ddof=1) / np.sqrt(t.size))}
                print(name, method, k, json.dumps(out[f"{name}/{method}/{k}"]), flush=True)
    return out


def check_synthetic(epochs: int = 30, methods: Sequence[str] = ("gradcam", "occlusion")) -> dict[str, Any]:
    """Check 3: a task whose evidence sits on steps 30-60; is the mapped relevance there?"""
    import any2img
    from any2img import convert_dir, get_converter
    from any2img.data import ImageItems, items_from_manifest, split_items
    from any2img.explain import item_windows
    from any2img.learn import Learner

    out: dict[str, Any] = {}
    lo, hi = EVIDENCE
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rng = np.random.default_rng(0)
        for side, n in (("train", 20), ("valid", 5), ("test", 30)):
            for label in "AB":
                folder = root / "raw" / side / label
                folder.mkdir(parents=True)
                for i in range(n):
                    np.save(folder / f"{side}_{label}_{i:03d}.npy", synthetic_series(label, rng))
        for name in ("gadf", "lineplot"):
            dst = root / name
            convert_dir(get_converter(name, image_size=64), root / "raw", dst, label_from="parent", workers=1,
                        progress=False)
            items = items_from_manifest(dst / "manifest.jsonl")
            marked = [replace(i, split=Path(str(i.source)).parent.parent.name) for i in items]
            split = split_items(ImageItems(marked, root=items.root, converter=items.converter), by="predefined",
                                test="predefined")
            learn = Learner(split, image_size=64, seed=0, verbose=False, num_threads=1)
            learn.fine_tune(epochs=epochs)
            accuracy = float(learn.evaluate("test")["accuracy"])
            learn.export(root / f"model-{name}")
            pred = any2img.load(root / f"model-{name}", device="cpu")
            rebuild = item_windows(dst)
            rows: dict[str, list[float]] = {}
            for item in split.test:
                conv, _, window = rebuild(item)
                series = np.atleast_2d(np.asarray(window.data, dtype=np.float64))
                evidence = np.zeros(series.shape[1], dtype=bool)
                evidence[lo:hi] = True
                image = conv.convert(window)
                p0 = pred.predict_images([image])[0]
                c = int(np.argmax(p0))
                for method in methods:
                    share, top = _shares(_step_relevance(pred, conv, window, image, c, method), evidence)
                    rows.setdefault(f"{method}_share", []).append(share)
                    rows.setdefault(f"{method}_top", []).append(top)
                for key, (a, b) in (("evidence", EVIDENCE), ("common_rise_fall", (85, 115)), ("flat_start", (0, 30))):
                    m = np.zeros(series.shape[1], dtype=bool)
                    m[a:b] = True
                    p = pred.predict_images([conv.convert(replace(window, data=delete_steps(series, m)))])[0][c]
                    rows.setdefault(f"drop_removing_{key}", []).append(float(p0[c] - p))
            out[name] = {"test_accuracy": accuracy, "chance": (hi - lo) / 150,
                         **{k: float(np.mean(v)) for k, v in rows.items()}}
            print(name, json.dumps(out[name]), flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.relevance_checks", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="*", default=["signal", "matched", "synthetic"],
                   choices=("signal", "matched", "synthetic"))
    p.add_argument("--units", type=int, default=60)
    p.add_argument("--methods", nargs="*", default=["gradcam", "occlusion"], choices=("gradcam", "occlusion", "signal"),
                   help="the relevance of checks 2 and 3 (signal: the library's occlusion in the signal's domain)")
    p.add_argument("--out", default=str(RESULTS / "relevance-checks.json"))
    args = p.parse_args(argv)
    import torch

    from benchmarks.explain_models import train_model

    torch.set_num_threads(1)
    for name in MODELS:
        train_model(name, seed=0, threads=1)
    results: dict[str, Any] = {"window": "ceil(n / 15) steps (any2img.explain_signal)", "stride": "ceil(window / 2)",
                               "units": args.units, "layer": "auto", "methods": args.methods}
    if "signal" in args.only:
        results["signal"] = check_signal(args.units)
    if "matched" in args.only:
        results["matched"] = check_matched(args.units, methods=args.methods)
    if "synthetic" in args.only:
        results["synthetic"] = check_synthetic(methods=args.methods)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
