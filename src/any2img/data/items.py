"""Labelled images, before any torch: where they are, their label, group and split.

An :class:`Item` is one image (a file path or an in-memory array) with what is
known about it: its label, the group it belongs to (a speaker, a session, a
source recording), a predefined split mark (``"train"``, ``"valid"``,
``"test"``), the source signal it was converted from and the window of that
source. :class:`ImageItems` is a list of items that also remembers where they
came from (the folder, and the converter that made the images, if known).

Three ways to get items:

* :func:`items_from_folder` — a folder of images, the label from the parent
  folder, a file-name pattern or a function; top-level ``train/``, ``valid/``
  and ``test/`` folders mark a predefined split;
* :func:`items_from_manifest` — the ``manifest.jsonl`` written by
  :func:`any2img.convert_dir`, which knows groups, splits, sources, windows
  and the converter;
* :func:`items_from_arrays` — images already in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from any2img.batch.labels import SPLIT_ALIASES, SPLITS, LabelRule, parse_rule
from any2img.batch.manifest import MANIFEST_NAME, read_jsonl
from any2img.errors import InputError, ParameterError

__all__ = [
    "IMAGE_EXTENSIONS",
    "SPLIT_ALIASES",
    "ImageItems",
    "Item",
    "items_from_arrays",
    "items_from_folder",
    "items_from_manifest",
    "items_from_path",
    "load_image",
]

#: File suffixes read as images.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")

LabelFrom = LabelRule


@dataclass(frozen=True, eq=False)
class Item:
    """One labelled image.

    Attributes
    ----------
    image : str or numpy.ndarray
        The image file's path, or the image itself, ``(H, W, 3)`` or
        ``(H, W)`` uint8.
    label : str or None
        The class name (``None`` when unknown).
    group : str or None
        Items sharing a group never sit on two sides of a grouped split.
    split : {"train", "valid", "test"} or None
        A predefined split mark.
    source : str or None
        The raw file the image was converted from (relative to the
        conversion's source folder), when known.
    window : dict or None
        Where in its source the image's window sits (``index``, ``start``,
        ``stop``, ``unit``), when known.
    key : str
        A stable identity: the path relative to the dataset root, or a hash of
        an array's pixels. Random splits hash it, so an item keeps its side
        when other items are added.
    record : str or None
        The record of the source (a table row), when known.
    meta : dict
        Anything else the source said about the image.
    """

    image: str | np.ndarray
    label: str | None = None
    group: str | None = None
    split: str | None = None
    source: str | None = None
    window: dict[str, Any] | None = None
    key: str = ""
    record: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str | None:
        """The image file's path, or ``None`` for an in-memory image."""
        return self.image if isinstance(self.image, str) else None

    def describe(self) -> str:
        """A short name for people (the key, else the path)."""
        return self.key or (self.path or "<array>")

    def load(self) -> np.ndarray:
        """Return the image as ``(H, W, 3)`` uint8 (see :func:`load_image`)."""
        return load_image(self.image)


