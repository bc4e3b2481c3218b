"""The figure of an explanation: the picture, its heat map, and the signal with its relevance.

Matplotlib's object API only (no pyplot, no window). One row per explained
window shows the picture the model saw, the Grad-CAM (or occlusion) heat map
over it and, with ``method="both"``, the occlusion map (with
``method="signal"``: where the picture changes when the relevant parts are
removed from the signal); below, the source signal in its own units:

* audio: the waveform of the whole recording with the relevance per frame
  and the relevant seconds shaded, and each window's spectrogram on axes of
  seconds x Hz with its relevant bands marked;
* time series: the series with its relevant time steps shaded and the
  relevance per step beside it;
* mouse logs: the path with its events coloured by relevance and the
  relevant ones ringed.

"Relevant" is :func:`any2img.explain.half_mass`: the fewest seconds, bands,
steps or events that hold half of the relevance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from any2img.relevance import EventRelevance, SeriesRelevance, SpectrogramRelevance, TimeRelevance

if TYPE_CHECKING:
    from any2img.explain import Explanation

__all__ = ["plot_explanation", "runs"]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True in a 1-D mask.

    Examples
    --------
    >>> runs(np.array([0, 1, 1, 0, 1], bool))
    [(1, 3), (4, 5)]
    """
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _overlay(ax: Any, image: np.ndarray, heat: np.ndarray, title: str, cmap: str = "jet") -> None:
    ax.imshow(image, aspect="auto")
    ax.imshow(heat, cmap=cmap, alpha=0.45, aspect="auto")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def _waveform(ax: Any, ex: Explanation) -> None:
    from any2img.explain import half_mass

    for start, y, rate in _audio_pieces(ex):
        ax.plot(start + np.arange(y.size) / rate, y, lw=0.4, color="0.35")
    twin = ax.twinx()
    for w in ex.windows:
        rel = w.relevance
        assert isinstance(rel, (SpectrogramRelevance, TimeRelevance))
        over = rel.over_time()
        mark = half_mass(over)
        half = rel.frame_seconds / 2
        for a, b in runs(mark):
            ax.axvspan(rel.times[a] - half, rel.times[b - 1] + half, color="tab:orange", alpha=0.3, lw=0)
        twin.plot(rel.times, over, color="tab:red", lw=0.9)
    twin.set_ylabel("relevance / frame", fontsize=7, color="tab:red")
    twin.tick_params(labelsize=6)
    ax.set_xlabel("seconds", fontsize=7)
    ax.set_title("waveform: shaded = the seconds holding half the relevance", fontsize=8)


def _audio_pieces(ex: Explanation) -> list[tuple[float, np.ndarray, float]]:
    """``(start seconds, mono samples, rate)`` to draw: the whole recording when it is at hand, else the windows."""
    signal, first = ex.signal, ex.windows[0].window.data
    rate = float(getattr(first, "sample_rate", 0) or getattr(signal, "sample_rate", 0) or 1)
    if hasattr(signal, "samples"):
        samples = np.asarray(signal.samples)
        return [(0.0, samples.mean(axis=0) if samples.ndim == 2 else samples, float(signal.sample_rate))]
    if isinstance(signal, np.ndarray) and signal.ndim == 1:
        return [(0.0, signal.astype(np.float64), rate)]
    pieces = []
    for w in ex.windows:  # e.g. a long file read window by window
        samples = np.asarray(getattr(w.window.data, "samples", w.window.data), dtype=np.float64)
        pieces.append((float(w.window.start), samples.mean(axis=0) if samples.ndim == 2 else samples, rate))
    return pieces


