"""The in-memory mouse log: one event per row, time-sorted numpy columns.

A :class:`MouseLog` is what every mouse reader returns and what every mouse
converter draws. Buttons and states are stored as small integer codes (their
names are in :data:`BUTTONS` and :data:`STATES`), so slicing and masking stay
vectorised.

This module also holds the kinematics shared by the drawings and the
kinematic images: speed, acceleration and angle change per step, computed
with a documented rule for repeated timestamps (see :func:`effective_times`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BUTTONS",
    "MIN_DT",
    "STATES",
    "MouseLog",
    "Kinematics",
    "button_code",
    "effective_times",
    "kinematics",
    "state_code",
]

#: Button names, in code order (code 0 is "no button"). Unknown names map to "Other".
BUTTONS: tuple[str, ...] = ("NoButton", "Left", "Right", "Scroll", "Middle", "XButton", "Other")
#: State names, in code order. Unknown names map to "Other".
STATES: tuple[str, ...] = ("Move", "Pressed", "Released", "Drag", "Up", "Down", "Other")

NOBUTTON, LEFT, RIGHT, SCROLL, MIDDLE, XBUTTON, OTHER_BUTTON = range(len(BUTTONS))
MOVE, PRESSED, RELEASED, DRAG, UP, DOWN, OTHER_STATE = range(len(STATES))

_BUTTON_CODES = {name.lower(): i for i, name in enumerate(BUTTONS)} | {"": NOBUTTON, "none": NOBUTTON}
_STATE_CODES = {name.lower(): i for i, name in enumerate(STATES)} | {"": MOVE}

#: Shortest time step (seconds) used to compute speed: a step that is still
#: shorter after :func:`effective_times` is counted as this long.
MIN_DT = 0.01


def button_code(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Return the int8 button codes of names (case-insensitive) or codes.

    Examples
    --------
    >>> button_code(["NoButton", "left", "XButton", "wheel"]).tolist()
    [0, 1, 5, 6]
    """
    return _codes(values, _BUTTON_CODES, len(BUTTONS) - 1)


