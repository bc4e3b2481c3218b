"""Reading and writing ``manifest.jsonl`` and the resume ledger, atomically.

``manifest.jsonl`` has one JSON object per image::

    {"image": "train/1/train-row3.png", "source": "train.csv", "record": "row3",
     "window": {"index": 0, "start": 0.0, "stop": 150.0, "unit": "timestamps"},
     "label": "1", "group": "train-row3", "split": "train",
     "converter": "gadf", "params": {...},
     "source_hash": "sha256:...", "image_hash": "sha256:..."}

``.convert-state.jsonl`` has one line per finished source (its hash, the
converter settings and whether every record converted); a rerun skips a
source whose line still matches and whose images still exist.

``.any2img-done/`` is the ledger of the run in progress: the worker that
finishes a batch of sources (see ``convert_dir``; a batch is one source
unless the sources are small and many) writes their state lines and manifest
rows there at once, as one file renamed into place after an ``fsync`` (see
:func:`write_done_batch`; the Dask engine writes one file per source with
:func:`write_done`), before it takes the next batch. The run folds the
ledger into the two files above when it ends, and a rerun after a kill folds
in whatever a killed run left, so a kill loses only the batches in flight.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from any2img.hashing import file_sha256

__all__ = [
    "MANIFEST_NAME",
    "STATE_NAME",
    "append_jsonl",
    "array_hash",
    "atomic_write_bytes",
    "file_hash",
    "read_jsonl",
    "write_jsonl",
    "write_png",
    "LOCK_NAME",
    "DONE_NAME",
    "clear_done",
    "read_done",
    "read_done_entry",
    "read_done_lines",
    "manifest_line",
    "write_done",
    "write_done_batch",
]

MANIFEST_NAME = "manifest.jsonl"
STATE_NAME = ".convert-state.jsonl"
ERRORS_NAME = "errors.jsonl"
#: Held by a running conversion (see ``convert_dir``).
LOCK_NAME = ".any2img.lock"
#: The per-source ledger of a run in progress (see the module docstring).
DONE_NAME = ".any2img-done"


def file_hash(path: str | Path) -> str:
    """Return ``"sha256:<hex>"`` of a file's bytes (a local path, or a ``upath.UPath`` of any2img.storage)."""
    if not isinstance(path, (str, os.PathLike)):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        return "sha256:" + digest.hexdigest()
    return "sha256:" + file_sha256(path)


