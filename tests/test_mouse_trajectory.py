"""The ``trajectory`` and ``mouse_kinematics`` drawings, checked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from any2img.converters.mouse.kinematics import MouseKinematics, paa, pairwise_field
from any2img.converters.mouse.log import MouseLog
from any2img.converters.mouse.trajectory import Trajectory, log_unit

from any2img import get_converter
from any2img.errors import InputError, ParameterError
from any2img.imaging import field_to_rgb


def _line(n: int = 20, speed: float = 200.0, dt: float = 0.05, state: str = "Move", y: float = 500.0) -> MouseLog:
    t = np.arange(n) * dt
    return MouseLog.from_arrays(t, 100 + speed * t, np.full(n, y), state=[state] * n)


def _lit(img: np.ndarray, level: int = 30) -> np.ndarray:
    return img.max(axis=2) > level


def test_straight_constant_speed_line_has_one_colour():
    expected = field_to_rgb(log_unit(np.array([200.0]), 10.0, 10000.0), "turbo")[0]
    crisp = Trajectory(image_size=64, supersample=1, accel="none").convert(_line())
    colours = {tuple(c) for c in crisp[_lit(crisp, 0)].tolist()}
    assert colours == {tuple(expected.tolist())}
    # antialiased: the core of a 2-pixel line keeps that colour
    smooth = Trajectory(image_size=64, line_width=2.0).convert(_line())
    core = smooth[smooth.max(axis=2) >= expected.max() - 8]
    assert len(core) > 40 and np.abs(core.astype(int) - expected).max() <= 25  # the box filter averages the edges


def test_speed_colours_use_fixed_bounds():
    conv = Trajectory(image_size=64, supersample=1, accel="none")
    slow_short, slow_long, fast = (conv.convert(_line(n, v)) for n, v in ((10, 100.0), (40, 100.0), (20, 1000.0)))

    def colour(img):
        return {tuple(c) for c in img[_lit(img, 0)].tolist()}

    assert colour(slow_short) == colour(slow_long) != colour(fast)


def test_click_draws_a_ring_at_its_coordinates():
    log = MouseLog.from_arrays([0.0, 0.1], [50, 50], [50, 50], ["Left", "Left"], ["Pressed", "Released"])
    img = Trajectory(coords="screen", screen=(101, 101), image_size=101, click_radius=10).convert(log)
    # screen (101 px) -> image: 4 % margin each side, so x = 50 lands at 0.04*101 + 50/100 * 0.92*101 = 50.5
    ys, xs = np.nonzero(_lit(img, 60))
    weights = img.max(axis=2)[ys, xs].astype(float)
    cx, cy = np.average(xs + 0.5, weights=weights), np.average(ys + 0.5, weights=weights)
    assert abs(cx - 50.5) < 0.5 and abs(cy - 50.5) < 0.5
    radius = np.hypot(xs + 0.5 - 50.5, ys + 0.5 - 50.5)
    assert 8.5 < radius.min() and radius.max() < 11.5 and abs(np.average(radius, weights=weights) - 10) < 0.7
    assert img[50, 50].max() == 0 and (img[ys, xs] >= 0).all()
    assert np.all(img[ys, xs, 0] == img[ys, xs, 2])  # the left button's ring is white (grey at its edges)


def test_right_click_ring_is_magenta():
    log = MouseLog.from_arrays([0.0, 0.1], [50, 50], [50, 50], ["Right", "Right"], ["Pressed", "Released"])
    img = Trajectory(coords="screen", screen=(101, 101), image_size=101, click_radius=10).convert(log)
    ring = img[_lit(img, 60)].astype(int)
    assert (ring[:, 0] > 2 * ring[:, 1]).all() and (ring[:, 2] > 2 * ring[:, 1]).all()


def test_relative_mode_is_translation_invariant():
    conv = Trajectory(image_size=96)
    log = conv.example_signal(3)
    moved = MouseLog(log.t, log.x + 123, log.y + 77, log.button, log.state)
    assert np.array_equal(conv.convert(log), conv.convert(moved))
    screen = Trajectory(image_size=96, coords="screen")
    assert not np.array_equal(screen.convert(log), screen.convert(moved))


def test_screen_mode_clips_off_screen_points_to_the_border():
    log = MouseLog.from_arrays([0.0, 0.5], [-500.0, -500.0], [10.0, 90.0])
    img = Trajectory(coords="screen", screen=(100, 100), image_size=50, supersample=1).convert(log)
    cols = np.nonzero(_lit(img, 0).any(axis=0))[0]
    assert cols.tolist() == [2]  # x clipped to 0 -> the left margin (4 % of 50 px)


def test_drags_look_different_from_moves():
    curve = np.linspace(0, np.pi, 30)
    t = np.arange(30) * 0.03
    x, y = 500 + 300 * np.cos(curve), 500 + 200 * np.sin(curve)
    move = MouseLog.from_arrays(t, x, y, state=["Move"] * 30)
    drag = MouseLog.from_arrays(t, x, y, state=["Drag"] * 30)
    conv = Trajectory(image_size=96)
    a, b = conv.convert(move), conv.convert(drag)
    near_white = lambda img: int((img.min(axis=2) >= 230).sum())  # noqa: E731
    assert near_white(a) == 0 and near_white(b) > 20
    assert _lit(b).sum() > 1.5 * _lit(a).sum()  # the halo makes drags wider


def test_acceleration_widens_or_brightens_the_line():
    t = np.arange(30) * 0.05
    log = MouseLog.from_arrays(t, 100 + 400 * t**2 * 10, np.full(30, 10.0))  # steady acceleration
    wide = Trajectory(image_size=96, accel="width").convert(log)
    thin = Trajectory(image_size=96, accel="none").convert(log)
    assert _lit(wide).sum() > 1.3 * _lit(thin).sum()
    dim = Trajectory(image_size=96, accel="brightness", accel_range=(1e5, 1e7)).convert(log)
    assert dim.astype(int).sum() < 0.6 * thin.astype(int).sum()


def test_fade_dims_older_steps():
    img = Trajectory(image_size=64, fade=True, accel="none").convert(_line())
    brightness = img.astype(int).sum(axis=(0, 2))
    lit = np.nonzero(brightness)[0]
    first, last = lit[2:8], lit[-8:-2]
    assert brightness[first].mean() < 0.5 * brightness[last].mean()


def test_output_contract_and_params_round_trip():
    conv = get_converter("trajectory", image_size=[48, 80], coords="screen", screen=[1366, 768], fade=True)
    log = conv.example_signal(np.random.default_rng(0))
    img = conv.convert(log)
    assert img.shape == (48, 80, 3) and img.dtype == np.uint8 and img.any()
    assert np.array_equal(img, conv.convert(log))
    again = get_converter("trajectory", **json.loads(json.dumps(conv.get_params())))
    assert again == conv and np.array_equal(again.convert(log), img)
    assert conv.transform(log)[0].shape == (48, 80, 3)  # a short log is one window


def test_single_event_and_resting_pointer_give_a_dot():
    conv = Trajectory(image_size=32)
    one = conv.convert(MouseLog.from_arrays([0.0], [5.0], [5.0]))
    rest = conv.convert(MouseLog.from_arrays([0.0, 1.0], [5.0, 5.0], [5.0, 5.0]))
    assert np.array_equal(one, rest) and 0 < _lit(one, 10).sum() < 20
    with pytest.raises(InputError, match="the mouse log window holds no events"):
        conv.convert(MouseLog.from_arrays([], [], []))


def test_convert_takes_tables_and_arrays():
    conv = Trajectory(image_size=32)
    table = {"time": [0.0, 0.1, 0.2], "x": [0, 10, 20], "y": [0, 5, 0]}
    expected = conv.convert(MouseLog.from_arrays(table["time"], table["x"], table["y"]))
    assert np.array_equal(conv.convert(table), expected)
    assert np.array_equal(conv.convert(np.array([table["time"], table["x"], table["y"]]).T), expected)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"coords": "world"}, "'coords' must be one of 'screen', 'relative' (got 'world')."),
        ({"screen": (1920,)}, "'screen' must be a pair (width, height) of ints >= 2 (got (1920,))."),
        ({"speed_range": (0, 100)}, "'speed_range' must be a pair (low, high) of numbers with 0 < low < high "
                                    "(got (0, 100))."),
        ({"accel_range": (5, 1)}, "'accel_range' must be a pair (low, high) of numbers with 0 < low < high "
                                  "(got (5, 1))."),
        ({"accel": "size"}, "'accel' must be one of 'width', 'brightness', 'none' (got 'size')."),
        ({"line_width": 0}, "'line_width' must be a finite number > 0.0 (got 0)."),
        ({"supersample": 0}, "'supersample' must be an int in [1, 8] (got 0)."),
        ({"fade": "yes"}, "'fade' must be True or False (got 'yes')."),
        ({"image_size": 0}, "'image_size' must be an int >= 1 or a pair (height, width) of ints >= 1 (got 0)."),
    ],
)
def test_bad_trajectory_parameters(params, message):
    with pytest.raises(ParameterError) as info:  # refused at construction ...
        Trajectory(**params)
    assert str(info.value) == message
    conv = Trajectory().set_params(**params)  # ... and, set later, where used
    with pytest.raises(ParameterError) as info:
        conv.convert(_line())
    assert str(info.value) == message


def test_unknown_colour_map_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'cmap' must be 'grey' or a matplotlib colour map name"):
        Trajectory().set_params(cmap="no-such-map").check_params()
    with pytest.raises(ParameterError, match="'cmap' must be 'grey' or a matplotlib colour map name"):
        Trajectory(cmap="no-such-map")


# -- mouse_kinematics -------------------------------------------------------
def test_paa_and_pairwise_fields_by_hand():
    assert paa(np.arange(7.0), 3).round(6).tolist() == [0.5, 2.5, 5.0]  # bins [0 1] [2 3] [4 5 6]
    x = np.array([0.0, 1.0, -1.0])
    gasf = pairwise_field(x, "gasf")  # cos(phi_i + phi_j), phi = (pi/2, 0, pi)
    assert np.allclose(gasf, [[-1, 0, 0], [0, 1, -1], [0, -1, 1]])
    gadf = pairwise_field(x, "gadf")  # sin(phi_i - phi_j)
    assert np.allclose(gadf, [[0, 1, -1], [-1, 0, 0], [1, 0, 0]])
    assert np.allclose(pairwise_field(x, "recurrence"), [[1, 0, 0], [0, 1, -1], [0, -1, 1]])


def test_kinematics_image_of_a_constant_speed_line():
    img = MouseKinematics(image_size=40).convert(_line(50))
    assert img.shape == (40, 40, 3) and img.dtype == np.uint8
    u = 2 * log_unit(np.array(200.0), 10.0, 10000.0) - 1  # speed scaled to [-1, 1]
    red = np.round((np.cos(2 * np.arccos(u)) + 1) / 2 * 255)
    assert np.all(img[..., 0] == red)
    assert np.all(img[..., 1] == 0) and np.all(img[..., 2] == 0)  # no acceleration, no turning: GASF = -1
    gadf = MouseKinematics(image_size=40, field="gadf").convert(_line(50))
    assert np.all(np.abs(gadf.astype(int) - 128) <= 1)  # sin(phi_i - phi_j) = 0 everywhere


def test_kinematics_image_contract():
    conv = get_converter("mouse_kinematics", image_size=[30, 50], field="recurrence")
    log = conv.example_signal(1)
    img = conv.convert(log)
    assert img.shape == (30, 50, 3) and img.dtype == np.uint8 and np.array_equal(img, conv.convert(log))
    assert get_converter("mouse_kinematics", **json.loads(json.dumps(conv.get_params()))) == conv
    with pytest.raises(ParameterError, match=r"'field' must be one of 'gasf', 'gadf', 'recurrence' \(got 'mtf'\)"):
        MouseKinematics().set_params(field="mtf").convert(log)
    with pytest.raises(ParameterError, match=r"'field' must be one of 'gasf', 'gadf', 'recurrence' \(got 'mtf'\)"):
        MouseKinematics(field="mtf")
