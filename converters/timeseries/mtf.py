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
from any2img.converters.timeseries.base import ColouredParams, FieldConverter
from any2img.converters.timeseries.resample import resample
from scipy.stats import norm
from threadpoolctl import ThreadpoolController

from any2img.parameters import Choice, ConverterParams, Int, param

__all__ = ["MTF", "MTFParams", "STRATEGIES", "bin_series", "markov_transition_fields", "n_bins_param", "strategy_param"]

STRATEGIES = ("quantile", "uniform", "normal")


def n_bins_param() -> Any:
    """The declaration of ``n_bins`` (``mtf`` and ``gaf_mtf`` share it)."""
    return param(8, Int(2, 256), "Number of states of the Markov transition field.")


def strategy_param() -> Any:
    """The declaration of ``strategy`` (``mtf`` and ``gaf_mtf`` share it)."""
    return param("quantile", Choice(STRATEGIES), "How values are binned into states (as pyts).")


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries, found once (``threadpool_limits`` would scan them at every call: ~1 ms)."""
    return ThreadpoolController()


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
    below = X[:, :, None] > edges[:, None, :]  # searchsorted(edges, x, side="left")
    if keep is not None:
        below &= keep[:, None, :]
    return below.sum(axis=2).astype(np.int64)


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
    X = np.asarray(X, dtype=np.float64)
    n, n_timestamps = X.shape
    states = bin_series(X, n_bins, strategy)
    flat = (np.arange(n)[:, None] * n_bins + states[:, :-1]) * n_bins + states[:, 1:]
    counts = np.bincount(flat.ravel(), minlength=n * n_bins * n_bins).reshape(n, n_bins, n_bins).astype(np.float64)
    totals = counts.sum(axis=2, keepdims=True)
    transition = counts / np.where(totals == 0, 1.0, totals)
    onehot = np.zeros((n, n_bins, n_timestamps))
    np.put_along_axis(onehot, states[:, None, :], 1.0, axis=1)
    height, width = size
    rows = resample(onehot, height)  # (n, n_bins, height): share of each state in each row's cell
    cols = rows if height == width else resample(onehot, width)
    # BLAS products (7x einsum's own loops), held to one thread so that conversions running side by side
    # do not fight over the cores
    with _blas().limit(limits=1, user_api="blas"):
        return np.matmul(np.matmul(rows.transpose(0, 2, 1), transition), cols)


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
