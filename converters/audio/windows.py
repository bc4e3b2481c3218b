"""Cutting an audio signal into the windows that become images.

``duration=None`` gives one window holding the whole clip. With a
``duration`` (seconds), windows start at ``0, hop, 2*hop, …`` (``hop``
defaults to ``duration``: no overlap) until one reaches the end of the clip.
A window that runs past the end is filled according to ``pad_mode``:

* ``"pad"`` — with zeros (silence) up to ``duration``;
* ``"loop"`` — by repeating the clip from its start;
* ``"crop"`` — not at all: a clip shorter than ``duration`` gives one
  shorter window, and the incomplete last window of a longer clip is dropped.

Each window records where it sits in the clip, in seconds: ``start`` is its
offset and ``stop`` the end of the real audio it covers (padding excluded).
With ``trim_silence`` the offsets still refer to the untrimmed clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PAD_MODES", "Span", "fill", "plan_spans", "trim_bounds"]

#: How a window that runs past the end of the clip is filled.
PAD_MODES = ("pad", "loop", "crop")


@dataclass(frozen=True)
class Span:
    """A window in samples: real audio ``[start, stop)``, image length ``length``."""

    start: int
    stop: int
    length: int


def plan_spans(n_samples: int, window: int | None, hop: int | None, pad_mode: str) -> list[Span]:
    """Return the windows of a clip of ``n_samples``, in samples.

    Parameters
    ----------
    n_samples : int
        Length of the clip, >= 1.
    window : int or None
        Window length in samples; ``None`` is the whole clip.
    hop : int or None
        Samples between window starts; ``None`` is ``window``.
    pad_mode : {"pad", "loop", "crop"}
        See the module docstring.

    Examples
    --------
    >>> [(s.start, s.stop, s.length) for s in plan_spans(10, 4, 3, "pad")]
    [(0, 4, 4), (3, 7, 4), (6, 10, 4)]
    >>> [(s.start, s.stop, s.length) for s in plan_spans(10, 4, 4, "crop")]
    [(0, 4, 4), (4, 8, 4)]
    """
    if window is None:
        return [Span(0, n_samples, n_samples)]
    step = window if hop is None else hop
    spans = []
    start = 0
    while start < n_samples:
        stop = min(start + window, n_samples)
        complete = start + window <= n_samples
        if complete or pad_mode != "crop":
            spans.append(Span(start, stop, window))
        elif start == 0:  # a short clip under "crop": the whole clip, shorter
            spans.append(Span(0, n_samples, n_samples))
        if start + window >= n_samples:
            break
        start += step
    return spans


def fill(samples: np.ndarray, span: Span, pad_mode: str) -> np.ndarray:
    """Return the samples of one window, ``(n_channels, span.length)``.

    ``samples`` is ``(n_channels, n_samples)``; the part past the end of the
    clip is zeros (``"pad"``) or the clip again from its start (``"loop"``).
    """
    piece = samples[:, span.start : span.stop]
    missing = span.length - piece.shape[1]
    if missing <= 0:
        return piece
    if pad_mode == "loop":
        n = samples.shape[1]
        idx = (span.stop + np.arange(missing)) % n
        return np.concatenate([piece, samples[:, idx]], axis=1)
    return np.pad(piece, ((0, 0), (0, missing)))


def trim_bounds(samples: np.ndarray, top_db: float, frame_length: int = 2048, hop_length: int = 512) -> tuple[int, int]:
    """Return ``(start, stop)`` of the clip without its leading and trailing silence.

    Silence is every frame quieter than ``top_db`` below the loudest frame
    (:func:`librosa.effects.trim`). A clip that is all silence keeps its
    full length.
    """
    import librosa

    mono = samples.mean(axis=0) if samples.shape[0] > 1 else samples[0]
    if not np.any(mono):
        return 0, samples.shape[1]
    _, (start, stop) = librosa.effects.trim(mono, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    if stop <= start:
        return 0, samples.shape[1]
    return int(start), int(stop)
