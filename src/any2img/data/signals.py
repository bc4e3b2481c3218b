"""Training pictures drawn afresh from the raw signals, with signal-domain augmentation.

A :class:`SignalDataset` serves the same items as an
:class:`~any2img.data.dataset.ImageDataset`, but instead of the stored PNG
it reads each item's source again (once per process, then cached), cuts the
item's window, perturbs the window's signal with the converter's own
``augment_signal`` (time shift, scaling, jitter, slicing for series; speed,
shift, gain, colouring, noise for audio; rotation, scale, time jitter for mouse paths)
and converts it, per item, inside the DataLoader's workers. The label is
the item's; only the training side is ever served this way.

It needs what a conversion records: ``conversion.json`` (the converter, its
parameters and the source folder) beside the manifest, and each item's
``source``, ``record`` and ``window``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from any2img.converter import Converter
from any2img.data.dataset import ImageDataset
from any2img.data.items import ImageItems, Item
from any2img.data.transforms import DataConfig, resize_image
from any2img.errors import Any2ImgError, InputError, ParameterError

__all__ = ["SignalDataset", "augment_options", "default_augment"]


def _source_root(items: ImageItems) -> Path:
    conv = None if items.root is None else Path(items.root) / "conversion.json"
    if conv is None or not conv.is_file():
        raise InputError("signal-domain augmentation needs the conversion's conversion.json (the raw sources and "
                         "the converter); these items do not come from 'any2img convert'", path=items.root)
    src = Path(json.loads(conv.read_text(encoding="utf-8"))["src"])
    root = src.parent if src.is_file() else src
    if not root.exists():
        raise InputError(f"signal-domain augmentation reads the raw sources again, but {str(root)!r} "
                         "(conversion.json 'src') does not exist here", path=conv)
    return root


def default_augment(items: ImageItems) -> str | None:
    """What ``augment="auto"`` means for these training items: ``"signal"`` or None (no augmentation).

    ``"signal"`` where the converter that drew the pictures augments by default
    (:attr:`~any2img.converter.Converter.augments_by_default`: the audio and
    series families and ``mouse_histogram``, measured to win on the
    validation protocol) and its raw sources
    can be read again (the conversion's ``conversion.json`` names a folder that
    exists, and every item names its source); otherwise None, so pictures
    without their sources, or from a family where augmentation was not
    measured to win, train as they are.
    """
    info = items.converter
    if not info or not len(items):
        return None
    from any2img.registry import get_converter_class

    try:
        family = get_converter_class(info["name"])
        if not family.augments_by_default or any(it.source is None for it in items):
            return None
        _source_root(items)
    except (Any2ImgError, KeyError):  # an unknown or unloadable converter, or sources gone: train as they are
        return None
    return "signal"


def augment_options(items: ImageItems, options: dict[str, Any] | None, augment: Any, tta: int) -> dict[str, Any]:
    """``options`` of the signal augmentation of ``items``' converter, checked; ``{}`` when none are given.

    Raises
    ------
    ParameterError
        Options are given but nothing perturbs signals: ``augment`` (what
        ``"auto"`` became) is not ``"signal"`` and there are no test-time
        passes (``tta`` 0); or the converter does not take them.
    InputError
        The items do not record the converter that drew them.
    """
    if not options:
        return {}
    if augment != "signal" and not tta:
        raise ParameterError(f"augment_options apply to signal-domain augmentation, but nothing perturbs signals "
                             f"here (augment is {augment!r}, tta is 0); pass augment='signal' (or leave 'auto' where "
                             "it resolves to it: audio pictures with their sources) or tta > 0.")
    return _converter_of(items, "augment_options need").check_augment_options(options)


def _converter_of(items: ImageItems, who_needs: str) -> Converter:
    """The converter recorded with ``items`` (the one that drew them), built with its parameters.

    Raises
    ------
    InputError
        None is recorded; the message starts with ``who_needs``.
    """
    info = items.converter
    if not info:
        raise InputError(f"{who_needs} the converter that made the images (none is recorded with these items)",
                         path=items.root)
    from any2img.registry import get_converter

    return get_converter(info["name"], **(info.get("params") or {}))


class SignalDataset(ImageDataset):
    """Items as ``(tensor, class index)``, each picture converted afresh from its perturbed raw signal.

    Parameters
    ----------
    items : ImageItems
        From a conversion (``items_from_manifest``): with ``root``,
        ``converter`` and per-item ``source`` / ``record`` / ``window``.
    classes : sequence of str
    config : DataConfig
    augment : bool, default=True
        Perturb the signal (False redraws the stored picture exactly, which
        the tests use to check the pipeline).
    seed : int, optional
        Perturb every item with numpy's generator seeded ``seed`` afresh (a
        test-time augmentation pass: the same draw whenever the item is
        seen, the same as :class:`~any2img.predict.Predictor` draws for a
        window). None: a new draw per item from torch's generator (training).
    options : dict, optional
        Keyword options of the converter's ``augment_signal`` (checked by its
        ``check_augment_options``); None: the family's defaults.

    Raises
    ------
    InputError
        The items do not come from a conversion, or its sources are gone.
    """

    def __init__(self, items: ImageItems, classes: Sequence[str], config: DataConfig, augment: bool = True,
                 seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        super().__init__(items, classes, config, cache=False)
        self.converter = _converter_of(items, "signal-domain augmentation needs")
        self.root = _source_root(items)
        self.perturb = augment
        self.seed = seed
        self.options = self.converter.check_augment_options(options)
        self._windows: dict[str, dict[str, list[Any]]] = {}
        missing = [it.describe() for it in items if it.source is None]
        if missing:
            raise InputError(f"{len(missing)} items do not name their source (e.g. {missing[0]})", path=items.root)

    def _window(self, item: Item) -> Any:
        source = str(item.source)
        if source not in self._windows:  # read each source once per process
            path = self.root / source
            self._windows[source] = {r.key: self.converter.segment(r.signal)
                                     for r in self.converter.read_records(path)}
        windows = self._windows[source].get(item.record or "")
        if not windows:
            raise InputError(f"record {item.record!r} is not in the source any more", path=self.root / source)
        index = int((item.window or {}).get("index", 0))
        return windows[min(index, len(windows) - 1)]

    def image(self, index: int) -> np.ndarray:
        """The item's picture, drawn from its (perturbed) window, resized to the model's input."""
        window = self._window(self.items[index])
        data = window.data
        if self.perturb:
            # torch's generator: seeded by the Learner in the main process and per worker by the DataLoader
            rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()) if self.seed is None else self.seed)
            data = self.converter.augment_signal(data, rng, **self.options)
        picture = self.converter.convert(data)
        return resize_image(picture, self.config.size, self.config.interpolation)