class ImageItems(Sequence[Item]):
    """A list of :class:`Item` that remembers where it came from.

    Parameters
    ----------
    items : iterable of Item
    root : path, optional
        The folder the items' keys are relative to.
    converter : dict, optional
        ``{"name": ..., "params": {...}}`` of the converter that made the
        images, when known (a conversion manifest); an exported model records
        it so that prediction can convert raw input the same way.

    Examples
    --------
    >>> items = items_from_arrays(np.zeros((4, 8, 8), np.uint8), ["a", "b", "a", "b"])
    >>> len(items), items.labels
    (4, ['a', 'b', 'a', 'b'])
    """

    def __init__(
        self,
        items: Iterable[Item] = (),
        *,
        root: str | os.PathLike[str] | None = None,
        converter: dict[str, Any] | None = None,
    ) -> None:
        self._items = list(items)
        self.root = None if root is None else Path(root)
        self.converter = converter

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> ImageItems: ...

    def __getitem__(self, index: int | slice) -> Item | ImageItems:
        if isinstance(index, slice):
            return self._like(self._items[index])
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items)

    def __repr__(self) -> str:
        where = f", root={str(self.root)!r}" if self.root is not None else ""
        return f"ImageItems({len(self)} items, {len(set(self.labels) - {None})} labels{where})"

    def _like(self, items: Iterable[Item]) -> ImageItems:
        return ImageItems(items, root=self.root, converter=self.converter)

    def take(self, indices: Iterable[int]) -> ImageItems:
        """Return the items at ``indices``, keeping ``root`` and ``converter``."""
        return self._like(self._items[i] for i in indices)

    def filter(self, predicate: Callable[[Item], bool]) -> ImageItems:
        """Return the items for which ``predicate(item)`` is true."""
        return self._like(i for i in self._items if predicate(i))

    def __add__(self, other: ImageItems) -> ImageItems:
        return self._like([*self._items, *other])

    @property
    def labels(self) -> list[str | None]:
        """The label of each item."""
        return [i.label for i in self._items]

    @property
    def groups(self) -> list[str | None]:
        """The group of each item."""
        return [i.group for i in self._items]

    @property
    def splits(self) -> list[str | None]:
        """The predefined split mark of each item."""
        return [i.split for i in self._items]

    @property
    def classes(self) -> list[str]:
        """The distinct labels, sorted (numerically when every label is a number)."""
        return sort_labels(i.label for i in self._items if i.label is not None)


def sort_labels(labels: Iterable[str]) -> list[str]:
    """Sort class names, numerically when every one is a number.

    Examples
    --------
    >>> sort_labels(["10", "2", "1"])
    ['1', '2', '10']
    >>> sort_labels(["dog", "cat"])
    ['cat', 'dog']
    """
    unique = set(labels)

    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    if unique and all(number(x) is not None for x in unique):
        return sorted(unique, key=lambda x: (number(x), x))
    return sorted(unique)


# -- loading ------------------------------------------------------------------
def load_image(image: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
    """Return an image as an ``(H, W, 3)`` or ``(H, W, 1)`` uint8 array.

    Files are decoded with Pillow: greyscale stays one channel, palette and
    RGBA images become RGB. Arrays must be uint8, ``(H, W)``, ``(H, W, 1)``
    or ``(H, W, 3)``.
    """
    if isinstance(image, np.ndarray):
        return _check_array(image)
    from PIL import Image, UnidentifiedImageError

    path = Path(image)
    try:
        with Image.open(path) as img:
            if img.mode in ("L", "I;16", "I", "F", "1"):
                arr = np.asarray(img.convert("L"))
            else:
                arr = np.asarray(img.convert("RGB"))
    except FileNotFoundError as exc:
        raise InputError("image file not found", path=path) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"cannot read the image ({exc})", path=path) from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


def _check_array(arr: np.ndarray, where: str = "image") -> np.ndarray:
    if arr.dtype != np.uint8:
        raise InputError(f"{where} must have dtype uint8 (got {arr.dtype}).")
    if arr.ndim == 2:
        return arr[:, :, None]
    if arr.ndim == 3 and arr.shape[2] in (1, 3):
        return arr
    raise InputError(f"{where} must have shape (H, W), (H, W, 1) or (H, W, 3) (got {arr.shape}).")


# -- constructors ---------------------------------------------------------------
def _split_mark(relative: Path) -> str | None:
    parts = relative.parts
    if len(parts) < 2:
        return None
    return SPLIT_ALIASES.get(parts[0].lower())


