"""Faithfulness of the explanations: a deletion test in the signal's own domain.

For each held-out unit (a GunPoint test series, an FSDD test clip of the
official split, a 300-event window of a Balabit user's held-out last
session) the model's predicted class ``c`` is explained (Grad-CAM, and
occlusion as the model-agnostic check) and the relevance mapped back onto
the signal by the converter (:meth:`any2img.converter.Converter.relevance`):
per time step, per spectrogram frame (20 ms), per mouse event; or, with
``--methods signal``, by the library's occlusion in the signal's domain
(:func:`any2img.explain_signal.signal_occlusion`), already per step, frame or
event. Then the top-k % most relevant parts are removed from the *raw*
signal with the converter family's own removal
(:meth:`any2img.converter.Converter.parts`) -- series steps replaced by
linear interpolation between the kept steps, audio frames zeroed, mouse
events deleted -- the signal is converted again, and the drop of ``p(c)`` is
recorded, against removing a random k % (``--random`` draws, averaged). A
faithful explanation hurts more than chance.

Sanity shares, from the same relevance:

* FSDD: the share of relevance inside the word's energy envelope (frames
  within ``ENVELOPE_DB`` = 30 dB, and within 20 dB, of the clip's loudest
  frame), beside the share of frames inside it (what a uniform relevance
  would give);
* GunPoint: the share on the draw / return motion (steps where the smoothed
  series moves faster than ``MOTION_SHARE`` of its fastest), beside the share
  of such steps; and, a different question, the share on the
  *discriminative* steps (the ``DISCRIMINATIVE_SHARE`` of the steps where the
  training series' class means differ most: :func:`discriminative_steps`).
  Each also as the share of the ``TOP_SHARE`` most relevant steps that lie
  there (a ranking, which a broad positive floor under the relevance does
  not dilute as it dilutes a share of the mass);
* Balabit: the share of the attribution on drawn pointer events rather than
  empty canvas (:attr:`~any2img.relevance.EventRelevance.on_path`), beside
  the share of the picture's pixels that are drawn (None for ``signal``,
  which scores events, never canvas); and the share of the relevance on
  *moving* events (the end of a step where the pointer moved, so drawn as a
  line), beside the share of such events.

Usage (from the repository root)::

    python -m benchmarks.faithfulness                  # trains the three models first if missing
    python -m benchmarks.faithfulness --units 60 --random 3 --threads 1
    python -m benchmarks.faithfulness --only GunPoint GunPoint-lineplot --tag gunpoint   # gadf vs lineplot

Writes ``benchmarks/results/faithfulness.csv`` (the curves),
``faithfulness-units.csv`` (per unit), ``faithfulness.json`` (summary,
command, machine, seeds) and ``faithfulness.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from any2img.converters.audio.removal import delete_frames
from any2img.converters.mouse.removal import delete_events
from any2img.converters.timeseries.removal import delete_steps

from any2img.bench.machine import machine_info, machine_label
from benchmarks import BENCH_ROOT
from benchmarks.datasets import get_dataset
from benchmarks.explain_models import ALL_MODELS, MODELS, converted_folder, model_dir, train_model
from benchmarks.runner import image_split

__all__ = ["KS", "delete_events", "delete_frames", "delete_steps", "discriminative_steps", "main", "motion_steps",
           "run_dataset"]

RESULTS = BENCH_ROOT / "results"
#: Shares of the signal removed.
KS = (0.05, 0.1, 0.2, 0.3, 0.5)
ENVELOPE_DB = 30.0
MOTION_SHARE = 0.1
#: Share of the time steps called discriminative (where the class means differ most).
DISCRIMINATIVE_SHARE = 0.2
#: Share of the most relevant steps whose position is checked (motion_top, discriminative_top).
TOP_SHARE = 0.2
SEED = 0


# -- removing parts of a raw signal: the converter families' own (Converter.parts), re-exported here ---------------
def _top(values: np.ndarray, k: float) -> np.ndarray:
    n = max(1, int(round(k * values.size)))
    mask = np.zeros(values.size, dtype=bool)
    mask[np.argsort(-values, kind="stable")[:n]] = True
    return mask


def _random(size: int, k: float, rng: np.random.Generator) -> np.ndarray:
    n = max(1, int(round(k * size)))
    mask = np.zeros(size, dtype=bool)
    mask[rng.choice(size, n, replace=False)] = True
    return mask


def discriminative_steps(series: Sequence[np.ndarray], labels: Sequence[Any],
                         share: float = DISCRIMINATIVE_SHARE) -> np.ndarray | None:
    """The ``share`` of time steps where the class means of ``series`` differ most (``None`` if lengths differ).

    The spread is the variance of the class means at each step (for two
    classes, a quarter of their squared difference); channels are averaged.

    Examples
    --------
    >>> x = [np.array([0.0, 0.0, 1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0, 0.5, 0.0])]
    >>> discriminative_steps(x, ["a", "b"], 0.4).tolist()
    [False, False, True, True, False]
    """
    rows = [np.atleast_2d(np.asarray(s, dtype=np.float64)).mean(axis=0) for s in series]
    if len({r.size for r in rows}) != 1:
        return None
    x, y = np.stack(rows), np.asarray(labels)
    means = np.stack([x[y == c].mean(axis=0) for c in dict.fromkeys(labels)])
    return _top(means.var(axis=0), share)


# -- per modality: the units of relevance and the sanity shares (the removal is the converter's: Converter.parts) ----
def motion_steps(series: np.ndarray) -> np.ndarray:
    """The steps called motion: the smoothed series moves faster than ``MOTION_SHARE`` of its fastest.

    Examples
    --------
    >>> motion_steps(np.r_[np.zeros(10), np.linspace(0, 1, 10), np.ones(10)]).nonzero()[0].tolist()[:3]
    [9, 10, 11]
    """
    from scipy.ndimage import uniform_filter1d

    speed = np.abs(np.gradient(uniform_filter1d(np.atleast_2d(series).mean(axis=0), 5)))
    return np.asarray(speed >= MOTION_SHARE * speed.max())


def _shares(values: np.ndarray, where: np.ndarray, name: str, chance: str) -> dict[str, float]:
    """Share of the positive relevance on ``where``, beside the share of parts there (chance)."""
    positive = np.clip(values, 0, None)
    return {f"{name}_share": float(positive[where].sum() / max(float(positive.sum()), 1e-12)),
            f"{name}_{chance}": float(where.mean())}


def _series_parts(window: Any, rel: Any, discriminative: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, dict[str, float]]:
    series = np.atleast_2d(np.asarray(window.data, dtype=np.float64))
    values = rel.over_time()
    motion = motion_steps(series)
    top = _top(values, TOP_SHARE)
    sanity = {**_shares(values, motion, "motion", "steps"), "motion_top": float(motion[top].mean())}
    if discriminative is not None and discriminative.size == values.size:
        sanity.update({**_shares(values, discriminative, "discriminative", "steps"),
                       "discriminative_top": float(discriminative[top].mean())})
    return values, sanity


def _audio_parts(window: Any, rel: Any, conv: Any) -> tuple[np.ndarray, dict[str, float]]:
    samples = np.asarray(window.data.samples[0], dtype=np.float32)
    hop = int(conv.get_params()["hop_length"])
    values = rel.over_time()
    energy = np.array([float(np.mean(samples[max(0, k * hop - hop // 2) : k * hop + hop - hop // 2] ** 2) + 1e-12)
                       for k in range(values.size)])
    db = 10 * np.log10(energy)
    sanity: dict[str, float] = {}
    for name, level in (("envelope", ENVELOPE_DB), ("envelope20", 20.0)):
        sanity.update(_shares(values, db >= db.max() - level, name, "frames"))
    return values, sanity


def _mouse_parts(window: Any, rel: Any, image: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    drawn = float((image.astype(int).sum(axis=2) > 30).mean())
    log = window.data
    moved = (np.diff(log.x) != 0) | (np.diff(log.y) != 0)  # step i -> i + 1 draws a line
    moving = np.zeros(len(log), dtype=bool)
    moving[:-1] |= moved
    moving[1:] |= moved
    sanity = {"drawn_pixels": drawn, **_shares(rel.values, moving, "moving", "events")}
    if rel.on_path is not None:  # None for signal occlusion: it scores events, never canvas
        sanity["on_path"] = float(rel.on_path)
    return rel.values, sanity


# -- the run --------------------------------------------------------------------------------------------------------
def _units(name: str, n_units: int) -> tuple[Any, list[Any], Any, list[Any]]:
    """The predictor, ``n_units`` held-out test items (seeded draw), their window rebuilder, the training items."""
    import any2img
    from any2img.explain import item_windows

    m = ALL_MODELS[name]
    folder = converted_folder(m)
    split = image_split(folder, get_dataset(m.dataset), m.split)
    test = list(split.test)
    rng = np.random.default_rng(SEED)
    chosen = sorted(rng.choice(len(test), min(n_units, len(test)), replace=False).tolist())
    return (any2img.load(model_dir(name), device="cpu"), [test[i] for i in chosen], item_windows(folder),
            list(split.train) + list(split.valid))


def run_dataset(name: str, *, n_units: int, n_random: int, methods: Sequence[str], layer: str = "last",
                log: Callable[[str], None] = print) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the deletion test on one data set; return ``(curve rows, per-unit rows)``."""
    from any2img.explain import attribute
    from any2img.explain_signal import signal_occlusion

    predictor, items, rebuild, training = _units(name, n_units)
    modality = get_dataset(ALL_MODELS[name].dataset).modality
    discriminative = None
    if modality == "timeseries":  # from the training side of the split only (train + valid), never the test units
        discriminative = discriminative_steps([rebuild(i)[2].data for i in training], [i.label for i in training])
    rng = np.random.default_rng(SEED + 1)
    per_unit: list[dict[str, Any]] = []
    start = time.perf_counter()
    for n, item in enumerate(items):
        conv, _, window = rebuild(item)
        image = conv.convert(window)
        p0 = predictor.predict_images([image])[0]
        c = int(np.argmax(p0))
        remove = conv.parts(window).remove
        for method in methods:
            if method == "signal":  # the library's occlusion in the signal's domain: no picture mapped back
                rel = signal_occlusion(predictor, conv, window, c, probability=float(p0[c])).relevance
            else:
                maps, _ = attribute(predictor, [image], c, method, layer)
                rel = conv.relevance(maps[0], window)
            if modality == "timeseries":
                values, sanity = _series_parts(window, rel, discriminative)
            elif modality == "audio":
                values, sanity = _audio_parts(window, rel, conv)
            else:
                values, sanity = _mouse_parts(window, rel, image)
            masks: list[tuple[str, float, np.ndarray]] = []
            for k in KS:
                masks.append(("top", k, _top(values, k)))
                masks += [("random", k, _random(values.size, k, rng)) for _ in range(n_random)]
            pictures = conv.convert_batch([remove(mask) for _, _, mask in masks])
            probs = predictor.predict_images(pictures)[:, c]
            for k in KS:
                top = [p0[c] - p for (kind, kk, _), p in zip(masks, probs) if kind == "top" and kk == k]
                rand = [p0[c] - p for (kind, kk, _), p in zip(masks, probs) if kind == "random" and kk == k]
                per_unit.append({"dataset": name, "method": method, "unit": f"{item.source}#{item.window}",
                                 "predicted": predictor.classes[c], "actual": item.label, "p0": float(p0[c]),
                                 "k": k, "top_drop": float(np.mean(top)), "random_drop": float(np.mean(rand)),
                                 **sanity})
        if (n + 1) % 10 == 0:
            log(f"  {name}: {n + 1}/{len(items)} units ({time.perf_counter() - start:.0f} s)")
    curves = []
    for method in methods:
        for k in KS:
            rows = [r for r in per_unit if r["method"] == method and r["k"] == k]
            top, rand = np.array([r["top_drop"] for r in rows]), np.array([r["random_drop"] for r in rows])
            diff = top - rand
            curves.append({"dataset": name, "method": method, "k": k, "n": len(rows),
                           "top_drop": float(top.mean()), "random_drop": float(rand.mean()),
                           "difference": float(diff.mean()),
                           "difference_se": float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0,
                           "wins": float(np.mean(diff > 0))})
    return curves, per_unit


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows)


