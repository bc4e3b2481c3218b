"""Writing series as files the time-series converters read: tables and UCR/UEA ``.ts``.

:func:`any2img.datasets.ucr.export_ucr` writes data sets with these. The
converters read the files back (``any2img convert`` or a converter's
``read_records``); a test checks that what is written reads back as the
same floats and labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from any2img.errors import InputError

__all__ = ["write_table", "write_ts"]


def _fmt(value: float) -> str:
    return repr(float(value))  # shortest text that reads back as the same float; NaN -> "nan"


def write_table(path: str | Path, X: np.ndarray, y: Sequence[Any] | None = None, *, delimiter: str = ",") -> Path:
    """Write univariate series as a table: header ``label,t0,t1,...``, one row each.

    Values are written with Python's shortest round-trip repr, so
    a converter reads back the same floats. NaN is written ``nan``.

    Parameters
    ----------
    path : path
        The file to write.
    X : array of shape (n_samples, n_timestamps)
        The series.
    y : sequence of length n_samples, optional
        Labels, written as the first column ``label``.
    delimiter : str, default=","
    """
    path = Path(path)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"write_table takes an array (n_samples, n_timestamps) (got shape {X.shape})", path=path)
    head = ([] if y is None else ["label"]) + [f"t{t}" for t in range(X.shape[1])]
    lines = [delimiter.join(head)]
    for i, row in enumerate(X):
        cells = [_fmt(v) for v in row.tolist()]
        if y is not None:
            cells.insert(0, str(y[i]))
        lines.append(delimiter.join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_ts(
    path: str | Path,
    X: Sequence[np.ndarray] | np.ndarray,
    y: Sequence[Any] | None = None,
    *,
    problem_name: str = "series",
) -> Path:
    """Write series in the UCR/UEA ``.ts`` format (read back by the time-series converters).

    Parameters
    ----------
    path : path
        The file to write.
    X : array (n_samples, n_channels, n_timestamps) or sequence of (n_channels, n_timestamps) arrays
        The series; cases may differ in length (``@equalLength false``).
    y : sequence of length n_samples, optional
        Class labels (``@classLabel true`` with the sorted distinct labels).
    problem_name : str, default="series"
    """
    path = Path(path)
    cases = [np.atleast_2d(np.asarray(c, dtype=np.float64)) for c in X]
    if not cases:
        raise InputError("write_ts needs at least one series", path=path)
    n_dims = {c.shape[0] for c in cases}
    if len(n_dims) != 1:
        raise InputError(f"every case must have the same number of dimensions (got {sorted(n_dims)})", path=path)
    lengths = {c.shape[1] for c in cases}
    missing = any(np.isnan(c).any() for c in cases)
    lines = [
        f"@problemName {problem_name}",
        "@timeStamps false",
        f"@missing {'true' if missing else 'false'}",
        f"@univariate {'true' if n_dims == {1} else 'false'}",
        f"@dimensions {n_dims.pop()}",
        f"@equalLength {'true' if len(lengths) == 1 else 'false'}",
    ]
    if len(lengths) == 1:
        lines.append(f"@seriesLength {lengths.pop()}")
    labels = None if y is None else [str(v) for v in y]
    if labels is not None:
        lines.append("@classLabel true " + " ".join(sorted(set(labels))))
    else:
        lines.append("@classLabel false")
    lines.append("@data")
    for i, case in enumerate(cases):
        dims = [",".join("?" if math.isnan(v) else repr(v) for v in channel.tolist()) for channel in case]
        lines.append(":".join(dims + ([labels[i]] if labels is not None else [])))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
