"""Parsing ``--param key=value`` options."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from any2img.errors import ParameterError

__all__ = ["parse_params"]


def parse_params(items: Sequence[str] | None, flag: str = "--param") -> dict[str, Any]:
    """Parse ``["k=v", ...]`` (the values of ``flag``); values are JSON when they parse, else strings.

    Examples
    --------
    >>> parse_params(["image_size=128", "cmap=viridis", "image_size=[64, 128]"])
    {'image_size': [64, 128], 'cmap': 'viridis'}
    """
    params: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"'{flag}' must look like key=value (got {item!r}).")
        lowered = raw.strip()
        try:
            value: Any = json.loads(lowered)
        except json.JSONDecodeError:
            value = {"none": None, "true": True, "false": False}.get(lowered.lower(), raw)
        params[key.strip()] = value
    return params
