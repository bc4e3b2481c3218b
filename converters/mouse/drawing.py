"""Drawing many ``trajectory`` pictures at once: one canvas, one pass of Pillow calls.

Each window is drawn exactly as a picture of its own would be: on a canvas
``supersample`` times the image size, step ``i`` is a Pillow line of its
width in its speed colour followed (for lines wider than 2 canvas pixels)
by a round joint, a disk of that width at its end; drags get a white halo
drawn first; then the resting dot, scroll squares and click rings. The
canvas is shrunk by a box filter (:meth:`PIL.Image.Image.reduce`): each
image pixel is the mean of its ``supersample x supersample`` block.

What makes it fast is where the work goes, not what is drawn:

* the windows of a batch are tiles of one canvas, spaced by a gutter wider
  than anything drawn can reach past a tile's edge (so nothing spills into
  a neighbour, and what reaches into the gutter is cut off as a canvas
  edge would cut it);
* the kinematics, colours, widths and coordinates of every step of every
  window are computed in a few numpy operations over the whole batch;
* the Pillow calls, in the order one picture at a time would make them,
  run from one list through :func:`itertools.starmap`, with no Python code
  between two calls;
* each tile is shrunk only over the box its drawing can reach.

Coordinates are floored before a tile's offset is added (Pillow truncates
them the same way), so a window's picture does not depend on which tile
of which batch drew it: ``convert`` and ``convert_batch`` agree exactly.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain, compress, repeat, starmap
from typing import TYPE_CHECKING, Any

import numpy as np
from any2img.converters.mouse.log import DRAG, LEFT, MIN_DT, PRESSED, RELEASED, RIGHT, SCROLL, MouseLog
from PIL import Image, ImageDraw

from any2img.imaging import _lut, field_to_rgb

if TYPE_CHECKING:
    from any2img.converters.mouse.trajectory import TrajectoryParams

__all__ = ["MARGIN", "canvas_points", "draw_trajectories", "ink"]

CLICK_COLOURS = {LEFT: (255, 255, 255), RIGHT: (255, 64, 255)}
OTHER_CLICK = (255, 230, 0)
HALO = (255, 255, 255)
SCROLL_GREY = (150, 150, 150)
#: Share of each image side left as a margin (so rings at the edge show whole).
MARGIN = 0.04
#: Canvas pixels of one batch's canvas (4 bytes each; 4 MB): larger batches are drawn in chunks.
_CHUNK_PIXELS = 1 << 20

#: ``f(*args)``, from C (Python 3.11+), so that a list of Pillow calls runs with no Python frame between them.
_call: Callable[..., Any] = getattr(operator, "call", None) or (lambda f, *args: f(*args))


def ink(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ink values (``ImagingDraw.draw_ink``) of ``(k, 3)`` uint8 RGB colours: R, G, B, 255 as int32.

    Examples
    --------
    >>> from PIL import Image, ImageDraw
    >>> core = ImageDraw.Draw(Image.new("RGB", (1, 1))).draw
    >>> int(ink(np.array([[1, 2, 3]], dtype=np.uint8))[0]) == core.draw_ink((1, 2, 3))
    True
    """
    packed = np.full((len(rgb), 4), 255, dtype=np.uint8)
    packed[:, :3] = rgb
    return packed.view(np.int32)[:, 0]


@lru_cache(maxsize=64)
def _ink_table(cmap: str) -> np.ndarray:
    """The ink of each of the 256 levels of ``cmap``."""
    return ink(_lut(cmap))


