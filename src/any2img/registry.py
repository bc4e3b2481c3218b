"""The converter registry.

A module-level dict behind :func:`register_converter`, :func:`get_converter`
and :func:`list_converters`. Built-in converters and third-party plugins come
in the same way: through the entry-point group ``any2img.converters``, loaded
lazily (a plugin's module is imported only when its converter is asked for or
the registry is listed). Nothing registers itself as an import side effect.
"""

from __future__ import annotations

import warnings
from importlib import metadata
from typing import Any

from any2img.converter import KINDS, Converter
from any2img.errors import (
    ConverterNotFoundError,
    DuplicateConverterError,
    MissingDependencyError,
    ParameterError,
    PluginLoadError,
)

__all__ = ["ENTRY_POINT_GROUP", "get_converter", "get_converter_class", "list_converters", "register_converter"]

ENTRY_POINT_GROUP = "any2img.converters"

#: Optional dependency (top-level module) -> pip extra of any2img that brings it.
_EXTRAS = {
    "librosa": "audio",
    "soundfile": "audio",
    "pyts": "timeseries",
    "torch": "learn",
    "timm": "learn",
    "safetensors": "learn",
}

_registry: dict[str, type[Converter]] = {}
_pending: dict[str, metadata.EntryPoint] | None = None


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def _discover() -> dict[str, metadata.EntryPoint]:
    """Collect (without importing) the entry points not yet loaded."""
    global _pending
    if _pending is None:
        _pending = {}
        for ep in _entry_points():
            if ep.name in _pending and _pending[ep.name].value != ep.value:
                raise DuplicateConverterError(
                    f"converter '{ep.name}' is provided twice through entry points "
                    f"({_pending[ep.name].value} and {ep.value}); uninstall one of them."
                )
            _pending[ep.name] = ep
    return _pending


def reset_registry() -> None:
    """Forget every converter, so entry points are read again (for tests)."""
    global _pending
    _registry.clear()
    _pending = None


def _load(name: str, ep: metadata.EntryPoint) -> type[Converter]:
    try:
        cls = ep.load()
    except ImportError as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        extra = _EXTRAS.get(missing)
        if extra is None:
            raise PluginLoadError(
                f"converter '{name}' could not be imported from {ep.value} ({type(exc).__name__}: {exc})."
            ) from exc
        error = MissingDependencyError(
            f"converter '{name}' needs the optional dependency '{missing}', which is not installed: "
            f"pip install 'any2img[{extra}]'"
        )
        error.extra = extra
        raise error from exc
    _validate_class(cls, name)
    return cls


def _validate_class(cls: Any, name: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Converter)):
        raise ParameterError(f"converter '{name}' must be a subclass of any2img.Converter (got {cls!r}).")
    if cls.kind not in KINDS:
        raise ParameterError(f"converter '{name}': 'kind' must be one of {', '.join(KINDS)} (got {cls.kind!r}).")


def register_converter(
    cls: type[Converter] | None = None, *, name: str | None = None, overwrite: bool = False
) -> Any:
    """Register a converter class under ``name`` (default: ``cls.name``).

    Usable as a plain call or as a decorator (``@register_converter``).

    Parameters
    ----------
    cls : type of Converter
        The class to register.
    name : str, optional
        The registry name; defaults to ``cls.name``.
    overwrite : bool, default=False
        Replace a converter already registered under that name.

    Raises
    ------
    DuplicateConverterError
        If the name is taken and ``overwrite`` is False.
    """

    def _register(c: type[Converter]) -> type[Converter]:
        key = name or c.name
        if not key:
            raise ParameterError(f"converter class {c.__name__} has no 'name' and none was given.")
        _validate_class(c, key)
        pending = _discover()
        taken = key in _registry or key in pending
        if taken and not overwrite and _registry.get(key) is not c:
            where = _registry[key].__module__ if key in _registry else pending[key].value
            raise DuplicateConverterError(
                f"a converter named '{key}' is already registered (from {where}); "
                "pass overwrite=True to replace it."
            )
        pending.pop(key, None)
        _registry[key] = c
        return c

    return _register if cls is None else _register(cls)


def get_converter_class(name: str) -> type[Converter]:
    """Return the converter class registered under ``name``."""
    if name in _registry:
        return _registry[name]
    pending = _discover()
    if name in pending:
        _registry[name] = _load(name, pending[name])  # stays pending if loading fails
        del pending[name]
        return _registry[name]
    known = sorted(set(_registry) | set(pending))
    raise ConverterNotFoundError(
        f"unknown converter '{name}'; available converters: {', '.join(known) or '(none installed)'}."
    )


def get_converter(name: str, **params: Any) -> Converter:
    """Create the converter registered under ``name`` with ``params``.

    Examples
    --------
    >>> conv = get_converter("gadf", image_size=64)  # doctest: +SKIP
    >>> conv.convert(np.sin(np.linspace(0, 6, 150))).shape  # doctest: +SKIP
    (64, 64, 3)
    """
    cls = get_converter_class(name)
    valid = cls._param_names()
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ParameterError(
            f"'{unknown[0]}' is not a parameter of converter '{name}'; "
            f"valid parameters: {', '.join(valid) or '(none)'}."
        )
    return cls(**params)


def list_converters(kind: str | None = None) -> list[str]:
    """Return the sorted names of the converters, optionally of one ``kind``.

    Converters whose optional dependencies are missing are left out; a
    plugin that fails to import is left out with a ``RuntimeWarning``.
    """
    if kind is not None and kind not in KINDS:
        raise ParameterError(f"'kind' must be one of {', '.join(KINDS)} or None (got {kind!r}).")
    for name in list(_discover()):
        try:
            get_converter_class(name)
        except MissingDependencyError:
            continue  # an optional extra is not installed: leave it out quietly
        except PluginLoadError as exc:
            # One broken plugin must not hide the others; get_converter(name) raises.
            warnings.warn(f"skipping converter '{name}': {exc}", RuntimeWarning, stacklevel=2)
    return sorted(n for n, c in _registry.items() if kind is None or c.kind == kind)
