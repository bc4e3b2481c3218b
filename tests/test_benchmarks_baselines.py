"""The benchmark baselines on tiny synthetic data (no shared data, no training of images)."""

from __future__ import annotations

import numpy as np
import pytest

from any2img.bench.baselines import fit_predict, unavailable
from any2img.bench.baselines.mouse import FEATURE_NAMES, window_features
from any2img.bench.baselines.timeseries import as_panel, dtw_distance, one_nn_predict
from any2img.bench.runner import session_accuracy


def _two_class_series(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[str]]:
    t = np.linspace(0, 2 * np.pi, 40)
    X, y = [], []
    for i in range(n):
        label = "sine" if i % 2 == 0 else "ramp"
        base = np.sin(t) if label == "sine" else np.linspace(-1, 1, 40)
        X.append(base + 0.05 * rng.standard_normal(40))
        y.append(label)
    return X, y


def test_dtw_hand_computed() -> None:
    a = np.array([0.0, 1.0, 2.0])
    b = np.array([0.0, 0.0, 1.0, 2.0])
    # b repeats its first value: DTW aligns it for free, Euclidean could not even compare.
    assert dtw_distance(a, b, window=1.0) == pytest.approx(0.0)
    # Equal lengths with a band of 0: plain Euclidean distance, sqrt(1 + 1 + 1).
    assert dtw_distance(np.zeros(3), np.ones(3), window=0.0) == pytest.approx(np.sqrt(3.0))


def test_as_panel_pads_and_stacks() -> None:
    panel = as_panel([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])])
    assert panel.shape == (2, 1, 3)
    assert panel[1, 0].tolist() == [4.0, 5.0, 5.0]
    assert as_panel([np.zeros((3, 5))]).shape == (1, 3, 5)


@pytest.mark.parametrize("metric", ["euclidean", "dtw"])
def test_one_nn_separates_two_shapes(metric: str) -> None:
    rng = np.random.default_rng(0)
    X, y = _two_class_series(20, rng)
    Xq, yq = _two_class_series(10, rng)
    pred = one_nn_predict(X, np.array(y), Xq, metric=metric)
    assert pred.tolist() == yq


def test_one_nn_hand_case() -> None:
    pred = one_nn_predict([np.array([0.0, 0.0]), np.array([10.0, 10.0])], np.array(["a", "b"]),
                          [np.array([1.0, 2.0]), np.array([9.0, 7.0])])
    assert pred.tolist() == ["a", "b"]


@pytest.mark.parametrize("name", ["mfcc-stats-logreg", "mfcc-stats-rf", "features-rf"])
def test_tabular_baselines_fit_and_give_probabilities(name: str) -> None:
    rng = np.random.default_rng(1)
    centers = {"u1": np.zeros(6), "u2": np.full(6, 3.0)}
    y = ["u1", "u2"] * 15
    X = np.array([centers[label] + rng.standard_normal(6) * 0.3 for label in y])
    out = fit_predict(name, X[:20], y[:20], X[20:24], X[24:], seed=0)
    assert out.valid_pred.tolist() == y[20:24]
    assert out.test_pred.tolist() == y[24:]
    assert out.test_proba is not None and out.test_proba.shape == (6, 2)
    np.testing.assert_allclose(out.test_proba.sum(axis=1), 1.0)
    assert out.classes.tolist() == ["u1", "u2"]


def test_minirocket_skips_or_runs() -> None:
    if unavailable("minirocket"):
        assert "pip install" in unavailable("minirocket")
        return
    assert unavailable("minirocket") is None


def test_unknown_baseline() -> None:
    with pytest.raises(KeyError, match="unknown baseline"):
        fit_predict("nope", [], [], [], [])


def test_mouse_window_features_hand_computed() -> None:
    # A straight move right at 100 px/s, then a left click of 0.2 s.
    window = {
        "t": np.array([0.0, 0.1, 0.2, 0.3, 0.5]),
        "x": np.array([0.0, 10.0, 20.0, 30.0, 30.0]),
        "y": np.zeros(5),
        "button": np.array(["NoButton", "NoButton", "NoButton", "Left", "Left"]),
        "state": np.array(["Move", "Move", "Move", "Pressed", "Released"]),
    }
    f = dict(zip(FEATURE_NAMES, window_features(window)))
    assert len(FEATURE_NAMES) == len(window_features(window))
    assert f["path_length"] == pytest.approx(30.0)
    assert f["straightness"] == pytest.approx(1.0)
    assert f["duration"] == pytest.approx(0.5)
    assert f["speed_max"] == pytest.approx(100.0)
    assert f["left_clicks"] == 1.0 and f["right_clicks"] == 0.0
    assert f["click_duration_mean"] == pytest.approx(0.2)
    assert f["turn_max"] == pytest.approx(0.0)


def test_mouse_features_read_integer_codes() -> None:
    # Integer button/state codes (as in the mouse converters' MouseLog) are named through their tables.
    pytest.importorskip("any2img.converters.mouse.log")
    window = {"t": np.arange(4) * 0.1, "x": np.arange(4.0), "y": np.zeros(4), "button": np.array([0, 0, 1, 1]),
              "state": np.array([0, 0, 1, 2])}
    f = dict(zip(FEATURE_NAMES, window_features(window)))
    assert f["left_clicks"] == 1.0


def test_session_accuracy_averages_window_probabilities() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7],   # session s1 (user a): mean 0.47 / 0.53 -> b (wrong)
                      [0.6, 0.4], [0.45, 0.55]])             # session s2 (user a): mean 0.525 -> a (right)
    true = ["a", "a", "a", "a", "a"]
    groups = ["s1", "s1", "s1", "s2", "s2"]
    assert session_accuracy(proba, ["a", "b"], true, groups) == pytest.approx(0.5)
