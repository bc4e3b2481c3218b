"""Where a source's label and group come from.

A rule is one of:

* ``"parent"`` — the name of the folder that holds the file;
* ``"stem"`` — the file name without its suffix;
* ``"none"`` — no value;
* a regular expression with a named group (``(?P<label>...)`` for labels,
  ``(?P<group>...)`` for groups) matched against the file name, e.g.
  FSDD's ``(?P<label>\\d+)_(?P<group>[a-z]+)_\\d+``;
* a callable ``f(path) -> str | None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from any2img.errors import InputError, ParameterError

__all__ = ["SPLITS", "SPLIT_ALIASES", "LabelRule", "parse_rule", "split_of"]

LabelRule = str | Callable[[Path], str | None] | None

#: The split marks a source or an image may carry.
SPLITS = ("train", "valid", "test")
#: Top-level folder (or table file) names that mark a predefined split, in any case, and the split they
#: mean. The one table for converting (:func:`any2img.convert_dir`) and for training (image folders).
SPLIT_ALIASES = {"train": "train", "valid": "valid", "val": "valid", "validation": "valid", "test": "test"}


def parse_rule(rule: LabelRule, field: str) -> Callable[[Path], str | None]:
    """Turn a label or group rule into a function of the source path.

    Parameters
    ----------
    rule : str, callable or None
        See the module docstring.
    field : {"label", "group"}
        The named regex group to use for a pattern.
    """
    if rule is None or rule == "none":
        return lambda path: None
    if callable(rule):
        return rule
    if rule == "parent":
        return lambda path: path.parent.name or None
    if rule == "stem":
        return lambda path: path.stem
    if not isinstance(rule, str):
        raise ParameterError(f"'{field}_from' must be 'parent', 'stem', 'none', a regex or a callable (got {rule!r}).")
    try:
        regex = re.compile(rule)
    except re.error as exc:
        raise ParameterError(f"'{field}_from' is not a valid regular expression ({exc}) (got {rule!r}).") from exc
    if field not in regex.groupindex:
        raise ParameterError(
            f"'{field}_from' must be 'parent', 'stem', 'none' or a regex with a named group "
            f"(?P<{field}>...) (got {rule!r})."
        )

    def from_name(path: Path) -> str | None:
        match = regex.search(path.name)
        if match is None:
            raise InputError(f"file name does not match the {field} pattern {rule!r}", path=path)
        return match.group(field)

    return from_name


def split_of(relative: Path) -> str | None:
    """Return the predefined split a source's relative path marks, if any.

    ``train/cat/x.wav`` and ``test.csv`` mark ``"train"`` and ``"test"``;
    ``val/`` and ``validation/`` mark ``"valid"`` (see :data:`SPLIT_ALIASES`).
    """
    parts = relative.parts
    if not parts:
        return None
    first = Path(parts[0]).stem if len(parts) == 1 else parts[0]
    return SPLIT_ALIASES.get(first.lower())
