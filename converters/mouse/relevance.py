"""Where a mouse picture's pixels come from: an attribution back onto the events.

**Trajectories.** The path is drawn step by step: step ``i`` is a line from
event ``i`` to event ``i + 1`` (when the pointer moved), a press is a ring
around its event, a scroll a small square at its event. The events' pixel
positions are those of the drawing (:func:`.trajectory._canvas_points`
on the supersampled canvas, where Pillow draws point ``p`` into canvas pixel
``p``, centred on ``p + 0.5``; the shrink by ``s`` puts that at image pixel
``(p + 0.5) / s - 0.5``). Each pixel of the attribution goes to the drawn
element nearest to it, when it lies within that element's reach (half the
line's width plus one pixel of antialiasing, the ring's radius plus or minus
one pixel, the square's half side plus one pixel); a step's share is split
between its two events by where along the step the pixel projects. Pixels
out of reach of every element are empty canvas: they count in
:attr:`~any2img.relevance.EventRelevance.on_path` (the share of the
attribution that fell on drawn events) and go to no event.

**Kinematic fields** (``mouse_kinematics``): the per-step speed, acceleration
and turning series are shortened by piecewise aggregate means to the image's
side, made pairwise fields and resized; an attribution goes back through the
resize (its transpose), the field's row and column marginals (half each), the
aggregation (a block's share split evenly between its steps) and from each
step to its two events (half each).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from any2img.converters.mouse.log import PRESSED, SCROLL, MouseLog
from any2img.converters.mouse.segment import detect_actions

from any2img.relevance import EventRelevance, resize_matrix

__all__ = ["action_sums", "event_relevance", "kinematic_event_relevance", "trajectory_event_relevance"]

#: Pixels of antialiasing around every drawn element that still belong to it.
_REACH = 1.0
_CHUNK = 4096


def action_sums(log: MouseLog, values: np.ndarray) -> list[dict[str, Any]]:
    """Relevance summed per MM / PC / DD action of ``log`` (event indices within the log)."""
    return [{"kind": a.kind, "start": a.start, "stop": a.stop, "relevance": float(values[a.start : a.stop].sum())}
            for a in detect_actions(log)]


def event_relevance(log: MouseLog, values: np.ndarray, on_path: float | None, window: dict[str, Any]) -> EventRelevance:
    """Wrap per-event values with the log's events and its actions."""
    return EventRelevance(values, log.t.astype(np.float64), log.x.astype(np.float64), log.y.astype(np.float64),
                          log.state_names(), action_sums(log, values), on_path, window)


