"""Resampling a series to a given number of timestamps.

Every time-series image has a fixed size, while series come in any length, so
each series is brought to the number of rows (or columns) of its image:

* **shorter** series are stretched by linear interpolation, with the first
  and last values kept at the ends (``numpy.interp`` on an evenly spaced grid);
* **longer** series are shrunk by area averaging: output sample ``k`` is the
  mean of the input over ``[k * n / m, (k + 1) * n / m)``, fractional samples
  weighted by their overlap. When ``m`` divides ``n`` this is exactly the
  piecewise aggregate approximation (PAA) that pyts uses.

Both are linear maps, so they are built once per ``(n, m)`` as an ``(m, n)``
matrix and applied to a whole batch with one matrix product. The MTF code
also applies the matrix to one-hot bin memberships, which makes the
aggregated Markov transition field of pyts a special case.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["resample", "resample_matrix"]


@lru_cache(maxsize=128)
def _matrix(n: int, m: int) -> np.ndarray:
    if m == n:
        return np.eye(n)
    if m > n:  # linear interpolation, ends aligned
        pos = np.linspace(0.0, n - 1.0, m)
        left = np.clip(np.floor(pos).astype(int), 0, n - 2)
        frac = pos - left
        mat = np.zeros((m, n))
        rows = np.arange(m)
        mat[rows, left] = 1.0 - frac
        mat[rows, left + 1] += frac
        return mat
    # area averaging: overlap of input cell [i, i + 1) with output cell [k*n/m, (k+1)*n/m)
    edges = np.arange(m + 1) * (n / m)
    cells = np.arange(n)
    lo = np.maximum(edges[:-1, None], cells[None, :])
    hi = np.minimum(edges[1:, None], cells[None, :] + 1.0)
    return np.clip(hi - lo, 0.0, None) * (m / n)


def resample_matrix(n: int, m: int) -> np.ndarray:
    """Return the ``(m, n)`` matrix that resamples ``n`` timestamps to ``m``.

    Parameters
    ----------
    n : int
        Input length, ``n >= 2`` (or ``n == m``).
    m : int
        Output length, ``m >= 1``.

    Returns
    -------
    numpy.ndarray of shape (m, n)
        Each row sums to 1 (read-only, shared between calls).

    Examples
    --------
    >>> resample_matrix(4, 2)
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]])
    """
    mat = _matrix(int(n), int(m))
    mat.setflags(write=False)
    return mat


def resample(x: np.ndarray, m: int) -> np.ndarray:
    """Resample the last axis of ``x`` to ``m`` timestamps.

    Parameters
    ----------
    x : numpy.ndarray of shape (..., n_timestamps)
        Series; a batch is resampled in one matrix product.
    m : int
        Output length.

    Returns
    -------
    numpy.ndarray of shape (..., m), float64

    Examples
    --------
    >>> resample(np.array([0.0, 1.0, 2.0]), 5)
    array([0. , 0.5, 1. , 1.5, 2. ])
    >>> resample(np.arange(6.0), 3)
    array([0.5, 2.5, 4.5])
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    if n == m:
        return x.copy()
    return x @ resample_matrix(n, m).T
