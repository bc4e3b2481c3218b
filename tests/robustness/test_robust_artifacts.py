"""Tampered model folders: every one is refused before anything is built or run, or loads only its own weights.

What is trusted (README, "Safety and limits"): a model folder is data. Its
``model.json`` must pass a schema, its ``weights.safetensors`` must match the
SHA-256 recorded there and fit the backbone exactly with finite values, and
nothing else in the folder (or named by it) is ever read. The hash guards
against corruption and half-edits, not against someone who rewrites both
files: such a folder is a different, valid model.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from any2img.errors import Any2ImgError, ArtifactError

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    from any2img.data import items_from_arrays, split_items
    from any2img.learn import Learner

    imgs = np.random.default_rng(0).integers(0, 255, (12, 16, 16), dtype=np.uint8)
    split = split_items(items_from_arrays(imgs, ["a", "b"] * 6), valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")
    return learn.export(tmp_path_factory.mktemp("m") / "model")


def _copy(exported: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    shutil.copytree(exported, folder)
    return folder


def _edit_json(folder: Path, change: dict) -> None:
    meta = json.loads((folder / "model.json").read_text())
    meta.update(change)
    (folder / "model.json").write_text(json.dumps(meta))


def _rewrite_weights(folder: Path, edit, *, update_hash: bool) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "weights.safetensors"))
    state = edit(state)
    save_file(state, str(folder / "weights.safetensors"))
    if update_hash:
        digest = hashlib.sha256((folder / "weights.safetensors").read_bytes()).hexdigest()
        _edit_json(folder, {"weights_sha256": digest})


def _first_float(state: dict) -> str:
    return next(k for k, v in state.items() if v.is_floating_point())


class _Boom:
    """A pickle that would create a file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled!"))


SCHEMA_CASES = [
    ({"model_kwargs": {"checkpoint_path": "/any/file.pth"}}, "'model_kwargs' may hold only"),
    ({"model_kwargs": {"bogus": 1}}, "'model_kwargs' may hold only"),
    ({"model_kwargs": {"pretrained_cfg_overlay": {"file": "/etc/passwd"}}}, "'model_kwargs' may hold only"),
    ({"classes": ["a", "a"]}, "'classes' must be unique"),
    ({"classes": [1, 2]}, "'classes' must be a non-empty list of strings"),
    ({"std": [0.5, float("nan"), 0.5]}, "'std' must be 3 finite numbers > 0"),
    ({"std": [0.5, 0.0, 0.5]}, "'std' must be 3 finite numbers > 0"),
    ({"mean": [float("inf"), 0.0, 0.0]}, "'mean' must be 3 finite numbers"),
    ({"input_size": [3, 10**6, 64]}, "'input_size' must be"),
    ({"input_size": [1, 64, 64], "mean": [0.5], "std": [0.5]}, "'input_size' says 1 channels"),
    ({"converter": "mel"}, "'converter' must be dict or null"),
    ({"converter": {"name": "mel", "params": []}}, "'converter' must be null or"),
    ({"converter": {"name": "mel", "params": [1]}}, "'converter' must be null or"),
    ({"converter": {"name": "mel", "params": {"n_mels": 0}}}, "recorded converter's parameters are not valid"),
    ({"converter": {"name": "no_such_converter", "params": {}}}, "unknown converter 'no_such_converter'"),
    ({"surprise": 1}, "unknown keys"),
    ({"num_classes": 3}, "'num_classes' must equal"),
    ({"format_version": 99}, "'format_version' is 99"),
    ({"backbone": "no_such_backbone_xyz"}, "cannot be built here"),
    ({"weights_sha256": "../../etc/passwd"}, "'weights_sha256' must be 64 hex digits"),
]


@pytest.mark.parametrize("change, message", SCHEMA_CASES)
def test_a_tampered_model_json_is_refused_at_load(exported, tmp_path, change, message, tally):
    import any2img

    folder = _copy(exported, tmp_path)
    _edit_json(folder, change)
    with pytest.raises(Any2ImgError, match=message):
        any2img.load(folder, device="cpu")
    tally.add("tampered model folders", tried=1, injected="schema violations (unknown keys, kwargs that name "
              "files, duplicate classes, NaN/inf/0 normalisation, sizes, wrong channels, converter as str, params "
              "as list, unknown converter and backbone), weights edited with and without the hash, missing/"
              "extra tensors, NaN/inf tensors, pickles")


