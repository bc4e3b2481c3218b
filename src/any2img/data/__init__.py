"""Labelled images, their splits, and (with torch) datasets and transforms.

``ImageItems``, the ``items_from_*`` readers and ``split_items`` need no
torch; ``ImageDataset``, ``DataConfig`` and the transforms are imported on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from any2img.data.items import (
    IMAGE_EXTENSIONS,
    ImageItems,
    Item,
    items_from_arrays,
    items_from_folder,
    items_from_manifest,
    items_from_path,
    load_image,
)
from any2img.data.splits import DataSplits, MissingClassWarning, Split, split_items

_LAZY = {
    "ImageDataset": "any2img.data.dataset",
    "DataConfig": "any2img.data.transforms",
    "SpecAugment": "any2img.data.transforms",
    "TimeShift": "any2img.data.transforms",
    "build_augment": "any2img.data.transforms",
    "preprocess": "any2img.data.transforms",
    "preprocess_batch": "any2img.data.transforms",
}

__all__ = [
    "IMAGE_EXTENSIONS",
    "DataSplits",
    "ImageItems",
    "Item",
    "MissingClassWarning",
    "Split",
    "items_from_arrays",
    "items_from_folder",
    "items_from_manifest",
    "items_from_path",
    "load_image",
    "split_items",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'any2img.data' has no attribute {name!r}")
