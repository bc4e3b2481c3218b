"""The compiled painter of the ``trajectory`` pictures (numba): primitives filled, tiles box-filtered.

:mod:`.drawing` turns a batch of windows into lists of primitives on
supersampled canvases, in painter's order: lines, filled disks, rings and
filled boxes (:data:`.drawing.LINE` and the others). :func:`draw` paints
each window's primitives on a ``uint32`` canvas of Pillow inks of its own,
each primitive overwriting what lies under it, and box-filters it into the
picture. This module imports numba at its top; :mod:`.drawing` imports it
only when numba is importable and otherwise draws the same primitives with
Pillow (see :func:`.drawing.rasteriser`).

Each primitive covers the pixels Pillow's drawing covers:

* **disks and rings** are stamps of the masks Pillow itself draws for that
  box size and ring width (:func:`ellipse_mask`, kept as runs of pixels,
  :func:`mask_runs`);
* **boxes** (scroll squares) are every pixel of the box, edges included;
* **lines** of width 2 or more are the quadrilateral of integer corners
  that Pillow builds around the segment, filled row by row from where its
  edges cross the row, computed in float32 and rounded half away from the
  inside as Pillow's polygon filler does (on 30,000 random lines of widths
  1 to 13, every pixel the same as Pillow's); lines of width 1 are
  Bresenham lines, both ends included.

Pillow's float32 crossings depend on where on its canvas a line lies; here
every window is drawn at its own origin, as ``convert`` draws one alone on
a Pillow canvas of its own. The shrink gives each block sum the level
:meth:`PIL.Image.Image.reduce` gives it (:func:`reduce_table`, read off
Pillow once per factor). Only the blocks something was drawn on are
shrunk, and cleared for the next window.

Compiled functions are cached on disk (numba's ``cache=True``): in
``__pycache__`` next to this file, or where that is not writable, in
numba's user-wide cache folder (``~/.cache/numba``, or
``NUMBA_CACHE_DIR``); where neither is writable they are compiled anew in
each process. Compiling takes 6-10 s on a busy 2-core machine, once;
loading them from the cache about half a second (numba's import
included).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, cast

import numba
import numpy as np
from any2img.converters.mouse.drawing import BOX, LINE
from PIL import Image, ImageDraw

__all__ = ["draw", "ellipse_mask", "mask_runs", "reduce_table"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F, **options: Any) -> _F:
    """``fn`` compiled by numba in nopython mode, releasing the GIL, cached on disk where numba can write."""
    try:
        return cast(_F, numba.njit(cache=True, nogil=True, **options)(fn))
    except RuntimeError:  # "cannot cache function ...: no locator available": compiled in each process
        return cast(_F, numba.njit(nogil=True, **options)(fn))


def _compiled(fn: _F) -> _F:
    """:func:`_jit` of ``fn``."""
    return _jit(fn)


def _inlined(fn: _F) -> _F:
    """:func:`_jit` of ``fn``, inlined into its callers by numba."""
    return _jit(fn, inline="always")


@lru_cache(maxsize=256)
def ellipse_mask(a: int, b: int, width: int) -> np.ndarray:
    """The pixels Pillow draws for the ellipse in the box ``(0, 0, a, b)``: ``(b + 1, a + 1)`` uint8.

    ``width`` 0 is a filled ellipse, otherwise a ring of that width.

    Examples
    --------
    >>> ellipse_mask(2, 2, 0).tolist()
    [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    """
    image = Image.new("L", (a + 1, b + 1), 0)
    core = ImageDraw.Draw(image).draw
    if width:
        core.draw_ellipse((0, 0, a, b), 1, 0, width)
    else:
        core.draw_ellipse((0, 0, a, b), 1, 1)
    mask = np.array(image, dtype=np.uint8)
    mask.flags.writeable = False
    return mask


@lru_cache(maxsize=256)
def mask_runs(a: int, b: int, width: int) -> np.ndarray:
    """:func:`ellipse_mask` as runs of set pixels: ``(r, 3)`` int64 rows of ``row, first column, last column``.

    Examples
    --------
    >>> mask_runs(2, 2, 0).tolist()
    [[0, 1, 1], [1, 0, 2], [2, 1, 1]]
    """
    m = ellipse_mask(a, b, width).astype(np.int8)
    edges = np.diff(np.pad(m, ((0, 0), (1, 1))), axis=1)
    row, first = np.nonzero(edges == 1)
    _, after = np.nonzero(edges == -1)
    runs = np.stack([row, first, after - 1], axis=1).astype(np.int64)
    runs.flags.writeable = False
    return runs


@lru_cache(maxsize=8)
def reduce_table(s: int) -> np.ndarray:
    """The level :meth:`PIL.Image.Image.reduce` gives an ``s x s`` block of each sum ``0 .. 255 s^2``.

    Examples
    --------
    >>> reduce_table(2)[[0, 1, 2, 4, 1020]].tolist()
    [0, 0, 1, 1, 255]
    """
    n = s * s
    sums = np.arange(255 * n + 1)
    q, r = np.divmod(sums, n)
    blocks = q[:, None] + (np.arange(n)[None, :] < r[:, None])  # n values per block summing to its sum
    grid = blocks.reshape(-1, s, s).transpose(1, 0, 2).reshape(s, -1).astype(np.uint8)
    table = np.asarray(Image.fromarray(grid, "L").reduce(s))[0].astype(np.uint8)
    table.flags.writeable = False
    return table


@_inlined
def _span(canvas: np.ndarray, dirty: np.ndarray, block: np.ndarray, y: int, x0: int, x1: int,
          ink: np.uint32) -> None:
    """Fill row ``y`` from ``x0`` to ``x1`` (both included), clipped to the canvas; mark its blocks dirty.

    ``block[i]`` is ``i // s``, the block of canvas row or column ``i`` (a look-up, not a division).
    """
    if y < 0 or y >= canvas.shape[0]:
        return
    x0 = max(x0, 0)
    x1 = min(x1, canvas.shape[1] - 1)
    if x0 > x1:
        return
    row = canvas[y]
    for x in range(x0, x1 + 1):
        row[x] = ink
    marks = dirty[block[y]]
    for b in range(block[x0], block[x1] + 1):
        marks[b] = 1


@_inlined
def _half_up(v: float) -> int:
    """``v`` rounded to the nearest integer, halves away from zero."""
    return int(np.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


@_inlined
def _half_down(v: float) -> int:
    """``v`` rounded to the nearest integer, halves towards zero."""
    return int(np.ceil(abs(v) - 0.5)) * (1 if v >= 0 else -1)


@_inlined
def _half_up32(v: np.float32) -> int:
    """:func:`_half_up` with the half added in float32."""
    return int(np.floor(np.float32(abs(v)) + np.float32(0.5))) * (1 if v >= 0 else -1)


@_inlined
def _half_down32(v: np.float32) -> int:
    """:func:`_half_down` with the half taken off in float32."""
    return int(np.ceil(np.float32(abs(v)) - np.float32(0.5))) * (1 if v >= 0 else -1)


@_compiled
def _thin_line(canvas: np.ndarray, dirty: np.ndarray, block: np.ndarray, x0: int, y0: int, x1: int, y1: int,
               ink: np.uint32) -> None:
    """A Bresenham line, both end pixels included."""
    dx, dy = abs(x1 - x0), abs(y1 - y0)
    sx = 1 if x1 >= x0 else -1
    sy = 1 if y1 >= y0 else -1
    x, y = x0, y0
    if dx >= dy:
        err = 2 * dy - dx
        for _ in range(dx):
            _span(canvas, dirty, block, y, x, x, ink)
            if err >= 0:
                y += sy
                err -= 2 * dx
            err += 2 * dy
            x += sx
    else:
        err = 2 * dx - dy
        for _ in range(dy):
            _span(canvas, dirty, block, y, x, x, ink)
            if err >= 0:
                x += sx
                err -= 2 * dy
            err += 2 * dx
            y += sy
    _span(canvas, dirty, block, y1, x1, x1, ink)


@_inlined
def _slope(xa: int, ya: int, xb: int, yb: int) -> np.float32:
    """The edge's change of x per row, in float32 (as Pillow's polygon filler keeps it); 0 if horizontal."""
    if ya == yb:
        return np.float32(0.0)
    return np.float32(xb - xa) / np.float32(yb - ya)


@_inlined
def _cross(y: int, xa: int, ya: int, xb: int, yb: int, slope: np.float32, lo: np.float32,
           hi: np.float32) -> tuple[np.float32, np.float32]:
    """``lo, hi`` widened to where the edge from ``(xa, ya)`` to ``(xb, yb)`` crosses row ``y``, if it does.

    The crossing is computed in float32; a horizontal edge on the row is all of it.
    """
    if ya == yb:
        if y == ya:
            return min(lo, np.float32(min(xa, xb))), max(hi, np.float32(max(xa, xb)))
        return lo, hi
    if y < min(ya, yb) or y > max(ya, yb):
        return lo, hi
    x = np.float32(y - ya) * slope + np.float32(xa)
    return min(lo, x), max(hi, x)


@_compiled
def _wide_line(canvas: np.ndarray, dirty: np.ndarray, block: np.ndarray, x0: int, y0: int, x1: int, y1: int,
               width: int, ink: np.uint32) -> None:
    """A line ``width`` (>= 2) pixels wide, without caps: the quadrilateral around the segment, filled."""
    dx, dy = x1 - x0, y1 - y0
    if dx == 0 and dy == 0:
        _span(canvas, dirty, block, y0, x0, x0, ink)
        return
    length = np.hypot(dx, dy)
    half = (width - 1) / 2.0
    r_out, r_in = _half_up(half) / length, _half_down(half) / length
    ax, ay = _half_down(r_in * dy), _half_down(r_in * dx)  # one side (the smaller half on odd rounding)
    bx, by = _half_down(r_out * dy), _half_down(r_out * dx)  # the other
    xa, ya, xb, yb = x0 - ax, y0 + by, x1 - ax, y1 + by
    xc, yc, xd, yd = x1 + bx, y1 - ay, x0 + bx, y0 - ay
    k_ab, k_bc = _slope(xa, ya, xb, yb), _slope(xb, yb, xc, yc)
    k_cd, k_da = _slope(xc, yc, xd, yd), _slope(xd, yd, xa, ya)
    top = max(min(min(ya, yb), min(yc, yd)), 0)
    bottom = min(max(max(ya, yb), max(yc, yd)), canvas.shape[0] - 1)
    for y in range(top, bottom + 1):
        lo, hi = np.float32(np.inf), np.float32(-np.inf)
        lo, hi = _cross(y, xa, ya, xb, yb, k_ab, lo, hi)
        lo, hi = _cross(y, xb, yb, xc, yc, k_bc, lo, hi)
        lo, hi = _cross(y, xc, yc, xd, yd, k_cd, lo, hi)
        lo, hi = _cross(y, xd, yd, xa, ya, k_da, lo, hi)
        if lo <= hi:
            _span(canvas, dirty, block, y, _half_up32(lo), _half_down32(hi), ink)


@_inlined
def _run(canvas: np.ndarray, y: int, x0: int, x1: int, ink: np.uint32) -> None:
    """Fill row ``y`` from ``x0`` to ``x1`` (both included), clipped to the canvas."""
    if 0 <= y < canvas.shape[0]:
        for x in range(max(x0, 0), min(x1, canvas.shape[1] - 1) + 1):
            canvas[y, x] = ink


@_inlined
def _mark_box(canvas: np.ndarray, dirty: np.ndarray, block: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Mark dirty the blocks of the box ``x0, y0, x1, y1`` (edges included), clipped to the canvas."""
    ya, yb = max(y0, 0), min(y1, canvas.shape[0] - 1)
    xa, xb = max(x0, 0), min(x1, canvas.shape[1] - 1)
    if ya <= yb and xa <= xb:
        for by in range(block[ya], block[yb] + 1):
            for bx in range(block[xa], block[xb] + 1):
                dirty[by, bx] = 1


