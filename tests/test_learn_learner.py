"""The Learner's mechanics on tiny synthetic images with a tiny model trained from scratch."""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
import torch

from any2img.data import dataset as dataset_module
from any2img.data import items_from_arrays, split_items
from any2img.errors import InputError, ParameterError
from any2img.learn import Learner
from any2img.learn.callbacks import OverfitMonitor, OverfittingWarning
from any2img.learn.schedule import param_groups

SIZE = 32


def _patterns(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three classes a person tells apart at a glance: columns, rows, a square."""
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for i in range(n):
        c = i % 3
        img = rng.integers(0, 60, (24, 24), dtype=np.uint8)
        if c == 0:
            img[:, ::4] = 255
        elif c == 1:
            img[::4, :] = 255
        else:
            img[8:16, 8:16] = 255
        imgs.append(img)
        labels.append(("cols", "rows", "square")[c])
    return np.stack(imgs), labels


@pytest.fixture(scope="module")
def split():
    imgs, labels = _patterns(60)
    return split_items(items_from_arrays(imgs, labels), valid_pct=0.25, seed=1, test=0.2)


def _learner(split, **kw):
    opts = {"backbone": "resnet10t", "pretrained": False, "image_size": SIZE, "batch_size": 8, "seed": 0,
            "verbose": False, "device": "cpu"}
    opts.update(kw)
    return Learner(split, **opts)


def _records(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def test_fit_learns_reports_and_evaluates(split, capsys):
    learn = _learner(split, verbose=True)
    assert not learn._amp  # mixed precision only on CUDA
    records = learn.fit_one_cycle(3, 5e-3)
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header == ["epoch", "phase", "train_loss", "valid_loss", "accuracy", "error_rate", "macro_f1", "time"]
    assert len(out.splitlines()) == 4
    assert [r["epoch"] for r in records] == [1, 2, 3] and learn.history == records
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    valid = learn.evaluate("valid")
    assert valid["accuracy"] >= 0.9 and math.isclose(valid["error_rate"], 1 - valid["accuracy"])
    assert valid["n"] == len(split.valid)
    probs, targets = learn.get_preds("valid")
    assert probs.shape == (len(split.valid), 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert math.isclose(valid["accuracy"], float(np.mean(probs.argmax(1) == targets)))
    test = learn.evaluate("test")
    assert test["n"] == len(split.test) and set(learn.evaluations) == {"valid", "test"}


def test_training_never_reads_the_test_side(split, monkeypatch):
    seen: list[str] = []
    real = dataset_module.load_image

    def spy(item):
        seen.append(item.key)
        return real(item)

    monkeypatch.setattr(dataset_module, "load_image", spy)
    test_keys = {it.key for it in split.test}
    learn = _learner(split)
    learn.lr_find(num_it=5)
    learn.fine_tune(1, freeze_epochs=1)
    learn.evaluate("valid")
    learn.get_preds("train")
    learn.interpret("valid")
    assert seen and not test_keys & set(seen)
    learn.evaluate("test")
    assert test_keys <= set(seen)


def test_same_seed_same_run(split):
    # One thread, so that exact equality does not depend on how threads split sums.
    a = _learner(split, num_threads=1).fit_one_cycle(2, 5e-3)
    b = _learner(split, num_threads=1).fit_one_cycle(2, 5e-3)
    assert _records(a) == _records(b)
    c = _learner(split, seed=1, num_threads=1).fit_one_cycle(2, 5e-3)
    assert _records(a) != _records(c)


def _draws():
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()  # noqa: NPY002


def _seed_process(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)


def test_the_process_random_state_is_left_alone(split):
    # the learner works with random states of its own: nothing it does moves the process's generators,
    # and what the process draws between its calls does not change its runs
    _seed_process(123)
    expected = _draws()
    _seed_process(123)
    learn = _learner(split, augment="specaugment", mixup=0.4, num_threads=1)
    learn.lr_find(num_it=3)
    learn.fit_one_cycle(1, 5e-3)
    learn.get_preds("valid")
    learn.evaluate("valid")
    assert _draws() == expected
    a = _learner(split, augment="specaugment", num_threads=1)
    _draws()
    runs = [a.fit_one_cycle(1, 5e-3), _learner(split, augment="specaugment", num_threads=1).fit_one_cycle(1, 5e-3)]
    assert _records(runs[0]) == _records(runs[1])


def _assert_same_records(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(_records(a), _records(b)):
        assert ra.keys() == rb.keys()
        for key, value in ra.items():
            if isinstance(value, float):
                assert value == pytest.approx(rb[key], rel=1e-5, abs=1e-7), key
            else:
                assert value == rb[key], key


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_after", [1, 2])
def test_resume_after_interruption_equals_uninterrupted_run(split, tmp_path, stop_after):
    # One thread: multi-threaded CPU reductions may sum in another order on a busy
    # machine (seen in CI: weights off by ~1e-5 after 3 epochs), which is not what
    # this test is about.
    full = _learner(split, num_threads=1)
    full.fine_tune(2, base_lr=5e-3, freeze_epochs=1, checkpoint_dir=tmp_path / "full")

    def interrupt(learn, record):
        if record["epoch"] == stop_after:
            raise _Interrupt

    cut = _learner(split, num_threads=1)
    with pytest.raises(_Interrupt):
        cut.fine_tune(2, base_lr=5e-3, freeze_epochs=1, checkpoint_dir=tmp_path / "cut", on_epoch_end=interrupt)
    assert len(cut.history) == stop_after

    resumed = _learner(split, num_threads=1)  # a fresh process would build the same learner
    resumed.fine_tune(2, base_lr=5e-3, freeze_epochs=1, checkpoint_dir=tmp_path / "cut", resume=True)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    _assert_same_records(resumed.history, full.history)
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), k


def test_resume_checks_the_plan(split, tmp_path):
    learn = _learner(split)
    learn.fit_one_cycle(1, 5e-3, checkpoint_dir=tmp_path)
    with pytest.raises(ParameterError, match="was written by another run"):
        _learner(split).fit_one_cycle(2, 5e-3, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ParameterError, match="'resume' needs 'checkpoint_dir'"):
        _learner(split).fit_one_cycle(1, resume=True)


def test_save_and_load_checkpoint(split, tmp_path):
    learn = _learner(split)
    learn.fit_one_cycle(1, 5e-3)
    learn.save_checkpoint(tmp_path / "ck")
    other = _learner(split).load_checkpoint(tmp_path / "ck")
    assert _records(other.history) == _records(learn.history)
    a, b = learn.get_preds("valid")[0], other.get_preds("valid")[0]
    assert np.array_equal(a, b)
    with pytest.raises(InputError, match="the checkpoint is for backbone 'resnet10t'"):
        _learner(split, backbone="resnet14t").load_checkpoint(tmp_path / "ck")


def test_freeze_epochs_train_only_the_head_then_all_layers(split):
    learn = _learner(split)
    body0 = learn.model.conv1[0].weight.detach().clone()
    head0 = learn.model.fc.weight.detach().clone()
    snapshots = {}

    def snap(learner, record):
        snapshots[record["epoch"]] = (learner.model.conv1[0].weight.detach().clone(),
                                      learner.model.fc.weight.detach().clone())

    learn.fine_tune(1, base_lr=5e-3, freeze_epochs=1, on_epoch_end=snap)
    assert [r["phase"] for r in learn.history] == ["frozen", "all"]
    assert torch.equal(snapshots[1][0], body0) and not torch.equal(snapshots[1][1], head0)
    assert not torch.equal(snapshots[2][0], body0)
    assert all(p.requires_grad for p in learn.model.parameters())


def test_discriminative_rates():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model.get_classifier = lambda: model[2]  # type: ignore[attr-defined]
    groups = param_groups(model, 1e-2, lr_mult=100, body_groups=2)
    assert [round(g["lr"], 8) for g in groups] == [1e-4, 1e-3, 1e-2]
    assert all(g["lr"] == 1e-2 for g in param_groups(model, 1e-2))  # default: one rate for all layers
    frozen = param_groups(model, 1e-2, train_body=False)
    assert len(frozen) == 1 and not model[0].weight.requires_grad


def test_lr_find_restores_weights_and_randomness(split, tmp_path):
    a = _learner(split)
    before = {k: v.clone() for k, v in a.model.state_dict().items()}
    result = a.lr_find(num_it=20, plot=tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 1000
    assert 3 <= len(result.lrs) <= 20 and result.lrs == sorted(result.lrs)
    assert result.lrs[0] <= result.suggestion <= result.lrs[-1]
    assert all(torch.equal(before[k], v) for k, v in a.model.state_dict().items())
    after_find = a.fit_one_cycle(1, 5e-3)
    plain = _learner(split).fit_one_cycle(1, 5e-3)
    assert _records(after_find) == _records(plain)


def test_overfit_monitor_warns_and_early_stopping_restores_best(split, monkeypatch):
    monitor = OverfitMonitor(patience=2)
    model = torch.nn.Linear(1, 1)
    for epoch, (t, v) in enumerate([(1.0, 0.9), (0.8, 0.7), (0.6, 0.8), (0.5, 0.85)], start=1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stop = monitor.update({"epoch": epoch, "train_loss": t, "valid_loss": v}, model)
        assert stop is False
    assert [w.category for w in caught] == [OverfittingWarning] and "rose for 2 epochs" in str(caught[0].message)

    losses = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    monkeypatch.setattr(Learner, "_validate", lambda self: (next(losses), {"accuracy": 0.5, "error_rate": 0.5,
                                                                             "macro_f1": 0.5}, None))
    learn = _learner(split, early_stopping=True, patience=2)
    kept = {}

    def keep(learner, record):
        kept[record["epoch"]] = {k: v.clone() for k, v in learner.model.state_dict().items()}

    with pytest.warns(OverfittingWarning, match="stopping early"):
        learn.fit_one_cycle(6, 5e-3, on_epoch_end=keep)
    assert len(learn.history) == 4  # valid loss rose at epochs 3 and 4
    assert all(torch.equal(kept[2][k], v) for k, v in learn.model.state_dict().items())


def test_interpret_views_and_files(split, tmp_path):
    learn = _learner(split)
    learn.fit_one_cycle(1, 5e-3)
    interp = learn.interpret("valid")
    cm = interp.confusion_matrix()
    assert cm.shape == (3, 3) and cm.sum() == len(split.valid)
    assert len(interp.top_losses(3)) == 3
    paths = interp.save(tmp_path / "interp", k=3)
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())


def test_parameter_errors(split):
    with pytest.raises(ParameterError, match="'split' must be a Split"):
        Learner([1, 2, 3])
    with pytest.raises(ParameterError, match="'metrics' entries must be among"):
        _learner(split, metrics=("accuracy", "auc"))
    with pytest.raises(ParameterError, match="'batch_size' must be an int >= 1"):
        _learner(split, batch_size=0)
    with pytest.raises(ParameterError, match="'augment' must be None"):
        _learner(split, augment="hflip")
    learn = _learner(split)
    with pytest.raises(ParameterError, match="'epochs' must be an int >= 1"):
        learn.fine_tune(0)
    with pytest.raises(ParameterError, match="'schedule' must be one of 'one_cycle', 'constant'"):
        learn.fit(1, schedule="cosine")
    assert learn.fit(1, 1e-3, schedule="constant")[0]["lr"] == 1e-3
    with pytest.raises(ParameterError, match="'split' must be one of"):
        learn.evaluate("dev")


def test_mixup_mixes_pairs_of_the_batch_with_one_weight_and_is_repeatable(split, monkeypatch):
    learn = _learner(split, mixup=0.4)
    seen = {}
    real_loss = learn._loss

    def spy(logits, targets):
        seen.setdefault("targets", []).append(targets.clone())
        return real_loss(logits, targets)

    monkeypatch.setattr(learn, "_loss", spy)
    x = torch.arange(4 * 3 * 2 * 2, dtype=torch.float32).reshape(4, 3, 2, 2)
    y = torch.tensor([0, 1, 0, 1])
    state = learn._generator.get_state()
    lam, perm = learn._mix(4)
    learn._generator.set_state(state)
    captured = {}

    def forward(inp):
        captured["x"] = inp
        return torch.zeros(len(inp), len(learn.classes), requires_grad=True)

    monkeypatch.setattr(learn.model, "forward", forward)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    learn._train_step(optimizer, x, y)
    assert 0.0 <= lam <= 1.0 and sorted(perm.tolist()) == [0, 1, 2, 3]
    torch.testing.assert_close(captured["x"], lam * x + (1 - lam) * x[perm])
    assert [t.tolist() for t in seen["targets"]] == [y.tolist(), y[perm].tolist()]
    # off: the batch and targets go through untouched
    assert _learner(split)._mix(4) == (1.0, None)
    a = _learner(split, mixup=0.4, num_threads=1).fit_one_cycle(1, 5e-3)
    b = _learner(split, mixup=0.4, num_threads=1).fit_one_cycle(1, 5e-3)
    c = _learner(split, num_threads=1).fit_one_cycle(1, 5e-3)
    assert _records(a) == _records(b) and _records(a) != _records(c)


def test_paired_selection_keeps_the_latest_epoch_within_noise_of_the_lowest():
    from any2img.learn.callbacks import OverfitMonitor

    model = torch.nn.Linear(1, 1)
    epochs = [[0.5, 0.5, 0.5, 0.5],       # 1
              [0.1, 0.1, 0.1, 0.1],       # 2: the lowest
              [0.12, 0.08, 0.15, 0.09],   # 3: mean +0.01, 2 standard errors = 0.0316: a tie
              [0.5, 0.6, 0.4, 0.5]]       # 4: mean +0.4, clearly worse
    for selection, kept in (("lowest", 2), ("paired", 3)):
        monitor = OverfitMonitor(patience=5, selection=selection)
        for epoch, items in enumerate(epochs, start=1):
            with torch.no_grad():
                model.weight.fill_(epoch)
            monitor.update({"epoch": epoch, "valid_loss": float(np.mean(items)), "train_loss": 1.0 / epoch},
                           model, items)
        assert (monitor.best_epoch, monitor.selected_epoch) == (2, kept)
        assert float(monitor.best_state["weight"]) == kept
        again = OverfitMonitor(patience=5, selection=selection)
        again.load_state(monitor.state(), monitor.best_state)
        assert (again.best_epoch, again.selected_epoch, again.best_items) == (2, kept, epochs[1])


def test_paired_selection_in_a_run_is_recorded(split):
    learn = _learner(split, selection="paired")
    learn.fit_one_cycle(3, 5e-3)
    assert learn.fits[-1]["selection"].startswith("latest epoch within 2 standard errors")
    assert learn.selected_epoch == learn.fits[-1]["selected_epoch"] and 1 <= learn.selected_epoch <= 3
    lowest = min(learn.history, key=lambda r: r["valid_loss"])["epoch"]
    assert learn.selected_epoch >= lowest
