"""Where a spectrogram's pixels come from: an attribution back onto seconds x frequency.

A spectrogram picture is a field ``(n_rows, n_frames)`` (row 0 the lowest
frequency) flipped so low frequencies sit at the bottom and resized to the
image with Pillow's bilinear filter (:func:`any2img.imaging.resize_field`).
The resize is separable and linear, ``image = A_h @ field @ A_w.T``, so an
attribution ``R`` over the image goes back onto the field as
``A_h.T @ R @ A_w`` (:func:`any2img.relevance.resize_matrix`), which keeps its
sum, and is flipped back.

Frame ``k`` of a window is centred on sample ``k * hop_length`` of the
window (the STFT and CQT pad by half a frame), so it sits at
``start + k * hop_length / sample_rate`` seconds of the recording, where
``start`` is the window's offset (:attr:`any2img.converter.Window.start`).
Rows are labelled by their centre frequency in Hz (mel band centres on the
Slaney scale, FFT bins, constant-Q bins), or by coefficient (MFCC) or pitch
class (chroma, C = 0).
"""

from __future__ import annotations

import numpy as np

from any2img.relevance import resize_matrix

__all__ = ["cqt_frequencies", "field_relevance", "frame_times", "mel_frequencies"]


def field_relevance(attribution: np.ndarray, n_rows: int, n_frames: int) -> np.ndarray:
    """Carry an image attribution ``(H, W)`` back onto the field ``(n_rows, n_frames)``, row 0 lowest.

    Examples
    --------
    >>> a = np.zeros((4, 6)); a[0, 5] = 1.0    # top right pixel of the image
    >>> field_relevance(a, 4, 6)[3, 5]         # the highest row, the last frame
    1.0
    """
    h, w = attribution.shape
    rows, cols = resize_matrix(n_rows, h), resize_matrix(n_frames, w)
    return (rows.T @ attribution @ cols)[::-1].copy()


def frame_times(n_frames: int, hop_length: int, sample_rate: int, start: float = 0.0) -> np.ndarray:
    """Centre of each frame in seconds of the recording (``start``: the window's offset).

    Examples
    --------
    >>> frame_times(3, 80, 8000, start=1.5).tolist()
    [1.5, 1.51, 1.52]
    """
    return start + np.arange(n_frames) * (hop_length / sample_rate)


def mel_frequencies(n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Centre (Hz) of each of ``n_mels`` Slaney mel bands between ``fmin`` and ``fmax``."""
    import librosa

    return np.asarray(librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=False)[1:-1], dtype=np.float64)


def cqt_frequencies(n_bins: int, fmin: float, bins_per_octave: int) -> np.ndarray:
    """Centre (Hz) of each constant-Q bin: ``fmin * 2 ** (k / bins_per_octave)``."""
    return fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