@_compiled
def _paint(canvas: np.ndarray, dirty: np.ndarray, block: np.ndarray, kind: np.ndarray, xy: np.ndarray,
           ink: np.ndarray, arg: np.ndarray, first: int, last: int, tx: int, ty: int, mask: np.ndarray,
           runs: np.ndarray, run_start: np.ndarray) -> None:
    """Paint primitives ``first`` to ``last - 1`` with the point ``(tx, ty)`` at the canvas's origin."""
    for i in range(first, last):
        x0, y0, x1, y1 = xy[i, 0] - tx, xy[i, 1] - ty, xy[i, 2] - tx, xy[i, 3] - ty
        k, c = kind[i], ink[i]
        if k == LINE:
            if arg[i] <= 1:
                _thin_line(canvas, dirty, block, x0, y0, x1, y1, c)
            else:
                _wide_line(canvas, dirty, block, x0, y0, x1, y1, arg[i], c)
        elif k == BOX:
            _mark_box(canvas, dirty, block, x0, y0, x1, y1)
            for y in range(y0, y1 + 1):
                _run(canvas, y, x0, x1, c)
        else:
            _mark_box(canvas, dirty, block, x0, y0, x1, y1)
            m = mask[i]
            for r in range(run_start[m], run_start[m + 1]):
                _run(canvas, y0 + runs[r, 0], x0 + runs[r, 1], x0 + runs[r, 2], c)