def items_from_folder(
    root: str | os.PathLike[str],
    label_from: LabelFrom = "parent",
    *,
    group_from: LabelFrom = None,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
) -> ImageItems:
    """Find the images under ``root`` and label them.

    Parameters
    ----------
    root : path
        A folder, searched recursively (hidden files and folders skipped).
        Top-level folders named ``train``, ``valid`` (or ``val``,
        ``validation``) and ``test`` mark a predefined split.
    label_from : {"parent", "stem", "none"}, regex or callable, default="parent"
        ``"parent"``: the name of the folder holding the image; a regular
        expression with a named group ``(?P<label>...)`` searched in the file
        name; or a function ``f(path) -> str | None``.
    group_from : {"parent", "stem", "none"}, regex or callable, optional
        Where an image's group (speaker, session) comes from; a regex needs
        ``(?P<group>...)``. By default images have no group.
    extensions : sequence of str
        The file suffixes read as images.

    Returns
    -------
    ImageItems
        Sorted by path; ``key`` is the path relative to ``root``.

    Raises
    ------
    InputError
        ``root`` is not a folder, holds no image, or a file name does not
        match the label pattern.
    """
    root_path = Path(root)
    if not root_path.is_dir():
        raise InputError("no such folder", path=root_path)
    label_of = parse_rule(label_from, "label")
    group_of = parse_rule(group_from, "group")
    suffixes = {e.lower() for e in extensions}
    items = []
    for path in sorted(root_path.rglob("*")):
        rel = path.relative_to(root_path)
        if not path.is_file() or path.suffix.lower() not in suffixes:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        split = _split_mark(rel)
        label = label_of(path)
        if label_from == "parent" and split is not None and len(rel.parts) == 2:
            label = None  # train/x.png: the folder is the split, not a class
        items.append(
            Item(image=str(path), label=label, group=group_of(path), split=split, key=rel.as_posix())
        )
    if not items:
        raise InputError(f"no image ({', '.join(sorted(suffixes))}) found in the folder", path=root_path)
    return ImageItems(items, root=root_path)


def items_from_manifest(path: str | os.PathLike[str]) -> ImageItems:
    """Read the images of a conversion from its ``manifest.jsonl``.

    Parameters
    ----------
    path : path
        The manifest file, or the folder holding ``manifest.jsonl``. Image
        paths in it are relative to its folder.

    Returns
    -------
    ImageItems
        With labels, groups, splits, sources, records and windows from the
        manifest, and ``converter`` from ``conversion.json`` (or the rows).

    Raises
    ------
    InputError
        The manifest is missing or empty, a row lacks its ``image`` field,
        names a path outside the manifest's folder (absolute, or through
        ``..``), or an image file is missing. A row repeated for the same
        image (two runs appending) counts once, its last copy.
    """
    manifest = Path(path)
    if manifest.is_dir():
        manifest = manifest / MANIFEST_NAME
    if not manifest.is_file():
        raise InputError("no such manifest file", path=manifest)
    root = manifest.parent
    rows = read_jsonl(manifest)
    if not rows:
        raise InputError("the manifest lists no image", path=manifest)
    items = []
    inside = root.resolve()
    latest = {row.get("image"): n for n, row in enumerate(rows)}  # a repeated row: its last copy counts
    for n, row in enumerate(rows, start=1):
        image = row.get("image")
        if not isinstance(image, str) or not image:
            raise InputError(f"line {n}: field 'image' must be a relative path (got {image!r})", path=manifest)
        if latest[image] != n - 1:
            continue
        file = root / image
        if Path(image).is_absolute() or not file.resolve().is_relative_to(inside):
            raise InputError(f"line {n}: field 'image' must be a path inside the manifest's folder "
                             f"(got {image!r})", path=manifest)
        if not file.is_file():
            raise InputError(f"line {n}: image {image!r} does not exist", path=manifest)
        split = row.get("split")
        if split is not None:
            split = SPLIT_ALIASES.get(str(split).lower())
        label = row.get("label")
        group = row.get("group")
        items.append(
            Item(
                image=str(file),
                label=None if label is None else str(label),
                group=None if group is None else str(group),
                split=split,
                source=row.get("source"),
                window=row.get("window"),
                key=image,
                record=row.get("record") or None,
                meta=row.get("meta") or {},
            )
        )
    return ImageItems(items, root=root, converter=_converter_of(root, rows))


