"""Watching a run: the per-epoch table, and best-epoch selection with early stopping."""

from __future__ import annotations

import copy
import math
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import torch
from torch import nn

__all__ = ["EpochTable", "OverfitMonitor", "OverfittingWarning", "within_noise"]

#: Warnings point at the user's ``fine_tune``/``fit`` call: update <- TrainingLoop._phase <- run <- _fit <- fine_tune.
_USER = 6


class OverfittingWarning(UserWarning):
    """The validation loss keeps rising while the training loss falls."""


class EpochTable:
    """Prints one row per epoch under a header, like fastai's table.

    Parameters
    ----------
    columns : sequence of str
        Keys of the history records to show, in order.
    stream : file, default=sys.stdout
    enabled : bool, default=True
    """

    def __init__(self, columns: Sequence[str], stream: TextIO | None = None, enabled: bool = True) -> None:
        self.columns = list(columns)
        self.stream = stream
        self.enabled = enabled
        self.widths = [max(len(c), 9) for c in self.columns]
        self._header_done = False

    def _write(self, line: str) -> None:
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        tqdm.write(line, file=self.stream or sys.stdout)

    def header(self) -> None:
        """Print the header once."""
        if not self._header_done:
            self._write("  ".join(c.rjust(w) for c, w in zip(self.columns, self.widths)))
            self._header_done = True

    def row(self, record: dict[str, Any]) -> None:
        """Print one epoch's record."""
        self.header()
        cells = []
        for col, width in zip(self.columns, self.widths):
            value = record.get(col, "")
            if isinstance(value, float):
                text = f"{value:.1f}s" if col == "time" else ("nan" if math.isnan(value) else f"{value:.4f}")
            else:
                text = str(value)
            cells.append(text.rjust(width))
        self._write("  ".join(cells))

    def note(self, text: str) -> None:
        """Print a line of text between rows."""
        self._write(text)


