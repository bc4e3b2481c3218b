"""The random equaliser of audio augmentation: hand-computed gains at and between its octave bands."""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.audio.augment import EQ_LOWEST_HZ, augment_audio, colour, eq_bands, silence_band
from any2img.converters.audio.signal import AudioSignal

RATE = 8000


def _tone(hz: float, n: int = RATE) -> np.ndarray:
    """One second of a sine at ``hz`` (a whole number of periods, so its FFT holds one bin)."""
    return np.sin(2 * np.pi * hz * np.arange(n) / RATE)[None, :]


def test_octave_bands_fit_below_nyquist():
    # 62.5 · 2^k ≤ Nyquist: 62.5 … 4000 Hz at 8 kHz is 7 bands; 16 kHz adds 8000 Hz; 44.1 kHz stops at 16 kHz.
    assert (eq_bands(8000), eq_bands(16000), eq_bands(44100)) == (7, 8, 9)
    assert eq_bands(100) == 1  # below the lowest band: one band, a plain gain


def test_flat_gains_leave_the_signal():
    x = np.random.default_rng(0).normal(size=(2, 999))
    np.testing.assert_allclose(colour(x, RATE, np.zeros(7)), x, atol=1e-12)


@pytest.mark.parametrize(("hz", "expected_db"), [(250.0, 6.0), (500.0, -12.0), (300.0, 6.0 - 18.0 * np.log2(1.2)),
                                                 (20.0, 0.0), (3000.0, 0.0)])
def test_a_tone_takes_the_gain_of_its_place_on_the_log_frequency_curve(hz, expected_db):
    gains = np.zeros(7)
    gains[2], gains[3] = 6.0, -12.0  # 250 Hz and 500 Hz: -18 dB per octave between them
    out = colour(_tone(hz), RATE, gains)
    ratio = np.sqrt(np.mean(out**2) / np.mean(_tone(hz) ** 2))
    assert 20 * np.log10(ratio) == pytest.approx(expected_db, abs=1e-6)
    assert EQ_LOWEST_HZ * 2**2 == 250.0


def test_equaliser_colours_by_default_and_zero_turns_it_off():
    signal = AudioSignal(_tone(440.0).astype(np.float32), RATE)
    plain = augment_audio(signal, np.random.default_rng(3), eq_db=0.0)
    coloured = augment_audio(signal, np.random.default_rng(3))
    assert coloured.sample_rate == RATE and coloured.samples.shape == plain.samples.shape
    assert not np.allclose(coloured.samples, plain.samples)
    assert np.abs(coloured.samples).max() <= 1.0
    # colouring changes levels, not pitch: the tone stays within the speed perturbation's +-10 % of 440 Hz
    peak_hz = np.argmax(np.abs(np.fft.rfft(coloured.samples[0]))) * RATE / coloured.samples.shape[1]
    assert 0.9 * 440.0 <= peak_hz <= 1.1 * 440.0


def test_a_silenced_band_removes_its_tones_and_keeps_the_others():
    both = _tone(250.0) + _tone(1000.0)
    out = silence_band(both, RATE, 200.0, 300.0)
    np.testing.assert_allclose(out, _tone(1000.0), atol=1e-9)


def test_masks_are_off_by_default_and_silence_a_span_and_a_band_when_asked():
    signal = AudioSignal((0.5 * (_tone(250.0) + _tone(1000.0))).astype(np.float32), RATE)
    plain = augment_audio(signal, np.random.default_rng(5), snr_db=(300.0, 300.0))
    again = augment_audio(signal, np.random.default_rng(5), snr_db=(300.0, 300.0), time_mask=0.0, band_mask=0.0)
    np.testing.assert_array_equal(plain.samples, again.samples)
    masked = augment_audio(signal, np.random.default_rng(5), snr_db=(300.0, 300.0), time_mask=0.3, band_mask=6.0)
    assert masked.samples.shape == plain.samples.shape
    quiet = np.abs(masked.samples[0]) < 1e-6
    runs = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]])))
    longest = (runs[1::2] - runs[::2]).max()
    assert 100 < longest <= 0.3 * masked.samples.shape[1] + 1  # a silent span (530 samples here), at most 30 %
    assert np.sum(masked.samples**2) < np.sum(plain.samples**2)  # something was taken away
