"""The converter registry: lookup, helpful failures, entry-point plugins."""

from __future__ import annotations

import json
import warnings
from importlib import metadata

import numpy as np
import pytest
from toy_converter import ToyConverter

import any2img
from any2img import registry
from any2img.errors import (
    ConverterNotFoundError,
    DuplicateConverterError,
    MissingDependencyError,
    ParameterError,
    PluginLoadError,
)


@pytest.fixture
def fresh_registry(monkeypatch):
    """A registry that sees only the entry points a test gives it."""
    eps: list[metadata.EntryPoint] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    registry.reset_registry()
    yield eps
    registry.reset_registry()


def _ep(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


def test_builtins_come_through_entry_points():
    names = {ep.name for ep in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert {"gasf", "gadf", "mtf", "recurrence", "lineplot", "gaf_mtf", "mel", "trajectory", "image"} <= names
    assert "image" in any2img.list_converters()
    assert any2img.list_converters(kind="image") == ["image"]


def test_unknown_name_lists_the_valid_ones(fresh_registry):
    fresh_registry.append(_ep("image", "any2img.converters.image:ImageFile"))
    with pytest.raises(ConverterNotFoundError, match=r"unknown converter 'nope'; available converters: image\."):
        any2img.get_converter("nope")


def test_plugin_registered_through_an_entry_point_is_loaded_lazily(fresh_registry):
    fresh_registry.append(_ep("toy", "toy_converter:ToyConverter"))
    assert registry._registry == {}
    conv = any2img.get_converter("toy", height=2)
    assert isinstance(conv, ToyConverter)
    assert conv.convert(np.array([1, 2, 3])).shape == (2, 3, 3)
    assert any2img.list_converters(kind="timeseries") == ["toy"]


def test_duplicate_registration_raises_unless_overwrite(fresh_registry):
    fresh_registry.append(_ep("toy", "toy_converter:ToyConverter"))

    class Other(ToyConverter):
        name = "toy"

    with pytest.raises(DuplicateConverterError, match="already registered .*overwrite=True"):
        any2img.register_converter(Other)
    any2img.register_converter(Other, overwrite=True)
    assert registry.get_converter_class("toy") is Other


def test_register_as_decorator_and_under_another_name(fresh_registry):
    @any2img.register_converter(name="toy2")
    class Toy2(ToyConverter):
        pass

    assert any2img.get_converter("toy2").name == "toy"  # class attribute kept
    assert registry.get_converter_class("toy2") is Toy2


def test_register_rejects_non_converters_and_bad_kinds(fresh_registry):
    with pytest.raises(ParameterError, match="subclass of any2img.Converter"):
        any2img.register_converter(dict, name="d")

    class BadKind(ToyConverter):
        name = "badkind"
        kind = "video"

    with pytest.raises(ParameterError, match="'kind' must be one of audio, timeseries, mouse, image"):
        any2img.register_converter(BadKind)


def test_missing_optional_dependency_names_the_extra(fresh_registry, monkeypatch):
    fresh_registry.append(_ep("fake_audio", "any2img_missing_mod:Fake"))

    def fail() -> None:
        raise ModuleNotFoundError("No module named 'librosa'", name="librosa")

    monkeypatch.setattr(metadata.EntryPoint, "load", lambda self: fail())
    with pytest.raises(MissingDependencyError, match=r"pip install 'any2img\[audio\]'"):
        any2img.get_converter("fake_audio")
    registry.reset_registry()
    assert any2img.list_converters() == []  # left out quietly


def test_broken_plugin_is_skipped_with_a_warning_by_list(fresh_registry):
    fresh_registry.append(_ep("toy", "toy_converter:ToyConverter"))
    fresh_registry.append(_ep("broken", "no_such_module_xyz:Nope"))
    with pytest.warns(RuntimeWarning, match="skipping converter 'broken'"):
        assert any2img.list_converters() == ["toy"]
    with pytest.raises(PluginLoadError, match="could not be imported from no_such_module_xyz:Nope"):
        any2img.get_converter("broken")


def test_get_converter_rejects_unknown_parameters(fresh_registry):
    fresh_registry.append(_ep("toy", "toy_converter:ToyConverter"))
    message = "'hieght' is not a parameter of converter 'toy'; valid parameters: height, window"
    with pytest.raises(ParameterError, match=message):
        any2img.get_converter("toy", hieght=3)


def test_params_round_trip_through_json():
    conv = ToyConverter(height=7, window=3)
    params = json.loads(json.dumps(conv.get_params()))
    assert ToyConverter(**params) == conv
    assert conv.to_json() == '{"name": "toy", "params": {"height": 7, "window": 3}}'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(conv) == "ToyConverter(height=7, window=3)"
