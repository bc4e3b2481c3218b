"""The batched ``trajectory`` drawing: the same pictures one at a time and in batches, a box-filter shrink."""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.mouse import drawing
from any2img.converters.mouse.log import MouseLog, effective_times
from any2img.converters.mouse.trajectory import Trajectory, log_unit
from PIL import Image, ImageDraw

from any2img.imaging import field_to_rgb


def _windows() -> list[MouseLog]:
    """Synthetic logs with moves, clicks, drags and scrolls, a resting pointer, one event, and an edge click."""
    logs = [Trajectory.example_signal(seed) for seed in range(6)]
    logs.append(MouseLog.from_arrays([0.0, 1.0], [5.0, 5.0], [5.0, 5.0]))  # resting: a dot
    logs.append(MouseLog.from_arrays([0.0], [7.0], [3.0]))  # one event
    edge = MouseLog.from_arrays([0.0, 0.1, 0.1, 0.2], [0.0, 50.0, 50.0, 100.0], [0.0, 0.0, 100.0, 100.0],
                                ["Left", "NoButton", "Right", "Left"], ["Pressed", "Move", "Drag", "Released"])
    logs.append(edge)  # clicks and a drag halo at the corners of the picture, a repeated timestamp
    return logs


@pytest.mark.parametrize("params", [
    {},
    {"image_size": 64, "coords": "screen", "screen": (1366, 768)},
    {"image_size": [40, 72], "accel": "brightness", "fade": True, "click_radius": 12.0},
    {"image_size": 32, "supersample": 1, "line_width": 2.0},
    {"image_size": 48, "supersample": 5, "accel": "none", "cmap": "grey"},
    {"image_size": 16, "click_radius": 16.0},  # rings wider than the picture: no gutter, a canvas each
])
def test_a_batch_draws_the_pictures_one_window_at_a_time_draws(params, monkeypatch):
    conv = Trajectory(**params)
    logs = _windows()
    alone = [conv.convert(log) for log in logs]
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), alone))
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs[::-1]), alone[::-1]))
    monkeypatch.setattr(drawing, "_CHUNK_PIXELS", 1)  # one window per canvas
    assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), alone))
    assert conv.convert_batch([]) == []


def test_the_gutter_and_the_shrunk_box_hold_everything_drawn(monkeypatch):
    # Far wider gutters and shrunk boxes than needed change nothing: no drawing reaches past them.
    reach = drawing._reach
    for params in ({"image_size": 64}, {"image_size": 40, "click_radius": 15.0, "line_width": 3.0}):
        conv = Trajectory(**params)
        logs = _windows()
        expected = conv.convert_batch(logs)
        with monkeypatch.context() as m:
            m.setattr(drawing, "_reach", lambda p: reach(p) + 500.0)
            assert all(np.array_equal(a, b) for a, b in zip(conv.convert_batch(logs), expected))


def test_the_shrink_is_a_box_filter():
    # One colour, one width: every pixel is k/9 of the line's colour for one k in 0..9 (a Lanczos shrink
    # overshoots and rings instead).
    t = np.arange(30) * 0.05
    log = MouseLog.from_arrays(t, 100 + 300 * t, 200 + 170 * t)
    colour = field_to_rgb(log_unit(np.hypot(300.0, 170.0)[None], 10.0, 10000.0), "turbo")[0].astype(float)
    img = Trajectory(image_size=48, accel="none", line_width=1.5).convert(log).reshape(-1, 3).astype(float)
    k = np.rint(img.sum(axis=1) / colour.sum() * 9)
    assert set(k.tolist()) >= {0.0, 9.0} and len(set(k.tolist())) > 5
    assert np.abs(img - k[:, None] / 9 * colour).max() <= 1.0


def test_ink_is_pillows_ink():
    rgb = np.random.default_rng(0).integers(0, 256, size=(50, 3)).astype(np.uint8)
    core = ImageDraw.Draw(Image.new("RGB", (1, 1))).draw
    assert drawing.ink(rgb).tolist() == [core.draw_ink(tuple(c)) for c in rgb.tolist()]


def test_batched_effective_times_are_each_windows_own():
    rng = np.random.default_rng(1)
    windows = [np.sort(np.round(rng.uniform(0, 2, size=n), 1)) for n in (1, 5, 9, 3, 12)]
    windows.append(np.arange(6) * 0.1)  # no repeated timestamp: kept as they are
    windows.append(np.array([1.0, 1.0, 1.0]))  # one run at the start
    sizes = np.array([len(w) for w in windows])
    starts = np.cumsum(sizes) - sizes
    got = drawing._effective_times(np.concatenate(windows), starts, sizes)
    assert np.array_equal(got, np.concatenate([effective_times(w) for w in windows]))
