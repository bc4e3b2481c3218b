"""Refit on train + valid: the same settings, a budget for the larger side, both sides recorded as seen."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_learn_cli import FAST, _write_dataset

from any2img.cli import main
from any2img.data import items_from_arrays, split_items
from any2img.errors import InputError
from any2img.learn import Learner
from any2img.learn.refit import merged_split, refit


def _split(n: int = 40, valid_pct: float = 0.25):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8)
    labels = [("a", "b")[i % 2] for i in range(n)]
    return split_items(items_from_arrays(imgs, labels), valid_pct=valid_pct, seed=0, test=0.2)


def test_merged_split_moves_valid_onto_train_and_leaves_test_alone():
    split = _split()
    merged = merged_split(split)
    assert [it.key for it in merged.train] == [it.key for it in (*split.train, *split.valid)]
    assert len(merged.valid) == 0 and [it.key for it in merged.test] == [it.key for it in split.test]
    assert merged.info["counts"] == {"train": len(split.train) + len(split.valid), "valid": 0,
                                     "test": len(split.test)}
    assert merged.classes == split.classes and merged.info["refit"]["valid_moved_to_train"] == len(split.valid)


def test_refit_keeps_the_settings_replans_the_budget_and_records_the_selection_run():
    split = _split()
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=16, seed=3, mixup=0.2,
                    label_smoothing=0.1, verbose=False, device="cpu")
    learn.fit_one_cycle(1, 1e-3)
    learn.evaluate("valid")
    new = refit(learn)
    assert new is not learn and len(new.split.train) == len(split.train) + len(split.valid)
    assert (new.backbone, new.seed, new.mixup, new.label_smoothing) == ("resnet10t", 3, 0.2, 0.1)
    assert new.data_config.size == learn.data_config.size
    assert new.budget.batch_size == 8 and new.budget.epochs * new.budget.steps_per_epoch >= 300
    assert new.refit_of["valid"] == learn.evaluations["valid"] and new.refit_of["epochs"] == 1
    assert new.history == []  # untrained: the caller fine-tunes it
    fixed = refit(Learner(split, backbone="resnet10t", pretrained=False, image_size=16, batch_size=4,
                          verbose=False, device="cpu"))
    assert fixed.batch_size == 4  # a batch size that was given stays given
    no_valid = split_items(items_from_arrays(np.zeros((6, 8, 8, 3), np.uint8), ["a", "b"] * 3), valid_pct=0.0)
    with pytest.raises(InputError, match="has none"):
        refit(Learner(no_valid, backbone="resnet10t", pretrained=False, image_size=8, verbose=False))


def test_cli_refit_exports_the_refit_model_and_evaluate_leaves_out_both_sides(tmp_path, capsys):
    data, model = tmp_path / "images", tmp_path / "model"
    _write_dataset(data)
    code = main(["train", str(data), "--out", str(model), "--epochs", "1", "--refit", *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "refit on train + valid (16 images)" in out and "the refit on train + valid" in out
    meta = json.loads((model / "model.json").read_text())
    assert meta["split"]["counts"] == {"train": 16, "valid": 0, "test": 6}
    assert len(meta["split"]["fingerprints"]["train"]) == 16 and meta["split"]["fingerprints"]["valid"] == []
    assert meta["training"]["refit_of"]["valid_items"] > 0 and "valid" in meta["training"]["refit_of"]
    assert "test" in meta["metrics"]
    code = main(["evaluate", str(model), str(data), "--all", "--out", str(tmp_path / "r"), "-q"])
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert code == 0 and metrics["n"] == 6 and metrics["left_out_seen"] == 16
