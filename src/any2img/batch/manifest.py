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
]

MANIFEST_NAME = "manifest.jsonl"
STATE_NAME = ".convert-state.jsonl"
ERRORS_NAME = "errors.jsonl"
#: Held by a running conversion (see ``convert_dir``).
LOCK_NAME = ".any2img.lock"


def file_hash(path: str | Path) -> str:
    """Return ``"sha256:<hex>"`` of a file's bytes."""
    return "sha256:" + file_sha256(path)


def array_hash(image: np.ndarray) -> str:
    """Return ``"sha256:<hex>"`` of an image's shape and pixels (encoder-independent)."""
    digest = hashlib.sha256(repr(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return "sha256:" + digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    atomic_write_bytes(path, text.encode("utf-8"))


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append ``rows`` to ``path`` and flush them to disk."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    if not text:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
