"""The default training budget: batch size, optimiser steps and input size, from the data.

A fixed epoch count is the wrong unit for a library that meets data sets of
30 and of 30,000 items: five epochs of 36 images at batch 32 are five
optimiser steps, which leaves a pretrained network where it started. The
budget here is counted in optimiser steps and follows three facts of the
data: how many training items there are, how many classes, and how large the
converter drew its pictures.

The rules (each explained in :func:`plan_budget`):

* batch size: the largest power of two at most ``n_train / 8`` (at least
  eight steps per epoch), clipped to ``[8, 32]``;
* steps: at least ``MIN_STEPS`` (300) and at least ``MIN_EPOCHS`` (4) passes over the
  data; at most ``MAX_EPOCHS`` (100) passes; rounded up to whole epochs;
* input size: the pictures' own size (never upsampled), capped at the
  backbone's pretrained size;
* a time budget, when given, shrinks the steps to what fits, from a timed
  probe of a few steps.

Where the constants come from: the step counts that earlier hand-set runs
trained for (30 epochs of 3-5 steps on the small UCR sets, 3-4 epochs of 75
steps on FSDD), turned into rules of the data's size rather than per-set
epochs. They have not been swept on validation sides yet; what was measured
on them, and how, is in ``benchmarks/DEFAULTS.md`` of the repository.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from any2img.errors import ParameterError
from any2img.validation import check_int

__all__ = ["MAX_EPOCHS", "MAX_SIDE", "MIN_EPOCHS", "MIN_SIDE", "MIN_STEPS", "Budget", "native_size", "parse_duration",
           "plan_budget"]

#: Fewest optimiser steps of a default run: a pretrained body needs a few hundred updates to adapt to
#: pictures of signals, whatever the data set's size.
MIN_STEPS = 300
#: Fewest passes over the training data (large data sets reach MIN_STEPS in under one epoch).
MIN_EPOCHS = 4
#: Most passes over the training data (tiny data sets would otherwise repeat each image hundreds of times).
MAX_EPOCHS = 100
#: Batch-size bounds: BatchNorm needs a few items per batch; 32 keeps one batch cheap on a CPU.
MIN_BATCH, MAX_BATCH = 8, 32
#: Input sides: the pictures' own, clipped to this range. 64 keeps a 2x2 map after a stride-32 backbone;
#: 128 bounds the cost (a 224 px input costs 3x a 128 px one for no measured gain on signal pictures).
MIN_SIDE, MAX_SIDE = 64, 128
#: Steps per epoch aimed for, at least, when choosing the batch size.
STEPS_PER_EPOCH = 8


@dataclass(frozen=True)
class Budget:
    """What a default training run will do, and why.

    Attributes
    ----------
    batch_size : int
    epochs : int
        Passes over the training side.
    steps : int
        Optimiser steps in all (``epochs * steps_per_epoch``).
    steps_per_epoch : int
    image_size : int or (height, width) or None
        Model input size; None leaves the backbone's default.
    reasons : tuple of str
        One short phrase per decision: batch size, epochs, input size, then
        any cut to fit a time budget.
    """

    batch_size: int
    epochs: int
    steps: int
    steps_per_epoch: int
    image_size: int | tuple[int, int] | None
    reasons: tuple[str, ...]

    def with_epochs(self, epochs: int) -> Budget:
        """The same budget with ``epochs`` given explicitly."""
        epochs = check_int("epochs", epochs, low=1)
        reasons = (self.reasons[0], f"{epochs} epochs as given", *self.reasons[2:])
        return replace(self, epochs=epochs, steps=epochs * self.steps_per_epoch, reasons=reasons)

    def fit_time(self, seconds_per_step: float, time_budget: float) -> Budget:
        """Fewer epochs (at least one) when ``epochs`` steps of ``seconds_per_step`` exceed ``time_budget``."""
        fit = int(time_budget / (seconds_per_step * self.steps_per_epoch)) if seconds_per_step > 0 else self.epochs
        if fit >= self.epochs:
            return self
        epochs = max(1, fit)
        why = (f"cut to {epochs} epochs to fit the time budget of {time_budget:.0f}s "
               f"({seconds_per_step:.3f}s/step measured)")
        return replace(self, epochs=epochs, steps=epochs * self.steps_per_epoch, reasons=(*self.reasons, why))

    def describe(self) -> str:
        """One line for people: what was chosen and why."""
        size = "backbone default" if self.image_size is None else (
            f"{self.image_size}px" if isinstance(self.image_size, int) else "x".join(map(str, self.image_size)))
        return (f"budget: batch {self.batch_size}, {self.epochs} epochs = {self.steps} steps, input {size} "
                f"({'; '.join(self.reasons)})")


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimiser steps in one pass (the loader drops a last batch of one, for BatchNorm)."""
    full, rest = divmod(n_train, batch_size)
    return max(1, full + (1 if rest > 1 or full == 0 else 0))


