"""The ``image`` converter: pictures that already are pictures.

It reads PNG/JPEG/BMP/TIFF/WebP files (or takes arrays) and returns them as
RGB uint8, optionally resized. It lets the same pipeline (batch conversion,
prediction from a file) serve plain image folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
from PIL import Image, UnidentifiedImageError

from any2img.converter import Converter, unwrap
from any2img.errors import InputError
from any2img.parameters import ConverterParams, Optional, Size, param

__all__ = ["ImageFile", "ImageParams"]


@dataclass(frozen=True, kw_only=True)
class ImageParams(ConverterParams):
    """``image``."""

    image_size: tuple[int, int] | None = param(None, Optional(Size()), "Output size; None keeps the picture's own.")


class ImageFile(Converter):
    """Read an image file as RGB, optionally resized.

    Examples
    --------
    >>> ImageFile(image_size=32).convert(np.zeros((10, 20), dtype=np.uint8)).shape
    (32, 32, 3)
    """

    name: ClassVar[str] = "image"
    kind: ClassVar[str] = "image"
    extensions: ClassVar[tuple[str, ...]] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")

    params_class: ClassVar[type[ConverterParams] | None] = ImageParams

    @classmethod
    def example_signal(cls, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Return a small random RGB picture."""
        rng = np.random.default_rng(rng)
        return rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)

    def read(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Read ``path`` as an ``(H, W, 3)`` uint8 array."""
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"))
        except FileNotFoundError as exc:
            raise InputError("no such file", path=path) from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"not a readable image ({exc})", path=path) from exc

    def convert(self, window: Any) -> np.ndarray:
        """Return the picture as ``(H, W, 3)`` uint8 at ``image_size``."""
        size = cast(ImageParams, self.checked_params()).image_size
        try:
            array = np.asarray(unwrap(window))
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise InputError(f"an image must be a rectangular array of numbers ({exc}).") from exc
        if array.dtype.kind not in "biuf":
            raise InputError(f"an image must be an array of real numbers (got dtype {array.dtype}).")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
            raise InputError(f"an image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) (got {array.shape}).")
        if array.size == 0:
            raise InputError(f"an image must not be empty (got shape {array.shape}).")
        if array.dtype != np.uint8:
            if array.dtype == bool:
                array = array.astype(np.uint8) * 255
            elif not np.isfinite(array).all():
                raise InputError("an image must not contain NaN or infinite values.")
            if np.issubdtype(array.dtype, np.floating) and array.max() <= 1.0 and array.min() >= 0.0:
                array = array * 255.0
            array = np.clip(np.round(array), 0, 255).astype(np.uint8)
        img = Image.fromarray(array).convert("RGB")
        if size is not None and img.size != (size[1], size[0]):
            img = img.resize((size[1], size[0]), Image.Resampling.BICUBIC)
        return np.asarray(img)
