"""The any2img representation benchmarks, shipped with the package.

``any2img bench --suite quick`` (or ``python -m any2img.bench``) converts
each data set with each representation (cached, see
:mod:`any2img.bench.locations`), fine-tunes the pretrained and the
from-scratch backbone on fixed splits over several seeds, measures a strong
non-image baseline per modality on the very same splits, and writes
``<results>/<suite>.csv``, ``RESULTS.md`` and plots. ``pip install
'any2img[bench]'`` brings every package the suites use.

Modules: :mod:`~any2img.bench.suites` (what a run covers),
:mod:`~any2img.bench.datasets` (the data sets and their fixed splits),
:mod:`~any2img.bench.runner` (convert, train, evaluate, record),
:mod:`~any2img.bench.baselines` (the non-image models, imported lazily),
:mod:`~any2img.bench.report` (``RESULTS.md`` and plots),
:mod:`~any2img.bench.machine`, :mod:`~any2img.bench.requirements`,
:mod:`~any2img.bench.locations` and :mod:`~any2img.bench.options`.
Importing this package imports none of them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m any2img.bench") -> int:
    """Run the benchmarks from command-line arguments (see :func:`any2img.bench.runner.main`)."""
    from any2img.bench.runner import main as run_main

    return run_main(argv, prog=prog)
