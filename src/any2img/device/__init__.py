"""Converters on the device: torch implementations of the numpy converters that a GPU speeds up most.

``converters/`` imports no torch; this package is the torch side. A
converter name maps to its device implementation with the same parameters
(:func:`device_converter`), whose pictures match the numpy converter's within
the tolerance each module states (and the tests check on GunPoint series and
FSDD clips). :mod:`any2img.device.training` converts per batch inside
training, from raw windows, with no PNG read.
"""

from __future__ import annotations

from any2img.device.base import DeviceConverter
from any2img.device.registry import (
    DEVICE_CONVERTERS,
    IMPLEMENTATIONS,
    check_implementation,
    device_converter,
    has_device,
)

__all__ = [
    "DEVICE_CONVERTERS",
    "IMPLEMENTATIONS",
    "DeviceConverter",
    "check_implementation",
    "device_converter",
    "has_device",
]
