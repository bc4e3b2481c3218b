"""Train / validation / test splits that are stable, grouped and leak-free.

Sides are decided by hashing, not by shuffling an index, and stratified by
label: within each class, the items (or whole groups) whose
``sha256(seed, key)`` ranks lowest go to the carved side, ``valid_pct`` of the
units in all, shared out over the classes so that every class with two
units or more sits on both sides as far as the share allows, and no class
loses its last unit (see ``_carve``). So the same seed always gives the same
split; adding items of one class never moves the items of another (within a
class, only items at the edge of its share can move). A class still missing
from a side is a :class:`MissingClassWarning` that names it (and
``info["missing_classes"]``).

* ``"random"`` hashes each item's key (its relative path, or a hash of its
  pixels);
* ``"group"`` hashes each item's group, so no group (speaker, session, source
  recording) sits on two sides;
* ``"predefined"`` follows the items' ``train``/``valid``/``test`` marks; when
  no item is marked ``valid``, the validation side is carved out of the
  training side by hash, and it mirrors how the marked test side relates to
  training: whole groups when groups are shared and the test side holds
  groups that training does not (unseen speakers or sessions), whole source
  recordings (their windows together) when every test item's group also has
  training items (new takes of known speakers, as FSDD's official split):
  holding out whole groups there would judge a harder task than the test
  side's and train on fewer groups (``info["valid_by"]`` says so);
* ``"auto"`` is ``"predefined"`` when items carry marks, else ``"group"`` when
  some group holds several items, else ``"random"``.

The test side is only ever read by ``Learner.evaluate(split="test")``.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from any2img.data.items import ImageItems, Item, sort_labels
from any2img.errors import InputError, ParameterError
from any2img.validation import check_choice, check_float, check_int

__all__ = ["DataSplits", "MissingClassWarning", "Split", "split_items"]


class MissingClassWarning(UserWarning):
    """A class has no item on one side of a split."""

STRATEGIES = ("auto", "random", "group", "predefined")


@dataclass
class Split:
    """The sides of a dataset and the classes to learn.

    Attributes
    ----------
    train, valid, test : ImageItems
        The sides; ``test`` may be empty. Training reads ``train``, model
        selection (metrics, early stopping) reads ``valid``; ``test`` is read
        only when asked for explicitly.
    classes : list of str
        Class names; a model's output ``i`` is ``classes[i]``.
    info : dict
        How the split was made: ``strategy``, ``seed``, ``valid_pct``,
        ``test``, ``counts`` (and ``groups`` per side for a grouped split).
    """

    train: ImageItems
    valid: ImageItems
    test: ImageItems
    classes: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def converter(self) -> dict[str, Any] | None:
        """The converter that made the images (``{"name", "params"}``), if known."""
        for side in (self.train, self.valid, self.test):
            if side.converter is not None:
                return side.converter
        return None

    def side(self, name: str) -> ImageItems:
        """Return the side called ``name`` ("train", "valid" or "test")."""
        check_choice("split", name, ("train", "valid", "test"))
        return {"train": self.train, "valid": self.valid, "test": self.test}[name]

    def __repr__(self) -> str:
        c = self.info.get("counts", {})
        return (
            f"Split(strategy={self.info.get('strategy')!r}, train={c.get('train')}, valid={c.get('valid')}, "
            f"test={c.get('test')}, classes={len(self.classes)})"
        )


#: The name the package's lazy import table uses.
DataSplits = Split


def _unit_hash(seed: int, salt: str, unit: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{salt}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


#: What a split keeps together: a whole group, a whole source recording (its windows), or one item.
UNITS = ("group", "recording", "item")


def _unit_of(item: Item, index: int, unit: str) -> str:
    if unit == "group" and item.group is not None:
        return "group:" + item.group
    if unit == "recording" and item.source is not None:
        return f"recording:{item.source}|{item.record or ''}"
    return "item:" + (item.key or item.path or f"#{index}")


def _carve(
    pool: list[tuple[int, Item]], pct: float, seed: int, salt: str, unit: str
) -> tuple[list[tuple[int, Item]], list[tuple[int, Item]]]:
    """Split ``pool`` into (rest, carved), about ``pct`` of the units carved, every class on both sides.

    A unit (see :data:`UNITS`) is an item, a whole recording or a whole group; a unit's class is
    its most common label. The share is exact and stratified (see
    :func:`_quota_pick`): each class gives about ``pct`` of its units, the
    ones whose hash ranks lowest within it, and never its last one.

    The classes that the share cannot cover are named by
    :func:`split_items`'s warning.
    """
    if pct <= 0 or not pool:
        return pool, []
    labels_of: dict[str, Counter[str]] = {}
    for i, it in pool:
        labels_of.setdefault(_unit_of(it, i, unit), Counter())[str(it.label)] += 1
    hashes = {u: _unit_hash(seed, salt, u) for u in labels_of}
    by_class: dict[str, list[str]] = {}
    for key, counts in labels_of.items():
        label = min(counts, key=lambda lab: (-counts[lab], lab))
        by_class.setdefault(label, []).append(key)
    for units in by_class.values():
        units.sort(key=lambda u: (hashes[u], u))
    target = max(1, round(pct * len(hashes))) if len(hashes) >= 2 else 0
    chosen = _quota_pick(by_class, hashes, pct, target)
    if not chosen and len(hashes) >= 2:  # a tiny dataset: still give the side one unit
        chosen = {min(hashes, key=hashes.__getitem__)}
    rest = [(i, it) for i, it in pool if _unit_of(it, i, unit) not in chosen]
    carved = [(i, it) for i, it in pool if _unit_of(it, i, unit) in chosen]
    return rest, carved


def _quota_pick(by_class: dict[str, list[str]], hashes: dict[str, float], pct: float, target: int) -> set[str]:
    """Exact stratification: ``target`` units, shared out over the classes.

    Each class first gets ``floor(pct * n_class)`` of its lowest-hash units
    (never its last); the units still owed go one per class, to classes with
    none yet first, then to the largest remainders, ties by hash.
    """
    quota = {c: min(int(pct * len(u)), len(u) - 1) for c, u in by_class.items()}
    owed = target - sum(quota.values())
    order = sorted(by_class, key=lambda c: (quota[c] > 0, -(pct * len(by_class[c]) % 1), hashes[by_class[c][0]]))
    for c in order:
        if owed <= 0:
            break
        if quota[c] < len(by_class[c]) - 1:
            quota[c] += 1
            owed -= 1
    return {u for c, units in by_class.items() for u in units[: quota[c]]}


def _test_groups_seen(test_side: list[tuple[int, Item]], pool: list[tuple[int, Item]]) -> bool:
    """Whether a marked test side holds only new items of groups that the training pool also holds.

    Then the test side measures new recordings of known speakers (or
    sessions, sources): FSDD's official split, new takes of the same six
    speakers. A validation side of whole held-out groups would measure
    something harder than the test side and train on fewer groups, so the
    validation side is carved by recording instead, as the test side was. When
    any test item has no group, or its group is absent from the pool, the
    test side measures unseen groups and validation holds out whole groups.
    (The windows of one recording still stay together.)
    """
    if not test_side:
        return False
    seen = {it.group for _, it in pool if it.group is not None}
    return all(it.group is not None and it.group in seen for _, it in test_side)


def _missing_classes(classes: list[str], sides: dict[str, ImageItems]) -> dict[str, list[str]]:
    """Per non-empty side, the classes it lacks."""
    out = {}
    for name, side in sides.items():
        if len(side):
            lacking = [c for c in classes if c not in set(side.labels)]
            if lacking:
                out[name] = lacking
    return out


def split_items(
    items: ImageItems,
    valid_pct: float = 0.2,
    seed: int = 42,
    by: str = "auto",
    test: str | float | None = "predefined",
) -> Split:
    """Split labelled items into train, validation and test sides.

    Parameters
    ----------
    items : ImageItems
        Every item must carry a label.
    valid_pct : float in [0, 1), default=0.2
        Share of the non-test items (or groups) put on the validation side,
        when the items do not mark one. Decided by hash: about this share,
        at least one item or group when ``valid_pct > 0``.
    seed : int, default=42
        Changes which items the hash picks.
    by : {"auto", "random", "group", "predefined"}, default="auto"
        See the module docstring.
    test : "predefined", float in (0, 1) or None, default="predefined"
        ``"predefined"``: items marked ``test`` form the test side (none when
        nothing is marked). A float: that share of the unmarked items (or
        groups) is held out as test too. ``None``: no test side; items marked
        ``test`` are left out entirely.

    Returns
    -------
    Split

    Raises
    ------
    InputError
        An item has no label, or there is nothing to train on.
    ParameterError
        A parameter breaks its rule, e.g. ``by="predefined"`` when no item is
        marked.

    Examples
    --------
    >>> import numpy as np
    >>> from any2img.data import items_from_arrays
    >>> imgs = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((10, 4, 4), np.uint8)
    >>> s = split_items(items_from_arrays(imgs, [0, 1] * 5), valid_pct=0.3, seed=1)
    >>> len(s.train) + len(s.valid), s.classes
    (10, ['0', '1'])
    """
    valid_pct = check_float("valid_pct", valid_pct, low=0.0, high=1.0, high_open=True)
    seed = check_int("seed", seed)
    by = check_choice("by", by, STRATEGIES)
    if not (test is None or test == "predefined"):
        test = check_float("test", test, low=0.0, high=1.0, low_open=True, high_open=True)
    if not isinstance(items, ImageItems):
        items = ImageItems(items)
    if len(items) == 0:
        raise InputError("there are no items to split.")
    for item in items:
        if item.label is None:
            raise InputError("the image has no label; every item of a split needs one", path=item.describe())

    marked = any(it.split is not None for it in items)
    group_sizes = Counter(it.group for it in items if it.group is not None)
    shared = any(n > 1 for n in group_sizes.values())
    if by == "predefined" and not marked:
        raise ParameterError(
            "'by' is 'predefined' but no item carries a 'train', 'valid' or 'test' mark "
            "(use top-level train/valid/test folders, a manifest 'split' field, or by='auto')."
        )
    strategy = by if by != "auto" else ("predefined" if marked else "group" if shared else "random")
    grouped = strategy == "group" or (strategy == "predefined" and by != "random" and shared)

    indexed = list(enumerate(items))
    uses_marks = strategy == "predefined"
    marked_test = [(i, it) for i, it in indexed if it.split == "test"]
    pool = [(i, it) for i, it in indexed if it.split != "test"]
    unit = "group" if grouped else "item"
    mirrored = uses_marks and grouped and _test_groups_seen(marked_test, pool)
    dropped = 0
    if test is None:
        test_side: list[tuple[int, Item]] = []
        dropped = len(marked_test)
    else:
        test_side = marked_test
        if isinstance(test, float):
            pool, carved = _carve(pool, test, seed, "test", unit)
            test_side = sorted(test_side + carved)

    marked_valid = [(i, it) for i, it in pool if it.split == "valid"] if uses_marks else []
    if marked_valid:
        valid_side = marked_valid
        train_side = [(i, it) for i, it in pool if it.split != "valid"]
    else:
        # the validation side mirrors the test side: new recordings of groups seen in training
        train_side, valid_side = _carve(pool, valid_pct, seed, "valid", "recording" if mirrored else unit)
    if not train_side:
        raise InputError("the split leaves no item to train on; lower 'valid_pct' or 'test', or add items.")

    def side(pairs: list[tuple[int, Item]]) -> ImageItems:
        return items.take(i for i, _ in pairs)

    train, valid, test_items = side(train_side), side(valid_side), side(test_side)
    classes = sort_labels(it.label for it in items if it.label is not None and (test is not None or it.split != "test"))
    counts = {"train": len(train), "valid": len(valid), "test": len(test_items)}
    info: dict[str, Any] = {
        "strategy": strategy,
        "requested": by,
        "seed": seed,
        "valid_pct": valid_pct,
        "test": test,
        "counts": counts,
    }
    if grouped:
        info["groups"] = {
            name: len({_unit_of(it, i, "group") for i, it in pairs})
            for name, pairs in (("train", train_side), ("valid", valid_side), ("test", test_side))
        }
    if marked_valid:
        info["valid_from"] = "predefined"
    elif mirrored:
        info["valid_by"] = "recording: every group of the marked test side also has training items"
    if dropped:
        info["dropped_test"] = dropped
    missing = sorted(set(classes) - set(train.labels))
    if missing:
        info["classes_without_training_items"] = missing
    lacking = _missing_classes(classes, {"train": train, "valid": valid, "test": test_items})
    if lacking:
        info["missing_classes"] = lacking
        shown = "; ".join(f"{side} lacks {len(names)} of {len(classes)} classes "
                          f"({', '.join(map(repr, names[:8]))}{', ...' if len(names) > 8 else ''})"
                          for side, names in lacking.items())
        warnings.warn(f"not every class is on every side: {shown}. Metrics on a side miss the classes it "
                      "lacks; add items of those classes or change valid_pct.", MissingClassWarning, stacklevel=2)
    return Split(train=train, valid=valid, test=test_items, classes=classes, info=info)
