"""Export and reading of model folders: round trip, format checks, tampering refused, no pickle."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from any2img.artifact import (
    FORMAT,
    META_NAME,
    WEIGHTS_NAME,
    build_model_from_artifact,
    load_artifact,
    read_artifact,
)
from any2img.data import ImageItems, items_from_arrays, split_items
from any2img.data.transforms import preprocess_batch
from any2img.errors import ArtifactError
from any2img.learn import Learner


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (24, 20, 20, 3), dtype=np.uint8)
    imgs[::2, :, :10] = 255  # class "a": left half bright
    items = items_from_arrays(imgs, ["a", "b"] * 12, splits=["train"] * 18 + ["test"] * 6)
    items = ImageItems(items, converter={"name": "gadf", "params": {"image_size": 20}})
    split = split_items(items, valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=6, verbose=False,
                    device="cpu")
    learn.fit_one_cycle(1, 5e-3)
    learn.evaluate("test")
    folder = learn.export(tmp_path_factory.mktemp("model") / "m")
    return learn, folder, split


def test_export_writes_the_documented_fields(exported):
    learn, folder, split = exported
    assert sorted(p.name for p in folder.iterdir()) == sorted([WEIGHTS_NAME, META_NAME])
    meta = json.loads((folder / META_NAME).read_text())
    assert meta["format"] == FORMAT and meta["format_version"] == 1
    assert meta["backbone"] == "resnet10t" and meta["num_classes"] == 2 and meta["classes"] == ["a", "b"]
    assert meta["input_size"] == [3, 32, 32] and meta["mean"] == [0.485, 0.456, 0.406]
    assert meta["interpolation"] == "bicubic"
    assert meta["converter"] == {"name": "gadf", "params": {"image_size": 20}}
    assert meta["segmenter"] is None
    assert meta["split"]["strategy"] == "predefined" and meta["split"]["counts"]["test"] == 6
    assert set(meta["metrics"]) == {"valid", "test"} and 0 <= meta["metrics"]["test"]["accuracy"] <= 1
    assert len(meta["history"]) == 1 and meta["history"][0]["epoch"] == 1
    assert {"any2img", "torch", "timm", "python"} <= set(meta["versions"])
    assert len(meta["weights_sha256"]) == 64
    assert meta["training"]["seed"] == 0 and meta["training"]["weights"] == "none"


def test_round_trip_gives_identical_probabilities(exported):
    learn, folder, split = exported
    model, cfg, meta = build_model_from_artifact(folder)
    assert not model.training and cfg == learn.data_config and meta["classes"] == learn.classes
    images = [it.image for it in split.valid]
    with torch.no_grad():
        probs = model(preprocess_batch(images, cfg)).softmax(1).numpy()
    expected, _ = learn.get_preds("valid")
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-6)
    meta2, state = read_artifact(folder)
    assert meta2 == meta and set(state) == set(learn.model.state_dict())
    assert load_artifact(folder).converter == {"name": "gadf", "params": {"image_size": 20}}


def _copy(folder, tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    for name in (WEIGHTS_NAME, META_NAME):
        (out / name).write_bytes((folder / name).read_bytes())
    return out


def test_tampered_weights_are_refused(exported, tmp_path):
    _, folder, _ = exported
    copy = _copy(folder, tmp_path)
    data = bytearray((copy / WEIGHTS_NAME).read_bytes())
    data[-1] ^= 0xFF
    (copy / WEIGHTS_NAME).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"weights.safetensors: SHA-256 .* does not match 'weights_sha256'"):
        read_artifact(copy)


def test_format_checks(exported, tmp_path):
    _, folder, _ = exported
    copy = _copy(folder, tmp_path)
    meta = json.loads((copy / META_NAME).read_text())

    def write(**changes):
        (copy / META_NAME).write_text(json.dumps({**meta, **changes}))

    write(format="something-else")
    with pytest.raises(ArtifactError, match=r"model.json: 'format' must be 'any2img-model'"):
        read_artifact(copy)
    write(format_version=2)
    with pytest.raises(ArtifactError, match="'format_version' is 2 but this any2img reads up to 1"):
        read_artifact(copy)
    write(num_classes=3)
    with pytest.raises(ArtifactError, match="'num_classes' must equal the number of classes"):
        read_artifact(copy)
    write(classes=["a", "b", "c"], num_classes=3)
    with pytest.raises(ArtifactError, match=r"tensor 'fc.weight' has shape \(2, 512\) but backbone 'resnet10t' needs"):
        read_artifact(copy)
    write(backbone="no_such_net")
    with pytest.raises(ArtifactError, match="'backbone' 'no_such_net' cannot be built"):
        read_artifact(copy)
    (copy / META_NAME).write_text("{not json")
    with pytest.raises(ArtifactError, match="model.json: not valid JSON"):
        read_artifact(copy)
    (copy / META_NAME).unlink()
    with pytest.raises(ArtifactError, match="model.json: missing"):
        read_artifact(copy)
    with pytest.raises(ArtifactError, match="not a model folder"):
        read_artifact(tmp_path / "nowhere")


def test_missing_and_unexpected_keys_are_refused(exported, tmp_path):
    _, folder, _ = exported
    copy = _copy(folder, tmp_path)
    meta, state = read_artifact(copy)
    state = dict(state)
    state.pop("fc.bias")
    state["extra.weight"] = torch.zeros(1)
    save_file(state, str(copy / WEIGHTS_NAME))
    import hashlib

    meta["weights_sha256"] = hashlib.sha256((copy / WEIGHTS_NAME).read_bytes()).hexdigest()
    (copy / META_NAME).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"missing keys \['fc.bias'\]; unexpected keys \['extra.weight'\]"):
        read_artifact(copy)


def test_reading_never_unpickles(exported, monkeypatch):
    _, folder, _ = exported

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    build_model_from_artifact(folder)
