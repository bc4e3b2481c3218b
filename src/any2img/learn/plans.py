"""What a run trains: the phases of ``fit``, ``fit_one_cycle`` and ``fine_tune``, and fine_tune's budget.

The :class:`~any2img.learn.learner.Learner`'s training methods check their
arguments and plan here; :class:`~any2img.learn.loop.TrainingLoop` runs the
plan.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from any2img.learn.budget import Budget, parse_duration
from any2img.learn.checkpoint import CHECKPOINT_JSON, read_checkpoint_meta
from any2img.learn.loop import Phase
from any2img.validation import check_choice, check_float, check_int

__all__ = ["fine_tune_budget", "fine_tune_phases", "fit_phase", "one_phase"]


def one_phase(name: str, epochs: int, lr: float, lr_mult: float, schedule: str = "one_cycle") -> Phase:
    """One phase of every layer training for ``epochs`` at peak rate ``lr`` (checked)."""
    return Phase(name, check_int("epochs", epochs, low=1), check_float("lr", lr, low=0.0, low_open=True),
                 check_float("lr_mult", lr_mult, low=1.0), True, schedule)


def fit_phase(epochs: int, lr: float, lr_mult: float, schedule: str) -> Phase:
    """The phase of ``fit``: every layer, on a ``"one_cycle"`` or ``"constant"`` schedule (checked)."""
    schedule = check_choice("schedule", schedule, ("one_cycle", "constant"))
    return one_phase("fit", epochs, lr, lr_mult, schedule)


def fine_tune_budget(budget: Budget, epochs: int | None, time_budget: float | str | None,
                     checkpoint_dir: str | os.PathLike[str] | None, resume: bool,
                     seconds_per_step: Callable[[], float]) -> tuple[Budget, float | None]:
    """The budget of a ``fine_tune`` run, and its time limit in seconds (None: none).

    ``epochs`` replaces the planned epochs. A run that resumes repeats the
    interrupted run's epochs (not a new timing); otherwise a ``time_budget``
    shrinks the epochs to what fits, at ``seconds_per_step()`` (a timed probe).
    """
    seconds = None if time_budget is None else parse_duration(time_budget)
    resumable = resume and checkpoint_dir is not None and (Path(checkpoint_dir) / CHECKPOINT_JSON).is_file()
    if resumable and epochs is None:  # repeat the interrupted run's plan, not a new timing
        plan = read_checkpoint_meta(Path(checkpoint_dir)).get("plan") or {}  # type: ignore[arg-type]
        epochs = int((plan.get("phases") or [{}])[-1].get("epochs", 0)) or None
    budget = budget if epochs is None else budget.with_epochs(epochs)
    if seconds is not None and not resumable:
        budget = budget.fit_time(seconds_per_step(), seconds)
    return budget, seconds


def fine_tune_phases(epochs: int, base_lr: float, freeze_epochs: int, lr_mult: float) -> list[Phase]:
    """An optional frozen phase (the head alone, ``freeze_epochs``), then every layer for ``epochs``.

    The default (no frozen phase, ``lr_mult=1``, one-cycle at 2e-3) was
    measured on FSDD log-mel images with ImageNet lite0 weights (2 CPU
    cores): 0.97 test accuracy after 2 epochs and 1.00 after 4, where
    fastai's ``fine_tune(3)`` (one frozen epoch, then a body rate 100x below
    the head's) reached 0.28. Pictures of signals are not photos: the body
    has to adapt.
    """
    epochs = check_int("epochs", epochs, low=1)
    base_lr = check_float("base_lr", base_lr, low=0.0, low_open=True)
    freeze_epochs = check_int("freeze_epochs", freeze_epochs, low=0)
    lr_mult = check_float("lr_mult", lr_mult, low=1.0)
    phases = []
    if freeze_epochs:
        phases.append(Phase("frozen", freeze_epochs, base_lr, 1.0, False))
    phases.append(Phase("all", epochs, base_lr, lr_mult, True))
    return phases