def plot_curves(curves: list[dict[str, Any]], path: Path) -> None:
    """One panel per data set: mean drop of p(predicted) against the share removed, top-k vs random."""
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(r["dataset"] for r in curves))
    fig = Figure(figsize=(4.2 * len(names), 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)[0])
    colours = {"gradcam": "tab:red", "occlusion": "tab:blue", "signal": "tab:green"}
    for ax, name in zip(axes, names):
        for method in dict.fromkeys(r["method"] for r in curves if r["dataset"] == name):
            rows = [r for r in curves if r["dataset"] == name and r["method"] == method]
            ks = [100 * r["k"] for r in rows]
            colour = colours.get(method, "k")
            ax.plot(ks, [r["top_drop"] for r in rows], "-o", color=colour, ms=3, label=f"{method}: most relevant")
            ax.plot(ks, [r["random_drop"] for r in rows], "--", color=colour, alpha=0.7, label=f"{method}: random")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("% of the signal removed", fontsize=8)
        ax.set_ylabel("drop of p(predicted class)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _sanity(per_unit: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = ("motion_share", "motion_steps", "motion_top", "discriminative_share", "discriminative_steps",
            "discriminative_top", "envelope_share", "envelope_frames", "envelope20_share",
            "envelope20_frames", "on_path", "drawn_pixels", "moving_share", "moving_events")
    for name in dict.fromkeys(r["dataset"] for r in per_unit):
        for method in dict.fromkeys(r["method"] for r in per_unit if r["dataset"] == name):
            rows = [r for r in per_unit if r["dataset"] == name and r["method"] == method and r["k"] == KS[0]]
            out[f"{name}/{method}"] = {k: float(np.nanmean([r[k] for r in rows])) for k in keys if k in rows[0]}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.faithfulness", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="*", default=list(MODELS), choices=list(ALL_MODELS),
                   help="models (default: GunPoint FSDD Balabit; GunPoint-lineplot only when named)")
    p.add_argument("--units", type=int, default=60, help="held-out units per data set (seeded draw)")
    p.add_argument("--random", type=int, default=3, help="random deletions per unit and share, averaged")
    p.add_argument("--methods", nargs="*", default=["gradcam", "occlusion"], choices=("gradcam", "occlusion", "signal"),
                   help="gradcam, occlusion (on the picture) and signal (occlusion in the signal's domain, "
                   "any2img.explain_signal)")
    p.add_argument("--layer", default="last", help="Grad-CAM's stage: last (default) or auto (a finer one)")
    p.add_argument("--tag", default="", help="suffix of the output files (faithfulness-TAG.csv, ...)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on shared cores)")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    command = "python -m benchmarks.faithfulness " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = Path(args.out)
    curves: list[dict[str, Any]] = []
    per_unit: list[dict[str, Any]] = []
    training = {}
    for name in args.only:
        print(f"{name}: model", flush=True)
        folder = train_model(name, seed=SEED, threads=args.threads)
        training[name] = json.loads((folder / "explain-training.json").read_text())
        c, u = run_dataset(name, n_units=args.units, n_random=args.random, methods=args.methods, layer=args.layer,
                           log=lambda s: print(s, flush=True))
        curves += c
        per_unit += u
        for r in c:
            print(f"  {r['method']:9s} k={r['k']:.2f}: top {r['top_drop']:+.3f}  random {r['random_drop']:+.3f}  "
                  f"(top > random on {r['wins']:.0%} of units)", flush=True)
    stem = f"faithfulness-{args.tag}" if args.tag else "faithfulness"
    _write_csv(out / f"{stem}.csv", curves)
    _write_csv(out / f"{stem}-units.csv", per_unit)
    plot_curves(curves, out / f"{stem}.png")
    info = machine_info()
    summary = {"command": command, "started": started,
               "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "machine": machine_label(info), "machine_info": info, "seeds": {"units": SEED, "random": SEED + 1,
                                                                              "training": SEED},
               "ks": list(KS), "units": args.units, "layer": args.layer, "random_draws": args.random,
               "threads": args.threads,
               "envelope_db": ENVELOPE_DB, "motion_share": MOTION_SHARE,
               "discriminative_share": DISCRIMINATIVE_SHARE, "top_share": TOP_SHARE, "models": training,
               "curves": curves, "sanity": _sanity(per_unit)}
    (out / f"{stem}.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(summary["sanity"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
