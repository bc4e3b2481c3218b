"""Cutting a mouse log into windows: by events, by seconds, or by actions.

Actions follow Antal & Egyed-Zsigmond (2019, "Intrusion detection using
mouse dynamics", IET Biometrics 8(5)):

* **MM** (mouse move) — a run of pointer moves that ends without a click;
* **PC** (point and click) — a run of moves that ends in a button press and
  its release;
* **DD** (drag and drop) — a press, the drag events, and the release.

The log is first cut after every button release and wherever two events are
more than ``gap`` seconds apart (10 s, as in the paper); each piece that ends
in a release is a PC, or — when drag events lie between the press and the
release — an MM (the moves before the press, if any) followed by a DD; any
other piece is an MM. Scroll events belong to no action (a window of actions
still contains the scrolls between them). Pieces with fewer than two events
are not actions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from any2img.converters.mouse.log import DOWN, DRAG, PRESSED, RELEASED, SCROLL, UP, MouseLog

from any2img.converter import Window
from any2img.errors import InputError

__all__ = ["ACTION_GAP", "MAX_WINDOWS", "Action", "detect_actions", "segment_log"]

#: Seconds of silence that end an action.
ACTION_GAP = 10.0
#: The most time windows one log may give (each holds a view of the log; a tiny step would otherwise make
#: billions).
MAX_WINDOWS = 100_000


@dataclass(frozen=True)
class Action:
    """One mouse action: events ``start`` to ``stop - 1`` of a log.

    Attributes
    ----------
    kind : {"MM", "PC", "DD"}
    start, stop : int
        Event indices, ``stop`` excluded.
    """

    kind: str
    start: int
    stop: int


def detect_actions(log: MouseLog, gap: float = ACTION_GAP) -> list[Action]:
    """Return the MM, PC and DD actions of a log, in order.

    Examples
    --------
    >>> log = MouseLog.from_arrays(
    ...     [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 2, 3, 4, 4], [0] * 7,
    ...     state=["Move", "Move", "Move", "Pressed", "Drag", "Drag", "Released"])
    >>> [(a.kind, a.start, a.stop) for a in detect_actions(log)]
    [('MM', 0, 3), ('DD', 3, 7)]
    """
    n = len(log)
    if n == 0:
        return []
    scroll = (log.button == SCROLL) | (log.state == UP) | (log.state == DOWN)
    idx = np.flatnonzero(~scroll)  # events that take part in actions
    if len(idx) == 0:
        return []
    state = log.state[idx]
    t = log.t[idx]
    # A piece ends after a release, and before a silence longer than `gap`.
    ends = np.zeros(len(idx), dtype=bool)
    ends[state == RELEASED] = True
    ends[:-1] |= np.diff(t) > gap
    ends[-1] = True
    actions: list[Action] = []
    begin = 0
    for end in np.flatnonzero(ends):
        piece = slice(begin, end + 1)
        begin = end + 1
        st = state[piece]
        if st[-1] != RELEASED:
            _add(actions, "MM", idx[piece])
            continue
        presses = np.flatnonzero(st == PRESSED)
        press = int(presses[-1]) if len(presses) else 0
        if np.any(st[press:-1] == DRAG):
            _add(actions, "MM", idx[piece][:press])
            _add(actions, "DD", idx[piece][press:])
        else:
            _add(actions, "PC", idx[piece])
    return actions


def _add(actions: list[Action], kind: str, events: np.ndarray) -> None:
    if len(events) >= 2:
        actions.append(Action(kind, int(events[0]), int(events[-1]) + 1))


def _step(size: float, overlap: float) -> float:
    return size * (1.0 - overlap)


def segment_log(
    log: MouseLog,
    *,
    window: str = "events",
    size: float = 300,
    overlap: float = 0.0,
    min_events: int = 10,
    gap: float = ACTION_GAP,
) -> list[Window]:
    """Cut a log into windows.

    Parameters
    ----------
    log : MouseLog
    window : {"events", "seconds", "actions"}, default="events"
        What ``size`` counts.
    size : int or float, default=300
        Events, seconds or actions per window.
    overlap : float in [0, 1), default=0.0
        Fraction of a window shared with the next one; the step is
        ``size * (1 - overlap)`` (at least one event or action).
    min_events : int, default=10
        Windows with fewer events are skipped.
    gap : float, default=10.0
        Silence (seconds) that ends an action, for ``window="actions"``.

    Returns
    -------
    list of Window
        ``Window.data`` is the sub-log. By events and by actions, ``start``
        and ``stop`` are event indices (``unit="events"``); by seconds they
        are times (``unit="seconds"``). Only whole windows are returned,
        except that a log shorter than one window gives one window of all
        of it (when it has at least ``min_events`` events).

    Examples
    --------
    >>> log = MouseLog.from_arrays(np.arange(10) * 0.1, np.arange(10), np.zeros(10))
    >>> [(w.start, w.stop) for w in segment_log(log, size=4, overlap=0.5, min_events=2)]
    [(0.0, 4.0), (2.0, 6.0), (4.0, 8.0), (6.0, 10.0)]
    """
    n = len(log)
    windows: list[Window] = []
    if window == "events":
        size_i = int(size)
        step = max(1, int(round(_step(size_i, overlap))))
        starts = list(range(0, n - size_i + 1, step)) if n >= size_i else [0]
        for start in starts:
            stop = min(start + size_i, n)
            if stop - start >= min_events:
                windows.append(Window(log.slice(start, stop), len(windows), float(start), float(stop), "events"))
    elif window == "seconds":
        if n == 0:
            return []
        step_s = _step(float(size), overlap)
        t0, t_end = float(log.t[0]), float(log.t[-1])
        span = t_end - t0
        count = int(np.floor((span - size) / step_s + 1e-9)) + 1 if span >= size else 1
        if count > MAX_WINDOWS:
            raise InputError(f"the log would give {count} windows of {size:g} s every {step_s:g} s, more than "
                             f"{MAX_WINDOWS}; use a larger 'size' or a smaller 'overlap'")
        for k in range(count):
            lo = t0 + k * step_s
            hi = lo + float(size)
            a = int(np.searchsorted(log.t, lo, side="left"))
            b = int(np.searchsorted(log.t, hi, side="left")) if span >= size else n
            if b - a >= min_events:
                windows.append(Window(log.slice(a, b), len(windows), lo, hi, "seconds"))
    elif window == "actions":
        actions = detect_actions(log, gap)
        size_i = int(size)
        step = max(1, int(round(_step(size_i, overlap))))
        m = len(actions)
        starts = list(range(0, m - size_i + 1, step)) if m >= size_i else ([0] if m else [])
        for k in starts:
            first, last = actions[k], actions[min(k + size_i, m) - 1]
            a, b = first.start, last.stop
            if b - a >= min_events:
                windows.append(Window(log.slice(a, b), len(windows), float(a), float(b), "events"))
    else:  # pragma: no cover - the converter checks the choice first
        raise ValueError(f"unknown window kind {window!r}")
    return windows
