"""Ensembles over representations: members' probabilities averaged, one folder, safe to load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import any2img
from any2img import convert_dir
from any2img.cli import main
from any2img.data import items_from_manifest, split_items
from any2img.ensemble import EnsemblePredictor, read_ensemble, write_ensemble
from any2img.errors import ArtifactError, ParameterError
from any2img.learn import Learner
from any2img.predict import Prediction

RATE = 8000
PARAMS = {
    "mel": {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "n_mels": 32, "image_size": 32},
    "stft": {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "image_size": 32},
}


def _tone(freq: float, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def _write_tones(folder: Path, n: int, seed: int) -> None:
    for label, freq in (("low", 300.0), ("high", 2500.0)):
        (folder / label).mkdir(parents=True)
        for i in range(n):
            sf.write(folder / label / f"{label}{seed}-{i}.wav", _tone(freq * (1 + 0.03 * i), 0.5, seed + i), RATE)


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two tiny models of the same tones, one on mel and one on stft pictures, and held-out tones."""
    root = tmp_path_factory.mktemp("ensemble")
    _write_tones(root / "wav", 6, 0)
    _write_tones(root / "new", 3, 100)  # never trained or validated on
    for name, params in PARAMS.items():
        report = convert_dir(name, root / "wav", root / f"img-{name}", params=params, workers=1, progress=False)
        assert report.ok
        split = split_items(items_from_manifest(root / f"img-{name}"), valid_pct=0.25, seed=0)
        learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, seed=0,
                        verbose=False)
        learn.fit_one_cycle(2, 1e-2)
        learn.export(root / f"model-{name}")
    return root


def _answer(classes: list[str], probs: list[float]) -> Prediction:
    return Prediction(label=classes[int(np.argmax(probs))], probability=max(probs),
                      probabilities=dict(zip(classes, probs)), window_probabilities=np.array([probs]))


class _Fixed:
    """A stand-in predictor with a fixed answer."""

    def __init__(self, classes: list[str], probs: list[float]) -> None:
        self.classes, self._probs = classes, probs

    def predict(self, x: object, *, is_image: bool = False) -> Prediction:
        return _answer(self.classes, self._probs)


def test_members_with_other_class_orders_are_averaged_by_class_name():
    ens = EnsemblePredictor([_Fixed(["a", "b"], [0.8, 0.2]), _Fixed(["b", "a"], [0.6, 0.4])], ["a", "b"],
                            weights=[3.0, 1.0])
    pred = ens.predict(np.zeros(4))
    # a: 0.75 * 0.8 + 0.25 * 0.4 = 0.7; b: 0.75 * 0.2 + 0.25 * 0.6 = 0.3
    assert pred.label == "a"
    assert pred.probabilities == pytest.approx({"a": 0.7, "b": 0.3})
    np.testing.assert_allclose(pred.window_probabilities, [[0.8, 0.2], [0.4, 0.6]])


def test_an_ensemble_folder_answers_with_the_weighted_mean_of_its_members(members, tmp_path):
    folder = write_ensemble([members / "model-mel", members / "model-stft"], tmp_path / "ens", weights=[3, 1])
    assert sorted(p.name for p in (folder / "members").iterdir()) == ["00-mel", "01-stft"]
    assert sorted(p.name for p in (folder / "members" / "00-mel").iterdir()) == ["model.json",
                                                                                "weights.safetensors"]
    ens = any2img.load(folder)
    assert isinstance(ens, EnsemblePredictor) and ens.names == ["mel", "stft"]
    mel, stft = any2img.load(members / "model-mel"), any2img.load(members / "model-stft")
    for wav in sorted((members / "new").rglob("*.wav")):
        a, b = mel.predict(wav), stft.predict(wav)
        got = ens.predict(wav)
        for c in ens.classes:
            assert got.probabilities[c] == pytest.approx(0.75 * a.probabilities[c] + 0.25 * b.probabilities[c])
        assert got.label == max(got.probabilities, key=got.probabilities.__getitem__)
        assert [m.label for m in got.members] == [a.label, b.label]


def test_bad_ensembles_are_refused(members, tmp_path):
    mel = members / "model-mel"
    with pytest.raises(ParameterError, match="at least 2"):
        write_ensemble([mel], tmp_path / "one")
    with pytest.raises(ParameterError, match="one weight per member"):
        write_ensemble([mel, mel], tmp_path / "w", weights=[1.0])
    with pytest.raises(ParameterError, match="finite and > 0"):
        write_ensemble([mel, mel], tmp_path / "w", weights=[1.0, float("nan")])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(ParameterError, match="new or empty"):
        write_ensemble([mel, mel], tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "keep me"

    def variant(name: str, **changes: object) -> Path:
        dst = tmp_path / name
        shutil.copytree(mel, dst)
        meta = json.loads((dst / "model.json").read_text())
        meta.update(changes)
        (dst / "model.json").write_text(json.dumps(meta))
        return dst

    with pytest.raises(ArtifactError, match="classes"):
        write_ensemble([mel, variant("other-classes", classes=["x", "y"])], tmp_path / "e1")
    with pytest.raises(ArtifactError, match="same raw input"):
        write_ensemble([mel, variant("series", converter={"name": "gadf", "params": {}})], tmp_path / "e2")
    assert not (tmp_path / "e1").exists() and not (tmp_path / "e2").exists()


def test_a_member_path_that_leaves_the_folder_is_refused(members, tmp_path):
    folder = write_ensemble([members / "model-mel", members / "model-stft"], tmp_path / "ens")
    spec = json.loads((folder / "ensemble.json").read_text())
    spec["members"][1]["path"] = str(members / "model-stft")  # absolute, outside
    (folder / "ensemble.json").write_text(json.dumps(spec))
    with pytest.raises(ArtifactError, match="leaves the ensemble folder"):
        any2img.load(folder)
    spec["members"][1]["path"] = "../../model-stft"
    (folder / "ensemble.json").write_text(json.dumps(spec))
    with pytest.raises(ArtifactError, match="leaves the ensemble folder"):
        read_ensemble(folder)


def test_cli_ensemble_predict_and_evaluate_on_held_out_raw_files(members, tmp_path, capsys):
    out = tmp_path / "ens"
    assert main(["ensemble", str(members / "model-mel"), str(members / "model-stft"), "--out", str(out)]) == 0
    assert "2 members" in capsys.readouterr().out
    wavs = sorted((members / "new").rglob("*.wav"))
    assert main(["predict", str(out), str(wavs[0]), "--json"]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line["n_members"] == 2 and len(line["members"]) == 2
    assert main(["evaluate", str(out), str(members / "new"), "--out", str(tmp_path / "ev"), "--quiet"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ens = any2img.load(out)
    truth = [w.parent.name for w in wavs]
    expected = np.mean([ens.predict(w).label == t for w, t in zip(wavs, truth)])
    assert metrics["n"] == len(wavs) and metrics["members"] == ["mel", "stft"]
    assert metrics["accuracy"] == pytest.approx(expected, abs=5e-5)  # the CLI prints metrics to 4 decimals
    # the training tones were seen by both members: nothing held out to score
    assert main(["evaluate", str(out), str(members / "wav"), "--out", str(tmp_path / "ev2"), "--quiet"]) == 2
    assert "none is held out" in capsys.readouterr().err
