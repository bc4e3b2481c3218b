"""What every time-series converter shares: reading, checking series, layout of channels.

The signal of this kind is a float array of shape ``(n_channels,
n_timestamps)``; a 1-D array is one channel. Before any picture is drawn a
series is checked (:func:`as_series`):

* empty input, or fewer than 2 timestamps -> :class:`~any2img.errors.InputError`;
* infinite values -> ``InputError`` (always);
* missing values (NaN) -> ``InputError`` naming where they are, unless
  ``nan_policy="interpolate"``: each channel is filled by linear
  interpolation, its ends by the nearest value (a channel with no value at
  all is still an error).

Multivariate series (``multivariate``):

``"auto"`` (default)
    ``"stack"`` where the channels fit in R, G and B (at most 3, and the
    converter does not use the colours for its own fields: ``gaf_mtf``
    stacks none), else ``"tile"``: a rule of the data's shape, so that a
    6-channel UEA set converts without flags instead of failing item by item
    (:func:`channel_layout`).
``"stack"``
    One field per channel, as colour channels: 1 channel -> the field in
    ``cmap``; 2 channels -> R, G, and B = their mean (so the picture keeps
    its brightness); 3 channels -> R, G, B (``cmap`` is not used for 2 or 3
    channels). More than 3 channels is an ``InputError``: use ``"tile"``.
``"tile"``
    A grid of per-channel pictures, ``ceil(sqrt(C))`` columns and as many
    rows as needed, filled row by row; the image is split as evenly as
    possible (tiles differ by at most one pixel) and empty cells are black
    (white for line plots). Each tile is computed at its own size, not
    shrunk afterwards.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np
from any2img.converters.timeseries.io import BadSeries, read_series_file
from any2img.converters.timeseries.relevance import field_steps
from any2img.converters.timeseries.removal import delete_steps

from any2img.converter import Converter, Record, Window, unwrap
from any2img.errors import InputError, ParameterError
from any2img.imaging import field_to_rgb, fields_to_rgb
from any2img.parameters import Check, Choice, Cmap, ConverterParams, Size, param
from any2img.relevance import SeriesRelevance, check_attribution
from any2img.removal import SignalParts, with_data

__all__ = [
    "PASS_PIXELS",
    "ColouredParams",
    "FieldConverter",
    "TimeSeriesConverter",
    "TimeSeriesParams",
    "as_series",
    "channel_layout",
    "check_label_column",
    "tile_layout",
]

MULTIVARIATE = ("auto", "stack", "tile")
#: Series computed together in one vectorised step of convert_batch.
_CHUNK = 64
#: Pixels of one pass of a fused field-to-picture loop: 2**17 float32 (512 KB) stay in the cache.
PASS_PIXELS = 2**17
NAN_POLICIES = ("raise", "interpolate")


def check_label_column(value: Any) -> Any:
    """Return ``label_column`` if valid: ``"auto"``, ``None``, a column name or an int index."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise ParameterError(
        f"'label_column' must be 'auto', None, a column name or a column index (got {value!r})."
    )


def _where(mask: np.ndarray) -> str:
    c, t = np.argwhere(mask)[0]
    return f"the first at channel {c}, timestamp {t}"


def as_series(data: Any, nan_policy: str = "raise") -> np.ndarray:
    """Check a series and return it as a float64 array ``(n_channels, n_timestamps)``.

    Parameters
    ----------
    data : array-like of shape (n_timestamps,) or (n_channels, n_timestamps)
        The series (a :class:`~any2img.converter.Window` is unwrapped).
    nan_policy : {"raise", "interpolate"}, default="raise"
        What to do with missing values.

    Returns
    -------
    numpy.ndarray of shape (n_channels, n_timestamps), float64
        A new array when values were filled; never modifies ``data``.

    Raises
    ------
    InputError
        Empty, not numeric, wrong number of dimensions, fewer than 2
        timestamps, infinite values, or NaN with ``nan_policy="raise"``.

    Examples
    --------
    >>> as_series([1.0, np.nan, 3.0], nan_policy="interpolate")
    array([[1., 2., 3.]])
    """
    data = unwrap(data)
    if isinstance(data, BadSeries):
        data.raise_error()
    kind = getattr(data, "dtype", np.dtype(object)).kind
    if kind in "cmM":  # complex would lose its imaginary part; time deltas and dates are not values
        what = {"c": "complex", "m": "time deltas", "M": "dates"}[kind]
        raise InputError(f"a time series must hold real numbers (got {what}, dtype {data.dtype}).")
    try:
        series = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"a time series must be an array of numbers ({exc}).") from exc
    if series.ndim == 1:
        series = series[None, :]
    if series.ndim != 2:
        raise InputError(
            f"a time series must have shape (n_timestamps,) or (n_channels, n_timestamps) (got shape {series.shape})."
        )
    n_channels, n_timestamps = series.shape
    if n_channels == 0 or n_timestamps == 0:
        raise InputError(f"a time series must not be empty (got shape {series.shape}).")
    if n_timestamps < 2:
        raise InputError(f"a time series needs at least 2 timestamps (got {n_timestamps}).")
    infinite = np.isinf(series)
    if infinite.any():
        raise InputError(
            f"the series holds {int(infinite.sum())} infinite value(s), {_where(infinite)}; "
            "infinite values are not allowed."
        )
    missing = np.isnan(series)
    if missing.any():
        if nan_policy != "interpolate":
            raise InputError(
                f"the series holds {int(missing.sum())} missing (NaN) value(s), {_where(missing)}; "
                "pass nan_policy='interpolate' to fill them by linear interpolation."
            )
        series = series.copy()
        index = np.arange(n_timestamps)
        for c in np.flatnonzero(missing.any(axis=1)):
            known = ~missing[c]
            if not known.any():
                raise InputError(f"channel {c} of the series holds only missing (NaN) values; nothing to interpolate.")
            series[c, missing[c]] = np.interp(index[missing[c]], index[known], series[c, known])
    return series


