"""Export -> load -> predict from raw input: the same answers as in memory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import any2img
from any2img import convert_dir
from any2img.cli import main
from any2img.data import items_from_manifest, split_items
from any2img.errors import ArtifactError, InputError
from any2img.learn import Learner

RATE = 8000
MEL = {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "n_mels": 32, "image_size": 32}


def _tone(freq: float, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained one epoch on low versus high tones (mel images)."""
    root = tmp_path_factory.mktemp("predict")
    for label, freq in (("low", 300.0), ("high", 2500.0)):
        (root / "wav" / label).mkdir(parents=True)
        for i in range(6):
            sf.write(root / "wav" / label / f"{label}{i}.wav", _tone(freq * (1 + 0.03 * i), 0.5, i), RATE)
    report = convert_dir("mel", root / "wav", root / "img", params=MEL, workers=1, progress=False)
    assert report.ok and report.images == 12
    split = split_items(items_from_manifest(root / "img"), valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, seed=0,
                    verbose=False)
    learn.fit_one_cycle(2, 1e-2)
    learn.export(root / "model")
    return root, learn


def test_loaded_model_predicts_raw_files_like_the_learner_in_memory(trained):
    root, learn = trained
    predictor = any2img.load(root / "model")
    assert predictor.classes == learn.classes and predictor.converter.name == "mel"
    assert predictor.converter.get_params()["n_mels"] == 32
    items = items_from_manifest(root / "img")
    expected, _ = learn.get_preds(items)
    for item, probs in zip(items, expected):
        pred = predictor.predict(root / "wav" / item.source)
        assert pred.window_probabilities.shape == (1, 2)
        np.testing.assert_allclose(list(pred.probabilities.values()), probs, atol=1e-5)
        assert pred.label == learn.classes[int(np.argmax(probs))]


def test_arrays_and_multi_window_inputs_aggregate_by_mean(trained):
    root, _ = trained
    predictor = any2img.load(root / "model")
    one = predictor.predict(_tone(300.0, 0.5, 99))
    assert one.window_probabilities.shape == (1, 2)
    assert abs(sum(one.probabilities.values()) - 1.0) < 1e-5
    predictor.converter.set_params(duration=0.25, hop=0.25)
    long = predictor.predict(_tone(300.0, 1.0, 7))
    assert long.window_probabilities.shape == (4, 2)
    assert [w["start"] for w in long.windows] == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(list(long.probabilities.values()), long.window_probabilities.mean(axis=0), atol=1e-6)


def test_image_files_are_predicted_as_pictures(trained):
    root, _ = trained
    predictor = any2img.load(root / "model")
    image = next((root / "img" / "low").glob("*.png"))
    pred = predictor.predict(image)
    assert pred.source == str(image) and pred.label in ("low", "high")


def test_bad_inputs_are_clear(trained, tmp_path):
    root, _ = trained
    predictor = any2img.load(root / "model")
    with pytest.raises(InputError, match="no such file"):
        predictor.predict(tmp_path / "missing.wav")
    (tmp_path / "notes.xyz").write_text("hello")
    with pytest.raises(InputError, match="converter 'mel' does not read .xyz files"):
        predictor.predict(tmp_path / "notes.xyz")


def test_tampered_artifact_is_refused(trained, tmp_path):
    root, _ = trained
    copy = tmp_path / "model"
    copy.mkdir()
    for f in (root / "model").iterdir():
        copy.joinpath(f.name).write_bytes(f.read_bytes())
    data = bytearray((copy / "weights.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        any2img.load(copy)


def test_cli_predict_text_and_json(trained, capsys, tmp_path):
    root, _ = trained
    wavs = sorted(str(p) for p in (root / "wav").rglob("*.wav"))[:3]
    assert main(["predict", str(root / "model"), *wavs]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(wavs[0] + "\t")
    assert main(["predict", str(root / "model"), "--json", wavs[0], str(tmp_path / "missing.wav")]) == 1
    captured = capsys.readouterr()
    row = json.loads(captured.out)
    assert row["source"] == wavs[0] and set(row["probabilities"]) == {"high", "low"}
    assert "skipped" in captured.err and "missing.wav: no such file" in captured.err
    assert main(["predict", str(tmp_path / "no_model"), wavs[0]]) == 2
    assert Path(wavs[0]).exists()
