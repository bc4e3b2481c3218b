"""Line plot: ``lineplot``.

The series drawn as an antialiased line on a white background, with Pillow
(no matplotlib figure per image: that costs tens of milliseconds each). The
line is drawn at 4x the size and box-filtered down, which antialiases it.
The x axis spans the whole image (every timestamp is drawn, however long the
series); the y axis spans the series' min to max plus a 5 % margin top and
bottom. A constant series is a horizontal line across the middle.

Multivariate series: ``"stack"`` draws every channel on one plot, in the
colours of matplotlib's ``tab10`` cycle, on a y axis shared by all channels
(``share_y=True``) or with each channel stretched to the full height
(``share_y=False``); ``"tile"`` draws one plot per channel in a grid (see
:mod:`.base`), each with its own y axis. A univariate series is black.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from any2img.converters.timeseries.base import TimeSeriesConverter, TimeSeriesParams, tile_images
from any2img.converters.timeseries.relevance import lineplot_steps
from PIL import Image, ImageDraw

from any2img.parameters import Bool, ConverterParams, Float, param

__all__ = ["LinePlot", "LinePlotParams", "draw_lines"]

#: Colours of stacked channels (matplotlib's tab10).
PALETTE = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)
_SUPERSAMPLE = 4
_MARGIN = 0.05


def _y_range(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return low - 1.0, low + 1.0
    pad = (high - low) * _MARGIN
    return low - pad, high + pad


def draw_lines(
    series: np.ndarray,
    size: tuple[int, int],
    *,
    line_width: float = 2.0,
    share_y: bool = True,
    colors: tuple[tuple[int, int, int], ...] | None = None,
) -> np.ndarray:
    """Draw the channels of one series as lines; return ``(H, W, 3)`` uint8.

    Parameters
    ----------
    series : numpy.ndarray of shape (n_channels, n_timestamps)
    size : (int, int)
        ``(height, width)`` in pixels.
    line_width : float, default=2.0
        Line width in output pixels.
    share_y : bool, default=True
        One y axis for all channels (else each spans the height).
    colors : tuple of RGB triples, optional
        Channel colours, cycled; default black for one channel, tab10 else.

    Examples
    --------
    >>> draw_lines(np.array([[0.0, 1.0, 0.0]]), (16, 32)).shape
    (16, 32, 3)
    """
    height, width = size
    s = _SUPERSAMPLE
    canvas = Image.new("RGB", (width * s, height * s), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    n_channels, n_timestamps = series.shape
    if colors is None:
        colors = ((0, 0, 0),) if n_channels == 1 else PALETTE
    xs = np.linspace(0.0, width * s - 1.0, n_timestamps)
    shared = _y_range(series) if share_y else None
    pen = max(1, round(line_width * s))
    # Rounded joints matter where segments are long; with more points than pixel columns they are
    # invisible and cost ~8x the drawing time, so they are left out there.
    joint = "curve" if n_timestamps <= width else None
    for c in range(n_channels):
        low, high = shared or _y_range(series[c])
        ys = (high - series[c]) / (high - low) * (height * s - 1.0)
        draw.line(np.column_stack([xs, ys]).ravel().tolist(), fill=colors[c % len(colors)], width=pen, joint=joint)
    return np.asarray(canvas.reduce(s))


@dataclass(frozen=True, kw_only=True)
class LinePlotParams(TimeSeriesParams):
    """``lineplot``."""

    line_width: float = param(2.0, Float(0, 32, low_open=True), "Line width in pixels.")
    share_y: bool = param(True, Bool(), "With multivariate='stack': one y axis for every channel.")


class LinePlot(TimeSeriesConverter[LinePlotParams]):
    """A series drawn as an antialiased line on white.

    With ``multivariate="stack"`` the channels are coloured lines on one
    plot (up to ten colours); with ``"tile"``, a grid of plots; ``"auto"``
    (the default) stacks up to three channels and tiles more, as the field
    converters do (before 2026-12-02 the default stacked any number; the
    defaults suite's BasicMotions rows, 1.000, were trained on tiles).

    Examples
    --------
    >>> LinePlot(image_size=64).convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "lineplot"
    params_class: ClassVar[type[ConverterParams] | None] = LinePlotParams

    def _steps(self, attribution: np.ndarray, n: int, params: LinePlotParams) -> np.ndarray:
        """x is time: each column's score goes to the two steps around it (y is the value, summed out)."""
        return lineplot_steps(attribution, n, _SUPERSAMPLE)

    def _render(self, X: np.ndarray, params: LinePlotParams) -> np.ndarray:
        size, width = params.image_size, params.line_width
        n, n_channels, _ = X.shape
        if self.layout(n_channels) == "stack":
            return np.stack([draw_lines(x, size, line_width=width, share_y=params.share_y) for x in X])

        def tile(c: int, tile_size: tuple[int, int]) -> np.ndarray:
            return np.stack([draw_lines(x[c : c + 1], tile_size, line_width=width) for x in X])

        return tile_images(n_channels, size, n, tile, background=255)
