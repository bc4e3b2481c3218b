"""``mouse_kinematics``: speed, acceleration and turning of a window as one RGB image.

Each of three per-step series of the window becomes a square field, and the
three fields are the red, green and blue channels:

* **red** — speed, log-scaled between the fixed bounds ``speed_range``;
* **green** — acceleration, signed, log-scaled in magnitude over
  ``accel_range`` (speeding up above the middle, slowing down below);
* **blue** — angle change between steps, divided by pi.

Every series is first scaled to [-1, 1] with these *fixed* bounds (not the
window's own minimum and maximum, so that images of different windows are
comparable), shortened by piecewise aggregate means when it is longer than
the image, and turned into a Gramian angular summation field (``gasf``,
``cos(phi_i + phi_j)`` with ``phi = arccos(x)``), a difference field
(``gadf``, ``sin(phi_i - phi_j)``), or an unthresholded recurrence field
(``recurrence``, ``1 - |x_i - x_j| / 2``). These few lines of numpy are the
time-series family's idea applied to mouse kinematics; the full time-series
converters live in :mod:`any2img.converters.timeseries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.mouse.base import MouseConverter, MouseParams
from any2img.converters.mouse.log import MouseLog, kinematics
from any2img.converters.mouse.relevance import event_relevance, kinematic_event_relevance
from any2img.converters.mouse.trajectory import log_unit

from any2img.converter import Window
from any2img.imaging import fields_to_rgb, resize_field
from any2img.parameters import Choice, ConverterParams, param
from any2img.relevance import EventRelevance, check_attribution

__all__ = ["FIELDS", "MouseKinematics", "MouseKinematicsParams", "kinematic_series", "paa", "pairwise_field"]

#: The pairwise fields ``field`` may name.
FIELDS = ("gasf", "gadf", "recurrence")


def paa(series: np.ndarray, length: int) -> np.ndarray:
    """Shorten a series to ``length`` points by piecewise aggregate means.

    A series already at most ``length`` long is returned as it is.

    Examples
    --------
    >>> paa(np.arange(6.0), 3).tolist()
    [0.5, 2.5, 4.5]
    """
    series = np.asarray(series, dtype=np.float64)
    n = len(series)
    if n <= length:
        return series
    edges = (np.arange(length) * n) // length
    return np.add.reduceat(series, edges) / np.diff(np.append(edges, n))


def pairwise_field(series: np.ndarray, field: str = "gasf") -> np.ndarray:
    """Return the ``(n, n)`` field of a series scaled to [-1, 1], in [-1, 1].

    Examples
    --------
    >>> pairwise_field(np.array([1.0, -1.0]), "gasf").round(6).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    x = np.clip(np.asarray(series, dtype=np.float64), -1.0, 1.0)
    if field == "recurrence":
        return 1.0 - np.abs(x[:, None] - x[None, :])
    root = np.sqrt(1.0 - x * x)
    if field == "gasf":
        return np.outer(x, x) - np.outer(root, root)
    return np.outer(root, x) - np.outer(x, root)  # gadf: sin(phi_i - phi_j)


def kinematic_series(
    log: MouseLog, speed_range: tuple[float, float], accel_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return speed, acceleration and angle change of each step, scaled to [-1, 1].

    A log of one event gives one step of zeros (speed at the bottom of its range).
    """
    kin = kinematics(log)
    if len(kin.speed) == 0:
        return np.array([-1.0]), np.zeros(1), np.zeros(1)
    speed = 2.0 * log_unit(kin.speed, *speed_range) - 1.0
    accel = np.sign(kin.acceleration) * log_unit(np.abs(kin.acceleration), *accel_range)
    turn = kin.angle_change / np.pi
    return speed, accel, turn


@dataclass(frozen=True, kw_only=True)
class MouseKinematicsParams(MouseParams):
    """``mouse_kinematics``."""

    field: str = param("gasf", Choice(FIELDS), "The pairwise field made of each series.")


class MouseKinematics(MouseConverter[MouseKinematicsParams]):
    """Speed, acceleration and angle change of a window as R, G, B fields.

    ``speed_range`` is mapped to -1 and 1, ``accel_range`` to 0 and ±1,
    both log-scaled.

    Examples
    --------
    >>> conv = MouseKinematics(image_size=32)
    >>> conv.convert(conv.example_signal(0)).shape
    (32, 32, 3)
    """

    name: ClassVar[str] = "mouse_kinematics"
    params_class: ClassVar[type[ConverterParams] | None] = MouseKinematicsParams

    def convert(self, window: Any) -> np.ndarray:
        """Return the ``(H, W, 3)`` uint8 image of one window."""
        p = self._p()
        log = self._window_log(window)
        size = p.image_size
        channels = []
        for series in kinematic_series(log, p.speed_range, p.accel_range):
            short = paa(series, max(size))
            unit = (pairwise_field(short, p.field) + 1.0) / 2.0
            channels.append(resize_field(unit, size))
        return fields_to_rgb(*channels)

    def relevance(self, attribution: np.ndarray, window: Any) -> EventRelevance:
        """Map an attribution over the fields back onto the window's events.

        Through the resize, the fields' row and column marginals, the
        aggregation of steps and from each step to its two events (see
        :mod:`.relevance`); ``on_path`` is ``None`` (the picture draws no path).
        """
        p = self._p()
        log = self._window_log(window)
        a = check_attribution(attribution, p.image_size)
        short = min(max(len(log) - 1, 1), max(p.image_size))
        values = kinematic_event_relevance(a, len(log), short)
        return event_relevance(log, values, None, window.describe() if isinstance(window, Window) else {})
