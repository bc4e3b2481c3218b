"""Interpretation on hand-made predictions: confusion matrix, most confused, top losses, files."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from any2img.data import ImageItems, Item
from any2img.errors import ParameterError
from any2img.learn.interpret import Interpretation
from any2img.learn.metrics import compute_metrics

CLASSES = ["a", "b", "c"]
PROBS = np.array([
    [0.8, 0.1, 0.1],  # a -> a
    [0.2, 0.7, 0.1],  # a -> b
    [0.1, 0.6, 0.3],  # a -> b
    [0.1, 0.8, 0.1],  # b -> b
    [0.5, 0.2, 0.3],  # c -> a
    [0.1, 0.1, 0.8],  # c -> c
    [0.3, 0.3, 0.4],  # unlabelled, left out
])
TARGETS = np.array([0, 0, 0, 1, 2, 2, -1])


def _items():
    rng = np.random.default_rng(0)
    return ImageItems(
        Item(image=rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), label=None, key=f"k{i}",
             source=f"src{i}.csv" if i % 2 == 0 else None)
        for i in range(len(TARGETS))
    )


def test_confusion_and_most_confused():
    interp = Interpretation(PROBS, TARGETS, CLASSES, _items())
    assert interp.confusion_matrix().tolist() == [[1, 2, 0], [0, 1, 0], [1, 0, 1]]
    assert interp.most_confused() == [("a", "b", 2), ("c", "a", 1)]
    assert interp.most_confused(min_count=2) == [("a", "b", 2)]


def test_top_losses_order_and_values():
    interp = Interpretation(PROBS, TARGETS, CLASSES, _items())
    top = interp.top_losses(3)
    assert [t.item.key for t in top] == ["k2", "k1", "k4"]  # p(actual) = 0.1, 0.2, 0.3
    assert math.isclose(top[0].loss, -math.log(0.1))
    assert (top[0].actual, top[0].predicted, top[0].probability) == ("a", "b", pytest.approx(0.6))


def test_report_and_metrics_agree():
    interp = Interpretation(PROBS, TARGETS, CLASSES)
    report = interp.classification_report(as_dict=True)
    assert report["a"]["recall"] == pytest.approx(1 / 3) and report["b"]["precision"] == pytest.approx(1 / 3)
    metrics = compute_metrics(["accuracy", "macro_f1", "error_rate"], interp.probs, interp.targets)
    assert metrics["accuracy"] == pytest.approx(0.5) and report["accuracy"] == pytest.approx(0.5)
    assert metrics["macro_f1"] == pytest.approx(report["macro avg"]["f1-score"])
    assert "precision" in interp.classification_report()


def test_files_and_source_plotter(tmp_path):
    interp = Interpretation(PROBS, TARGETS, CLASSES, _items())
    drawn = []

    def plotter(ax, item):
        drawn.append(item.key)
        ax.plot(np.sin(np.linspace(0, 6, 50)))

    paths = interp.save(tmp_path, k=4, source_plotter=plotter)
    assert set(drawn) == {"k2", "k4", "k0"} & {t.item.key for t in interp.top_losses(4)}
    with open(paths["confusion_matrix_csv"], newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["actual \\ predicted", "a", "b", "c"] and rows[1] == ["a", "1", "2", "0"]
    with open(paths["top_losses_csv"], newline="") as fh:
        top = list(csv.DictReader(fh))
    assert top[0]["image"] == "k2" and top[0]["source"] == "src2.csv"
    assert paths["top_losses_png"].stat().st_size > 2000 and paths["confusion_matrix_png"].stat().st_size > 2000


def test_shape_errors():
    with pytest.raises(ParameterError, match="'probs' must have shape"):
        Interpretation(PROBS[:, :2], TARGETS, CLASSES)
    with pytest.raises(ParameterError, match="'items' must have one item per row"):
        Interpretation(PROBS, TARGETS, CLASSES, _items()[:2])
