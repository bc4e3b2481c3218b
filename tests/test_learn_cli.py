"""``any2img train`` and ``any2img evaluate`` end to end on tiny generated images."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from any2img.cli import main


def _write_dataset(root, seed=0):
    rng = np.random.default_rng(seed)
    for split, n in (("train", 16), ("test", 6)):
        for i in range(n):
            label = ("cols", "rows")[i % 2]
            img = rng.integers(0, 60, (20, 20), dtype=np.uint8)
            if label == "cols":
                img[:, ::4] = 255
            else:
                img[::4, :] = 255
            path = root / split / label / f"{split}{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img, mode="L").save(path)


FAST = ["--backbone", "resnet10t", "--no-pretrained", "--image-size", "32", "--batch-size", "8", "--device", "cpu"]


def test_train_then_evaluate(tmp_path, capsys):
    data, model, report = tmp_path / "images", tmp_path / "model", tmp_path / "report"
    _write_dataset(data)
    code = main(["train", str(data), "--out", str(model), "--epochs", "2", "--lr", "5e-3", "--seed", "1",
                 "--checkpoint-dir", str(tmp_path / "ck"), *FAST])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "split predefined: train" in out and "valid_loss" in out and "test: {" in out
    assert (model / "weights.safetensors").is_file() and (tmp_path / "ck" / "checkpoint.json").is_file()
    meta = json.loads((model / "model.json").read_text())
    assert meta["classes"] == ["cols", "rows"] and meta["split"]["counts"]["test"] == 6
    assert len(meta["history"]) == 2 and "test" in meta["metrics"]

    code = main(["evaluate", str(model), str(data), "--out", str(report), "--top-k", "4"])
    out = capsys.readouterr().out
    assert code == 0, out
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["items"] == "test" and metrics["n"] == 6  # only the marked test split
    assert metrics["accuracy"] == meta["metrics"]["test"]["accuracy"]
    for name in ("confusion_matrix.png", "confusion_matrix.csv", "classification_report.csv", "top_losses.png"):
        assert (report / name).stat().st_size > 0, name
    rows = (report / "classification_report.csv").read_text().splitlines()
    assert rows[0] == "class,precision,recall,f1-score,support" and rows[1].startswith("cols,")

    # --all reads every item, but never those the model trained or was selected on, unless asked loudly
    code = main(["evaluate", str(model), str(data), "--out", str(report), "--all", "-q"])
    metrics = json.loads((report / "metrics.json").read_text())
    assert code == 0 and metrics["n"] == 6 and metrics["left_out_seen"] == 16
    assert "left out 16 of 22 items" in capsys.readouterr().err
    code = main(["evaluate", str(model), str(data), "--out", str(report), "--all", "--include-seen", "-q"])
    metrics = json.loads((report / "metrics.json").read_text())
    assert code == 0 and metrics["n"] == 22 and metrics["seen_items"] == 16
    assert "overstates accuracy" in capsys.readouterr().err


def test_evaluate_refuses_training_items_and_uses_the_carved_test_share(tmp_path, capsys):
    data, model = tmp_path / "images", tmp_path / "model"
    _write_dataset(data)
    flat = tmp_path / "flat"  # the same pictures without split folders: the test side is carved by share
    for png in data.rglob("*.png"):
        dest = flat / png.parent.name / png.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(png.read_bytes())
    code = main(["train", str(flat), "--out", str(model), "--epochs", "1", "--test", "0.25", "-q", *FAST])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((model / "model.json").read_text())
    n_test = meta["split"]["counts"]["test"]
    assert n_test > 0 and len(meta["split"]["fingerprints"]["train"]) == meta["split"]["counts"]["train"]
    capsys.readouterr()
    code = main(["evaluate", str(model), str(flat), "--out", str(tmp_path / "r"), "-q"])
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert code == 0 and metrics["n"] == n_test and metrics["left_out_seen"] == 22 - n_test
    assert metrics["accuracy"] == meta["metrics"]["test"]["accuracy"]

    seen = tmp_path / "seen"  # only pictures the model trained on, renamed: refused
    train_items = set(meta["split"]["fingerprints"]["train"])
    from any2img.data import items_from_folder
    from any2img.data.fingerprint import fingerprint

    for n, item in enumerate(items_from_folder(flat)):
        if fingerprint(item) in train_items:
            dest = seen / str(item.label) / f"renamed{n}.png"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(open(item.path, "rb").read())
    capsys.readouterr()
    code = main(["evaluate", str(model), str(seen), "--out", str(tmp_path / "r2")])
    err = capsys.readouterr().err
    assert code == 2 and "none is held out" in err and "--include-seen" in err


def test_cli_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "m"), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("any2img train: error:") and "no image" in err
    code = main(["evaluate", str(tmp_path / "nomodel"), str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 2 and "not a model folder" in err and len(err.strip().splitlines()) == 1
    code = main(["train", str(tmp_path), "--out", str(tmp_path / "m"), "--resume", *FAST])
    assert code == 2 and "'--resume' needs '--checkpoint-dir'" in capsys.readouterr().err


def test_train_checks_its_output_folders_before_any_work(tmp_path, capsys):
    data = tmp_path / "images"
    _write_dataset(data)
    (tmp_path / "afile").write_text("x")
    code = main(["train", str(data), "--out", str(tmp_path / "afile"), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "'--out' must be a folder" in err and len(err.strip().splitlines()) == 1
    code = main(["train", str(data), "--out", str(tmp_path / "afile" / "model"), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "'--out': cannot write into" in err
    code = main(["train", str(data), "--out", str(tmp_path / "m"), "--epochs", "1", "-q", "--resume",
                 "--checkpoint-dir", str(tmp_path / "none-yet"), *FAST])
    assert code == 0 and "no checkpoint in" in capsys.readouterr().err
