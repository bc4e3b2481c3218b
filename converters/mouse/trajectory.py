"""``trajectory``: a window of mouse activity drawn as its path.

The path is drawn so that a person sees how the mouse moved:

* **speed** is the colour of each step, a colour map over log-speed between
  the fixed bounds ``speed_range`` (so a colour means the same speed in
  every image);
* **acceleration** (its magnitude, log-scaled over ``accel_range``) widens
  the line (``accel="width"``) or brightens it (``accel="brightness"``);
* **clicks** are rings at the press position (white for the left button,
  magenta for the right, yellow for others);
* **drags** (button held) are drawn with a white halo around the coloured
  line, so they stand apart from plain moves;
* **scrolls** are small grey squares;
* optional **time fading** dims the older steps.

``coords="screen"`` maps the screen (``screen`` = width, height in pixels)
onto the image, stretched to fill it; positions off the screen are clipped
to its border. ``coords="relative"`` fits the window's own bounding box into
the image, keeping its aspect ratio, so the picture does not depend on where
on the screen the movement happened.

Drawing is on a canvas ``supersample`` times larger, then shrunk with a
box filter (each pixel the mean of its block): antialiased lines, no
matplotlib. What paints the canvas (see :mod:`.drawing`):

* where numba can be imported (``pip install any2img[mouse]``), a compiled
  painter of the same shapes (:mod:`.raster`), 3 to 4 times faster than
  Pillow; its first call in an environment compiles it (a few seconds,
  once, then cached on disk);
* otherwise Pillow's ImageDraw, a batch of windows as tiles of one canvas
  with one list of Pillow calls.

Both give the same pixels (tested on synthetic logs; no pixel differed on
200 Balabit windows), and with either, ``convert`` and ``convert_batch``
give the same pictures (with Pillow, but for rare single pixels, see
:mod:`.drawing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.mouse.base import MouseConverter, MouseParams
from any2img.converters.mouse.drawing import canvas_points, draw_trajectories
from any2img.converters.mouse.log import DRAG, RELEASED, MouseLog, kinematics
from any2img.converters.mouse.relevance import event_relevance, trajectory_event_relevance

from any2img.converter import Window
from any2img.errors import ParameterError
from any2img.parameters import Bool, Check, Choice, Cmap, ConverterParams, Float, Int, Ref, param
from any2img.relevance import EventRelevance, check_attribution
from any2img.validation import check_int

__all__ = ["MAX_CANVAS_SIDE", "Trajectory", "TrajectoryParams", "log_unit"]

#: The largest side of the supersampled canvas (8192 x 8192 RGB is 200 MB).
MAX_CANVAS_SIDE = 8192


def log_unit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map ``values`` onto [0, 1] on a log scale between ``low`` and ``high``.

    Values at or below ``low`` (zero included) give 0, at or above ``high`` 1.

    Examples
    --------
    >>> log_unit(np.array([0.0, 10.0, 100.0, 1e6]), 10.0, 1000.0).tolist()
    [0.0, 0.0, 0.5, 1.0]
    """
    v = np.maximum(np.asarray(values, dtype=np.float64), low)
    return np.clip(np.log10(v / low) / np.log10(high / low), 0.0, 1.0)


