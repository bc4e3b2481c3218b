"""The built-in converters, shipped as ``any2img.converters``.

They are registered through the entry-point group ``any2img.converters``
(see ``pyproject.toml``), exactly like a third-party plugin; importing this
package registers nothing.
"""
