"""Drawing many ``trajectory`` pictures at once: one list of primitives, painted compiled or by Pillow.

Each window is drawn exactly as a picture of its own would be: on a canvas
``supersample`` times the image size, step ``i`` is a Pillow line of its
width in its speed colour followed (for lines wider than 2 canvas pixels)
by a round joint, a disk of that width at its end; drags get a white halo
drawn first; then the resting dot, scroll squares and click rings. The
canvas is shrunk by a box filter (:meth:`PIL.Image.Image.reduce`): each
image pixel is the mean of its ``supersample x supersample`` block.

Who paints (:func:`rasteriser`): where numba can be imported (the
``mouse`` extra, ``pip install any2img[mouse]``), the compiled painter of
:mod:`.raster`, 3 to 4 times faster than Pillow; otherwise Pillow. Both
paint the same primitives, made here, and give the same pixels: the tests
compare them on synthetic and real-like logs, and on 200 Balabit windows
no pixel differed (benchmarks/SPEED.md). ``draw_trajectories(...,
engine="pillow")`` asks for Pillow.

What makes it fast is where the work goes, not what is drawn:

* the kinematics, colours, widths and coordinates of every step of every
  window are computed in a few numpy operations over the whole batch, as
  primitives (:class:`_Primitives`: kind, integer box or segment, ink,
  width) of windows laid out as tiles of one canvas, spaced by a gutter
  wider than anything drawn can reach past a tile's edge;
* with Pillow, the tiles are one canvas and the Pillow calls, in the order
  one picture at a time would make them, run from one list through
  :func:`itertools.starmap`, with no Python code between two calls; each
  tile is shrunk only over the box its drawing can reach;
* the compiled painter draws each tile on a canvas of its own and shrinks
  only the blocks it drew on.

Coordinates are floored before a tile's offset is added (Pillow truncates
them the same way), so a window's primitives do not depend on which tile
of which batch drew it: the compiled painter's ``convert`` and
``convert_batch`` agree exactly. Pillow's agree but for rare pixels: its
polygon filler works in float32 on the coordinates of the whole canvas,
so a line far out on a large canvas can fill a pixel more or less (1 pixel
in 60 Balabit windows at 64 px, in the window's tile of a 25-tile canvas).
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from itertools import starmap
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from any2img.converters.mouse.log import DRAG, LEFT, MIN_DT, PRESSED, RELEASED, RIGHT, SCROLL, MouseLog
from PIL import Image, ImageDraw

from any2img.imaging import _lut, field_to_rgb

if TYPE_CHECKING:
    from any2img.converters.mouse.trajectory import TrajectoryParams

__all__ = ["BOX", "DISK", "LINE", "MARGIN", "RING", "canvas_points", "draw_trajectories", "ink", "rasteriser"]

CLICK_COLOURS = {LEFT: (255, 255, 255), RIGHT: (255, 64, 255)}
OTHER_CLICK = (255, 230, 0)
HALO = (255, 255, 255)
SCROLL_GREY = (150, 150, 150)
#: Share of each image side left as a margin (so rings at the edge show whole).
MARGIN = 0.04
#: Kinds of primitives (see :class:`_Primitives`): a line of a width from one point to another; a filled disk,
#: a ring of a width and a filled box, each in a box (edges included).
LINE, DISK, RING, BOX = 0, 1, 2, 3
#: Canvas pixels of one batch's canvas (4 bytes each; 4 MB): larger batches are drawn in chunks.
_CHUNK_PIXELS = 1 << 20

#: Windows per chunk for the compiled painter (about 30 kB of primitives each).
_FAST_CHUNK = 256

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


def _batch_points(x: np.ndarray, y: np.ndarray, starts: np.ndarray, sizes: np.ndarray, p: TrajectoryParams,
                  width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`canvas_points` of each window of the concatenations ``x``, ``y`` (the same operations per window)."""
    mx, my = MARGIN * width, MARGIN * height
    inner_w, inner_h = width - 2 * mx, height - 2 * my
    if p.coords == "screen":
        sw, sh = p.screen
        return (mx + np.clip(x, 0, sw - 1) / max(sw - 1, 1) * inner_w,
                my + np.clip(y, 0, sh - 1) / max(sh - 1, 1) * inner_h)
    x0, y0 = np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts)
    bw, bh = np.maximum.reduceat(x, starts) - x0, np.maximum.reduceat(y, starts) - y0
    with np.errstate(divide="ignore"):
        scale = np.minimum(np.where(bw > 0, inner_w / bw, np.inf), np.where(bh > 0, inner_h / bh, np.inf))
    scale[~np.isfinite(scale)] = 1.0
    ox = mx + (inner_w - bw * scale) / 2
    oy = my + (inner_h - bh * scale) / 2
    scale_e = np.repeat(scale, sizes)
    return (np.repeat(ox, sizes) + (x - np.repeat(x0, sizes)) * scale_e,
            np.repeat(oy, sizes) + (y - np.repeat(y0, sizes)) * scale_e)


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


