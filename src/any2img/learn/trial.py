"""Training steps that leave no trace: the learning-rate finder and the time-budget probe.

Both take optimiser steps through the learner's one train step inside
:func:`trial`, which restores the weights and every random state afterwards,
so that training after them is the same as without them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import torch

from any2img.learn import distributed
from any2img.learn.checkpoint import capture_rng, restore_rng
from any2img.learn.schedule import DEFAULT_LR, LRFindResult, make_optimizer, param_groups, steep_lr, valley_lr
from any2img.validation import check_float, check_int

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["lr_find", "seconds_per_step", "trial"]

@contextmanager
def trial(learn: Learner, lr: float) -> Iterator[tuple[torch.optim.Optimizer,
                                                       Iterator[tuple[torch.Tensor, torch.Tensor]]]]:
    """An optimiser at ``lr`` over every layer and endless training batches; afterwards, no trace.

    The weights and every random state are restored on leaving.
    """
    saved = {k: v.detach().clone() for k, v in learn.model.state_dict().items()}
    rng_meta, rng_tensors = capture_rng(learn._generator)
    optimizer = make_optimizer(param_groups(learn.model, lr), learn.settings.weight_decay)
    learn.model.train()

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        loader = learn._train_loader()
        while True:  # the training side is cycled if it has fewer batches
            yield from loader

    try:
        yield optimizer, batches()
    finally:
        learn.model.load_state_dict(saved)
        restore_rng(rng_meta, rng_tensors, learn._generator)
        learn._loaders.forget_train()


def seconds_per_step(learn: Learner, steps: int = 3) -> float:
    """Time a training step (after one warm-up step), leaving no trace; validation's share included."""
    times = []
    with trial(learn, DEFAULT_LR) as (optimizer, batches):
        for _ in range(steps + 1):
            x, y = next(batches)
            t0 = time.perf_counter()
            learn._train_step(optimizer, x, y)
            times.append(time.perf_counter() - t0)
    train = float(np.median(times[1:]))
    # validation each epoch: forward passes only (about a third of a step) over batches twice as large
    valid_batches = math.ceil(len(learn.split.valid) / (2 * learn.batch_size))
    return distributed.agree_max(train * (1 + 0.7 * valid_batches / learn.budget.steps_per_epoch))


def lr_find(learn: Learner, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100, *,
            plot: str | os.PathLike[str] | None = None) -> LRFindResult:
    """Try exponentially rising rates for ``num_it`` steps; suggest one (``Learner.lr_find``).

    The model's weights and every random state are restored afterwards, so
    training after ``lr_find`` is the same as without it. Stops early when
    the smoothed loss is no longer finite or exceeds four times its lowest.

    Parameters
    ----------
    start_lr, end_lr : float
    num_it : int, default=100
        Steps (the training side is cycled if it has fewer batches).
    plot : path, optional
        Save the curve there as PNG.

    Returns
    -------
    LRFindResult
        ``suggestion`` (the "valley" rate) and ``steep``.
    """
    start_lr = check_float("start_lr", start_lr, low=0.0, low_open=True)
    end_lr = check_float("end_lr", end_lr, low=start_lr, low_open=True)
    num_it = check_int("num_it", num_it, low=3)
    lrs: list[float] = []
    losses: list[float] = []
    avg, best = 0.0, math.inf
    with trial(learn, start_lr) as (optimizer, batches):
        for it in range(1, num_it + 1):
            x, y = next(batches)
            lr = start_lr * (end_lr / start_lr) ** ((it - 1) / (num_it - 1))
            for g in optimizer.param_groups:
                g["lr"] = lr
            avg = 0.98 * avg + 0.02 * float(learn._train_step(optimizer, x, y))
            smooth = avg / (1 - 0.98**it)
            if not math.isfinite(smooth):
                break
            lrs.append(lr)
            losses.append(smooth)
            best = min(best, smooth)
            if smooth > 4 * best:
                break
    cut = max(3, len(losses) - 3) if len(losses) > 6 else len(losses)
    result = LRFindResult(lrs=lrs, losses=losses, suggestion=valley_lr(lrs[:cut], losses[:cut]),
                          steep=steep_lr(lrs[:cut], losses[:cut]))
    if plot is not None:
        result.plot(plot)
    return result
