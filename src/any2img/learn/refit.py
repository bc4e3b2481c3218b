"""Refit: after the validation side has chosen, learn from it too.

A grouped split (by speaker, session or user) keeps whole groups off the
training side so that validation measures what the model does on new ones;
the price is a model that never saw those groups. :func:`refit` trains a
fresh model with the same settings on train + valid, with the budget that
the rules of :mod:`any2img.learn.budget` give for that many items, and no
selection (nothing is left to select on): its last epoch is the model. The
first run's validation metrics remain the honest estimate of the recipe; the
refit model records them (``training.refit_of`` in ``model.json``) and
records both sides as training items, so ``any2img evaluate`` leaves them
out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from any2img.data.items import ImageItems
from any2img.data.splits import Split
from any2img.errors import InputError

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["merged_split", "refit"]


def merged_split(split: Split) -> Split:
    """The split with its validation side moved onto the training side (the test side untouched)."""
    train = ImageItems([*split.train, *split.valid], root=split.train.root, converter=split.converter)
    empty = ImageItems([], root=split.train.root, converter=split.converter)
    counts = {"train": len(train), "valid": 0, "test": len(split.test)}
    info = {**split.info, "counts": counts, "refit": {"valid_moved_to_train": len(split.valid)}}
    return Split(train=train, valid=empty, test=split.test, classes=list(split.classes), info=info)


def refit(learn: Learner, *, verbose: bool | None = None) -> Learner:
    """A new, untrained Learner with ``learn``'s settings on its train + valid sides.

    Call ``fine_tune()`` on it (its default budget is planned for the larger
    training side) and export it; ``learn`` should have been fine-tuned
    first, since its validation metrics and selected epoch are what the
    refit model records as the estimate of the recipe.

    Parameters
    ----------
    learn : Learner
        The run whose validation side chose the recipe.
    verbose : bool, optional
        Default: ``learn.verbose``.

    Returns
    -------
    Learner
        Same backbone, weights, input size, seed, augmentation, loss and
        regulariser settings; batch size and epochs re-planned unless
        ``learn`` had them fixed.

    Raises
    ------
    InputError
        ``learn`` has no validation side to move.
    """
    from any2img.learn.learner import Learner

    if not len(learn.split.valid):
        raise InputError("refit moves the validation side onto the training side, but the split has none.")
    asked = learn.settings  # the batch size as given (None: planned anew), the input size as resolved
    new = Learner(merged_split(learn.split), **{
        **asked.arguments(), "image_size": learn.data_config.size, "device": learn.device, "early_stopping": False,
        "verbose": asked.verbose if verbose is None else verbose})
    valid = learn.evaluations.get("valid")
    record: dict[str, Any] = {"selected_epoch": learn.selected_epoch, "epochs": len(learn.history),
                              "valid_items": len(learn.split.valid), "valid": dict(valid) if valid else None}
    new.refit_of = record
    return new
