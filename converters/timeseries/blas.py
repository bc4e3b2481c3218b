"""One BLAS thread for the small matrix products of the time-series converters.

The products of a conversion are small (a few hundred by a few hundred); held
to one thread, conversions running side by side do not fight over the cores.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """The process's BLAS libraries, found once (``threadpool_limits`` would scan them at every call: ~1 ms)."""
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context manager holding BLAS to one thread.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.ones(2) @ np.ones(2))
    2.0
    """
    return _controller().limit(limits=1, user_api="blas")
