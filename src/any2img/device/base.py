"""What every device converter shares: the numpy converter it mirrors, batching by shape.

A :class:`DeviceConverter` wraps the numpy converter of the same name and
parameters (it checks the parameters, reads files and cuts windows exactly
as that converter does) and computes the pictures of a batch of raw windows
with torch, on whatever device the batch tensor lives on (CUDA when present,
else the CPU). Pictures are ``(N, 3, H, W)`` ``torch.uint8``, the numpy
converter's ``(H, W, 3)`` images in channels-first order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from any2img.converter import Converter

__all__ = ["CHUNK", "DeviceConverter"]

#: Windows of one shape computed together by :meth:`DeviceConverter.convert_batch`.
CHUNK = 256


class DeviceConverter:
    """Base class: a numpy converter's pictures computed with torch.

    Parameters
    ----------
    converter : Converter
        The numpy converter whose output this one reproduces (same name and
        parameters); its parameters are checked here, once.

    Attributes
    ----------
    converter : Converter
    params : ConverterParams
        The checked parameters (``converter.checked_params()``), a frozen object.
    """

    #: Converter names this class implements (the registry's entries point here).
    names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self.params: Any = converter.checked_params()

    @property
    def name(self) -> str:
        """The converter's registry name."""
        return str(self.converter.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.converter!r})"

    # -- raw windows ----------------------------------------------------------
    def raw(self, window: Any) -> np.ndarray:
        """The window's samples as the numpy converter sees them before drawing (checked, float)."""
        raise NotImplementedError

    # -- converting -------------------------------------------------------------
    def convert_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Pictures ``(N, 3, H, W)`` uint8 of a batch of equal-shape raw windows, on ``x``'s device."""
        raise NotImplementedError

    def convert_batch(self, windows: Sequence[Any], device: str | torch.device = "cpu") -> list[torch.Tensor]:
        """Pictures ``(3, H, W)`` uint8 of many windows; those of equal shape are computed together."""
        return self.convert_raw([self.raw(w) for w in windows], device)

    def convert_raw(self, arrays: Sequence[np.ndarray], device: str | torch.device = "cpu") -> list[torch.Tensor]:
        """As :meth:`convert_batch`, for windows already prepared by :meth:`raw` (as the training loaders hold)."""
        out: list[torch.Tensor] = [torch.empty(0, dtype=torch.uint8)] * len(arrays)
        for members in _by_shape(arrays).values():
            for start in range(0, len(members), CHUNK):  # bounded memory for the float fields
                chunk = members[start : start + CHUNK]
                batch = torch.from_numpy(np.stack([arrays[i] for i in chunk])).to(device)
                for i, picture in zip(chunk, self.convert_tensor(batch)):
                    out[i] = picture
        return out

    def convert(self, window: Any, device: str | torch.device = "cpu") -> np.ndarray:
        """One window's picture as the numpy converter returns it: ``(H, W, 3)`` uint8 numpy."""
        return self.convert_batch([window], device)[0].permute(1, 2, 0).cpu().numpy()


def _by_shape(arrays: Sequence[np.ndarray]) -> dict[tuple[int, ...], list[int]]:
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(tuple(a.shape), []).append(i)
    return groups
