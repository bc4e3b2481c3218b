"""Signal-domain augmentation of a mouse log: small rotation, scale and time jitter.

On the events, before the path is drawn, so a window still shows a path a
hand could have made: turned by a few degrees about its centre, a little
larger or smaller, a little faster or slower between events. Buttons and
states are kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from any2img.converters.mouse.log import MouseLog

from any2img.parameters import Float, Rule

__all__ = ["OPTION_RULES", "augment_log"]

#: The rule of each option of :func:`augment_log` (``Learner(augment_options=...)`` is checked against them).
OPTION_RULES: dict[str, Rule] = {
    "rotate_deg": Float(0, 180), "scale": Float(0, 1, high_open=True),
    "time_jitter": Float(0, 1, high_open=True)}


def augment_log(log: MouseLog, rng: np.random.Generator, *, rotate_deg: float = 10.0, scale: float = 0.1,
                time_jitter: float = 0.05) -> MouseLog:
    """A randomly perturbed copy of ``log``.

    Parameters
    ----------
    log : MouseLog
    rng : numpy.random.Generator
    rotate_deg : float, default=10
        Rotation about the path's centre by up to this many degrees.
    scale : float, default=0.1
        Size multiplied by a factor in ``[1 - scale, 1 + scale]``.
    time_jitter : float, default=0.05
        Each interval between events stretched by a factor in
        ``[1 - time_jitter, 1 + time_jitter]`` (times stay ordered).

    Returns
    -------
    MouseLog
    """
    if len(log.t) < 2:
        return log
    angle = np.deg2rad(rng.uniform(-rotate_deg, rotate_deg))
    factor = rng.uniform(1 - scale, 1 + scale)
    cx, cy = float(np.mean(log.x)), float(np.mean(log.y))
    dx, dy = log.x - cx, log.y - cy
    cos, sin = np.cos(angle) * factor, np.sin(angle) * factor
    x, y = cx + cos * dx - sin * dy, cy + sin * dx + cos * dy
    dt = np.diff(log.t) * rng.uniform(1 - time_jitter, 1 + time_jitter, size=len(log.t) - 1)
    t = np.concatenate([[log.t[0]], log.t[0] + np.cumsum(dt)])
    return replace(log, t=t, x=x, y=y)
