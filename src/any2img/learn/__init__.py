"""Fine-tuning pretrained timm backbones on images (needs the 'learn' extra: torch, timm).

The learner knows images only: nothing here reads audio, series or mouse logs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "Learner": "any2img.learn.learner",
    "seed_everything": "any2img.learn.seeding",
    "LRFindResult": "any2img.learn.schedule",
    "Interpretation": "any2img.learn.interpret",
    "create_backbone": "any2img.learn.backbones",
    "Backbone": "any2img.learn.backbones",
    "METRICS": "any2img.learn.metrics",
    "OverfittingWarning": "any2img.learn.callbacks",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'any2img.learn' has no attribute {name!r}")
