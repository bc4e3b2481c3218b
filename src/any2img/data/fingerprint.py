"""Content fingerprints of images, so that a model knows which pictures it learned from.

A model records the fingerprints of its training and validation items
(``model.json``'s ``split.fingerprints``); ``any2img evaluate`` leaves out
any item it finds there, whatever the folder or the file is called, so a
score is never read off pictures the model was fitted or selected on.
The fingerprint is of the content (the image file's bytes, or an array's
shape and pixels), not of the name: a copied or renamed folder is still
recognised, and a new file that happens to share a name is not mistaken
for a seen one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from any2img.data.items import Item

__all__ = ["FINGERPRINT", "fingerprint", "fingerprints"]

#: How fingerprints are made (recorded beside them, so a future change of rule is detectable).
FINGERPRINT = "sha256-64bit of the image file's bytes, or of an array's shape and pixels"


def fingerprint(item: Item) -> str:
    """The item's content fingerprint: 16 hex digits of a SHA-256."""
    digest = hashlib.sha256()
    if item.path is not None:
        with open(item.path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    else:
        arr = np.ascontiguousarray(item.image)
        digest.update(repr((arr.shape, str(arr.dtype))).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()[:16]


def fingerprints(items: Iterable[Item]) -> list[str]:
    """Sorted, unique fingerprints of ``items``."""
    return sorted({fingerprint(it) for it in items})
