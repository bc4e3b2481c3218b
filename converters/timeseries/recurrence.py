"""Recurrence plot: ``recurrence``.

The series is embedded as trajectories ``(x_i, x_{i+tau}, ..., x_{i+(d-1)tau})``
(``d = dimension``, ``tau = time_delay``) and pixel ``(i, j)`` is the
Euclidean distance between trajectories ``i`` and ``j``, or, with a
``threshold``, 1 where that distance is below it (a recurrence) and 0
elsewhere -- the definitions and threshold rules of pyts' ``RecurrencePlot``:

* ``threshold=None``: the distances themselves, scaled by the image's
  largest distance (0 black, the largest white; an all-zero field, e.g. of a
  constant series, stays black). Distances have no fixed bound, so this is
  the one field scaled per image; use a threshold for pictures comparable in
  absolute terms;
* a number: recurrence where the distance is ``< threshold``;
* ``"point"``: ``< the percentage-th percentile`` of the image's distances
  (about ``percentage`` % of the pixels are recurrences);
* ``"distance"``: ``< percentage % of the largest distance``.

Why numpy and not pyts: each row series is resampled (see :mod:`.resample`)
to ``height + (d - 1) tau`` timestamps and each column series to
``width + (d - 1) tau``, so that there are exactly ``height`` by ``width``
trajectories and the recurrences are computed at the picture's resolution
(binary plots stay binary instead of being blurred by a resize; long series
cost no more than short ones). When ``image_size`` equals the number of
trajectories of the series nothing is resampled and the result is pyts'
exactly. The whole batch is one broadcast.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.timeseries.base import PASS_PIXELS, ColouredParams, FieldConverter
from any2img.converters.timeseries.relevance import field_steps
from any2img.converters.timeseries.resample import resample

from any2img.errors import ParameterError
from any2img.imaging import level_codes, paint_levels
from any2img.parameters import Check, ConverterParams, Float, Int, param

__all__ = [
    "Recurrence", "RecurrenceParams", "check_threshold", "distance_fields", "distance_pictures", "recurrence_fields",
]


def check_threshold(value: Any) -> float | str | None:
    """Return ``threshold`` if it is None, ``"point"``, ``"distance"`` or a number >= 0."""
    if value is None or (isinstance(value, str) and value in ("point", "distance")):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number >= 0:
            return number
    raise ParameterError(f"'threshold' must be None, 'point', 'distance' or a number >= 0 (got {value!r}).")


def _trajectories(x: np.ndarray, count: int, dimension: int, time_delay: int) -> np.ndarray:
    return np.stack([x[:, k * time_delay : k * time_delay + count] for k in range(dimension)], axis=2)


def recurrence_fields(
    X: np.ndarray,
    size: tuple[int, int],
    dimension: int = 1,
    time_delay: int = 1,
    threshold: float | str | None = None,
    percentage: float = 10.0,
) -> np.ndarray:
    """Return the recurrence plots of a batch of series at ``size``.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_series, n_timestamps)
    size : (int, int)
        ``(height, width)``: the number of row and column trajectories.
    dimension, time_delay : int, default=1
        Embedding dimension and delay of the trajectories.
    threshold : None, float, "point" or "distance", default=None
        See the module docstring.
    percentage : float, default=10
        Used by ``"point"`` and ``"distance"``.

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width), float64
        Distances (``threshold=None``) or 0/1 recurrences.

    Examples
    --------
    >>> recurrence_fields(np.array([[0.0, 1.0, 3.0]]), (3, 3))[0]
    array([[0., 1., 3.],
           [1., 0., 2.],
           [3., 2., 0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    height, width = size
    span = (dimension - 1) * time_delay
    rows = _trajectories(resample(X, height + span), height, dimension, time_delay)
    cols = rows if height == width else _trajectories(resample(X, width + span), width, dimension, time_delay)
    if dimension == 1:
        dist = np.abs(rows[:, :, None, 0] - cols[:, None, :, 0])
    else:
        squared = np.zeros((X.shape[0], height, width))
        for k in range(dimension):
            squared += (rows[:, :, None, k] - cols[:, None, :, k]) ** 2
        dist = np.sqrt(squared)
    if threshold is None:
        return dist
    if threshold == "point":
        cut = np.percentile(dist.reshape(len(dist), -1), percentage, axis=1)
    elif threshold == "distance":
        cut = percentage / 100.0 * dist.max(axis=(1, 2))
    else:
        cut = np.full(len(dist), float(threshold))
    return (dist < cut[:, None, None]).astype(np.float64)


def _row_and_column_trajectories(X: np.ndarray, size: tuple[int, int], dimension: int,
                                 time_delay: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 trajectories of the series resampled to the field's height (rows) and width (columns).

    The columns are the rows themselves for a square field.
    """
    height, width = size
    span = (dimension - 1) * time_delay
    rows = _trajectories(resample(X, height + span), height, dimension, time_delay).astype(np.float32)
    cols = rows if height == width else _trajectories(
        resample(X, width + span), width, dimension, time_delay).astype(np.float32)
    return rows, cols


def distance_fields(X: np.ndarray, size: tuple[int, int], dimension: int = 1, time_delay: int = 1) -> np.ndarray:
    """The distances of :func:`recurrence_fields` (no threshold) as float32, for pictures.

    The series are resampled in float64; the per-pixel differences are
    float32 and computed in place, which halves the memory traffic. Pixels
    then differ from the float64 field's by one level only where it lies
    within about 1e-5 of a rounding boundary (GunPoint's 200 series: 2 of
    0.8 million pixels at 64 px, 22 of 3.3 million at 128 px). Binary plots
    keep float64: their comparisons with the cut are strict.

    Examples
    --------
    >>> distance_fields(np.array([[0.0, 1.0, 3.0]]), (3, 3))[0]
    array([[0., 1., 3.],
           [1., 0., 2.],
           [3., 2., 0.]], dtype=float32)
    """
    X = np.asarray(X, dtype=np.float64)
    height, width = size
    rows, cols = _row_and_column_trajectories(X, size, dimension, time_delay)
    if dimension == 1:
        dist = np.subtract(rows[:, :, None, 0], cols[:, None, :, 0])
        return np.abs(dist, out=dist)
    squared = np.zeros((X.shape[0], height, width), dtype=np.float32)
    for k in range(dimension):
        step = np.subtract(rows[:, :, None, k], cols[:, None, :, k])
        np.multiply(step, step, out=step)
        squared += step
    return np.sqrt(squared, out=squared)


def distance_pictures(
    X: np.ndarray, size: tuple[int, int], dimension: int = 1, time_delay: int = 1, cmap: str = "grey"
) -> np.ndarray:
    """The fields of :func:`distance_fields`, each divided by its largest distance and coloured, fused.

    The same pixels as ``field_to_rgb`` of those unit fields, computed a few
    series at a time into a buffer that stays in the cache.

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width, 3), uint8

    Examples
    --------
    >>> distance_pictures(np.array([[0.0, 1.0, 3.0]]), (3, 3))[0, ..., 0]
    array([[  0,  85, 255],
           [ 85,   0, 170],
           [255, 170,   0]], dtype=uint8)
    """
    X = np.asarray(X, dtype=np.float64)
    height, width = size
    rows, cols = _row_and_column_trajectories(X, size, dimension, time_delay)
    n = len(X)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    step = max(1, PASS_PIXELS // (height * width))
    buffer = np.empty((min(step, n), height, width), dtype=np.float32)
    spare = np.empty_like(buffer) if dimension > 1 else buffer
    for start in range(0, n, step):
        stop = min(start + step, n)
        dist = buffer[: stop - start]
        if dimension == 1:
            np.subtract(rows[start:stop, :, None, 0], cols[start:stop, None, :, 0], out=dist)
            np.abs(dist, out=dist)
        else:
            dist[...] = 0.0
            term = spare[: stop - start]
            for k in range(dimension):
                np.subtract(rows[start:stop, :, None, k], cols[start:stop, None, :, k], out=term)
                np.multiply(term, term, out=term)
                dist += term
            np.sqrt(dist, out=dist)
        top = dist.max(axis=(1, 2), keepdims=True)
        # 0 <= dist <= top, so the correctly rounded quotient lies in [0, 1]: field_to_rgb's clip changes nothing
        np.divide(dist, np.where(top > 0, top, np.float32(1.0)), out=dist)
        dist *= np.float32(255.0)  # scaled and rounded as field_to_rgb does
        paint_levels(out[start:stop], level_codes(dist), cmap)
    return out


@dataclass(frozen=True, kw_only=True)
class RecurrenceParams(ColouredParams):
    """``recurrence``."""

    dimension: int = param(1, Int(1, 100), "Embedding dimension of the trajectories (one pass over the field each).")
    time_delay: int = param(1, Int(1, 1000), "Delay between the points of a trajectory.")
    threshold: float | str | None = param(
        None, Check(lambda name, value: check_threshold(value), "None, 'point', 'distance' or a number >= 0",
                    bad=("nearest", -1, math.nan, True)), "None: distances; otherwise a binary plot (see the "
        "module docstring).")
    percentage: float = param(10, Float(0, 100), "Percentile ('point') or percent of the largest distance "
                              "('distance').")


class Recurrence(FieldConverter[RecurrenceParams]):
    """Recurrence plot of a series as a picture.

    ``image_size`` is the number of trajectories along each side.

    Examples
    --------
    >>> Recurrence(image_size=64, threshold="point").convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "recurrence"
    params_class: ClassVar[type[ConverterParams] | None] = RecurrenceParams

    def _steps(self, attribution: np.ndarray, n: int, params: RecurrenceParams) -> np.ndarray:
        """Row i is the trajectory of resampled steps i, i + tau, ...: each gets an equal share."""
        return field_steps(attribution, n, dimension=params.dimension, time_delay=params.time_delay)

    def _colour(self, X: np.ndarray, size: tuple[int, int], params: RecurrenceParams) -> np.ndarray:
        if params.threshold is None:
            return distance_pictures(X, size, params.dimension, params.time_delay, params.cmap)
        return super()._colour(X, size, params)

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: RecurrenceParams) -> np.ndarray:
        if params.threshold is None:
            fields = distance_fields(X, size, params.dimension, params.time_delay)
            top = fields.max(axis=(1, 2), keepdims=True)
            return np.divide(fields, np.where(top > 0, top, np.float32(1.0)), out=fields)
        fields = recurrence_fields(X, size, params.dimension, params.time_delay, params.threshold, params.percentage)
        return fields.astype(np.float32)