@_compiled
def _shrink(canvas: np.ndarray, dirty: np.ndarray, s: int, table: np.ndarray, out: np.ndarray) -> None:
    """Box-filter the dirty blocks of ``canvas`` into ``out`` (``(H, W, 3)``, zeros) and clear them.

    Each output pixel gets ``table[sum of its s x s block]`` per channel (the default ``s`` = 3 has a
    copy of its own, compiled for that block size).
    """
    if s == 3:
        _shrink_fixed(canvas, dirty, 3, table, out)
    else:
        _shrink_fixed(canvas, dirty, s, table, out)


@_inlined
def _shrink_fixed(canvas: np.ndarray, dirty: np.ndarray, s: int, table: np.ndarray, out: np.ndarray) -> None:
    """:func:`_shrink`'s loops, inlined where it is called (so with a constant ``s``, unrolled)."""
    for by in range(dirty.shape[0]):
        for bx in range(dirty.shape[1]):
            if not dirty[by, bx]:
                continue
            dirty[by, bx] = 0
            rb = ga = 0  # red and blue, green and alpha, in 16-bit lanes
            for j in range(s):
                row = canvas[by * s + j]
                for i in range(bx * s, bx * s + s):
                    v = np.int64(row[i])
                    rb += v & 0xFF00FF
                    ga += (v >> 8) & 0xFF00FF
                    row[i] = 0
            out[by, bx, 0] = table[rb & 0xFFFF]
            out[by, bx, 1] = table[ga & 0xFFFF]
            out[by, bx, 2] = table[rb >> 16]


