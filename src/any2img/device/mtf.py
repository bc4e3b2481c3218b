"""Markov transition fields on the device: ``mtf``.

The maths of :mod:`any2img.converters.timeseries.mtf`: states by quantile,
uniform or standard-normal bins (in float64, so a value on a bin edge lands
in the same bin as in numpy), the transition matrix counted at the series'
own resolution, and the field ``(R_h E) W (R_w E)^T`` resampled to the
image, in float32.

Tolerance (tested on GunPoint at 64 and 128 px, each strategy): every pixel
within 1 grey level of the numpy picture, at least 99 % equal.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from any2img.device.common import quantile_rows, resample
from any2img.device.series import DeviceFieldConverter

__all__ = ["DeviceMTF", "bin_series", "markov_transition_fields"]


def bin_series(x: torch.Tensor, n_bins: int, strategy: str) -> torch.Tensor:
    """States ``(M, T)`` int64 in [0, n_bins) of series ``(M, T)``, as the numpy ``bin_series``.

    Examples
    --------
    >>> bin_series(torch.tensor([[0.0, 1.0, 2.0, 3.0]]), 2, "uniform")
    tensor([[0, 0, 1, 1]])
    """
    x = x.double()
    n = x.shape[0]
    inner = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64, device=x.device)[1:-1]
    keep = None
    if strategy == "normal":
        edges = torch.special.ndtri(inner).expand(n, n_bins - 1)
    elif strategy == "uniform":
        low, high = x.amin(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)
        edges = low + (high - low) * inner[None, :]
    else:
        edges = quantile_rows(x, inner).T
        if n_bins > 2:  # merge equal quantiles, keeping the last of each run (as pyts)
            ones = torch.ones((n, 1), dtype=torch.bool, device=x.device)
            keep = torch.cat([torch.diff(edges, dim=1).abs() > 1e-8, ones], dim=1)
    below = x[:, :, None] > edges[:, None, :]
    if keep is not None:
        below &= keep[:, None, :]
    return below.sum(dim=2)


def markov_transition_fields(x: torch.Tensor, size: tuple[int, int], n_bins: int = 8,
                             strategy: str = "quantile") -> torch.Tensor:
    """Markov transition fields ``(M, h, w)`` in [0, 1] of series ``(M, T)`` (float32)."""
    n, n_timestamps = x.shape
    states = bin_series(x, n_bins, strategy)
    series = torch.arange(n, device=x.device)[:, None]
    flat = (series * n_bins + states[:, :-1]) * n_bins + states[:, 1:]
    counts = torch.bincount(flat.reshape(-1), minlength=n * n_bins * n_bins).reshape(n, n_bins, n_bins).float()
    totals = counts.sum(dim=2, keepdim=True)
    transition = counts / torch.where(totals == 0, torch.ones_like(totals), totals)
    onehot = torch.zeros((n, n_bins, n_timestamps), dtype=torch.float32, device=x.device)
    onehot.scatter_(1, states[:, None, :], 1.0)
    height, width = size
    rows = resample(onehot, height)
    cols = rows if height == width else resample(onehot, width)
    return torch.bmm(torch.bmm(rows.transpose(1, 2), transition), cols)


class DeviceMTF(DeviceFieldConverter):
    """MTF with torch (see the module docstring)."""

    names: ClassVar[tuple[str, ...]] = ("mtf",)

    def fields(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Fields in [0, 1]."""
        fields = markov_transition_fields(x, size, self.params.n_bins, self.params.strategy)
        return torch.clamp(fields, 0.0, 1.0)