def channel_layout(multivariate: str, n_channels: int, stackable: int = 3) -> str:
    """How ``n_channels`` channels are laid out: ``"stack"`` or ``"tile"``.

    Parameters
    ----------
    multivariate : {"auto", "stack", "tile"}
        The parameter; ``"auto"`` stacks at most ``stackable`` channels and tiles more.
    n_channels : int
    stackable : int, default=3
        The most channels the converter can stack (R, G, B; 1 where the colours are its own).

    Returns
    -------
    str
        ``"stack"`` for one channel whatever ``multivariate`` says (a single picture either way).

    >>> channel_layout("auto", 3), channel_layout("auto", 6), channel_layout("auto", 2, stackable=1)
    ('stack', 'tile', 'tile')
    """
    if n_channels == 1:
        return "stack"
    if multivariate == "auto":
        return "stack" if n_channels <= stackable else "tile"
    return multivariate


def tile_layout(n_tiles: int, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Return ``(top, left, height, width)`` of each tile of a grid filling ``size``.

    The grid has ``ceil(sqrt(n))`` columns and as many rows as needed; rows
    and columns share the pixels as evenly as possible.

    Examples
    --------
    >>> tile_layout(3, (5, 4))
    [(0, 0, 3, 2), (0, 2, 3, 2), (3, 0, 2, 2)]
    """
    height, width = size
    cols = math.ceil(math.sqrt(n_tiles))
    rows = math.ceil(n_tiles / cols)
    if height < rows or width < cols:
        raise InputError(
            f"image_size {height}x{width} is too small to tile {n_tiles} channels in a {rows}x{cols} grid."
        )

    def cuts(total: int, parts: int) -> list[tuple[int, int]]:
        sizes = [total // parts + (1 if k < total % parts else 0) for k in range(parts)]
        starts = np.cumsum([0, *sizes[:-1]]).tolist()
        return list(zip(starts, sizes))

    row_cuts, col_cuts = cuts(height, rows), cuts(width, cols)
    layout = []
    for k in range(n_tiles):
        (top, h), (left, w) = row_cuts[k // cols], col_cuts[k % cols]
        layout.append((top, left, h, w))
    return layout


def tile_images(
    n_tiles: int,
    size: tuple[int, int],
    n_images: int,
    draw: Callable[[int, tuple[int, int]], np.ndarray],
    background: int = 0,
) -> np.ndarray:
    """Compose ``(n_images, H, W, 3)`` from ``draw(tile, (h, w)) -> (n_images, h, w, 3)`` per tile."""
    height, width = size
    out = np.full((n_images, height, width, 3), background, dtype=np.uint8)
    for k, (top, left, h, w) in enumerate(tile_layout(n_tiles, size)):
        out[:, top : top + h, left : left + w] = draw(k, (h, w))
    return out


@dataclass(frozen=True, kw_only=True)
class TimeSeriesParams(ConverterParams):
    """The parameters every time-series converter takes, checked."""

    image_size: tuple[int, int] = param(128, Size(), "Output size, n for n x n or (height, width); the series is "
                                        "resampled to it.")
    multivariate: str = param("auto", Choice(MULTIVARIATE), "Channels as the colours of one picture, or a grid "
                              "of pictures; auto: stacked where they fit in R, G, B, else tiled (see "
                              "any2img.converters.timeseries.base).")
    nan_policy: str = param("raise", Choice(NAN_POLICIES), "Missing values are an error, or filled by linear "
                            "interpolation.")
    label_column: str | int | None = param(
        "auto", Check(lambda name, value: check_label_column(value), "'auto', None, a column name or index",
                      bad=(1.5, "", True)), "Label column of table files (see any2img.converters.timeseries.io).")


@dataclass(frozen=True, kw_only=True)
class ColouredParams(TimeSeriesParams):
    """The parameters of a converter whose field is one plane, coloured."""

    cmap: str = param("grey", Cmap(), "Colour map of a one-channel field.")


TP = TypeVar("TP", bound=TimeSeriesParams)


class TimeSeriesConverter(Converter, Generic[TP]):
    """Base class of the time-series converters (reading, checks, batching).

    Subclasses declare their parameters (a subclass of
    :class:`TimeSeriesParams` named in ``params_class``) and implement
    :meth:`_render`, which turns a batch of equal-shape series into images.
    """

    kind: ClassVar[str] = "timeseries"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt", ".npy", ".ts")
    params_class: ClassVar[type[ConverterParams] | None] = TimeSeriesParams
    #: Window slicing, time shift, amplitude scaling and jitter (:mod:`any2img.converters.timeseries.augment`).
    augmentation: ClassVar[str | None] = "any2img.converters.timeseries.augment:augment_series"
    #: Training redraws each picture from a perturbed copy of its series, and predicts with 4 such passes:
    #: on PigCVP's validation protocol (52 classes, two series each) this lifted the line plot on every
    #: judge (0.32 -> 0.51 on average), and it kept GunPoint, Coffee and BasicMotions perfect for the line
    #: plot and for gadf (``benchmarks/DEFAULTS.md``, tenth round).
    augments_by_default: ClassVar[bool] = True
    #: The most channels ``multivariate="auto"`` stacks (as R, G, B); more are tiled (:func:`channel_layout`).
    stackable_channels: ClassVar[int] = 3

    def _p(self) -> TP:
        """The checked parameters, typed."""
        return cast(TP, self.checked_params())

    # -- examples for the contract tests ----------------------------------
    @classmethod
    def example_signal(cls, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Return a short noisy two-tone series of 48 timestamps."""
        rng = np.random.default_rng(rng)
        t = np.linspace(0.0, 4.0 * np.pi, 48)
        return np.sin(t) + 0.4 * np.sin(3.1 * t + rng.uniform(0, 2 * np.pi)) + 0.1 * rng.standard_normal(48)

    @classmethod
    def example_bad_signals(cls, rng: np.random.Generator | int | None = None) -> list[Any]:
        """Return inputs that must raise InputError: empty, length 1, NaN, inf, 3-D, text."""
        good = cls.example_signal(rng)
        with_nan, with_inf = good.copy(), good.copy()
        with_nan[5] = np.nan
        with_inf[7] = np.inf
        return [good[:0], good[:1], with_nan, with_inf, good.reshape(2, 2, -1), ["a", "b"]]

    # -- reading ------------------------------------------------------------

    def read_records(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """Yield the series of a file, one record per row or sample (see :mod:`.io`)."""
        yield from read_series_file(path, label_column=self._p().label_column)

    def read(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Return the one series a file holds, as ``(n_channels, n_timestamps)``.

        Raises
        ------
        InputError
            If the file is unreadable or holds more (or fewer) than one series;
            use :meth:`read_records` for tables.
        """
        records = list(self.read_records(path))
        if len(records) != 1:
            raise InputError(
                f"holds {len(records)} series; read_records() yields them one by one", path=path
            )
        signal = records[0].signal
        if isinstance(signal, BadSeries):
            signal.raise_error()
        return signal

    def segment(self, signal: Any) -> list[Window]:
        """Return one window holding the whole series (a bad row raises its error here)."""
        if isinstance(signal, BadSeries):
            signal.raise_error()
        return super().segment(signal)

    # -- converting ---------------------------------------------------------
    def convert(self, window: Any) -> np.ndarray:
        """Return the image of one series as ``(H, W, 3)`` uint8."""
        return self.convert_batch([window])[0]

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Convert many series; those of equal shape are computed together."""
        params = self._p()
        series = [as_series(w, params.nan_policy) for w in windows]
        images: list[np.ndarray] = [np.empty(0, np.uint8)] * len(series)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, s in enumerate(series):
            by_shape.setdefault(s.shape, []).append(i)
        for members in by_shape.values():
            for start in range(0, len(members), _CHUNK):  # bounded memory for the float fields
                chunk = members[start : start + _CHUNK]
                rendered = self._render(np.stack([series[i] for i in chunk]), params)
                for i, image in zip(chunk, rendered):
                    images[i] = np.ascontiguousarray(image)
        return images

    def _render(self, X: np.ndarray, params: TP) -> np.ndarray:
        """Return ``(N, H, W, 3)`` uint8 images of ``X`` of shape ``(N, C, T)``."""
        raise NotImplementedError

    # -- explaining -----------------------------------------------------------
    def relevance(self, attribution: np.ndarray, window: Any) -> SeriesRelevance:
        """Map an attribution over the image back onto the time steps of the original series.

        Parameters
        ----------
        attribution : ndarray of shape (H, W)
            A score per pixel of ``convert(window)``.
        window : Window or array-like
            The series the image was drawn from.

        Returns
        -------
        SeriesRelevance
            ``(n_channels, n_timestamps)``: through the resampling to the
            image's rows and columns (see :mod:`.relevance`); a tiled picture
            gives each channel its tile's relevance, a stacked one every
            channel an equal share.
        """
        params = self._p()
        series = as_series(window, params.nan_policy)
        size = params.image_size
        a = check_attribution(attribution, size)
        n_channels, n = series.shape
        out = np.zeros((n_channels, n))
        if self.layout(n_channels) == "tile":
            for c, (top, left, h, w) in enumerate(tile_layout(n_channels, size)):
                out[c] = self._steps(a[top : top + h, left : left + w], n, params)
        else:
            out[:] = self._steps(a, n, params) / n_channels
        return SeriesRelevance(out, window=window.describe() if isinstance(window, Window) else {})

    def layout(self, n_channels: int) -> str:
        """``"stack"`` or ``"tile"``: what ``multivariate`` means for a series of ``n_channels`` channels."""
        return channel_layout(self._p().multivariate, n_channels, self.stackable_channels)

    def _steps(self, attribution: np.ndarray, n: int, params: TP) -> np.ndarray:
        """Relevance per original step of one channel's picture ``(h, w)``."""
        raise NotImplementedError

    def parts(self, window: Any) -> SignalParts:
        """The time steps of the series; a removed step is interpolated over (:func:`.removal.delete_steps`).

        Parameters
        ----------
        window : Window or array-like
            The series.

        Returns
        -------
        SignalParts
            One part per time step of the original series; a score per step
            becomes a :class:`~any2img.relevance.SeriesRelevance` in which
            every channel holds an equal share (a removal takes the step out
            of all channels at once).
        """
        series = as_series(window, self._p().nan_policy)
        n_channels, n = series.shape
        where = window.describe() if isinstance(window, Window) else {}

        def relevance(values: np.ndarray) -> SeriesRelevance:
            per_step = np.asarray(values, dtype=np.float64).reshape(n) / n_channels
            return SeriesRelevance(np.tile(per_step, (n_channels, 1)), window=where)

        return SignalParts(n, "step", lambda remove: with_data(window, delete_steps(series, remove)), relevance)


class FieldConverter(TimeSeriesConverter[TP]):
    """A converter whose picture is a 2-D field computed from the series.

    Subclasses implement :meth:`_fields`; ``planes`` says whether a field is
    one plane (coloured with ``cmap``) or already three (R, G, B).
    """

    planes: ClassVar[int] = 1

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: TP) -> np.ndarray:
        """Return the fields of ``X`` ``(M, T)`` at ``size``, scaled to [0, 1].

        Shape ``(M, h, w)``, or ``(M, h, w, 3)`` when ``planes == 3``.
        """
        raise NotImplementedError

    def _colour(self, X: np.ndarray, size: tuple[int, int], params: TP) -> np.ndarray:
        fields = self._fields(X, size, params)
        if self.planes == 3:
            return fields_to_rgb(fields[..., 0], fields[..., 1], fields[..., 2])
        return field_to_rgb(fields, getattr(params, "cmap", "grey"))

    def _steps(self, attribution: np.ndarray, n: int, params: TP) -> np.ndarray:
        """Pixel (i, j) relates resampled steps i (rows) and j (columns): half to each."""
        return field_steps(attribution, n)

    def _render(self, X: np.ndarray, params: TP) -> np.ndarray:
        n, n_channels, n_timestamps = X.shape
        size = params.image_size
        if n_channels == 1:
            return self._colour(X[:, 0], size, params)
        if self.layout(n_channels) == "tile":
            return tile_images(n_channels, size, n, lambda c, tile: self._colour(X[:, c], tile, params))
        if self.planes == 3:
            raise InputError(
                f"converter '{self.name}' already uses R, G and B for its own fields, so it cannot stack "
                f"{n_channels} channels; use multivariate='tile'."
            )
        if n_channels > 3:
            raise InputError(
                f"multivariate='stack' takes at most 3 channels (as R, G, B) (got {n_channels}); "
                "use multivariate='tile'."
            )
        fields = self._fields(X.reshape(n * n_channels, n_timestamps), size, params)
        fields = fields.reshape(n, n_channels, *fields.shape[1:])
        red, green = fields[:, 0], fields[:, 1]
        blue = fields[:, 2] if n_channels == 3 else (red + green) / 2
        return fields_to_rgb(red, green, blue)
