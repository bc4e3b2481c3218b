"""Removing time steps of a series, for occlusion in the signal's domain and deletion tests.

A removed step is replaced by linear interpolation between the nearest kept
steps on either side (held flat beyond the first or last kept step), in
every channel: the series keeps its length, so the converter draws it as
before, and the removed stretch carries no shape of its own.
"""

from __future__ import annotations

import numpy as np

__all__ = ["delete_steps"]


def delete_steps(series: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """Replace the removed time steps of every channel by linear interpolation between the kept ones.

    Parameters
    ----------
    series : array-like of shape (n_timestamps,) or (n_channels, n_timestamps)
    remove : ndarray of bool, shape (n_timestamps,)

    Returns
    -------
    ndarray of shape (n_channels, n_timestamps), float64
        A new array; all zeros when every step is removed.

    Examples
    --------
    >>> delete_steps(np.array([[0.0, 5.0, 2.0, 3.0]]), np.array([False, True, False, False])).tolist()
    [[0.0, 1.0, 2.0, 3.0]]
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64)).copy()
    remove = np.asarray(remove, dtype=bool)
    keep = ~remove
    if not keep.any():
        return np.zeros_like(x)
    idx = np.arange(x.shape[1])
    for c in range(x.shape[0]):
        x[c, remove] = np.interp(idx[remove], idx[keep], x[c, keep])
    return x
