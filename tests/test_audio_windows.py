"""Windowing of audio: whole clips, pad / loop / crop, hops and their offsets, silence trimming."""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.audio.signal import AudioSignal
from any2img.converters.audio.spectrograms import Mel
from any2img.converters.audio.windows import fill, plan_spans

from any2img.errors import InputError

SR = 1000  # a small rate keeps the sample arithmetic readable


def ramp(n: int) -> np.ndarray:
    return (np.arange(1, n + 1) / 10000).astype(np.float32)


def spans(n, window, hop, mode):
    return [(s.start, s.stop, s.length) for s in plan_spans(n, window, hop, mode)]


def test_plan_spans_by_hand():
    assert spans(10, None, None, "pad") == [(0, 10, 10)]
    assert spans(10, 4, None, "pad") == [(0, 4, 4), (4, 8, 4), (8, 10, 4)]
    assert spans(10, 4, None, "loop") == [(0, 4, 4), (4, 8, 4), (8, 10, 4)]
    assert spans(10, 4, None, "crop") == [(0, 4, 4), (4, 8, 4)]
    assert spans(10, 4, 3, "pad") == [(0, 4, 4), (3, 7, 4), (6, 10, 4)]
    assert spans(8, 4, 2, "crop") == [(0, 4, 4), (2, 6, 4), (4, 8, 4)]
    assert spans(3, 5, None, "pad") == [(0, 3, 5)]
    assert spans(3, 5, None, "crop") == [(0, 3, 3)]
    assert spans(10, 2, 6, "pad") == [(0, 2, 2), (6, 8, 2)]  # hop longer than the window leaves gaps


def test_fill_pad_and_loop():
    x = np.arange(1, 6, dtype=np.float32)[np.newaxis]  # 1..5
    span = plan_spans(5, 4, 3, "pad")[1]  # starts at 3: [4, 5] then two missing
    np.testing.assert_array_equal(fill(x, span, "pad")[0], [4, 5, 0, 0])
    np.testing.assert_array_equal(fill(x, span, "loop")[0], [4, 5, 1, 2])
    short = plan_spans(2, 7, None, "loop")[0]
    np.testing.assert_array_equal(fill(x[:, :2], short, "loop")[0], [1, 2, 1, 2, 1, 2, 1])


def test_whole_clip_is_one_window():
    conv = Mel(sample_rate=SR, n_fft=64, hop_length=10, n_mels=8)
    [w] = conv.segment(ramp(1234))
    assert (w.index, w.start, w.stop, w.unit) == (0, 0.0, 1.234, "seconds")
    np.testing.assert_array_equal(w.data.samples[0], ramp(1234))


@pytest.mark.parametrize("mode", ["pad", "loop", "crop"])
def test_short_clip_modes(mode):
    conv = Mel(sample_rate=SR, n_fft=64, hop_length=10, n_mels=8, duration=0.5, pad_mode=mode)
    y = ramp(300)
    [w] = conv.segment(y)
    assert (w.start, w.stop) == (0.0, 0.3)  # stop is where the real audio ends
    data = w.data.samples[0]
    if mode == "pad":
        np.testing.assert_array_equal(data, np.concatenate([y, np.zeros(200, np.float32)]))
    elif mode == "loop":
        np.testing.assert_array_equal(data, np.concatenate([y, y[:200]]))
    else:
        np.testing.assert_array_equal(data, y)
    width = {"pad": 51, "loop": 51, "crop": 31}[mode]
    assert conv.convert(w).shape == (8, width, 3)


def test_hop_offsets_in_seconds():
    conv = Mel(sample_rate=SR, n_fft=64, hop_length=10, n_mels=8, duration=0.4, hop=0.25)
    windows = conv.segment(ramp(1000))
    assert [(w.index, w.start, w.stop) for w in windows] == [
        (0, 0.0, 0.4), (1, 0.25, 0.65), (2, 0.5, 0.9), (3, 0.75, 1.0),
    ]
    assert {w.unit for w in windows} == {"seconds"}
    assert all(w.data.n_samples == 400 for w in windows)
    np.testing.assert_array_equal(windows[1].data.samples[0], ramp(1000)[250:650])
    np.testing.assert_array_equal(windows[3].data.samples[0, 250:], 0)  # padded tail
    images = conv.convert_batch(windows)
    assert len(images) == 4 and {im.shape for im in images} == {(8, 41, 3)}
    assert [w.start for w in Mel(sample_rate=SR, duration=0.4, hop=0.25, pad_mode="crop").segment(ramp(1000))] == [
        0.0, 0.25, 0.5,
    ]


def test_windows_of_a_long_recording_match_the_recording():
    # Each window's picture equals the whole recording's picture around the same frames.
    rng = np.random.default_rng(1)
    y = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    conv = Mel(n_mels=32, duration=1.0, hop=0.5, ref="full_scale")
    windows = conv.segment(y)
    assert [w.start for w in windows] == [0.0, 0.5, 1.0, 1.5, 2.0]
    whole = conv.set_params(duration=None, hop=None).convert(y)
    second = conv.convert(windows[1])  # starts at 0.5 s = frame 50
    np.testing.assert_array_equal(second[:, 4:96], whole[:, 54:146])


def test_trim_silence_keeps_offsets_in_the_untrimmed_clip():
    sr = 16000
    t = np.arange(sr // 2) / sr
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(sr, np.float32)])
    [w] = Mel(trim_silence=True).segment(y)
    # librosa.effects.trim works on 2048-sample frames with 512 hops: edges within a frame
    assert abs(w.start - 1.0) <= 2048 / sr and abs(w.stop - 1.5) <= 2048 / sr
    assert w.data.n_samples < 0.7 * sr
    windows = Mel(trim_silence=True, duration=0.25).segment(y)
    assert len(windows) in (2, 3) and abs(windows[1].start - windows[0].start - 0.25) < 1e-9
    # all silence: nothing to trim away, the clip is kept (and gives the floor picture)
    [silent] = Mel(trim_silence=True, n_mels=16).segment(np.zeros(4000, np.float32))
    assert silent.data.n_samples == 4000 and Mel(n_mels=16).convert(silent).max() == 0


def test_each_channel_gets_its_own_windows():
    y = np.stack([ramp(1000), -ramp(1000)])
    windows = Mel(sample_rate=SR, channels="each", duration=0.5).segment(AudioSignal(y, SR))
    assert [(w.index, w.start) for w in windows] == [(0, 0.0), (1, 0.5), (2, 0.0), (3, 0.5)]
    assert windows[2].data.samples[0, 0] < 0
    mono = Mel(sample_rate=SR, duration=0.5).segment(AudioSignal(y, SR))
    assert len(mono) == 2 and not mono[0].data.samples.any()  # mixed down: they cancel


def test_segment_resamples_and_refuses_empty():
    windows = Mel(duration=0.5).segment(AudioSignal(ramp(8000), 8000))  # 1 s at 8 kHz -> 16 kHz
    assert [w.start for w in windows] == [0.0, 0.5] and windows[0].data.sample_rate == 16000
    with pytest.raises(InputError, match="empty"):
        Mel().segment(np.zeros(0, np.float32))
