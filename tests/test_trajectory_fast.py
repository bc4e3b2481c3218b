"""The compiled ``trajectory`` painter (converters/mouse/raster.py) against hand-computed pixels and Pillow."""

from __future__ import annotations

import functools
import sys

import numpy as np
import pytest
from any2img.converters import mouse
from any2img.converters.mouse import drawing
from any2img.converters.mouse.base import synthetic_log
from any2img.converters.mouse.log import MouseLog
from any2img.converters.mouse.trajectory import Trajectory
from PIL import Image, ImageDraw

numba = pytest.importorskip("numba")
raster = pytest.importorskip("any2img.converters.mouse.raster")

#: How far the compiled painter may be from Pillow: mean absolute difference (levels of 255) and share of
#: pixels off by more than 8 levels in any channel. (On these logs and on 200 Balabit windows it is exact.)
MEAN_ABS_DIFF, SHARE_OFF_BY_8 = 0.05, 1e-4

PARAMS = [
    {},
    {"image_size": 128},
    {"image_size": 64, "coords": "screen", "screen": (1366, 768)},
    {"image_size": [40, 72], "accel": "brightness", "fade": True, "click_radius": 12.0},
    {"image_size": 32, "supersample": 1, "line_width": 2.0},
    {"image_size": 48, "supersample": 5, "accel": "none", "cmap": "grey"},
    {"image_size": 16, "click_radius": 16.0},  # rings wider than the picture
    {"image_size": 64, "line_width": 0.3},  # lines one canvas pixel wide
]


def _logs() -> list[MouseLog]:
    """Real-like synthetic logs (moves, clicks, a drag, scrolls), a resting pointer, one event, an edge click."""
    logs = [Trajectory.example_signal(seed) for seed in range(4)]
    logs += [synthetic_log(seed, n_strokes=8) for seed in (10, 11)]
    logs.append(MouseLog.from_arrays([0.0, 1.0], [5.0, 5.0], [5.0, 5.0]))
    logs.append(MouseLog.from_arrays([0.0], [7.0], [3.0]))
    logs.append(MouseLog.from_arrays([0.0, 0.1, 0.1, 0.2], [0.0, 50.0, 50.0, 100.0], [0.0, 0.0, 100.0, 100.0],
                                     ["Left", "NoButton", "Right", "Left"], ["Pressed", "Move", "Drag", "Released"]))
    return logs