class OverfitMonitor:
    """Selects the best epoch, stops early when asked, and warns of overfitting.

    Model selection: the weights of the epoch with the lowest validation
    loss are always kept (:attr:`best_state`) so that the run can end on
    them, whether or not it stopped early. The loss, not accuracy, decides:
    on a validation side of ten items accuracy ties at 1.0 for many epochs,
    while the loss still tells a confident model from a lucky one.

    Early stopping (when ``early_stopping``): the run stops once
    ``patience`` epochs in a row brought no lower validation loss.

    Overfitting is *warned of* when the validation loss has risen for
    ``patience`` epochs in a row, by more than ``min_delta`` in all, while
    the training loss fell over the same epochs.

    Parameters
    ----------
    patience : int, default=3
    early_stopping : bool, default=False
        Ask the run to stop after ``patience`` epochs without improvement.
    min_delta : float, default=0.01
        A smaller total rise is noise for the overfitting warning (e.g.
        0.008 -> 0.012 on a model that already classifies every validation
        item right).
    selection : {"lowest", "paired"}, default="lowest"
        Which epoch's weights are kept. ``"lowest"``: the lowest validation
        loss. ``"paired"``: the latest epoch whose per-item validation losses
        are not significantly above those of the lowest epoch (their mean
        difference within two standard errors: a paired test over the
        validation items), so that differences the validation side cannot
        resolve go to the end of the schedule; needs the per-item losses in
        :meth:`update`.

    Attributes
    ----------
    best_epoch, best_loss
        The epoch with the lowest validation loss (early stopping counts from it).
    selected_epoch, best_state
        The epoch whose weights are kept, and those weights.
    """

    SELECTION = {"lowest": "lowest valid_loss",
                 "paired": "latest epoch within 2 standard errors (paired over validation items) of the lowest "
                           "valid_loss"}

    def __init__(self, patience: int = 3, early_stopping: bool = False, min_delta: float = 0.01,
                 selection: str = "lowest") -> None:
        self.patience = patience
        self.early_stopping = early_stopping
        self.min_delta = min_delta
        self.selection = selection
        self.best_loss = math.inf
        self.best_epoch = 0
        self.selected_epoch = 0
        self.best_items: list[float] | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.valid_losses: list[float] = []
        self.train_losses: list[float] = []
        self.warned = False
        self.stopped_early = False

    def overfitting(self) -> bool:
        """True when the last ``patience`` epochs raised the validation loss and lowered the training loss."""
        v, t, n = self.valid_losses, self.train_losses, self.patience
        if len(v) <= n:
            return False
        rising = all(v[-i] > v[-i - 1] for i in range(1, n + 1)) and v[-1] - v[-n - 1] > self.min_delta
        return rising and t[-1] < t[-n - 1]

    def update(self, record: dict[str, Any], model: nn.Module, item_losses: Sequence[float] | None = None) -> bool:
        """Take an epoch's record (and its per-item validation losses); return True when the run should stop."""
        valid, train = record.get("valid_loss", math.nan), record.get("train_loss", math.nan)
        if not math.isfinite(valid):
            return False
        self.valid_losses.append(float(valid))
        self.train_losses.append(float(train))
        epoch = int(record["epoch"])
        items = None if item_losses is None else [float(v) for v in item_losses]
        keep = valid < self.best_loss
        if keep:
            self.best_loss, self.best_epoch, self.best_items = float(valid), epoch, items
        elif self.selection == "paired" and items is not None and self.best_items is not None:
            keep = within_noise(items, self.best_items)
        if keep:
            self.selected_epoch = epoch
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if self.overfitting() and not self.warned:
            message = (
                f"overfitting: the validation loss rose for {self.patience} epochs in a row (best "
                f"{self.best_loss:.4f} at epoch {self.best_epoch}) while the training loss fell"
            )
            message += "" if self.early_stopping else (
                "; the best epoch's weights are kept; consider early_stopping=True or augmentation"
            )
            warnings.warn(message, OverfittingWarning, stacklevel=_USER)
            self.warned = True
        since = len(self.valid_losses) - self._best_index() - 1
        if self.early_stopping and since >= self.patience:
            self.stopped_early = True
            warnings.warn(
                f"no lower validation loss for {since} epochs (best {self.best_loss:.4f} at epoch "
                f"{self.best_epoch}); stopping early and restoring the best weights",
                OverfittingWarning, stacklevel=_USER,
            )
            return True
        return False

    def _best_index(self) -> int:
        """Position of the best loss in :attr:`valid_losses` (its first occurrence)."""
        return min(range(len(self.valid_losses)), key=lambda i: (self.valid_losses[i], i))

    def state(self) -> dict[str, Any]:
        """JSON-able state (without the tensors)."""
        return {
            "best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
            "best_epoch": self.best_epoch,
            "selected_epoch": self.selected_epoch,
            "best_items": self.best_items,
            "valid_losses": self.valid_losses,
            "train_losses": self.train_losses,
            "warned": self.warned,
            "stopped_early": self.stopped_early,
        }

    def load_state(self, state: dict[str, Any], best: dict[str, torch.Tensor] | None) -> None:
        """Restore from :meth:`state` and the best weights."""
        self.best_loss = math.inf if state.get("best_loss") is None else float(state["best_loss"])
        self.best_epoch = int(state.get("best_epoch", 0))
        self.selected_epoch = int(state.get("selected_epoch", self.best_epoch))
        items = state.get("best_items")
        self.best_items = None if items is None else [float(v) for v in items]
        self.valid_losses = [float(v) for v in state.get("valid_losses", [])]
        self.train_losses = [float(v) for v in state.get("train_losses", [])]
        self.warned = bool(state.get("warned", False))
        self.stopped_early = bool(state.get("stopped_early", False))
        self.best_state = copy.copy(best) if best else None


def within_noise(items: Sequence[float], best: Sequence[float]) -> bool:
    """Whether per-item losses ``items`` exceed ``best`` by no more than two standard errors of the mean difference."""
    if len(items) != len(best) or not items:
        return False
    diff = [a - b for a, b in zip(items, best)]
    mean = sum(diff) / len(diff)
    if len(diff) < 2:
        return mean <= 0
    se = math.sqrt(sum((d - mean) ** 2 for d in diff) / (len(diff) - 1) / len(diff))
    return mean <= 2 * se
