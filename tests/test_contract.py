"""One contract over every registered converter (all kinds).

Parametrized over :func:`any2img.list_converters`, so a new family (or a
plugin) is checked as soon as it is registered. Each converter class offers
its own small synthetic input through the classmethod hook
``Converter.example_signal(rng)`` and, optionally, inputs it must reject
through ``Converter.example_bad_signals(rng)``.

Checked: class attributes, ``(H, W, 3)`` uint8 output, determinism, the
``get_params()`` JSON round trip, unknown and bad parameters, ``convert_batch``
against ``convert``, and bad input raising ``InputError``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from any2img import list_converters
from any2img.converter import KINDS, Converter, Window
from any2img.errors import InputError, ParameterError
from any2img.registry import get_converter_class
from any2img.testing import bad_parameter_table

NAMES = list_converters()


@pytest.fixture(params=NAMES)
def cls(request: pytest.FixtureRequest) -> type[Converter]:
    return get_converter_class(request.param)


def _example(cls: type[Converter], seed: int = 0):
    try:
        return cls.example_signal(np.random.default_rng(seed))
    except NotImplementedError as exc:
        pytest.fail(f"{cls.__name__}: {exc}")


def test_the_built_in_time_series_converters_are_registered():
    assert {"gasf", "gadf", "mtf", "recurrence", "lineplot", "gaf_mtf"} <= set(NAMES)


def test_class_attributes(cls):
    assert cls.name in NAMES and get_converter_class(cls.name) is cls
    assert cls.kind in KINDS
    assert isinstance(cls.extensions, tuple)
    # lower-case suffixes with their dot ("" stands for files without a suffix)
    assert all(isinstance(e, str) and (e == "" or e.startswith(".")) and e == e.lower() for e in cls.extensions)
    assert set(cls().get_params()) == set(cls.param_defaults()), "get_params() must list the __init__ parameters"


def test_output_is_rgb_uint8(cls):
    conv = cls()
    image = conv.convert(_example(cls))
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] >= 1 and image.shape[1] >= 1
    # a Window is accepted as well as its data
    np.testing.assert_array_equal(conv.convert(Window(_example(cls))), image)


def test_output_is_deterministic(cls):
    first = cls().convert(_example(cls))
    np.testing.assert_array_equal(cls().convert(_example(cls)), first)
    conv = cls()
    np.testing.assert_array_equal(conv.convert(_example(cls)), conv.convert(_example(cls)))


def test_params_round_trip_through_json(cls):
    conv = cls()
    params = json.loads(json.dumps(conv.get_params()))
    rebuilt = cls(**params)
    assert rebuilt == conv
    assert json.loads(json.dumps(rebuilt.get_params())) == params
    rebuilt.check_params()
    np.testing.assert_array_equal(rebuilt.convert(_example(cls)), conv.convert(_example(cls)))


def test_set_params_rejects_an_unknown_name(cls):
    with pytest.raises(ParameterError, match="'no_such_param' is not a parameter of converter"):
        cls().set_params(no_such_param=1)


@pytest.mark.parametrize("name", [n for n in NAMES], ids=str)
def test_every_parameter_is_checked(name):
    """A value no parameter takes (a bare object) fails with a message naming the parameter."""
    cls = get_converter_class(name)
    example = _example(cls)
    for param in cls.param_defaults():
        conv = cls().set_params(**{param: object()})
        with pytest.raises(ParameterError, match=f"'{param}'"):
            conv.check_params()
        with pytest.raises(ParameterError, match=f"'{param}'"):
            conv.convert(example)


def test_convert_batch_equals_convert(cls):
    conv = cls()
    examples = [_example(cls, 1), _example(cls, 2), _example(cls, 1)]
    batch = conv.convert_batch(examples)
    assert len(batch) == len(examples)
    for got, example in zip(batch, examples):
        np.testing.assert_array_equal(got, conv.convert(example))


def test_bad_input_raises_input_error(cls):
    bad = cls.example_bad_signals(np.random.default_rng(0))
    if not bad:
        pytest.skip(f"{cls.__name__} offers no example_bad_signals(rng) (its example is not an array)")
    conv = cls()
    for signal in bad:
        with pytest.raises(InputError):
            conv.convert(signal)


# -- the published contract (any2img.testing.check_converter) --------------------------------------


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_check_converter_passes_for_every_built_in(name):
    from any2img.testing import check_converter

    check_converter(get_converter_class(name))


def _plugin(convert_returns_float: bool = False, ignores_height: bool = False) -> type[Converter]:
    from typing import Any, ClassVar

    from any2img.converter import unwrap
    from any2img.validation import check_int

    class Stripes(Converter):
        """A third-party converter written against the documented contract."""

        name: ClassVar[str] = "stripes_plugin"
        kind: ClassVar[str] = "timeseries"
        extensions: ClassVar[tuple[str, ...]] = (".txt",)

        def __init__(self, *, height: int = 4) -> None:
            self.height = height

        def _check_params(self) -> dict[str, Any]:
            if ignores_height:
                return {"height": 4}
            return {"height": check_int("height", self.height, low=1)}

        @classmethod
        def example_signal(cls, rng: Any = None) -> np.ndarray:
            return np.random.default_rng(rng).uniform(0, 1, 16)

        def convert(self, window: Any) -> np.ndarray:
            h = self._check_params()["height"]
            row = np.asarray(unwrap(window), dtype=float)
            if row.ndim != 1 or row.size == 0 or not np.isfinite(row).all():
                raise InputError("a stripe needs a 1-D series of finite values")
            img = np.repeat(np.repeat(row[None, :, None], h, axis=0), 3, axis=2)
            return img if convert_returns_float else (img * 255).astype(np.uint8)

    return Stripes


def test_check_converter_accepts_a_plugin_and_names_what_a_broken_one_breaks():
    from any2img.testing import check_converter

    check_converter(_plugin())
    with pytest.raises(AssertionError, match=r"Stripes.convert must return \(H, W, 3\) uint8"):
        check_converter(_plugin(convert_returns_float=True))
    with pytest.raises(AssertionError, match="height=object\\(\\) must raise ParameterError"):
        check_converter(_plugin(ignores_height=True))
    with pytest.raises(TypeError, match="takes a Converter subclass"):
        check_converter(int)  # type: ignore[arg-type]


# -- the bad-parameter tables, derived from the declarations ---------------------------------------

BAD_VALUES = [(name, *row) for name in NAMES for row in bad_parameter_table(get_converter_class(name))]


def test_every_built_in_declares_its_parameters_and_has_a_table():
    for name in NAMES:
        cls = get_converter_class(name)
        assert cls.param_declarations(), f"{name} declares no parameters"
        assert {p for n, p, *_ in BAD_VALUES if n == name} == set(cls.param_defaults()), (
            f"{name}: every declared parameter must name values its rule refuses")


@pytest.mark.parametrize(("name", "param", "value", "message"), BAD_VALUES,
                         ids=[f"{n}-{p}-{v!r}" for n, p, v, _ in BAD_VALUES])
def test_declared_bad_values_are_refused_at_construction_and_where_used(name, param, value, message):
    cls = get_converter_class(name)
    with pytest.raises(ParameterError) as info:
        cls(**{param: value})
    assert str(info.value) == message
    conv = cls().set_params(**{param: value})  # stored untouched ...
    with pytest.raises(ParameterError) as info:  # ... and checked where used
        conv.convert(_example(cls))
    assert str(info.value) == message


def _declared_plugin() -> type[Converter]:
    from dataclasses import dataclass
    from typing import Any, ClassVar, cast

    from any2img.converter import unwrap
    from any2img.parameters import ConverterParams, Int, Size, param

    @dataclass(frozen=True, kw_only=True)
    class BarsParams(ConverterParams):
        image_size: tuple[int, int] = param(16, Size(), "Output size.")
        bars: int = param(4, Int(1, 64), "Bars across the picture.")

    class Bars(Converter):
        """A third-party converter that declares its parameters."""

        name: ClassVar[str] = "bars_plugin"
        kind: ClassVar[str] = "timeseries"
        extensions: ClassVar[tuple[str, ...]] = (".txt",)
        params_class: ClassVar[type[ConverterParams] | None] = BarsParams

        @classmethod
        def example_signal(cls, rng: Any = None) -> np.ndarray:
            return np.random.default_rng(rng).uniform(0, 1, 16)

        def convert(self, window: Any) -> np.ndarray:
            p = cast(BarsParams, self.checked_params())
            row = np.asarray(unwrap(window), dtype=float)
            if row.ndim != 1 or row.size == 0 or not np.isfinite(row).all():
                raise InputError("bars need a 1-D series of finite values")
            levels = np.resize(np.repeat(row[: p.bars], max(1, p.image_size[1] // p.bars)), p.image_size[1])
            img = np.broadcast_to(levels[None, :, None], (*p.image_size, 3))
            return np.ascontiguousarray((np.clip(img, 0, 1) * 255).astype(np.uint8))

    return Bars


def test_check_converter_accepts_a_plugin_that_declares_its_parameters():
    import inspect

    from any2img.testing import check_converter

    bars = _declared_plugin()
    check_converter(bars)
    assert list(inspect.signature(bars).parameters) == ["image_size", "bars"]
    assert "bars : int in [1, 64], default=4" in (bars.__doc__ or "")
    with pytest.raises(ParameterError, match=r"^'bars' must be an int in \[1, 64\] \(got 0\)\.$"):
        bars(bars=0)
    with pytest.raises(ParameterError, match="'colour' is not a parameter of converter 'bars_plugin'"):
        bars(colour="red")
