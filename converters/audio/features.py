"""Spectral features in full-scale units, with the heavy pieces cached.

Every magnitude here is normalised so that a full-scale sine (amplitude 1.0)
reads about 1.0 in the band that holds it; decibels are then *dBFS* and need
no per-clip reference. That is what makes a clip and a slice of it give the
same pixels.

* :func:`stft_power` — periodic Hann window, frames centred on
  ``t * hop_length`` (zero padding at both ends, as ``librosa.stft`` with
  ``center=True, pad_mode="constant"``), power divided by ``(sum(window)/2)**2``;
  :func:`stft_power_many` does many signals in one ``rfft``.
* :func:`mel_basis` — ``librosa.filters.mel`` with triangles of peak 1
  (``norm=None``), cached: a sine at a band's centre reads ~0 dBFS.
* :func:`chroma_basis` — ``librosa.filters.chroma`` without octave weighting,
  calibrated on a full-scale sine, cached.
* :func:`cqt_amplitude` — ``librosa.cqt`` with each bin divided by
  ``sqrt(filter length) / 2``.
* :func:`dct_basis` — orthonormal DCT-II matrix for MFCCs, cached.

The caches are per process, so a worker of a batch conversion builds each
filter bank once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "AMIN",
    "POWER_FLOOR",
    "chroma_basis",
    "cqt_amplitude",
    "cqt_max_bins",
    "dct_basis",
    "delta",
    "fft_frequencies",
    "mel_basis",
    "power_to_db",
    "stft_power",
    "stft_power_many",
]

#: Smallest power kept before taking logs (-100 dBFS).
AMIN = 1e-10
#: Smallest power (full-scale-normalised) that becomes a finite dB value: -200 dBFS.
POWER_FLOOR = 1e-20

#: Effective bandwidth of the Hann window, in bins (librosa's ``window_bandwidth("hann")``).
_HANN_BANDWIDTH = 1.50018310546875


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float32)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=16)
def _hann(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft, dtype=np.float64)
    return _frozen(0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft))


def fft_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """Centre frequency (Hz) of each STFT row, ``n_fft // 2 + 1`` values."""
    return np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)


