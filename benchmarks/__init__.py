"""The any2img benchmarks in a checkout of the repository.

The benchmark code ships with the package as :mod:`any2img.bench` (``any2img
bench`` runs it anywhere). This folder keeps what belongs to the repository:
the recorded ``results/``, ``RESULTS.md`` and the other reports, the cache
``cache/`` (git-ignored), and the studies that run only here (``speed``,
``refit``, ``faithfulness``, ...). ``python -m benchmarks`` is
``any2img bench`` with this checkout's folders as defaults: importing this
package makes ``benchmarks/cache`` (unless ``$ANY2IMG_BENCH_CACHE`` says
otherwise), ``benchmarks/results`` with ``benchmarks/RESULTS.md``, and
``../shared/datasets`` the defaults of :mod:`any2img.bench.locations`.
"""

from __future__ import annotations

__all__ = ["BENCH_ROOT", "CACHE_DIR", "DATA_DIR", "RESULTS_DIR"]

from pathlib import Path

from any2img.bench.locations import cache_dir, use_checkout

#: The folder of this package (``<repo>/benchmarks``).
BENCH_ROOT = Path(__file__).resolve().parent
#: The recorded results of the repository.
RESULTS_DIR = BENCH_ROOT / "results"
#: The shared data sets beside the checkout (``$ANY2IMG_BENCH_DATA`` still wins).
DATA_DIR = BENCH_ROOT.parent.parent / "shared" / "datasets"

use_checkout(cache=BENCH_ROOT / "cache", results=RESULTS_DIR, results_md=BENCH_ROOT / "RESULTS.md", data=DATA_DIR)

#: The cache: ``$ANY2IMG_BENCH_CACHE``, else ``benchmarks/cache``.
CACHE_DIR = cache_dir()
