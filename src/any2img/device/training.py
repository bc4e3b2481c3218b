"""Training from raw signals, converted per batch on the device: no picture file is read.

``Learner(convert_on="device")`` swaps its datasets for these:

* :class:`RawWindowDataset` serves each training item's raw window (read
  from the item's source as :class:`~any2img.data.signals.SignalDataset`
  does, once per process, optionally perturbed in the signal domain), and
  :class:`DeviceLoader` batches the windows, moves them to the device and
  converts the whole batch there with the converter's torch implementation
  (:func:`~any2img.device.device_converter`), then resizes and normalises
  it: the model gets ``(N, C, H, W)`` float tensors already on its device;
* :class:`DeviceImageDataset` serves validation and test items: their
  pictures are computed once, in batches, by the same torch implementation,
  and kept in memory.

:func:`model_pictures` is the one step from converter pictures to the
model's input size (torch's antialiased filter of the model's
interpolation, rounded to uint8 as Pillow's resize of a PNG is); prediction
uses it too (``implementation: "torch"`` in ``model.json``), so a model sees
the same pixels in training and in prediction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from any2img.data.dataset import ImageDataset
from any2img.data.items import ImageItems
from any2img.data.signals import SignalDataset
from any2img.data.transforms import DataConfig, normalise
from any2img.device.base import DeviceConverter
from any2img.device.registry import device_converter
from any2img.errors import InputError, ParameterError

__all__ = [
    "CONVERT_ON",
    "DeviceImageDataset",
    "DeviceLoader",
    "RawWindowDataset",
    "check_convert_on",
    "collate_raw",
    "device_pictures",
    "model_pictures",
    "normalise",
]

#: Where training pictures come from: the conversion's image files, or the raw signals on the device.
CONVERT_ON = ("files", "device")

_MODES = {"bilinear": "bilinear", "bicubic": "bicubic", "nearest": "nearest", "box": "area", "hamming": "bilinear",
          "lanczos": "bicubic"}


def check_convert_on(value: Any) -> str:
    """Return ``convert_on`` if it is ``"files"`` or ``"device"``."""
    if value in CONVERT_ON:
        return str(value)
    raise ParameterError(f"'convert_on' must be 'files' or 'device' (got {value!r}).")


def _device_converter_of(items: ImageItems) -> DeviceConverter:
    info = items.converter
    if info is None:
        raise InputError("convert_on='device' needs the converter that made the images (none is recorded with "
                         "these items)", path=items.root)
    return device_converter(info["name"], **(info.get("params") or {}))


def model_pictures(pictures: Sequence[torch.Tensor], config: DataConfig) -> torch.Tensor:
    """Converter pictures ``(3, h, w)`` uint8 (any sizes) -> ``(N, 3, H, W)`` uint8 at the model's input size."""
    h, w = config.size
    mode = _MODES.get(config.interpolation, "bilinear")
    out = torch.empty((len(pictures), 3, h, w), dtype=torch.uint8, device=pictures[0].device if pictures else None)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(pictures):
        groups.setdefault(tuple(p.shape), []).append(i)
    for shape, members in groups.items():
        batch = torch.stack([pictures[i] for i in members])
        if shape[1:] != (h, w):
            kwargs: dict[str, Any] = {} if mode in ("nearest", "area") else {"align_corners": False,
                                                                             "antialias": True}
            resized = F.interpolate(batch.float(), size=(h, w), mode=mode, **kwargs)
            batch = torch.clamp(torch.round(resized), 0, 255).to(torch.uint8)
        out[members] = batch
    return out


class RawWindowDataset(SignalDataset):
    """Items as ``(raw window, class index)``: the window's samples as the torch converter takes them.

    Parameters
    ----------
    items : ImageItems
        From a conversion (``items_from_manifest``): ``root``, ``converter``
        and each item's ``source`` / ``record`` / ``window``. The image files
        are not read.
    classes : sequence of str
    config : DataConfig
    augment : bool, default=False
        Perturb each window with the converter's ``augment_signal`` first.
    options : dict, optional
        Its keyword options (``Learner(augment_options=...)``).
    """

    def __init__(self, items: ImageItems, classes: Sequence[str], config: DataConfig, augment: bool = False,
                 options: dict[str, Any] | None = None) -> None:
        super().__init__(items, classes, config, augment=augment, options=options)
        self.device_converter = _device_converter_of(items)

    def raw(self, index: int) -> np.ndarray:
        """The item's (perturbed) raw window."""
        data = self._window(self.items[index]).data
        if self.perturb:
            rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
            data = self.converter.augment_signal(data, rng, **self.options)
        return self.device_converter.raw(data)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:  # type: ignore[override]
        return self.raw(index), int(self.targets[index])


