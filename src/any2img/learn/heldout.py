"""Scoring only what a model never saw, and per-recording accuracy beside per-window accuracy."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from any2img.data.fingerprint import fingerprint
from any2img.data.items import ImageItems
from any2img.errors import InputError

__all__ = ["SeenItemsWarning", "held_out", "recording_accuracy"]


class SeenItemsWarning(UserWarning):
    """Items a model trained or was selected on are being scored."""


def held_out(items: ImageItems, meta: dict[str, Any], *, include_seen: bool = False,
             where: str | None = None) -> tuple[ImageItems, int]:
    """Leave out the items that the model's ``model.json`` records as training or validation items.

    Parameters
    ----------
    items : ImageItems
    meta : dict
        The model's ``model.json``; its ``split.fingerprints`` lists the
        content fingerprints of the train and valid sides (models exported
        before they were recorded have none, and nothing is left out).
    include_seen : bool, default=False
        Keep the seen items (a :class:`SeenItemsWarning` says how many: the
        score overstates what the model does on new data).
    where : str, optional
        The data's location, for messages.

    Returns
    -------
    items : ImageItems
        The items to score.
    seen : int
        How many of the given items the model had seen.

    Raises
    ------
    InputError
        Every item was seen in training or validation (and not ``include_seen``).
    """
    prints = ((meta.get("split") or {}).get("fingerprints") or {})
    known = set(prints.get("train") or []) | set(prints.get("valid") or [])
    if not known:
        return items, 0
    flags = [fingerprint(it) in known for it in items]
    seen = sum(flags)
    if not seen:
        return items, 0
    place = f" in {where}" if where else ""
    if include_seen:
        warnings.warn(f"{seen} of {len(items)} items{place} were on the model's training or validation side; "
                      "they are scored as asked, and the score overstates accuracy on new data.",
                      SeenItemsWarning, stacklevel=2)
        return items, seen
    kept = items.take(i for i, flag in enumerate(flags) if not flag)
    if not len(kept):
        raise InputError(f"all {len(items)} items were on the model's training or validation side, so none is "
                         "held out; evaluate on the test side (or new data), or pass --include-seen to score "
                         "them anyway (an overstated score)", path=where)
    warnings.warn(f"left out {seen} of {len(items)} items{place}: the model trained or was selected on them; "
                  f"scoring the {len(kept)} held-out items.", SeenItemsWarning, stacklevel=2)
    return kept, seen


def recording_accuracy(probs: np.ndarray, targets: np.ndarray, items: Sequence[Any]) -> dict[str, Any] | None:
    """Accuracy per recording: the mean of its windows' probabilities, as ``predict`` answers.

    A recording is an item's ``(source, record)``. Returns None when no
    recording has more than one window (then it equals per-window accuracy).

    Returns
    -------
    dict or None
        ``{"recording_accuracy": ..., "n_recordings": ...}``.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, it in enumerate(items):
        if it.source is None:
            return None
        groups.setdefault((str(it.source), str(it.record or "")), []).append(i)
    if not groups or max(len(v) for v in groups.values()) < 2:
        return None
    hits = []
    for members in groups.values():
        labels = {int(targets[i]) for i in members}
        if len(labels) != 1:
            continue  # a recording whose windows carry different labels has no single answer
        hits.append(int(np.argmax(probs[members].mean(axis=0))) == labels.pop())
    if not hits:
        return None
    return {"recording_accuracy": float(np.mean(hits)), "n_recordings": len(hits)}