def plan_budget(
    n_train: int,
    n_classes: int,
    native_size: int | tuple[int, int] | None = None,
    *,
    max_size: int | None = None,
    batch_size: int | None = None,
    epochs: int | None = None,
    image_size: int | tuple[int, int] | None = None,
) -> Budget:
    """Choose the batch size, the number of epochs/steps and the input size from the data.

    Explicit values (``batch_size``, ``epochs``, ``image_size``) are kept
    as given; the rest follow the rules of the module docstring.

    Parameters
    ----------
    n_train : int
        Items on the training side.
    n_classes : int
        Classes to learn (recorded in the reasons; the step floor already
        gives every class many updates on the data sizes met so far).
    native_size : int or (height, width), optional
        Size of the pictures as drawn (the median over the training side
        for pictures of varying width, such as spectrograms of clips of
        varying length). The model input defaults to it, each side clipped
        to ``[MIN_SIDE, MAX_SIDE]``: upsampling a 64 px Gramian field to
        224 px costs 12x the compute and adds no information.
    max_size : int, optional
        A lower cap than ``MAX_SIDE`` (e.g. a backbone's fixed input size).
    batch_size, epochs, image_size : optional
        Explicit choices that override the rules.

    Returns
    -------
    Budget

    Examples
    --------
    >>> b = plan_budget(40, 2, 64)
    >>> b.batch_size, b.epochs, b.steps, b.image_size
    (8, 60, 300, 64)
    >>> plan_budget(2400, 10, (128, 30)).epochs, plan_budget(2400, 10, (128, 30)).image_size
    (4, (128, 64))
    """
    n_train = check_int("n_train", n_train, low=1)
    n_classes = check_int("n_classes", n_classes, low=1)
    reasons = []
    if batch_size is None:
        target = n_train / STEPS_PER_EPOCH
        bs = 2 ** int(math.floor(math.log2(target))) if target >= 1 else 1
        batch_size = int(min(MAX_BATCH, max(MIN_BATCH, bs)))
        reasons.append(f"{n_train} training items, {n_classes} classes -> batch {batch_size}")
    else:
        batch_size = check_int("batch_size", batch_size, low=1)
        reasons.append(f"batch {batch_size} as given")
    per_epoch = steps_per_epoch(n_train, batch_size)
    if epochs is None:
        wanted = max(MIN_STEPS, MIN_EPOCHS * per_epoch)
        epochs = max(MIN_EPOCHS, min(MAX_EPOCHS, math.ceil(wanted / per_epoch)))
        reasons.append(f"{per_epoch} steps/epoch, >= {MIN_STEPS} steps and >= {MIN_EPOCHS} epochs "
                       f"(<= {MAX_EPOCHS})")
    else:
        epochs = check_int("epochs", epochs, low=1)
        reasons.append(f"{epochs} epochs as given")
    if image_size is None and native_size is not None:
        h, w = (native_size, native_size) if isinstance(native_size, int) else native_size
        cap = MAX_SIDE if max_size is None else min(MAX_SIDE, max_size)
        side_h, side_w = (int(min(cap, max(MIN_SIDE, s))) for s in (h, w))
        image_size = side_h if side_h == side_w else (side_h, side_w)
        if (side_h, side_w) == (h, w):
            reasons.append("input at the pictures' own size")
        else:
            reasons.append(f"pictures {h}x{w} -> input sides clipped to [{MIN_SIDE}, {cap}]")
    else:
        reasons.append("input size as given" if image_size is not None else "input: the backbone's default")
    return Budget(batch_size=batch_size, epochs=epochs, steps=epochs * per_epoch, steps_per_epoch=per_epoch,
                  image_size=image_size, reasons=tuple(reasons))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$", re.IGNORECASE)


def parse_duration(text: str | float) -> float:
    """``"10m"`` -> 600.0; ``"90s"``, ``"1.5h"``, ``"45"`` (seconds) and numbers also work.

    Raises
    ------
    ParameterError
        The text is not a positive duration.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ParameterError(f"'time_budget' must be a duration such as 10m, 90s or 1.5h (got {text!r}).")
        unit = (match.group(2) or "s").lower()
        seconds = float(match.group(1)) * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"'time_budget' must be a positive duration (got {text!r}).")
    return seconds


def native_size(items: Sequence[Any], sample: int = 32) -> tuple[int, int] | None:
    """The median (height, width) of up to ``sample`` images spread evenly over ``items``.

    Spectrograms of clips of varying length vary in width; the median is the
    size most pictures have. None when there is no item.
    """
    if len(items) == 0:
        return None
    picks = np.unique(np.linspace(0, len(items) - 1, min(sample, len(items))).round().astype(int))
    shapes = np.array([items[int(i)].load().shape[:2] for i in picks])
    h, w = np.median(shapes, axis=0)
    return int(round(float(h))), int(round(float(w)))