def _paint(kinds: list[int], xy: list[list[int]], args: list[int], size: tuple[int, int], s: int = 1) -> np.ndarray:
    """The compiled painter's picture (red channel) of primitives in white on one ``size`` (w, h) canvas."""
    kind = np.array(kinds, dtype=np.int64)
    boxes = np.array(xy, dtype=np.int64).reshape(-1, 4)
    arg = np.array(args, dtype=np.int64)
    stamped = np.flatnonzero((kind == drawing.DISK) | (kind == drawing.RING))
    mask = np.zeros(len(kind), dtype=np.int64)
    runs = [raster.mask_runs(int(boxes[i, 2] - boxes[i, 0]), int(boxes[i, 3] - boxes[i, 1]),
                             int(arg[i]) if kind[i] == drawing.RING else 0) for i in stamped]
    mask[stamped] = np.arange(len(stamped))
    run_start = np.concatenate([[0], np.cumsum([len(r) for r in runs])]).astype(np.int64)
    out = np.zeros((1, size[1] // s, size[0] // s, 3), dtype=np.uint8)
    raster.draw(kind, boxes, np.full(len(kind), 0xFFFFFFFF, dtype=np.uint32), arg,
                np.array([[0, len(kind)]], dtype=np.int64), np.zeros((1, 2), dtype=np.int64), mask,
                np.concatenate(runs) if runs else np.zeros((0, 3), np.int64), run_start, s, raster.reduce_table(s), out)
    return out[0, :, :, 0]


def _pillow(calls: list[tuple[str, list[int], tuple[int, ...]]], size: tuple[int, int]) -> np.ndarray:
    image = Image.new("L", size, 0)
    core = ImageDraw.Draw(image).draw
    for method, box, args in calls:
        getattr(core, method)(box, 255, *args)
    return np.asarray(image)


def test_a_horizontal_segment_covers_exactly_its_pixels():
    # From (2, 5) to (9, 5), 3 wide: columns 2..9 (no caps), rows 4..6; 4 wide: rows 4..7 (the odd pixel below).
    for width, rows in ((3, (4, 7)), (4, (4, 8))):
        expected = np.zeros((12, 16), dtype=np.uint8)
        expected[rows[0]:rows[1], 2:10] = 255
        got = _paint([drawing.LINE], [[2, 5, 9, 5]], [width], (16, 12))
        assert np.array_equal(got, expected)
        assert np.array_equal(_pillow([("draw_lines", [2, 5, 9, 5], (width,))], (16, 12)), expected)


def test_a_thin_line_is_bresenhams_with_both_ends():
    expected = np.zeros((4, 8), dtype=np.uint8)
    for x, y in ((0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (5, 2)):
        expected[y, x] = 255
    assert np.array_equal(_paint([drawing.LINE], [[0, 0, 5, 2]], [1], (8, 4)), expected)
    assert np.array_equal(_pillow([("draw_lines", [0, 0, 5, 2], (1,))], (8, 4)), expected)


def test_boxes_disks_and_rings_cover_pillows_pixels():
    box = _paint([drawing.BOX], [[1, 2, 4, 3]], [0], (8, 6))
    expected = np.zeros((6, 8), dtype=np.uint8)
    expected[2:4, 1:5] = 255  # edges included
    assert np.array_equal(box, expected)
    assert raster.ellipse_mask(2, 2, 0).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    for a, b, w in ((4, 4, 0), (7, 6, 0), (24, 24, 3), (13, 9, 2)):
        shape = drawing.RING if w else drawing.DISK
        got = _paint([shape], [[3, 2, 3 + a, 2 + b]], [w], (40, 36))
        ref = _pillow([("draw_ellipse", [3, 2, 3 + a, 2 + b], (0, w) if w else (1,))], (40, 36))
        assert np.array_equal(got, ref)


def test_later_primitives_overwrite_earlier_ones_and_the_canvas_edge_cuts():
    # A disk over a line's end, then a line leaving the canvas: painted in order, clipped, nothing wraps.
    calls = [("draw_lines", [-5, 4, 6, 4], (3,)), ("draw_ellipse", [4, 1, 10, 7], (1,)),
             ("draw_lines", [8, 8, 30, -4], (5,))]
    got = _paint([drawing.LINE, drawing.DISK, drawing.LINE], [c[1] for c in calls], [3, 0, 5], (16, 12))
    assert np.array_equal(got, _pillow(calls, (16, 12)))


def test_random_wide_lines_match_pillow():
    rng = np.random.default_rng(0)
    differing = total = 0
    for _ in range(300):
        width = int(rng.integers(1, 12))
        x0, y0 = (int(v) for v in rng.integers(4, 36, size=2))
        length, angle = rng.uniform(0, 25), rng.uniform(0, 2 * np.pi)
        seg = [x0, y0, int(round(x0 + length * np.cos(angle))), int(round(y0 + length * np.sin(angle)))]
        got = _paint([drawing.LINE], [seg], [width], (40, 40))
        ref = _pillow([("draw_lines", seg, (width,))], (40, 40))
        differing += int((got != ref).sum())
        total += int((ref > 0).sum())
    assert differing <= 1e-3 * total


@pytest.mark.parametrize("s", [2, 3, 4, 5])
def test_the_shrink_is_pillows_reduce(s):
    rng = np.random.default_rng(s)
    canvas = rng.integers(0, 256, size=(12 * s, 10 * s, 3)).astype(np.uint8)
    canvas[rng.random(canvas.shape[:2]) < 0.3] = 0
    expected = np.asarray(Image.fromarray(canvas).reduce(s))
    sums = canvas.reshape(12, s, 10, s, 3).sum(axis=(1, 3))
    assert np.array_equal(raster.reduce_table(s)[sums], expected)


@pytest.mark.parametrize("params", PARAMS)
def test_the_compiled_painter_draws_pillows_pictures(params):
    conv = Trajectory(**params)
    logs = _logs()
    fast = drawing.draw_trajectories(logs, conv._p(), engine="numba")
    pillow = [drawing.draw_trajectories([log], conv._p(), engine="pillow")[0] for log in logs]
    d = np.stack([np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(fast, pillow)])
    assert d.mean() <= MEAN_ABS_DIFF
    assert (d.max(axis=-1) > 8).mean() <= SHARE_OFF_BY_8
    assert all(img.max() > 0 for img in fast[:6])  # (a resting dot can be black: speed 0 in "grey")


@pytest.mark.parametrize("params", PARAMS[:4])
def test_convert_and_convert_batch_agree_with_the_compiled_painter(params, monkeypatch):
    assert drawing.rasteriser() is not None
    conv = Trajectory(**params)
    logs = _logs()
    alone = [conv.convert(log) for log in logs]
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), alone))
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs[::-1]), alone[::-1]))
    monkeypatch.setattr(drawing, "_FAST_CHUNK", 2)
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), alone))


