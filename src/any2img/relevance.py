"""Relevance in a signal's own coordinates: what ``Converter.relevance`` returns.

An attribution method (Grad-CAM, occlusion, ...) scores the pixels of the
picture a model saw. A person asks about the *signal*: which seconds and
frequencies of a recording, which time steps of a series, which events of a
mouse path. Each converter family knows how its pixels relate to its input
and maps an attribution ``(H, W)`` over its image to one of these small
containers (numpy only; nothing here knows of torch):

* :class:`PixelRelevance` -- the picture is the signal (images, and the
  default for a converter that does not say more);
* :class:`SpectrogramRelevance` -- a time x frequency grid: seconds (from the
  start of the recording, the window's offset included) by Hz, or by
  coefficient / pitch class for MFCC and chroma;
* :class:`TimeRelevance` -- per frame of a recording, every frequency at
  once (what occlusion in the signal's domain measures: it silences
  stretches of time, not bands);
* :class:`SeriesRelevance` -- per time step of the *original* series, per
  channel;
* :class:`EventRelevance` -- per event of a mouse log, with the sum per
  action (mouse move, point-and-click, drag-and-drop) and the share of the
  attribution that falls on drawn pointer events rather than empty canvas.

Every container keeps the total: the relevance it holds sums to the
attribution's sum over the pixels it could place (a mapping splits a pixel's
score between the signal points it was drawn from, it does not invent or drop
any, except what falls on empty canvas for a mouse path, counted apart).

The helper :func:`resize_matrix` is shared by the families' mappings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from any2img.errors import InputError

__all__ = [
    "EventRelevance",
    "PixelRelevance",
    "Relevance",
    "SeriesRelevance",
    "SpectrogramRelevance",
    "TimeRelevance",
    "check_attribution",
    "resize_matrix",
]


def check_attribution(attribution: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """Return ``attribution`` as a finite float64 ``(H, W)`` array, checked against ``size``.

    Raises
    ------
    InputError
        Not 2-D, not finite, or not of the image's size.
    """
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim != 2 or a.size == 0:
        raise InputError(f"an attribution must be a non-empty (H, W) array over the image (got shape {a.shape}).")
    if not np.isfinite(a).all():
        raise InputError("an attribution must be finite (it holds NaN or infinite values).")
    if size is not None and a.shape != tuple(size):
        raise InputError(f"the attribution is {a.shape[0]}x{a.shape[1]} but the converter's image is "
                         f"{size[0]}x{size[1]}; upsample it to the image first.")
    return a


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of Pillow's bilinear resize along one axis.

    :func:`any2img.imaging.resize_field` resizes a field with Pillow's
    bilinear filter, which is separable: ``resized = A_h @ field @ A_w.T``
    with ``A_h = resize_matrix(h, H)`` and ``A_w = resize_matrix(w, W)``.
    Each row sums to 1 (an output pixel is a weighted mean of inputs), so the
    adjoint ``A_h.T @ R @ A_w`` carries an attribution ``R`` over the image
    back onto the field and keeps its sum.

    Examples
    --------
    >>> resize_matrix(2, 4).round(2).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    from any2img.imaging import resize_field

    if n_in == n_out:
        return np.eye(n_in)
    eye = np.eye(n_in, dtype=np.float32)  # row j: the unit impulse at input j
    rows = resize_field(eye, (n_in, n_out))  # resizes each row along the width only
    matrix = np.asarray(rows, dtype=np.float64).T  # (n_out, n_in)
    sums = matrix.sum(axis=1, keepdims=True)
    return matrix / np.where(sums > 0, sums, 1.0)


class Relevance:
    """Base of the relevance containers.

    Attributes
    ----------
    kind : str
        ``"pixels"``, ``"spectrogram"``, ``"series"`` or ``"events"``.
    """

    kind: str = ""

    def table(self) -> dict[str, list[Any]]:
        """The numbers as columns of equal length (written as CSV)."""
        raise NotImplementedError

    def summary(self, top: int = 5) -> dict[str, Any]:
        """A JSON-able summary: the most relevant places in the signal's units."""
        raise NotImplementedError


