"""Small checks of parameter values, each failing with the house message shape.

The rules of declared converter parameters (:mod:`any2img.parameters`) and
the learner's checks call these helpers, so a bad value fails with a message
naming the parameter, the rule and the value received.

Size-like values have upper bounds (:data:`MAX_IMAGE_SIDE`) so that one image
and the arrays behind it always fit in memory; a value of the wrong type
(an array where a name is expected, say) is a :class:`ParameterError` too,
never numpy's own error.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from any2img.errors import ParameterError

__all__ = [
    "MAX_IMAGE_SIDE",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_optional_size",
    "check_range",
    "check_size",
    "interval_text",
]


#: The largest side (pixels) of any image a converter makes: 2048 x 2048 RGB is 12 MB, and the float64 fields
#: behind it 32 MB each.
MAX_IMAGE_SIDE = 2048


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(
    name: str, value: Any, *, low: int | None = None, high: int | None = None
) -> int:
    """Return ``value`` as an int, or raise if it is not an int in [low, high].

    Examples
    --------
    >>> check_int("n_bins", 5, low=2)
    5
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    raise ParameterError(f"'{name}' must be an int {_interval(low, high)}(got {_fmt(value)}).")


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the bounds, or raise."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = v == v and abs(v) != float("inf")
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
        if ok:
            return v
    rule = _interval(low, high, low_open=low_open, high_open=high_open)
    raise ParameterError(f"'{name}' must be a finite number {rule}(got {_fmt(value)}).")


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise."""
    if isinstance(value, bool):
        return value
    raise ParameterError(f"'{name}' must be True or False (got {_fmt(value)}).")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    options = list(choices)
    for option in options:
        try:
            same = value == option
        except Exception:  # noqa: BLE001 - a value whose == raises is simply not a choice
            continue
        if isinstance(same, (bool, np.bool_)) and same and (isinstance(value, bool) == isinstance(option, bool)):
            return option
    listed = ", ".join(repr(c) for c in options)
    raise ParameterError(f"'{name}' must be one of {listed} (got {_fmt(value)}).")


def check_size(name: str, value: Any) -> tuple[int, int]:
    """Return an image size as ``(height, width)``.

    An int ``n`` means a square ``(n, n)``; a pair (tuple or list, as JSON
    gives back) means ``(height, width)``. Each side must be an int in
    [1, :data:`MAX_IMAGE_SIDE`].
    """

    def side(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and 1 <= int(v) <= MAX_IMAGE_SIDE

    if side(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(side(v) for v in value):
        return int(value[0]), int(value[1])
    pair = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value,)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1 for v in pair):
        raise ParameterError(f"'{name}' must be at most {MAX_IMAGE_SIDE} pixels a side (got {_fmt(value)}).")
    raise ParameterError(
        f"'{name}' must be an int >= 1 or a pair (height, width) of ints >= 1 (got {_fmt(value)})."
    )


def check_optional_size(name: str, value: Any) -> tuple[int, int] | None:
    """Like :func:`check_size`, but ``None`` (natural size) is allowed."""
    return None if value is None else check_size(name, value)


def check_range(name: str, value: Any) -> tuple[float, float]:
    """Return a ``(low, high)`` pair of finite floats with ``low < high``."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            lo, hi = (check_float(name, v) for v in value)
        except ParameterError:
            pass
        else:
            if lo < hi:
                return lo, hi
    raise ParameterError(f"'{name}' must be a pair (low, high) of numbers with low < high (got {_fmt(value)}).")


def interval_text(
    low: object | None, high: object | None, *, low_open: bool = False, high_open: bool = False
) -> str:
    """A range in words for messages: ``">= 1"``, ``"< 2.0"``, ``"in [1, 8]"``, ``"in (0.0, 1.0)"``; ``""`` for none.

    The bounds are written as ``format`` writes them (numbers, or the text
    of a bound that depends on other parameters).
    """
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _interval(
    low: float | None, high: float | None, *, low_open: bool = False, high_open: bool = False
) -> str:
    rule = interval_text(low, high, low_open=low_open, high_open=high_open)
    return f"{rule} " if rule else ""


