"""benchmarks.fastai_compare: the time-to-accuracy bookkeeping (no training, no fastai needed)."""

from __future__ import annotations

import random

import numpy as np
import pytest

compare = pytest.importorskip("benchmarks.fastai_compare", reason="the comparison runs from a checkout")


def test_first_crossing_of_the_target_and_time_spent_before_the_start() -> None:
    clock = compare.Clock()
    clock.start()
    clock.curve = [{"epoch": 1, "test_acc": 0.9, "wall": 10.0, "cpu": 19.0},
                   {"epoch": 2, "test_acc": 0.99, "wall": 20.0, "cpu": 39.0},
                   {"epoch": 3, "test_acc": 1.0, "wall": 30.0, "cpu": 59.0}]
    out = clock.summary(extra_wall=5.0, extra_cpu=1.0)
    assert (out["epoch_to_target"], out["wall_to_target"], out["cpu_to_target"]) == (2, 25.0, 40.0)
    assert out["test_curve"] == "0.9000;0.9900;1.0000"


def test_never_reaching_the_target_leaves_the_crossing_empty() -> None:
    clock = compare.Clock()
    clock.start()
    clock.curve = [{"epoch": 1, "test_acc": 0.989, "wall": 1.0, "cpu": 1.0}]
    out = clock.summary()
    assert out["epoch_to_target"] == out["wall_to_target"] == out["cpu_to_target"] == ""


def test_scoring_leaves_the_random_states_and_the_curve_holds_its_value() -> None:
    torch = pytest.importorskip("torch")
    clock = compare.Clock()
    clock.start()
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002 - the global state is what the scoring must leave alone
    torch.manual_seed(1)

    def draws() -> float:
        random.random()
        np.random.rand()  # noqa: NPY002
        torch.rand(1)
        return 0.5

    clock.score(draws)
    after = (random.random(), float(np.random.rand()), float(torch.rand(1)))  # noqa: NPY002
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002
    torch.manual_seed(1)
    assert after == (random.random(), float(np.random.rand()), float(torch.rand(1)))  # noqa: NPY002
    assert [c["epoch"] for c in clock.curve] == [1] and clock.curve[0]["test_acc"] == 0.5
