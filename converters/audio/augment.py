"""Signal-domain augmentation of audio: speed perturbation, time shift, gain and noise.

On the waveform, before the spectrogram: a flipped spectrogram plays time
backwards, a crop cuts frequencies off. Speed perturbation (resampling by a
factor near 1, changing tempo and pitch together) is Ko et al. (2015)'s,
standard in Kaldi recipes.
"""

from __future__ import annotations

import numpy as np
from any2img.converters.audio.signal import AudioSignal

__all__ = ["augment_audio"]


def augment_audio(signal: AudioSignal, rng: np.random.Generator, *, speed: float = 0.1, shift: float = 0.1,
                  gain_db: float = 6.0, snr_db: tuple[float, float] = (20.0, 40.0)) -> AudioSignal:
    """A randomly perturbed copy of ``signal``.

    Parameters
    ----------
    signal : AudioSignal
    rng : numpy.random.Generator
    speed : float, default=0.1
        Played faster or slower by a factor in ``[1 - speed, 1 + speed]``.
    shift : float, default=0.1
        Moved later or earlier by up to this many seconds (silence fills in).
    gain_db : float, default=6.0
        Louder or quieter by up to this many decibels (clipped to full scale).
    snr_db : (low, high), default=(20, 40)
        White noise at a signal-to-noise ratio drawn from this range.

    Returns
    -------
    AudioSignal
        At the same sample rate; its length changes with the speed.
    """
    samples = np.asarray(signal.samples, dtype=np.float64)
    n = samples.shape[1]
    if n < 2:
        return signal
    factor = rng.uniform(1 - speed, 1 + speed)
    length = max(2, int(round(n / factor)))
    grid = np.linspace(0, n - 1, length)
    out = np.stack([np.interp(grid, np.arange(n), ch) for ch in samples])
    k = int(rng.integers(-int(shift * signal.sample_rate), int(shift * signal.sample_rate) + 1))
    if k > 0:
        out = np.concatenate([np.zeros((out.shape[0], k)), out[:, :-k]], axis=1) if k < length else out * 0
    elif k < 0:
        out = np.concatenate([out[:, -k:], np.zeros((out.shape[0], -k))], axis=1) if -k < length else out * 0
    out = out * 10 ** (rng.uniform(-gain_db, gain_db) / 20)
    rms = float(np.sqrt(np.mean(out**2)))
    if rms > 0:
        out = out + rng.normal(0.0, rms * 10 ** (-rng.uniform(*snr_db) / 20), size=out.shape)
    return AudioSignal(np.clip(out, -1.0, 1.0).astype(np.float32), signal.sample_rate)
