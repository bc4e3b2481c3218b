"""Strong non-image baselines, one module per modality.

The modality modules import their heavy packages (librosa, scikit-learn's
models, sktime or aeon) only when a baseline runs.

Each modality module turns raw signals (read by the converters' own readers,
so the windows and splits are those of the image route) into what its
classifiers take; :func:`fit_predict` runs a named baseline end to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BaselineOutput", "fit_predict", "unavailable"]


@dataclass
class BaselineOutput:
    """Predictions of one baseline on the validation and test sets.

    ``test_proba`` (rows in ``classes`` order) is set when the model gives
    probabilities, for session-level aggregation.
    """

    valid_pred: np.ndarray
    test_pred: np.ndarray
    classes: np.ndarray
    test_proba: np.ndarray | None = None


def unavailable(name: str) -> str | None:
    """Return why baseline ``name`` cannot run here, or None."""
    if name == "minirocket":
        from any2img.bench.baselines.timeseries import minirocket_backend

        backend = minirocket_backend()
        return None if backend else "neither aeon nor sktime is installed (pip install 'any2img[bench]')"
    return None


def fit_predict(name: str, X_train: Any, y_train: Sequence[Any], X_valid: Any, X_test: Any, *,
                seed: int = 0) -> BaselineOutput:
    """Fit baseline ``name`` on the training set; predict validation and test.

    ``X_*`` are what the modality module builds: a list of series for the
    time-series baselines, feature matrices for the others.
    """
    y = np.asarray(y_train)
    if name == "minirocket":
        from any2img.bench.baselines.timeseries import minirocket_fit_predict

        return minirocket_fit_predict(X_train, y, X_valid, X_test, seed=seed)
    if name in ("1nn-euclidean", "1nn-dtw"):
        from any2img.bench.baselines.timeseries import one_nn_predict

        metric = name.split("-", 1)[1]
        classes = np.unique(y)
        return BaselineOutput(one_nn_predict(X_train, y, X_valid, metric=metric),
                              one_nn_predict(X_train, y, X_test, metric=metric), classes)
    if name.endswith("-logreg") or name.endswith("-rf"):
        from any2img.bench.baselines.tabular import tabular_fit_predict

        return tabular_fit_predict(name.rsplit("-", 1)[1], X_train, y, X_valid, X_test, seed=seed)
    raise KeyError(f"unknown baseline {name!r}")
