"""The any2img representation benchmarks (run from a checkout of the repository).

``python -m benchmarks --suite quick`` or ``any2img bench --suite quick``
converts each data set with each representation (cached under
``benchmarks/cache/``), fine-tunes the pretrained and the from-scratch
backbone on fixed splits over several seeds, measures a strong non-image
baseline per modality on the very same splits, and writes
``benchmarks/results/<suite>.csv``, ``benchmarks/RESULTS.md`` and plots.

This package is not part of the any2img wheel.
"""

from __future__ import annotations

__all__ = ["BENCH_ROOT"]

from pathlib import Path

#: The folder of this package (``<repo>/benchmarks``).
BENCH_ROOT = Path(__file__).resolve().parent
