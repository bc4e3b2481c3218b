"""Reading audio files: formats, resampling, channels, and every kind of bad file."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf
from any2img.converters.audio.io import AUDIO_EXTENSIONS, read_audio
from any2img.converters.audio.signal import AudioSignal
from any2img.converters.audio.spectrograms import Mel

from any2img.errors import InputError


def tone(freq: float, sr: int, seconds: float = 0.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_freq(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return float(np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spec)])


@pytest.mark.parametrize(("suffix", "subtype", "tol"), [
    (".wav", "PCM_16", 1e-4), (".flac", "PCM_16", 1e-4), (".ogg", "VORBIS", None), (".wav", "FLOAT", 0.0),
])
def test_reads_formats_at_their_own_rate(tmp_path, suffix, subtype, tol):
    y = tone(440.0, 16000)
    path = tmp_path / f"clip{suffix}"
    sf.write(path, y, 16000, subtype=subtype)
    sig = read_audio(path)
    assert isinstance(sig, AudioSignal) and sig.sample_rate == 16000
    assert sig.samples.dtype == np.float32 and sig.samples.shape == (1, y.size)
    if tol is None:  # lossy: same tone, same loudness
        assert abs(peak_freq(sig.samples[0], 16000) - 440.0) < 3
        assert abs(np.abs(sig.samples).max() - 0.5) < 0.05
    else:
        np.testing.assert_allclose(sig.samples[0], y, atol=tol)


def test_converter_reads_and_resamples(tmp_path):
    path = tmp_path / "eight.wav"
    y8 = tone(1000.0, 8000, seconds=1.0)
    sf.write(path, y8, 8000, subtype="FLOAT")
    conv = Mel(n_mels=32)  # sample_rate 16000
    sig = conv.read(path)
    assert sig.sample_rate == 16000 and sig.n_samples == 16000
    np.testing.assert_allclose(
        sig.samples[0], librosa.resample(y8, orig_sr=8000, target_sr=16000, res_type="soxr_hq"), atol=1e-6
    )
    assert abs(peak_freq(sig.samples[0], 16000) - 1000.0) < 2
    # reading at 8 kHz keeps the samples; the picture of the same tone lights the same band
    assert Mel(n_mels=32, sample_rate=8000, fmax=4000.0).read(path).n_samples == 8000
    img = conv.convert(sig)
    assert np.argmax(img[:, 50, 0]) == np.argmax(conv.convert(tone(1000.0, 16000, 1.0))[:, 50, 0])


def test_stereo_mix_down_first_and_each(tmp_path):
    left, right = tone(440.0, 16000), tone(880.0, 16000, amplitude=0.25)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="PCM_24")
    mono = read_audio(path)
    assert mono.samples.shape == (1, left.size)
    np.testing.assert_allclose(mono.samples[0], (left + right) / 2, atol=1e-5)
    first = read_audio(path, channels="first")
    np.testing.assert_allclose(first.samples[0], left, atol=1e-5)
    both = read_audio(path, channels="each")
    assert both.samples.shape == (2, left.size)

    records = list(Mel(channels="each").read_records(path))
    assert [r.key for r in records] == ["ch0", "ch1"] and [r.meta["channel"] for r in records] == [0, 1]
    assert abs(peak_freq(records[1].signal.samples[0], 16000) - 880.0) < 3
    assert [r.key for r in Mel().read_records(path)] == [""]


def test_opposite_channels_mix_to_silence_and_silence_is_allowed(tmp_path):
    y = tone(440.0, 16000)
    path = tmp_path / "cancel.wav"
    sf.write(path, np.stack([y, -y], axis=1), 16000, subtype="FLOAT")
    conv = Mel(n_mels=32)
    assert conv.read(path).samples.max() == 0.0
    img = conv.convert(conv.read(path))  # silence: the floor picture, not an error
    assert img.shape == (32, 51, 3) and img.max() == 0


def _wav_bytes(tmp_path, n=1600):
    path = tmp_path / "good.wav"
    sf.write(path, tone(440.0, 16000, n / 16000), 16000, subtype="PCM_16")
    return path.read_bytes()


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.wav: the file is empty \(0 bytes\)") as info:
        read_audio(path)
    assert info.value.path == str(path)


def test_truncated_wav(tmp_path):
    data = _wav_bytes(tmp_path)
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.wav: the file is truncated: its WAV header declares 3200 bytes"):
        read_audio(path)


def test_wav_header_without_data(tmp_path):
    path = tmp_path / "head.wav"
    path.write_bytes(_wav_bytes(tmp_path)[:36])
    with pytest.raises(InputError, match=r"head\.wav: the file is corrupt: its WAV header has no 'data' chunk"):
        read_audio(path)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_garbage_is_not_audio(tmp_path, suffix):
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(b"this is not audio at all " * 40)
    with pytest.raises(InputError, match=rf"noise\{suffix}: cannot decode the audio; the file is corrupt or not"):
        read_audio(path)


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_truncated_compressed_files(tmp_path, suffix):
    good = tmp_path / f"good{suffix}"
    sf.write(good, np.random.default_rng(0).uniform(-0.5, 0.5, 16000).astype(np.float32), 16000)
    data = good.read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rf"cut\{suffix}: "):
        read_audio(path)


def test_zero_length_audio(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(InputError, match=r"nothing\.wav: the file holds no audio \(0 samples\)"):
        read_audio(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    y = tone(440.0, 16000)
    y[100] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, y, 16000, subtype="FLOAT")
    expected = r"nan\.wav: audio contains 1 NaN or infinite sample\(s\) \(first at sample 100 of channel 0\)"
    with pytest.raises(InputError, match=expected):
        read_audio(path)


def test_unsupported_extension_and_missing_file(tmp_path):
    path = tmp_path / "clip.txt"
    path.write_text("hello")
    with pytest.raises(InputError, match=r"clip\.txt: unsupported audio file type '\.txt'; expected one of \.wav"):
        read_audio(path)
    assert not Mel().accepts(path) and Mel().accepts(tmp_path / "X.WAV")
    assert set(Mel.extensions) == set(AUDIO_EXTENSIONS)
    with pytest.raises(InputError, match=r"gone\.wav: no such file"):
        Mel().read(tmp_path / "gone.wav")


@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile has no MP3 support")
def test_mp3_reads_and_a_truncated_mp3_is_refused(tmp_path):
    path = tmp_path / "clip.mp3"
    sf.write(path, tone(440.0, 16000, seconds=1.0), 16000)
    sig = read_audio(path)
    assert sig.sample_rate == 16000 and abs(sig.n_samples - 16000) <= 1152
    assert abs(peak_freq(sig.samples[0], 16000) - 440.0) < 3
    data = path.read_bytes()
    cut = tmp_path / "cut.mp3"
    cases = ((2, "the file is truncated"), (3, "cannot decode the audio; the file is corrupt or not MP3"))
    for part, expected in cases:
        cut.write_bytes(data[: len(data) // part])
        with pytest.raises(InputError, match=rf"cut\.mp3: {expected}"):
            read_audio(cut)