@_compiled
def draw(kind: np.ndarray, xy: np.ndarray, ink: np.ndarray, arg: np.ndarray, group_start: np.ndarray,
         corner: np.ndarray, mask: np.ndarray, runs: np.ndarray, run_start: np.ndarray, s: int,
         table: np.ndarray, out: np.ndarray) -> None:
    """Paint each tile's primitives on a canvas of its own and box-filter it into ``out[t]``.

    Parameters
    ----------
    kind, arg : ndarray of int64, shape (k,)
        :data:`.LINE`, :data:`.DISK`, :data:`.RING` or :data:`.BOX`; the line's width.
    xy : ndarray of int64, shape (k, 4)
        The segment of a line, the box of the others (edges included).
    ink : ndarray of uint32, shape (k,)
    group_start : ndarray of int64, shape (g, n + 1)
        The primitives come in ``g`` groups painted one after the other, each ordered by tile: tile ``t``'s
        primitives of group ``j`` are ``group_start[j, t]`` to ``group_start[j, t + 1] - 1``.
    corner : ndarray of int64, shape (n, 2)
        Each tile's corner in the coordinates of ``xy``.
    mask, runs, run_start : ndarray of int64
        A disk's or a ring's mask ``m = mask[i]`` is the runs ``run_start[m]`` to ``run_start[m + 1] - 1``
        of ``runs``: a row and the first and last column of a run of set pixels (see :func:`mask_runs`).
    s : int
        The supersampling factor; ``out`` is ``(n, H, W, 3)`` uint8 zeros, the canvas ``H s x W s``.
    table : ndarray of uint8
        :func:`reduce_table` of ``s``.
    """
    height, width = out.shape[1], out.shape[2]
    canvas = np.zeros((height * s, width * s), dtype=np.uint32)
    dirty = np.zeros((height, width), dtype=np.uint8)
    block = np.arange(max(height, width) * s) // s
    for t in range(group_start.shape[1] - 1):
        for j in range(group_start.shape[0]):
            _paint(canvas, dirty, block, kind, xy, ink, arg, group_start[j, t], group_start[j, t + 1], corner[t, 0],
                   corner[t, 1], mask, runs, run_start)
        _shrink(canvas, dirty, s, table, out[t])
