"""Which converters have a device (torch) implementation, and building one.

:func:`device_converter` takes a converter name and the *same* parameters as
:func:`any2img.get_converter`: it builds the numpy converter (which checks the
parameters and keeps reading and windowing) and wraps it in the torch class
that draws its pictures. Modules are imported only when their converter is
asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from any2img.converter import Converter
from any2img.device.base import DeviceConverter
from any2img.errors import ParameterError

__all__ = ["DEVICE_CONVERTERS", "IMPLEMENTATIONS", "check_implementation", "device_converter", "has_device"]

#: Converter name -> ``module:class`` of its torch implementation.
DEVICE_CONVERTERS: dict[str, str] = {
    "gasf": "any2img.device.gaf:DeviceGAF",
    "gadf": "any2img.device.gaf:DeviceGAF",
    "mtf": "any2img.device.mtf:DeviceMTF",
    "recurrence": "any2img.device.recurrence:DeviceRecurrence",
    "lineplot": "any2img.device.lineplot:DeviceLinePlot",
    "mel": "any2img.device.spectrograms:DeviceMel",
    "stft": "any2img.device.spectrograms:DeviceSTFT",
    "mfcc": "any2img.device.spectrograms:DeviceMFCC",
}

#: What trained a model's pictures: the numpy converters, or their torch implementations.
IMPLEMENTATIONS = ("numpy", "torch")


def check_implementation(value: Any) -> str:
    """Return ``value`` if it is ``"numpy"`` or ``"torch"``, else raise ParameterError."""
    if value in IMPLEMENTATIONS:
        return str(value)
    raise ParameterError(f"'implementation' must be 'numpy' or 'torch' (got {value!r}).")


def has_device(name: str) -> bool:
    """Whether converter ``name`` has a torch implementation."""
    return name in DEVICE_CONVERTERS


def device_converter(name: str | Converter, **params: Any) -> DeviceConverter:
    """The torch implementation of converter ``name`` with ``params``.

    Parameters
    ----------
    name : str or Converter
        A converter name (parameters as :func:`any2img.get_converter` takes
        them), or a built numpy converter (then ``params`` must be empty).
    **params
        The numpy converter's parameters.

    Raises
    ------
    ParameterError
        The converter has no device implementation (the message lists those
        that have one), or a parameter is invalid.

    Examples
    --------
    >>> device_converter("gadf", image_size=32).convert(np.sin(np.linspace(0, 6, 100))).shape  # doctest: +SKIP
    (32, 32, 3)
    """
    if isinstance(name, Converter):
        if params:
            raise ParameterError("give either a built converter or a name with parameters, not both.")
        converter = name
    else:
        from any2img.registry import get_converter

        if not has_device(name):
            raise ParameterError(
                f"converter {name!r} has no device (torch) implementation; those that have one: "
                f"{', '.join(sorted(DEVICE_CONVERTERS))}."
            )
        converter = get_converter(name, **params)
    if not has_device(converter.name):
        raise ParameterError(
            f"converter {converter.name!r} has no device (torch) implementation; those that have one: "
            f"{', '.join(sorted(DEVICE_CONVERTERS))}."
        )
    module, _, cls = DEVICE_CONVERTERS[converter.name].partition(":")
    impl: type[DeviceConverter] = getattr(import_module(module), cls)
    return impl(converter)
