"""Declared converter parameters: checks at construction, memory bounds, the checked object, listings."""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import time

import numpy as np
import pytest

from any2img import get_converter
from any2img.cli import main
from any2img.errors import ParameterError
from any2img.parameters import Float, Int, Ref, declarations


def test_a_value_wrong_by_itself_fails_at_construction():
    with pytest.raises(ParameterError, match=r"^'image_size' must be an int >= 1 or a pair"):
        get_converter("gadf", image_size=-3)


@pytest.mark.parametrize(("name", "params", "message"), [
    ("gadf", {"image_size": 10**6}, "'image_size' must be at most 2048 pixels a side (got 1000000)."),
    ("mel", {"image_size": (64, 10**6)}, "'image_size' must be at most 2048 pixels a side (got (64, 1000000))."),
    ("trajectory", {"line_width": 1e6}, "'line_width' must be at most 224 (the image's larger side) (got 1000000.0)."),
    ("trajectory", {"click_radius": 1e6},
     "'click_radius' must be at most 224 (the image's larger side) (got 1000000.0)."),
    ("trajectory", {"image_size": 2048, "supersample": 8},
     "'supersample' must be at most 4 (8192 canvas pixels / the image's larger side) (got 8)."),
    ("mel_deltas", {"delta_width": 10**9 + 1}, "'delta_width' must be at most 999 frames (got 1000000001)."),
    ("mel", {"n_mels": 10**5}, "'n_mels' x (n_fft // 2 + 1) must be at most 8388608 (got 100000 x 513)."),
    ("lineplot", {"line_width": 1e6}, "'line_width' must be a finite number in (0, 32] (got 1000000.0)."),
])
def test_size_like_values_have_upper_bounds_checked_fast_at_construction(name, params, message):
    start = time.perf_counter()
    with pytest.raises(ParameterError) as info:
        get_converter(name, **params)
    assert str(info.value) == message
    assert time.perf_counter() - start < 1.0


def test_a_bound_that_depends_on_the_input_is_checked_where_used():
    conv = get_converter("stft", hop_length=1, duration=30.0)  # fine by itself ...
    with pytest.raises(Exception, match="more than 8388608"):  # ... too large a field for this window
        conv.convert(np.zeros(16000 * 30, np.float32))


def test_checked_params_are_frozen_typed_and_follow_set_params():
    conv = get_converter("mel", image_size=64, sample_rate=8000)
    p = conv.checked_params()
    assert (p.image_size, p.fmax, p.n_mels) == ((64, 64), 4000.0, 128)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_mels = 3  # type: ignore[misc]
    assert conv.checked_params() is p  # kept while nothing changes
    conv.set_params(n_mels=40)
    assert conv.checked_params().n_mels == 40 and conv.n_mels == 40
    conv.n_mels = 0  # a direct assignment, as scikit-learn allows, is checked where used too
    with pytest.raises(ParameterError, match="'n_mels' must be an int >= 1"):
        conv.check_params()


def test_get_params_pickle_and_repr_round_trip():
    conv = get_converter("trajectory", image_size=(48, 80), screen=[1280, 1024])
    params = json.loads(json.dumps(conv.get_params()))
    assert params["screen"] == [1280, 1024] and get_converter("trajectory", **params) == conv
    again = pickle.loads(pickle.dumps(conv))
    assert again == conv and "_checked" not in pickle.dumps(conv).decode("latin-1")
    assert repr(conv).startswith("Trajectory(window='events', ") and "image_size=(48, 80)" in repr(conv)
    assert eval(repr(conv), {"Trajectory": type(conv)}) == conv


def test_signature_docstring_and_listing_come_from_the_declarations():
    cls = type(get_converter("chroma"))
    signature = inspect.signature(cls)
    assert signature.parameters["n_fft"].default == 2048  # chroma's own default for the shared FFT length
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values())
    assert list(signature.parameters) == [d.name for d in declarations(cls.params_class)]
    assert "n_chroma : int >= 1, default=12\n    Pitch classes" in (cls.__doc__ or "")
    assert (cls.__doc__ or "").index("Parameters\n----------") < (cls.__doc__ or "").index("Examples\n--------")


def test_list_json_gives_each_parameter_its_rule_and_doc(capsys):
    assert main(["list", "--kind", "timeseries", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["mtf"]["params"]["n_bins"] == 8
    assert entries["mtf"]["rules"]["n_bins"] == {"rule": "int in [2, 256]",
                                                 "doc": "Number of states of the Markov transition field."}


def test_rules_with_bounds_on_earlier_parameters():
    half = Ref("sample_rate / 2", lambda p: p.sample_rate / 2.0)

    class Ctx:
        sample_rate = 8000

    rule = Float(0.0, half, high_open=True)
    assert rule.describe() == "number in [0.0, sample_rate / 2)"
    assert rule.check("fmin", 10, Ctx()) == 10.0
    with pytest.raises(ParameterError, match=r"^'fmin' must be a finite number in \[0.0, 4000.0\) \(got 4000\)\.$"):
        rule.check("fmin", 4000, Ctx())
    capped = Int(1, most=Ref("a tenth of the rate", lambda p: p.sample_rate // 10))
    assert capped.describe() == "int >= 1, <= a tenth of the rate"
    with pytest.raises(ParameterError, match=r"^'n' must be at most 800 \(a tenth of the rate\) \(got 801\)\.$"):
        capped.check("n", 801, Ctx())
    assert 801 in capped.bad_values(Ctx()) and 0 in capped.bad_values(Ctx())


def test_a_subclass_of_a_declared_converter_with_its_own_init_gets_its_own_signature_and_a_true_message():
    from any2img.converters.timeseries.gaf import GADF

    class OwnInit(GADF):
        def __init__(self, *, image_size=32, extra=1):
            self.image_size, self.extra = image_size, extra

    assert list(inspect.signature(OwnInit).parameters) == ["image_size", "extra"]  # not GADF's declared ones
    assert "extra" not in inspect.signature(GADF).parameters
    with pytest.raises(TypeError, match="OwnInit writes its own __init__.*subclass of GAFParams"):
        OwnInit().checked_params()


def test_a_converter_without_parameters_needs_neither_params_class_nor_init():
    from any2img.converter import Converter
    from any2img.testing import check_converter

    class Flat(Converter):
        """A series as one grey row per step (no parameters)."""

        name = "flat"
        kind = "timeseries"

        def convert(self, window):
            x = np.asarray(getattr(window, "data", window), dtype=np.float64)
            if x.ndim != 1 or x.size == 0 or not np.isfinite(x).all():
                from any2img.errors import InputError

                raise InputError("a finite 1-D series, please")
            v = np.round((x - x.min()) / (np.ptp(x) or 1.0) * 255).astype(np.uint8)
            return np.repeat(np.repeat(v[None, :, None], 4, axis=0), 3, axis=2)

        @classmethod
        def example_signal(cls, rng=None):
            return np.sin(np.linspace(0.0, 6.0, 16))

    assert Flat().get_params() == {} and Flat().param_declarations() == []
    with pytest.raises(ParameterError, match=r"'size' is not a parameter of converter 'flat'; valid parameters"):
        Flat(size=3)
    check_converter(Flat)