def state_code(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Return the int8 state codes of names (case-insensitive) or codes.

    Examples
    --------
    >>> state_code(["Move", "Pressed", "drag"]).tolist()
    [0, 1, 3]
    """
    return _codes(values, _STATE_CODES, len(STATES) - 1)


def _codes(values: Sequence[Any] | np.ndarray, table: dict[str, int], other: int) -> np.ndarray:
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind in "iu":
        return np.where((arr >= 0) & (arr <= other), arr, other).astype(np.int8)
    if arr.dtype.kind != "U":
        arr = arr.astype(str)
    codes = np.full(len(arr), -1, dtype=np.int8)
    names = BUTTONS if table is _BUTTON_CODES else STATES
    for code, name in enumerate(names):  # exact names first: vectorised
        codes[arr == name] = code
    rest = np.flatnonzero(codes < 0)
    if len(rest):  # other spellings: look each distinct one up once
        uniques, inverse = np.unique(arr[rest], return_inverse=True)
        mapped = np.array([table.get(u.strip().lower(), other) for u in uniques], dtype=np.int8)
        codes[rest] = mapped[inverse.reshape(-1)]
    return codes


@dataclass(frozen=True, eq=False)
class MouseLog:
    """A mouse log: time-sorted events with position, button and state.

    Attributes
    ----------
    t : ndarray of shape (n_events,), float64
        Event times in seconds (the client timestamp for Balabit logs).
    x, y : ndarray of shape (n_events,), float64
        Pointer position in screen pixels (y grows downwards).
    button : ndarray of shape (n_events,), int8
        Button codes, see :data:`BUTTONS`.
    state : ndarray of shape (n_events,), int8
        State codes, see :data:`STATES`.

    Examples
    --------
    >>> log = MouseLog.from_arrays([0.0, 0.1, 0.2], [0, 10, 20], [5, 5, 5])
    >>> len(log), log.duration
    (3, 0.2)
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    button: np.ndarray
    state: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.t)
        if not all(len(a) == n for a in (self.x, self.y, self.button, self.state)):
            lengths = {k: len(getattr(self, k)) for k in ("t", "x", "y", "button", "state")}
            raise ValueError(f"MouseLog columns must have the same length (got {lengths}).")

    @classmethod
    def from_arrays(
        cls,
        t: Sequence[float] | np.ndarray,
        x: Sequence[float] | np.ndarray,
        y: Sequence[float] | np.ndarray,
        button: Sequence[Any] | np.ndarray | None = None,
        state: Sequence[Any] | np.ndarray | None = None,
    ) -> MouseLog:
        """Build a log from columns as given (no sorting or cleaning).

        ``button`` and ``state`` may be names or codes; missing means
        ``"NoButton"`` and ``"Move"``. Use
        :func:`any2img.converters.mouse.io.as_mouse_log` to also sort and clean.
        """
        t_arr = np.asarray(t, dtype=np.float64).reshape(-1)
        n = len(t_arr)
        return cls(
            t_arr,
            np.asarray(x, dtype=np.float64).reshape(-1),
            np.asarray(y, dtype=np.float64).reshape(-1),
            np.zeros(n, np.int8) if button is None else button_code(button),
            np.zeros(n, np.int8) if state is None else state_code(state),
        )

    def __len__(self) -> int:
        return len(self.t)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last event (0 for fewer than 2)."""
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0

    def slice(self, start: int, stop: int) -> MouseLog:
        """Return events ``start`` to ``stop - 1`` (views, no copy)."""
        s = slice(start, stop)
        return MouseLog(self.t[s], self.x[s], self.y[s], self.button[s], self.state[s])

    def take(self, mask_or_index: np.ndarray) -> MouseLog:
        """Return the events selected by a boolean mask or index array."""
        m = mask_or_index
        return MouseLog(self.t[m], self.x[m], self.y[m], self.button[m], self.state[m])

    def button_names(self) -> list[str]:
        """Return the button of each event as a name."""
        return [BUTTONS[c] for c in self.button]

    def state_names(self) -> list[str]:
        """Return the state of each event as a name."""
        return [STATES[c] for c in self.state]

    def to_dict(self) -> dict[str, list[Any]]:
        """Return the columns as plain lists (names for button and state)."""
        return {
            "t": self.t.tolist(), "x": self.x.tolist(), "y": self.y.tolist(),
            "button": self.button_names(), "state": self.state_names(),
        }


def effective_times(t: np.ndarray) -> np.ndarray:
    """Return event times with repeated timestamps spread out.

    Loggers (and remote-desktop links, as in Balabit) flush several events
    with one timestamp. The events of such a run happened between the
    previous distinct timestamp and this one, so they are spread evenly over
    that interval: a run of ``k`` events at ``t_j`` after ``t_p`` gets
    ``t_p + (t_j - t_p) * (i + 1) / k``. A run at the very start keeps its
    time. ``t`` must be sorted.

    Examples
    --------
    >>> effective_times(np.array([0.0, 0.1, 0.1, 0.2])).round(3).tolist()
    [0.0, 0.05, 0.1, 0.2]
    """
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    if n < 2:
        return t.copy()
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    new_run[1:] = t[1:] != t[:-1]
    starts = np.flatnonzero(new_run)
    if len(starts) == n:
        return t.copy()
    lengths = np.diff(np.append(starts, n))
    run_of = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(n) - starts[run_of]
    prev = np.where(starts > 0, t[np.maximum(starts - 1, 0)], t[starts])
    frac = (pos + 1) / lengths[run_of]
    return prev[run_of] + (t - prev[run_of]) * frac


@dataclass(frozen=True)
class Kinematics:
    """Per-step kinematics of a log of ``n`` events (``n - 1`` steps).

    Attributes
    ----------
    dt : ndarray of shape (n - 1,)
        Step durations in seconds (repeated timestamps spread, then at least
        :data:`MIN_DT`).
    distance : ndarray of shape (n - 1,)
        Step lengths in pixels.
    speed : ndarray of shape (n - 1,)
        ``distance / dt`` in px/s.
    acceleration : ndarray of shape (n - 1,)
        Change of speed from the previous step over ``dt`` in px/s² (0 for
        the first step); signed.
    angle_change : ndarray of shape (n - 1,)
        Change of direction from the previous moving step, in radians in
        ``[-pi, pi)`` (0 for the first step and for steps that do not move).
    """

    dt: np.ndarray
    distance: np.ndarray
    speed: np.ndarray
    acceleration: np.ndarray
    angle_change: np.ndarray


def kinematics(log: MouseLog, min_dt: float = MIN_DT) -> Kinematics:
    """Compute speed, acceleration and angle change of each step of ``log``.

    Examples
    --------
    >>> log = MouseLog.from_arrays([0.0, 0.1, 0.2], [0, 10, 20], [0, 0, 0])
    >>> kinematics(log).speed.round(6).tolist()
    [100.0, 100.0]
    """
    n = len(log)
    if n < 2:
        empty = np.zeros(0)
        return Kinematics(empty, empty, empty, empty, empty)
    dt = np.maximum(np.diff(effective_times(log.t)), min_dt)
    dx, dy = np.diff(log.x), np.diff(log.y)
    dist = np.hypot(dx, dy)
    speed = dist / dt
    acc = np.zeros_like(speed)
    acc[1:] = np.diff(speed) / dt[1:]
    moving = dist > 0
    heading = np.arctan2(dy, dx)
    # Carry the last known heading over steps that do not move.
    idx = np.where(moving, np.arange(len(dist)), -1)
    np.maximum.accumulate(idx, out=idx)
    held = np.where(idx >= 0, heading[np.maximum(idx, 0)], 0.0)
    turn = np.zeros_like(speed)
    turn[1:] = np.diff(held)
    turn = (turn + np.pi) % (2 * np.pi) - np.pi
    turn[~moving] = 0.0
    first_move = np.flatnonzero(moving)
    if len(first_move):
        turn[: first_move[0] + 1] = 0.0
    return Kinematics(dt, dist, speed, acc, turn)
