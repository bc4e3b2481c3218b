"""Markov transition field: ``mtf``.

Each series is cut into ``n_bins`` states (quantile, uniform or standard
normal bins, exactly as pyts' ``KBinsDiscretizer``), the first-order Markov
transition matrix ``W`` between the states is counted on the series at its
own resolution and normalised by rows, and pixel ``(i, j)`` is the
probability ``W[q_i, q_j]`` of going from the state of timestamp ``i`` to the
state of timestamp ``j``. Values are probabilities, so the fixed bounds
[0, 1] map to black and white.

Why numpy and not pyts' ``MarkovTransitionField``: the image size rarely
equals the series length. We keep the transition statistics of the full
series (resampling first would invent or smooth away transitions) and
resample the *field*: with ``R`` the (linear) resampling of :mod:`.resample`
and ``E`` the one-hot states, the image is ``(R_h E) W (R_w E)^T``. When the
image is smaller this is the block average of the full field (pyts'
aggregated MTF when the length is a multiple of the size); when it is
larger, a linear interpolation of it; at equal size, pyts' result exactly.
It is computed for the whole batch at once, and works for non-square
images.

A constant series has one state that always follows itself: its field is all
1 (white).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from any2img.converters.timeseries.base import PASS_PIXELS, ColouredParams, FieldConverter
from any2img.converters.timeseries.blas import one_blas_thread
from any2img.converters.timeseries.resample import resample
from scipy.stats import norm

from any2img.imaging import level_codes, paint_levels
from any2img.parameters import Choice, ConverterParams, Int, param

__all__ = [
    "MTF", "MTFParams", "STRATEGIES", "bin_series", "markov_transition_fields", "markov_transition_pictures",
    "n_bins_param", "strategy_param",
]

STRATEGIES = ("quantile", "uniform", "normal")


def n_bins_param() -> Any:
    """The declaration of ``n_bins`` (``mtf`` and ``gaf_mtf`` share it)."""
    return param(8, Int(2, 256), "Number of states of the Markov transition field.")


def strategy_param() -> Any:
    """The declaration of ``strategy`` (``mtf`` and ``gaf_mtf`` share it)."""
    return param("quantile", Choice(STRATEGIES), "How values are binned into states (as pyts).")


#: Largest resampling matrix (entries) built: 8 MB; longer series resample their one-hot states directly.
_MATRIX_CELLS = 2**20


@lru_cache(maxsize=32)
def _resampling(n_timestamps: int, m: int) -> np.ndarray:
    """``R^T``, shape ``(n_timestamps, m)``: :func:`.resample` to ``m`` as a matrix (it is linear), read-only.

    Shrinking, entry ``(t, k)`` is ``m / n`` times the overlap of sample
    ``t``'s cell ``[t, t + 1)`` with output cell ``k``'s
    ``[k n / m, (k + 1) n / m)``; otherwise the resampled identity (small).
    """
    if m >= n_timestamps:
        matrix = resample(np.eye(n_timestamps), m)
    else:
        edges = np.arange(m + 1) * (n_timestamps / m)
        t = np.arange(n_timestamps, dtype=np.float64)[:, None]
        overlap = np.minimum(t + 1.0, edges[None, 1:]) - np.maximum(t, edges[None, :-1])
        matrix = np.clip(overlap, 0.0, None) * (m / n_timestamps)
    matrix.flags.writeable = False
    return matrix


@lru_cache(maxsize=32)
def _resampling_entries(n_timestamps: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nonzero entries ``(t, k, weight)`` of :func:`_resampling` (about ``n_timestamps + 2 m``), read-only."""
    matrix = _resampling(n_timestamps, m)
    t, k = np.nonzero(matrix)
    entries = (t, k, matrix[t, k])
    for array in entries:
        array.flags.writeable = False
    return entries


def _resample_states(states: np.ndarray, n_bins: int, m: int) -> np.ndarray:
    """:func:`.resample` to ``m`` of the one-hot states ``(n, n_timestamps)``: ``(n, n_bins, m)``.

    Entry ``(i, q, k)`` is the sum of the weights ``R[k, t]`` of the
    timestamps ``t`` of series ``i`` in state ``q``: one weighted
    ``bincount`` over the few nonzero weights of ``R``, for the whole batch,
    while ``R`` is small; the one-hot array resampled otherwise.
    """
    n, n_timestamps = states.shape
    if n_timestamps * m > _MATRIX_CELLS:
        onehot = (states[:, None, :] == np.arange(n_bins)[:, None]).astype(np.float64)
        return resample(onehot, m)
    t, k, weight = _resampling_entries(n_timestamps, m)
    cells = (np.arange(n)[:, None] * n_bins + states[:, t]) * m + k
    sums = np.bincount(cells.ravel(), weights=np.broadcast_to(weight, cells.shape).ravel(), minlength=n * n_bins * m)
    return sums.reshape(n, n_bins, m)


