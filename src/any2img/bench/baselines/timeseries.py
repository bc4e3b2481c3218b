"""Time-series baselines: MiniRocket (aeon or sktime) and 1-NN (Euclidean, DTW)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["as_panel", "dtw_distance", "minirocket_backend", "minirocket_fit_predict", "one_nn_predict"]


def as_panel(series: Sequence[Any]) -> np.ndarray:
    """Stack series into ``(n, channels, length)`` float64 (univariate: 1 channel).

    Series of unequal length are right-padded with their last value.
    """
    arrays = [np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in series]
    if not arrays:
        return np.zeros((0, 1, 1))
    n_ch = arrays[0].shape[0]
    length = max(a.shape[1] for a in arrays)
    out = np.empty((len(arrays), n_ch, length))
    for i, a in enumerate(arrays):
        out[i, :, : a.shape[1]] = a
        out[i, :, a.shape[1]:] = a[:, -1:]
    return out


def minirocket_backend() -> str | None:
    """Return ``"aeon"`` or ``"sktime"`` (whichever provides MiniRocket), or None."""
    for name, module in (("aeon", "aeon.transformations.collection.convolution_based"),
                         ("sktime", "sktime.transformations.panel.rocket")):
        try:
            __import__(module)
            return name
        except ImportError:
            continue
    return None


def _minirocket(n_channels: int, seed: int) -> Any:
    backend = minirocket_backend()
    if backend == "aeon":
        from aeon.transformations.collection.convolution_based import MiniRocket

        return MiniRocket(random_state=seed)
    if backend == "sktime":
        from sktime.transformations.panel.rocket import MiniRocket, MiniRocketMultivariate

        return MiniRocket(random_state=seed) if n_channels == 1 else MiniRocketMultivariate(random_state=seed)
    from any2img.errors import MissingDependencyError

    raise MissingDependencyError("MiniRocket needs aeon or sktime: pip install 'any2img[bench]'")


def minirocket_fit_predict(X_train: Sequence[Any], y_train: np.ndarray, X_valid: Sequence[Any],
                           X_test: Sequence[Any], *, seed: int = 0) -> Any:
    """MiniRocket features + ridge regression with built-in CV over alphas (the standard recipe)."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from any2img.bench.baselines import BaselineOutput

    train = as_panel(X_train)
    transform = _minirocket(train.shape[1], seed)
    transform.fit(train)

    def features(X: Sequence[Any]) -> np.ndarray:
        return np.asarray(transform.transform(as_panel(X)), dtype=np.float64)

    model = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    model.fit(features(X_train), y_train)
    valid = model.predict(features(X_valid)) if len(X_valid) else np.array([])
    return BaselineOutput(valid, model.predict(features(X_test)), np.asarray(model.classes_))


def _dtw_py(a: np.ndarray, b: np.ndarray, window: int) -> float:
    # Two rolling rows of the cost matrix; scalar loops (fast under numba, no temporaries).
    n_ch, n, m = a.shape[0], a.shape[1], b.shape[1]
    prev = np.full(m + 1, np.inf)
    cur = np.full(m + 1, np.inf)
    prev[0] = 0.0
    for i in range(1, n + 1):
        lo, hi = max(1, i - window), min(m, i + window)
        for j in range(m + 1):
            cur[j] = np.inf
        for j in range(lo, hi + 1):
            d = 0.0
            for c in range(n_ch):
                diff = a[c, i - 1] - b[c, j - 1]
                d += diff * diff
            best = prev[j]
            if cur[j - 1] < best:
                best = cur[j - 1]
            if prev[j - 1] < best:
                best = prev[j - 1]
            cur[j] = d + best
        prev, cur = cur, prev
    return float(np.sqrt(prev[m]))


_dtw_impl: Callable[[np.ndarray, np.ndarray, int], float]
try:  # numba ships with librosa and pyts; the pure-Python loop is the fallback
    import numba

    _dtw_impl = numba.njit(cache=True)(_dtw_py)
except ImportError:  # pragma: no cover
    _dtw_impl = _dtw_py


def dtw_distance(a: np.ndarray, b: np.ndarray, window: float = 0.1) -> float:
    """Dependent DTW between ``(channels, length)`` series with a Sakoe-Chiba band.

    ``window`` is the band half-width as a fraction of the length (at least
    the length difference, so a path always exists).
    """
    a2, b2 = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    w = max(int(round(window * max(a2.shape[1], b2.shape[1]))), abs(a2.shape[1] - b2.shape[1]), 1)
    return float(_dtw_impl(a2, b2, w))


def one_nn_predict(X_train: Sequence[Any], y_train: np.ndarray, X_query: Sequence[Any], *,
                   metric: str = "euclidean", window: float = 0.1) -> np.ndarray:
    """Label of the nearest training series (Euclidean or DTW with a 10% band)."""
    if len(X_query) == 0:
        return np.array([])
    train, query = as_panel(X_train), as_panel(X_query)
    y = np.asarray(y_train)
    if metric == "euclidean":
        a = train.reshape(len(train), -1)
        b = query.reshape(len(query), -1)
        d = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None, :]
        return y[np.argmin(d, axis=1)]
    if metric == "dtw":
        out = []
        for q in query:
            dists = [dtw_distance(q, t, window) for t in train]
            out.append(y[int(np.argmin(dists))])
        return np.asarray(out)
    raise KeyError(f"unknown metric {metric!r}")
