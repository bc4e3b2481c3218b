"""The learner's data: a dataset per side of the split, and the training loader.

:class:`Loaders` builds what the :class:`~any2img.learn.learner.Learner`
reads: for ``"train"``, ``"valid"`` and ``"test"`` an
:class:`~any2img.data.dataset.ImageDataset` of the pictures the conversion
wrote (or, with ``convert_on="device"``, a
:class:`~any2img.device.training.DeviceImageDataset` that draws them from the
raw sources on the device), and for training a loader over the training side
with its augmentation: a transform of the pictures, pictures drawn afresh
from perturbed signals (``augment="signal"``), or raw windows converted per
batch on the device. The loader shuffles with the learner's generator, so a
resumed run draws the same batches as an uninterrupted one; under torchrun
it takes this rank's share of each global batch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch.utils.data import DataLoader

from any2img.data.dataset import ImageDataset
from any2img.data.items import ImageItems
from any2img.data.splits import Split
from any2img.learn import distributed
from any2img.learn.seeding import seed_worker
from any2img.validation import check_choice

__all__ = ["Loaders"]


class Loaders:
    """Datasets for the sides of ``split`` (built once each) and loaders over the training side.

    Parameters
    ----------
    split : Split
    classes : list of str
    data_config : DataConfig
        The backbone's input size and normalisation.
    augment : callable, optional
        A transform of the training pictures (:func:`~any2img.data.transforms.build_augment`).
    signal_augment : bool
        Draw the training pictures afresh from perturbed raw signals instead (``augment="signal"``).
    signal_options : dict, optional
        The keyword options of that perturbation (``Learner(augment_options=...)``).
    convert_on : {"files", "device"}
    device : torch.device
    batch_size, seed, num_workers : int
    generator : torch.Generator
        Shuffles the training side (the learner's, saved in its checkpoints).
    epoch : callable
        The number of epochs trained so far (the epoch of a distributed sampler).
    """

    def __init__(self, split: Split, classes: list[str], data_config: Any, *, augment: Any, signal_augment: bool,
                 signal_options: dict[str, Any] | None = None, convert_on: str, device: torch.device,
                 batch_size: int, seed: int, num_workers: int, generator: torch.Generator,
                 epoch: Callable[[], int]) -> None:
        self.split, self.classes, self.data_config = split, classes, data_config
        self.augment, self.signal_augment, self.signal_options = augment, signal_augment, signal_options
        self.convert_on, self.device = convert_on, device
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.generator, self.epoch = generator, epoch
        self.datasets: dict[str, ImageDataset] = {}

    def dataset(self, side: str | ImageItems) -> ImageDataset:
        """The dataset of a side of the split (kept), or of the given items (new each time)."""
        if isinstance(side, ImageItems):
            return self.new_dataset(side)
        check_choice("split", side, ("train", "valid", "test"))
        if side not in self.datasets:
            self.datasets[side] = self.new_dataset(self.split.side(side))
        return self.datasets[side]

    def new_dataset(self, items: ImageItems) -> ImageDataset:
        """The pictures of ``items`` as the model reads them, without augmentation."""
        if self.convert_on == "device":  # pictures by the torch converter, from the raw sources
            from any2img.device.training import DeviceImageDataset

            return DeviceImageDataset(items, self.classes, self.data_config, device=self.device)
        return ImageDataset(items, self.classes, self.data_config)

    def train_dataset(self) -> ImageDataset:
        """The training side with its augmentation, kept until :meth:`forget_train`."""
        base = self.dataset("train")
        if "train_aug" not in self.datasets:
            if self.convert_on == "device":  # raw windows, converted per batch by DeviceLoader
                from any2img.device.training import RawWindowDataset

                self.datasets["train_aug"] = RawWindowDataset(self.split.train, self.classes, self.data_config,
                                                              augment=self.signal_augment,
                                                              options=self.signal_options)
            elif self.signal_augment:
                from any2img.data.signals import SignalDataset

                self.datasets["train_aug"] = SignalDataset(self.split.train, self.classes, self.data_config,
                                                           options=self.signal_options)
            else:
                self.datasets["train_aug"] = base.with_augment(self.augment)
        return self.datasets["train_aug"]

    def forget_train(self) -> None:
        """Drop the augmented training dataset (after a run or a trial), so the next one builds it afresh."""
        self.datasets.pop("train_aug", None)

    def train_loader(self) -> DataLoader[tuple[torch.Tensor, int]]:
        """Shuffled batches of the training side, with its augmentation."""
        ds = self.train_dataset()
        # under torchrun: a DistributedSampler, and this rank's share of the global batch
        sampler, batch_size = distributed.train_sampling(ds, self.batch_size, self.seed, self.epoch)
        n = len(sampler) if sampler is not None else len(ds)
        loader_type: Any = DataLoader
        if self.convert_on == "device":
            from any2img.device.training import DeviceLoader

            loader_type = partial(DeviceLoader, device=self.device)
        return loader_type(  # a DeviceLoader converts each batch on the device
            ds,
            batch_size=batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=self.generator,
            num_workers=self.num_workers,
            worker_init_fn=seed_worker if self.num_workers else None,
            drop_last=n > batch_size and n % batch_size == 1,  # no batch of one for BatchNorm
            pin_memory=self.device.type == "cuda",
        )
