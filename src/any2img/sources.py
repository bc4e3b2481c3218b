"""Draw the raw signal an image was converted from (for top-loss plots).

This joins the two halves of any2img, like prediction and the CLI do: it
re-reads a training item's source file with the converter recorded in the
conversion, picks the item's record and window, and draws the signal on a
matplotlib axis — a waveform for audio, lines for a series, the path for a
mouse log. The signal is recognised by its shape (duck typing), so this
module imports no converter family.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from any2img.batch.convert_dir import CONVERSION_NAME
from any2img.converter import Converter
from any2img.errors import InputError
from any2img.registry import get_converter

__all__ = ["draw_signal", "source_plotter_for", "source_reader_for"]


def draw_signal(ax: Any, signal: Any, window: dict[str, Any] | None = None) -> None:
    """Draw a raw signal on ``ax``, shading the window when it is known."""
    window = window or {}
    if hasattr(signal, "samples") and hasattr(signal, "sample_rate"):
        samples = np.asarray(signal.samples)
        samples = samples.mean(axis=0) if samples.ndim == 2 else samples
        times = np.arange(samples.size) / float(signal.sample_rate)
        ax.plot(times, samples, lw=0.5, color="tab:blue")
        ax.set_xlabel("seconds", fontsize=7)
        if window.get("unit") == "seconds" and window.get("stop", 0) > window.get("start", 0):
            ax.axvspan(window["start"], window["stop"], color="tab:orange", alpha=0.2)
    elif all(hasattr(signal, name) for name in ("x", "y", "t")):
        x, y = np.asarray(signal.x), np.asarray(signal.y)
        lo, hi = 0, x.size
        if window.get("unit") == "events":
            lo, hi = int(window.get("start", 0)), int(window.get("stop", x.size))
        elif window.get("unit") == "seconds":
            t = np.asarray(signal.t)
            lo, hi = np.searchsorted(t, [window.get("start", t[0]), window.get("stop", t[-1])])
        ax.plot(x[lo:hi], y[lo:hi], lw=0.6, color="tab:blue")
        ax.invert_yaxis()
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("screen x (px)", fontsize=7)
    else:
        series = np.atleast_2d(np.asarray(signal, dtype=float))
        for channel in series:
            ax.plot(channel, lw=0.8)
        ax.set_xlabel("time step", fontsize=7)
    ax.tick_params(labelsize=6)


def source_reader_for(manifest: str | os.PathLike[str]) -> Callable[[Any], tuple[Converter, Any, Path]] | None:
    """Return ``f(item) -> (converter, signal, path)`` re-reading a converted item's source record.

    ``manifest`` is a converted folder's ``manifest.jsonl`` (or the folder);
    its ``conversion.json`` names the converter, its parameters and the
    source folder; the converter is built with the recorded parameters, and
    ``path`` is the source file read (for messages).
    Returns ``None`` when the folder holds no conversion record.
    """
    root = Path(manifest)
    root = root if root.is_dir() else root.parent
    info_path = root / CONVERSION_NAME
    if not info_path.exists():
        return None
    info = json.loads(info_path.read_text(encoding="utf-8"))
    converter = get_converter(info["converter"], **info.get("params", {}))
    src = Path(info["src"])
    src_root = src.parent if src.is_file() else src

    def read(item: Any) -> tuple[Converter, Any, Path]:
        path = src_root / str(item.source)
        if not path.exists():
            raise InputError("the source file is no longer there", path=path)
        records = {r.key: r for r in converter.read_records(path)}
        record = records.get(item.record or "", next(iter(records.values())))
        return converter, record.signal, path

    return read


def source_plotter_for(manifest: str | os.PathLike[str]) -> Callable[[Any, Any], None] | None:
    """Return ``f(ax, item)`` drawing an item's source (see :func:`source_reader_for`), or None."""
    read = source_reader_for(manifest)
    if read is None:
        return None

    def plot(ax: Any, item: Any) -> None:
        _, signal, _ = read(item)
        draw_signal(ax, signal, item.window)

    return plot
