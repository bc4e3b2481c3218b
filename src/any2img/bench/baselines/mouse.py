"""Mouse baseline features: speed, acceleration, curvature, pauses and click statistics per window."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FEATURE_NAMES", "as_events", "window_features"]


def _column(signal: Any, *names: str) -> Any:
    for name in names:
        if isinstance(signal, dict) and name in signal:
            return signal[name]
        value = getattr(signal, name, None)
        if value is not None:
            return value
        try:  # numpy structured arrays, pandas frames
            return signal[name]
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return None


def as_events(signal: Any) -> dict[str, np.ndarray]:
    """Return ``t, x, y`` (float) and ``button, state`` (str) arrays from a mouse window.

    Accepts dicts, objects with attributes, structured arrays or frames using
    the common column names (``t``/``time``/``client timestamp``, ``x``,
    ``y``, ``button``, ``state``).
    """
    t = _column(signal, "t", "time", "timestamp", "client timestamp", "client_timestamp")
    x, y = _column(signal, "x"), _column(signal, "y")
    if t is None or x is None or y is None:
        raise TypeError(f"cannot find t, x, y in a mouse window of type {type(signal).__name__}")
    n = len(np.asarray(x))
    button = _column(signal, "button", "buttons")
    state = _column(signal, "state", "states", "event")
    return {
        "t": np.asarray(t, dtype=np.float64),
        "x": np.asarray(x, dtype=np.float64),
        "y": np.asarray(y, dtype=np.float64),
        "button": _names(button, "BUTTONS", "NoButton", n),
        "state": _names(state, "STATES", "Move", n),
    }


def _names(values: Any, table: str, default: str, n: int) -> np.ndarray:
    """Event names as strings; integer codes are looked up in the mouse converters' tables."""
    if values is None:
        return np.asarray([default] * n)
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        from any2img.converters.mouse import log

        names = np.asarray(getattr(log, table))
        return names[np.clip(arr, 0, len(names) - 1)]
    return arr.astype(str)


def _stats(v: np.ndarray) -> list[float]:
    if v.size == 0:
        return [0.0, 0.0, 0.0, 0.0, 0.0]
    return [float(np.mean(v)), float(np.std(v)), float(np.median(v)), float(np.percentile(v, 90)),
            float(np.max(v))]


_STAT = ("mean", "std", "median", "p90", "max")
FEATURE_NAMES = (
    *(f"speed_{s}" for s in _STAT), *(f"accel_{s}" for s in _STAT), *(f"jerk_{s}" for s in _STAT),
    *(f"curvature_{s}" for s in _STAT), *(f"turn_{s}" for s in _STAT), *(f"dt_{s}" for s in _STAT),
    "duration", "path_length", "straightness", "pause_fraction", "x_std", "y_std", "x_range", "y_range",
    "vx_abs_mean", "vy_abs_mean", "left_clicks", "right_clicks", "scrolls", "drag_fraction",
    "click_duration_mean", "moves_between_clicks", "repeated_fraction",
)


def window_features(window: Any) -> np.ndarray:
    """Hand-crafted features of one window of mouse events (see :data:`FEATURE_NAMES`)."""
    ev = as_events(window)
    t, x, y, button, state = ev["t"], ev["x"], ev["y"], ev["button"], ev["state"]
    order = np.argsort(t, kind="stable")
    t, x, y, button, state = t[order], x[order], y[order], button[order], state[order]
    dt = np.diff(t)
    dx, dy = np.diff(x), np.diff(y)
    step = np.hypot(dx, dy)
    ok = dt > 1e-4  # repeated timestamps carry no speed
    speed = step[ok] / dt[ok]
    vx, vy = np.abs(dx[ok]) / dt[ok], np.abs(dy[ok]) / dt[ok]
    t_mid = (t[1:] + t[:-1])[ok] / 2
    accel = np.abs(np.diff(speed) / np.maximum(np.diff(t_mid), 1e-3)) if speed.size > 1 else np.array([])
    jerk = np.abs(np.diff(accel)) if accel.size > 1 else np.array([])
    moving = step > 0
    angle = np.arctan2(dy[moving], dx[moving])
    turn = np.abs(np.angle(np.exp(1j * np.diff(angle)))) if angle.size > 1 else np.array([])
    curvature = turn / np.maximum(step[moving][1:], 1.0) if turn.size else np.array([])
    path = float(step.sum())
    net = float(np.hypot(x[-1] - x[0], y[-1] - y[0])) if x.size else 0.0
    duration = float(t[-1] - t[0]) if t.size else 0.0
    pressed = state == "Pressed"
    released = state == "Released"
    left = int(np.sum(pressed & (button == "Left")))
    right = int(np.sum(pressed & (button == "Right")))
    scrolls = int(np.sum((button == "Scroll") | (state == "Up") | (state == "Down")))
    drag = float(np.mean(state == "Drag")) if state.size else 0.0
    press_t, release_t = t[pressed], t[released]
    durations = [float(release_t[release_t >= p][0] - p) for p in press_t if np.any(release_t >= p)]
    clicks = left + right
    repeated = float(np.mean(dt <= 1e-4)) if dt.size else 0.0
    feats = [
        *_stats(speed), *_stats(accel), *_stats(jerk), *_stats(curvature), *_stats(turn), *_stats(dt),
        duration, path, net / path if path > 0 else 0.0, float(np.mean(dt > 0.5)) if dt.size else 0.0,
        float(np.std(x)), float(np.std(y)), float(np.ptp(x)) if x.size else 0.0, float(np.ptp(y)) if y.size else 0.0,
        float(np.mean(vx)) if vx.size else 0.0, float(np.mean(vy)) if vy.size else 0.0,
        float(left), float(right), float(scrolls), drag,
        float(np.mean(durations)) if durations else 0.0, float(x.size) / (clicks + 1), repeated,
    ]
    return np.asarray(feats, dtype=np.float64)
