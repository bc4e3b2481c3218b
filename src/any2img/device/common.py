"""Torch counterparts of the numpy helpers every device converter shares.

* :func:`resample` — :func:`any2img.converters.timeseries.resample.resample`
  (linear interpolation when stretching, area averaging when shrinking) on the
  last axis of a tensor;
* :func:`colour` — :func:`any2img.imaging.field_to_rgb`: a field in [0, 1]
  rounded to 256 levels and looked up in the colour map's table (the same
  table, built once per device);
* :func:`rgb` — :func:`any2img.imaging.fields_to_rgb`: three fields as R, G, B;
* :func:`resize_fields` — :func:`any2img.imaging.resize_field`: Pillow's
  bilinear filter on a float image, which torch's ``antialias=True``
  bilinear interpolation reproduces (it is a port of Pillow's resampling).

Pictures are ``(N, 3, H, W)`` ``torch.uint8`` tensors on the input's device.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["colour", "quantile_rows", "resample", "resize_fields", "rgb", "to_unit_levels"]

#: ``torch.quantile`` refuses inputs of more elements than this.
_QUANTILE_LIMIT = 2**24


def resample(x: torch.Tensor, m: int) -> torch.Tensor:
    """Resample the last axis of ``x`` to ``m`` timestamps, as the numpy ``resample``.

    Parameters
    ----------
    x : torch.Tensor of shape (..., n_timestamps), floating point
    m : int
        Output length, >= 1.

    Returns
    -------
    torch.Tensor of shape (..., m), same dtype and device

    Examples
    --------
    >>> resample(torch.tensor([0.0, 1.0, 2.0]), 5)
    tensor([0.0000, 0.5000, 1.0000, 1.5000, 2.0000])
    >>> resample(torch.arange(6.0), 3)
    tensor([0.5000, 2.5000, 4.5000])
    """
    n = x.shape[-1]
    if n == m:
        return x.clone()
    dev, dtype = x.device, x.dtype
    if m > n:  # linear interpolation, ends aligned
        pos = torch.linspace(0.0, n - 1.0, m, dtype=torch.float64, device=dev)
        left = torch.clamp(torch.floor(pos).long(), 0, n - 2)
        frac = (pos - left).to(dtype)
        return x[..., left] * (1.0 - frac) + x[..., left + 1] * frac
    first = x[..., :1]
    x = x - first
    edges = torch.arange(m + 1, dtype=torch.float64, device=dev) * (n / m)
    cell = torch.clamp(torch.floor(edges).long(), max=n - 1)
    frac = (edges - cell).to(dtype)
    zero = torch.zeros(x.shape[:-1] + (1,), dtype=dtype, device=dev)
    integral = torch.cat([zero, torch.cumsum(x, dim=-1)], dim=-1)
    at_edges = integral[..., cell] + frac * x[..., cell]
    return torch.diff(at_edges, dim=-1) * (m / n) + first


@lru_cache(maxsize=32)
def _table(cmap: str, device: str) -> torch.Tensor:
    from any2img.imaging import _lut

    return torch.from_numpy(np.ascontiguousarray(_lut(cmap))).to(device)  # (256, 3) uint8


def to_unit_levels(unit: torch.Tensor) -> torch.Tensor:
    """``round(clip(unit, 0, 1) * 255)`` as int64 levels (numpy rounds half to even, as torch does)."""
    return torch.round(torch.clamp(unit, 0.0, 1.0) * 255).long()


def colour(unit: torch.Tensor, cmap: str = "grey") -> torch.Tensor:
    """Colour fields ``(N, H, W)`` in [0, 1]; return ``(N, 3, H, W)`` uint8.

    Examples
    --------
    >>> colour(torch.tensor([[[0.0, 0.5, 1.0]]]))[0, :, 0]
    tensor([[  0, 128, 255],
            [  0, 128, 255],
            [  0, 128, 255]], dtype=torch.uint8)
    """
    levels = to_unit_levels(unit)
    if cmap in ("grey", "gray"):
        return levels.to(torch.uint8).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    table = _table(cmap, str(unit.device))
    return table[levels].permute(0, 3, 1, 2).contiguous()


def rgb(red: torch.Tensor, green: torch.Tensor, blue: torch.Tensor) -> torch.Tensor:
    """Three fields ``(N, H, W)`` in [0, 1] as the R, G, B channels: ``(N, 3, H, W)`` uint8."""
    return to_unit_levels(torch.stack([red, green, blue], dim=1)).to(torch.uint8)


def resize_fields(fields: torch.Tensor, size: tuple[int, int] | None) -> torch.Tensor:
    """Resize float fields ``(N, H, W)`` to ``size`` as Pillow's bilinear filter does; ``None`` keeps them."""
    if size is None or tuple(fields.shape[-2:]) == tuple(size):
        return fields
    out = F.interpolate(fields.unsqueeze(1).float(), size=tuple(size), mode="bilinear", align_corners=False,
                        antialias=True)
    return out[:, 0]


def quantile_rows(x: torch.Tensor, q: torch.Tensor | float) -> torch.Tensor:
    """``torch.quantile(x, q, dim=1)`` for ``x (M, K)``, in slices of rows small enough for torch.

    Examples
    --------
    >>> quantile_rows(torch.tensor([[0.0, 1.0, 2.0, 3.0]]), 0.5)
    tensor([1.5000])
    """
    rows = max(1, _QUANTILE_LIMIT // max(x.shape[1], 1))
    if x.shape[0] <= rows:
        return torch.quantile(x, q, dim=1)
    return torch.cat([torch.quantile(part, q, dim=1) for part in x.split(rows)], dim=-1)
