"""Parameter groups, the one-cycle schedule, and the learning-rate finder's maths."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from any2img.learn.backbones import head_parameters

__all__ = ["DEFAULT_LR", "LRFindResult", "make_one_cycle", "make_optimizer", "param_groups", "steep_lr", "valley_lr"]

#: Default peak learning rate (all layers, one-cycle), measured on spectrograms and Gramian fields.
DEFAULT_LR = 2e-3

#: One-cycle settings (fastai's): warm up for 25% of the steps from lr/25, anneal by cosine to lr/1e5,
#: momentum (Adam's beta1) cycling 0.95 -> 0.85 -> 0.95.
PCT_START = 0.25
DIV_FACTOR = 25.0
FINAL_DIV_FACTOR = 1e5
MOMENTUMS = (0.85, 0.95)
BETAS = (0.9, 0.99)


def param_groups(
    model: nn.Module, lr: float, *, lr_mult: float = 1.0, body_groups: int = 3, train_body: bool = True
) -> list[dict[str, object]]:
    """Split the parameters into body layer groups and the head, each with its rate.

    Parameters
    ----------
    model : nn.Module
    lr : float
        Rate of the head (the largest).
    lr_mult : float, default=1.0
        Head rate over the first body group's rate; the body groups' rates
        rise geometrically from ``lr / lr_mult`` towards ``lr``. 1 trains
        every layer at ``lr``.
    body_groups : int, default=3
        How many consecutive slices the body's parameters are cut into.
    train_body : bool, default=True
        False freezes the body (``requires_grad=False``) and returns only the
        head's group.

    Returns
    -------
    list of dict
        ``[{"params": [...], "lr": ...}, ...]``, body first, head last.
    """
    head = head_parameters(model)
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    for p in body:
        p.requires_grad_(train_body)
    for p in head:
        p.requires_grad_(True)
    if not train_body or not body:
        return [{"params": head, "lr": lr}]
    n = max(1, min(body_groups, len(body)))
    bounds = np.linspace(0, len(body), n + 1).round().astype(int)
    groups: list[dict[str, object]] = []
    for i in range(n):
        rate = lr / lr_mult ** (1.0 - i / n) if lr_mult != 1.0 else lr
        groups.append({"params": body[bounds[i]:bounds[i + 1]], "lr": rate})
    groups.append({"params": head, "lr": lr})
    return groups


def make_optimizer(groups: list[dict[str, object]], weight_decay: float) -> torch.optim.Optimizer:
    """AdamW with decoupled weight decay over ``groups``."""
    return torch.optim.AdamW(groups, betas=BETAS, weight_decay=weight_decay)


def make_one_cycle(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    """A one-cycle schedule peaking at each group's ``lr``, over ``total_steps`` steps."""
    max_lrs = [g["lr"] for g in optimizer.param_groups]
    total = max(total_steps, 2)
    # torch divides by zero when the warm-up ends at step 0 (fewer than 5 steps): lengthen it.
    pct_start = min(max(PCT_START, 1.5 / total), 0.75)
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=max_lrs,
        total_steps=total,
        pct_start=pct_start,
        div_factor=DIV_FACTOR,
        final_div_factor=FINAL_DIV_FACTOR,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=MOMENTUMS[0],
        max_momentum=MOMENTUMS[1],
    )


def valley_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """fastai's "valley": a rate two-thirds down the longest stretch of falling loss."""
    n = len(losses)
    if n < 3:
        return float(lrs[0]) if n else float("nan")
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[min(idx, n - 1)])


def steep_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The rate where the loss falls fastest against log(lr)."""
    if len(losses) < 3:
        return float(lrs[0]) if len(lrs) else float("nan")
    grad = np.gradient(np.asarray(losses, dtype=float), np.log10(np.asarray(lrs, dtype=float)))
    return float(lrs[int(np.nanargmin(grad))])


@dataclass
class LRFindResult:
    """The learning-rate finder's curve and its suggestions.

    Attributes
    ----------
    lrs, losses : list of float
        The rates tried (exponentially rising) and the smoothed training loss.
    suggestion : float
        The "valley" rate: a safe, fairly high rate to give ``fit_one_cycle``.
    steep : float
        The rate where the loss falls fastest.
    """

    lrs: list[float]
    losses: list[float]
    suggestion: float
    steep: float

    def plot(self, path: str | os.PathLike[str] | None = None) -> object:
        """Plot loss against rate (log scale) with the suggestions; save to ``path``.

        Returns the matplotlib figure (made without pyplot, so no window
        opens and any backend works).
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss (smoothed)")
        for value, name, colour in ((self.suggestion, "valley", "tab:red"), (self.steep, "steep", "tab:green")):
            if math.isfinite(value):
                ax.axvline(value, color=colour, linestyle="--", label=f"{name} {value:.2e}")
        ax.legend()
        fig.tight_layout()
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=100)
        return fig