@dataclass
class PixelRelevance(Relevance):
    """Relevance per pixel, when the picture is the signal.

    Attributes
    ----------
    values : ndarray of shape (H, W)
    """

    values: np.ndarray
    kind: str = "pixels"

    def table(self) -> dict[str, list[Any]]:
        rows, cols = np.indices(self.values.shape)
        return {"row": rows.ravel().tolist(), "column": cols.ravel().tolist(),
                "relevance": self.values.ravel().tolist()}

    def summary(self, top: int = 5) -> dict[str, Any]:
        flat = np.argsort(-self.values, axis=None, kind="stable")[:top]
        where = [list(map(int, np.unravel_index(i, self.values.shape))) for i in flat]
        return {"kind": self.kind, "shape": list(self.values.shape), "top_pixels": where}


@dataclass
class SpectrogramRelevance(Relevance):
    """Relevance over the time-frequency cells of a spectrogram.

    Attributes
    ----------
    values : ndarray of shape (n_rows, n_frames)
        Row 0 is the *lowest* frequency (or the first coefficient / pitch
        class); column ``k`` is frame ``k``.
    times : ndarray of shape (n_frames,)
        Centre of each frame in seconds from the start of the recording (the
        window's offset included).
    frequencies : ndarray of shape (n_rows,)
        Centre of each row: Hz, or the coefficient / pitch-class index.
    frequency_unit : str
        ``"Hz"``, ``"coefficient"`` or ``"pitch class"``.
    frame_seconds : float
        Seconds between frames (the hop).
    window : dict
        The window's position (``index``, ``start``, ``stop``, ``unit``).
    """

    values: np.ndarray
    times: np.ndarray
    frequencies: np.ndarray
    frequency_unit: str = "Hz"
    frame_seconds: float = 0.0
    window: dict[str, Any] = field(default_factory=dict)
    kind: str = "spectrogram"

    def over_time(self) -> np.ndarray:
        """Relevance per frame (summed over frequency), ``(n_frames,)``."""
        return self.values.sum(axis=0)

    def over_frequency(self) -> np.ndarray:
        """Relevance per row (summed over time), ``(n_rows,)``."""
        return self.values.sum(axis=1)

    def per_second_interval(self, edges: np.ndarray) -> np.ndarray:
        """Relevance of each interval ``[edges[k], edges[k+1])`` of seconds (frames binned by centre)."""
        which = np.searchsorted(np.asarray(edges), self.times, side="right") - 1
        out = np.zeros(len(edges) - 1)
        ok = (which >= 0) & (which < len(out))
        np.add.at(out, which[ok], self.over_time()[ok])
        return out

    def table(self) -> dict[str, list[Any]]:
        rows, cols = np.indices(self.values.shape)
        return {"seconds": self.times[cols.ravel()].tolist(),
                self.frequency_unit.replace(" ", "_"): self.frequencies[rows.ravel()].tolist(),
                "relevance": self.values.ravel().tolist()}

    def summary(self, top: int = 5) -> dict[str, Any]:
        t, f = self.over_time(), self.over_frequency()
        return {
            "kind": self.kind, "frequency_unit": self.frequency_unit, "window": self.window,
            "top_seconds": [round(float(self.times[i]), 4) for i in np.argsort(-t, kind="stable")[:top]],
            "top_frequencies": [round(float(self.frequencies[i]), 2) for i in np.argsort(-f, kind="stable")[:top]],
            "total": float(self.values.sum()),
        }