def _check_screen(name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            w, h = (check_int(name, v, low=2) for v in value)
        except ParameterError:
            pass
        else:
            return w, h
    raise ParameterError(f"'{name}' must be a pair (width, height) of ints >= 2 (got {value!r}).")


_SIDE = Ref("the image's larger side", lambda p: max(p.image_size))


@dataclass(frozen=True, kw_only=True)
class TrajectoryParams(MouseParams):
    """``trajectory``."""

    coords: str = param("relative", Choice(("screen", "relative")), "The window's own bounding box (aspect kept), "
                        "or the whole screen.")
    screen: tuple[int, int] = param((1920, 1080), Check(_check_screen, "(width, height) of ints >= 2",
                                                        bad=((1920,), (1, 1), "1920x1080")),
                                    "Screen width and height in pixels, for coords='screen'.")
    cmap: str = param("turbo", Cmap(), "Colour map of speed.")
    accel: str = param("width", Choice(("width", "brightness", "none")), "How acceleration shows.")
    line_width: float = param(1.0, Float(0.0, low_open=True, most=_SIDE),
                              "Line width in output pixels (up to 3x that with accel='width').")
    click_radius: float = param(4.0, Float(0.0, most=_SIDE), "Radius of click rings, in output pixels.")
    fade: bool = param(False, Bool(), "Dim older steps (the oldest at 25% brightness).")
    supersample: int = param(3, Int(1, 8, most=Ref(f"{MAX_CANVAS_SIDE} canvas pixels / the image's larger side",
                                                   lambda p: max(1, MAX_CANVAS_SIDE // max(p.image_size)))),
                             "Drawing scale before the box-filter shrink (1 turns antialiasing off).")


class Trajectory(MouseConverter[TrajectoryParams]):
    """Draw a window of a mouse log: speed as colour, clicks as rings.

    ``coords="relative"`` shows the shape of the movement at the largest
    scale, wherever it happened and whatever the screen resolution;
    ``"screen"`` shows where on the screen it happened (the Balabit sessions
    come from screens of 1024x768 up to 1920x1080).

    Examples
    --------
    >>> conv = Trajectory(image_size=64)
    >>> conv.convert(conv.example_signal(0)).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "trajectory"
    params_class: ClassVar[type[ConverterParams] | None] = TrajectoryParams

    def convert(self, window: Any) -> np.ndarray:
        """Draw one window; return an ``(H, W, 3)`` uint8 image."""
        return draw_trajectory(self._window_log(window), self._p())

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Draw many windows at once: the same pictures as :meth:`convert`, as tiles of one canvas."""
        logs = [self._window_log(w) for w in windows]
        return draw_trajectories(logs, self._p()) if logs else []

    def relevance(self, attribution: np.ndarray, window: Any) -> EventRelevance:
        """Map an attribution over the picture back onto the events drawn under it.

        Parameters
        ----------
        attribution : ndarray of shape (H, W)
            A score per pixel of ``convert(window)``.
        window : Window or MouseLog
            The window the picture was drawn from (a :class:`Window` by
            events keeps the first event's index in the session).

        Returns
        -------
        EventRelevance
            Per event of the window, per action, and the share of the
            attribution on drawn pixels rather than empty canvas (see
            :mod:`.relevance`).
        """
        p = self._p()
        log = self._window_log(window)
        a = check_attribution(attribution, p.image_size)
        (height, width), s = p.image_size, p.supersample
        cx, cy = _canvas_points(log, p, width * s, height * s)
        steps, half = _drawn_steps(log, cx, cy, p)
        values, on_path = trajectory_event_relevance(a, (cx + 0.5) / s - 0.5, (cy + 0.5) / s - 0.5, log, steps, half,
                                                     p.click_radius)
        return event_relevance(log, values, on_path, window.describe() if isinstance(window, Window) else {})


#: Where the events are drawn on a ``width x height`` canvas (see :func:`.drawing.canvas_points`).
_canvas_points = canvas_points


def _drawn_steps(log: MouseLog, px: np.ndarray, py: np.ndarray, p: TrajectoryParams) -> tuple[np.ndarray, np.ndarray]:
    """The steps :func:`_draw_path` draws and half their drawn width in output pixels (halo included)."""
    n, s = len(log), p.supersample
    if n < 2:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    moved = (np.diff(px) != 0) | (np.diff(py) != 0)
    base = p.line_width * s
    if p.accel == "width":
        widths = base * (1.0 + 2.0 * log_unit(np.abs(kinematics(log).acceleration), *p.accel_range))
    else:
        widths = np.full(n - 1, base)
    w_px = np.maximum(np.round(widths), 1)
    st = log.state
    drag = (st[1:] == DRAG) | ((st[1:] == RELEASED) & (st[:-1] == DRAG))
    w_px = np.where(drag, w_px + 2 * max(int(round(s * 1.5)), 1), w_px)
    steps = np.flatnonzero(moved)
    return steps, w_px[steps] / s / 2.0


def draw_trajectory(log: MouseLog, p: TrajectoryParams) -> np.ndarray:
    """Draw ``log`` with checked parameters ``p`` (see :class:`Trajectory` and :mod:`.drawing`)."""
    return draw_trajectories([log], p)[0]
