"""A torch ``Dataset`` over :class:`~any2img.data.items.ImageItems`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from any2img.data import items as _items
from any2img.data.items import ImageItems, Item
from any2img.data.transforms import DataConfig, _to_tensor, resize_image
from any2img.errors import InputError

__all__ = ["ImageDataset"]

#: Images are kept in memory (resized, uint8) when they take less than this.
CACHE_LIMIT_BYTES = 512 * 2**20


def load_image(item: Item) -> np.ndarray:
    """Decode one item's image; the dataset's single point of access to pixels."""
    return _items.load_image(item.image)


class ImageDataset(Dataset[tuple[torch.Tensor, int]]):
    """Items as ``(tensor (C, H, W), class index)`` pairs.

    Parameters
    ----------
    items : ImageItems or sequence of Item
    classes : sequence of str
        Class names; an item's target is the index of its label. An item
        without a label gets target ``-1``.
    config : DataConfig
        Input size, mean, std and resize filter of the model.
    augment : callable, optional
        Applied to the normalised tensor (training only).
    cache : bool or "auto", default="auto"
        Keep the resized uint8 images in memory after their first read;
        ``"auto"`` caches when they all fit in 512 MiB.

    Raises
    ------
    InputError
        An item's label is not one of ``classes``.
    """

    def __init__(
        self,
        items: ImageItems | Sequence[Item],
        classes: Sequence[str],
        config: DataConfig,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        cache: bool | str = "auto",
    ) -> None:
        self.items = items if isinstance(items, ImageItems) else ImageItems(items)
        self.classes = list(classes)
        self.config = config
        self.augment = augment
        index = {c: i for i, c in enumerate(self.classes)}
        targets = []
        for item in self.items:
            if item.label is None:
                targets.append(-1)
            elif item.label in index:
                targets.append(index[item.label])
            else:
                raise InputError(
                    f"label {item.label!r} is not one of the model's classes ({', '.join(self.classes)})",
                    path=item.describe(),
                )
        self.targets = np.asarray(targets, dtype=np.int64)
        h, w = config.size
        if cache == "auto":
            cache = len(self.items) * h * w * 3 <= CACHE_LIMIT_BYTES
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.items)

    def with_augment(self, augment: Callable[[torch.Tensor], torch.Tensor] | None) -> ImageDataset:
        """A view of the same items and image cache with another augmentation."""
        view = copy.copy(self)
        view.augment = augment
        return view

    def image(self, index: int) -> np.ndarray:
        """The resized uint8 image ``(H, W, C)`` of item ``index``."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        img = resize_image(load_image(self.items[index]), self.config.size, self.config.interpolation)
        if self._cache is not None:
            self._cache[index] = img
        return img

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = _to_tensor(self.image(index), self.config)
        if self.augment is not None:
            x = self.augment(x)
        return x, int(self.targets[index])