def _converter_of(root: Path, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    conv = root / "conversion.json"
    if conv.is_file():
        try:
            info = json.loads(conv.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc})", path=conv) from exc
        if isinstance(info, dict) and info.get("converter"):
            return {"name": info["converter"], "params": info.get("params") or {}}
    names = {json.dumps([r.get("converter"), r.get("params")], sort_keys=True) for r in rows}
    if len(names) == 1 and rows[0].get("converter"):
        return {"name": rows[0]["converter"], "params": rows[0].get("params") or {}}
    return None


def items_from_path(path: str | os.PathLike[str], label_from: LabelFrom = "parent") -> ImageItems:
    """Items of a converted folder (its ``manifest.jsonl``) or of a plain image folder.

    A folder holding ``manifest.jsonl`` (or the manifest file itself) is read
    with :func:`items_from_manifest`, which knows groups, splits and the
    converter; any other folder with :func:`items_from_folder` and
    ``label_from``.
    """
    p = Path(path)
    if (p.is_file() and p.name == MANIFEST_NAME) or (p / MANIFEST_NAME).is_file():
        return items_from_manifest(p)
    return items_from_folder(p, label_from)


def items_from_arrays(
    images: np.ndarray | Sequence[np.ndarray],
    labels: Sequence[Any] | None = None,
    *,
    groups: Sequence[Any] | None = None,
    splits: Sequence[str | None] | None = None,
) -> ImageItems:
    """Wrap in-memory images as items.

    Parameters
    ----------
    images : ndarray of shape (N, H, W, 3) or (N, H, W), uint8, or a list of such images
    labels : sequence of length N, optional
        Class of each image (converted to ``str``).
    groups : sequence of length N, optional
    splits : sequence of {"train", "valid", "test", None}, optional

    Returns
    -------
    ImageItems
        ``key`` is a hash of each image's pixels, so a random split does not
        depend on the order of the images.

    Examples
    --------
    >>> items = items_from_arrays(np.zeros((3, 16, 16, 3), np.uint8), [0, 1, 0])
    >>> items[1].label, items[1].image.shape
    ('1', (16, 16, 3))
    """
    seq = list(images) if not isinstance(images, np.ndarray) else [images[i] for i in range(len(images))]
    if isinstance(images, np.ndarray) and images.ndim not in (3, 4):
        raise InputError(f"'images' must have shape (N, H, W) or (N, H, W, 3) (got {images.shape}).")
    n = len(seq)
    for name, values in (("labels", labels), ("groups", groups), ("splits", splits)):
        if values is not None and len(values) != n:
            raise ParameterError(f"'{name}' must have one entry per image ({n}) (got {len(values)}).")
    items = []
    seen: dict[str, int] = {}
    for i, img in enumerate(seq):
        arr = np.asarray(img)
        _check_array(arr, where=f"image {i}")
        digest = hashlib.sha256(repr(arr.shape).encode() + np.ascontiguousarray(arr).tobytes()).hexdigest()[:20]
        seen[digest] = seen.get(digest, 0) + 1
        key = f"array:{digest}" if seen[digest] == 1 else f"array:{digest}:{seen[digest] - 1}"
        split = None if splits is None else splits[i]
        if split is not None and split not in SPLITS:
            raise ParameterError(f"'splits' entries must be 'train', 'valid', 'test' or None (got {split!r}).")
        items.append(
            Item(
                image=arr,
                label=None if labels is None or labels[i] is None else str(labels[i]),
                group=None if groups is None or groups[i] is None else str(groups[i]),
                split=split,
                key=key,
            )
        )
    return ImageItems(items)

