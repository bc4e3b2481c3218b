"""From a trained learner to plain data: its resolved settings, and the artifact's fields.

:func:`export` gathers the weights, classes, input config, converter,
split fingerprints, metrics and history, and hands them to
:func:`any2img.artifact.write_artifact`, which knows nothing of the
Learner.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from any2img.learn import distributed

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["augmentation_record", "converter_record", "export", "training_config"]

_SPLIT_KEYS = ("strategy", "seed", "valid_pct", "test", "counts", "groups")


def augmentation_record(learn: Learner) -> dict[str, Any]:
    """What perturbs the pictures, JSON-able: ``augment`` (what "auto" became) and ``augment_options``."""
    augment = learn.augment
    return {"augment": augment if augment is None or isinstance(augment, (str, list)) else repr(augment),
            "augment_options": {k: list(v) if isinstance(v, tuple) else v for k, v in learn.augment_options.items()}}


def training_config(learn: Learner) -> dict[str, Any]:
    """The resolved settings of ``learn`` (JSON-able), for records and artifacts."""
    asked = learn.settings
    return {
        "backbone": asked.backbone,
        "weights": learn.weights_source,
        "pretrained": asked.pretrained,
        "image_size": list(learn.data_config.size),
        "batch_size": learn.batch_size,
        "metrics": list(asked.metrics),
        "seed": asked.seed,
        **augmentation_record(learn),
        "label_smoothing": asked.label_smoothing,
        "mixup": asked.mixup,
        "weight_decay": asked.weight_decay,
        "selection": asked.selection,
        "early_stopping": asked.early_stopping,
        "patience": asked.patience,
        "device": str(learn.device),
        "mixed_precision": learn._amp,
        "convert_on": asked.convert_on,
        "tta": learn.tta,
        "fits": learn.fits,
        **({"refit_of": learn.refit_of} if learn.refit_of is not None else {}),
    }


def converter_record(learn: Learner) -> dict[str, Any] | None:
    """The converter for model.json; ``implementation: "torch"`` when its torch implementation drew the pictures."""
    if learn.converter is None or learn.settings.convert_on != "device":
        return learn.converter
    return {**learn.converter, "implementation": "torch"}


def export(learn: Learner, path: str | os.PathLike[str]) -> Path:
    """Write ``learn``'s model to the folder ``path``: ``weights.safetensors`` and ``model.json`` (``Learner.export``).

    Validation metrics are computed now if the last ``evaluate("valid")``
    predates the last epoch; test metrics are included when
    ``evaluate("test")`` was called after the last epoch. The split's
    training and validation items are recorded by content fingerprint, so
    ``any2img evaluate`` can leave them out. Load the folder with
    ``any2img.load(path)``; see :func:`any2img.artifact.write_artifact`.
    """
    from any2img.artifact import write_artifact
    from any2img.data.fingerprint import FINGERPRINT, fingerprints

    epochs = len(learn.history)
    if len(learn.split.valid) and learn._evaluated_at.get("valid") != epochs:
        learn.evaluate("valid")
    metrics = {side: dict(values) for side, values in learn.evaluations.items()
               if learn._evaluated_at.get(side) == epochs}
    info = learn.split.info
    split: dict[str, Any] = {key: info.get(key) for key in _SPLIT_KEYS if key in info}
    split["fingerprints"] = {"rule": FINGERPRINT, "train": fingerprints(learn.split.train),
                             "valid": fingerprints(learn.split.valid)}
    if not distributed.is_rank0():  # under torchrun one artifact, written by rank 0
        return Path(path)
    return write_artifact(
        path, model=learn.model, backbone=learn.settings.backbone, classes=learn.classes,
        data_config=learn.data_config,
        model_kwargs=learn.model_kwargs, converter=converter_record(learn), segmenter=None, split=split,
        metrics=metrics, history=learn.history, training=learn.config(),
    )
