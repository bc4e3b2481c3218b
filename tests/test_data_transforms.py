"""Preprocessing from the model's config, one- and three-channel images, augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from any2img.data import items_from_arrays
from any2img.data.dataset import ImageDataset
from any2img.data.transforms import (
    DataConfig,
    SpecAugment,
    TimeShift,
    build_augment,
    preprocess,
    preprocess_batch,
    resize_image,
)
from any2img.errors import InputError, ParameterError

CFG = DataConfig(input_size=(3, 8, 12), mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 1.0), interpolation="bilinear")


def test_normalisation_uses_the_config_mean_and_std():
    img = np.full((8, 12, 3), 255, np.uint8)
    x = preprocess(img, CFG)
    assert x.shape == (3, 8, 12) and x.dtype == torch.float32
    # (1 - mean) / std per channel
    assert torch.allclose(x[:, 0, 0], torch.tensor([1.0, 3.0, 1.0]))
    assert torch.allclose(preprocess(np.zeros((8, 12, 3), np.uint8), CFG)[:, 0, 0], torch.tensor([-1.0, -1.0, 0.0]))


def test_grey_images_are_repeated_on_three_channels_and_resized():
    grey = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    x = preprocess(grey, CFG)
    assert x.shape == (3, 8, 12)
    unnorm = x * torch.tensor(CFG.std).view(3, 1, 1) + torch.tensor(CFG.mean).view(3, 1, 1)
    assert torch.allclose(unnorm[0], unnorm[1], atol=1e-6) and torch.allclose(unnorm[1], unnorm[2], atol=1e-6)
    assert preprocess_batch([grey, np.zeros((5, 5, 3), np.uint8)], CFG).shape == (2, 3, 8, 12)
    one = DataConfig((1, 8, 12), (0.5,), (0.5,))
    assert preprocess(np.zeros((4, 4, 3), np.uint8), one).shape == (1, 8, 12)


def test_resize_keeps_size_when_equal_and_handles_one_channel():
    img = np.zeros((8, 12, 1), np.uint8)
    assert resize_image(img, (8, 12)) is img
    assert resize_image(img, (4, 6)).shape == (4, 6, 1)
    assert resize_image(np.zeros((3, 3, 3), np.uint8), (5, 7), "bicubic").shape == (5, 7, 3)


def test_data_config_round_trip_and_checks():
    assert DataConfig.from_dict(CFG.to_dict()) == CFG
    with pytest.raises(ParameterError, match="one value per channel"):
        DataConfig.from_dict({"input_size": [3, 4, 4], "mean": [0.5], "std": [0.5]})


def test_specaugment_masks_bands_to_zero_and_is_seeded():
    x = torch.ones(3, 40, 50)
    aug = SpecAugment(time_masks=1, freq_masks=1, max_time=0.2, max_freq=0.2)
    torch.manual_seed(0)
    a = aug(x)
    torch.manual_seed(0)
    b = aug(x)
    assert torch.equal(a, b) and torch.equal(x, torch.ones(3, 40, 50))  # input untouched
    zero_cols = (a == 0).all(dim=0).all(dim=0)
    zero_rows = (a == 0).all(dim=0).all(dim=1)
    assert zero_cols.sum() <= 10 and zero_rows.sum() <= 8
    masked = (a == 0).all(dim=0)
    assert bool((masked == (zero_cols[None, :] | zero_rows[:, None])).all())  # only whole rows/columns


def test_timeshift_rolls_along_time_only():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)
    torch.manual_seed(1)
    y = TimeShift(max_shift=0.3)(x)
    shifts = [s for s in range(-3, 4) if torch.equal(torch.roll(x, s, dims=-1), y)]
    assert len(shifts) == 1
    assert torch.equal(TimeShift(max_shift=0.0)(x), x)


def test_build_augment():
    assert build_augment(None) is None and build_augment("none") is None
    assert isinstance(build_augment("specaugment"), SpecAugment)
    both = build_augment("specaugment+timeshift")
    assert [type(t) for t in both.transforms] == [SpecAugment, TimeShift]
    assert build_augment(["timeshift"]).__class__ is TimeShift
    fn = lambda t: t  # noqa: E731
    assert build_augment(fn) is fn
    with pytest.raises(ParameterError, match="'augment' must be None, a callable or among 'specaugment'"):
        build_augment("flip")
    with pytest.raises(ParameterError, match="'max_time'"):
        SpecAugment(max_time=2.0)(torch.zeros(1, 4, 4))


def test_dataset_targets_cache_and_no_augmentation_by_default():
    imgs = np.random.default_rng(0).integers(0, 255, (4, 10, 10, 3), dtype=np.uint8)
    items = items_from_arrays(imgs, ["b", "a", "b", None])
    ds = ImageDataset(items, ["a", "b"], CFG)
    assert ds.targets.tolist() == [1, 0, 1, -1]
    x0, y0 = ds[0]
    x1, _ = ds[0]
    assert y0 == 1 and torch.equal(x0, x1)  # deterministic: no flip, no crop, no noise
    assert 0 in ds._cache
    aug = ds.with_augment(SpecAugment())
    assert aug._cache is ds._cache and ds.augment is None
    with pytest.raises(InputError, match="label 'b' is not one of the model's classes"):
        ImageDataset(items, ["a", "c"], CFG)