def collate_raw(batch: Sequence[tuple[np.ndarray, int]]) -> tuple[list[np.ndarray], torch.Tensor]:
    """Windows stay a list (audio windows differ in length); targets become a tensor."""
    return [raw for raw, _ in batch], torch.tensor([t for _, t in batch], dtype=torch.int64)


class DeviceLoader(DataLoader):  # type: ignore[type-arg]
    """A DataLoader over a :class:`RawWindowDataset` that yields model inputs converted on ``device``.

    Takes DataLoader's arguments (``collate_fn`` is set here); each batch of
    raw windows is moved to ``device``, converted as one batch per window
    shape, resized to the model's input and normalised there.
    """

    def __init__(self, dataset: RawWindowDataset, *args: Any, device: str | torch.device = "cpu",
                 **kwargs: Any) -> None:
        kwargs["collate_fn"] = collate_raw
        kwargs["pin_memory"] = False  # the windows are numpy arrays; conversion moves them
        super().__init__(dataset, *args, **kwargs)
        self.device = torch.device(device)
        self.device_converter = dataset.device_converter
        self.config = dataset.config

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:  # type: ignore[override]
        for raws, targets in super().__iter__():
            pictures = self.device_converter.convert_raw(raws, self.device)  # prepared by raw() already
            yield normalise(model_pictures(pictures, self.config), self.config), targets.to(self.device)


class DeviceImageDataset(ImageDataset):
    """Validation and test items with pictures computed by the torch converter, in batches, once.

    Parameters
    ----------
    items : ImageItems
        As for :class:`RawWindowDataset`; the image files are not read.
    classes : sequence of str
    config : DataConfig
    device : str or torch.device, default="cpu"
        Where the pictures are computed.
    batch_size : int, default=64
        Windows converted together.
    """

    def __init__(self, items: ImageItems, classes: Sequence[str], config: DataConfig,
                 device: str | torch.device = "cpu", batch_size: int = 64) -> None:
        super().__init__(items, classes, config, cache=False)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self._pictures = self._compute()  # before any DataLoader worker is forked

    def _compute(self) -> np.ndarray:
        raw = RawWindowDataset(self.items, self.classes, self.config)
        chunks = []
        for start in range(0, len(raw), self.batch_size):
            windows = [raw.raw(i) for i in range(start, min(start + self.batch_size, len(raw)))]
            pictures = raw.device_converter.convert_raw(windows, self.device)  # prepared by raw() already
            chunks.append(model_pictures(pictures, self.config).permute(0, 2, 3, 1).cpu().numpy())
        h, w = self.config.size
        return np.concatenate(chunks) if chunks else np.zeros((0, h, w, 3), np.uint8)

    def image(self, index: int) -> np.ndarray:
        """The item's picture ``(H, W, 3)`` uint8 at the model's input size."""
        return self._pictures[index]


def device_pictures(converter: Any, windows: Sequence[Any], config: DataConfig,
                    device: str | torch.device = "cpu") -> list[np.ndarray]:
    """Pictures ``(H, W, 3)`` uint8 at the model's input size, drawn by ``converter``'s torch implementation.

    What prediction does for a model trained with ``convert_on="device"``
    (``implementation: "torch"`` in its ``model.json``): the same torch
    converter and the same resize as in training. ``converter`` is the numpy
    converter, or its :class:`~any2img.device.base.DeviceConverter` already
    built (what a predictor keeps, so a long recording does not build one
    per batch).
    """
    torch_converter = converter if isinstance(converter, DeviceConverter) else device_converter(converter)
    pictures = torch_converter.convert_batch(windows, device)
    return list(model_pictures(pictures, config).permute(0, 2, 3, 1).cpu().numpy())
