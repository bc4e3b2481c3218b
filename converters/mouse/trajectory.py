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

Drawing uses Pillow's ImageDraw on a canvas ``supersample`` times larger,
then shrinks it with a Lanczos filter: antialiased lines, no matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.mouse.base import MouseConverter, MouseParams
from any2img.converters.mouse.log import DRAG, LEFT, PRESSED, RELEASED, RIGHT, SCROLL, MouseLog, kinematics
from any2img.converters.mouse.relevance import event_relevance, trajectory_event_relevance
from PIL import Image, ImageDraw

from any2img.converter import Window
from any2img.errors import ParameterError
from any2img.imaging import field_to_rgb
from any2img.parameters import Bool, Check, Choice, Cmap, ConverterParams, Float, Int, Ref, param
from any2img.relevance import EventRelevance, check_attribution
from any2img.validation import check_int

__all__ = ["MAX_CANVAS_SIDE", "Trajectory", "TrajectoryParams", "log_unit"]

_CLICK_COLOURS = {LEFT: (255, 255, 255), RIGHT: (255, 64, 255)}
_OTHER_CLICK = (255, 230, 0)
_HALO = (255, 255, 255)
_SCROLL = (150, 150, 150)
#: Share of each image side left as a margin (so rings at the edge show whole).
_MARGIN = 0.04
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
                             "Drawing scale before the Lanczos shrink (1 turns antialiasing off).")


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


def _canvas_points(log: MouseLog, p: TrajectoryParams, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the events on a canvas of ``width x height`` pixels."""
    mx, my = _MARGIN * width, _MARGIN * height
    inner_w, inner_h = width - 2 * mx, height - 2 * my
    if p.coords == "screen":
        sw, sh = p.screen
        x = np.clip(log.x, 0, sw - 1) / max(sw - 1, 1)
        y = np.clip(log.y, 0, sh - 1) / max(sh - 1, 1)
        return mx + x * inner_w, my + y * inner_h
    x0, x1 = float(log.x.min()), float(log.x.max())
    y0, y1 = float(log.y.min()), float(log.y.max())
    bw, bh = x1 - x0, y1 - y0
    scale = min(inner_w / bw if bw > 0 else np.inf, inner_h / bh if bh > 0 else np.inf)
    if not np.isfinite(scale):
        scale = 1.0
    ox = mx + (inner_w - bw * scale) / 2
    oy = my + (inner_h - bh * scale) / 2
    return ox + (log.x - x0) * scale, oy + (log.y - y0) * scale


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
    """Draw ``log`` with checked parameters ``p`` (see :class:`Trajectory`)."""
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    px, py = _canvas_points(log, p, cw, ch)
    img = Image.new("RGB", (cw, ch), (0, 0, 0))
    draw = ImageDraw.Draw(img)
    drew_path = _draw_path(draw, log, px, py, p)
    clicks = np.flatnonzero(log.state == PRESSED).tolist()
    if not drew_path and not clicks:  # the pointer rests: a dot shows where
        r = p.line_width * s
        dot = tuple(field_to_rgb(np.zeros(1), p.cmap)[0].tolist())
        draw.ellipse((px[0] - r, py[0] - r, px[0] + r, py[0] + r), fill=dot)
    sq = 0.9 * s
    for i in np.flatnonzero(log.button == SCROLL).tolist():
        draw.rectangle((px[i] - sq, py[i] - sq, px[i] + sq, py[i] + sq), fill=_SCROLL)
    radius = p.click_radius * s
    ring = max(int(round(s * 1.0)), 1)
    if radius > 0:
        for i in clicks:
            colour = _CLICK_COLOURS.get(int(log.button[i]), _OTHER_CLICK)
            draw.ellipse((px[i] - radius, py[i] - radius, px[i] + radius, py[i] + radius), outline=colour,
                         width=ring)
    if s > 1:
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def _draw_path(draw: ImageDraw.ImageDraw, log: MouseLog, px: np.ndarray, py: np.ndarray, p: TrajectoryParams) -> bool:
    """Draw the steps that move (drags with a halo first); return whether any did."""
    n, s = len(log), p.supersample
    if n < 2:
        return False
    moved = (np.diff(px) != 0) | (np.diff(py) != 0)
    if not moved.any():
        return False
    kin = kinematics(log)
    speed_u = log_unit(kin.speed, *p.speed_range)
    colours = field_to_rgb(speed_u, p.cmap).astype(np.float64)
    acc_u = log_unit(np.abs(kin.acceleration), *p.accel_range)
    base = p.line_width * s
    widths = base * (1.0 + 2.0 * acc_u) if p.accel == "width" else np.full(n - 1, base)
    if p.accel == "brightness":
        colours *= (0.35 + 0.65 * acc_u)[:, None]
    if p.fade and log.duration > 0:
        age = ((log.t[:-1] + log.t[1:]) / 2 - log.t[0]) / log.duration
        colours *= (0.25 + 0.75 * age)[:, None]
    colour_list = [tuple(c) for c in np.clip(np.round(colours), 0, 255).astype(np.uint8).tolist()]
    w_px = np.maximum(np.round(widths), 1).astype(int).tolist()
    st = log.state
    drag = moved & ((st[1:] == DRAG) | ((st[1:] == RELEASED) & (st[:-1] == DRAG)))
    x0, y0, x1, y1 = px[:-1].tolist(), py[:-1].tolist(), px[1:].tolist(), py[1:].tolist()
    halo = max(int(round(s * 1.5)), 1)
    for i in np.flatnonzero(drag).tolist():
        w = w_px[i] + 2 * halo
        draw.line((x0[i], y0[i], x1[i], y1[i]), fill=_HALO, width=w)
        r = w / 2
        draw.ellipse((x1[i] - r, y1[i] - r, x1[i] + r, y1[i] + r), fill=_HALO)
    for i in np.flatnonzero(moved).tolist():
        c, w = colour_list[i], w_px[i]
        draw.line((x0[i], y0[i], x1[i], y1[i]), fill=c, width=w)
        if w > 2:  # round joints for thick lines
            r = w / 2
            draw.ellipse((x1[i] - r, y1[i] - r, x1[i] + r, y1[i] + r), fill=c)
    return True
