"""Gramian angular fields: ``gasf`` (summation) and ``gadf`` (difference).

Each series is resampled to the image's height (rows) and width (columns)
(see :mod:`.resample`), rescaled to ``sample_range`` (as pyts'
``GramianAngularField`` does after its PAA), read as angles
``phi = arccos(x)``, and turned into

* GASF: ``cos(phi_i + phi_j) = x_i x_j - sqrt(1 - x_i^2) sqrt(1 - x_j^2)``
* GADF: ``sin(phi_i - phi_j) = sqrt(1 - x_i^2) x_j - x_i sqrt(1 - x_j^2)``

(the conventions of pyts and Wang & Oates, 2015). Both lie in [-1, 1],
mapped to [0, 1] with those fixed bounds, so a pixel means the same thing in
every image. The whole batch is computed at once with numpy outer products;
we do not call pyts because it can only shrink a series (PAA), not stretch a
short one.

A constant series has no range to rescale: like pyts (and scikit-learn's
``MinMaxScaler``) it is mapped to ``sample_range[0]``. With the default range
that is the angle pi everywhere, so GASF is all 1 (white) and GADF all 0
(mid grey) -- defined, no division by zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from any2img.converters.timeseries.base import PASS_PIXELS, ColouredParams, FieldConverter
from any2img.converters.timeseries.blas import one_blas_thread
from any2img.converters.timeseries.resample import resample

from any2img.errors import InputError, ParameterError
from any2img.imaging import level_codes, paint_levels
from any2img.parameters import Check, ConverterParams, param
from any2img.validation import check_range

__all__ = [
    "GADF", "GASF", "GAFParams", "check_sample_range", "gramian_fields", "gramian_pictures", "picture_fields",
    "sample_range_param",
]


def check_sample_range(value: Any) -> tuple[float, float] | None:
    """Return ``sample_range`` as ``None`` or ``(low, high)`` with ``-1 <= low < high <= 1``."""
    if value is None:
        return None
    try:
        low, high = check_range("sample_range", value)
    except ParameterError:
        low, high = 0.0, -1.0
    if -1.0 <= low < high <= 1.0:
        return low, high
    raise ParameterError(
        f"'sample_range' must be None or a pair (low, high) with -1 <= low < high <= 1 (got {value!r})."
    )


def sample_range_param() -> Any:
    """The declaration of ``sample_range`` (the Gramian converters share it)."""
    return param((-1, 1), Check(lambda name, value: check_sample_range(value), "None or (low, high) with "
                                "-1 <= low < high <= 1", bad=((0, 2), [1, -1], "wide", (0.5, 0.5))),
                 "Each series is rescaled to this range before arccos; None takes values in [-1, 1] as they are.")


def _angles(rows: np.ndarray, cols: np.ndarray, sample_range: tuple[float, float] | None) -> tuple[np.ndarray, ...]:
    if sample_range is None:
        low = min(rows.min(), cols.min())
        high = max(rows.max(), cols.max())
        if low < -1.0 or high > 1.0:
            raise InputError(
                f"with sample_range=None every value must lie in [-1, 1] (got values in [{low:g}, {high:g}]); "
                "give a sample_range such as (-1, 1) to rescale each series."
            )
        cos_r, cos_c = rows, cols
    else:
        a, b = sample_range
        low = np.minimum(rows.min(axis=1), cols.min(axis=1))[:, None]
        high = np.maximum(rows.max(axis=1), cols.max(axis=1))[:, None]
        span = high - low
        flat = span <= 0
        scale = np.where(flat, 0.0, (b - a) / np.where(flat, 1.0, span))  # constant series -> a
        cos_r = np.clip(a + (rows - low) * scale, -1.0, 1.0)
        cos_c = np.clip(a + (cols - low) * scale, -1.0, 1.0)
    sin_r = np.sqrt(np.clip(1.0 - cos_r**2, 0.0, 1.0))
    sin_c = np.sqrt(np.clip(1.0 - cos_c**2, 0.0, 1.0))
    return cos_r, sin_r, cos_c, sin_c


def gramian_fields(
    X: np.ndarray,
    size: tuple[int, int],
    method: str = "summation",
    sample_range: tuple[float, float] | None = (-1.0, 1.0),
) -> np.ndarray:
    """Return the Gramian angular fields of a batch of series.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_series, n_timestamps)
        Series, each rescaled on its own.
    size : (int, int)
        ``(height, width)`` of the fields.
    method : {"summation", "difference"}, default="summation"
        GASF or GADF.
    sample_range : (float, float) or None, default=(-1, 1)
        Range the series is rescaled to; ``None`` uses the values as they are
        (they must lie in [-1, 1]).

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width), float64 in [-1, 1]

    Examples
    --------
    >>> gramian_fields(np.array([[0.0, 1.0, 2.0]]), (3, 3))[0].round(3) + 0.0
    array([[ 1.,  0., -1.],
           [ 0., -1.,  0.],
           [-1.,  0.,  1.]])
    """
    X = np.asarray(X, dtype=np.float64)
    height, width = size
    rows = resample(X, height)
    cols = rows if width == height else resample(X, width)
    cos_r, sin_r, cos_c, sin_c = _angles(rows, cols, sample_range)
    # two products and an in-place difference: one temporary field instead of two
    if method == "summation":
        field = np.multiply(cos_r[:, :, None], cos_c[:, None, :])
        field -= np.multiply(sin_r[:, :, None], sin_c[:, None, :])
        return field
    field = np.multiply(sin_r[:, :, None], cos_c[:, None, :])
    field -= np.multiply(cos_r[:, :, None], sin_c[:, None, :])
    return field


def _factors(
    X: np.ndarray, size: tuple[int, int], method: str, sample_range: tuple[float, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``(left, right)``, ``(n, height, 2)`` and ``(n, 2, width)``: the field is their product.

    With ``x = cos(phi)`` and ``s = sin(phi)`` per row or column, a GASF is
    ``[x_i, s_i] . [x_j, -s_j]`` and a GADF ``[s_i, x_i] . [x_j, -s_j]``.
    """
    X = np.asarray(X, dtype=np.float64)
    height, width = size
    rows = resample(X, height)
    cols = rows if width == height else resample(X, width)
    cos_r, sin_r, cos_c, sin_c = _angles(rows, cols, sample_range)
    left = np.stack((cos_r, sin_r) if method == "summation" else (sin_r, cos_r), axis=2).astype(np.float32)
    right = np.stack((cos_c, -sin_c), axis=1).astype(np.float32)
    return left, right


