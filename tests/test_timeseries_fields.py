"""Time-series images: hand-computed fields, agreement with pyts, resampling, edge cases, layouts."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from any2img.converters.timeseries.base import as_series, tile_layout
from any2img.converters.timeseries.gaf import GADF, GASF, gramian_fields
from any2img.converters.timeseries.gaf_mtf import GAFMTF
from any2img.converters.timeseries.lineplot import PALETTE, LinePlot
from any2img.converters.timeseries.mtf import MTF, bin_series, markov_transition_fields
from any2img.converters.timeseries.recurrence import Recurrence, recurrence_fields
from any2img.converters.timeseries.resample import resample

from any2img import get_converter
from any2img.errors import InputError, ParameterError
from any2img.imaging import field_to_rgb

TS_NAMES = ["gasf", "gadf", "mtf", "recurrence", "lineplot", "gaf_mtf"]

# -- pyts as the reference ------------------------------------------------------
# Importing pyts.image compiles every numba kernel eagerly (over 30 s of CPU), so the reference
# results are computed once, in a subprocess with numba's JIT switched off (the same Python code,
# interpreted: fast enough on these small inputs), and compared here.
_INPUTS = {
    "walk": np.random.default_rng(1).standard_normal((4, 60)).cumsum(axis=1),
    "ties": np.r_[np.full(30, 0.25), np.random.default_rng(2).standard_normal(18)][None, :]
    + np.zeros((2, 1)) + np.r_[[0.0], [1.0]][:, None] * np.random.default_rng(3).standard_normal(48),
    "noise": np.random.default_rng(4).standard_normal((3, 40)),
    "in_unit": np.array([[-1.0, 0.0, 0.5]]),
    "flat": np.full((1, 20), 4.2),
}
_CASES: dict[str, tuple[str, dict, str]] = {
    **{f"gaf-{m}-{n}": ("GramianAngularField", {"image_size": n, "method": m}, "walk")
       for m in ("summation", "difference") for n in (60, 20)},
    "gaf-none": ("GramianAngularField", {"sample_range": None}, "in_unit"),
    "gaf-flat": ("GramianAngularField", {}, "flat"),
    **{f"mtf-{s}-{b}": ("MarkovTransitionField", {"n_bins": b, "strategy": s}, "ties")
       for s in ("quantile", "uniform", "normal") for b in (2, 5)},
    **{f"mtf-agg-{b}": ("MarkovTransitionField", {"n_bins": b, "strategy": "uniform", "image_size": 12}, "ties")
       for b in (2, 5)},
    **{f"rp-{d}-{t}-{th}": ("RecurrencePlot", {"dimension": d, "time_delay": t, "threshold": th, "percentage": 20},
                           "noise")
       for d, t in ((1, 1), (3, 2)) for th in (None, "point", "distance", 0.7)},
    "paa-12": ("PiecewiseAggregateApproximation", {"window_size": None, "output_size": 12}, "walk"),
    **{f"kbins-{s}": ("KBinsDiscretizer", {"n_bins": 4, "strategy": s}, "noise")
       for s in ("quantile", "uniform", "normal")},
}
_PYTS_SCRIPT = """
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import pyts.approximation, pyts.image, pyts.preprocessing
modules = (pyts.image, pyts.preprocessing, pyts.approximation)
inputs = dict(np.load(sys.argv[1]))
out = {}
for key, (name, params, data) in json.loads(open(sys.argv[2]).read()).items():
    cls = next(getattr(m, name) for m in modules if hasattr(m, name))
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    out[key] = cls(**params).transform(inputs[data])
np.savez(sys.argv[3], **out)
"""


@pytest.fixture(scope="module")
def pyts_ref(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    if importlib.util.find_spec("pyts") is None:
        pytest.skip("pyts is not installed (pip install 'any2img[timeseries]')")
    folder = tmp_path_factory.mktemp("pyts")
    np.savez(folder / "in.npz", **_INPUTS)
    (folder / "cases.json").write_text(json.dumps(_CASES))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", _PYTS_SCRIPT, str(folder / "in.npz"), str(folder / "cases.json"),
                           str(folder / "out.npz")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(np.load(folder / "out.npz"))


def _gaf_by_hand(x, method, low=-1.0, high=1.0):
    """cos(phi_i + phi_j) / sin(phi_i - phi_j) one pixel at a time, from the definition."""
    lo, hi = min(x), max(x)
    scaled = [low + (v - lo) * (high - low) / (hi - lo) for v in x]
    phi = [math.acos(v) for v in scaled]
    if method == "summation":
        return np.array([[math.cos(a + b) for b in phi] for a in phi])
    return np.array([[math.sin(a - b) for b in phi] for a in phi])


# -- Gramian angular fields -------------------------------------------------
def test_gasf_gadf_of_three_points_by_hand():
    # [0, 1, 2] rescales to [-1, 0, 1]: angles pi, pi/2, 0
    x = np.array([[0.0, 1.0, 2.0]])
    gasf = gramian_fields(x, (3, 3), "summation")[0]
    gadf = gramian_fields(x, (3, 3), "difference")[0]
    np.testing.assert_allclose(gasf, [[1, 0, -1], [0, -1, 0], [-1, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(gadf, [[0, 1, 0], [-1, 0, 1], [0, -1, 0]], atol=1e-12)


@pytest.mark.parametrize("method", ["summation", "difference"])
@pytest.mark.parametrize("sample_range", [(-1.0, 1.0), (0.0, 1.0), (-0.5, 0.8)])
def test_gaf_matches_the_formula_pixel_by_pixel(method, sample_range):
    x = [1.0, 3.0, 2.0, 5.0, -1.0]
    got = gramian_fields(np.array([x]), (5, 5), method, sample_range)[0]
    np.testing.assert_allclose(got, _gaf_by_hand(x, method, *sample_range), atol=1e-12)


def test_gaf_images_are_the_fields_on_fixed_bounds():
    x = np.array([0.0, 1.0, 2.0])
    gasf = GASF(image_size=3).convert(x)
    gadf = GADF(image_size=3).convert(x)
    # [-1, 1] -> [0, 255]: 1 white, 0 mid grey (128), -1 black; grey cmap puts it in R, G and B
    np.testing.assert_array_equal(gasf[..., 0], [[255, 128, 0], [128, 0, 128], [0, 128, 255]])
    np.testing.assert_array_equal(gadf[..., 0], [[128, 255, 128], [0, 128, 255], [128, 0, 128]])
    assert (gasf == gasf[..., :1]).all()


@pytest.mark.parametrize("method", ["summation", "difference"])
@pytest.mark.parametrize("size", [60, 20])  # equal length, and a divisor (pyts' PAA)
def test_gaf_agrees_with_pyts(pyts_ref, method, size):
    got = gramian_fields(_INPUTS["walk"], (size, size), method)
    np.testing.assert_allclose(got, pyts_ref[f"gaf-{method}-{size}"], atol=1e-7)


def test_gaf_with_sample_range_none_takes_values_as_they_are(pyts_ref):
    got = gramian_fields(_INPUTS["in_unit"], (3, 3), "summation", None)
    np.testing.assert_allclose(got, pyts_ref["gaf-none"], atol=1e-12)
    with pytest.raises(InputError, match=r"with sample_range=None every value must lie in \[-1, 1\]"):
        GASF(sample_range=None, image_size=3).convert([0.0, 2.0, 1.0])


def test_gaf_of_a_short_series_uses_the_interpolated_series():
    x = np.array([0.0, 1.0, 2.0])
    stretched = [0.0, 0.5, 1.0, 1.5, 2.0]
    np.testing.assert_allclose(gramian_fields(x[None], (5, 5))[0], _gaf_by_hand(stretched, "summation"), atol=1e-12)
    assert GASF(image_size=5).convert(x).shape == (5, 5, 3)


def test_gaf_non_square_rows_and_columns_resampled_separately():
    x = np.array([0.0, 1.0, 2.0])
    got = gramian_fields(x[None], (3, 5), "summation")[0]
    rows, cols = np.arccos([-1.0, 0.0, 1.0]), np.arccos([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(got, np.cos(rows[:, None] + cols[None, :]), atol=1e-12)
    assert GADF(image_size=(3, 5)).convert(x).shape == (3, 5, 3)


def test_gaf_of_a_constant_series_is_defined(pyts_ref):
    flat = np.full(20, 4.2)
    assert (GASF(image_size=8).convert(flat) == 255).all()  # angle pi everywhere: cos(2 pi) = 1
    assert (GADF(image_size=8).convert(flat) == 128).all()  # sin(0) = 0 -> mid grey
    assert (GASF(image_size=32).convert(flat) == 255).all()  # stretched too
    np.testing.assert_allclose(gramian_fields(flat[None], (20, 20)), pyts_ref["gaf-flat"])


# -- resampling -------------------------------------------------------------
def test_resample_stretches_linearly_and_keeps_the_ends():
    np.testing.assert_allclose(resample(np.array([0.0, 1.0, 2.0]), 5), [0, 0.5, 1, 1.5, 2])
    x = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(resample(x, 7), np.interp(np.linspace(0, 3, 7), np.arange(4), x))


def test_resample_shrinks_by_area_averaging():
    np.testing.assert_allclose(resample(np.arange(6.0), 3), [0.5, 2.5, 4.5])  # PAA
    # 3 -> 2: cells [0, 1.5) and [1.5, 3): (0 + 3/2) / 1.5 = 1, (3/2 + 6) / 1.5 = 5
    np.testing.assert_allclose(resample(np.array([0.0, 3.0, 6.0]), 2), [1.0, 5.0])
    # by hand, 4 -> 3: (1 + 2/3*... ) e.g. first cell [0, 4/3): (1*1 + 2*(1/3)) / (4/3) = 1.25
    np.testing.assert_allclose(resample(np.array([1.0, 2.0, 4.0, 8.0]), 3), [1.25, 3.0, 7.0])


def test_resample_keeps_the_mean_and_works_on_batches(rng):
    X = rng.standard_normal((3, 2, 101))
    out = resample(X, 17)
    assert out.shape == (3, 2, 17)
    np.testing.assert_allclose(out.mean(axis=-1), X.mean(axis=-1), atol=1e-12)
    np.testing.assert_allclose(out[1, 0], resample(X[1, 0], 17))


def test_resample_matches_pyts_paa_on_divisors(pyts_ref):
    np.testing.assert_allclose(resample(_INPUTS["walk"], 12), pyts_ref["paa-12"], atol=1e-12)


# -- Markov transition field ----------------------------------------------
def test_mtf_by_hand():
    # states (2 uniform bins) 0 0 1 1: from 0, stay or go to 1 half the time each; 1 stays in 1
    field = markov_transition_fields(np.array([[0.0, 0.0, 1.0, 1.0]]), (4, 4), n_bins=2, strategy="uniform")[0]
    np.testing.assert_allclose(field, [[.5, .5, .5, .5], [.5, .5, .5, .5], [0, 0, 1, 1], [0, 0, 1, 1]])


@pytest.mark.parametrize("strategy", ["quantile", "uniform", "normal"])
@pytest.mark.parametrize("n_bins", [2, 5])
def test_mtf_agrees_with_pyts(pyts_ref, strategy, n_bins):
    X = _INPUTS["ties"]  # the first series has 30 equal values: equal quantiles are merged as pyts does
    got = markov_transition_fields(X, (48, 48), n_bins, strategy)
    np.testing.assert_allclose(got, pyts_ref[f"mtf-{strategy}-{n_bins}"], atol=1e-12)
    # smaller image, a divisor of the length: pyts' aggregated MTF (block means)
    got = markov_transition_fields(X, (12, 12), n_bins, "uniform")
    np.testing.assert_allclose(got, pyts_ref[f"mtf-agg-{n_bins}"], atol=1e-12)


@pytest.mark.parametrize("strategy", ["quantile", "uniform", "normal"])
def test_mtf_bins_like_pyts_kbins(pyts_ref, strategy):
    np.testing.assert_array_equal(bin_series(_INPUTS["noise"], 4, strategy), pyts_ref[f"kbins-{strategy}"])


def test_mtf_of_a_constant_series_is_white():
    assert (MTF(image_size=8).convert(np.full(30, -2.0)) == 255).all()


def test_mtf_stretched_is_an_interpolation_of_the_full_field():
    x = np.array([[0.0, 1.0, 0.0, 1.0, 1.0]])
    full = markov_transition_fields(x, (5, 5), 2, "uniform")[0]
    big = markov_transition_fields(x, (9, 9), 2, "uniform")[0]
    np.testing.assert_allclose(big[::2, ::2], full)
    np.testing.assert_allclose(big[1, 0], (full[0, 0] + full[1, 0]) / 2)


# -- recurrence plots ---------------------------------------------------------
def test_recurrence_by_hand():
    x = np.array([[0.0, 1.0, 3.0]])
    np.testing.assert_allclose(recurrence_fields(x, (3, 3))[0], [[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    np.testing.assert_allclose(recurrence_fields(x, (3, 3), threshold=1.5)[0], [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    # dimension 2: trajectories (0, 1) and (1, 3): distance sqrt(1 + 4)
    np.testing.assert_allclose(recurrence_fields(x, (2, 2), dimension=2)[0], [[0, 5**0.5], [5**0.5, 0]])
    # unthresholded images are scaled by the largest distance
    np.testing.assert_array_equal(Recurrence(image_size=3).convert(x[0])[..., 0], [[0, 85, 255], [85, 0, 170],
                                                                                   [255, 170, 0]])


@pytest.mark.parametrize("threshold", [None, "point", "distance", 0.7])
@pytest.mark.parametrize(("dimension", "time_delay"), [(1, 1), (3, 2)])
def test_recurrence_agrees_with_pyts(pyts_ref, threshold, dimension, time_delay):
    n = 40 - (dimension - 1) * time_delay  # image_size = number of trajectories: nothing resampled
    got = recurrence_fields(_INPUTS["noise"], (n, n), dimension, time_delay, threshold, 20)
    np.testing.assert_allclose(got, pyts_ref[f"rp-{dimension}-{time_delay}-{threshold}"], atol=1e-12)


def test_recurrence_thresholded_images_are_binary_and_constant_series_defined():
    image = Recurrence(image_size=32, threshold="point", percentage=25).convert(np.sin(np.linspace(0, 9, 200)))
    assert set(np.unique(image)) == {0, 255}
    assert abs((image[..., 0] == 255).mean() - 0.25) < 0.05
    assert (Recurrence(image_size=8).convert(np.ones(10)) == 0).all()  # all distances 0: black, no 0/0
    assert (Recurrence(image_size=8, threshold="distance").convert(np.ones(10)) == 0).all()


# -- checks on the series -------------------------------------------------
@pytest.mark.parametrize("name", TS_NAMES)
def test_nan_raises_naming_where_unless_interpolated(name):
    x = np.sin(np.linspace(0, 6, 40))
    holey = x.copy()
    holey[[5, 6, 30]] = np.nan
    conv = get_converter(name, image_size=16)
    with pytest.raises(InputError) as info:
        conv.convert(holey)
    assert str(info.value) == (
        "the series holds 3 missing (NaN) value(s), the first at channel 0, timestamp 5; "
        "pass nan_policy='interpolate' to fill them by linear interpolation.")
    filled = holey.copy()
    filled[5], filled[6], filled[30] = x[4] + (x[7] - x[4]) / 3, x[4] + 2 * (x[7] - x[4]) / 3, (x[29] + x[31]) / 2
    conv.set_params(nan_policy="interpolate")
    np.testing.assert_array_equal(conv.convert(holey), conv.convert(filled))


def test_interpolation_fills_the_ends_and_rejects_an_empty_channel():
    np.testing.assert_allclose(as_series([np.nan, 1.0, np.nan, 3.0, np.nan], "interpolate"), [[1, 1, 2, 3, 3]])
    with pytest.raises(InputError, match=r"^channel 1 of the series holds only missing \(NaN\) values"):
        as_series([[1.0, 2.0], [np.nan, np.nan]], "interpolate")


@pytest.mark.parametrize("name", TS_NAMES)
@pytest.mark.parametrize(("signal", "message"), [
    ([1.0], "a time series needs at least 2 timestamps (got 1)."),
    ([], "a time series must not be empty (got shape (1, 0))."),
    (np.zeros((0, 5)), "a time series must not be empty (got shape (0, 5))."),
    ([1.0, np.inf, 2.0], "the series holds 1 infinite value(s), the first at channel 0, timestamp 1; "
                         "infinite values are not allowed."),
    (np.zeros((2, 2, 3)), "a time series must have shape (n_timestamps,) or (n_channels, n_timestamps) "
                          "(got shape (2, 2, 3))."),
])
def test_bad_series_raise_clear_input_errors(name, signal, message):
    conv = get_converter(name, image_size=8, nan_policy="interpolate")
    with pytest.raises(InputError) as info:
        conv.convert(signal)
    assert str(info.value) == message


def test_text_is_not_a_series():
    with pytest.raises(InputError, match="^a time series must be an array of numbers"):
        GASF().convert(["a", "b"])


def test_input_is_never_modified():
    x = np.array([1.0, np.nan, 3.0])
    GASF(image_size=4, nan_policy="interpolate").convert(x)
    assert np.isnan(x[1])


# -- multivariate layouts ---------------------------------------------------
def _channels(n, length=50):
    t = np.linspace(0, 6, length)
    return np.stack([np.sin((k + 1) * t) + 0.1 * k * t for k in range(n)])


@pytest.mark.parametrize("name", ["gasf", "gadf", "mtf", "recurrence"])
def test_stack_puts_channels_in_r_g_b(name):
    X = _channels(3)
    conv = get_converter(name, image_size=24)
    image = conv.convert(X)
    for k in range(3):
        np.testing.assert_array_equal(image[..., k], conv.convert(X[k])[..., 0])
    two = conv.convert(X[:2])
    np.testing.assert_array_equal(two[..., :2], image[..., :2])
    mean = (image[..., 0].astype(int) + image[..., 1]) / 2
    assert np.abs(two[..., 2] - mean).max() <= 1  # blue = mean of the two fields


def test_stack_of_more_than_three_channels_is_an_error():
    with pytest.raises(InputError) as info:
        GADF(image_size=16, multivariate="stack").convert(_channels(4))
    assert str(info.value) == ("multivariate='stack' takes at most 3 channels (as R, G, B) (got 4); "
                               "use multivariate='tile'.")


@pytest.mark.parametrize("name", ["gasf", "mtf", "recurrence", "gaf_mtf", "lineplot"])
def test_auto_stacks_what_fits_in_rgb_and_tiles_the_rest(name):
    auto, stack, tile = (get_converter(name, image_size=(40, 30), multivariate=m) for m in ("auto", "stack", "tile"))
    assert get_converter(name).get_params()["multivariate"] == "auto"  # the default
    for n_channels in (1, 2, 3, 4, 6):
        X = _channels(n_channels)
        stacks = n_channels == 1 or (n_channels <= 3 and name != "gaf_mtf")  # gaf_mtf's colours are its own
        np.testing.assert_array_equal(auto.convert(X), (stack if stacks else tile).convert(X))
        assert auto.layout(n_channels) == ("stack" if stacks else "tile")


@pytest.mark.parametrize("name", ["gasf", "mtf", "recurrence", "gaf_mtf", "lineplot"])
def test_tile_places_one_picture_per_channel(name):
    X = _channels(3)
    conv = get_converter(name, image_size=(40, 30), multivariate="tile")
    image = conv.convert(X)
    assert image.shape == (40, 30, 3)
    single = get_converter(name, image_size=(20, 15))
    assert tile_layout(3, (40, 30)) == [(0, 0, 20, 15), (0, 15, 20, 15), (20, 0, 20, 15)]
    for k, (top, left, h, w) in enumerate(tile_layout(3, (40, 30))):
        np.testing.assert_array_equal(image[top : top + h, left : left + w], single.convert(X[k]))
    empty = image[20:, 15:]
    assert (empty == (255 if name == "lineplot" else 0)).all()


def test_tile_splits_uneven_sizes_and_rejects_too_small_images():
    assert tile_layout(6, (5, 7)) == [(0, 0, 3, 3), (0, 3, 3, 2), (0, 5, 3, 2),
                                      (3, 0, 2, 3), (3, 3, 2, 2), (3, 5, 2, 2)]
    assert GADF(image_size=(5, 7), multivariate="tile").convert(_channels(6)).shape == (5, 7, 3)
    with pytest.raises(InputError, match=r"^image_size 2x2 is too small to tile 6 channels in a 2x3 grid\.$"):
        GADF(image_size=2, multivariate="tile").convert(_channels(6))


def test_one_channel_is_the_same_under_both_layouts():
    x = _channels(1)
    np.testing.assert_array_equal(GASF(image_size=16, multivariate="tile").convert(x), GASF(image_size=16).convert(x))


def test_cmap_colours_a_single_field():
    x = np.sin(np.linspace(0, 6, 40))
    grey, viridis = GASF(image_size=16).convert(x), GASF(image_size=16, cmap="viridis").convert(x)
    assert (grey[..., 0] == grey[..., 2]).all() and not (viridis[..., 0] == viridis[..., 2]).all()
    unit = ((gramian_fields(x[None], (16, 16))[0] + 1) / 2).astype(np.float32)
    np.testing.assert_array_equal(viridis, field_to_rgb(unit, "viridis"))


# -- gaf_mtf --------------------------------------------------------------------
def test_gaf_mtf_is_gasf_gadf_mtf_as_rgb():
    x = np.sin(np.linspace(0, 6, 40)) + np.linspace(0, 1, 40)
    image = GAFMTF(image_size=20, n_bins=4).convert(x)
    np.testing.assert_array_equal(image[..., 0], GASF(image_size=20).convert(x)[..., 0])
    np.testing.assert_array_equal(image[..., 1], GADF(image_size=20).convert(x)[..., 0])
    np.testing.assert_array_equal(image[..., 2], MTF(image_size=20, n_bins=4).convert(x)[..., 0])


def test_gaf_mtf_cannot_stack_channels():
    with pytest.raises(InputError, match="converter 'gaf_mtf' already uses R, G and B .* use multivariate='tile'"):
        GAFMTF(image_size=16, multivariate="stack").convert(_channels(2))


# -- line plots -----------------------------------------------------------------
def test_lineplot_draws_an_antialiased_line_on_white():
    image = LinePlot(image_size=(32, 64)).convert(np.linspace(0.0, 1.0, 100))
    grey = image[..., 0].astype(int)
    assert (grey > 250).mean() > 0.8  # mostly white background
    assert grey[-3:, :4].min() < 60 and grey[:3, -4:].min() < 60  # rising: bottom left to top right
    assert grey[:4, :4].min() > 250 and grey[-4:, -4:].min() > 250
    assert len(np.unique(grey)) > 5  # grey levels at the edges: antialiased


def test_lineplot_constant_series_is_a_line_across_the_middle():
    grey = LinePlot(image_size=32).convert(np.full(50, 7.0))[..., 0]
    dark_rows = np.flatnonzero(grey.min(axis=1) < 128)
    assert dark_rows.min() >= 14 and dark_rows.max() <= 17
    assert (grey[15:17].min(axis=0) < 128).all()


def test_lineplot_stacked_channels_in_palette_colours():
    X = np.stack([np.zeros(50) + 1.0, np.zeros(50) - 1.0])
    image = LinePlot(image_size=64, line_width=3).convert(X)
    colours = {tuple(int(c) for c in px) for px in image.reshape(-1, 3)}
    assert PALETTE[0] in colours and PALETTE[1] in colours
    # shared y axis: channel 0 near the top, channel 1 near the bottom
    assert tuple(image[4, 32]) == PALETTE[0] or tuple(image[3, 32]) == PALETTE[0]
    # share_y=False: both flat channels drawn across the middle
    alone = LinePlot(image_size=64, line_width=3, share_y=False).convert(X)
    assert (alone[:20] == 255).all()


# -- parameters -------------------------------------------------------------------
BAD_PARAMS = [
    (GASF, "image_size", 0, "'image_size' must be an int >= 1 or a pair (height, width) of ints >= 1 (got 0)."),
    (GASF, "image_size", (8, 0), "'image_size' must be an int >= 1 or a pair (height, width) of ints >= 1 "
                                 "(got (8, 0))."),
    (GASF, "sample_range", (0, 2), "'sample_range' must be None or a pair (low, high) with -1 <= low < high <= 1 "
                                   "(got (0, 2))."),
    (GADF, "sample_range", [1, -1], "'sample_range' must be None or a pair (low, high) with -1 <= low < high <= 1 "
                                    "(got [1, -1])."),
    (GADF, "sample_range", "wide", "'sample_range' must be None or a pair (low, high) with -1 <= low < high <= 1 "
                                   "(got 'wide')."),
    (GASF, "cmap", "nope", "'cmap' must be 'grey' or a matplotlib colour map name such as 'viridis', 'magma' "
                           "(got 'nope')."),
    (GASF, "multivariate", "side", "'multivariate' must be one of 'auto', 'stack', 'tile' (got 'side')."),
    (MTF, "nan_policy", "drop", "'nan_policy' must be one of 'raise', 'interpolate' (got 'drop')."),
    (MTF, "label_column", 1.5, "'label_column' must be 'auto', None, a column name or a column index (got 1.5)."),
    (MTF, "label_column", "", "'label_column' must be 'auto', None, a column name or a column index (got '')."),
    (MTF, "n_bins", 1, "'n_bins' must be an int in [2, 256] (got 1)."),
    (MTF, "strategy", "kmeans", "'strategy' must be one of 'quantile', 'uniform', 'normal' (got 'kmeans')."),
    (Recurrence, "dimension", 0, "'dimension' must be an int in [1, 100] (got 0)."),
    (Recurrence, "time_delay", 1.5, "'time_delay' must be an int in [1, 1000] (got 1.5)."),
    (Recurrence, "threshold", "nearest", "'threshold' must be None, 'point', 'distance' or a number >= 0 "
                                         "(got 'nearest')."),
    (Recurrence, "threshold", -1, "'threshold' must be None, 'point', 'distance' or a number >= 0 (got -1)."),
    (Recurrence, "percentage", 150, "'percentage' must be a finite number in [0, 100] (got 150)."),
    (LinePlot, "line_width", 0, "'line_width' must be a finite number in (0, 32] (got 0)."),
    (LinePlot, "share_y", "yes", "'share_y' must be True or False (got 'yes')."),
    (GAFMTF, "strategy", "normalised", "'strategy' must be one of 'quantile', 'uniform', 'normal' "
                                       "(got 'normalised')."),
]


@pytest.mark.parametrize(("cls", "param", "value", "message"), BAD_PARAMS,
                         ids=[f"{c.name}-{p}-{v!r}" for c, p, v, _ in BAD_PARAMS])
def test_bad_parameters_have_exact_messages(cls, param, value, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):  # refused at construction ...
        cls(**{param: value})
    conv = cls().set_params(**{param: value})  # ... while set_params stores it untouched ...
    assert getattr(conv, param) == value
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):  # ... and it is checked where used
        conv.convert(np.arange(5.0))


def test_valid_parameter_forms_are_accepted():
    x = np.sin(np.linspace(0, 6, 30))
    assert GASF(image_size=[12, 20], sample_range=[0, 1]).convert(x).shape == (12, 20, 3)
    assert GASF(sample_range=None, image_size=6).convert(np.clip(x, -1, 1)).shape == (6, 6, 3)
    assert Recurrence(image_size=6, threshold=0, percentage=0).convert(x).max() == 0
    assert MTF(image_size=6, label_column=-1).convert(x).shape == (6, 6, 3)


def test_convert_batch_groups_shapes_and_keeps_order(rng):
    conv = GADF(image_size=12)
    series = [rng.standard_normal(30), rng.standard_normal(45), rng.standard_normal((2, 30)), rng.standard_normal(30)]
    batch = conv.convert_batch(series)
    for got, x in zip(batch, series):
        np.testing.assert_array_equal(got, conv.convert(x))
