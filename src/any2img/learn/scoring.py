"""Scoring a learner's model on a side of its split: logits, probabilities, loss and metrics.

What ``Learner.evaluate``, ``get_preds`` and each epoch's validation
compute, through the one inference path
(:func:`~any2img.learn.inference.predict_logits`), on a shard per rank under
torchrun.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from any2img.data.items import ImageItems
from any2img.errors import InputError
from any2img.learn import distributed
from any2img.learn.heldout import recording_accuracy
from any2img.learn.inference import predict_logits, softmax_np
from any2img.learn.metrics import compute_metrics

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["evaluation", "side_logits", "tta_probs", "validation"]


def _items(learn: Learner, side: str | ImageItems) -> ImageItems:
    return side if isinstance(side, ImageItems) else learn.split.side(side)


def side_logits(learn: Learner, side: str | ImageItems) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits (N, C), targets (N,))`` of the model on a side (or on given items)."""
    ds = learn._dataset(side)
    if len(ds) == 0:
        name = side if isinstance(side, str) else "given"
        raise InputError(f"the {name} side of the split holds no image.")
    return distributed.sharded_logits(ds, lambda part: predict_logits(  # a shard per rank under torchrun
        learn.model, part, batch_size=2 * learn.batch_size, device=learn.device, num_workers=learn.num_workers,
        amp=learn._amp))


def tta_probs(learn: Learner, side: str | ImageItems, probs: np.ndarray, tta: int) -> np.ndarray:
    """``probs`` averaged with those of ``tta`` pictures drawn from perturbed raw signals."""
    from any2img.data.signals import SignalDataset

    perturbed = SignalDataset(_items(learn, side), learn.classes, learn.data_config)
    for _ in range(tta):
        more, _ = predict_logits(learn.model, perturbed, batch_size=2 * learn.batch_size, device=learn.device,
                                 num_workers=learn.num_workers, amp=learn._amp)
        probs = probs + softmax_np(more)
    return probs / (tta + 1)


def evaluation(learn: Learner, side: str | ImageItems) -> dict[str, Any]:
    """Loss, metrics and ``n`` on the labelled items of a side, with recording accuracy where it applies."""
    logits, targets = side_logits(learn, side)
    known = targets >= 0
    probs = softmax_np(logits[known])
    loss = float(learn._loss(logits[known].float(), targets[known])) if bool(known.any()) else float("nan")
    result = {"loss": loss, **compute_metrics(learn.metrics, probs, targets[known].numpy())}
    result["n"] = int(known.sum())
    kept = [it for it, k in zip(_items(learn, side), known.tolist()) if k]
    result.update(recording_accuracy(probs, targets[known].numpy(), kept) or {})
    return result


def validation(learn: Learner) -> tuple[float, dict[str, float], np.ndarray | None]:
    """The validation loss, metrics and per-item losses (for model selection); NaN without a validation side."""
    if len(learn.split.valid) == 0:
        return float("nan"), {m: float("nan") for m in learn.metrics}, None
    logits, targets = side_logits(learn, "valid")
    known = targets >= 0
    items = nn.functional.cross_entropy(logits[known].float(), targets[known], reduction="none",
                                        label_smoothing=learn.label_smoothing)
    loss = float(items.mean()) if len(items) else float("nan")  # the mean of the items is the loss
    return loss, compute_metrics(learn.metrics, softmax_np(logits), targets.numpy()), items.numpy()
