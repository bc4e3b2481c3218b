"""The mel converter's batched path: ``convert_batch`` gives exactly the pictures of ``convert``."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from any2img.converters.audio.features import stft_power, stft_power_many
from any2img.converters.audio.signal import AudioSignal
from any2img.converters.audio.spectrograms import Mel

from any2img import get_converter
from any2img.converter import Window
from any2img.errors import InputError


def clips(n: int = 12, sr: int = 8000) -> list[np.ndarray]:
    """Clips of many lengths, loud and quiet, a silent one and one shorter than a hop."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = np.arange(int(sr * (0.2 + 0.13 * i))) / sr
        y = (0.5 ** (i % 5)) * np.sin(2 * np.pi * (200 + 150 * i) * t) + 0.01 * rng.standard_normal(t.size)
        out.append(y.astype(np.float32))
    return out + [np.zeros(3000, np.float32), out[2][:50], out[3].astype(np.float64)]


def test_stft_power_many_is_stft_power_of_each_side_by_side():
    ys = clips()
    many = stft_power_many(ys, 512, 128)
    parts = [stft_power(y, 512, 128) for y in ys]
    assert many.shape == (257, sum(p.shape[1] for p in parts)) and many.dtype == np.float32
    np.testing.assert_array_equal(many, np.concatenate(parts, axis=1))


@pytest.mark.parametrize("cells", [512 * 3, 512 * 7, 512 * 10_000])
def test_stft_power_many_in_small_passes_gives_the_same_columns(cells, monkeypatch):
    """Passes that split a signal's frames, or hold several signals, change no value (bounded memory)."""
    from any2img.converters.audio import features

    ys = clips()
    whole = stft_power_many(ys, 512, 128)
    monkeypatch.setattr(features, "FFT_PASS_CELLS", cells)
    np.testing.assert_array_equal(features.stft_power_many(ys, 512, 128), whole)


@pytest.mark.parametrize("params", [{"image_size": 128}, {}, {"image_size": 64, "cmap": "viridis"},
                                    {"ref": "full_scale"}, {"image_size": (50, 70), "n_mels": 40, "top_db": 60.0}])
def test_convert_batch_gives_the_pictures_of_convert(params, monkeypatch):
    conv = get_converter("mel", sample_rate=8000, **params)
    xs = [*clips(), AudioSignal(clips()[4], 8000), Window(AudioSignal(clips()[5], 8000), index=0)]
    one = [conv.convert(x) for x in xs]
    for cells in (Mel.BATCH_FRAME_CELLS, 20 * 1024):  # one pass, then several
        monkeypatch.setattr(Mel, "BATCH_FRAME_CELLS", cells)
        batch = conv.convert_batch(xs)
        assert len(batch) == len(one)
        for a, b in zip(batch, one):
            assert a.dtype == np.uint8 and a.flags.c_contiguous
            np.testing.assert_array_equal(a, b)
    assert conv.convert_batch([]) == []


def test_convert_batch_on_real_fsdd_clips(shared_datasets):
    files = sorted((shared_datasets / "fsdd" / "recordings").glob("*.wav"))[::97][:31]
    if not files:
        pytest.skip("no FSDD recordings")
    xs = [sf.read(str(f), dtype="float32")[0] for f in files]
    for size in (128, None):
        conv = get_converter("mel", sample_rate=8000, image_size=size)
        for a, b in zip(conv.convert_batch(xs), [conv.convert(x) for x in xs]):
            np.testing.assert_array_equal(a, b)


def test_convert_batch_refuses_a_bad_clip_like_convert():
    conv = get_converter("mel", sample_rate=8000)
    bad = clips()[0].copy()
    bad[10] = np.nan
    with pytest.raises(InputError, match="NaN"):
        conv.convert_batch([clips()[1], bad])
