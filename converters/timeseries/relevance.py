"""Where a time-series picture's pixels come from: an attribution back onto the time steps.

Every time-series picture is drawn from the series *resampled* to the image's
rows or columns (:mod:`.resample`, linear in the series), so a relevance per
resampled step goes back to the original steps through the transpose of the
resampling: with ``R`` the ``(m, n)`` resampling matrix, relevance ``r`` over
the ``m`` resampled steps becomes ``R.T @ r`` over the ``n`` original ones.
Every column of ``R.T`` sums to 1 (each resampled value is a weighted mean of
original values), so the total is kept.

* **Fields** (GASF, GADF, MTF, GAF+MTF): pixel ``(i, j)`` relates resampled
  step ``i`` of the rows and ``j`` of the columns, so half of its score goes
  to each: the row marginal through the rows' resampling plus the column
  marginal through the columns'.
* **Recurrence plots**: row ``i`` is the trajectory of resampled steps
  ``i, i + tau, ..., i + (d - 1) tau``; its share is split evenly between
  them.
* **Line plots**: x is time; column ``c`` covers a stretch of the series,
  and its score (summed over the column) is split over the steps drawn
  there: sampled across the column's width, each sample split between the
  two steps around it by linear interpolation. The y axis is the value, not
  time, and is summed out.

Multivariate series: a tiled picture maps each tile to its own channel; a
stacked one mixes the channels in colour (or on one plot), so every channel
gets an equal share of the same relevance.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from any2img.converters.timeseries.resample import resample

__all__ = ["field_steps", "lineplot_steps", "resample_matrix", "to_original_steps"]


@lru_cache(maxsize=32)
def _matrix(n: int, m: int) -> np.ndarray:
    out = resample(np.eye(n), m).T  # row k: the weights of the original steps in resampled step k
    out.setflags(write=False)
    return out


def resample_matrix(n: int, m: int) -> np.ndarray:
    """The ``(m, n)`` matrix of :func:`.resample.resample` from ``n`` to ``m`` steps.

    Examples
    --------
    >>> resample_matrix(4, 2).tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    """
    return _matrix(int(n), int(m))


def to_original_steps(relevance: np.ndarray, n: int) -> np.ndarray:
    """Carry relevance over ``m`` resampled steps back to the ``n`` original steps (sum kept).

    The transpose of :func:`resample_matrix` applied to ``relevance``,
    computed without the ``(m, n)`` matrix (a 10,000-step series would need
    800 MB for it): each resampled step hands its relevance to the original
    steps it was made of, with the same weights.

    Examples
    --------
    >>> to_original_steps(np.array([1.0, 0.0]), 4).tolist()
    [0.5, 0.5, 0.0, 0.0]
    """
    r = np.asarray(relevance, dtype=np.float64)
    n, m = int(n), r.size
    if m == n:
        return r.copy()
    if n == 1:  # every resampled step is the one original step
        return np.array([r.sum()])
    if m > n:  # resample interpolated: step k is (1 - frac) of step left and frac of step left + 1
        pos = np.linspace(0.0, n - 1.0, m)
        left = np.clip(np.floor(pos).astype(np.intp), 0, n - 2)
        frac = pos - left
        return (np.bincount(left, r * (1.0 - frac), minlength=n) + np.bincount(left + 1, r * frac, minlength=n))
    # resample averaged areas: cell k covers [k n/m, (k+1) n/m) of the original steps, weight m/n per unit;
    # original step j receives the integral over [j, j+1) of the step function worth r[k] * m/n on cell k
    width = n / m
    edges = np.arange(n + 1, dtype=np.float64)
    cell = np.minimum(np.floor(edges / width).astype(np.intp), m - 1)
    before = np.concatenate([[0.0], np.cumsum(r)])  # relevance of the whole cells before each cell
    integral = before[cell] + (edges - cell * width) * r[cell] / width
    return np.diff(integral)


def _embedded(marginal: np.ndarray, dimension: int, time_delay: int) -> np.ndarray:
    """Spread trajectory relevance over the resampled steps each trajectory holds."""
    span = (dimension - 1) * time_delay
    out = np.zeros(marginal.size + span)
    for k in range(dimension):
        out[k * time_delay : k * time_delay + marginal.size] += marginal / dimension
    return out


def field_steps(attribution: np.ndarray, n: int, *, dimension: int = 1, time_delay: int = 1) -> np.ndarray:
    """Relevance per original step of a pairwise field ``(h, w)`` of a series of ``n`` steps.

    Parameters
    ----------
    attribution : ndarray of shape (h, w)
    n : int
        Length of the original series.
    dimension, time_delay : int, default=1
        The recurrence plot's embedding (1, 1 for Gramian and Markov fields).

    Returns
    -------
    ndarray of shape (n,)
        Sums to the attribution's sum.

    Examples
    --------
    >>> a = np.zeros((4, 4)); a[1, 1] = 1.0
    >>> field_steps(a, 4).tolist()
    [0.0, 1.0, 0.0, 0.0]
    """
    rows = _embedded(attribution.sum(axis=1), dimension, time_delay)
    cols = _embedded(attribution.sum(axis=0), dimension, time_delay)
    return 0.5 * (to_original_steps(rows, n) + to_original_steps(cols, n))


def lineplot_steps(attribution: np.ndarray, n: int, supersample: int) -> np.ndarray:
    """Relevance per step of a line plot ``(h, w)`` of ``n`` steps (x spans the whole image).

    The plot puts step ``t`` at ``t (w s - 1) / (n - 1)`` on a canvas ``s``
    times larger, which is box-filtered down: output column ``c`` is the mean
    of the canvas columns ``c s .. c s + s - 1``. The column's score is
    shared equally by those canvas columns (the adjoint of the box filter),
    and each canvas column's share goes to the two steps around its position
    by linear interpolation. Where one canvas column spans more than half a
    step (``2 (n - 1) > w s - 1``), each is sampled several times, evenly over
    its width, so that the samples lie at most half a step apart: no step
    falls between two samples and is left without relevance (sampling only
    the centres of the ``w`` output columns left 22 of GunPoint's 150 steps
    at 0 in a 64 px plot).

    Examples
    --------
    >>> a = np.zeros((2, 4)); a[:, 0] = 1.0
    >>> lineplot_steps(a, 2, 1).round(3).tolist()
    [2.0, 0.0]
    >>> lineplot_steps(np.ones((2, 2)), 3, 2).round(3).tolist()  # 2/3 step a canvas column: 4 samples a column
    [1.25, 1.5, 1.25]
    """
    columns = attribution.sum(axis=0)
    w = columns.size
    s = supersample
    if n == 1:
        return np.array([columns.sum()])
    span = (n - 1) / max(w * s - 1.0, 1.0)  # steps per canvas column
    q = s * max(1, int(np.ceil(2.0 * span - 1e-9)))  # samples per output column, at most half a step apart
    # sample j of column c: the centre of the j-th of q equal parts of the column's canvas span
    # [c s - 1/2, (c + 1) s - 1/2]; with q = s these are the canvas columns' centres c s + j
    x = np.arange(w)[:, None] * s - 0.5 + (np.arange(q)[None, :] + 0.5) * (s / q)
    u = np.clip(x * span, 0.0, n - 1.0)
    left = np.minimum(np.floor(u).astype(np.intp), n - 2)
    frac = u - left
    share = np.broadcast_to(columns[:, None] / q, u.shape)
    out = np.zeros(n)
    np.add.at(out, left.ravel(), (share * (1.0 - frac)).ravel())
    np.add.at(out, left.ravel() + 1, (share * frac).ravel())
    return out
