"""Metrics for people, computed from probabilities and targets.

They are kept apart from the loss the optimiser minimises: a metric is
reported, never differentiated. Each takes ``probs`` of shape (N, C) and
integer ``targets`` of shape (N,) and returns a float (NaN when undefined,
e.g. ROC AUC when the validation side misses a class).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

from any2img.errors import ParameterError

__all__ = ["METRICS", "check_metrics", "compute_metrics"]

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(probs: np.ndarray, targets: np.ndarray) -> float:
    """Share of items whose most probable class is the target."""
    return float(np.mean(probs.argmax(axis=1) == targets)) if len(targets) else float("nan")


def error_rate(probs: np.ndarray, targets: np.ndarray) -> float:
    """``1 - accuracy``."""
    return 1.0 - accuracy(probs, targets)


def macro_f1(probs: np.ndarray, targets: np.ndarray) -> float:
    """F1 averaged over the classes present in targets or predictions (scikit-learn)."""
    if not len(targets):
        return float("nan")
    return float(f1_score(targets, probs.argmax(axis=1), average="macro", zero_division=0))


def balanced_accuracy(probs: np.ndarray, targets: np.ndarray) -> float:
    """Recall averaged over classes (scikit-learn)."""
    if not len(targets):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score(targets, probs.argmax(axis=1)))


def roc_auc(probs: np.ndarray, targets: np.ndarray) -> float:
    """One-vs-rest macro ROC AUC; NaN when a class is missing from targets."""
    n_classes = probs.shape[1]
    if len(np.unique(targets)) != n_classes or n_classes < 2:
        return float("nan")
    if n_classes == 2:
        return float(roc_auc_score(targets, probs[:, 1]))
    p = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
    return float(roc_auc_score(targets, p, multi_class="ovr", average="macro", labels=np.arange(n_classes)))


#: Metric name -> function.
METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "error_rate": error_rate,
    "macro_f1": macro_f1,
    "balanced_accuracy": balanced_accuracy,
    "roc_auc": roc_auc,
}


def check_metrics(metrics: Sequence[str] | str) -> tuple[str, ...]:
    """Return metric names, or raise listing the known ones."""
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for name in names:
        if name not in METRICS:
            raise ParameterError(
                f"'metrics' entries must be among {', '.join(repr(m) for m in METRICS)} (got {name!r})."
            )
    return names


def compute_metrics(names: Sequence[str], probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Return ``{name: value}`` for each metric name.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> compute_metrics(["accuracy", "error_rate"], p, np.array([0, 1, 1]))
    {'accuracy': 0.6666666666666666, 'error_rate': 0.33333333333333337}
    """
    return {name: METRICS[name](probs, targets) for name in names}
