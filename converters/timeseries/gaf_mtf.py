"""Three fields as one picture: ``gaf_mtf`` (GASF as red, GADF as green, MTF as blue).

The three complementary views of Wang & Oates (2015) in one RGB image, so a
pretrained image model sees them together: the summation field (absolute
levels), the difference field (direction of change) and the Markov
transition field (dynamics). Each is computed as in its own converter
(:mod:`.gaf`, :mod:`.mtf`), with fixed value bounds.

The colours are taken, so a multivariate series must be tiled
(``multivariate="tile"``: one RGB tile per channel); ``"stack"`` takes one
channel only.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from any2img.converters.timeseries.base import FieldConverter
from any2img.converters.timeseries.gaf import check_sample_range, gramian_fields
from any2img.converters.timeseries.mtf import STRATEGIES, markov_transition_fields

from any2img.validation import check_choice, check_int

__all__ = ["GAFMTF"]


class GAFMTF(FieldConverter):
    """GASF, GADF and MTF of a series as the R, G and B channels of one picture.

    Parameters
    ----------
    image_size : int or (height, width), default=128
        Output size.
    sample_range : (low, high) or None, default=(-1, 1)
        Rescaling range of the Gramian fields (see :class:`.gaf.GASF`).
    n_bins : int, default=8
        Number of states of the Markov transition field, in [2, 256].
    strategy : {"quantile", "uniform", "normal"}, default="quantile"
        Binning of the Markov transition field.
    multivariate : {"stack", "tile"}, default="stack"
        ``"stack"`` takes univariate series only; ``"tile"`` gives one RGB
        tile per channel.
    nan_policy : {"raise", "interpolate"}, default="raise"
        What to do with missing values.
    label_column : "auto", str, int or None, default="auto"
        Label column of table files (see :func:`.io.read_table`).

    Examples
    --------
    >>> GAFMTF(image_size=64).convert(np.sin(np.linspace(0, 6, 150))).shape
    (64, 64, 3)
    """

    name: ClassVar[str] = "gaf_mtf"
    planes: ClassVar[int] = 3

    def __init__(
        self,
        *,
        image_size: int | tuple[int, int] = 128,
        sample_range: tuple[float, float] | None = (-1, 1),
        n_bins: int = 8,
        strategy: str = "quantile",
        multivariate: str = "stack",
        nan_policy: str = "raise",
        label_column: str | int | None = "auto",
    ) -> None:
        self.image_size = image_size
        self.sample_range = sample_range
        self.n_bins = n_bins
        self.strategy = strategy
        self.multivariate = multivariate
        self.nan_policy = nan_policy
        self.label_column = label_column

    def _check_params(self) -> dict[str, Any]:
        return {
            **self._common_params(),
            "sample_range": check_sample_range(self.sample_range),
            "n_bins": check_int("n_bins", self.n_bins, low=2, high=256),
            "strategy": check_choice("strategy", self.strategy, STRATEGIES),
        }

    def _fields(self, X: np.ndarray, size: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
        gasf = gramian_fields(X, size, "summation", params["sample_range"])
        gadf = gramian_fields(X, size, "difference", params["sample_range"])
        mtf = markov_transition_fields(X, size, params["n_bins"], params["strategy"])
        return np.stack([(gasf + 1.0) / 2.0, (gadf + 1.0) / 2.0, np.clip(mtf, 0.0, 1.0)], axis=-1).astype(np.float32)
