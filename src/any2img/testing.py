"""The converter contract, for plugin authors: ``check_converter(MyConverter)``.

Like scikit-learn's ``check_estimator``: it runs on a converter class the
checks that every built-in converter passes, and raises ``AssertionError``
naming the first rule broken. Use it in a plugin's own test suite::

    from any2img.testing import check_converter

    def test_my_converter_keeps_the_contract():
        check_converter(MyConverter)

The class must offer a small synthetic input through the classmethod
``example_signal(rng)``, and may offer inputs it must reject through
``example_bad_signals(rng)``. Checked: class attributes, ``(H, W, 3)``
uint8 output, a :class:`~any2img.converter.Window` accepted as well as its
data, determinism, the ``get_params()`` JSON round trip, pickling and
``repr``, unknown and bad parameters named in the error, ``convert_batch``
against ``convert``, and bad input raising
:class:`~any2img.errors.InputError`.

A converter that declares its parameters (``params_class``, see
:mod:`any2img.parameters`) is also held to its declarations: its signature
lists them, and every bad value its rules name (:func:`bad_value_table`) is
refused at construction, and where used after ``set_params``, with the
rule's exact message.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle
from collections.abc import Callable

import numpy as np

from any2img.converter import KINDS, Converter, Window
from any2img.errors import InputError, ParameterError
from any2img.parameters import bad_value_table

__all__ = ["CHECKS", "bad_parameter_table", "check_converter"]


def _example(cls: type[Converter], seed: int = 0) -> object:
    try:
        return cls.example_signal(np.random.default_rng(seed))
    except NotImplementedError as exc:
        raise AssertionError(f"{cls.__name__} must offer example_signal(rng), a small synthetic input: {exc}") from exc


def _same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if not np.array_equal(a, b):
        raise AssertionError(what)


def check_class_attributes(cls: type[Converter]) -> None:
    """``name``, ``kind`` in KINDS, lower-case dotted ``extensions``, get_params() = the __init__ parameters."""
    assert isinstance(cls.name, str) and cls.name, f"{cls.__name__}.name must be a non-empty str"
    assert cls.kind in KINDS, f"{cls.__name__}.kind must be one of {KINDS} (got {cls.kind!r})"
    assert isinstance(cls.extensions, tuple), f"{cls.__name__}.extensions must be a tuple"
    assert all(isinstance(e, str) and (e == "" or e.startswith(".")) and e == e.lower() for e in cls.extensions), (
        f"{cls.__name__}.extensions must be lower-case suffixes with their dot (got {cls.extensions})")
    assert set(cls().get_params()) == set(cls.param_defaults()), (
        f"{cls.__name__}.get_params() must list exactly the __init__ parameters")


def check_output_is_rgb_uint8(cls: type[Converter]) -> None:
    """``convert`` returns an ``(H, W, 3)`` uint8 array, for a Window as for its data."""
    conv = cls()
    image = conv.convert(_example(cls))
    assert isinstance(image, np.ndarray), f"{cls.__name__}.convert must return a numpy array"
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, (
        f"{cls.__name__}.convert must return (H, W, 3) uint8 (got {image.dtype} {image.shape})")
    assert image.shape[0] >= 1 and image.shape[1] >= 1, f"{cls.__name__}.convert returned an empty image"
    _same(conv.convert(Window(_example(cls))), image, f"{cls.__name__}.convert must accept a Window like its data")


def check_output_is_deterministic(cls: type[Converter]) -> None:
    """The same input gives the same picture, from one instance or two."""
    first = cls().convert(_example(cls))
    _same(cls().convert(_example(cls)), first, f"{cls.__name__}: two instances drew different pictures")
    conv = cls()
    _same(conv.convert(_example(cls)), conv.convert(_example(cls)), f"{cls.__name__}: a second call drew another")


def check_params_round_trip(cls: type[Converter]) -> None:
    """``cls(**json(get_params()))`` equals the original and draws the same picture."""
    conv = cls()
    params = json.loads(json.dumps(conv.get_params()))
    rebuilt = cls(**params)
    assert rebuilt == conv, f"{cls.__name__}: rebuilding from get_params() gives another converter"
    assert json.loads(json.dumps(rebuilt.get_params())) == params, f"{cls.__name__}: get_params() does not round-trip"
    rebuilt.check_params()
    _same(rebuilt.convert(_example(cls)), conv.convert(_example(cls)), f"{cls.__name__}: the rebuilt one draws another")


def check_bad_parameters_are_named(cls: type[Converter]) -> None:
    """An unknown parameter, and a value no parameter takes, fail with a ParameterError naming it."""
    try:
        cls().set_params(no_such_param=1)
    except ParameterError as exc:
        assert "'no_such_param'" in str(exc), f"{cls.__name__}: the error must name the unknown parameter"
    else:
        raise AssertionError(f"{cls.__name__}.set_params must reject an unknown parameter")
    example = _example(cls)
    for param in cls.param_defaults():
        conv = cls().set_params(**{param: object()})
        for stage in ("check_params", "convert"):
            try:
                conv.check_params() if stage == "check_params" else conv.convert(example)
            except ParameterError as exc:
                assert f"'{param}'" in str(exc), f"{cls.__name__}: the error for a bad {param!r} must name it"
            else:
                raise AssertionError(f"{cls.__name__}: {param}=object() must raise ParameterError")


def check_pickle_and_repr(cls: type[Converter]) -> None:
    """A pickled (deep-copied, for a class defined in a function) converter comes back equal and draws alike.

    ``repr`` names every parameter.
    """
    conv = cls()
    again = copy.deepcopy(conv) if "<locals>" in cls.__qualname__ else pickle.loads(pickle.dumps(conv))
    assert again == conv, f"{cls.__name__}: a pickled converter comes back different"
    _same(again.convert(_example(cls)), conv.convert(_example(cls)), f"{cls.__name__}: the unpickled one draws another")
    text = repr(conv)
    assert text.startswith(f"{cls.__name__}(") and all(f"{k}=" in text for k in conv.get_params()), (
        f"{cls.__name__}: repr must name every parameter (got {text})")


def bad_parameter_table(cls: type[Converter]) -> list[tuple[str, object, str]]:
    """``(parameter, bad value, exact message)`` derived from the declarations of ``cls`` (empty without)."""
    return list(bad_value_table(cls.params_class)) if cls.param_declarations() and cls.params_class else []


def check_declared_parameters(cls: type[Converter]) -> None:
    """The signature lists the declarations; each declared bad value is refused with its rule's message.

    At construction (a value wrong by itself) and, after ``set_params``
    (which stores untouched), by ``check_params`` and ``convert``. The checked
    values are a frozen object. Nothing to check for a converter that writes
    its own ``__init__``.
    """
    declared = cls.param_declarations()
    if not declared:
        return
    signature = {p.name: p.default for p in inspect.signature(cls).parameters.values()}
    assert signature == {d.name: d.default for d in declared}, (
        f"{cls.__name__}: the signature must list the declared parameters with their defaults")
    checked = cls().checked_params()
    try:
        setattr(checked, declared[0].name, None)
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError(f"{cls.__name__}.checked_params() must be frozen")
    example = _example(cls)
    for param, value, message in bad_parameter_table(cls):
        what = f"{cls.__name__}({param}={value!r})"
        try:
            cls(**{param: value})
        except ParameterError as exc:
            assert str(exc) == message, f"{what} must fail with {message!r} (got {str(exc)!r})"
        else:
            raise AssertionError(f"{what} must raise ParameterError at construction")
        conv = cls().set_params(**{param: value})
        for stage in ("check_params", "convert"):
            try:
                conv.check_params() if stage == "check_params" else conv.convert(example)
            except ParameterError as exc:
                assert str(exc) == message, f"{what}.{stage} must fail with {message!r} (got {str(exc)!r})"
            else:
                raise AssertionError(f"{what} set by set_params must raise ParameterError in {stage}")


def check_convert_batch_equals_convert(cls: type[Converter]) -> None:
    """``convert_batch`` gives, in order, what ``convert`` gives one by one."""
    conv = cls()
    examples = [_example(cls, 1), _example(cls, 2), _example(cls, 1)]
    batch = conv.convert_batch(examples)
    assert len(batch) == len(examples), f"{cls.__name__}.convert_batch must return one picture per input"
    for got, example in zip(batch, examples):
        _same(got, conv.convert(example), f"{cls.__name__}.convert_batch differs from convert")


def check_bad_input_raises_input_error(cls: type[Converter]) -> None:
    """Each of ``example_bad_signals(rng)`` raises InputError (nothing to check when it offers none)."""
    conv = cls()
    for signal in cls.example_bad_signals(np.random.default_rng(0)):
        try:
            conv.convert(signal)
        except InputError:
            continue
        except Exception as exc:  # noqa: BLE001 - the point is to report what else was raised
            raise AssertionError(f"{cls.__name__}: bad input must raise InputError, not {type(exc).__name__}: "
                                 f"{exc}") from exc
        raise AssertionError(f"{cls.__name__}: bad input {type(signal).__name__} was accepted")


#: Every check, in the order :func:`check_converter` runs them.
CHECKS: tuple[Callable[[type[Converter]], None], ...] = (
    check_class_attributes, check_output_is_rgb_uint8, check_output_is_deterministic, check_params_round_trip,
    check_pickle_and_repr, check_bad_parameters_are_named, check_declared_parameters,
    check_convert_batch_equals_convert, check_bad_input_raises_input_error,
)


def check_converter(cls: type[Converter]) -> None:
    """Run every contract check on the converter class ``cls``.

    Raises
    ------
    AssertionError
        Naming the class and the rule broken.
    TypeError
        ``cls`` is not a :class:`~any2img.converter.Converter` subclass.
    """
    if not (isinstance(cls, type) and issubclass(cls, Converter)):
        raise TypeError(f"check_converter takes a Converter subclass (got {cls!r})")
    for check in CHECKS:
        check(cls)