def test_without_numba_pillow_paints(monkeypatch):
    conv = Trajectory(image_size=48)
    logs = _logs()
    expected = drawing.draw_trajectories(logs, conv._p(), engine="pillow")
    monkeypatch.setitem(sys.modules, "numba", None)  # "import numba" raises ImportError
    monkeypatch.delitem(sys.modules, "any2img.converters.mouse.raster")
    monkeypatch.delattr(mouse, "raster", raising=False)
    monkeypatch.setattr(drawing, "_loaded_raster", functools.cache(drawing._loaded_raster.__wrapped__))  # ask anew
    assert drawing.rasteriser() is None
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), expected))
    assert np.array_equal(conv.convert(logs[0]), expected[0])
    with pytest.raises(ImportError):
        drawing.draw_trajectories(logs, conv._p(), engine="numba")
    with pytest.raises(ValueError, match="engine"):
        drawing.draw_trajectories(logs, conv._p(), engine="cairo")


def test_without_a_writable_cache_folder_it_compiles_anyway(monkeypatch):
    real, options = numba.njit, []

    def njit(**kw):
        options.append(kw)
        if kw.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return real(**kw)

    monkeypatch.setattr(raster.numba, "njit", njit)
    twice = raster._jit(lambda v: 2 * v)
    assert twice(21) == 42
    assert options == [{"cache": True, "nogil": True}, {"nogil": True}]


def test_batched_canvas_points_are_each_windows_own():
    logs = _logs()
    sizes = np.array([len(log) for log in logs])
    starts = np.cumsum(sizes) - sizes
    x, y = np.concatenate([log.x for log in logs]), np.concatenate([log.y for log in logs])
    for params in ({}, {"coords": "screen", "screen": (1366, 768)}):
        p = Trajectory(**params)._p()
        px, py = drawing._batch_points(x, y, starts, sizes, p, 192, 150)
        for log, a, n in zip(logs, starts.tolist(), sizes.tolist()):
            ex, ey = drawing.canvas_points(log, p, 192, 150)
            assert np.array_equal(px[a : a + n], ex) and np.array_equal(py[a : a + n], ey)


def test_mask_keys_are_numpys_unique():
    rng = np.random.default_rng(3)
    a, b, w = rng.integers(0, 9, 200), rng.integers(0, 9, 200), rng.integers(0, 3, 200)
    keys, index = drawing._mask_keys(a, b, w)
    rows, inverse = np.unique(np.stack([a, b, w], axis=1), axis=0, return_inverse=True)
    assert sorted(keys, key=lambda k: (k[0], k[1], k[2])) == [tuple(r) for r in rows.tolist()]
    assert [keys[i] for i in index.tolist()] == [tuple(r) for r in np.stack([a, b, w], axis=1).tolist()]
    assert inverse.reshape(-1).shape == index.shape
