"""Mouse windows: by events, by seconds and by MM/PC/DD actions, with their offsets."""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.mouse.log import MouseLog
from any2img.converters.mouse.segment import detect_actions, segment_log

from any2img import get_converter
from any2img.errors import ParameterError


def _line(n: int, dt: float = 0.1) -> MouseLog:
    return MouseLog.from_arrays(np.arange(n) * dt, np.arange(n, dtype=float), np.zeros(n))


def _offsets(windows):
    return [(w.index, w.start, w.stop, w.unit, len(w.data)) for w in windows]


def test_windows_by_events_with_overlap():
    conv = get_converter("trajectory", window="events", size=4, overlap=0.5, min_events=1)
    windows = conv.segment(_line(11))
    assert _offsets(windows) == [
        (0, 0.0, 4.0, "events", 4), (1, 2.0, 6.0, "events", 4), (2, 4.0, 8.0, "events", 4),
        (3, 6.0, 10.0, "events", 4),
    ]  # the last 1-event remainder makes no whole window
    assert windows[1].data.x.tolist() == [2.0, 3.0, 4.0, 5.0]


def test_windows_by_events_short_log_and_min_events():
    conv = get_converter("trajectory", size=300, min_events=5)
    assert _offsets(conv.segment(_line(7))) == [(0, 0.0, 7.0, "events", 7)]
    assert conv.set_params(min_events=8).segment(_line(7)) == []


def test_windows_by_seconds_skip_quiet_stretches():
    t = np.concatenate([np.arange(20) * 0.1, 10 + np.arange(25) * 0.1])  # 2 s busy, 8 s idle, 2.5 s busy
    log = MouseLog.from_arrays(t, np.arange(45.0), np.zeros(45))
    conv = get_converter("trajectory", window="seconds", size=2.0, min_events=5)
    windows = conv.segment(log)
    # [12, 14) is not whole: the log ends at 12.4 s
    assert _offsets(windows) == [(0, 0.0, 2.0, "seconds", 20), (1, 10.0, 12.0, "seconds", 20)]
    half = conv.set_params(overlap=0.5).segment(log)
    assert [(w.start, w.stop, len(w.data)) for w in half] == [(0.0, 2.0, 20), (1.0, 3.0, 10), (9.0, 11.0, 10),
                                                              (10.0, 12.0, 20)]


def _actions_log() -> MouseLog:
    rows = [  # t, x, button, state
        (0.0, 0, "NoButton", "Move"), (0.1, 1, "NoButton", "Move"), (0.2, 2, "NoButton", "Move"),  # 0-2 MM…
        (0.3, 2, "Left", "Pressed"), (0.4, 2, "Left", "Released"),                                 # 3-4 …PC
        (0.5, 3, "NoButton", "Move"), (0.6, 4, "NoButton", "Move"),                                # 5-6 MM
        (0.7, 4, "Left", "Pressed"), (0.8, 5, "NoButton", "Drag"), (0.9, 6, "NoButton", "Drag"),   # 7-9 DD…
        (1.0, 6, "Left", "Released"),                                                              # 10 …DD
        (1.1, 6, "Scroll", "Down"), (1.2, 6, "Scroll", "Down"),                                    # 11-12 scroll
        (1.3, 7, "NoButton", "Move"), (1.4, 8, "NoButton", "Move"),                                # 13-14 MM
        (20.0, 9, "NoButton", "Move"), (20.1, 10, "NoButton", "Move"),                             # after 18.6 s
        (20.2, 10, "Right", "Pressed"), (20.3, 10, "Right", "Released"),                           # 15-18 PC
    ]
    t, x, b, s = zip(*rows)
    return MouseLog.from_arrays(t, x, np.zeros(len(t)), b, s)


def test_actions_follow_antal_and_egyed_zsigmond():
    actions = [(a.kind, a.start, a.stop) for a in detect_actions(_actions_log())]
    assert actions == [("PC", 0, 5), ("MM", 5, 7), ("DD", 7, 11), ("MM", 13, 15), ("PC", 15, 19)]
    # with a 0.05 s silence threshold every 0.1 s step ends a piece, and one-event pieces are no actions
    assert [(a.kind, a.start, a.stop) for a in detect_actions(_actions_log(), gap=0.05)] == []


def test_windows_by_actions_span_their_actions():
    conv = get_converter("trajectory", window="actions", size=2, min_events=1)
    windows = conv.segment(_actions_log())
    assert _offsets(windows) == [
        (0, 0.0, 7.0, "events", 7), (1, 7.0, 15.0, "events", 8)]  # PC+MM, DD+(scrolls)+MM; the last PC is left
    overlapping = conv.set_params(overlap=0.5).segment(_actions_log())
    assert [(w.start, w.stop) for w in overlapping] == [(0.0, 7.0), (5.0, 11.0), (7.0, 15.0), (13.0, 19.0)]


def test_segment_log_function_matches_converter():
    log = _line(10)
    assert _offsets(segment_log(log, size=5, min_events=1)) == _offsets(
        get_converter("mouse_kinematics", size=5, min_events=1).segment(log))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window": "strokes"}, "'window' must be one of 'events', 'seconds', 'actions' (got 'strokes')."),
        ({"size": 0}, "'size' must be an int >= 1 (got 0)."),
        ({"size": 2.5}, "'size' must be an int >= 1 (got 2.5)."),
        ({"window": "seconds", "size": 0}, "'size' must be a finite number > 0.0 (got 0)."),
        ({"overlap": 1.0}, "'overlap' must be a finite number in [0.0, 1.0) (got 1.0)."),
        ({"min_events": 0}, "'min_events' must be an int >= 1 (got 0)."),
        ({"x_column": ""}, "'x_column' must be a non-empty column name (got '')."),
        ({"time_column": 3}, "'time_column' must be a column name or None (got 3)."),
    ],
)
def test_bad_window_parameters(params, message):
    with pytest.raises(ParameterError) as info:  # refused at construction ...
        get_converter("trajectory", **params)
    assert str(info.value) == message
    conv = get_converter("trajectory").set_params(**params)  # ... and, set later, where used
    with pytest.raises(ParameterError) as info:
        conv.segment(_line(10))
    assert str(info.value) == message
