"""Describe the machine and the software versions a run used."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

__all__ = ["machine_info", "machine_label"]

_PACKAGES = ("any2img", "numpy", "scikit-learn", "torch", "timm", "librosa", "pyts", "sktime", "aeon", "pillow")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine_info(*, with_torch: bool = True) -> dict[str, Any]:
    """Return CPU model, usable cores, GPU (if any), Python and package versions."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": _cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": None,
        "versions": {},
    }
    for name in _PACKAGES:
        try:
            info["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    if with_torch:
        try:
            import torch

            info["torch_threads"] = torch.get_num_threads()
            if torch.cuda.is_available():
                info["gpu"] = torch.cuda.get_device_name(0)
        except ImportError:
            pass
    return info


def machine_label(info: dict[str, Any]) -> str:
    """One short string for the CSV's ``machine`` column."""
    gpu = f" + {info['gpu']}" if info.get("gpu") else ""
    return f"{info['cpu']} ({info['cores']} cores){gpu}"
