"""Resampling a series to a given number of timestamps.

Every time-series image has a fixed size, while series come in any length, so
each series is brought to the number of rows (or columns) of its image:

* **shorter** series are stretched by linear interpolation, with the first
  and last values kept at the ends (as ``numpy.interp`` on an evenly spaced
  grid);
* **longer** series are shrunk by area averaging: output sample ``k`` is the
  mean of the input over ``[k * n / m, (k + 1) * n / m)``, the input seen as
  a step function, fractional samples weighted by their overlap. When ``m``
  divides ``n`` this is exactly the piecewise aggregate approximation (PAA)
  that pyts uses.

Both work on the last axis of a whole batch at once, with index arithmetic
and a cumulative sum rather than a resampling matrix: a matrix product would
go through BLAS, whose threads fight over the cores when several conversions
run side by side. Both are linear, which the MTF code relies on (it resamples
one-hot state memberships).
"""

from __future__ import annotations

import numpy as np

__all__ = ["resample"]


def resample(x: np.ndarray, m: int) -> np.ndarray:
    """Resample the last axis of ``x`` to ``m`` timestamps.

    Parameters
    ----------
    x : numpy.ndarray of shape (..., n_timestamps)
        Series (``n_timestamps >= 2`` unless it equals ``m``); a batch is
        resampled at once.
    m : int
        Output length, >= 1.

    Returns
    -------
    numpy.ndarray of shape (..., m), float64
        A new array.

    Examples
    --------
    >>> resample(np.array([0.0, 1.0, 2.0]), 5)
    array([0. , 0.5, 1. , 1.5, 2. ])
    >>> resample(np.arange(6.0), 3)
    array([0.5, 2.5, 4.5])
    >>> resample(np.array([0.0, 3.0, 6.0]), 2)
    array([1., 5.])
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    if n == m:
        return x.copy()
    if m > n:  # linear interpolation, ends aligned
        pos = np.linspace(0.0, n - 1.0, m)
        left = np.clip(np.floor(pos).astype(np.intp), 0, n - 2)
        frac = pos - left
        return x[..., left] * (1.0 - frac) + x[..., left + 1] * frac
    # area averaging: integral of the step function between the output cell edges
    # measured from the first value, so the cumulative sum carries no offset: a constant series
    # comes back exactly constant, and long series with a large offset lose no precision
    first = x[..., :1]
    x = x - first
    edges = np.arange(m + 1) * (n / m)
    cell = np.minimum(np.floor(edges).astype(np.intp), n - 1)
    frac = edges - cell
    integral = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    at_edges = integral[..., cell] + frac * x[..., cell]
    return np.diff(at_edges, axis=-1) * (m / n) + first
