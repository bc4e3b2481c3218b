"""A tiny converter used by the registry, batch and CLI tests.

It reads ``.txt`` files holding whitespace-separated numbers; a file starting
with ``BAD`` is unreadable, and a series holding a negative number fails at
conversion time. The image is the series drawn as grey levels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from any2img.converter import Converter, Window, unwrap
from any2img.errors import InputError
from any2img.validation import check_int


class ToyConverter(Converter):
    """Numbers as a grey strip (tests only)."""

    name: ClassVar[str] = "toy"
    kind: ClassVar[str] = "timeseries"
    extensions: ClassVar[tuple[str, ...]] = (".txt",)

    def __init__(self, *, height: int = 4, window: int | None = None) -> None:
        self.height = height
        self.window = window

    def _check_params(self) -> dict[str, Any]:
        return {
            "height": check_int("height", self.height, low=1),
            "window": None if self.window is None else check_int("window", self.window, low=1),
        }

    def read(self, path: str | Path) -> np.ndarray:
        text = Path(path).read_text()
        if text.startswith("BAD"):
            raise InputError("the file is marked BAD", path=path)
        return np.array([float(v) for v in text.split()])

    def segment(self, signal: Any) -> list[Window]:
        size = self._check_params()["window"]
        if size is None:
            return super().segment(signal)
        return [
            Window(signal[i : i + size], k, float(i), float(i + size), "timestamps")
            for k, i in enumerate(range(0, len(signal) - size + 1, size))
        ]

    def convert(self, window: Any) -> np.ndarray:
        height = self._check_params()["height"]
        series = np.asarray(unwrap(window), dtype=float)
        if (series < 0).any():
            raise InputError("values must be >= 0")
        row = np.clip(series, 0, 255).astype(np.uint8)
        return np.repeat(np.repeat(row[None, :, None], height, axis=0), 3, axis=2)
