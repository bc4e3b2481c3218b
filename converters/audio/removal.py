"""Removing frames of a recording, for occlusion in the signal's domain and deletion tests.

Frame ``k`` of a window's spectrogram is centred on sample ``k * hop`` (see
:mod:`.relevance`); removing it silences the ``hop`` samples around that
centre, ``k hop - hop / 2`` up to ``k hop + hop / 2``, so removing every
frame silences the whole window and no sample belongs to two frames.
"""

from __future__ import annotations

import numpy as np

__all__ = ["delete_frames"]


def delete_frames(samples: np.ndarray, frames: np.ndarray, hop: int) -> np.ndarray:
    """Zero the samples of the removed frames (frame ``k`` spans samples ``k hop - hop/2 .. k hop + hop/2``).

    Parameters
    ----------
    samples : ndarray of shape (n_samples,)
    frames : ndarray of bool, shape (n_frames,)
    hop : int
        Samples between frames.

    Returns
    -------
    ndarray of shape (n_samples,), float32
        A new array.

    Examples
    --------
    >>> delete_frames(np.ones(8), np.array([False, True, False]), 4).tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    y = np.asarray(samples, dtype=np.float32).copy()
    for k in np.flatnonzero(frames):
        lo, hi = max(0, int(k * hop - hop // 2)), min(y.size, int(k * hop + hop - hop // 2))
        y[lo:hi] = 0.0
    return y
