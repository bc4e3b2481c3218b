"""Numpy/Pillow helpers that turn 2-D fields into RGB images.

Shared by every converter family (no torch here). A *field* is a 2-D float
array (a spectrogram, a Gramian field, a recurrence matrix); these helpers
resize it, scale it to [0, 1] with known bounds, and colour it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from any2img.errors import ParameterError

__all__ = [
    "colormap_names", "field_to_rgb", "fields_to_rgb", "level_codes", "paint_levels", "resize_field", "scale_unit",
]

#: Colour map names that need no matplotlib.
_GREY = ("grey", "gray")


def resize_field(field: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize a 2-D float field to ``size = (height, width)``; ``None`` keeps it.

    Uses Pillow's bilinear filter on a 32-bit float image, which averages when
    shrinking (antialiased) and interpolates when growing.
    """
    field = np.asarray(field, dtype=np.float32)
    if size is None or field.shape == tuple(size):
        return field
    h, w = size
    img = Image.fromarray(np.ascontiguousarray(field), mode="F")
    return np.asarray(img.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def scale_unit(field: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map ``[low, high]`` linearly onto ``[0, 1]`` and clip."""
    if not high > low:
        return np.zeros_like(field, dtype=np.float32)
    return np.clip((np.asarray(field, dtype=np.float32) - low) / (high - low), 0.0, 1.0)


@lru_cache(maxsize=64)
def _lut(cmap: str) -> np.ndarray:
    if cmap in _GREY:
        ramp = np.arange(256, dtype=np.uint8)
        return np.stack([ramp, ramp, ramp], axis=1)
    try:
        from matplotlib import colormaps
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise ParameterError(f"'cmap' {cmap!r} needs matplotlib; use 'grey' or install matplotlib.") from exc
    if cmap not in colormaps:
        raise ParameterError(
            f"'cmap' must be 'grey' or a matplotlib colour map name such as 'viridis', 'magma' "
            f"(got {cmap!r})."
        )
    table = colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]
    return np.round(table * 255).astype(np.uint8)


def colormap_names() -> list[str]:
    """Return the colour map names accepted by ``cmap`` parameters."""
    try:
        from matplotlib import colormaps
    except ImportError:  # pragma: no cover
        return list(_GREY)
    return [*_GREY, *sorted(colormaps)]


def check_cmap(cmap: object) -> str:
    """Return ``cmap`` if it names a usable colour map, else raise."""
    if not isinstance(cmap, str):
        raise ParameterError(f"'cmap' must be a colour map name such as 'grey' or 'viridis' (got {cmap!r}).")
    _lut(cmap)
    return cmap


#: Added to a float in [0, 255], this constant leaves that float rounded half to even in the low byte of
#: its bit pattern: the sum lies in [2**p, 2**(p + 1)) (p mantissa bits), where the spacing is exactly 1.
_ROUNDERS: dict[np.dtype, tuple[np.floating, type[np.signedinteger]]] = {
    np.dtype(np.float32): (np.float32(1.5 * 2**23), np.int32),
    np.dtype(np.float64): (np.float64(1.5 * 2**52), np.int64),
}


def level_codes(scaled: np.ndarray) -> np.ndarray:
    """Round a float32 or float64 array already clipped to [0, 255], in place; return the levels.

    The result is an integer view of ``scaled`` whose low byte is
    ``rint(scaled)`` (half to even), ready for :func:`paint_levels`: one
    addition instead of ``rint`` and a cast.

    Examples
    --------
    >>> level_codes(np.array([0.5, 1.5, 254.5, 255.0], np.float32)).astype(np.uint8)
    array([  0,   2, 254, 255], dtype=uint8)
    """
    rounder, integer = _ROUNDERS[scaled.dtype]
    scaled += rounder
    return scaled.view(integer)


def paint_levels(out: np.ndarray, levels: np.ndarray, cmap: str = "grey") -> np.ndarray:
    """Write levels into ``out[..., :3]`` (uint8) through ``cmap``, channel by channel; return ``out``.

    ``levels`` is uint8, or the integer codes of :func:`level_codes` (their
    low byte is the level).
    """
    if cmap in _GREY:
        for c in range(3):
            out[..., c] = levels
        return out
    if levels.dtype != np.uint8:
        levels = levels.astype(np.uint8)
    table = _lut(cmap)
    for c in range(3):
        out[..., c] = np.take(table[:, c], levels)
    return out


def _levels(unit: np.ndarray) -> np.ndarray:
    """``round(clip(unit, 0, 1) * 255)`` on one float copy (round half to even): uint8 or :func:`level_codes`."""
    levels = np.clip(unit, 0.0, 1.0)
    if not np.issubdtype(levels.dtype, np.floating):
        levels = levels.astype(np.float64)
    levels *= 255
    if levels.dtype in _ROUNDERS:
        return level_codes(levels)
    np.rint(levels, out=levels)
    return levels.astype(np.uint8)


def field_to_rgb(unit: np.ndarray, cmap: str = "grey") -> np.ndarray:
    """Colour a field already scaled to [0, 1]; return ``(H, W, 3)`` uint8.

    ``unit`` may also be a stack ``(N, H, W)``, giving ``(N, H, W, 3)``.

    The levels are written channel by channel (a copy for ``"grey"``, a
    256-entry ``take`` per channel for a colour map): a fancy-indexed
    ``table[levels]`` gather was most of the time of a Gramian batch at
    128 px (``benchmarks/SPEED.md``).
    """
    idx = _levels(unit)
    return paint_levels(np.empty(idx.shape + (3,), dtype=np.uint8), idx, cmap)


def fields_to_rgb(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """Stack three fields scaled to [0, 1] as the R, G, B channels."""
    first = _levels(red)
    out = np.empty(first.shape + (3,), dtype=np.uint8)
    out[..., 0] = first
    out[..., 1] = _levels(green)
    out[..., 2] = _levels(blue)
    return out
