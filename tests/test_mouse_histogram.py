"""The ``mouse_histogram`` picture, checked by hand on small logs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from any2img.converters.mouse.histogram import MouseHistogram, auto_bins, step_cells
from any2img.converters.mouse.log import MouseLog

from any2img import get_converter
from any2img.errors import ParameterError


def _line(n: int = 5, step: float = 10.0, dt: float = 0.1) -> MouseLog:
    """``n`` events on a straight line: every step ``step`` px long and ``dt`` s apart (100 px/s by default)."""
    t = np.arange(n) * dt
    return MouseLog.from_arrays(t, step * np.arange(n), np.zeros(n))


def _block(img: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros(img.shape[:2], dtype=bool)
    mask[rows, cols] = True
    return mask


def test_straight_line_at_one_speed_fills_one_cell_per_channel():
    # 4 steps of 10 px in 0.1 s: speed 100 px/s is 1/3 of the way from 10 to 10,000 on a log scale,
    # so column floor(4/3) = 1 of 4; no turn and no acceleration are the middle (row 4 - 1 - 2 = 1);
    # 0.1 s is 1/3 from 0.01 to 10 s (column 1), 10 px is 1/3 from 1 to 1,000 px (row 4 - 1 - 1 = 2).
    img = MouseHistogram(image_size=8, bins=4).convert(_line())
    moving = _block(img, slice(2, 4), slice(2, 4))  # cell (1, 1): pixels 2-3 both ways
    timing = _block(img, slice(4, 6), slice(2, 4))  # cell (2, 1)
    assert (img[..., 0][moving] == 255).all() and (img[..., 0][~moving] == 0).all()
    assert (img[..., 1][moving] == 255).all() and (img[..., 1][~moving] == 0).all()
    assert (img[..., 2][timing] == 255).all() and (img[..., 2][~timing] == 0).all()


def test_brightness_is_log_count_over_log_steps():
    # 3 steps of 10 px then 1 of 100 px, all in 0.1 s: the blue histogram holds 3 steps in one cell and 1 in another
    log = MouseLog.from_arrays([0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 10.0, 20.0, 30.0, 130.0], np.zeros(5))
    img = MouseHistogram(image_size=4, bins=4).convert(log)
    blue = img[..., 2]
    assert sorted(blue[blue > 0].tolist()) == [round(255 * np.log(2) / np.log(5)), round(255 * np.log(4) / np.log(5))]


def test_steps_that_do_not_move_count_only_in_the_timing_histogram():
    log = MouseLog.from_arrays([0.0, 0.1, 0.2, 0.3], [0.0, 0.0, 0.0, 10.0], np.zeros(4))
    bins, cells, counts = step_cells(log, MouseHistogram(bins=4)._p())
    assert bins == 4 and counts.shape == (3, 16) and counts.sum(axis=1).tolist() == [1, 1, 3]
    assert (cells[:2, :2] == -1).all()
    # a step of 0 px sits at the bottom row of the blue histogram
    assert cells[2, 0] // 4 == 3 and cells[2, 1] // 4 == 3


def test_same_speed_means_same_column_whatever_the_window():
    short = MouseHistogram(image_size=16, bins=8).convert(_line(5))
    long = MouseHistogram(image_size=16, bins=8).convert(_line(60))
    assert np.array_equal(short > 0, long > 0)
    fast = MouseHistogram(image_size=16, bins=8).convert(_line(5, step=100.0))
    assert not np.array_equal(short[..., 0] > 0, fast[..., 0] > 0)


def test_auto_bins_follow_the_number_of_steps():
    # sqrt(steps / 4) made odd (2 floor(x / 2) + 1), within [5, 31]
    assert [auto_bins(n) for n in (0, 64, 299, 400, 1600, 1599, 10**6)] == [5, 5, 9, 11, 21, 19, 31]
    conv = MouseHistogram(image_size=36)
    assert step_cells(_line(301), conv._p())[0] == 9


def test_auto_bins_give_one_grid_to_windows_of_events():
    # windows of 300 events: the short last window of a recording gets a full window's 9 x 9 grid too
    assert step_cells(_line(11), MouseHistogram()._p())[0] == 9
    assert step_cells(_line(11), MouseHistogram(size=1601)._p())[0] == 21  # sqrt(1600 / 4) = 20 -> 21
    # windows of seconds (or actions) hold varying numbers of steps: each window's own
    by_time = MouseHistogram(window="seconds", size=5.0)._p()
    assert step_cells(_line(11), by_time)[0] == 5 and step_cells(_line(401), by_time)[0] == 11
    # so a short window and a full one of one conversion are drawn on one grid: the same step, the same pixel
    conv = MouseHistogram(image_size=36)
    short, full = conv.convert(_line(11, step=15.0, dt=0.07)), conv.convert(_line(300, step=15.0, dt=0.07))  # off edges
    assert np.array_equal(short > 0, full > 0)


@pytest.mark.parametrize("bad", [0, 257, "many", 2.5, True])
def test_bad_bins_are_refused_with_the_rule(bad):
    with pytest.raises(ParameterError, match="'bins' must be 'auto' or an integer from 1 to 256"):
        MouseHistogram(bins=bad)


def test_parameters_round_trip_through_json():
    conv = get_converter("mouse_histogram", image_size=[30, 50], bins=12, dt_range=(0.02, 5.0))
    assert get_converter("mouse_histogram", **json.loads(json.dumps(conv.get_params()))) == conv
    assert conv.convert(_line(40)).shape == (30, 50, 3)


def test_relevance_of_one_cell_goes_to_the_steps_counted_there():
    conv = MouseHistogram(image_size=8, bins=4)
    log = MouseLog.from_arrays([0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 10.0, 20.0, 30.0, 130.0], np.zeros(5))
    # blue cell of the three 10 px steps: row 2 (10 px), column 1 (0.1 s) -> pixels 4-5, 2-3
    a = np.zeros((8, 8))
    a[4:6, 2:4] = 1.0
    rel = conv.relevance(a, log)
    # red and green are empty there (their cells are rows 0-1), so the 4 pixels' attribution is shared
    # by the three 10 px steps (4/3 each), half to each of a step's events; the 100 px step gets none
    assert np.allclose(rel.values, [2 / 3, 4 / 3, 4 / 3, 2 / 3, 0.0])
    assert rel.on_path == 1.0


def test_relevance_keeps_the_attribution_on_filled_cells():
    conv = MouseHistogram(image_size=32)
    log = conv.example_signal(3)
    a = np.random.default_rng(0).random((32, 32))
    img = conv.convert(log)
    rel = conv.relevance(a, log)
    filled = img.max(axis=2) > 0
    assert np.isclose(rel.values.sum(), a[filled].sum())
    assert np.isclose(rel.on_path, a[filled].sum() / a.sum())
    assert len(rel.values) == len(log)


def test_training_augments_histogram_pictures_by_default_but_not_paths():
    from any2img.registry import get_converter_class

    assert get_converter_class("mouse_histogram").augments_by_default
    assert not get_converter_class("trajectory").augments_by_default
    assert not get_converter_class("mouse_kinematics").augments_by_default


def test_signal_augmentation_moves_the_histograms_but_not_a_pure_rotation():
    conv = MouseHistogram(image_size=36, bins=9)  # odd: no turn sits inside the middle row, not on an edge
    log = conv.example_signal(1)
    plain = conv.convert(log)
    jittered = conv.convert(conv.augment_signal(log, np.random.default_rng(0)))
    assert jittered.shape == plain.shape and not np.array_equal(jittered, plain)
    # speeds, turns, durations and lengths do not change when the path is only turned about its centre
    turned = conv.augment_signal(log, np.random.default_rng(0), scale=0.0, time_jitter=0.0, rotate_deg=30.0)
    assert not np.allclose(turned.x, log.x)
    assert np.array_equal(conv.convert(turned), plain)
