"""The training thread rule: one torch thread for small CPU steps unless asked, the process's setting restored."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from any2img.data import items_from_arrays, split_items
from any2img.learn.threads import SMALL_STEP, chosen_threads, training_threads

CPU = torch.device("cpu")


def test_small_cpu_steps_train_on_one_thread():
    assert SMALL_STEP == 8 * 128 * 128
    assert chosen_threads(CPU, None, 8, (3, 128, 128)) == 1  # at the bound
    assert chosen_threads(CPU, None, 9, (3, 128, 128)) is None  # above it: torch's own
    assert chosen_threads(CPU, None, 32, (3, 64, 64)) == 1
    assert chosen_threads(CPU, None, 32, (3, 128, 64)) is None
    assert chosen_threads(CPU, 3, 32, (3, 128, 128)) == 3  # asked: kept
    assert chosen_threads(torch.device("cuda"), None, 8, (3, 64, 64)) is None


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_training_threads_restores_the_setting(two_threads):
    with training_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), training_threads(1):
        raise RuntimeError("a failing step")
    assert torch.get_num_threads() == 2
    with training_threads(None):
        assert torch.get_num_threads() == 2


def test_a_learner_trains_small_steps_on_one_thread_and_restores(two_threads):
    from any2img.learn import Learner

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    split = split_items(items_from_arrays(images, ["a", "b"] * 8), valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")
    seen = []
    learn.fit_one_cycle(1, on_epoch_end=lambda lrn, record: seen.append(torch.get_num_threads()))
    assert learn.training_threads == 1 and seen == [1]
    assert torch.get_num_threads() == 2  # the process's setting is the user's again
    asked = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu", num_threads=2)
    assert asked.training_threads == 2
