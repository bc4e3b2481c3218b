"""The default training budget, best-epoch selection and per-recording accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from any2img.data import Item, items_from_arrays, split_items
from any2img.errors import ParameterError
from any2img.learn import Learner
from any2img.learn.budget import MAX_EPOCHS, MIN_STEPS, native_size, parse_duration, plan_budget
from any2img.learn.heldout import recording_accuracy


def test_budget_for_tiny_medium_and_large_sets():
    tiny = plan_budget(30, 2, 128)  # a small UCR set: 30 series
    assert tiny.batch_size == 8 and tiny.steps_per_epoch == 4  # 3 full batches, then 6 items
    assert tiny.epochs == 75 and tiny.steps == 300 and tiny.image_size == 128
    medium = plan_budget(300, 10, (128, 30))  # a few hundred clips of varying length
    assert medium.batch_size == 32 and medium.steps_per_epoch == 10 and medium.epochs == 30
    assert medium.image_size == (128, 64)  # 30 columns widened to 64, the least a stride-32 body keeps 2x2 of
    large = plan_budget(20000, 10, 224)
    assert large.batch_size == 32 and large.epochs == 4 and large.steps == 4 * 625
    assert large.image_size == 128  # no 224 px: pictures are drawn down, never up to the backbone's size
    few = plan_budget(3, 3, 16)  # fewer items than a batch: one step an epoch, MAX_EPOCHS of them
    assert few.batch_size == 8 and few.steps_per_epoch == 1 and few.epochs == MAX_EPOCHS
    assert "batch 8" in tiny.describe() and f">= {MIN_STEPS} steps" in tiny.describe()


def test_budget_explicit_values_and_time_budget():
    b = plan_budget(1000, 5, 64, batch_size=16, epochs=3, image_size=96)
    assert (b.batch_size, b.epochs, b.image_size) == (16, 3, 96) and "as given" in b.describe()
    cut = plan_budget(1000, 5, 64).fit_time(seconds_per_step=0.5, time_budget=60)  # 32 steps/epoch of 0.5 s
    assert cut.epochs == 3 and "time budget" in cut.describe()
    assert plan_budget(1000, 5, 64).fit_time(0.001, 600).epochs == plan_budget(1000, 5, 64).epochs
    assert plan_budget(1000, 5, 64).fit_time(10.0, 1).epochs == 1  # at least one epoch
    assert [parse_duration(t) for t in ("10m", "90s", "1.5h", "45", 30)] == [600, 90, 5400, 45, 30]
    for bad in ("soon", "-1m", "0"):
        with pytest.raises(ParameterError, match="'time_budget' must be"):
            parse_duration(bad)


def test_native_size_is_the_median_over_items():
    widths = [10, 30, 31, 32, 90]
    items = [Item(image=np.zeros((20, w), np.uint8), label="a") for w in widths]
    assert native_size(items) == (20, 31) and native_size([]) is None


def _patterns(n):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 60, (n, 24, 24), dtype=np.uint8)
    labels = []
    for i in range(n):
        if i % 2:
            imgs[i, :, ::4] = 255
        labels.append(("plain", "cols")[i % 2])
    return split_items(items_from_arrays(imgs, labels), valid_pct=0.25, seed=1)


def test_learner_defaults_follow_the_data():
    split = _patterns(40)
    learn = Learner(split, backbone="resnet10t", pretrained=False, verbose=False, device="cpu")
    assert learn.batch_size == 8 and learn.data_config.size == (64, 64)  # 24 px pictures: the 64 px floor
    assert learn.budget.steps >= MIN_STEPS and learn.budget.epochs == learn.budget.steps // learn.budget.steps_per_epoch


def test_exported_weights_are_the_selected_epochs(tmp_path, monkeypatch):
    split = _patterns(30)
    losses = iter([1.0, 0.4, 0.6, 0.7])  # epoch 2 is best; no early stopping: all four epochs run
    monkeypatch.setattr(Learner, "_validate", lambda self: (next(losses), {"accuracy": 0.5, "error_rate": 0.5,
                                                                             "macro_f1": 0.5}, None))
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=8, verbose=False,
                    device="cpu", selection="lowest")
    kept = {}

    def keep(learner, record):
        kept[record["epoch"]] = {k: v.clone() for k, v in learner.model.state_dict().items()}

    learn.fine_tune(4, 5e-3, on_epoch_end=keep)
    assert len(learn.history) == 4 and learn.selected_epoch == 2
    assert not all(torch.equal(kept[2][k], kept[4][k]) for k in kept[2])
    monkeypatch.undo()
    folder = learn.export(tmp_path / "m")
    from safetensors.torch import load_file

    exported = load_file(str(folder / "weights.safetensors"))
    assert all(torch.equal(exported[k], kept[2][k]) for k in kept[2])
    import json

    meta = json.loads((folder / "model.json").read_text())
    assert meta["training"]["fits"][-1]["selected_epoch"] == 2
    assert meta["training"]["fits"][-1]["selection"] == "lowest valid_loss"


def test_by_default_the_latest_epoch_within_noise_of_the_lowest_is_exported(tmp_path, monkeypatch):
    split = _patterns(30)
    items = iter([[1.0] * 4, [0.4] * 4, [0.45, 0.35, 0.5, 0.3], [0.9] * 4])  # 3 ties with 2 (mean diff 0)
    monkeypatch.setattr(Learner, "_validate", lambda self: (float(np.mean(v := next(items))), {
        "accuracy": 0.5, "error_rate": 0.5, "macro_f1": 0.5}, np.array(v)))
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=8, verbose=False,
                    device="cpu")
    kept = {}

    def keep(learner, record):
        kept[record["epoch"]] = {k: v.clone() for k, v in learner.model.state_dict().items()}

    learn.fine_tune(4, 5e-3, on_epoch_end=keep)
    assert learn.selection == "paired" and learn.selected_epoch == 3
    assert all(torch.equal(v, kept[3][k]) for k, v in learn.model.state_dict().items())
    monkeypatch.undo()
    import json

    meta = json.loads((learn.export(tmp_path / "m") / "model.json").read_text())
    assert meta["training"]["fits"][-1]["selected_epoch"] == 3
    assert meta["training"]["fits"][-1]["selection"].startswith("latest epoch within 2 standard errors")


def test_early_stopping_fires_after_patience_epochs_without_improvement(monkeypatch):
    split = _patterns(30)
    losses = iter([1.0, 0.5, 0.49, 0.52, 0.51, 0.9, 0.9])  # best at epoch 3; epochs 4 and 5 bring nothing lower
    monkeypatch.setattr(Learner, "_validate", lambda self: (next(losses), {"accuracy": 0.5, "error_rate": 0.5,
                                                                             "macro_f1": 0.5}, None))
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=8, verbose=False,
                    device="cpu", early_stopping=True, patience=2)
    with pytest.warns(UserWarning, match="no lower validation loss for 2 epochs"):
        learn.fine_tune(7, 5e-3)
    assert len(learn.history) == 5 and learn.selected_epoch == 3


def test_recording_accuracy_averages_windows():
    items = [Item(image="x", label="a", source="r1.wav"), Item(image="x", label="a", source="r1.wav"),
             Item(image="x", label="b", source="r2.wav"), Item(image="x", label="b", source="r2.wav")]
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4]])  # per window: 2 of 4 right
    out = recording_accuracy(probs, np.array([0, 0, 1, 1]), items)
    assert out == {"recording_accuracy": 1.0, "n_recordings": 2}  # means 0.65 for a, 0.55 for b
    assert recording_accuracy(probs[:2], np.array([0, 1]), [Item(image="x", source="a"),
                                                            Item(image="x", source="b")]) is None


def test_time_budget_cuts_the_epochs_from_a_timed_probe():
    split = _patterns(40)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, verbose=False, device="cpu")
    before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    per_step = learn._seconds_per_step()
    assert per_step > 0 and all(torch.equal(before[k], v) for k, v in learn.model.state_dict().items())
    learn.fine_tune(time_budget=0.01)  # far less than one epoch: one epoch, then the deadline stops the run
    assert learn.budget.epochs == 1 and len(learn.history) == 1 and "time budget" in learn.budget.describe()
