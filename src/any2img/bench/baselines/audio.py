"""Audio baseline features: MFCC statistics (mean and std of MFCC, delta, delta-delta)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_waveform", "mfcc_stats"]


def as_waveform(signal: Any, default_sr: int | None = None) -> tuple[np.ndarray, int]:
    """Return ``(samples, sample_rate)`` from what an audio reader gives.

    Accepts a ``(samples, sr)`` tuple, an object with ``samples``/``y``/
    ``data`` and ``sr``/``sample_rate`` attributes (or keys), or a bare array
    (then ``default_sr`` is required).
    """
    if isinstance(signal, tuple) and len(signal) == 2 and np.ndim(signal[1]) == 0:
        return np.asarray(signal[0], dtype=np.float32), int(signal[1])
    for data_name in ("samples", "y", "data", "audio", "waveform"):
        for sr_name in ("sr", "sample_rate", "samplerate", "rate"):
            get = signal.get if isinstance(signal, dict) else lambda k, s=signal: getattr(s, k, None)
            data, sr = get(data_name), get(sr_name)
            if data is not None and sr is not None:
                return np.asarray(data, dtype=np.float32), int(sr)
    if default_sr is None:
        raise TypeError(f"cannot find samples and sample rate in {type(signal).__name__}")
    return np.asarray(signal, dtype=np.float32), int(default_sr)


def mfcc_stats(samples: np.ndarray, sr: int, *, n_mfcc: int = 20) -> np.ndarray:
    """Mean and std over time of MFCC, delta and delta-delta: ``6 * n_mfcc`` features."""
    import librosa

    y = np.asarray(samples, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0)
    n_fft = 512 if sr <= 16000 else 2048
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=n_fft // 4)
    d1 = librosa.feature.delta(mfcc, mode="nearest")
    d2 = librosa.feature.delta(mfcc, order=2, mode="nearest")
    stack = np.concatenate([mfcc, d1, d2], axis=0)
    return np.concatenate([stack.mean(axis=1), stack.std(axis=1)]).astype(np.float64)