def _frames(ax: Any, w: Any) -> None:
    """A window's spectrogram on an axis of seconds, the seconds holding half the relevance shaded."""
    from any2img.explain import half_mass

    rel = w.relevance
    half = rel.frame_seconds / 2 if rel.frame_seconds else 0.5
    ax.imshow(w.image, aspect="auto", extent=(rel.times[0] - half, rel.times[-1] + half, 0, 1))
    for a, b in runs(half_mass(rel.over_time())):
        ax.axvspan(rel.times[a] - half, rel.times[b - 1] + half, ymin=0.0, ymax=0.04, color="tab:orange")
        ax.axvspan(rel.times[a] - half, rel.times[b - 1] + half, ymin=0.96, ymax=1.0, color="tab:orange")
    ax.set_yticks([])
    ax.set_xlabel("seconds", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("spectrogram: bars = the seconds holding half the relevance (all bands)", fontsize=8)


def _spectrogram(ax: Any, w: Any) -> None:
    from any2img.explain import half_mass

    rel = w.relevance
    if isinstance(rel, TimeRelevance):  # relevance per frame only: no bands to mark
        _frames(ax, w)
        return
    n_rows, n_frames = rel.values.shape
    half = rel.frame_seconds / 2 if rel.frame_seconds else 0.5
    extent = (rel.times[0] - half, rel.times[-1] + half, 0, n_rows)
    ax.imshow(w.image.mean(axis=2), cmap="gray", aspect="auto", extent=extent)
    top = rel.values.max()
    if top > 0:
        ax.contour(rel.times, np.arange(n_rows) + 0.5, rel.values, levels=[0.5 * top], colors="tab:red",
                   linewidths=0.8)
    for a, b in runs(half_mass(rel.over_frequency())):
        ax.axhspan(a, b, xmin=0.0, xmax=0.02, color="tab:orange")
        ax.axhspan(a, b, xmin=0.98, xmax=1.0, color="tab:orange")
    ticks = np.linspace(0, n_rows - 1, min(5, n_rows)).round().astype(int)
    ax.set_yticks(ticks + 0.5, [f"{rel.frequencies[i]:.0f}" for i in ticks])
    ax.set_ylabel(rel.frequency_unit, fontsize=7)
    ax.set_xlabel("seconds", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("spectrogram: red = half-max relevance; bars = relevant bands", fontsize=8)


def _series(ax: Any, ex: Explanation) -> None:
    from any2img.explain import half_mass

    w = ex.windows[0]
    rel = w.relevance
    assert isinstance(rel, SeriesRelevance)
    series = np.atleast_2d(np.asarray(w.window.data, dtype=float))
    for channel in series:
        ax.plot(channel, lw=0.9)
    for a, b in runs(half_mass(rel.over_time())):
        ax.axvspan(a - 0.5, b - 0.5, color="tab:orange", alpha=0.3, lw=0)
    twin = ax.twinx()
    twin.plot(rel.over_time(), color="tab:red", lw=0.8)
    twin.set_ylabel("relevance / step", fontsize=7, color="tab:red")
    twin.tick_params(labelsize=6)
    ax.set_xlabel("time step", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("series: shaded = the steps holding half the relevance", fontsize=8)


def _mouse(ax: Any, w: Any) -> None:
    from any2img.explain import half_mass

    rel = w.relevance
    assert isinstance(rel, EventRelevance)
    ax.plot(rel.x, rel.y, lw=0.6, color="0.6")
    ax.scatter(rel.x, rel.y, c=rel.values, cmap="inferno_r", s=8, zorder=3)
    mark = half_mass(rel.values)
    ax.scatter(rel.x[mark], rel.y[mark], s=40, facecolors="none", edgecolors="tab:red", lw=0.8, zorder=4)
    ax.invert_yaxis()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("screen x (px)", fontsize=7)
    ax.tick_params(labelsize=6)
    on = "" if rel.on_path is None else f"; {rel.on_path:.0%} of the map on drawn events"
    ax.set_title(f"events {w.window.describe().get('start', 0):.0f}-{w.window.describe().get('stop', 0):.0f}: "
                 f"ringed = half the relevance{on}", fontsize=8)


def _short(source: str, width: int = 40) -> str:
    from pathlib import PurePath

    name = PurePath(source.split("[")[0]).name + (source[source.index("["):] if "[" in source else "")
    return name if len(name) <= width else "..." + name[-(width - 3):]


def plot_explanation(ex: Explanation) -> Any:
    """Draw an explanation; return the matplotlib Figure (save it with ``fig.savefig``)."""
    from matplotlib.figure import Figure

    kind = ex.windows[0].relevance.kind
    n = len(ex.windows)
    cols = 3 if ex.windows[0].occlusion is not None else 2
    if kind in ("spectrogram", "seconds"):
        extra = 1 + n  # the waveform, and each window's spectrogram
    elif kind == "events":
        extra = n
    elif kind == "series":
        extra = 1
    else:
        extra = 0
    fig = Figure(figsize=(3.4 * cols, 2.6 * (n + extra)))
    grid = fig.add_gridspec(n + extra, cols)
    name = {"gradcam": "Grad-CAM", "occlusion": "occlusion", "both": "Grad-CAM",
            "signal": "removing the relevant parts"}[ex.method]
    for r, w in enumerate(ex.windows):
        p = float(w.probabilities[ex.classes.index(ex.label)])
        ax = fig.add_subplot(grid[r, 0])
        ax.imshow(w.image, aspect="auto")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"window {w.window.index}: p({ex.label}) = {p:.2f}", fontsize=8)
        title = name
        if "signal_occlusion" in w.details:
            title = f"{name}: p {p:.2f} -> {w.details['signal_occlusion']['probability_without_relevant']:.2f}"
        _overlay(fig.add_subplot(grid[r, 1]), w.image, w.attribution, title)
        if w.occlusion is not None:
            _overlay(fig.add_subplot(grid[r, 2]), w.image, np.clip(w.occlusion, 0, None), "occlusion")
    row = n
    if kind in ("spectrogram", "seconds"):
        _waveform(fig.add_subplot(grid[row, :]), ex)
        for k, w in enumerate(ex.windows):
            _spectrogram(fig.add_subplot(grid[row + 1 + k, :]), w)
    elif kind == "series":
        _series(fig.add_subplot(grid[row, :]), ex)
    elif kind == "events":
        for k, w in enumerate(ex.windows):
            _mouse(fig.add_subplot(grid[row + k, :]), w)
    fig.suptitle(f"{_short(ex.source)}: predicted {ex.predicted}, explaining {ex.label} (p {ex.probability:.2f})",
                 fontsize=9)
    fig.tight_layout()
    return fig


def draw_relevance(ax: Any, ex: Explanation) -> None:
    """Draw an explanation's source signal with its relevant parts marked, on one axis (for top losses)."""
    w = ex.windows[0]
    rel = w.relevance
    if isinstance(rel, (SpectrogramRelevance, TimeRelevance)):
        _waveform(ax, ex)
        ax.set_title(f"why {ex.label}: relevant seconds shaded", fontsize=7)
    elif isinstance(rel, SeriesRelevance):
        _series(ax, ex)
        ax.set_title(f"why {ex.label}: relevant steps shaded", fontsize=7)
    elif isinstance(rel, EventRelevance):
        _mouse(ax, w)
        ax.set_title(f"why {ex.label}: relevant events ringed", fontsize=7)
    else:
        _overlay(ax, w.image, w.attribution, f"why {ex.label}: Grad-CAM")
