"""Recurrence plots on the device: ``recurrence``.

The maths of :mod:`any2img.converters.timeseries.recurrence`: row and column
series resampled to ``size + (d - 1) tau`` timestamps, trajectories, their
Euclidean distances, then either the distances scaled by each image's
largest one or a binary plot (a number, ``"point"``: a percentile of the
image's distances, ``"distance"``: a share of the largest). Distances are
float32 without a threshold; with one they are float64, so that the strict
``distance < cut`` comparisons fall as in numpy.

Tolerance (tested on GunPoint at 64 and 128 px): without a threshold every
pixel within 1 grey level of the numpy picture, at least 99 % equal; binary
plots at least 99.9 % equal (a distance tied with the cut to float64
rounding may flip).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from any2img.device.common import quantile_rows, resample
from any2img.device.series import DeviceFieldConverter

__all__ = ["DeviceRecurrence", "recurrence_fields"]


def _trajectories(x: torch.Tensor, count: int, dimension: int, time_delay: int) -> torch.Tensor:
    return torch.stack([x[:, k * time_delay : k * time_delay + count] for k in range(dimension)], dim=2)


def recurrence_fields(x: torch.Tensor, size: tuple[int, int], dimension: int = 1, time_delay: int = 1,
                      threshold: float | str | None = None, percentage: float = 10.0) -> torch.Tensor:
    """Recurrence plots ``(M, h, w)`` of series ``(M, T)``: distances, or 0/1 recurrences.

    Examples
    --------
    >>> recurrence_fields(torch.tensor([[0.0, 1.0, 3.0]]), (3, 3))[0]
    tensor([[0., 1., 3.],
            [1., 0., 2.],
            [3., 2., 0.]])
    """
    x = x.float() if threshold is None else x.double()
    height, width = size
    span = (dimension - 1) * time_delay
    rows = _trajectories(resample(x, height + span), height, dimension, time_delay)
    cols = rows if height == width else _trajectories(resample(x, width + span), width, dimension, time_delay)
    if dimension == 1:
        dist = (rows[:, :, None, 0] - cols[:, None, :, 0]).abs()
    else:
        squared = torch.zeros((x.shape[0], height, width), dtype=x.dtype, device=x.device)
        for k in range(dimension):
            squared += (rows[:, :, None, k] - cols[:, None, :, k]) ** 2
        dist = torch.sqrt(squared)
    if threshold is None:
        return dist
    if threshold == "point":
        cut = quantile_rows(dist.reshape(len(dist), -1), percentage / 100.0)
    elif threshold == "distance":
        cut = percentage / 100.0 * dist.amax(dim=(1, 2))
    else:
        cut = torch.full((len(dist),), float(threshold), dtype=dist.dtype, device=dist.device)
    return (dist < cut[:, None, None]).to(dist.dtype)


class DeviceRecurrence(DeviceFieldConverter):
    """Recurrence plots with torch (see the module docstring)."""

    names: ClassVar[tuple[str, ...]] = ("recurrence",)

    def fields(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Fields in [0, 1]."""
        p = self.params
        fields = recurrence_fields(x, size, p.dimension, p.time_delay, p.threshold, p.percentage)
        if p.threshold is None:
            top = fields.amax(dim=(1, 2), keepdim=True)
            fields = fields / torch.where(top > 0, top, torch.ones_like(top))
        return fields.float()
