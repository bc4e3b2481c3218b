"""Occlusion in the signal's own domain (``explain(method="signal")``): hand-computed, with fake predictors.

A fake predictor's output depends only on known parts of the raw input (time
steps 40-49 of a series, the samples of a tone in a recording, the events
inside a screen box), so the relevance each part must get is computed by
hand from the span rules of :mod:`any2img.explain_signal`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from any2img.converters.mouse.base import MouseConverter, MouseParams
from any2img.converters.mouse.log import MouseLog
from any2img.converters.timeseries.base import TimeSeriesConverter, TimeSeriesParams

from any2img import get_converter
from any2img.converter import Converter, Window
from any2img.errors import ParameterError
from any2img.explain import explain
from any2img.explain_signal import occlusion_spans, signal_occlusion
from any2img.relevance import EventRelevance, SeriesRelevance, TimeRelevance


class Strip(TimeSeriesConverter[TimeSeriesParams]):
    """A test picture of a series: one row, pixel ``j`` = 200 x step ``j`` (the family's own parts and checks)."""

    name: ClassVar[str] = "strip_for_tests"

    def _render(self, X: np.ndarray, params: TimeSeriesParams) -> np.ndarray:
        v = np.clip(np.round(200 * X[:, 0]), 0, 255).astype(np.uint8)
        return np.repeat(v[:, None, :, None], 3, axis=3)


class FakePredictor:
    """p(class 1) = ``score(picture)``; counts the pictures per call (the batching)."""

    def __init__(self, converter: Converter | None, score: Any, batch_size: int = 4) -> None:
        self.converter, self.score, self.batch_size = converter, score, batch_size
        self.classes = ["other", "target"]
        self.calls: list[int] = []

    def predict_images(self, images: Any) -> np.ndarray:
        images = list(images)
        self.calls.append(len(images))
        p = np.array([float(self.score(im)) for im in images])
        return np.stack([1 - p, p], axis=1)


def _bump() -> np.ndarray:
    x = np.zeros(150)
    x[40:50] = 1.0
    return x


def test_span_rules_follow_the_window_length():
    assert occlusion_spans(150) == [(a, a + 10) for a in range(0, 141, 5)]  # GunPoint: span 10, stride 5
    assert occlusion_spans(40)[:2] == [(0, 3), (2, 5)] and occlusion_spans(40)[-1] == (37, 40)  # last ends at n
    assert occlusion_spans(10) == [(a, a + 1) for a in range(10)]  # short: one part at a time
    assert len(occlusion_spans(10_000)) == 29  # the cost does not grow with the length
    covered = np.zeros(97, int)
    for a, b in occlusion_spans(97):
        covered[a:b] += 1
    assert covered.min() >= 1
    with pytest.raises(ParameterError):
        occlusion_spans(0)


def test_a_predictor_reading_steps_40_to_49_gets_its_relevance_there_exactly():
    conv = Strip(image_size=(1, 150))
    pred = FakePredictor(conv, lambda im: im[0, 40:50, 0].mean() / 200.0)
    ex = explain(pred, _bump(), method="signal")  # type: ignore[arg-type]
    rel = ex.windows[0].relevance
    assert isinstance(rel, SeriesRelevance) and rel.values.shape == (1, 150)
    # spans of 10 steps every 5; those touching 40-49 start at 35, 40 and 45. Removing 40-49 interpolates
    # between two zeros: p 1 -> 0. Removing 35-44 (or 45-54) leaves 40-44 on a ramp (s - 34) / 11:
    # p = (40 / 11 + 5) / 10, a drop d of 0.136. A step's relevance is the mean over its two spans.
    d = 1 - (40 / 11 + 5) / 10
    expected = np.zeros(150)
    expected[35:40] = expected[50:55] = d / 2
    expected[40:50] = (1 + d) / 2
    np.testing.assert_allclose(rel.values[0], expected, atol=2e-3)
    assert (rel.values[0][:35] == 0).all() and (rel.values[0][55:] == 0).all()
    assert rel.summary()["top_steps"][0] in range(40, 50)
    # 29 spans scored 4 at a time (the predictor's batch), after the whole series' own pass
    assert max(pred.calls) <= 4 and sum(pred.calls) >= 29
    info = ex.to_dict()["windows"][0]["signal_occlusion"]
    assert (info["unit"], info["span"], info["stride"], info["n_spans"]) == ("step", 10, 5, 29)
    # half the relevance: steps 40-45; without them 40-45 ramp from 0 (step 39) to 1 (step 46): p = 0.7
    assert info["relevant_parts"] == 6
    assert info["probability_without_relevant"] == pytest.approx(0.7, abs=3e-3)
    assert ex.windows[0].attribution.shape == (1, 150)  # where the picture changed when they were removed
    assert ex.windows[0].attribution[0, 40:46].min() > 0 and ex.windows[0].attribution[0, 50:].max() == 0
    assert ex.method == "signal" and ex.to_dict()["method"] == "signal"


def test_every_channel_of_a_series_gets_an_equal_share():
    conv = Strip(image_size=(1, 150))
    pred = FakePredictor(conv, lambda im: im[0, 40:50, 0].mean() / 200.0)
    two = np.stack([_bump(), _bump()])
    occ = signal_occlusion(pred, conv, two, 1)  # type: ignore[arg-type]
    rel = occ.relevance
    assert isinstance(rel, SeriesRelevance) and rel.values.shape == (2, 150)
    np.testing.assert_allclose(rel.values[0], rel.values[1])
    np.testing.assert_allclose(rel.over_time(), occ.values)


RATE = 8000
MEL = {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "n_mels": 32, "image_size": 32, "duration": 0.25}


def test_audio_relevance_lands_on_the_seconds_of_a_tone_in_the_middle_of_a_long_recording():
    conv = get_converter("mel", **MEL)
    t = np.arange(2 * RATE) / RATE
    y = np.zeros(t.size, dtype=np.float32)
    on = (t >= 1.05) & (t < 1.15)  # a 1 kHz tone inside window 4 (1.00-1.25 s), silence elsewhere
    y[on] = 0.5 * np.sin(2 * np.pi * 1000.0 * t[on])
    windows = conv.segment(y)
    window = windows[4]
    assert (window.start, window.stop) == (1.0, 1.25)
    base = conv.convert(window)
    row = int(np.argmax(base[..., 0].astype(float).mean(axis=1)))  # the tone's band in the picture
    pred = FakePredictor(conv, lambda im: im[row, :, 0].astype(float).mean() / 255.0)
    occ = signal_occlusion(pred, conv, window, 1)  # type: ignore[arg-type]
    rel = occ.relevance
    assert isinstance(rel, TimeRelevance) and occ.parts.n == 32  # 2,000 samples, hop 64: 32 frames
    np.testing.assert_allclose(rel.times, 1.0 + np.arange(32) * 64 / RATE)  # seconds of the recording
    # frame k silences samples 64 k - 32 .. 64 k + 32 of the window; the tone is samples 400-1199, so only
    # frames 6-19 hold it; spans of 3 frames every 2 (the last at 29-31) that touch 6-19 cover frames 4-20.
    assert occ.spans[:2] == [(0, 3), (2, 5)] and occ.spans[-1] == (29, 32)
    assert np.flatnonzero(rel.values).tolist() == list(range(4, 21))
    assert 1.05 <= rel.summary()["top_seconds"][0] < 1.15
    positive = np.clip(rel.values, 0, None)
    assert positive[6:20].sum() > 0.9 * positive.sum()  # the frames that hold the tone
    # the removal is silence: all frames removed, the window is all zeros
    silent = occ.parts.remove(np.ones(32, bool))
    assert isinstance(silent, Window) and silent.start == 1.0 and not np.asarray(silent.data.samples).any()


class Box(MouseConverter[MouseParams]):
    """A test picture of a mouse path: one pixel, 10 x the number of events inside the box 100-200 px."""

    name: ClassVar[str] = "box_for_tests"

    def convert(self, window: Any) -> np.ndarray:
        log = self._window_log(window)
        inside = int(((log.x >= 100) & (log.x <= 200) & (log.y >= 100) & (log.y <= 200)).sum())
        return np.full((1, 1, 3), 10 * inside, dtype=np.uint8)


def _path() -> MouseLog:
    x = np.full(40, 500.0)
    x[20:25] = 150.0  # events 20-24 inside the box
    return MouseLog.from_arrays(np.arange(40) * 0.01, x, np.full(40, 150.0))


def test_mouse_relevance_lands_on_the_events_inside_the_box():
    conv = Box()
    pred = FakePredictor(conv, lambda im: im[0, 0, 0] / 50.0)  # p = the share of the 5 box events still there
    window = Window(_path(), index=2, start=600, stop=640, unit="events")
    ex = explain(pred, _path(), method="signal")  # type: ignore[arg-type]
    occ = signal_occlusion(pred, conv, window, 1)  # type: ignore[arg-type]
    rel = occ.relevance
    assert isinstance(rel, EventRelevance) and rel.on_path is None
    # spans of 3 events every 2: (18, 21) and (24, 27) take one box event (drop 0.2), (20, 23) and (22, 25) three
    expected = np.zeros(40)
    expected[[18, 26]] = 0.1
    expected[[19, 25]] = 0.2
    expected[[20, 24]] = 0.4
    expected[[21, 22, 23]] = 0.6
    np.testing.assert_allclose(rel.values, expected, atol=1e-9)
    np.testing.assert_allclose(ex.windows[0].relevance.values, expected, atol=1e-9)
    assert rel.table()["event"][:2] == [600, 601]  # the events' indices in the session
    assert sum(a["relevance"] for a in rel.actions) == pytest.approx(expected.sum())
    kept = occ.parts.remove(np.arange(40) < 10)
    assert len(kept.data) == 30 and kept.data.x[0] == 500.0 and kept.start == 600


def test_the_real_families_remove_their_own_parts():
    gadf = get_converter("gadf", image_size=16)
    series = np.sin(np.linspace(0, 6, 50))
    parts = gadf.parts(series)
    mask = np.zeros(50, bool)
    mask[10:20] = True
    out = parts.remove(mask)[0]
    np.testing.assert_allclose(out[10:20], np.interp(np.arange(10, 20), [9, 20], series[[9, 20]]))
    np.testing.assert_array_equal(out[~mask], series[~mask])
    traj = get_converter("trajectory", image_size=32)
    log = traj.example_signal(0)
    parts = traj.parts(log)
    assert parts.n == len(log) and len(parts.remove(np.arange(len(log)) < 3)) == len(log) - 3
    assert len(parts.remove(np.ones(len(log), bool))) == 2  # a path keeps its first and last event
    mel = get_converter("mel", **MEL)
    w = mel.segment(np.ones(RATE // 4, np.float32))[0]
    assert mel.parts(w).n == mel.relevance(np.ones((32, 32)), w).values.shape[1]  # the frames the mapping knows


def test_signal_occlusion_needs_a_family_that_removes_parts():
    pred = FakePredictor(None, lambda im: 0.5)
    with pytest.raises(ParameterError, match="signal"):
        explain(pred, np.zeros((4, 4, 3), np.uint8), method="signal")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="remove parts"):
        get_converter("image").parts(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ParameterError, match="method"):
        explain(FakePredictor(Strip(image_size=(1, 150)), lambda im: 0.5), _bump(), method="nope")  # type: ignore[arg-type]
