"""The base class of the mouse converters: reading, cleaning and windowing.

Subclasses (:class:`~any2img.converters.mouse.trajectory.Trajectory`,
:class:`~any2img.converters.mouse.kinematics.MouseKinematics`) add their
drawing parameters and :meth:`convert`; everything about getting from a file
or a table to windows of a :class:`MouseLog` lives here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np
from any2img.converters.mouse.io import Columns, as_mouse_log, read_mouse_table
from any2img.converters.mouse.log import MouseLog
from any2img.converters.mouse.relevance import event_relevance
from any2img.converters.mouse.removal import delete_events
from any2img.converters.mouse.segment import segment_log

from any2img.converter import Converter, Record, Window, unwrap
from any2img.errors import InputError, ParameterError
from any2img.parameters import Check, Choice, ConverterParams, Float, Int, Rule, Size, param
from any2img.relevance import EventRelevance
from any2img.removal import SignalParts, with_data
from any2img.validation import check_float, check_int, check_range

__all__ = ["WINDOW_KINDS", "MouseConverter", "MouseParams", "check_positive_range", "synthetic_log"]

#: What a window's ``size`` counts.
WINDOW_KINDS = ("events", "seconds", "actions")


def check_positive_range(name: str, value: Any) -> tuple[float, float]:
    """Return a ``(low, high)`` pair with ``0 < low < high`` (log-scale bounds), or raise."""
    try:
        low, high = check_range(name, value)
    except ParameterError:
        low = 0.0
    else:
        if low > 0:
            return low, high
    raise ParameterError(f"'{name}' must be a pair (low, high) of numbers with 0 < low < high (got {value!r}).")


def _check_time_column(name: str, value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ParameterError(f"'{name}' must be a column name or None (got {value!r}).")
    return value


def _check_column(name: str, value: Any) -> str:
    if not (isinstance(value, str) and value.strip()):
        raise ParameterError(f"'{name}' must be a non-empty column name (got {value!r}).")
    return value


def _column_param(default: str, what: str) -> Any:
    return param(default, Check(_check_column, "a non-empty column name", bad=("", " ", 3, None)),
                 f"Column of the {what} in tables (case-insensitive).")


@dataclass(frozen=True)
class WindowSize(Rule):
    """``size``: an int >= 1 of events or actions, or a number > 0 of seconds (``window="seconds"``)."""

    def check(self, name: str, value: Any, ctx: Any) -> float:
        if ctx.window == "seconds":
            return check_float(name, value, low=0.0, low_open=True)
        return check_int(name, value, low=1)

    def describe(self) -> str:
        return "int >= 1 (events, actions) or number > 0.0 (seconds)"

    def bad_values(self, ctx: Any) -> list[Any]:
        return [0, -1, "300"] + ([] if ctx.window == "seconds" else [2.5])


@dataclass(frozen=True, kw_only=True)
class MouseParams(ConverterParams):
    """The parameters every mouse converter takes, checked."""

    window: str = param("events", Choice(WINDOW_KINDS), "What size counts; actions are MM, PC and DD actions "
                        "(Antal & Egyed-Zsigmond 2019).")
    size: float = param(300, WindowSize(), "Events, seconds or actions per window.")
    overlap: float = param(0.0, Float(0.0, 1.0, high_open=True), "Fraction of a window shared with the next.")
    min_events: int = param(10, Int(low=1), "Windows with fewer events are skipped.")
    time_column: str | None = param(None, Check(_check_time_column, "a column name or None", bad=(3, "", " ")),
                                    "Time column of tables; None takes the first of 'client timestamp', 'time', "
                                    "'t', 'timestamp'.")
    x_column: str = _column_param("x", "x position")
    y_column: str = _column_param("y", "y position")
    button_column: str = _column_param("button", "button")
    state_column: str = _column_param("state", "button state")
    image_size: tuple[int, int] = param(224, Size(), "Output size, n for n x n or (height, width).")
    speed_range: tuple[float, float] = param(
        (10.0, 10000.0), Check(check_positive_range, "(low, high) with 0 < low < high", bad=((0, 100), (5, 1))),
        "Speeds (px/s) mapped to the two ends of the scale, log-scaled (about Balabit's 5th and 99.5th "
        "percentiles of moving steps).")
    accel_range: tuple[float, float] = param(
        (100.0, 100000.0), Check(check_positive_range, "(low, high) with 0 < low < high", bad=((0, 100), (5, 1))),
        "Acceleration magnitudes (px/s²) mapped to the two ends of the scale, log-scaled.")

    @property
    def columns(self) -> Columns:
        """The table columns to read."""
        return Columns(self.time_column, self.x_column, self.y_column, self.button_column, self.state_column)


MP = TypeVar("MP", bound=MouseParams)


class MouseConverter(Converter, Generic[MP]):
    """Shared reading and windowing of mouse logs.

    Reads Balabit session files (no suffix) and ``.csv`` / ``.tsv`` tables
    with a header row, and in the Python API anything
    :func:`~any2img.converters.mouse.io.as_mouse_log` takes (a MouseLog, a
    dict of columns, a DataFrame, an ``(n, 3)`` array of time, x, y). The
    parameters every mouse converter shares are declared in
    :class:`MouseParams`; windows by actions are those of
    :mod:`any2img.converters.mouse.segment`.
    """

    kind: ClassVar[str] = "mouse"
    #: ``""``: files without a suffix, as Balabit's ``session_0041905381``.
    extensions: ClassVar[tuple[str, ...]] = ("", ".csv", ".tsv")
    params_class: ClassVar[type[ConverterParams] | None] = MouseParams
    #: Small rotation, scale and time jitter (:mod:`any2img.converters.mouse.augment`).
    augmentation: ClassVar[str | None] = "any2img.converters.mouse.augment:augment_log"

    def _p(self) -> MP:
        """The checked parameters, typed."""
        return cast(MP, self.checked_params())

    # -- reading ----------------------------------------------------------
    def accepts(self, path: str | os.PathLike[str]) -> bool:
        """Return True for files without a suffix (Balabit) and ``.csv`` / ``.tsv``."""
        return Path(path).suffix.lower() in self.extensions

    def read(self, path: str | os.PathLike[str]) -> MouseLog:
        """Read and clean a mouse log (see :mod:`any2img.converters.mouse.io`)."""
        return read_mouse_table(path, self._p().columns)[0]

    def read_records(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """Yield the file's one record; its meta holds the cleaning counts."""
        log, meta = read_mouse_table(path, self._p().columns)
        yield Record(log, meta=meta)

    def as_log(self, data: Any) -> MouseLog:
        """Return ``data`` (a Window, MouseLog, path, table or array) as a MouseLog."""
        return as_mouse_log(unwrap(data), self._p().columns)[0]

    # -- windows ----------------------------------------------------------
    def segment(self, signal: Any) -> list[Window]:
        """Cut a log into windows by events, seconds or actions.

        ``Window.start`` / ``stop`` are event indices (``unit="events"``) or
        seconds (``unit="seconds"``). See
        :func:`~any2img.converters.mouse.segment.segment_log`.
        """
        p = self._p()
        return segment_log(self.as_log(signal), window=p.window, size=p.size, overlap=p.overlap,
                           min_events=p.min_events)

    def _window_log(self, window: Any) -> MouseLog:
        log = self.as_log(window)
        if len(log) == 0:
            raise InputError("the mouse log window holds no events")
        for name in ("t", "x", "y"):
            values = getattr(log, name)
            if not np.isfinite(values).all():
                i = int(np.flatnonzero(~np.isfinite(values))[0])
                raise InputError(f"the mouse log's '{name}' must be finite (event {i} is {values[i]})")
        return log

    # -- explaining ------------------------------------------------------
    def parts(self, window: Any) -> SignalParts:
        """The window's events; a removed event is dropped (:func:`.removal.delete_events`).

        Parameters
        ----------
        window : Window or MouseLog
            One window (a :class:`Window` by events keeps the first event's
            index in the session).

        Returns
        -------
        SignalParts
            One part per event; a score per event becomes an
            :class:`~any2img.relevance.EventRelevance` with the sums per
            action (``on_path`` is None: no picture was scored).
        """
        log = self._window_log(window)
        where = window.describe() if isinstance(window, Window) else {}

        def relevance(values: np.ndarray) -> EventRelevance:
            return event_relevance(log, np.asarray(values, dtype=np.float64).reshape(len(log)), None, where)

        return SignalParts(len(log), "event", lambda remove: with_data(window, delete_events(log, remove)), relevance)

    # -- contract test hook ----------------------------------------------
    @classmethod
    def example_signal(cls, rng: np.random.Generator | int | None = None) -> MouseLog:
        """Return a short synthetic log: moves, a click, a drag and a scroll."""
        return synthetic_log(rng)

    @classmethod
    def example_bad_signals(cls, rng: np.random.Generator | int | None = None) -> list[Any]:
        """Inputs :meth:`convert` rejects with InputError: empty, NaN, missing column, wrong shape, no file."""
        good = synthetic_log(rng)
        nan_x = good.x.copy()
        nan_x[len(nan_x) // 2] = np.nan
        return [
            good.slice(0, 0),
            MouseLog(good.t, nan_x, good.y, good.button, good.state),
            {"time": good.t, "x": good.x},
            {"time": [0.0, 1.0], "x": [np.nan, np.inf], "y": [1.0, 2.0]},
            np.zeros((5, 2)),
            np.zeros((0, 3)),
            "no_such_session.csv",
        ]


def _stroke(p0: tuple[float, float], p1: tuple[float, float], n: int, bend: float) -> tuple[np.ndarray, np.ndarray]:
    """A minimum-jerk reach from p0 to p1 with a sideways bend."""
    s = np.linspace(0.0, 1.0, n)
    prog = 10 * s**3 - 15 * s**4 + 6 * s**5
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    side = bend * np.sin(np.pi * prog)
    norm = max(np.hypot(dx, dy), 1e-9)
    return x0 + dx * prog - dy / norm * side, y0 + dy * prog + dx / norm * side


def synthetic_log(rng: np.random.Generator | int | None = None, *, n_strokes: int = 4) -> MouseLog:
    """Build a small realistic-looking log (about 30 events per stroke).

    Each stroke is a curved reach at 60 Hz; odd strokes end in a left click,
    the third is a drag, and the log ends with two scroll events.

    Examples
    --------
    >>> log = synthetic_log(0)
    >>> len(log) > 100, sorted(set(log.state_names()))
    (True, ['Down', 'Drag', 'Move', 'Pressed', 'Released'])
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    ts: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    buttons: list[str] = []
    states: list[str] = []
    t, pos = 0.0, (400.0, 300.0)

    def emit(x: np.ndarray, y: np.ndarray, button: str, state: str) -> None:
        nonlocal t
        n = len(x)
        ts.append(t + np.arange(1, n + 1) / 60.0)
        t = float(ts[-1][-1])
        xs.append(np.round(x))
        ys.append(np.round(y))
        buttons.extend([button] * n)
        states.extend([state] * n)

    for k in range(n_strokes):
        target = (float(rng.uniform(50, 1800)), float(rng.uniform(50, 1000)))
        n = int(rng.integers(20, 40))
        x, y = _stroke(pos, target, n, float(rng.uniform(-80, 80)))
        drag = k == 2
        if drag:
            emit(np.array([pos[0]]), np.array([pos[1]]), "Left", "Pressed")
        emit(x, y, "NoButton", "Drag" if drag else "Move")
        pos = target
        if drag or k % 2 == 1:
            if not drag:
                emit(np.array([pos[0]]), np.array([pos[1]]), "Left", "Pressed")
            emit(np.array([pos[0]]), np.array([pos[1]]), "Left", "Released")
        t += float(rng.uniform(0.2, 0.6))
    emit(np.array([pos[0]] * 2), np.array([pos[1]] * 2), "Scroll", "Down")
    return MouseLog.from_arrays(np.concatenate(ts), np.concatenate(xs), np.concatenate(ys), buttons, states)