def stft_power(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Power spectrogram of a 1-D signal, ``(n_fft // 2 + 1, 1 + len(y) // hop_length)``.

    Normalised so that a full-scale sine centred on a bin reads 1.0 there.
    """
    return stft_power_many([y], n_fft, hop_length)


#: Frame cells (frames x n_fft) transformed per ``rfft`` call: 2 MB of float32 frames stay in the cache, and
#: a long window (an hour's 60-s windows are 6,000 frames each) never holds all its complex spectra at once.
FFT_PASS_CELLS = 2**19


def stft_power_many(ys: Sequence[np.ndarray], n_fft: int, hop_length: int) -> np.ndarray:
    """Power spectrograms of many 1-D signals side by side, ``(n_fft // 2 + 1, sum(1 + len(y) // hop_length))``.

    The columns of ``ys[0]`` come first, then those of ``ys[1]``, and so on;
    each block is exactly :func:`stft_power` of that signal (every frame is
    transformed on its own), but the frames of all signals go through
    ``scipy.fft.rfft`` in passes of :data:`FFT_PASS_CELLS` cells across the
    signals (one thread; 3x faster than ``numpy.fft`` on float32 frames
    here), so memory beyond the result stays a few megabytes whatever the
    signals' length.
    """
    from scipy import fft

    window = _hann(n_fft)
    pad = n_fft // 2
    counts = [1 + len(y) // hop_length for y in ys]
    total = sum(counts)
    power = np.empty((n_fft // 2 + 1, total), dtype=np.float32)
    rows = max(1, min(total, FFT_PASS_CELLS // n_fft))
    frames = np.empty((rows, n_fft), dtype=np.float32)
    scale = np.float32(4.0 / float(window.sum()) ** 2)
    filled, done = 0, 0

    def transform() -> None:
        nonlocal filled, done
        spec = fft.rfft(frames[:filled], axis=-1, workers=1)
        block = spec.real**2 + spec.imag**2
        block *= scale
        power[:, done : done + filled] = block.T
        done, filled = done + filled, 0

    for y, n_frames in zip(ys, counts):
        padded = np.zeros(len(y) + n_fft, dtype=np.float32)
        padded[pad : pad + len(y)] = y
        view = np.lib.stride_tricks.as_strided(padded, (n_frames, n_fft), (hop_length * 4, 4), writeable=False)
        at = 0
        while at < n_frames:
            take = min(n_frames - at, rows - filled)
            np.multiply(view[at : at + take], window, out=frames[filled : filled + take])
            filled, at = filled + take, at + take
            if filled == rows:
                transform()
    if filled:
        transform()
    return power


@lru_cache(maxsize=32)
def mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> Any:
    """Mel filter bank ``(n_mels, n_fft // 2 + 1)`` with triangles of peak 1 (Slaney mel scale).

    Returned as a ``scipy.sparse`` CSR array (each FFT bin feeds at most two
    bands): the product with a spectrogram is then a few thousand
    multiply-adds per frame and starts no BLAS threads, which matters when
    several worker processes share the cores.
    """
    import librosa
    from scipy import sparse

    dense = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, norm=None)
    return sparse.csr_array(dense.astype(np.float32))


@lru_cache(maxsize=16)
def chroma_basis(sample_rate: int, n_fft: int, n_chroma: int) -> np.ndarray:
    """Chroma filter bank ``(n_chroma, n_fft // 2 + 1)``, row 0 = C.

    No octave weighting (every octave counts alike); scaled so that a
    full-scale sine on a pitch of the A440 scale reads 1.0 in its row.
    """
    import librosa

    basis = librosa.filters.chroma(
        sr=sample_rate, n_fft=n_fft, n_chroma=n_chroma, tuning=0.0, octwidth=None, norm=None, base_c=True
    )
    # Calibrate on a sine at the A440-scale pitch nearest a quarter of Nyquist.
    midi = np.round(12 * np.log2(sample_rate / 8.0 / 440.0)) + 69
    freq = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(4 * n_fft) / sample_rate
    power = stft_power(np.sin(2 * np.pi * freq * t).astype(np.float32), n_fft, n_fft // 4)
    response = basis @ power[:, power.shape[1] // 2]
    return _frozen(basis / max(float(response.max()), AMIN))


@lru_cache(maxsize=16)
def dct_basis(n_mfcc: int, n_mels: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n_mfcc, n_mels)``, as ``scipy.fft.dct(norm="ortho")``."""
    k = np.arange(n_mfcc)[:, np.newaxis]
    n = np.arange(n_mels)[np.newaxis, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_mels)) * np.sqrt(2.0 / n_mels)
    basis[0] /= np.sqrt(2.0)
    return _frozen(basis)


def power_to_db(power: np.ndarray) -> np.ndarray:
    """``10 * log10(max(power, POWER_FLOOR))`` as float32: dBFS for full-scale-normalised power.

    The floor is -200 dBFS, far below any ``top_db`` range under a quiet
    clip's peak: with the earlier -100 dBFS floor, a clip peaking below
    -20 dBFS had its silence drawn grey under ``ref="max"`` instead of black
    (librosa's ``amin=1e-10`` applies to unnormalised power, about 54 dB
    lower on this scale).
    """
    return (10.0 * np.log10(np.maximum(power, POWER_FLOOR))).astype(np.float32, copy=False)


def _cqt_alpha(bins_per_octave: int) -> float:
    r = 2.0 ** (2.0 / bins_per_octave)
    return (r - 1.0) / (r + 1.0)


def cqt_max_bins(sample_rate: int, fmin: float, bins_per_octave: int) -> int:
    """Number of constant-Q bins from ``fmin`` whose band stays below Nyquist."""
    top = sample_rate / 2.0 / (1.0 + 0.5 * _HANN_BANDWIDTH * _cqt_alpha(bins_per_octave))
    if top <= fmin:
        return 0
    return int(np.floor(bins_per_octave * np.log2(top / fmin) + 1e-9)) + 1


@lru_cache(maxsize=16)
def _cqt_norm(sample_rate: int, fmin: float, n_bins: int, bins_per_octave: int) -> np.ndarray:
    import librosa

    freqs = librosa.cqt_frequencies(n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    lengths, _ = librosa.filters.wavelet_lengths(
        freqs=freqs, sr=sample_rate, window="hann", filter_scale=1, gamma=0, alpha=_cqt_alpha(bins_per_octave)
    )
    return _frozen(2.0 / np.sqrt(lengths))[:, np.newaxis]


def cqt_amplitude(
    y: np.ndarray, sample_rate: int, hop_length: int, fmin: float, n_bins: int, bins_per_octave: int
) -> np.ndarray:
    """Constant-Q amplitude ``(n_bins, 1 + len(y) // hop_length)``; a full-scale sine reads ~1.0."""
    import librosa

    c = librosa.cqt(
        np.asarray(y, dtype=np.float32), sr=sample_rate, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
        bins_per_octave=bins_per_octave, scale=True, res_type="soxr_hq",
    )
    return (np.abs(c) * _cqt_norm(sample_rate, fmin, n_bins, bins_per_octave)).astype(np.float32, copy=False)


def delta(field: np.ndarray, width: int, order: int = 1) -> np.ndarray:
    """Local derivative along time (Savitzky-Golay, as ``librosa.feature.delta``).

    Edges repeat the nearest frame (``mode="nearest"``), so any number of
    frames works; units are the field's units per frame.
    """
    from scipy.signal import savgol_filter

    return savgol_filter(field, width, order, deriv=order, axis=-1, mode="nearest").astype(np.float32, copy=False)
