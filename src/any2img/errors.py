"""One family of exceptions for any2img.

Every error the library raises on purpose derives from :class:`Any2ImgError`, so
a caller (and the CLI) can catch them all in one place. Messages follow one
shape: *what* (the parameter, file or field), *the rule*, and *what was got*,
e.g. ``"'image_size' must be an int >= 1 (got 0)."``.
"""

from __future__ import annotations

__all__ = [
    "Any2ImgError",
    "ArtifactError",
    "ConverterNotFoundError",
    "DuplicateConverterError",
    "InputError",
    "MissingDependencyError",
    "ParameterError",
    "PluginLoadError",
]


class Any2ImgError(Exception):
    """Base class of every error any2img raises deliberately."""


class ParameterError(Any2ImgError, ValueError):
    """A parameter has a value outside its rule."""


class InputError(Any2ImgError, ValueError):
    """An input (file, array, row) cannot be used.

    Parameters
    ----------
    message : str
        What is wrong and the rule it breaks.
    path : str or None, default=None
        The file the input came from; it is put in front of the message.
    """

    def __init__(self, message: str, *, path: object | None = None) -> None:
        self.path = None if path is None else str(path)
        self.reason = message
        super().__init__(message if path is None else f"{path}: {message}")


class ConverterNotFoundError(Any2ImgError, KeyError):
    """No converter is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else ""


class DuplicateConverterError(Any2ImgError, ValueError):
    """A converter name is registered twice without ``overwrite=True``."""


class MissingDependencyError(Any2ImgError, ImportError):
    """An optional dependency is not installed; the message names the extra.

    Attributes
    ----------
    extra : str or None
        The any2img extra that brings the dependency, when known.
    """

    extra: str | None = None


class PluginLoadError(Any2ImgError, ImportError):
    """A converter's entry point exists but its module or class cannot be loaded."""


class ArtifactError(Any2ImgError, ValueError):
    """A model artifact is missing, tampered with or does not match."""


def csv_input_error(exc: Exception, path: object) -> InputError:
    """An :class:`InputError` for a table that Python's ``csv`` module cannot read (e.g. an over-long field)."""
    import csv

    text = str(exc)
    if "field larger than field limit" in text:
        text = (f"a field is longer than {csv.field_size_limit():,} characters, the csv module's limit; "
                "is this a table with one value per field?")
    return InputError(f"not a readable table ({text})", path=None if path is None else str(path))
