"""Scoring a learner's model on a side of its split: logits, probabilities, loss and metrics.

What ``Learner.evaluate``, ``get_preds``, ``interpret`` and each epoch's validation
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
from any2img.learn.inference import predict_logits, softmax_np, tta_mean
from any2img.learn.metrics import compute_metrics
from any2img.validation import check_int

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["TTA_PASSES", "evaluate", "evaluation", "interpretation", "predictions", "side_logits", "tta_probs",
           "validation"]

#: Test-time augmentation passes by default for a model that trained on perturbed raw signals: on FSDD's
#: validation protocol 4 passes were never worse on four runs and once +0.129 (benchmarks/DEFAULTS.md, fifth round).
TTA_PASSES = 4


def _items(learn: Learner, side: str | ImageItems) -> ImageItems:
    return side if isinstance(side, ImageItems) else learn.split.side(side)


def side_logits(learn: Learner, side: str | ImageItems) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits (N, C), targets (N,))`` of the model on a side (or on given items)."""
    ds = learn._dataset(side)
    if len(ds) == 0:
        name = side if isinstance(side, str) else "given"
        raise InputError(f"the {name} side of the split holds no image.")
    return distributed.sharded_logits(ds, lambda part: predict_logits(  # a shard per rank under torchrun
        learn.model, part, batch_size=2 * learn.batch_size, device=learn.device,
        num_workers=learn.settings.num_workers, amp=learn._amp))


def tta_probs(learn: Learner, side: str | ImageItems, probs: np.ndarray, tta: int) -> np.ndarray:
    """``probs`` averaged with those of ``tta`` pictures drawn from perturbed raw signals (see ``tta_mean``)."""
    return tta_mean(learn.model, _items(learn, side), learn.classes, learn.data_config, probs, tta,
                    batch_size=2 * learn.batch_size, device=learn.device, num_workers=learn.settings.num_workers,
                    amp=learn._amp, options=learn.augment_options)


def predictions(learn: Learner, side: str | ImageItems, tta: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and targets on a side of the split (or on given items); see ``Learner.get_preds``.

    Parameters
    ----------
    side : {"valid", "test", "train"} or ImageItems
    tta : int, optional
        Test-time augmentation in the signal domain: also predict ``tta``
        pictures drawn from perturbed raw signals (see
        :func:`~any2img.learn.inference.tta_mean`) and average all
        ``tta + 1`` probabilities. Needs the conversion's sources. None:
        ``learn.tta`` (the Learner's setting, or what its default became).

    Returns
    -------
    probs : ndarray of shape (N, n_classes), float32
    targets : ndarray of shape (N,), int64
        Class indices; ``-1`` for an item without a label.
    """
    logits, targets = side_logits(learn, side)
    probs = softmax_np(logits)
    tta = check_int("tta", learn.tta if tta is None else tta, low=0)
    if tta:
        probs = tta_probs(learn, side, probs, tta)
    return probs, targets.numpy()


def evaluate(learn: Learner, side: str | ImageItems) -> dict[str, Any]:
    """Loss and metrics on a side, kept in ``learn.evaluations`` (for a named side); see ``Learner.evaluate``.

    ``evaluate(learn, "test")`` is the only way the test side is scored
    (with :func:`predictions` and :func:`interpretation`); the result is
    exported with the model while no epoch was trained after it.

    Returns
    -------
    dict
        ``{"loss": ..., <metric>: ..., "n": N}``, plus ``recording_accuracy``
        and ``n_recordings`` when recordings (sources) have several windows:
        the mean of a recording's window probabilities decides, as
        ``predict`` answers.
    """
    result = evaluation(learn, side)
    if isinstance(side, str):
        learn.evaluations[side] = result
        learn._evaluated_at[side] = len(learn.history)
    return result


def interpretation(learn: Learner, side: str | ImageItems) -> Any:
    """An :class:`~any2img.learn.interpret.Interpretation` of the predictions on a side."""
    from any2img.learn.interpret import Interpretation

    items = _items(learn, side)
    probs, targets = learn.get_preds(side)
    return Interpretation(probs, targets, learn.classes, items)


def evaluation(learn: Learner, side: str | ImageItems) -> dict[str, Any]:
    """Loss, metrics and ``n`` on the labelled items of a side, with recording accuracy where it applies.

    With test-time augmentation (``learn.tta`` passes) the metrics and the
    loss (the negative log of the averaged probability) are those of the
    averaged probabilities, and ``tta`` says how many passes were averaged.
    """
    logits, targets = side_logits(learn, side)
    known = targets >= 0
    if learn.tta and bool(known.any()):
        probs = tta_probs(learn, side, softmax_np(logits), learn.tta)[known.numpy()]
        picked = probs[np.arange(len(probs)), targets[known].numpy()]
        loss = float(-np.mean(np.log(np.clip(picked, 1e-12, None))))
    else:
        probs = softmax_np(logits[known])
        loss = float(learn._loss(logits[known].float(), targets[known])) if bool(known.any()) else float("nan")
    result = {"loss": loss, **compute_metrics(learn.settings.metrics, probs, targets[known].numpy())}
    result["n"] = int(known.sum())
    if learn.tta:
        result["tta"] = learn.tta
    kept = [it for it, k in zip(_items(learn, side), known.tolist()) if k]
    result.update(recording_accuracy(probs, targets[known].numpy(), kept) or {})
    return result


def validation(learn: Learner) -> tuple[float, dict[str, float], np.ndarray | None]:
    """The validation loss, metrics and per-item losses (for model selection); NaN without a validation side."""
    if len(learn.split.valid) == 0:
        return float("nan"), {m: float("nan") for m in learn.settings.metrics}, None
    logits, targets = side_logits(learn, "valid")
    known = targets >= 0
    items = nn.functional.cross_entropy(logits[known].float(), targets[known], reduction="none",
                                        label_smoothing=learn.settings.label_smoothing)
    loss = float(items.mean()) if len(items) else float("nan")  # the mean of the items is the loss
    return loss, compute_metrics(learn.settings.metrics, softmax_np(logits), targets.numpy()), items.numpy()
