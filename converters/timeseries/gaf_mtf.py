"""Three fields as one picture: ``gaf_mtf`` (GASF as red, GADF as green, MTF as blue).

The three complementary views of Wang & Oates (2015) in one RGB image, so a
pretrained image model sees them together: the summation field (absolute
levels), the difference field (direction of change) and the Markov
transition field (dynamics). Each is computed as in its own converter
(:mod:`.gaf`, :mod:`.mtf`), with fixed value bounds.

The colours are taken, so a multivariate series is tiled (one RGB tile
per channel: what the default ``multivariate="auto"`` does here);
``"stack"`` takes one channel only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from any2img.converters.timeseries.base import FieldConverter, TimeSeriesParams
from any2img.converters.timeseries.gaf import gramian_fields, sample_range_param
from any2img.converters.timeseries.mtf import markov_transition_fields, n_bins_param, strategy_param

from any2img.parameters import ConverterParams

__all__ = ["GAFMTF", "GAFMTFParams"]


@dataclass(frozen=True, kw_only=True)
class GAFMTFParams(TimeSeriesParams):
    """``gaf_mtf``: the Gramian fields' ``sample_range`` and the transition field's states."""

    sample_range: tuple[float, float] | None = sample_range_param()
    n_bins: int = n_bins_param()
    strategy: str = strategy_param()


class GAFMTF(FieldConverter[GAFMTFParams]):
    """GASF, GADF and MTF of a series as the R, G and B channels of one picture.

    ``multivariate="stack"`` takes univariate series only; ``"tile"`` (and
    ``"auto"``, the default) gives one RGB tile per channel.

    Examples
    --------
    >>> GAFMTF(image_size=64).convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "gaf_mtf"
    planes: ClassVar[int] = 3
    #: The colours are the three fields, so ``multivariate="auto"`` tiles every multivariate series.
    stackable_channels: ClassVar[int] = 1
    params_class: ClassVar[type[ConverterParams] | None] = GAFMTFParams

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: GAFMTFParams) -> np.ndarray:
        gasf = gramian_fields(X, size, "summation", params.sample_range)
        gadf = gramian_fields(X, size, "difference", params.sample_range)
        mtf = markov_transition_fields(X, size, params.n_bins, params.strategy)
        return np.stack([(gasf + 1.0) / 2.0, (gadf + 1.0) / 2.0, np.clip(mtf, 0.0, 1.0)], axis=-1).astype(np.float32)
