"""The audio signal type and the small operations every audio converter shares.

An :class:`AudioSignal` holds float32 samples shaped ``(n_channels, n_samples)``
and their sample rate. Helpers here turn what a user has (a 1-D array, a
``(channels, samples)`` array, a :class:`~any2img.converter.Window`) into one,
mix channels down, resample, and refuse samples that are not finite.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from any2img.converter import Window
from any2img.errors import InputError

__all__ = ["CHANNEL_MODES", "AudioSignal", "as_signal", "check_finite", "resample", "select_channels"]

#: What ``channels`` may be: mix down to one channel, keep the first one, or
#: keep every channel (each becomes its own record or window).
CHANNEL_MODES = ("mono", "first", "each")


@dataclass(frozen=True, eq=False)
class AudioSignal:
    """Audio samples and their rate.

    Parameters
    ----------
    samples : array-like of shape (n_channels, n_samples) or (n_samples,)
        The samples, full scale being [-1, 1]. Stored as a C-contiguous
        float32 array of shape ``(n_channels, n_samples)``; a 1-D array is one
        channel.
    sample_rate : int
        Samples per second, >= 1.

    Examples
    --------
    >>> sig = AudioSignal(np.zeros(8000), 16000)
    >>> sig.samples.shape, sig.duration
    ((1, 8000), 0.5)
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        data = _numeric(self.samples)
        if data.ndim == 1:
            data = data[np.newaxis, :]
        if data.ndim != 2:
            raise InputError(
                f"audio samples must be 1-D (n_samples,) or 2-D (n_channels, n_samples) (got shape {data.shape})"
            )
        rate = self.sample_rate
        if not (isinstance(rate, numbers.Integral) and not isinstance(rate, bool) and rate >= 1):
            raise InputError(f"'sample_rate' of an audio signal must be an int >= 1 (got {rate!r})")
        object.__setattr__(self, "samples", np.ascontiguousarray(data))
        object.__setattr__(self, "sample_rate", int(rate))

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sample_rate

    def __repr__(self) -> str:
        return (
            f"AudioSignal(n_channels={self.n_channels}, n_samples={self.n_samples}, "
            f"sample_rate={self.sample_rate})"
        )


def as_signal(data: Any, sample_rate: int) -> AudioSignal:
    """Return ``data`` as an :class:`AudioSignal`.

    Parameters
    ----------
    data : AudioSignal, Window or array-like
        An array is taken to be sampled at ``sample_rate``: 1-D is one
        channel, 2-D is ``(n_channels, n_samples)``.
    sample_rate : int
        The rate assumed for a bare array.
    """
    if isinstance(data, Window):
        data = data.data
    if isinstance(data, AudioSignal):
        return data
    if isinstance(data, (str, bytes)) or data is None:
        raise InputError(
            f"expected audio samples (an AudioSignal or a numeric array) (got {type(data).__name__}); "
            "use read(path) for a file"
        )
    return AudioSignal(_numeric(data), sample_rate)


def _numeric(data: Any) -> np.ndarray:
    """``data`` as float32 samples: real numbers only (bool, int or float dtypes; no complex, no time deltas)."""
    if isinstance(data, np.ndarray) and data.dtype == np.float32:
        return data
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:  # ragged lists: "inhomogeneous shape"
        raise InputError(f"audio samples must be a rectangular array of numbers ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        what = {"c": "complex numbers: pass the real part or the magnitude explicitly",
                "m": "time deltas, not samples", "M": "dates, not samples"}.get(arr.dtype.kind, "not numbers")
        raise InputError(f"audio samples must be a real numeric array (got dtype {arr.dtype}: {what})")
    try:
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, which check_finite then refuses
            return arr.astype(np.float32, copy=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"audio samples must be numbers ({exc})") from exc


def select_channels(signal: AudioSignal, mode: str) -> AudioSignal:
    """Apply a channel mode: ``"mono"`` averages the channels, ``"first"`` keeps
    channel 0, ``"each"`` keeps them all."""
    if signal.n_channels == 1 or mode == "each":
        return signal
    if mode == "first":
        return AudioSignal(signal.samples[:1], signal.sample_rate)
    return AudioSignal(signal.samples.mean(axis=0, keepdims=True, dtype=np.float32), signal.sample_rate)


def resample(signal: AudioSignal, sample_rate: int) -> AudioSignal:
    """Resample every channel to ``sample_rate``.

    Same result as ``librosa.resample(y, res_type="soxr_hq")`` (soxr, high
    quality, output length ``ceil(n * ratio)``), calling soxr directly so a
    worker process need not import librosa's audio module.
    """
    if signal.n_samples == 0:
        return AudioSignal(signal.samples, sample_rate)
    if signal.sample_rate == sample_rate:
        return signal
    import soxr

    n_out = int(np.ceil(signal.n_samples * sample_rate / signal.sample_rate))
    out = np.zeros((signal.n_channels, n_out), dtype=np.float32)
    for c in range(signal.n_channels):
        y = soxr.resample(signal.samples[c], signal.sample_rate, sample_rate, quality="soxr_hq")
        m = min(n_out, y.shape[0])
        out[c, :m] = y[:m]
    return AudioSignal(out, sample_rate)


def check_finite(signal: AudioSignal, *, path: object | None = None) -> AudioSignal:
    """Raise :class:`InputError` if any sample is NaN or infinite."""
    samples = signal.samples
    if not np.isfinite(samples).all():
        bad = np.flatnonzero(~np.isfinite(samples).reshape(-1))
        channel, index = divmod(int(bad[0]), max(signal.n_samples, 1))
        raise InputError(
            f"audio contains {bad.size} NaN or infinite sample(s) (first at sample {index} of channel {channel}); "
            "samples must be finite",
            path=path,
        )
    return signal
