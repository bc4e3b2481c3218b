"""The time-series side of the device converters: raw series, channel layout, field colouring.

Mirrors :class:`any2img.converters.timeseries.base.FieldConverter`: one
channel is coloured with ``cmap``; stacked (``multivariate="stack"``, or
``"auto"`` for at most three) two or three channels become R, G (and B, or
the mean of R and G); tiled (``"tile"``, or ``"auto"`` for more) lays the
channels out on the same grid (:func:`~any2img.converters.timeseries.base.tile_layout`),
each tile computed at its own size.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from any2img.converters.timeseries.base import as_series, tile_layout
from any2img.device.base import DeviceConverter
from any2img.device.common import colour, rgb
from any2img.errors import InputError

__all__ = ["DeviceFieldConverter", "DeviceSeriesConverter"]


class DeviceSeriesConverter(DeviceConverter):
    """Base of the time-series device converters; raw windows are ``(n_channels, n_timestamps)`` float64."""

    #: Tiles of a tiled picture start on this (0 black; 255 white for line plots).
    background: ClassVar[int] = 0

    def raw(self, window: Any) -> np.ndarray:
        """The checked series ``(n_channels, n_timestamps)``, as the numpy converter reads it."""
        return as_series(window, self.params.nan_policy)

    def convert_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Pictures ``(N, 3, H, W)`` uint8 of series ``(N, C, T)`` (or ``(N, T)``: one channel)."""
        if x.ndim == 2:
            x = x.unsqueeze(1)
        n, n_channels, _ = x.shape
        size = self.params.image_size
        if self.converter.layout(n_channels) == "tile":  # type: ignore[attr-defined]
            height, width = size
            out = torch.full((n, 3, height, width), self.background, dtype=torch.uint8, device=x.device)
            for c, (top, left, h, w) in enumerate(tile_layout(n_channels, size)):
                out[:, :, top : top + h, left : left + w] = self._draw(x[:, c : c + 1], (h, w))
            return out
        return self._draw(x, size)

    def _draw(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        raise NotImplementedError


class DeviceFieldConverter(DeviceSeriesConverter):
    """A 2-D field per channel; subclasses implement :meth:`fields`."""

    def fields(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Fields ``(M, h, w)`` in [0, 1] of series ``(M, T)``."""
        raise NotImplementedError

    def _draw(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        n, n_channels, n_timestamps = x.shape
        if n_channels == 1:
            return colour(self.fields(x[:, 0], size), getattr(self.params, "cmap", "grey"))
        if n_channels > 3:
            raise InputError(
                f"multivariate='stack' takes at most 3 channels (as R, G, B) (got {n_channels}); "
                "use multivariate='tile'."
            )
        f = self.fields(x.reshape(n * n_channels, n_timestamps), size).reshape(n, n_channels, *size)
        red, green = f[:, 0], f[:, 1]
        blue = f[:, 2] if n_channels == 3 else (red + green) / 2
        return rgb(red, green, blue)