def canvas_points(log: MouseLog, p: TrajectoryParams, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the events on a canvas of ``width x height`` pixels."""
    mx, my = MARGIN * width, MARGIN * height
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


def _unit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """:func:`.trajectory.log_unit` (the same operations, so the same values)."""
    v = np.maximum(values, low)
    return np.clip(np.log10(v / low) / np.log10(high / low), 0.0, 1.0)


def _reach(p: TrajectoryParams) -> float:
    """Canvas pixels that anything drawn reaches from its event, truncation included."""
    s = p.supersample
    base = p.line_width * s
    widest = max(round(base * 3.0), 1) + 2 * max(int(round(s * 1.5)), 1)  # accel width x3, drag halo
    return max(widest / 2.0, base, 0.9 * s, p.click_radius * s) + 2.0


def draw_trajectories(logs: Sequence[MouseLog], p: TrajectoryParams) -> list[np.ndarray]:
    """Draw each of ``logs`` (non-empty, finite) with checked parameters ``p``; ``(H, W, 3)`` uint8 each."""
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    reach = _reach(p)
    spill = max(reach - MARGIN * min(cw, ch), 0.0)
    gutter = int(math.ceil(spill / s)) * s
    per_chunk = max(1, _CHUNK_PIXELS // ((cw + gutter) * (ch + gutter)))
    if gutter > max(cw, ch):  # click rings wider than the picture: a canvas per window, whose edges cut them
        gutter, per_chunk = 0, 1
    out: list[np.ndarray] = []
    for start in range(0, len(logs), per_chunk):
        out += _draw_chunk(logs[start : start + per_chunk], p, gutter, reach)
    return out


def _draw_chunk(logs: Sequence[MouseLog], p: TrajectoryParams, gutter: int, reach: float) -> list[np.ndarray]:
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    k = len(logs)
    cols = int(math.ceil(math.sqrt(k)))
    rows = -(-k // cols)
    pitch_x, pitch_y = cw + gutter, ch + gutter
    image = Image.new("RGB", (gutter + cols * pitch_x, gutter + rows * pitch_y), (0, 0, 0))
    core = ImageDraw.Draw(image).draw
    tile = np.arange(k)
    tile_x = gutter + (tile % cols) * pitch_x
    tile_y = gutter + (tile // cols) * pitch_y

    sizes = np.array([len(log) for log in logs])
    ends = np.cumsum(sizes)
    starts = ends - sizes
    points = [canvas_points(log, p, cw, ch) for log in logs]
    px = np.concatenate([a for a, _ in points])
    py = np.concatenate([b for _, b in points])
    owner = np.repeat(tile, sizes)
    off_x = tile_x[owner].astype(np.float64)
    off_y = tile_y[owner].astype(np.float64)
    state = np.concatenate([log.state for log in logs])
    button = np.concatenate([log.button for log in logs])

    drew = _draw_paths(core, logs, p, px, py, off_x, off_y, state, starts, ends, owner)
    base = p.line_width * s
    pressed = state == PRESSED
    clicked = np.add.reduceat(pressed, starts) > 0
    rest = np.flatnonzero(~drew & ~clicked)  # the pointer rests: a dot shows where
    if len(rest):
        dot = core.draw_ink(tuple(field_to_rgb(np.zeros(1), p.cmap)[0].tolist()))
        _stamp(core.draw_ellipse, px, py, off_x, off_y, starts[rest], base, dot, 1)
    scrolls = np.flatnonzero(button == SCROLL)
    if len(scrolls):
        _stamp(core.draw_rectangle, px, py, off_x, off_y, scrolls, 0.9 * s, core.draw_ink(SCROLL_GREY), 1)
    radius = p.click_radius * s
    clicks = np.flatnonzero(pressed)
    if radius > 0 and len(clicks):
        ring = max(int(round(s * 1.0)), 1)
        colours = {int(b): core.draw_ink(CLICK_COLOURS.get(int(b), OTHER_CLICK)) for b in np.unique(button[clicks])}
        _stamp(core.draw_ellipse, px, py, off_x, off_y, clicks, radius, [colours[b] for b in button[clicks].tolist()],
               0, ring)
    return _shrink(image, p, px, py, starts, tile_x, tile_y, reach)


def _stamp(method: Any, px: np.ndarray, py: np.ndarray, off_x: np.ndarray, off_y: np.ndarray, at: np.ndarray,
           r: float, colour: int | list[int], *args: int) -> None:
    """Call ``method(box, colour, *args)`` for the box of half side ``r`` around each event of ``at``, in order."""
    x, y, ox, oy = px[at], py[at], off_x[at], off_y[at]
    boxes = np.stack([np.floor(x - r) + ox, np.floor(y - r) + oy, np.floor(x + r) + ox, np.floor(y + r) + oy], axis=1)
    colours = repeat(colour) if isinstance(colour, int) else colour
    deque(starmap(_call, zip(repeat(method), boxes.tolist(), colours, *(repeat(a) for a in args))), maxlen=0)


def _effective_times(t: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """:func:`.log.effective_times` of each window of the concatenation ``t`` (the same operations per window)."""
    n = len(t)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = t[1:] != t[:-1]
    new_run[starts] = True
    repeated = np.add.reduceat(~new_run, starts) > 0  # windows with a repeated timestamp
    out = t.copy()
    if not repeated.any():
        return out
    run_starts = np.flatnonzero(new_run)
    lengths = np.diff(np.append(run_starts, n))
    run_of = np.repeat(np.arange(len(run_starts)), lengths)
    pos = np.arange(n) - run_starts[run_of]
    first = np.zeros(n, dtype=bool)
    first[starts] = True
    prev = np.where(~first[run_starts], t[np.maximum(run_starts - 1, 0)], t[run_starts])
    frac = (pos + 1) / lengths[run_of]
    spread = prev[run_of] + (t - prev[run_of]) * frac
    take = np.repeat(repeated, sizes)
    out[take] = spread[take]
    return out


def _draw_paths(core: Any, logs: Sequence[MouseLog], p: TrajectoryParams, px: np.ndarray, py: np.ndarray,
                off_x: np.ndarray, off_y: np.ndarray, state: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                owner: np.ndarray) -> np.ndarray:
    """Draw every window's moving steps (drags with a halo first); return which windows drew any."""
    s = p.supersample
    drew = np.zeros(len(logs), dtype=bool)
    n = len(px)
    if n < 2:
        return drew
    sizes = ends - starts
    inside = np.ones(n - 1, dtype=bool)  # step j goes from event j to j + 1 of the same window
    inside[ends[:-1] - 1] = False
    moved = inside & ((px[1:] != px[:-1]) | (py[1:] != py[:-1]))
    steps = np.flatnonzero(moved)
    if not len(steps):
        return drew
    drew[owner[steps]] = True
    t = np.concatenate([log.t for log in logs]).astype(np.float64, copy=False)
    x = np.concatenate([log.x for log in logs])
    y = np.concatenate([log.y for log in logs])
    dt = np.maximum(np.diff(_effective_times(t, starts, sizes)), MIN_DT)
    speed = np.hypot(np.diff(x), np.diff(y)) / dt
    acc = np.zeros_like(speed)
    acc[1:] = np.diff(speed) / dt[1:]
    acc[starts[starts < n - 1]] = 0.0  # each window's first step
    speed_u = _unit(speed, *p.speed_range)
    acc_u = _unit(np.abs(acc), *p.accel_range)
    base = p.line_width * s
    widths = base * (1.0 + 2.0 * acc_u[steps]) if p.accel == "width" else np.full(len(steps), base)
    w = np.maximum(np.round(widths), 1)
    fade = p.fade and any(log.duration > 0 for log in logs)
    if p.accel == "brightness" or fade:
        colours = field_to_rgb(speed_u[steps], p.cmap).astype(np.float64)
        if p.accel == "brightness":
            colours *= (0.35 + 0.65 * acc_u[steps])[:, None]
        if fade:
            t0 = np.repeat(t[starts], sizes)[steps]
            duration = np.repeat(t[ends - 1] - t[starts], sizes)[steps]
            age = ((t[steps] + t[steps + 1]) / 2 - t0) / np.where(duration > 0, duration, 1.0)
            colours *= np.where(duration > 0, 0.25 + 0.75 * age, 1.0)[:, None]
        inks = ink(np.clip(np.round(colours), 0, 255).astype(np.uint8))
    else:
        levels = np.clip(speed_u[steps], 0.0, 1.0) * 255
        inks = _ink_table(p.cmap)[np.rint(levels).astype(np.intp)]
    fx = np.floor(px)
    fy = np.floor(py)
    ox, oy = off_x[steps], off_y[steps]
    seg = np.stack([fx[steps] + ox, fy[steps] + oy, fx[steps + 1] + ox, fy[steps + 1] + oy], axis=1)
    ex, ey = px[steps + 1], py[steps + 1]
    drag = (state[steps + 1] == DRAG) | ((state[steps + 1] == RELEASED) & (state[steps] == DRAG))
    if drag.any():
        halo = max(int(round(s * 1.5)), 1)
        hw = w[drag] + 2 * halo
        white = np.full(len(hw), core.draw_ink(HALO), dtype=np.int32)
        _run(core, seg[drag], ex[drag], ey[drag], ox[drag], oy[drag], white, hw)
    _run(core, seg, ex, ey, ox, oy, inks, w)
    return drew


def _run(core: Any, seg: np.ndarray, ex: np.ndarray, ey: np.ndarray, ox: np.ndarray, oy: np.ndarray,
         inks: np.ndarray, w: np.ndarray) -> None:
    """Draw steps in order, each its line then (wider than 2) its round joint, from one list of calls.

    A step that moves less than a canvas pixel (the same pixel at both ends) with a joint is its joint
    alone: Pillow would draw its line as that one pixel, which the joint covers.
    """
    k = len(w)
    r = w / 2.0
    joint = w > 2
    keep = np.empty((k, 2), dtype=bool)
    keep[:, 0] = ~joint | (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
    keep[:, 1] = joint
    xy = np.empty((k, 2, 4))
    xy[:, 0] = seg
    xy[:, 1, 0] = np.floor(ex - r) + ox
    xy[:, 1, 1] = np.floor(ey - r) + oy
    xy[:, 1, 2] = np.floor(ex + r) + ox
    xy[:, 1, 3] = np.floor(ey + r) + oy
    arg = np.ones((k, 2), dtype=np.intp)
    arg[:, 0] = w
    which = keep.ravel().tolist()
    calls = compress((core.draw_lines, core.draw_ellipse) * k, which)
    colours = compress(chain.from_iterable(zip(*[inks.tolist()] * 2)), which)
    deque(starmap(_call, zip(calls, xy[keep].tolist(), colours, arg[keep].tolist())), maxlen=0)


def _shrink(image: Image.Image, p: TrajectoryParams, px: np.ndarray, py: np.ndarray, starts: np.ndarray,
            tile_x: np.ndarray, tile_y: np.ndarray, reach: float) -> list[np.ndarray]:
    """Each tile shrunk by ``supersample``, over the box its drawing can reach (the rest is black)."""
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    if s == 1:
        whole = np.asarray(image)
        return [whole[y : y + ch, x : x + cw].copy() for x, y in zip(tile_x.tolist(), tile_y.tolist())]
    lo_x = np.clip((np.floor((np.minimum.reduceat(px, starts) - reach) / s)) * s, 0, cw).astype(int).tolist()
    lo_y = np.clip((np.floor((np.minimum.reduceat(py, starts) - reach) / s)) * s, 0, ch).astype(int).tolist()
    hi_x = np.clip((np.ceil((np.maximum.reduceat(px, starts) + reach) / s)) * s, 0, cw).astype(int).tolist()
    hi_y = np.clip((np.ceil((np.maximum.reduceat(py, starts) + reach) / s)) * s, 0, ch).astype(int).tolist()
    out = []
    for x0, y0, x1, y1, tx, ty in zip(lo_x, lo_y, hi_x, hi_y, tile_x.tolist(), tile_y.tolist()):
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[y0 // s : y1 // s, x0 // s : x1 // s] = np.asarray(image.reduce(s, (tx + x0, ty + y0, tx + x1, ty + y1)))
        out.append(img)
    return out