@dataclass
class TimeRelevance(Relevance):
    """Relevance per frame of a recording, over all its frequencies at once.

    What occlusion in the signal's domain gives for audio: it silences
    stretches of time, so it cannot tell the bands apart.

    Attributes
    ----------
    values : ndarray of shape (n_frames,)
    times, frame_seconds, window
        As in :class:`SpectrogramRelevance`: frame centres in seconds of the
        recording, the hop in seconds, the window's position.
    """

    values: np.ndarray
    times: np.ndarray
    frame_seconds: float = 0.0
    window: dict[str, Any] = field(default_factory=dict)
    kind: str = "seconds"

    def over_time(self) -> np.ndarray:
        """Relevance per frame, ``(n_frames,)``."""
        return self.values

    def table(self) -> dict[str, list[Any]]:
        return {"seconds": self.times.tolist(), "relevance": self.values.tolist()}

    def summary(self, top: int = 5) -> dict[str, Any]:
        order = np.argsort(-self.values, kind="stable")[:top]
        return {"kind": self.kind, "window": self.window, "frame_seconds": self.frame_seconds,
                "top_seconds": [round(float(self.times[i]), 4) for i in order], "total": float(self.values.sum())}


@dataclass
class SeriesRelevance(Relevance):
    """Relevance per time step of the original series.

    Attributes
    ----------
    values : ndarray of shape (n_channels, n_timestamps)
        One row per channel. Where the picture mixes the channels (stacked as
        colours, or drawn on one plot) every channel gets the same row.
    window : dict
        The window's position.
    """

    values: np.ndarray
    window: dict[str, Any] = field(default_factory=dict)
    kind: str = "series"

    def over_time(self) -> np.ndarray:
        """Relevance per time step, summed over channels, ``(n_timestamps,)``."""
        return self.values.sum(axis=0)

    def table(self) -> dict[str, list[Any]]:
        channels, steps = np.indices(self.values.shape)
        return {"channel": channels.ravel().tolist(), "step": steps.ravel().tolist(),
                "relevance": self.values.ravel().tolist()}

    def summary(self, top: int = 5) -> dict[str, Any]:
        t = self.over_time()
        return {"kind": self.kind, "n_timestamps": int(t.size),
                "top_steps": [int(i) for i in np.argsort(-t, kind="stable")[:top]], "total": float(t.sum())}


@dataclass
class EventRelevance(Relevance):
    """Relevance per event of a mouse log window.

    Attributes
    ----------
    values : ndarray of shape (n_events,)
        Relevance of each event of the window, in order.
    t, x, y : ndarray of shape (n_events,)
        The events' times (seconds) and screen positions.
    state : list of str
        Each event's state name (``"Move"``, ``"Pressed"``, ...).
    actions : list of dict
        ``{"kind": "MM" | "PC" | "DD", "start", "stop", "relevance"}`` per
        action of the window (event indices within the window, ``stop``
        excluded).
    on_path : float or None
        Share of the attribution mass (positive part) on pixels where events
        are drawn; the rest fell on empty canvas. ``None`` where the picture
        is no drawing of the path (kinematic fields).
    window : dict
        The window's position in its session (``start`` is the first event's
        index when ``unit="events"``).
    """

    values: np.ndarray
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    state: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    on_path: float | None = None
    window: dict[str, Any] = field(default_factory=dict)
    kind: str = "events"

    def table(self) -> dict[str, list[Any]]:
        offset = int(self.window.get("start", 0)) if self.window.get("unit") == "events" else 0
        return {"event": list(range(offset, offset + len(self.values))), "seconds": self.t.tolist(),
                "x": self.x.tolist(), "y": self.y.tolist(), "state": list(self.state),
                "relevance": self.values.tolist()}

    def summary(self, top: int = 5) -> dict[str, Any]:
        order = np.argsort(-self.values, kind="stable")[:top]
        return {"kind": self.kind, "n_events": int(len(self.values)), "on_path": self.on_path,
                "top_events": [int(i) for i in order], "actions": self.actions, "total": float(self.values.sum())}