def _segment_distance(qx: np.ndarray, qy: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
                      y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points ``(P,)`` to segments ``(S,)``, and where along each they project (``(P, S)``)."""
    dx, dy = x1 - x0, y1 - y0
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    u = ((qx[:, None] - x0) * dx + (qy[:, None] - y0) * dy) / length2
    u = np.clip(u, 0.0, 1.0)
    ex = qx[:, None] - (x0 + u * dx)
    ey = qy[:, None] - (y0 + u * dy)
    return np.hypot(ex, ey), u


def trajectory_event_relevance(
    attribution: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    log: MouseLog,
    steps: np.ndarray,
    half_widths: np.ndarray,
    click_radius: float,
) -> tuple[np.ndarray, float]:
    """Give each pixel's score to the events drawn there; return ``(per event, on-path share)``.

    Parameters
    ----------
    attribution : ndarray of shape (H, W)
    px, py : ndarray of shape (n_events,)
        The events' positions in image pixels (pixel ``(r, c)`` is centred
        on ``x = c``, ``y = r``).
    log : MouseLog
        The window's events (for its presses and scrolls).
    steps : ndarray of int
        Indices ``i`` of the drawn steps (event ``i`` to ``i + 1``).
    half_widths : ndarray of shape (len(steps),)
        Half the drawn width of each step, in pixels (its halo included).
    click_radius : float
        Radius of the press rings in pixels (0: none drawn).

    Returns
    -------
    (ndarray of shape (n_events,), float)
        Relevance per event (sums to the attribution on drawn pixels) and
        the share of the positive attribution that lies on drawn pixels.

    Examples
    --------
    >>> log = MouseLog.from_arrays([0.0, 0.1, 0.2], [0, 4, 8], [2, 2, 2])
    >>> a = np.zeros((5, 9)); a[2, 1] = 1.0    # a pixel on the first step, near event 0
    >>> values, share = trajectory_event_relevance(a, np.array([0.0, 4, 8]), np.array([2.0, 2, 2]), log,
    ...                                            np.array([0, 1]), np.array([0.5, 0.5]), 0.0)
    >>> values.round(2).tolist(), share
    ([0.75, 0.25, 0.0], 1.0)
    """
    n = len(px)
    values = np.zeros(n)
    rows, cols = np.nonzero(attribution)
    if rows.size == 0:
        return values, 0.0
    scores = attribution[rows, cols]
    qx, qy = cols.astype(np.float64), rows.astype(np.float64)
    presses = np.flatnonzero(log.state == PRESSED) if click_radius > 0 else np.zeros(0, dtype=np.intp)
    scrolls = np.flatnonzero(log.button == SCROLL)
    if steps.size == 0 and presses.size == 0:  # the pointer rests: one dot at the first event
        scrolls = np.union1d(scrolls, [0])
    reach_steps = half_widths + _REACH
    drawn = np.zeros(rows.size, dtype=bool)
    for lo in range(0, rows.size, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        x, y = qx[sl], qy[sl]
        best = np.full(x.size, np.inf)  # how far inside its element's reach each pixel is (<= 0: drawn)
        owner = np.full(x.size, -1)
        share = np.zeros(x.size)  # of the step's far end
        kind = np.zeros(x.size, dtype=np.int8)  # 0 step, 1 point
        if steps.size:
            dist, u = _segment_distance(x, y, px[steps], py[steps], px[steps + 1], py[steps + 1])
            excess = dist - reach_steps
            j = np.argmin(excess, axis=1)
            e = excess[np.arange(x.size), j]
            best, owner, share = e, steps[j], u[np.arange(x.size), j]
        for points, reach, ring in ((presses, _REACH, click_radius), (scrolls, 0.9 + _REACH, 0.0)):
            if points.size == 0:
                continue
            d = np.hypot(x[:, None] - px[points], y[:, None] - py[points])
            excess = (np.abs(d - ring) if ring > 0 else d) - reach
            j = np.argmin(excess, axis=1)
            e = excess[np.arange(x.size), j]
            closer = e < best
            best = np.where(closer, e, best)
            owner = np.where(closer, points[j], owner)
            kind = np.where(closer, 1, kind).astype(np.int8)
        hit = best <= 0
        s = scores[sl]
        on_step = hit & (kind == 0)
        np.add.at(values, owner[on_step], s[on_step] * (1.0 - share[on_step]))
        np.add.at(values, owner[on_step] + 1, s[on_step] * share[on_step])
        on_point = hit & (kind == 1)
        np.add.at(values, owner[on_point], s[on_point])
        drawn[sl] = hit
    positive = np.clip(scores, 0.0, None)
    total = float(positive.sum())
    return values, float(positive[drawn].sum() / total) if total > 0 else 0.0


def kinematic_event_relevance(attribution: np.ndarray, n_events: int, short: int) -> np.ndarray:
    """Per-event relevance of a kinematic picture of ``n_events`` events whose fields were ``short`` wide.

    Parameters
    ----------
    attribution : ndarray of shape (H, W)
    n_events : int
    short : int
        The side of the pairwise fields before the resize (``min(steps, max(H, W))``).

    Examples
    --------
    >>> a = np.zeros((3, 3)); a[0, 0] = 1.0     # steps 0 and 0 of a 4-event log
    >>> kinematic_event_relevance(a, 4, 3).tolist()
    [0.5, 0.5, 0.0, 0.0]
    """
    h, w = attribution.shape
    n_steps = n_events - 1
    if n_steps <= 0:
        return np.array([float(attribution.sum())] * max(n_events, 0))[:n_events]
    field = resize_matrix(short, h).T @ attribution @ resize_matrix(short, w)
    blocks = 0.5 * (field.sum(axis=0) + field.sum(axis=1))
    if n_steps > short:  # piecewise aggregate means: block k holds steps edges[k]..edges[k+1]-1
        edges = np.append((np.arange(short) * n_steps) // short, n_steps)
        lengths = np.diff(edges)
        per_step = np.repeat(blocks / lengths, lengths)
    else:
        per_step = blocks
    values = np.zeros(n_events)
    values[:-1] += per_step / 2
    values[1:] += per_step / 2
    return values
