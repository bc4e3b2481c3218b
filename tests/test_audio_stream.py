"""Long recordings are streamed window by window and give what whole-file reading gives (issue 13, defect 8)."""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.audio.io import read_audio
from any2img.converters.audio.signal import AudioSignal
from any2img.converters.audio.stream import LONG_CLIP_SECONDS, AudioStream

from any2img.errors import InputError
from any2img.registry import get_converter

sf = pytest.importorskip("soundfile")


@pytest.fixture(scope="module", params=[16000, 8000, 22050])  # no resampling; up; down
def recording(request, tmp_path_factory):
    rate, seconds = request.param, 65.0
    tmp_path = tmp_path_factory.mktemp("long")
    n = int(rate * seconds)
    t = np.arange(n) / rate
    on = (t > 3) & (t < 62)  # silence at both ends, for trim_silence
    y = np.where(on, 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * np.random.default_rng(0).normal(size=n), 0.0)
    path = tmp_path / f"long{rate}.wav"
    sf.write(path, np.stack([y, y[::-1]], 1).astype(np.float32), rate, subtype="FLOAT")
    return path


@pytest.mark.parametrize("params", [{}, {"duration": 10.0, "hop": 7.0}, {"trim_silence": True, "duration": 20.0,
                                                                         "pad_mode": "loop"},
                                    {"channels": "each", "duration": 30.0}])
def test_streamed_windows_equal_whole_file_windows(recording, params):
    path = recording
    conv = get_converter("mel", **params)
    records = list(conv.read_records(path))
    assert all(isinstance(r.signal, AudioStream) for r in records)
    streamed = [w for r in records for w in conv.segment(r.signal)]
    whole = read_audio(path, sample_rate=16000, channels=params.get("channels", "mono"))
    signals = [AudioSignal(whole.samples[c : c + 1], 16000) for c in range(whole.n_channels)]
    expected = [w for s in signals for w in conv.segment(s)]
    assert [w.describe() for w in streamed] == [w.describe() for w in expected]
    for a, b in zip(streamed, expected):
        np.testing.assert_allclose(a.data.load().samples, b.data.samples, atol=1e-6)
    assert np.abs(conv.convert(streamed[1]).astype(int) - conv.convert(expected[1])).max() <= 1


def test_a_whole_clip_longer_than_the_limit_is_cut_into_windows_of_the_limit():
    conv = get_converter("stft", image_size=8)
    windows = conv.segment(np.zeros(int(16000 * (2 * LONG_CLIP_SECONDS + 1)), np.float32))
    assert [(w.start, w.stop) for w in windows] == [(0.0, 60.0), (60.0, 120.0), (120.0, 121.0)]
    assert len(conv.segment(np.zeros(16000 * 60, np.float32))) == 1  # up to the limit: one window


def test_a_nan_in_a_streamed_window_is_an_input_error(tmp_path):
    y = np.zeros(16000 * 61, np.float32)
    y[16000 * 60 + 5] = np.nan
    sf.write(tmp_path / "nan.wav", y, 16000, subtype="FLOAT")
    conv = get_converter("mel")
    windows = conv.segment(conv.read(tmp_path / "nan.wav"))
    conv.convert(windows[0])  # the first minute is fine
    with pytest.raises(InputError, match="NaN or infinite sample"):
        conv.convert(windows[1])
