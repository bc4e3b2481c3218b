"""Hand-checked behaviour of the spectrogram converters (mel, stft, mfcc, cqt, chroma, mel_deltas)."""

from __future__ import annotations

import json

import librosa
import numpy as np
import pytest
from any2img.converters.audio.base import AudioConverter
from any2img.converters.audio.features import cqt_max_bins, fft_frequencies, mel_basis, stft_power
from any2img.converters.audio.signal import AudioSignal
from any2img.converters.audio.spectrograms import CQT, MFCC, STFT, Chroma, Mel, MelDeltas

from any2img import get_converter
from any2img.errors import InputError, ParameterError

SR = 16000
NAMES = ["mel", "stft", "mfcc", "cqt", "chroma", "mel_deltas"]

FS = "full_scale"  # the fixed reference, whose levels these tests compute by hand


def sine(freq: float, seconds: float = 1.0, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def grey(img: np.ndarray) -> np.ndarray:
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    return img[:, :, 0].astype(int)


def brightest_row(img: np.ndarray) -> int:
    g = grey(img)
    return int(np.argmax(g[:, g.shape[1] // 2]))


def speechlike(seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 60 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.3 + 0.2 * np.sin(2 * np.pi * 3 * t))
    return (0.3 * y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


# -- the right row lights up --------------------------------------------------------------


def test_stft_sine_lights_its_bin_at_minus_6_dbfs():
    # 1000 Hz is bin 64 exactly (16000 / 1024 = 15.625 Hz per bin); 513 rows, low at the bottom.
    freqs = fft_frequencies(SR, 1024)
    k = int(np.argmin(np.abs(freqs - 1000.0)))
    assert freqs[k] == 1000.0 and k == 64
    img = STFT(ref="full_scale").convert(sine(1000.0))
    assert img.shape == (513, 101, 3)
    assert brightest_row(img) == 512 - k == 448
    # amplitude 0.5 is -6.02 dBFS: (80 - 6.02) / 80 * 255 = 235.8
    assert abs(grey(img)[448, 50] - 236) <= 1


def test_mel_sine_lights_the_band_centred_on_it():
    n_mels = 64
    centres = librosa.mel_frequencies(n_mels + 2, fmin=0.0, fmax=SR / 2)[1:-1]
    k = 20
    img = Mel(n_mels=n_mels, ref="full_scale").convert(sine(float(centres[k])))
    assert img.shape == (64, 101, 3)
    assert brightest_row(img) == n_mels - 1 - k
    # a full-scale-referenced band centre reads about -6 dBFS for amplitude 0.5 (leakage adds < 2 dB)
    assert 230 <= grey(img)[n_mels - 1 - k, 50] <= 242


def test_higher_frequency_is_higher_in_the_picture():
    conv = Mel(n_mels=64, ref="full_scale")
    rows = [brightest_row(conv.convert(sine(f))) for f in (300.0, 1200.0, 5000.0)]
    assert rows[0] > rows[1] > rows[2]


def test_cqt_sine_lights_its_bin():
    conv = CQT(n_bins=72, ref="full_scale")
    freqs = librosa.cqt_frequencies(72, fmin=librosa.note_to_hz("C1"))
    k = 45  # A4 = 440 Hz
    assert abs(freqs[k] - 440.0) < 1e-6
    img = conv.convert(sine(440.0))
    assert img.shape == (72, 101, 3)
    assert brightest_row(img) == 71 - k
    assert abs(grey(img)[71 - k, 50] - 236) <= 3  # -6 dBFS, each bin normalised to a full-scale sine


def test_chroma_a440_lights_the_a_row():
    img = Chroma(ref="full_scale").convert(sine(440.0))
    assert img.shape == (12, 101, 3)
    assert brightest_row(img) == 11 - 9  # C at the bottom (row 11), A is pitch class 9
    assert abs(grey(img)[2, 50] - 236) <= 4


def test_chirp_rises_over_time():
    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * (200 * t + (3000 - 200) * t**2 / 2))).astype(np.float32)
    for conv in (Mel(n_mels=64, ref="full_scale"), STFT(ref="full_scale"), CQT(n_bins=80, ref="full_scale")):
        g = grey(conv.convert(y))
        rows = np.argmax(g[:, 5:-5], axis=0)  # brightest row per column, away from the edges
        assert np.all(np.diff(rows) <= 0), type(conv).__name__  # row index falls = frequency rises
        assert rows[0] - rows[-1] > g.shape[0] // 4


# -- fixed reference: silence, slices, levels ------------------------------------------------


@pytest.mark.parametrize("name", ["mel", "stft", "cqt", "chroma"])
def test_silence_gives_the_floor(name):
    img = get_converter(name).convert(np.zeros(8000, dtype=np.float32))
    assert img.max() == 0


def test_silence_floor_of_mfcc_and_mel_deltas():
    mfcc = grey(MFCC(n_mfcc=13).convert(np.zeros(8000, dtype=np.float32)))
    assert np.all(mfcc[-1] == 0)  # coefficient 0 (mean level) at the floor
    assert np.all(mfcc[:-1] == 128)  # no spectral shape: every other coefficient is 0 (mid grey)
    rgb = MelDeltas().convert(np.zeros(8000, dtype=np.float32))
    assert np.all(rgb[:, :, 0] == 0) and np.all(rgb[:, :, 1] == 128) and np.all(rgb[:, :, 2] == 128)


@pytest.mark.parametrize(
    ("conv", "margin"),
    [(Mel(ref=FS), 0), (STFT(ref=FS), 0), (MFCC(ref=FS), 0), (Chroma(ref=FS), 0), (MelDeltas(ref=FS), 4)],
    ids=["mel", "stft", "mfcc", "chroma", "mel_deltas"],
)
def test_clip_and_its_slice_give_the_same_pixels(conv, margin):
    y = speechlike()
    offset_frames = 20
    part = y[offset_frames * 160 : offset_frames * 160 + 8000]
    whole, piece = conv.convert(y), conv.convert(part)
    half = -(-conv.n_fft // 2 // 160)  # frames whose FFT window lies fully inside the slice
    first, last = half + margin, (8000 - conv.n_fft // 2) // 160 - margin
    assert last - first > 20
    np.testing.assert_array_equal(
        piece[:, first : last + 1], whole[:, first + offset_frames : last + 1 + offset_frames]
    )


def test_quieter_clip_is_darker_with_full_scale_but_not_with_the_default_max_reference():
    loud, quiet = sine(1000.0, amplitude=0.5), sine(1000.0, amplitude=0.05)
    fixed = Mel(n_mels=64, ref="full_scale")
    assert grey(fixed.convert(loud)).max() - grey(fixed.convert(quiet)).max() in range(62, 66)  # 20 dB of 80
    per_clip = Mel(n_mels=64)  # the default reference is "max"
    assert grey(per_clip.convert(loud)).max() == grey(per_clip.convert(quiet)).max() == 255
    assert per_clip.convert(np.zeros(4000, dtype=np.float32)).max() == 0  # silence keeps the floor


def test_top_db_sets_the_floor():
    img = STFT(top_db=40.0, ref="full_scale").convert(sine(1000.0, amplitude=0.1))  # -20 dBFS: half-way down 40 dB
    assert abs(grey(img)[448, 50] - 128) <= 1


# -- other converters ------------------------------------------------------------------------


def test_mfcc_rows_and_levels():
    conv = MFCC(n_mfcc=20, ref="full_scale")
    loud = grey(conv.convert(speechlike()))
    quiet = grey(conv.convert(speechlike() * 0.01))
    assert loud.shape == (20, 101)
    assert loud[-1].mean() > quiet[-1].mean() + 40  # c0 (bottom row) follows the level: 40 dB = 0.5 of 255
    coef = conv.coefficients(speechlike())
    assert coef.shape == (20, 101)
    ref = Mel(ref="full_scale")
    mel = ref._db_to_unit(ref._mel_db(speechlike(), ref.checked_params()), ref.checked_params())
    np.testing.assert_allclose(coef[0], mel.mean(axis=0), rtol=1e-4, atol=1e-5)


def test_mel_deltas_red_is_the_mel_picture_and_green_marks_onsets():
    y = np.concatenate([np.zeros(8000, np.float32), sine(1000.0, 0.5)])
    rgb = MelDeltas(n_mels=64).convert(y)
    mel = Mel(n_mels=64).convert(y)
    np.testing.assert_array_equal(rgb[:, :, 0], mel[:, :, 0])
    row = brightest_row(mel)
    onset = 50  # frame of sample 8000
    assert rgb[row, onset, 1] > 200  # level rising fast: bright green
    assert rgb[row, 20, 1] == 128 and rgb[row, 80, 1] == 128  # steady: mid grey
    assert rgb[row, onset - 3, 2] > 128 > rgb[row, onset + 3, 2]  # curvature changes sign across the onset


def test_stft_fmin_fmax_keep_only_those_bins():
    conv = STFT(n_fft=512, fmin=1000.0, fmax=4000.0)
    img = conv.convert(sine(2000.0))
    freqs = fft_frequencies(SR, 512)
    kept = freqs[(freqs >= 1000) & (freqs <= 4000)]
    assert img.shape[0] == kept.size == 97
    assert brightest_row(img) == kept.size - 1 - int(np.argmin(np.abs(kept - 2000.0)))


def test_fmax_defaults_to_nyquist_of_the_sample_rate():
    p = Mel(sample_rate=8000).checked_params()
    assert (p.fmin, p.fmax) == (0.0, 4000.0)
    basis = mel_basis(8000, 1024, 128, 0.0, 4000.0).toarray()
    np.testing.assert_allclose(
        basis, librosa.filters.mel(sr=8000, n_fft=1024, n_mels=128, fmax=4000.0, norm=None), rtol=1e-6
    )


def test_cqt_default_bins_fit_below_nyquist():
    assert CQT().checked_params().n_bins == cqt_max_bins(16000, librosa.note_to_hz("C1"), 12) == 95
    assert CQT(sample_rate=8000).checked_params().n_bins == 83
    # librosa agrees: one more bin would cross Nyquist
    with pytest.raises(librosa.ParameterError):
        librosa.cqt(np.zeros(4000, np.float32), sr=8000, n_bins=84, fmin=librosa.note_to_hz("C1"))


def test_stft_power_matches_librosa():
    y = speechlike(0.3)
    ours = stft_power(y, 512, 128)
    ref = np.abs(librosa.stft(y, n_fft=512, hop_length=128, center=True, pad_mode="constant")) ** 2
    np.testing.assert_allclose(ours, ref / (512 / 4) ** 2, rtol=1e-3, atol=1e-9)


# -- shape, size, colour, determinism, params ------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_contract_shape_determinism_and_params_round_trip(name):
    conv = get_converter(name, image_size=[48, 64])
    signal = type(conv).example_signal(np.random.default_rng(0))
    assert isinstance(signal, AudioSignal) and signal.sample_rate == 16000
    a, b = conv.convert(signal), conv.convert(signal)
    assert a.shape == (48, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    params = json.loads(json.dumps(conv.get_params()))
    again = type(conv)(**params)
    assert again == conv
    np.testing.assert_array_equal(again.convert(signal), a)
    assert conv.convert_batch([signal, signal])[1].shape == (48, 64, 3)


def test_image_size_int_and_natural():
    y = sine(500.0, 0.5)
    assert Mel(image_size=32).convert(y).shape == (32, 32, 3)
    assert Mel(image_size=(16, 40)).convert(y).shape == (16, 40, 3)
    assert Mel(n_mels=40, hop_length=100).convert(y).shape == (40, 81, 3)


def test_colour_map():
    y = np.concatenate([speechlike(0.5), np.zeros(4000, np.float32)])
    g = Mel(n_mels=32).convert(y)
    v = Mel(n_mels=32, cmap="viridis").convert(y)
    assert np.all(g[:, :, 0] == g[:, :, 2])
    assert not np.all(v[:, :, 0] == v[:, :, 2])
    # same field, different colours: where grey is black, viridis gives its darkest colour
    assert tuple(v[g[:, :, 0] == 0][0]) == (68, 1, 84)


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (Mel, {"sample_rate": 0}, "'sample_rate' must be an int in [1, 384000] (got 0)."),
        (Mel, {"n_mels": 0}, "'n_mels' must be an int >= 1 (got 0)."),
        (Mel, {"n_fft": 2}, "'n_fft' must be an int in [4, 65536] (got 2)."),
        (Mel, {"hop_length": 1.5}, "'hop_length' must be an int >= 1 (got 1.5)."),
        (Mel, {"fmax": 9000}, "'fmax' must be a finite number in (0.0, 8000.0] (got 9000)."),
        (Mel, {"fmin": 8000}, "'fmin' must be a finite number in [0.0, 8000.0) (got 8000)."),
        (Mel, {"fmin": 500, "fmax": 400}, "'fmax' must be a finite number in (500.0, 8000.0] (got 400)."),
        (Mel, {"top_db": 0}, "'top_db' must be a finite number > 0.0 (got 0)."),
        (Mel, {"ref": "peak"}, "'ref' must be one of 'full_scale', 'max' (got 'peak')."),
        (Mel, {"channels": "left"}, "'channels' must be one of 'mono', 'first', 'each' (got 'left')."),
        (Mel, {"pad_mode": "zeros"}, "'pad_mode' must be one of 'pad', 'loop', 'crop' (got 'zeros')."),
        (Mel, {"duration": 0}, "'duration' must be a finite number > 0.0 (got 0)."),
        (Mel, {"hop": 0.5}, "'hop' needs 'duration' (seconds per window) to be set (got hop=0.5)."),
        (Mel, {"duration": 1e-6},
         "'duration' must be at least one sample, 6.25e-05 s at sample_rate=16000 (got 1e-06)."),
        (Mel, {"trim_silence": "yes"}, "'trim_silence' must be True or False (got 'yes')."),
        (Mel, {"image_size": 0},
         "'image_size' must be an int >= 1 or a pair (height, width) of ints >= 1 (got 0)."),
        (Mel, {"cmap": 3}, "'cmap' must be a colour map name such as 'grey' or 'viridis' (got 3)."),
        (MFCC, {"n_mfcc": 200}, "'n_mfcc' must be an int in [1, 128] (got 200)."),
        (MelDeltas, {"delta_width": 4}, "'delta_width' must be an odd int >= 3 (got 4)."),
        (Chroma, {"n_chroma": 0}, "'n_chroma' must be an int >= 1 (got 0)."),
        (
            CQT, {"sample_rate": 8000, "n_bins": 84},
            "'n_bins' must be None or an int in [1, 83] so the top bin stays below Nyquist at "
            "sample_rate=8000 from fmin=32.7032 Hz (got 84).",
        ),
        (STFT, {"n_fft": 64, "fmin": 10.0, "fmax": 20.0},
         "'fmin'..'fmax' (10..20 Hz) must hold at least one FFT bin; "
         "bins are 250 Hz apart with n_fft=64 at sample_rate=16000."),
    ],
)
def test_bad_parameters_have_exact_messages(cls, params, message):
    with pytest.raises(ParameterError) as info:  # refused at construction ...
        cls(**params)
    assert str(info.value) == message
    conv = cls().set_params(**params)  # ... and, set later, where used
    with pytest.raises(ParameterError) as info:
        conv.check_params()
    assert str(info.value) == message
    with pytest.raises(ParameterError):
        conv.convert(np.zeros(100, dtype=np.float32))


def test_bad_arrays_are_input_errors():
    conv = Mel()
    with pytest.raises(InputError, match="empty"):
        conv.convert(np.zeros(0, dtype=np.float32))
    with pytest.raises(InputError, match="NaN or infinite"):
        conv.convert(np.array([0.0, np.nan, 0.1], dtype=np.float32))
    with pytest.raises(InputError, match="NaN or infinite"):
        conv.convert(np.array([0.0, np.inf], dtype=np.float32))
    with pytest.raises(InputError, match="use read"):
        conv.convert("clip.wav")
    with pytest.raises(InputError, match="numeric"):
        conv.convert(np.array(["a", "b"]))
    with pytest.raises(InputError, match="1-D"):
        conv.convert(np.zeros((2, 2, 2)))


def test_arrays_signals_and_rates():
    conv = Mel(n_mels=32)
    y = sine(1000.0)
    direct = conv.convert(y)
    np.testing.assert_array_equal(conv.convert(AudioSignal(y, SR)), direct)
    # a signal at another rate is resampled first: same tone, same row
    other = conv.convert(AudioSignal(sine(1000.0, sr=8000), 8000))
    assert other.shape == direct.shape and brightest_row(other) == brightest_row(direct)
    # a 2-D array is (channels, samples) and is mixed down
    np.testing.assert_array_equal(conv.convert(np.stack([y, y])), direct)
    with pytest.raises(InputError, match="one channel at a time"):
        Mel(channels="each").convert(np.stack([y, y]))


def test_audio_converters_are_registered():
    from any2img import list_converters

    assert set(NAMES) <= set(list_converters(kind="audio"))
    for name in NAMES:
        assert issubclass(type(get_converter(name)), AudioConverter)


@pytest.mark.parametrize("name", NAMES)
def test_example_bad_signals_are_input_errors(name):
    conv = get_converter(name)
    bad = type(conv).example_bad_signals(np.random.default_rng(0))
    assert len(bad) == 6
    for signal in bad:
        with pytest.raises(InputError):
            conv.convert(signal)


@pytest.mark.parametrize("gain", [1.0, 0.1, 0.01, 0.001])
def test_quiet_clips_match_librosa_ref_max_and_keep_a_black_floor(gain):
    # Issue 12: the power floor used to bind before the per-clip reference, lifting silence to grey.
    # librosa's own amin=1e-10 binds at gain 0.001 on its unnormalised scale, hence amin=1e-30 there.
    t = np.arange(8000) / 8000
    y = (gain * 0.5 * np.sin(2 * np.pi * 440 * t) * (t < 0.5)).astype(np.float32)  # a tone, then silence
    mel = get_converter("mel", sample_rate=8000)
    p = mel.get_params()
    image = mel.convert(y)[..., 0].astype(float)
    assert image[:, -5].max() == 0  # silence is black whatever the level
    power = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=p["n_fft"], hop_length=p["hop_length"],
                                           n_mels=p["n_mels"], center=True, pad_mode="constant", norm=None)
    db = librosa.power_to_db(power, ref=np.max, amin=1e-30, top_db=p["top_db"])
    expected = np.clip(db / p["top_db"] + 1, 0, 1) * 255
    assert np.abs(np.flipud(image) - expected).max() <= 1.0  # low frequencies at the bottom; rounding only
    stft = get_converter("stft", sample_rate=8000, n_fft=512, hop_length=128)
    spec = np.abs(librosa.stft(y, n_fft=512, hop_length=128, center=True, pad_mode="constant")) ** 2
    expected = np.clip(librosa.power_to_db(spec, ref=np.max, amin=1e-30, top_db=80.0) / 80.0 + 1, 0, 1) * 255
    assert np.abs(np.flipud(stft.convert(y)[..., 0].astype(float)) - expected).max() <= 1.0