def draw_trajectories(logs: Sequence[MouseLog], p: TrajectoryParams, *, engine: str = "auto") -> list[np.ndarray]:
    """Draw each of ``logs`` (non-empty, finite) with checked parameters ``p``; ``(H, W, 3)`` uint8 each.

    ``engine`` ``"auto"`` paints with the compiled :mod:`.raster` where numba is importable and with
    Pillow otherwise; ``"pillow"`` and ``"numba"`` ask for one (``"numba"`` raises ImportError without it).
    """
    if engine not in ("auto", "pillow", "numba"):
        raise ValueError(f"engine must be 'auto', 'pillow' or 'numba' (got {engine!r})")
    fast = None if engine == "pillow" else rasteriser(required=engine == "numba")
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    reach = _reach(p)
    spill = max(reach - MARGIN * min(cw, ch), 0.0)
    gutter = int(math.ceil(spill / s)) * s
    per_chunk = max(1, _CHUNK_PIXELS // ((cw + gutter) * (ch + gutter)))
    if gutter > max(cw, ch):  # click rings wider than the picture: a canvas per window, whose edges cut them
        gutter, per_chunk = 0, 1
    if fast is not None:  # a canvas per window anyway; the chunk only bounds the memory of the primitives
        per_chunk = _FAST_CHUNK
    out: list[np.ndarray] = []
    for start in range(0, len(logs), per_chunk):
        out += _draw_chunk(logs[start : start + per_chunk], p, gutter, reach, fast)
    return out


@cache
def _loaded_raster() -> ModuleType | None:
    """The loaded :mod:`.raster`, or None where numba is missing (asked once per process)."""
    try:
        from any2img.converters.mouse import raster
    except ImportError:
        return None
    return raster


def rasteriser(*, required: bool = False) -> ModuleType | None:
    """The compiled painter :mod:`.raster`, or None where numba cannot be imported (Pillow draws then).

    The answer is kept for the process; ``required=True`` raises the ImportError instead of None.
    """
    found = _loaded_raster()
    if found is None and required:
        from any2img.converters.mouse import raster  # raises the ImportError

        return raster
    return found


def _draw_chunk(logs: Sequence[MouseLog], p: TrajectoryParams, gutter: int, reach: float,
                fast: ModuleType | None) -> list[np.ndarray]:
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    k = len(logs)
    cols = int(math.ceil(math.sqrt(k)))
    rows = -(-k // cols)
    pitch_x, pitch_y = cw + gutter, ch + gutter
    size = (gutter + cols * pitch_x, gutter + rows * pitch_y)
    tile = np.arange(k)
    tile_x = gutter + (tile % cols) * pitch_x
    tile_y = gutter + (tile // cols) * pitch_y

    sizes = np.array([len(log) for log in logs])
    ends = np.cumsum(sizes)
    starts = ends - sizes
    x = np.concatenate([log.x for log in logs])
    y = np.concatenate([log.y for log in logs])
    px, py = _batch_points(x, y, starts, sizes, p, cw, ch)
    owner = np.repeat(tile, sizes)
    off_x = tile_x[owner].astype(np.float64)
    off_y = tile_y[owner].astype(np.float64)
    state = np.concatenate([log.state for log in logs])
    button = np.concatenate([log.button for log in logs])

    parts: list[_Primitives] = []
    drew = _path_primitives(parts, logs, p, x, y, px, py, off_x, off_y, state, starts, ends, owner)
    base = p.line_width * s
    pressed = state == PRESSED
    clicked = np.add.reduceat(pressed, starts) > 0
    rest = np.flatnonzero(~drew & ~clicked)  # the pointer rests: a dot shows where
    if len(rest):
        dot = ink(field_to_rgb(np.zeros(1), p.cmap))
        parts.append(_stamps(DISK, px, py, off_x, off_y, owner, starts[rest], base, dot, 0))
    scrolls = np.flatnonzero(button == SCROLL)
    if len(scrolls):
        parts.append(_stamps(BOX, px, py, off_x, off_y, owner, scrolls, 0.9 * s, _inks(SCROLL_GREY), 0))
    radius = p.click_radius * s
    clicks = np.flatnonzero(pressed)
    if radius > 0 and len(clicks):
        ring = max(int(round(s * 1.0)), 1)
        b = button[clicks]
        colours = np.where(b == LEFT, _inks(CLICK_COLOURS[LEFT]),
                           np.where(b == RIGHT, _inks(CLICK_COLOURS[RIGHT]), _inks(OTHER_CLICK)))
        parts.append(_stamps(RING, px, py, off_x, off_y, owner, clicks, radius, colours, ring))
    boxes = _shrink_boxes(p, px, py, starts, tile_x, tile_y, reach)
    if fast is not None:
        return _paint_fast(fast, parts, p, boxes)
    prims = _Primitives.join(parts)
    image = Image.new("RGB", size, (0, 0, 0))
    _paint_pillow(ImageDraw.Draw(image).draw, prims)
    return _shrink(image, p, boxes)


class _Primitives(NamedTuple):
    """What is drawn on a chunk's canvas, in order: kind, segment or box, ink and width of each."""

    kind: np.ndarray  # int64, LINE, DISK, RING or BOX
    xy: np.ndarray  # (k, 4) int64: a line's segment, the others' box (edges included)
    ink: np.ndarray  # int32, Pillow's ink
    arg: np.ndarray  # int64, a line's or a ring's width
    tile: np.ndarray  # int64, the tile (window) drawn on

    @classmethod
    def join(cls, parts: Sequence[_Primitives]) -> _Primitives:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros((0, 4), np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64),
                       np.zeros(0, np.int64))
        return cls(*(np.concatenate(a) for a in zip(*parts)))


def _inks(rgb: tuple[int, int, int]) -> np.ndarray:
    return ink(np.array([rgb], dtype=np.uint8))


def _stamps(kind: int, px: np.ndarray, py: np.ndarray, off_x: np.ndarray, off_y: np.ndarray, owner: np.ndarray,
            at: np.ndarray, r: float, colour: np.ndarray, width: int) -> _Primitives:
    """One primitive of ``kind`` in the box of half side ``r`` around each event of ``at``, in order."""
    x, y, ox, oy = px[at], py[at], off_x[at], off_y[at]
    boxes = np.stack([np.floor(x - r) + ox, np.floor(y - r) + oy, np.floor(x + r) + ox, np.floor(y + r) + oy], axis=1)
    k = len(at)
    return _Primitives(np.full(k, kind, np.int64), boxes.astype(np.int64), np.broadcast_to(colour, k).astype(np.int32),
                       np.full(k, width, np.int64), owner[at])


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


def _path_primitives(parts: list[_Primitives], logs: Sequence[MouseLog], p: TrajectoryParams, x: np.ndarray,
                     y: np.ndarray, px: np.ndarray, py: np.ndarray, off_x: np.ndarray, off_y: np.ndarray,
                     state: np.ndarray, starts: np.ndarray, ends: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Add every window's moving steps to ``parts`` (drags with a halo first); return which windows drew any."""
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
        white = np.broadcast_to(_inks(HALO), len(hw))
        parts.append(_steps(seg[drag], ex[drag], ey[drag], ox[drag], oy[drag], white, hw, owner[steps][drag]))
    parts.append(_steps(seg, ex, ey, ox, oy, inks, w, owner[steps]))
    return drew


def _steps(seg: np.ndarray, ex: np.ndarray, ey: np.ndarray, ox: np.ndarray, oy: np.ndarray, inks: np.ndarray,
           w: np.ndarray, tile: np.ndarray) -> _Primitives:
    """Steps in order, each its line then (wider than 2) its round joint, a disk of its width at its end.

    A step that moves less than a canvas pixel (the same pixel at both ends) with a joint is its joint
    alone: Pillow would draw its line as that one pixel, which the joint covers.
    """
    k = len(w)
    r = w / 2.0
    joint = w > 2
    keep = np.empty((k, 2), dtype=bool)
    keep[:, 0] = ~joint | (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
    keep[:, 1] = joint
    xy = np.empty((k, 2, 4), dtype=np.int64)  # the floored floats are integers: cast exactly
    xy[:, 0] = seg
    xy[:, 1, 0] = np.floor(ex - r) + ox
    xy[:, 1, 1] = np.floor(ey - r) + oy
    xy[:, 1, 2] = np.floor(ex + r) + ox
    xy[:, 1, 3] = np.floor(ey + r) + oy
    kind = np.empty((k, 2), dtype=np.int64)
    kind[:, 0], kind[:, 1] = LINE, DISK
    arg = np.empty((k, 2), dtype=np.int64)
    arg[:, 0], arg[:, 1] = w, 0
    colour = np.empty((k, 2), dtype=np.int32)
    colour[:] = np.asarray(inks)[:, None]
    tiles = np.empty((k, 2), dtype=np.int64)
    tiles[:] = tile[:, None]
    at = np.flatnonzero(keep)
    return _Primitives(kind.reshape(-1)[at], xy.reshape(-1, 4)[at], colour.reshape(-1)[at], arg.reshape(-1)[at],
                       tiles.reshape(-1)[at])


def _paint_pillow(core: Any, prims: _Primitives) -> None:
    """Draw ``prims`` in order with Pillow's drawing core, from lists of calls with no Python between two calls."""
    kind = prims.kind
    if not len(kind):
        return
    methods = (core.draw_lines, core.draw_ellipse, core.draw_ellipse, core.draw_rectangle)
    # a line (xy, ink, width), a disk or a box (xy, ink, 1: filled), a ring (xy, ink, 0: outline, width)
    third = np.where(kind == LINE, prims.arg, np.where(kind == RING, 0, 1)).tolist()
    xy, inks, width = prims.xy.tolist(), prims.ink.tolist(), prims.arg.tolist()
    ring = kind == RING
    cuts = [0, *(np.flatnonzero(ring[1:] != ring[:-1]) + 1).tolist(), len(kind)]
    for a, b in zip(cuts[:-1], cuts[1:]):  # runs of calls of three arguments, and of four (rings)
        calls = map(methods.__getitem__, kind[a:b].tolist())
        args = [xy[a:b], inks[a:b], third[a:b]] + ([width[a:b]] if ring[a] else [])
        deque(starmap(_call, zip(calls, *args)), maxlen=0)


def _paint_fast(fast: ModuleType, parts: Sequence[_Primitives], p: TrajectoryParams,
                boxes: np.ndarray) -> list[np.ndarray]:
    """Paint ``parts`` with the compiled :mod:`.raster`, each tile on a canvas of its own, and shrink them.

    ``parts`` are painted one after the other; each part's primitives are in the order of their tiles
    (as :func:`_draw_chunk` makes them), so a tile's share of each part is one range of it.
    """
    (height, width), s = p.image_size, p.supersample
    k = len(boxes)
    prims = _Primitives.join(parts)
    kind, xy, arg = prims.kind, prims.xy, prims.arg
    offsets = np.cumsum([0] + [len(part.kind) for part in parts])
    group_start = np.array([offset + np.searchsorted(part.tile, np.arange(k + 1))
                            for offset, part in zip(offsets.tolist(), parts)], dtype=np.int64).reshape(-1, k + 1)
    stamped = np.flatnonzero((kind == DISK) | (kind == RING))
    mask = np.zeros(len(kind), dtype=np.int64)
    a, b = xy[stamped, 2] - xy[stamped, 0], xy[stamped, 3] - xy[stamped, 1]
    w = np.where(kind[stamped] == RING, arg[stamped], 0)
    keys, mask[stamped] = _mask_keys(a, b, w)
    runs = [fast.mask_runs(*key) for key in keys]
    run_start = np.zeros(len(runs) + 1, dtype=np.int64)
    run_start[1:] = np.cumsum([len(r) for r in runs])
    all_runs = np.concatenate(runs) if runs else np.zeros((0, 3), np.int64)
    out = np.zeros((k, height, width, 3), dtype=np.uint8)
    fast.draw(kind, xy, prims.ink.view(np.uint32), arg, group_start, np.ascontiguousarray(boxes[:, 4:]), mask,
              all_runs, run_start, s, fast.reduce_table(s), out)
    return list(out)


def _mask_keys(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """The distinct ``(a, b, w)`` of the stamps and which of them each stamp is (``numpy.unique``, without a sort)."""
    if not len(a):
        return [], np.zeros(0, dtype=np.int64)
    side, widths = int(max(a.max(), b.max())) + 1, int(w.max()) + 1
    if widths * side * side > 1 << 22:
        rows, inverse = np.unique(np.stack([a, b, w], axis=1), axis=0, return_inverse=True)
        return [tuple(r) for r in rows.tolist()], inverse.reshape(-1)
    code = (w * side + a) * side + b
    seen = np.zeros(widths * side * side, dtype=bool)
    seen[code] = True
    distinct = np.flatnonzero(seen)
    index = np.zeros(len(seen), dtype=np.int64)
    index[distinct] = np.arange(len(distinct))
    w_d, rest = np.divmod(distinct, side * side)
    a_d, b_d = np.divmod(rest, side)
    return list(zip(a_d.tolist(), b_d.tolist(), w_d.tolist())), index[code]


def _shrink_boxes(p: TrajectoryParams, px: np.ndarray, py: np.ndarray, starts: np.ndarray, tile_x: np.ndarray,
                  tile_y: np.ndarray, reach: float) -> np.ndarray:
    """Per tile, the box its drawing can reach (multiples of ``supersample``, in the tile) and the tile's corner.

    ``(k, 6)`` int64: ``x0, y0, x1, y1, tx, ty``; with ``supersample`` 1, the whole tile.
    """
    (height, width), s = p.image_size, p.supersample
    cw, ch = width * s, height * s
    k = len(starts)
    if s == 1:
        lo_x = lo_y = np.zeros(k)
        hi_x, hi_y = np.full(k, cw), np.full(k, ch)
    else:
        lo_x = np.clip((np.floor((np.minimum.reduceat(px, starts) - reach) / s)) * s, 0, cw)
        lo_y = np.clip((np.floor((np.minimum.reduceat(py, starts) - reach) / s)) * s, 0, ch)
        hi_x = np.clip((np.ceil((np.maximum.reduceat(px, starts) + reach) / s)) * s, 0, cw)
        hi_y = np.clip((np.ceil((np.maximum.reduceat(py, starts) + reach) / s)) * s, 0, ch)
    return np.stack([lo_x, lo_y, hi_x, hi_y, tile_x, tile_y], axis=1).astype(np.int64)


def _shrink(image: Image.Image, p: TrajectoryParams, boxes: np.ndarray) -> list[np.ndarray]:
    """Each tile of a Pillow canvas shrunk by ``supersample`` over its box (the rest is black)."""
    (height, width), s = p.image_size, p.supersample
    if s == 1:
        whole = np.asarray(image)
        return [whole[ty : ty + height, tx : tx + width].copy() for *_, tx, ty in boxes.tolist()]
    out = []
    for x0, y0, x1, y1, tx, ty in boxes.tolist():
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[y0 // s : y1 // s, x0 // s : x1 // s] = np.asarray(image.reduce(s, (tx + x0, ty + y0, tx + x1, ty + y1)))
        out.append(img)
    return out
