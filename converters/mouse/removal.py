"""Removing events of a mouse path, for occlusion in the signal's domain and deletion tests.

A removed event is dropped from the log: the path goes straight from the
kept event before it to the kept event after it, and the speeds and
accelerations the pictures draw are those of the shortened log. At least
two events stay (the first and the last, when fewer would be kept), so the
converter still has a path to draw.
"""

from __future__ import annotations

import numpy as np
from any2img.converters.mouse.log import MouseLog

__all__ = ["delete_events"]


def delete_events(log: MouseLog, remove: np.ndarray) -> MouseLog:
    """The mouse log without the removed events (the path goes straight from kept event to kept event).

    Parameters
    ----------
    log : MouseLog
    remove : ndarray of bool, shape (n_events,)

    Returns
    -------
    MouseLog
        The kept events, in order; the first and the last event when fewer
        than two would be kept.
    """
    keep = ~np.asarray(remove, dtype=bool)
    if keep.sum() < 2:
        keep = np.zeros_like(keep)
        keep[[0, -1]] = True
    return log.take(keep)
