"""``mouse_histogram``: how a window's steps are distributed, as three 2-D histograms.

Who moves a mouse shows less in *where* the pointer went than in *how*: the
spread of speeds, how sharply the path turns at each speed, how speed
changes, and the rhythm of the steps (the logger's sampling, pauses). These
are statistics over the window, which is what hand-crafted mouse-dynamics
features (and a random forest on them) read. This picture draws them as
joint histograms over the window's steps, one per channel:

* **red** — speed (x axis, log-scaled over ``speed_range``) against turning
  (y axis, the change of direction from -pi at the bottom to pi at the top),
  over the steps that move;
* **green** — speed against acceleration (y axis: slowing down below the
  middle, speeding up above it, magnitudes log-scaled over ``accel_range``),
  over the steps that move;
* **blue** — step duration (x axis, log-scaled over ``dt_range``) against
  step length (y axis, log-scaled over ``distance_range``; a step that does
  not move is at the bottom), over all steps.

A cell's brightness is ``log(1 + count) / log(1 + steps)``: 1 where every
step of the window falls, so windows of different lengths are on one scale.
Each cell is a block of pixels (nearest-neighbour upsampling), so a pixel
means one bin. ``bins="auto"`` takes about ``sqrt(steps / 4)`` bins per
axis, made odd, within [5, 31] (300-event windows get 9 × 9, the short last
window of a recording too, so that one conversion shares one grid): about four
steps per cell if the steps were spread evenly, so that most cells of a
window's histogram are not single steps; odd, so that no turn and no
acceleration (the middle of their axes, where straight, steady steps are)
fall inside a cell, not on the edge between two. The bounds are fixed, not the window's own,
so the same pixel means the same speed (or turn, or duration) in every
picture.

numpy's ``histogram2d`` would do the counting; the cell index of each step
is needed anyway to map an attribution back onto the events
(:meth:`MouseHistogram.relevance`), so :func:`step_cells` gives both, the
counts from one ``bincount`` per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.mouse.base import MouseConverter, MouseParams, check_positive_range
from any2img.converters.mouse.log import MouseLog, kinematics
from any2img.converters.mouse.relevance import event_relevance
from any2img.converters.mouse.trajectory import log_unit

from any2img.converter import Window
from any2img.errors import ParameterError
from any2img.parameters import Check, ConverterParams, param
from any2img.relevance import EventRelevance, check_attribution

__all__ = ["MouseHistogram", "MouseHistogramParams", "auto_bins", "grid_bins", "step_cells"]

#: Bins per axis that ``bins="auto"`` chooses between (both odd).
MIN_BINS, MAX_BINS = 5, 31


def auto_bins(n_steps: int) -> int:
    """Bins per axis for a window of ``n_steps`` steps: ``x = sqrt(n_steps / 4)`` made odd, within [5, 31].

    The odd number ``2 * floor(x / 2) + 1`` (within 1 of ``x``).

    Examples
    --------
    >>> auto_bins(299), auto_bins(10), auto_bins(100_000)
    (9, 5, 31)
    """
    x = np.sqrt(max(n_steps, 0) / 4.0)
    return int(np.clip(2 * np.floor(x / 2) + 1, MIN_BINS, MAX_BINS))


def grid_bins(p: MouseHistogramParams, n_steps: int) -> int:
    """The bins per axis of a window of ``n_steps`` steps under ``p``.

    ``bins="auto"`` with windows of a fixed number of events (``window="events"``)
    takes the grid of a full window (``size - 1`` steps) for every window, the
    short last window of a recording and windows with dropped steps too, so
    that one conversion's pictures share one grid; windows of seconds or
    actions hold varying numbers of steps, and each gets the grid of its own.

    Examples
    --------
    >>> grid_bins(MouseHistogramParams(), 40), grid_bins(MouseHistogramParams(window="seconds", size=5), 40)
    (9, 5)
    """
    if p.bins != "auto":
        return int(p.bins)
    return auto_bins(int(p.size) - 1 if p.window == "events" else n_steps)


def _check_bins(name: str, value: Any) -> str | int:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 256):
        return value
    raise ParameterError(f"'{name}' must be 'auto' or an integer from 1 to 256 (got {value!r}).")


@dataclass(frozen=True, kw_only=True)
class MouseHistogramParams(MouseParams):
    """``mouse_histogram``."""

    bins: str | int = param(
        "auto", Check(_check_bins, "'auto' or an integer from 1 to 256", bad=(0, "many", 2.5, True)),
        "Bins per axis; 'auto' takes sqrt(steps / 4) made odd, within [5, 31], for the steps of a full "
        "window when windows count events (one grid for every window), else of each window.")
    dt_range: tuple[float, float] = param(
        (0.01, 10.0), Check(check_positive_range, "(low, high) with 0 < low < high", bad=((0, 1), (5, 1))),
        "Step durations (s) mapped to the two ends of the blue histogram's x axis, log-scaled "
        "(the low end is the kinematics' shortest step, 0.01 s).")
    distance_range: tuple[float, float] = param(
        (1.0, 1000.0), Check(check_positive_range, "(low, high) with 0 < low < high", bad=((0, 1), (5, 1))),
        "Step lengths (px) mapped to the two ends of the blue histogram's y axis, log-scaled.")


def step_cells(log: MouseLog, p: MouseHistogramParams) -> tuple[int, np.ndarray, np.ndarray]:
    """Each step's histogram cell in the three channels, and the histograms themselves.

    Returns
    -------
    bins : int
        Bins per axis.
    cells : ndarray of shape (3, n_steps), int
        Cell index ``row * bins + column`` of each step in each channel
        (row 0 at the top of the picture); -1 where a step is not counted
        (a step that does not move, in red and green).
    counts : ndarray of shape (3, bins * bins), int
        Steps counted in each cell of each channel.
    """
    kin = kinematics(log)
    n = len(kin.speed)
    bins = grid_bins(p, n)
    speed = log_unit(kin.speed, *p.speed_range)
    turn = (kin.angle_change / np.pi + 1.0) / 2.0
    accel = (1.0 + np.sign(kin.acceleration) * log_unit(np.abs(kin.acceleration), *p.accel_range)) / 2.0
    duration = log_unit(kin.dt, *p.dt_range)
    distance = log_unit(kin.distance, *p.distance_range)
    moving = kin.distance > 0
    cells = np.full((3, n), -1, dtype=np.int64)
    for c, (u, v, keep) in enumerate(((speed, turn, moving), (speed, accel, moving),
                                      (duration, distance, np.ones(n, dtype=bool)))):
        col = np.minimum((u * bins).astype(np.int64), bins - 1)
        row = bins - 1 - np.minimum((v * bins).astype(np.int64), bins - 1)  # y grows upwards
        cells[c] = np.where(keep, row * bins + col, -1)
    counts = np.stack([np.bincount(cells[c][cells[c] >= 0], minlength=bins * bins) for c in range(3)])
    return bins, cells, counts


def _pixel_cells(bins: int, size: tuple[int, int]) -> np.ndarray:
    """The cell of every pixel of an ``size`` picture, nearest-neighbour: ``(H, W)`` ints."""
    h, w = size
    rows = (np.arange(h) * bins) // h
    cols = (np.arange(w) * bins) // w
    return rows[:, None] * bins + cols[None, :]


class MouseHistogram(MouseConverter[MouseHistogramParams]):
    """A window's steps as joint histograms: speed × turn, speed × acceleration, duration × length.

    Examples
    --------
    >>> conv = MouseHistogram(image_size=36)
    >>> img = conv.convert(conv.example_signal(0))
    >>> img.shape, img.dtype.name
    ((36, 36, 3), 'uint8')
    """

    name: ClassVar[str] = "mouse_histogram"
    params_class: ClassVar[type[ConverterParams] | None] = MouseHistogramParams
    #: Training redraws each window from its events with the family's small scale and time jitter (and
    #: rotation, which a histogram of speeds and turns does not see), and predicts with 4 such passes: this
    #: won on every judge of the validation protocol (``benchmarks/DEFAULTS.md``, ninth round), while for
    #: ``trajectory`` it did not.
    augments_by_default: ClassVar[bool] = True

    def convert(self, window: Any) -> np.ndarray:
        """Return the ``(H, W, 3)`` uint8 image of one window."""
        p = self._p()
        bins, _, counts = step_cells(self._window_log(window), p)
        pixels = _pixel_cells(bins, p.image_size)
        level = np.log1p(counts) / np.log1p(np.maximum(counts.sum(axis=1, keepdims=True), 1))
        return np.round(255.0 * np.moveaxis(level[:, pixels], 0, -1)).astype(np.uint8)

    def relevance(self, attribution: np.ndarray, window: Any) -> EventRelevance:
        """Map an attribution over the picture back onto the window's events.

        A pixel shows one cell of each of the three histograms; its
        attribution is shared evenly by those of its cells that hold steps.
        A cell's share (summed over its block of pixels) is shared evenly by
        the steps counted in it, and each step's share goes half to each of
        its two events. Nothing is lost: the events' values sum to the
        attribution on pixels where some histogram holds steps, and
        ``on_path`` is the share of the positive attribution there (pixels
        where all three are empty go to no event).
        """
        p = self._p()
        log = self._window_log(window)
        a = check_attribution(attribution, p.image_size).ravel()
        bins, cells, counts = step_cells(log, p)
        pixels = _pixel_cells(bins, p.image_size).ravel()
        filled = counts[:, pixels] > 0  # (3, pixels)
        n_filled = filled.sum(axis=0)
        share = np.where(n_filled > 0, a / np.maximum(n_filled, 1), 0.0)
        values = np.zeros(len(log))
        for c in range(3):
            cell_sum = np.bincount(pixels, weights=share * filled[c], minlength=bins * bins)
            ok = cells[c] >= 0
            step = np.zeros(cells.shape[1])
            step[ok] = cell_sum[cells[c][ok]] / counts[c][cells[c][ok]]
            values[:-1] += step / 2.0
            values[1:] += step / 2.0
        positive = np.clip(a, 0.0, None)
        total = float(positive.sum())
        on_path = float(positive[n_filled > 0].sum()) / total if total else None
        return event_relevance(log, values, on_path, window.describe() if isinstance(window, Window) else {})