def picture_fields(
    X: np.ndarray,
    size: tuple[int, int],
    method: str = "summation",
    sample_range: tuple[float, float] | None = (-1.0, 1.0),
) -> np.ndarray:
    """The fields of :func:`gramian_fields` mapped to [0, 1], as float32, for pictures.

    The resampling and the angles (one value per row or column) are float64;
    the field (one value per pixel, nearly all the work) is one float32 BLAS
    product per series (see :func:`gramian_pictures`, whose pixels these
    are). A pixel then differs from the float64 field's by one level only
    where that field lies within about 1e-5 of a rounding boundary: on
    GunPoint's 200 series, 24 of 3.3 million GASF pixels at 128 px, 6 of 0.8
    million at 64 px.

    Examples
    --------
    >>> picture_fields(np.array([[0.0, 1.0, 2.0]]), (3, 3))[0].round(3) + 0.0
    array([[1. , 0.5, 0. ],
           [0.5, 0. , 0.5],
           [0. , 0.5, 1. ]], dtype=float32)
    """
    left, right = _factors(X, size, method, sample_range)
    with one_blas_thread():
        field = np.matmul(left, right)
    field += np.float32(1.0)
    field *= np.float32(0.5)
    return field


def gramian_pictures(
    X: np.ndarray,
    size: tuple[int, int],
    method: str = "summation",
    sample_range: tuple[float, float] | None = (-1.0, 1.0),
    cmap: str = "grey",
) -> np.ndarray:
    """The fields of :func:`picture_fields` coloured as :func:`~any2img.imaging.field_to_rgb` does, fused.

    With ``x = cos(phi)`` and ``s = sin(phi)`` per row or column, a GASF is
    the product ``[x_i, s_i] . [x_j, -s_j]`` and a GADF
    ``[s_i, x_i] . [x_j, -s_j]``: one float32 BLAS product per series. The
    field is then scaled to levels, rounded and written into the uint8
    picture a few series at a time, while they are in the cache: the pixels
    of ``field_to_rgb(picture_fields(...))``. The BLAS product rounds
    differently from the two float32 outer products used before it: on
    GunPoint's 200 series, 2 of 3.3 million pixels move by one level at
    128 px (GADF: 2 of 0.8 million at 64 px; GASF: none).

    Returns
    -------
    numpy.ndarray of shape (n_series, height, width, 3), uint8

    Examples
    --------
    >>> gramian_pictures(np.array([[0.0, 1.0, 2.0]]), (3, 3))[0, ..., 0]
    array([[255, 128,   0],
           [128,   0, 128],
           [  0, 128, 255]], dtype=uint8)
    """
    left, right = _factors(X, size, method, sample_range)
    height, width = size
    n = len(left)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    step = max(1, PASS_PIXELS // (height * width))
    buffer = np.empty((min(step, n), height, width), dtype=np.float32)
    with one_blas_thread():
        for start in range(0, n, step):
            stop = min(start + step, n)
            field = np.matmul(left[start:stop], right[start:stop], out=buffer[: stop - start])
            field += np.float32(1.0)
            field *= np.float32(127.5)  # (field + 1) / 2 * 255, rounded as field_to_rgb rounds it
            np.clip(field, 0.0, 255.0, out=field)
            paint_levels(out[start:stop], level_codes(field), cmap)
    return out


@dataclass(frozen=True, kw_only=True)
class GAFParams(ColouredParams):
    """``gasf`` and ``gadf``."""

    sample_range: tuple[float, float] | None = sample_range_param()


class _GAF(FieldConverter[GAFParams]):
    method: ClassVar[str] = "summation"
    params_class: ClassVar[type[ConverterParams] | None] = GAFParams

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: GAFParams) -> np.ndarray:
        return picture_fields(X, size, self.method, params.sample_range)

    def _colour(self, X: np.ndarray, size: tuple[int, int], params: GAFParams) -> np.ndarray:
        return gramian_pictures(X, size, self.method, params.sample_range, params.cmap)


class GASF(_GAF):
    """Gramian angular summation field: ``cos(phi_i + phi_j)`` as a picture.

    The series is resampled to ``image_size`` (linear interpolation when
    shorter, area averaging when longer).

    Examples
    --------
    >>> GASF(image_size=64).convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "gasf"
    method: ClassVar[str] = "summation"


class GADF(_GAF):
    """Gramian angular difference field: ``sin(phi_i - phi_j)`` as a picture.

    Mid grey is 0; the field is antisymmetric, so its diagonal is always mid
    grey.

    Examples
    --------
    >>> GADF(image_size=(32, 48)).convert(np.sin(np.linspace(0, 6, 150))).shape
    (32, 48, 3)
    """

    name: ClassVar[str] = "gadf"
    method: ClassVar[str] = "difference"
