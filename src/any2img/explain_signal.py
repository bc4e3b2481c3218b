"""Occlusion in the signal's own domain: what the model loses when a stretch of the raw input is removed.

:func:`signal_occlusion` asks the window's converter for its removable parts
(``Converter.parts``, :mod:`any2img.removal`: time steps of a series, frames
of a recording, events of a mouse path), slides a span of parts over the
window, removes each span from the *raw* input (steps interpolated over,
frames silenced, events dropped), draws the rest again with the model's
converter, and scores the drop of the explained class's probability. A
part's relevance is the mean drop over the spans that cover it. No picture
is mapped back: the scores are in the signal's coordinates from the start.

The spans follow the window's length ``n`` (in parts):

* span = ``ceil(n / PIECES)`` parts (:data:`PIECES` = 15), at least 1;
* stride = ``ceil(span / 2)`` (half-overlapping spans), at least 1;
* the spans start at 0, stride, 2 stride, ... and a last one ends at ``n``,
  so every part is covered, by one or two spans (three where the last span
  is squeezed in).

So a window costs about 2 x :data:`PIECES` = 30 conversions and forward
passes whatever its length (150 steps of GunPoint: span 10, stride 5, 29
spans), batched through the model ``predictor.batch_size`` at a time. A
negative relevance means removing the part *raised* the probability.

Like :mod:`any2img.explain`, this joins converters and the model; the
forward passes are :meth:`any2img.predict.Predictor.predict_images`: the
plain pictures, not the mean over a model's test-time passes (which would
cost ``tta + 1`` times the passes and blur each span's drop with the
perturbations' own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from any2img.converter import Converter
from any2img.errors import ParameterError
from any2img.relevance import Relevance
from any2img.removal import SignalParts

if TYPE_CHECKING:
    from any2img.predict import Predictor

__all__ = ["PIECES", "SignalOcclusion", "occlusion_spans", "signal_occlusion"]

#: A window's length is cut into spans of about ``1 / PIECES`` of it (see the module docstring).
PIECES = 15


def occlusion_spans(n: int, span: int | None = None, stride: int | None = None) -> list[tuple[int, int]]:
    """The ``(start, stop)`` spans of parts removed one at a time from a window of ``n`` parts.

    Parameters
    ----------
    n : int
        Parts of the window (>= 1).
    span, stride : int, optional
        Parts per span and between span starts; default ``ceil(n / PIECES)``
        and ``ceil(span / 2)``.

    Examples
    --------
    >>> occlusion_spans(150)[:3], len(occlusion_spans(150)), occlusion_spans(150)[-1]
    ([(0, 10), (5, 15), (10, 20)], 29, (140, 150))
    >>> occlusion_spans(7, 3, 3)
    [(0, 3), (3, 6), (4, 7)]
    """
    if n < 1:
        raise ParameterError(f"a window must have at least one part to remove (got {n}).")
    size = max(1, math.ceil(n / PIECES)) if span is None else int(span)
    step = max(1, math.ceil(size / 2)) if stride is None else int(stride)
    if size < 1 or step < 1:
        raise ParameterError(f"'span' and 'stride' must be ints >= 1 (got {span!r}, {stride!r}).")
    size = min(size, n)
    starts = list(range(0, n - size + 1, step))
    if starts[-1] + size < n:
        starts.append(n - size)
    return [(a, a + size) for a in starts]


@dataclass
class SignalOcclusion:
    """The result of :func:`signal_occlusion` for one window.

    Attributes
    ----------
    values : ndarray of shape (n_parts,)
        Mean drop of ``p(target)`` over the spans covering each part.
    relevance : Relevance
        ``values`` in the signal's coordinates (the family's container).
    parts : SignalParts
        The window's parts (``parts.remove`` removes any of them).
    spans : list of (int, int)
        The spans removed, in parts.
    drops : ndarray of shape (n_spans,)
        The drop of ``p(target)`` when each span was removed.
    probability : float
        ``p(target)`` of the whole window.
    """

    values: np.ndarray
    relevance: Relevance
    parts: SignalParts
    spans: list[tuple[int, int]]
    drops: np.ndarray
    probability: float

    def describe(self) -> dict[str, Any]:
        """JSON-able: what a part is and the spans' size and stride."""
        sizes = {b - a for a, b in self.spans}
        stride = self.spans[1][0] - self.spans[0][0] if len(self.spans) > 1 else 0
        return {"unit": self.parts.unit, "n_parts": self.parts.n, "span": max(sizes), "stride": stride,
                "n_spans": len(self.spans)}


def signal_occlusion(predictor: Predictor, converter: Converter, window: Any, target: int, *,
                     span: int | None = None, stride: int | None = None,
                     probability: float | None = None) -> SignalOcclusion:
    """Relevance of each part of ``window``'s raw input for class ``target``, by removing spans of it.

    Parameters
    ----------
    predictor : Predictor
        Its :meth:`~any2img.predict.Predictor.predict_images` scores the pictures.
    converter : Converter
        The model's converter (its ``parts`` removes, its ``convert_batch`` draws).
    window : Window or its data
        One window of the input, as ``converter.segment`` gives.
    target : int
        Index of the class whose probability drop is scored.
    span, stride : int, optional
        See :func:`occlusion_spans` (default: rules of the window's length).
    probability : float, optional
        ``p(target)`` of the whole window, when known (saves one pass).

    Returns
    -------
    SignalOcclusion
    """
    parts = converter.parts(window)
    spans = occlusion_spans(parts.n, span, stride)
    masks = []
    for a, b in spans:
        mask = np.zeros(parts.n, dtype=bool)
        mask[a:b] = True
        masks.append(mask)
    if probability is None:
        probability = float(predictor.predict_images(converter.convert_batch([window]))[0, target])
    step = max(1, predictor.batch_size)
    scores = [predictor.predict_images(converter.convert_batch([parts.remove(m) for m in masks[lo : lo + step]]))
              for lo in range(0, len(masks), step)]
    drops = probability - np.concatenate(scores)[:, target].astype(np.float64)
    total, count = np.zeros(parts.n), np.zeros(parts.n)
    for (a, b), d in zip(spans, drops):
        total[a:b] += d
        count[a:b] += 1
    values = total / np.maximum(count, 1)
    return SignalOcclusion(values, parts.relevance(values), parts, spans, drops, probability)
