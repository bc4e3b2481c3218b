"""Signal-domain augmentation of a series: window slicing, time shift, amplitude scaling, jitter.

Done on the series before it is drawn, because pixel flips and crops lie
for a Gramian field (a flipped field is the field of no series). The four
operations are those of Le Guennec et al. (2016, window slicing) and Um et
al. (2017, jitter, scaling): the label of a series survives each at these
strengths.
"""

from __future__ import annotations

import numpy as np

from any2img.parameters import Float, Rule

__all__ = ["OPTION_RULES", "augment_series"]

#: The rule of each option of :func:`augment_series` (``Learner(augment_options=...)`` is checked against them).
OPTION_RULES: dict[str, Rule] = {
    "slice_fraction": Float(0, 1, low_open=True), "shift": Float(0, 1),
    "scale": Float(0, 1, high_open=True), "jitter": Float(0)}


def augment_series(x: np.ndarray, rng: np.random.Generator, *, slice_fraction: float = 0.9,
                   shift: float = 0.05, scale: float = 0.1, jitter: float = 0.03) -> np.ndarray:
    """A randomly perturbed copy of a series ``(n_steps,)`` or ``(n_channels, n_steps)``.

    Parameters
    ----------
    x : ndarray
    rng : numpy.random.Generator
    slice_fraction : float, default=0.9
        A random contiguous slice of this share of the steps, stretched back
        to the full length (linear interpolation).
    shift : float, default=0.05
        Time shift by up to this share of the length, edges repeated.
    scale : float, default=0.1
        Amplitude multiplied by a factor in ``[1 - scale, 1 + scale]`` (per channel).
    jitter : float, default=0.03
        Gaussian noise with this share of the series' standard deviation.

    Returns
    -------
    ndarray of the same shape, float64
    """
    x = np.asarray(x, dtype=np.float64)
    rows = x.reshape(-1, x.shape[-1])
    n_steps = rows.shape[1]
    if n_steps < 4:
        return x.copy()
    keep = max(2, int(round(slice_fraction * n_steps)))
    start = int(rng.integers(0, n_steps - keep + 1))
    grid = np.linspace(start, start + keep - 1, n_steps)
    steps = np.arange(n_steps)
    out = np.stack([np.interp(grid, steps, r) for r in rows])
    k = int(rng.integers(-int(shift * n_steps), int(shift * n_steps) + 1))
    if k:
        idx = np.clip(steps - k, 0, n_steps - 1)
        out = out[:, idx]
    out = out * rng.uniform(1 - scale, 1 + scale, size=(out.shape[0], 1))
    spread = np.nanstd(out, axis=1, keepdims=True)
    out = out + rng.normal(0.0, 1.0, size=out.shape) * jitter * np.where(np.isfinite(spread), spread, 0.0)
    return out.reshape(x.shape)
