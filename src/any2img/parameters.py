"""Converter parameters, declared once: type, default, rule and a one-line doc.

A converter family declares its parameters as the fields of a frozen,
keyword-only dataclass (in the spirit of scikit-learn's
``_parameter_constraints``)::

    @dataclass(frozen=True, kw_only=True)
    class MelParams(BandParams):
        n_mels: int = param(128, Int(low=1), "Mel bands (image rows at natural size).")

and names it in ``Converter.params_class``. From that one declaration come
the converter's keyword arguments, ``get_params`` / ``set_params``, the
checks (with the house message shape ``'n_mels' must be an int >= 1 (got
0).``), ``any2img list``, the generated "Parameters" section of the class
docstring, and the tables of bad values the contract test tries
(:mod:`any2img.testing`).

An instance of the dataclass *is* the set of checked values: building it
checks every field in declaration order (a rule may depend on the fields
declared before it, e.g. ``fmax`` on ``sample_rate``), then
:meth:`ConverterParams._relate` checks what ties several parameters together
and fills the derived fields (``field(init=False)``). The annotation of a
field is the type of its *checked* value (``image_size`` given as ``64`` is
checked to ``(64, 64)``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from any2img.errors import ParameterError
from any2img.imaging import check_cmap
from any2img.validation import (
    MAX_IMAGE_SIDE,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_optional_size,
    check_range,
    check_size,
    interval_text,
)

__all__ = [
    "Bool",
    "Check",
    "Choice",
    "Cmap",
    "ConverterParams",
    "Declaration",
    "Float",
    "Int",
    "Optional",
    "Range",
    "Ref",
    "Rule",
    "Size",
    "bad_value_table",
    "declarations",
    "docstring_section",
    "param",
    "redefault",
]

_RULE = "any2img.rule"
_DOC = "any2img.doc"


@dataclass(frozen=True)
class Ref:
    """A bound that depends on parameters declared earlier, e.g. ``Ref("sample_rate / 2", nyquist)``."""

    text: str
    value: Callable[[Any], float]

    def __call__(self, ctx: Any) -> float:
        return self.value(ctx)


Bound = int | float | Ref | None


def _bound(bound: Bound, ctx: Any) -> int | float | None:
    return bound(ctx) if isinstance(bound, Ref) else bound


def _text(bound: Bound) -> str:
    return bound.text if isinstance(bound, Ref) else repr(bound)


def _interval(low: Bound, high: Bound, low_open: bool = False, high_open: bool = False) -> str:
    rule = interval_text(None if low is None else _text(low), None if high is None else _text(high),
                         low_open=low_open, high_open=high_open)
    return f" {rule}" if rule else ""


class Rule:
    """How one parameter's value is checked.

    Subclasses implement :meth:`check` (return the checked value or raise
    :class:`~any2img.errors.ParameterError`), :meth:`describe` (the rule in
    words, for listings) and :meth:`bad_values` (values the rule rejects, for
    the contract test).
    """

    def check(self, name: str, value: Any, ctx: Any) -> Any:
        """Return the checked ``value`` of parameter ``name``; ``ctx`` holds the fields checked before it."""
        raise NotImplementedError

    def describe(self) -> str:
        """The rule in words, e.g. ``"int >= 1"``."""
        raise NotImplementedError

    def bad_values(self, ctx: Any) -> list[Any]:
        """Values this rule rejects given ``ctx`` (the checked defaults)."""
        return []


def _at_most(name: str, value: float, most: Bound, ctx: Any) -> None:
    """The memory bound ``most`` of a size-like value, with its own message (the rule's stays as it was)."""
    limit = _bound(most, ctx)
    if limit is not None and value > limit:
        why = f" ({most.text})" if isinstance(most, Ref) else ""
        raise ParameterError(f"'{name}' must be at most {limit:g}{why} (got {value!r}).")


@dataclass(frozen=True)
class Int(Rule):
    """An int in ``[low, high]`` (bools are not ints here), and at most ``most`` (a memory bound)."""

    low: Bound = None
    high: Bound = None
    most: Bound = None

    def check(self, name: str, value: Any, ctx: Any) -> int:
        low, high = _bound(self.low, ctx), _bound(self.high, ctx)
        checked = check_int(name, value, low=None if low is None else int(low),
                            high=None if high is None else int(high))
        _at_most(name, checked, self.most, ctx)
        return checked

    def describe(self) -> str:
        return "int" + _interval(self.low, self.high) + ("" if self.most is None else f", <= {_text(self.most)}")

    def bad_values(self, ctx: Any) -> list[Any]:
        low, high, most = _bound(self.low, ctx), _bound(self.high, ctx), _bound(self.most, ctx)
        bad: list[Any] = [1.5, True, "1"]
        bad += [int(b) + step for b, step in ((low, -1), (high, 1), (most, 1)) if b is not None]
        return bad


@dataclass(frozen=True)
class Float(Rule):
    """A finite number in the interval (open or closed at each end), and at most ``most`` (a memory bound)."""

    low: Bound = None
    high: Bound = None
    low_open: bool = False
    high_open: bool = False
    most: Bound = None

    def check(self, name: str, value: Any, ctx: Any) -> float:
        low, high = _bound(self.low, ctx), _bound(self.high, ctx)
        checked = check_float(name, value, low=low, high=high, low_open=self.low_open, high_open=self.high_open)
        _at_most(name, checked, self.most, ctx)
        return checked

    def describe(self) -> str:
        text = "number" + _interval(self.low, self.high, self.low_open, self.high_open)
        return text + ("" if self.most is None else f", <= {_text(self.most)}")

    def bad_values(self, ctx: Any) -> list[Any]:
        low, high, most = _bound(self.low, ctx), _bound(self.high, ctx), _bound(self.most, ctx)
        bad: list[Any] = [math.nan, math.inf, "1", True]
        if low is not None:
            bad.append(low if self.low_open else low - 1)
        if high is not None:
            bad.append(high if self.high_open else high + 1)
        if most is not None:
            bad.append(most * 2 + 1)
        return bad


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of values."""

    options: tuple[Any, ...]

    def check(self, name: str, value: Any, ctx: Any) -> Any:
        return check_choice(name, value, self.options)

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def bad_values(self, ctx: Any) -> list[Any]:
        return ["no-such-option", 1] + ([] if None in self.options else [None])


@dataclass(frozen=True)
class Bool(Rule):
    """True or False."""

    def check(self, name: str, value: Any, ctx: Any) -> bool:
        return check_bool(name, value)

    def describe(self) -> str:
        return "bool"

    def bad_values(self, ctx: Any) -> list[Any]:
        return [1, "yes", None]


@dataclass(frozen=True)
class Size(Rule):
    """An image size: ``n`` (square) or ``(height, width)``, each side in [1, MAX_IMAGE_SIDE]."""

    def check(self, name: str, value: Any, ctx: Any) -> tuple[int, int]:
        return check_size(name, value)

    def describe(self) -> str:
        return f"int or (height, width), sides in [1, {MAX_IMAGE_SIDE}]"

    def bad_values(self, ctx: Any) -> list[Any]:
        return [0, -3, (8, 0), (1, 2, 3), 2.5, "64", MAX_IMAGE_SIDE + 1, 10**6, (10**6, 8)]


@dataclass(frozen=True)
class Optional(Rule):
    """``None`` or a value the inner rule takes (``Optional(Size())`` checks through ``check_optional_size``)."""

    inner: Rule

    def check(self, name: str, value: Any, ctx: Any) -> Any:
        if isinstance(self.inner, Size):
            return check_optional_size(name, value)
        return None if value is None else self.inner.check(name, value, ctx)

    def describe(self) -> str:
        return "None or " + self.inner.describe()

    def bad_values(self, ctx: Any) -> list[Any]:
        return [v for v in self.inner.bad_values(ctx) if v is not None]


@dataclass(frozen=True)
class Range(Rule):
    """A pair ``(low, high)`` of finite numbers with ``low < high``."""

    def check(self, name: str, value: Any, ctx: Any) -> tuple[float, float]:
        return check_range(name, value)

    def describe(self) -> str:
        return "(low, high) with low < high"

    def bad_values(self, ctx: Any) -> list[Any]:
        return [(1, 1), (2, 1), (0,), "wide", (0, math.nan)]


@dataclass(frozen=True)
class Cmap(Rule):
    """``"grey"`` or a matplotlib colour map name."""

    def check(self, name: str, value: Any, ctx: Any) -> str:
        return check_cmap(value)

    def describe(self) -> str:
        return "'grey' or a matplotlib colour map name"

    def bad_values(self, ctx: Any) -> list[Any]:
        return [3, "no-such-map", None]


@dataclass(frozen=True)
class Check(Rule):
    """A rule written as a function ``check(name, value) -> checked``, with its words and bad examples."""

    function: Callable[[str, Any], Any]
    text: str
    bad: tuple[Any, ...] = ()

    def check(self, name: str, value: Any, ctx: Any) -> Any:
        return self.function(name, value)

    def describe(self) -> str:
        return self.text

    def bad_values(self, ctx: Any) -> list[Any]:
        return list(self.bad)


def param(default: Any, rule: Rule, doc: str) -> Any:
    """Declare a parameter: a dataclass field with its default, rule and one-line doc."""
    return dataclasses.field(default=default, metadata={_RULE: rule, _DOC: doc})


def redefault(params_class: type[ConverterParams], name: str, default: Any) -> Any:
    """The declaration of ``name`` in ``params_class`` with another default (same rule and doc)."""
    field = params_class.__dataclass_fields__[name]
    return param(default, field.metadata[_RULE], field.metadata[_DOC])


@dataclass(frozen=True)
class Declaration:
    """One declared parameter, as :func:`declarations` lists it."""

    name: str
    default: Any
    rule: Rule
    doc: str

    def describe(self) -> str:
        """``"n_mels : int >= 1, default=128"`` and the doc, numpydoc style."""
        return f"{self.name} : {self.rule.describe()}, default={self.default!r}\n    {self.doc}"


@dataclass(frozen=True, kw_only=True)
class ConverterParams:
    """Base of the frozen sets of checked parameter values (see the module docstring)."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if field.init and _RULE in field.metadata:
                object.__setattr__(self, field.name, field.metadata[_RULE].check(field.name,
                                                                                 getattr(self, field.name), self))
        self._relate()

    def _relate(self) -> None:
        """Check what ties parameters together and fill the derived fields; subclasses extend (call super)."""

    def _derive(self, **values: Any) -> None:
        """Set derived (``init=False``) fields from :meth:`_relate`."""
        for name, value in values.items():
            object.__setattr__(self, name, value)


def declarations(params_class: type[ConverterParams]) -> list[Declaration]:
    """The declared parameters of ``params_class``, in declaration order (the family's base first)."""
    return [
        Declaration(f.name, f.default, f.metadata[_RULE], f.metadata[_DOC])
        for f in dataclasses.fields(params_class)
        if f.init and _RULE in f.metadata
    ]


def docstring_section(params_class: type[ConverterParams]) -> str:
    """A numpydoc "Parameters" section listing every declaration."""
    lines = ["Parameters", "----------"]
    lines += [d.describe() for d in declarations(params_class)]
    return "\n".join(lines)


def bad_value_table(params_class: type[ConverterParams]) -> Iterator[tuple[str, Any, str]]:
    """``(parameter, bad value, exact message)`` for every value a declared rule rejects.

    The context of each rule is the checked defaults; a value the rule
    itself accepts there is left out. The contract test
    (:func:`any2img.testing.check_bad_parameter_tables`) expects the converter
    to refuse each, at construction and (after ``set_params``) where used,
    with this message.
    """
    defaults = params_class()
    for d in declarations(params_class):
        for value in d.rule.bad_values(defaults):
            try:
                d.rule.check(d.name, value, defaults)
            except ParameterError as exc:
                yield d.name, value, str(exc)