def array_hash(image: np.ndarray) -> str:
    """Return ``"sha256:<hex>"`` of an image's shape and pixels (encoder-independent)."""
    digest = hashlib.sha256(repr(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return "sha256:" + digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    With ``durable`` the bytes are flushed to disk (``fsync``) before the
    rename, so the file survives a power cut as well as a killed process.

    An fsspec location (a ``upath.UPath`` of :mod:`any2img.storage`) has no
    rename: it is written in one request instead, which object stores
    (S3, GCS, Azure) commit whole or not at all.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(path, os.PathLike):
        path.write_bytes(data)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png(path: Path, image: np.ndarray) -> None:
    """Encode an ``(H, W, 3)`` uint8 array as PNG and write it atomically."""
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="PNG", compress_level=1)
    atomic_write_bytes(path, buf.getvalue())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file; a missing file gives ``[]``.

    A torn last line (an interrupted append) is dropped.
    """
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace ``path`` atomically with ``rows``, one JSON object per line."""
    atomic_write_bytes(path, "".join(manifest_line(r) for r in rows).encode("utf-8"))


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append ``rows`` to ``path`` and flush them to disk."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    if not text:
        return
    if not isinstance(path, os.PathLike):  # object stores cannot append: the object is rewritten whole
        atomic_write_bytes(path, (path.read_bytes() if path.exists() else b"") + text.encode("utf-8"))
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _done_path(dst: Path, source: str) -> Path:
    return dst / DONE_NAME / (hashlib.sha256(source.encode("utf-8")).hexdigest()[:32] + ".json")


def write_done(dst: Path, state: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Record one finished source in the ledger: its state line and its manifest rows, atomically and durably.

    Called by the process that converted the source, right after its last
    PNG, so the record never waits on the parent process.
    """
    payload = json.dumps({"state": state, "rows": rows}, sort_keys=True).encode("utf-8")
    atomic_write_bytes(_done_path(dst, str(state["source"])), payload, durable=True)


def read_done_entry(dst: Path, source: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Return ``(state, rows)`` of one source's ledger entry, or None when it has none (or it is unreadable).

    The dask engine asks before converting a source again: a chunk re-run
    after a worker died skips the sources the dead worker had recorded.
    """
    try:
        entry = json.loads(_done_path(dst, source).read_text(encoding="utf-8"))
        state, rows = entry["state"], entry["rows"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if isinstance(state, dict) and state.get("source") == source and isinstance(rows, list):
        return state, [r for r in rows if isinstance(r, dict)]
    return None


def manifest_line(row: dict[str, Any]) -> str:
    """A row as its line of ``manifest.jsonl`` (what :func:`write_jsonl` writes), newline included."""
    return json.dumps(row, sort_keys=True) + "\n"


def write_done_batch(dst: Path, entries: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Record several finished sources in the ledger as one file: ``(state, rows)`` each, atomically and durably.

    One file and one ``fsync`` for the whole batch instead of one per
    source (creating a file and flushing it cost more than converting a
    small source). Called by the process that converted the batch, right
    after its last PNG. The rows are stored as their finished manifest lines
    (plus each one's image, the manifest's sort key), so folding the ledger
    into the manifest parses none of them (see :func:`read_done_lines`). The
    file is named after the batch's first source, which no other batch of
    the run holds.
    """
    if not entries:
        return
    first = str(entries[0][0]["source"])
    payload = json.dumps({"entries": [{"state": state, "images": [str(r.get("image")) for r in rows],
                                       "lines": [manifest_line(r) for r in rows]} for state, rows in entries]},
                         sort_keys=True).encode("utf-8")
    name = "batch-" + hashlib.sha256(first.encode("utf-8")).hexdigest()[:32] + ".json"
    atomic_write_bytes(dst / DONE_NAME / name, payload, durable=True)


#: A ledger entry as read back: the source's state line and its rows as ``(image, manifest line)`` pairs.
EncodedEntry = tuple[dict[str, Any], list[tuple[str, str]]]


def _entries_of(entry: Any) -> list[EncodedEntry]:
    """The entries of one ledger file's content (one source's, or a batch's); malformed ones dropped."""
    items = entry.get("entries") if isinstance(entry, dict) and "entries" in entry else [entry]
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        state = item.get("state")
        if not isinstance(state, dict) or not isinstance(state.get("source"), str):
            continue
        if "lines" in item:  # a batch's entry: finished lines
            images, lines = item.get("images"), item.get("lines")
            if not (isinstance(images, list) and isinstance(lines, list) and len(images) == len(lines)
                    and all(isinstance(x, str) for x in images + lines)):
                continue
            out.append((state, list(zip(images, lines))))
        elif isinstance(item.get("rows"), list):  # one source's entry (the Dask engine): rows
            rows = [r for r in item["rows"] if isinstance(r, dict)]
            out.append((state, [(str(r.get("image")), manifest_line(r)) for r in rows]))
    return out


def read_done_lines(dst: Path) -> list[EncodedEntry]:
    """Return ``(state, [(image, manifest line), ...])`` for every source in the ledger; unreadable ones ignored.

    What folding the ledger into ``manifest.jsonl`` needs, without parsing
    the rows.
    """
    folder = dst / DONE_NAME
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.extend(_entries_of(entry))
    return out


def read_done(dst: Path) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Return ``(state, rows)`` for every source in the ledger; unreadable entries are ignored."""
    out = []
    for state, lines in read_done_lines(dst):
        try:
            rows = [json.loads(line) for _, line in lines]
        except ValueError:
            continue
        out.append((state, [r for r in rows if isinstance(r, dict)]))
    return out


def clear_done(dst: Path) -> None:
    """Remove the ledger (after its entries were folded into the manifest and the state file)."""
    folder = dst / DONE_NAME
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            pass
