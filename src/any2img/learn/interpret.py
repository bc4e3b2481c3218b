"""Where a model goes wrong: confusion matrix, most confused pairs, top losses.

Built from probabilities, targets and the items they belong to, so it works
for a Learner (``learn.interpret("valid")``) and for an exported model alike.
Plots are drawn with matplotlib's object API (no pyplot, no window).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report as _sk_report
from sklearn.metrics import confusion_matrix as _sk_confusion

from any2img.data.items import ImageItems, Item
from any2img.errors import ParameterError
from any2img.validation import check_int

__all__ = ["Interpretation", "TopLoss"]

#: ``f(ax, item)`` draws an item's source signal on a matplotlib axis.
SourcePlotter = Callable[[Any, Item], Any]


@dataclass(frozen=True)
class TopLoss:
    """One badly predicted item."""

    index: int
    item: Item
    actual: str
    predicted: str
    loss: float
    probability: float
    """Probability given to the predicted class."""


class Interpretation:
    """Predictions on labelled items, and views of the errors.

    Parameters
    ----------
    probs : ndarray of shape (N, n_classes)
    targets : ndarray of shape (N,)
        Class indices (items with target -1, unlabelled, are left out).
    classes : sequence of str
    items : ImageItems or sequence of Item, optional
        The items, in the same order (for top losses).
    """

    def __init__(
        self,
        probs: np.ndarray,
        targets: np.ndarray,
        classes: Sequence[str],
        items: ImageItems | Sequence[Item] | None = None,
    ) -> None:
        probs = np.asarray(probs, dtype=np.float64)
        targets = np.asarray(targets, dtype=np.int64)
        if probs.ndim != 2 or probs.shape[0] != targets.shape[0] or probs.shape[1] != len(classes):
            raise ParameterError(
                f"'probs' must have shape (N, {len(classes)}) matching 'targets' (N,) "
                f"(got {probs.shape} and {targets.shape})."
            )
        keep = targets >= 0
        self.classes = list(classes)
        self.probs = probs[keep]
        self.targets = targets[keep]
        all_items = list(items) if items is not None else None
        if all_items is not None and len(all_items) != len(keep):
            raise ParameterError(f"'items' must have one item per row of 'probs' (got {len(all_items)}).")
        self.items = [it for it, k in zip(all_items, keep) if k] if all_items is not None else None
        self.preds = self.probs.argmax(axis=1) if len(self.probs) else np.zeros(0, dtype=np.int64)
        p_true = self.probs[np.arange(len(self.targets)), self.targets] if len(self.targets) else np.zeros(0)
        self.losses = -np.log(np.clip(p_true, 1e-12, None))

    # -- tables ----------------------------------------------------------------
    def confusion_matrix(self) -> np.ndarray:
        """Counts: row = actual class, column = predicted class."""
        return _sk_confusion(self.targets, self.preds, labels=np.arange(len(self.classes)))

    def most_confused(self, min_count: int = 1) -> list[tuple[str, str, int]]:
        """``(actual, predicted, count)`` for off-diagonal cells, most frequent first."""
        cm = self.confusion_matrix()
        pairs = [
            (self.classes[i], self.classes[j], int(cm[i, j]))
            for i in range(len(self.classes))
            for j in range(len(self.classes))
            if i != j and cm[i, j] >= min_count
        ]
        return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))

    def top_losses(self, k: int = 9) -> list[TopLoss]:
        """The ``k`` items with the highest loss (``-log p(actual)``)."""
        k = check_int("k", k, low=1)
        order = np.argsort(-self.losses, kind="stable")[:k]
        return [
            TopLoss(
                index=int(i),
                item=self.items[i] if self.items is not None else Item(image=""),
                actual=self.classes[self.targets[i]],
                predicted=self.classes[self.preds[i]],
                loss=float(self.losses[i]),
                probability=float(self.probs[i, self.preds[i]]),
            )
            for i in order
        ]

    def classification_report(self, as_dict: bool = False) -> str | dict[str, Any]:
        """Precision, recall, F1 and support per class (scikit-learn), as text or a dict."""
        return _sk_report(
            self.targets, self.preds, labels=np.arange(len(self.classes)), target_names=self.classes,
            zero_division=0, output_dict=as_dict, digits=4,
        )

    # -- files -------------------------------------------------------------------
    def save_confusion_matrix_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the confusion matrix as CSV (first column: actual class)."""
        out = _prepare(path)
        cm = self.confusion_matrix()
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["actual \\ predicted", *self.classes])
            for name, row in zip(self.classes, cm):
                w.writerow([name, *map(int, row)])
        return out

    def save_classification_report_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the classification report as CSV (class, precision, recall, f1, support)."""
        out = _prepare(path)
        report = self.classification_report(as_dict=True)
        assert isinstance(report, dict)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["class", "precision", "recall", "f1-score", "support"])
            for name, values in report.items():
                if isinstance(values, dict):
                    w.writerow([name, *(values.get(k, "") for k in ("precision", "recall", "f1-score", "support"))])
                else:
                    w.writerow([name, "", "", values, len(self.targets)])  # the "accuracy" row
        return out

    def save_top_losses_csv(self, path: str | os.PathLike[str], k: int = 20) -> Path:
        """Write the top losses as CSV (image, source, actual, predicted, loss, probability)."""
        out = _prepare(path)
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["image", "source", "actual", "predicted", "loss", "probability"])
            for t in self.top_losses(k):
                w.writerow([t.item.describe(), t.item.source or "", t.actual, t.predicted,
                            f"{t.loss:.6f}", f"{t.probability:.6f}"])
        return out

    # -- plots ---------------------------------------------------------------------
    def plot_confusion_matrix(self, path: str | os.PathLike[str] | None = None, normalize: bool = False) -> Any:
        """Draw the confusion matrix; save it as PNG when ``path`` is given. Returns the figure."""
        from matplotlib.figure import Figure

        cm = self.confusion_matrix().astype(float)
        if normalize:
            cm = cm / np.clip(cm.sum(axis=1, keepdims=True), 1, None)
        n = len(self.classes)
        side = max(4.0, 0.45 * n + 2)
        fig = Figure(figsize=(side, side))
        ax = fig.subplots()
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(n), self.classes, rotation=90 if n > 6 else 0)
        ax.set_yticks(range(n), self.classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title("confusion matrix" + (" (row-normalised)" if normalize else ""))
        if n <= 30:
            top = cm.max() if cm.size else 0
            for i in range(n):
                for j in range(n):
                    text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8,
                            color="white" if cm[i, j] > top / 2 else "black")
        fig.tight_layout()
        if path is not None:
            fig.savefig(_prepare(path), dpi=100)
        return fig

    def plot_top_losses(
        self,
        path: str | os.PathLike[str] | None = None,
        k: int = 9,
        source_plotter: SourcePlotter | None = None,
    ) -> Any:
        """Draw the ``k`` worst items: the image, and its source signal beside it.

        Parameters
        ----------
        path : path, optional
            Save as PNG.
        k : int, default=9
        source_plotter : callable, optional
            ``f(ax, item)`` drawing the item's source signal (the raw audio,
            series or mouse path it was converted from) on a matplotlib axis.
            Used for items that know their source; a failure is written on
            the axis instead.
        """
        from matplotlib.figure import Figure

        rows = self.top_losses(k)
        with_source = source_plotter is not None and any(r.item.source for r in rows)
        per = 2 if with_source else 1  # axes per item
        across = 2 if with_source else 3  # items per row of the grid
        across = max(1, min(across, len(rows)))
        down = max(1, -(-len(rows) // across))
        fig = Figure(figsize=(3.2 * per * across, 3.3 * down))
        axes = np.asarray(fig.subplots(down, per * across, squeeze=False))
        for ax in axes.flat:
            ax.axis("off")
        for n, row in enumerate(rows):
            r, c = divmod(n, across)
            ax = axes[r, c * per]
            ax.axis("on")
            try:
                img = row.item.load()
                if img.shape[2] == 1:
                    ax.imshow(img[:, :, 0], cmap="gray", vmin=0, vmax=255, aspect="auto")
                else:
                    ax.imshow(img, aspect="auto")
            except Exception as exc:  # noqa: BLE001 - an unreadable image must not stop the plot
                ax.text(0.5, 0.5, f"cannot show image:\n{exc}", ha="center", va="center", fontsize=7, wrap=True)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"actual {row.actual} / predicted {row.predicted}\nloss {row.loss:.2f}, "
                         f"p {row.probability:.2f}", fontsize=9)
            ax.set_xlabel(_short(row.item.describe(), 40), fontsize=7)
            if with_source and row.item.source and source_plotter is not None:
                sax = axes[r, c * per + 1]
                sax.axis("on")
                try:
                    source_plotter(sax, row.item)
                except Exception as exc:  # noqa: BLE001
                    sax.text(0.5, 0.5, f"cannot draw the source:\n{exc}", ha="center", va="center", fontsize=7)
                where = f"{row.item.source} [{row.item.record}]" if row.item.record else row.item.source
                sax.set_title(_short(where, 40), fontsize=8)
                sax.tick_params(labelsize=6)
        if not rows:
            axes[0, 0].text(0.5, 0.5, "no items", ha="center", va="center")
        fig.tight_layout()
        if path is not None:
            fig.savefig(_prepare(path), dpi=90)
        return fig

    def save(
        self, folder: str | os.PathLike[str], k: int = 9, source_plotter: SourcePlotter | None = None
    ) -> dict[str, Path]:
        """Write every view into ``folder``; return the paths by name."""
        out = Path(folder)
        paths = {
            "confusion_matrix_png": out / "confusion_matrix.png",
            "confusion_matrix_csv": out / "confusion_matrix.csv",
            "classification_report_csv": out / "classification_report.csv",
            "top_losses_png": out / "top_losses.png",
            "top_losses_csv": out / "top_losses.csv",
        }
        self.plot_confusion_matrix(paths["confusion_matrix_png"])
        self.save_confusion_matrix_csv(paths["confusion_matrix_csv"])
        self.save_classification_report_csv(paths["classification_report_csv"])
        self.plot_top_losses(paths["top_losses_png"], k=k, source_plotter=source_plotter)
        self.save_top_losses_csv(paths["top_losses_csv"], k=max(k, 20))
        return paths


def _prepare(path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3):]
