"""any2img: turn signals that are not pictures into pictures, and learn from them.

The converter side (registry, converters, batch conversion) needs no torch;
the learning side (``Learner``, ``load``, ``Predictor``) is imported lazily on
first use, so ``import any2img`` stays light.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# OpenMP threads that spin while waiting make torch 10-30x slower on a CPU shared
# with other busy processes (measured: lite0 training steps of 0.4 s became 10-30 s
# with 2 threads on 2 busy cores). Passive waiting costs little on an idle machine.
# libgomp reads this when torch is first imported, so it must be set before; a
# value the user chose is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from any2img.batch import ConversionReport, convert_dir  # noqa: E402
from any2img.converter import Converter, Record, Window  # noqa: E402
from any2img.errors import (  # noqa: E402
    Any2ImgError,
    ArtifactError,
    ConverterNotFoundError,
    DuplicateConverterError,
    InputError,
    MissingDependencyError,
    ParameterError,
    PluginLoadError,
)
from any2img.registry import get_converter, list_converters, register_converter  # noqa: E402

#: Public names that live in modules needing the 'learn' extra (torch).
_LAZY = {
    "Learner": "any2img.learn.learner",
    "ImageDataset": "any2img.data.dataset",
    "DataSplits": "any2img.data.splits",
    "load": "any2img.predict",
    "evaluate": "any2img.evaluation",
    "Evaluation": "any2img.evaluation",
    "Predictor": "any2img.predict",
}

__all__ = [
    "Any2ImgError",
    "ArtifactError",
    "ConversionReport",
    "Converter",
    "ConverterNotFoundError",
    "DuplicateConverterError",
    "InputError",
    "MissingDependencyError",
    "ParameterError",
    "PluginLoadError",
    "Record",
    "Window",
    "__version__",
    "convert_dir",
    "get_converter",
    "list_converters",
    "register_converter",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'any2img' has no attribute {name!r}")