def bin_series(X: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Return the state (bin index) of every value of a batch of series.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_series, n_timestamps)
    n_bins : int
        Number of bins, >= 2.
    strategy : {"quantile", "uniform", "normal"}
        Quantiles of each series, equal-width bins between its min and max,
        or the quantiles of the standard normal distribution (for series
        already standardised). Like pyts, quantile edges that coincide are
        merged, so the bins are renumbered without gaps.

    Returns
    -------
    numpy.ndarray of shape (n_series, n_timestamps), int64 in [0, n_bins)

    Examples
    --------
    >>> bin_series(np.array([[0.0, 1.0, 2.0, 3.0]]), 2, "uniform")
    array([[0, 0, 1, 1]])
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    keep = None
    if strategy == "normal":
        edges = np.broadcast_to(norm.ppf(np.linspace(0, 1, n_bins + 1)[1:-1]), (n, n_bins - 1))
    elif strategy == "uniform":
        low, high = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
        edges = low + (high - low) * np.linspace(0, 1, n_bins + 1)[None, 1:-1]
    else:
        edges = np.percentile(X, np.linspace(0, 100, n_bins + 1)[1:-1], axis=1).T
        if n_bins > 2:  # merge equal quantiles, keeping the last of each run (as pyts)
            keep = np.c_[~np.isclose(0, np.diff(edges, axis=1), rtol=0, atol=1e-8), np.ones((n, 1), bool)]
    # searchsorted(edges, x, side="left"), edges on the middle axis: the count is a sum of contiguous rows
    below = X[:, None, :] > edges[:, :, None]
    if keep is not None:
        below &= keep[:, :, None]
    return below.sum(axis=1, dtype=np.int64)


def markov_transition_fields(
    X: np.ndarray, size: tuple[int, int], n_bins: int = 8, strategy: str = "quantile"
) -> np.ndarray:
    """Return the Markov transition fields of a batch of series at ``size``.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_series, n_timestamps)
    size : (int, int)
        ``(height, width)`` of the fields.
    n_bins : int, default=8
    strategy : {"quantile", "uniform", "normal"}, default="quantile"

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width), float64 in [0, 1]

    Examples
    --------
    >>> markov_transition_fields(np.array([[0.0, 0.0, 1.0, 1.0]]), (4, 4), n_bins=2, strategy="uniform")[0]
    array([[0.5, 0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5, 0.5],
           [0. , 0. , 1. , 1. ],
           [0. , 0. , 1. , 1. ]])
    """
    rows, transition, cols = _factors(X, size, n_bins, strategy)
    # BLAS products (7x einsum's own loops), held to one thread so that conversions running side by side
    # do not fight over the cores
    with one_blas_thread():
        return np.matmul(np.matmul(rows, transition), cols)


def _factors(
    X: np.ndarray, size: tuple[int, int], n_bins: int, strategy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(R_h E, W, (R_w E)^T)`` of every series: the field is their product."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    states = bin_series(X, n_bins, strategy)
    flat = (np.arange(n)[:, None] * n_bins + states[:, :-1]) * n_bins + states[:, 1:]
    counts = np.bincount(flat.ravel(), minlength=n * n_bins * n_bins).reshape(n, n_bins, n_bins).astype(np.float64)
    totals = counts.sum(axis=2, keepdims=True)
    transition = counts / np.where(totals == 0, 1.0, totals)
    height, width = size
    cols = _resample_states(states, n_bins, width)  # (n, n_bins, width): share of each state in each column's cell
    rows = cols if height == width else _resample_states(states, n_bins, height)
    return rows.transpose(0, 2, 1), transition, cols


def markov_transition_pictures(
    X: np.ndarray, size: tuple[int, int], n_bins: int = 8, strategy: str = "quantile", cmap: str = "grey"
) -> np.ndarray:
    """The fields of :func:`markov_transition_fields` as float32, coloured by ``field_to_rgb``, fused.

    The same pixels, computed a few series at a time into buffers that stay
    in the cache.

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width, 3), uint8

    Examples
    --------
    >>> markov_transition_pictures(np.array([[0.0, 0.0, 1.0, 1.0]]), (4, 4), 2, "uniform")[0, :, 0, 0]
    array([128, 128,   0,   0], dtype=uint8)
    """
    rows, transition, cols = _factors(X, size, n_bins, strategy)
    n = len(rows)
    height, width = size
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    step = max(1, PASS_PIXELS // (height * width))
    field = np.empty((min(step, n), height, width))
    unit = np.empty(field.shape, dtype=np.float32)
    with one_blas_thread():
        for start in range(0, n, step):
            stop = min(start + step, n)
            part = np.matmul(np.matmul(rows[start:stop], transition[start:stop]), cols[start:stop],
                             out=field[: stop - start])
            scaled = unit[: stop - start]
            scaled[...] = part  # rounded to float32, then scaled as field_to_rgb scales it
            np.clip(scaled, 0.0, 1.0, out=scaled)
            scaled *= np.float32(255.0)
            paint_levels(out[start:stop], level_codes(scaled), cmap)
    return out


@dataclass(frozen=True, kw_only=True)
class MTFParams(ColouredParams):
    """``mtf``."""

    n_bins: int = n_bins_param()
    strategy: str = strategy_param()


class MTF(FieldConverter[MTFParams]):
    """Markov transition field of a series as a picture.

    The field is block-averaged to ``image_size`` when the series is longer,
    interpolated when it is shorter.

    Examples
    --------
    >>> MTF(image_size=64, n_bins=4).convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "mtf"
    params_class: ClassVar[type[ConverterParams] | None] = MTFParams

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: MTFParams) -> np.ndarray:
        fields = markov_transition_fields(X, size, params.n_bins, params.strategy).astype(np.float32)
        return np.clip(fields, 0.0, 1.0, out=fields)

    def _colour(self, X: np.ndarray, size: tuple[int, int], params: MTFParams) -> np.ndarray:
        return markov_transition_pictures(X, size, params.n_bins, params.strategy, params.cmap)
