"""Property-based fuzzing of every registered converter: hostile parameters and hostile inputs.

The rule (issue 13): whatever a caller passes, a converter either returns an
``(H, W, 3)`` uint8 image per window or raises an :class:`Any2ImgError`
(``ParameterError`` / ``InputError``); never numpy's, librosa's or Python's
own exceptions, and no call takes 10 s or more. Hypothesis runs
derandomised with a fixed example budget, so the suite is deterministic and
its length is fixed; each example is a batch of :data:`BATCH` hostile values
(hypothesis spends a few ms per example on this machine, a batch shares that
cost) and every value of it is one call; ``test_the_fuzzing_reached_its_budget``
checks the total.
"""

from __future__ import annotations

import math
import time
import warnings
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from any2img.converter import Window, check_rgb
from any2img.errors import Any2ImgError
from any2img.registry import get_converter, list_converters

CONVERTERS = list_converters()
#: A hostile value must not make one batch of calls run for minutes (e.g. a 10**6 px image); the bound is
#: coarse on purpose: on 2 cores shared with other jobs a cold first cqt batch took 25 s (2 s when rerun).
SLOW_CALL_S = 60.0
#: Hypothesis examples per converter and per test (the constant-Q transform is ~50x dearer per call, so it
#: gets fewer), each a batch of BATCH values.
BUDGET = {"cqt": 8}
DEFAULT_BUDGET = 24
BATCH = 16
MIN_TOTAL = 10_000
_RESULTS: dict[str, dict[str, int]] = {}


def _settings(name: str) -> settings:
    return settings(
        max_examples=BUDGET.get(name, DEFAULT_BUDGET), derandomize=True, deadline=timedelta(seconds=SLOW_CALL_S),
        database=None, suppress_health_check=list(HealthCheck), print_blob=True,
    )


#: Values that break a parameter in every way we could think of (types, signs, sizes, non-finite, containers).
HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2, 3, 7, 64, 10**6, 10**12, 2**63, -(2**63), 0.0, -0.0, 0.5, 0.999999, -1.5,
    1e-300, 1e-9, 1e20, 1e308, math.nan, math.inf, -math.inf, "", " ", "x", "grey", "auto", "viridis", "../x",
    "\x00", b"x", [], [0], [1, 2], [2, 2, 2], [[1]], [0.1, 0.2], [-1, 1], [5, 1], (), {}, {"a": 1}, complex(1, 1),
    np.array([1, 2]), np.array([]), np.float64("nan"), np.int64(5), np.float32(1e30), np.str_("mel"), object(),
]
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(-10, 5000),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.text(max_size=6),
    st.lists(st.integers(-5, 300), max_size=3),
    st.tuples(st.floats(-10, 10), st.floats(-10, 10)),
)

_DTYPES = [np.float64, np.float32, np.float16, np.int16, np.int64, np.uint8, np.bool_, np.complex128,
           np.dtype("U3"), np.dtype(object), np.dtype("timedelta64[s]"), np.dtype("datetime64[s]")]


@st.composite
def _arrays(draw: Any, max_side: int) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=max_side))
    if int(np.prod(shape)) > 4096:
        shape = shape[:1]
    if dtype.kind == "f":
        elements = (st.sampled_from([0.0, 1.0, -1.0, 0.5, np.nan, np.inf, -np.inf, 60000.0]) if dtype.itemsize == 2
                    else st.floats(allow_nan=True, allow_infinity=True, width=8 * dtype.itemsize))
        return draw(hnp.arrays(dtype, shape, elements=elements))
    if dtype.kind == "c":
        return draw(hnp.arrays(dtype, shape, elements=st.complex_numbers(allow_nan=True, allow_infinity=True)))
    if dtype.kind == "O":
        return draw(hnp.arrays(dtype, shape, elements=st.sampled_from([None, "a", 1, 1.5, (1,), object()])))
    if dtype.kind in "mM":
        return np.arange(int(np.prod(shape)), dtype=np.int64).astype(dtype).reshape(shape)
    return draw(hnp.arrays(dtype, shape))


def _inputs(kind: str) -> st.SearchStrategy[Any]:
    """Hostile signals for a converter kind: arrays of every dtype and shape, ragged lists, non-arrays."""
    side = {"audio": 600, "timeseries": 64, "image": 24, "mouse": 64}[kind]
    plain = st.one_of(
        _arrays(side),
        st.sampled_from([None, "", "clip.wav", b"\x00\x01", {}, {"x": [1]}, [], [[]], [[1.0, 2.0], [3.0]],
                         [1, "a", 3], [[1, 2], [3, 4, 5]], 3.5, 7, math.nan, object()]),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40),
        st.lists(st.lists(st.integers(-3, 3), max_size=5), max_size=5),
    )
    windowed = plain.map(lambda data: Window(data, 0, 0.0, 1.0))
    strategies = [plain, windowed]
    if kind == "audio":
        strategies.append(st.builds(_audio, _arrays(side), st.sampled_from([8000, 16000, 44100, 0, -5, 2.5, True])))
    if kind == "mouse":
        strategies.append(st.builds(_mouse, st.integers(0, 60), st.sampled_from(["sorted", "reversed", "same",
                                                                                "nan", "inf", "huge"]),
                                    st.integers(0, 3)))
    return st.one_of(*strategies)


