"""The one train step: mixup, a forward pass in mixed precision, the loss, one optimiser step.

Training (:class:`~any2img.learn.loop.TrainingLoop`), the learning-rate
finder and the time-budget probe (:mod:`any2img.learn.trial`) all step
through :func:`train_step`, by way of ``Learner._train_step``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from any2img.errors import ParameterError
from any2img.learn import distributed

__all__ = ["mixup_draw", "train_step"]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mixup_draw(alpha: float, n: int, generator: torch.Generator, device: torch.device
               ) -> tuple[float, torch.Tensor | None]:
    """mixup's weight and partner order for a batch of ``n`` (None: no mixing), from ``generator``.

    Drawn from the generator that shuffles the data, so a resumed run draws the same as an uninterrupted one.
    """
    if not alpha or n < 2:
        return 1.0, None
    draw = int(torch.randint(2**31 - 1, (1,), generator=generator))  # torch's Beta takes no generator
    lam = float(np.random.default_rng(draw).beta(alpha, alpha))
    return lam, torch.randperm(n, generator=generator).to(device)


def train_step(model: nn.Module, loss_fn: Loss, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
               x: torch.Tensor, y: torch.Tensor, *, device: torch.device, amp: bool,
               mix: Callable[[int], tuple[float, torch.Tensor | None]], finite: bool = False) -> torch.Tensor:
    """One optimiser step (float16 autocast with ``scaler`` when ``amp``); returns the batch's loss.

    ``mix(n)`` gives mixup's weight and partner order (see :func:`mixup_draw`). ``finite``: a
    non-finite loss raises before the step touches the weights (training); ``lr_find`` passes False
    and stops on it itself.
    """
    x = x.to(device, non_blocking=True)
    y = y.to(device, non_blocking=True)
    lam, perm = mix(len(y))
    if perm is not None:
        x = lam * x + (1 - lam) * x[perm]
    with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
        logits = distributed.wrap(model)(x)  # the DDP view under torchrun
        loss = loss_fn(logits, y) if perm is None else (
            lam * loss_fn(logits, y) + (1 - lam) * loss_fn(logits, y[perm]))
    if finite and not torch.isfinite(loss):
        raise ParameterError(
            f"the training loss became {float(loss)}; the learning rate is too high for this data "
            f"(try lr_find() or a rate 10x lower)."
        )
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()