def _nan(state):
    key = _first_float(state)
    state[key] = state[key].clone().fill_(float("nan"))
    return state


def _inf(state):
    key = _first_float(state)
    state[key] = state[key].clone().fill_(float("inf"))
    return state


def _drop(state):
    state.pop(_first_float(state))
    return state


def _extra(state):
    state["surprise.weight"] = torch.zeros(3)
    return state


def _reshape(state):
    key = _first_float(state)
    state[key] = torch.zeros(7)
    return state


@pytest.mark.parametrize("edit, update_hash, message", [
    (lambda s: {k: v * 1.01 if v.is_floating_point() else v for k, v in s.items()}, False, "does not match"),
    (_nan, True, "holds NaN or infinite values"),
    (_inf, True, "holds NaN or infinite values"),
    (_nan, False, "does not match"),
    (_drop, True, "missing keys"),
    (_extra, True, "unexpected keys"),
    (_reshape, True, "has shape"),
])
def test_tampered_weights_are_refused(exported, tmp_path, edit, update_hash, message, tally):
    from any2img.artifact import read_artifact

    folder = _copy(exported, tmp_path)
    _rewrite_weights(folder, edit, update_hash=update_hash)
    with pytest.raises(ArtifactError, match=message):
        read_artifact(folder)
    tally.add("tampered model folders", tried=1)


def test_weights_rewritten_with_their_hash_are_a_different_valid_model(exported, tmp_path, tally):
    import any2img

    folder = _copy(exported, tmp_path)
    _rewrite_weights(folder, lambda s: {k: v * 0.5 if v.is_floating_point() else v for k, v in s.items()},
                     update_hash=True)
    image = np.full((32, 32, 3), 100, np.uint8)
    a = any2img.load(exported, device="cpu").predict(image, is_image=True).probabilities
    b = any2img.load(folder, device="cpu").predict(image, is_image=True).probabilities
    assert a.keys() == b.keys() and a != b  # loaded, and it is the rewritten weights that answer
    tally.add("tampered model folders", tried=1)


def test_pickles_are_never_unpickled(exported, tmp_path, tally):
    import any2img

    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(marker))
    folder = _copy(exported, tmp_path)
    for name in ("pytorch_model.bin", "model.pth", "checkpoint.pt", "model.pkl"):  # beside the real weights
        (folder / name).write_bytes(payload)
    any2img.load(folder, device="cpu")
    assert not marker.exists()

    (folder / "weights.safetensors").write_bytes(payload)  # instead of them, hash updated
    _edit_json(folder, {"weights_sha256": hashlib.sha256(payload).hexdigest()})
    with pytest.raises(ArtifactError, match="not a readable safetensors file"):
        any2img.load(folder, device="cpu")
    torch.save({"w": torch.zeros(2)}, folder / "weights.safetensors")  # a torch pickle, hash updated
    _edit_json(folder, {"weights_sha256": hashlib.sha256((folder / "weights.safetensors").read_bytes()).hexdigest()})
    with pytest.raises(ArtifactError, match="not a readable safetensors file"):
        any2img.load(folder, device="cpu")
    assert not marker.exists()
    tally.add("tampered model folders", tried=3, note="pickles beside and instead of weights.safetensors: "
              "none unpickled (a __reduce__ payload left no marker file)")


def test_predict_json_never_prints_nan(exported, tmp_path, capsys, tally):
    from PIL import Image

    from any2img.cli import main

    folder = _copy(exported, tmp_path)
    # Finite but enormous weights: the logits overflow to inf and softmax gives NaN.
    _rewrite_weights(folder, lambda s: {k: (torch.full_like(v, 3e38) if v.is_floating_point() else v)
                                        for k, v in s.items()}, update_hash=True)
    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(tmp_path / "x.png")
    code = main(["predict", str(folder), str(tmp_path / "x.png"), "--json", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert "NaN" not in out and "Infinity" not in out
    for line in out.splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in predict --json output"))
    assert code != 0 and "non-finite probabilities" in err
    tally.add("tampered model folders", tried=1, note="weights of 3e38 (finite, hash updated): predict --json "
              "prints no NaN and exits 1 naming the non-finite probabilities")
