"""Locations as local paths or fsspec URLs (``memory://``, ``s3://``, ``gs://``, ``az://``, ...).

Conversion reads sources and writes images through :func:`as_location`: a
local path (or a ``file://`` URL) stays a :class:`pathlib.Path`, so every
local guarantee holds (atomic renames, the destination lock, ``fsync``);
any other URL becomes a ``universal_pathlib`` path over its fsspec file
system, so Dask workers on other hosts read and write the same places.

Training and prediction read many files many times, so a URL there is
*staged*: :func:`stage_in` copies a remote folder or file into a local
temporary folder once, and :func:`stage_out` uploads a folder written
locally (a model) when it is complete.

What holds where (see the README, "Scaling out"):

* local paths and ``file://``: atomic writes (temporary file, rename),
  the manifest lock, durable appends;
* object stores (``s3://``, ``gs://``, ``az://``): each object is written in
  one request, so no reader sees a half-written PNG or manifest, but there is
  no lock (two conversions into one prefix are not prevented) and appending to
  the manifest rewrites the object;
* ``memory://``: one process's memory, for tests; conversion into or from it
  runs in the calling process (the ``dask`` engine refuses it).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from any2img.errors import MissingDependencyError, ParameterError

__all__ = [
    "EXTRA",
    "Location",
    "as_location",
    "is_local",
    "is_url",
    "protocol_of",
    "read_records",
    "require",
    "stage_in",
    "stage_out",
]

#: The extra that brings Dask, fsspec and universal_pathlib.
EXTRA = "distributed"

#: A local path, or a ``upath.UPath`` over an fsspec file system.
Location = Any

#: fsspec backends and the packages that implement them.
BACKENDS = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
            "abfss": "adlfs", "adl": "adlfs"}


def require(module: str, what: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the ``distributed`` extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        error = MissingDependencyError(
            f"{what} needs the optional dependency '{module.split('.')[0]}', which is not installed: "
            f"pip install 'any2img[{EXTRA}]'"
        )
        error.extra = EXTRA
        raise error from exc


def is_url(location: object) -> bool:
    """True when ``location`` is a string of the form ``protocol://...``."""
    return isinstance(location, str) and _URL.match(location) is not None


def protocol_of(location: object) -> str:
    """``"file"`` for local paths, else the URL's protocol (``"memory"``, ``"s3"``, ...)."""
    if isinstance(location, os.PathLike) and not hasattr(location, "protocol"):
        return "file"
    if hasattr(location, "protocol"):
        protocol = location.protocol
        return str(protocol) if protocol else "file"
    text = str(location)
    return text.split("://", 1)[0].lower() if "://" in text else "file"


def is_local(location: object) -> bool:
    """True for a local path, a ``file://`` URL or a ``pathlib.Path``."""
    return isinstance(location, Path) or protocol_of(location) in ("file", "local")


def as_location(location: str | os.PathLike[str] | Any) -> Location:
    """A :class:`pathlib.Path` for local places, a ``upath.UPath`` for other fsspec URLs.

    Raises
    ------
    MissingDependencyError
        A URL was given and fsspec/universal_pathlib (the ``distributed``
        extra) or the backend's package (``s3fs``, ``gcsfs``, ``adlfs``) is
        not installed.
    """
    if isinstance(location, Path):
        return location
    if hasattr(location, "protocol") and hasattr(location, "fs"):  # already a UPath
        return location if not is_local(location) else Path(getattr(location, "path"))  # noqa: B009
    text = os.fspath(location)
    if not is_url(text):
        return Path(text)
    protocol = protocol_of(text)
    if protocol in ("file", "local"):
        return Path(text.split("://", 1)[1])
    upath = require("upath", f"the location {text!r}")
    path = upath.UPath(text)
    try:
        path.fs  # noqa: B018 - resolve the backend now, so a missing one fails before any work
    except ImportError as exc:
        package = BACKENDS.get(protocol, f"the fsspec backend for '{protocol}://'")
        error = MissingDependencyError(f"the location {text!r} needs {package}, which is not installed: "
                                       f"pip install {package} (any2img[{EXTRA}] brings fsspec itself)")
        error.extra = EXTRA
        raise error from exc
    except ValueError as exc:
        raise ParameterError(f"unknown storage protocol '{protocol}://' in {text!r} ({exc})") from exc
    return path


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_STAGED: list[str] = []


def _cleanup() -> None:  # pragma: no cover - runs at interpreter exit
    for folder in _STAGED:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_cleanup)


def stage_in(location: str | os.PathLike[str]) -> Path:
    """A local path holding what ``location`` holds: itself when local, else a copy downloaded once.

    The copy (a file, or a folder with everything under it) lives in a
    temporary folder removed when the interpreter exits.
    """
    where = as_location(location)
    if isinstance(where, Path):
        return where
    if not where.exists():
        from any2img.errors import InputError

        raise InputError("no such file or folder", path=str(where))
    folder = tempfile.mkdtemp(prefix="any2img-staged-")
    _STAGED.append(folder)
    name = where.name or "root"
    local = Path(folder) / name
    if where.is_dir():
        where.fs.get(where.path.rstrip("/") + "/", str(local), recursive=True)
        local.mkdir(exist_ok=True)  # an empty remote folder
    else:
        where.fs.get(where.path, str(local))
    return local


@contextmanager
def stage_out(location: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a local folder to write into; on success its content is uploaded to ``location``.

    A local ``location`` is yielded as it is (written in place). A remote
    one receives the files only after the block finished without an error,
    so a failed run uploads nothing.
    """
    where = as_location(location)
    if isinstance(where, Path):
        yield where
        return
    folder = Path(tempfile.mkdtemp(prefix="any2img-out-"))
    try:
        local = folder / "out"
        yield local
        for file in sorted(p for p in local.rglob("*") if p.is_file()):
            target = where.joinpath(*file.relative_to(local).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_records(converter: Any, path: Location) -> Iterator[Any]:
    """``converter.read_records(path)``; a remote source is first copied into a temporary local file.

    Converters read local files (soundfile, the csv module); the copy keeps
    the source's name, suffix included, and is removed when the records are
    consumed. A failed download raises ``OSError`` at the first record, where
    conversion reports it as that source's failure.
    """
    if isinstance(path, (str, os.PathLike)):
        yield from converter.read_records(path)
        return
    with tempfile.TemporaryDirectory(prefix="any2img-src-") as tmp:
        local = Path(tmp) / (path.name or "source")
        path.fs.get(path.path, str(local))
        yield from converter.read_records(local)
