"""Feature-vector classifiers shared by the audio and mouse baselines."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["make_model", "tabular_fit_predict"]


def make_model(kind: str, seed: int = 0) -> Any:
    """Return the scikit-learn model of a baseline: ``"logreg"`` or ``"rf"``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=1.0))
    if kind == "rf":
        return RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=2)
    raise KeyError(f"unknown tabular model {kind!r}")


def tabular_fit_predict(kind: str, X_train: Any, y_train: np.ndarray, X_valid: Any, X_test: Any, *,
                        seed: int = 0) -> Any:
    from any2img.bench.baselines import BaselineOutput

    model = make_model(kind, seed)
    model.fit(np.nan_to_num(np.asarray(X_train, dtype=np.float64)), y_train)

    def prep(X: Any) -> np.ndarray:
        return np.nan_to_num(np.asarray(X, dtype=np.float64))

    valid = model.predict(prep(X_valid)) if len(X_valid) else np.array([])
    proba = model.predict_proba(prep(X_test))
    classes = np.asarray(model.classes_)
    return BaselineOutput(valid, classes[np.argmax(proba, axis=1)], classes, proba)