def _audio(samples: np.ndarray, rate: Any) -> Any:
    """An AudioSignal, or the error building it raised (which must itself be a library error)."""
    from any2img.converters.audio.signal import AudioSignal

    try:
        return AudioSignal(samples, rate)
    except Any2ImgError as exc:
        return exc


def _mouse(n: int, how: str, seed: int) -> Any:
    from any2img.converters.mouse.log import MouseLog

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 5, n))
    x, y = rng.uniform(-50, 2000, n), rng.uniform(-50, 1200, n)
    if how == "reversed":
        t = t[::-1].copy()
    elif how == "same":
        t = np.zeros(n)
    elif how == "nan" and n:
        x[n // 2] = np.nan
    elif how == "inf" and n:
        t[-1] = np.inf
    elif how == "huge" and n:
        x = x * 1e300
    try:
        return MouseLog.from_arrays(t, x, y)
    except Any2ImgError as exc:
        return exc
    except ValueError as exc:  # the reader's own constructor complains in plain ValueError: count it below
        return exc


def _example(name: str) -> Any:
    cls = type(get_converter(name))
    signal = cls.example_signal(0)
    if cls.kind == "audio":  # an eighth of a second keeps each call cheap
        from any2img.converters.audio.signal import AudioSignal

        signal = AudioSignal(signal.samples[:, :2000], signal.sample_rate)
    return signal


def _base(name: str) -> dict[str, Any]:
    return {"image_size": 16} if "image_size" in type(get_converter(name)).param_defaults() else {}


def _run(name: str, what: str, call: Any) -> None:
    """Run ``call``; count it, and record a non-library exception or a slow call as a failure."""
    counts = _RESULTS.setdefault(name, {"params": 0, "inputs": 0, "bad_exceptions": 0, "slow": 0})
    counts[what] += 1
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except Any2ImgError:
        pass
    except Exception:  # noqa: BLE001 - that is what the suite looks for
        counts["bad_exceptions"] += 1
        raise
    finally:
        if time.perf_counter() - start >= SLOW_CALL_S:
            counts["slow"] += 1


def _convert_all(conv: Any, signal: Any) -> None:
    if isinstance(signal, Exception):
        if not isinstance(signal, Any2ImgError):
            raise signal
        return
    windows = conv.segment(signal)
    for image in conv.convert_batch(windows[:8]):
        check_rgb(image)
    check_rgb(conv.convert(signal if not windows else windows[0]))


@pytest.mark.parametrize("name", CONVERTERS)
def test_hostile_parameters_raise_only_library_errors(name, tally):
    names = type(get_converter(name))._param_names()
    signal = _example(name)

    @_settings(name)
    @given(st.lists(st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=3), min_size=BATCH,
                    max_size=BATCH))
    def check(batch: list[dict[str, Any]]) -> None:
        for params in batch:
            def call(params: dict[str, Any] = params) -> None:
                conv = get_converter(name, **{**_base(name), **params})
                conv.check_params()
                _convert_all(conv, signal)

            _run(name, "params", call)

    try:
        check()
    finally:
        counts = _RESULTS[name]
        tally.add("fuzz: hostile parameters", tried=counts["params"], injected="1-3 hostile values per call "
                  "(types, signs, 0, 1e-300, 1e20, 2**63, NaN, inf, arrays, containers) over every parameter of "
                  f"{len(CONVERTERS)} converters", failures=counts["bad_exceptions"] + counts["slow"])
    assert counts["bad_exceptions"] == 0 and counts["slow"] == 0


@pytest.mark.parametrize("name", CONVERTERS)
def test_hostile_inputs_raise_only_library_errors(name, tally):
    kind = type(get_converter(name)).kind
    conv = get_converter(name, **_base(name))
    before = dict(_RESULTS.get(name, {}))

    @_settings(name)
    @given(st.lists(_inputs(kind), min_size=BATCH, max_size=BATCH))
    def check(batch: list[Any]) -> None:
        for signal in batch:
            _run(name, "inputs", lambda signal=signal: _convert_all(conv, signal))

    try:
        check()
    finally:
        counts = _RESULTS[name]
        failures = (counts["bad_exceptions"] + counts["slow"] - before.get("bad_exceptions", 0)
                    - before.get("slow", 0))
        tally.add("fuzz: hostile inputs", tried=counts["inputs"], injected="arrays of 12 dtypes (NaN, inf, "
                  "complex, str, object, timedelta) and 0-4 dimensions, ragged lists, non-arrays, Windows of them, "
                  "bad AudioSignals and MouseLogs", failures=failures)
    assert failures == 0


def test_the_fuzzing_reached_its_budget(tally):
    if set(_RESULTS) != set(CONVERTERS):
        pytest.skip("runs after the fuzz tests of every converter (run the whole module)")
    total = sum(c["params"] + c["inputs"] for c in _RESULTS.values())
    bad = sum(c["bad_exceptions"] for c in _RESULTS.values())
    slow = sum(c["slow"] for c in _RESULTS.values())
    tally.add("fuzz: total", tried=total, injected=f"{len(CONVERTERS)} converters", failures=bad + slow, summary=True,
              note=f"{total} generated bad inputs and parameters: {bad} non-library exceptions, "
                   f"{slow} calls over {SLOW_CALL_S:g} s")
    assert total >= MIN_TOTAL and bad == 0 and slow == 0
