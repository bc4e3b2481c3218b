"""Removable parts of a signal: what ``Converter.parts`` returns, for occlusion in the signal's own domain.

An explanation by *signal occlusion* (``explain(method="signal")``) asks the
model what it loses when a stretch of the *raw* input is taken away: time
steps of a series, frames of a recording, events of a mouse path. Only the
converter family knows what "taking away" means for its input (a series'
steps are interpolated over, a recording's frames become silence, a mouse
path goes straight past its removed events), and only it knows the signal's
coordinates the scores belong in. So each family describes one window's
parts as a :class:`SignalParts`: how many there are, how to remove any of
them (numpy only, returning a new window the converter draws again), and
how to wrap one score per part in the family's relevance container
(:mod:`any2img.relevance`). The forward passes are not here: the explain
layer (:mod:`any2img.explain_signal`) does them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from any2img.relevance import Relevance

__all__ = ["SignalParts", "with_data"]


@dataclass(frozen=True)
class SignalParts:
    """The removable parts of one window of a signal.

    Attributes
    ----------
    n : int
        How many parts the window has (time steps, frames, events).
    unit : str
        What a part is: ``"step"``, ``"frame"`` or ``"event"``.
    remove : callable
        ``remove(mask)`` with a boolean ``mask`` of shape ``(n,)`` returns the
        window (a :class:`~any2img.converter.Window` when one was given)
        without the masked parts, ready for ``converter.convert``.
    relevance : callable
        ``relevance(values)`` with one score per part, ``(n,)``, returns the
        family's :class:`~any2img.relevance.Relevance` container, in the
        signal's coordinates (the window's position kept).
    seconds : float
        The duration of one part, where a part has one (a frame's hop); 0 else.
    """

    n: int
    unit: str
    remove: Callable[[np.ndarray], Any]
    relevance: Callable[[np.ndarray], Relevance]
    seconds: float = 0.0


def with_data(window: Any, data: Any) -> Any:
    """``window`` with its data replaced by ``data`` (position kept), or ``data`` when ``window`` is bare data."""
    from any2img.converter import Window

    return replace(window, data=data) if isinstance(window, Window) else data
