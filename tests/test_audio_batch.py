"""Audio through the batch engine and the CLI, and the FSDD loader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from any2img.batch import convert_dir
from any2img.cli import main
from any2img.datasets import fsdd
from any2img.errors import InputError, ParameterError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
RECORDINGS = SHARED / "fsdd" / "recordings"


def _tone(freq: float, sr: int = 8000, seconds: float = 0.3) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def test_batch_skips_a_corrupt_wav_and_converts_the_rest(tmp_path):
    src = tmp_path / "src"
    for label, freq in (("low", 300.0), ("high", 2500.0)):
        (src / label).mkdir(parents=True)
        for i in range(2):
            sf.write(src / label / f"{label}{i}.wav", _tone(freq + 10 * i), 8000)
    (src / "low" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (src / "high" / "empty.wav").write_bytes(b"")
    (src / "high" / "notes.txt").write_text("not audio, not a source")
    dst = tmp_path / "out"
    report = convert_dir("mel", src, dst, params={"sample_rate": 8000, "n_mels": 32}, workers=1, progress=False)
    assert report.images == 4 and not report.ok
    reasons = {f.source: f.reason for f in report.failures}
    assert set(reasons) == {"low/broken.wav", "high/empty.wav"}
    assert "corrupt" in reasons["low/broken.wav"] and "empty (0 bytes)" in reasons["high/empty.wav"]
    rows = _rows(dst)
    assert sorted(r["source"] for r in rows) == ["high/high0.wav", "high/high1.wav", "low/low0.wav", "low/low1.wav"]
    assert all(r["image"].startswith(r["source"].split("/")[0] + "/") for r in rows)
    assert all(r["converter"] == "mel" and r["params"]["sample_rate"] == 8000 for r in rows)
    assert all(r["window"] == {"index": 0, "start": 0.0, "stop": 0.3, "unit": "seconds"} for r in rows)
    by_source = {r["source"]: dst / r["image"] for r in rows}
    img = np.asarray(Image.open(by_source["high/high0.wav"]))
    low = np.asarray(Image.open(by_source["low/low0.wav"]))
    assert img.shape == (32, 16, 3) and np.argmax(img[:, 8, 0]) < np.argmax(low[:, 8, 0])  # high tone higher up


def test_batch_windows_and_channels_land_in_the_manifest(tmp_path):
    src = tmp_path / "src" / "a"
    src.mkdir(parents=True)
    sf.write(src / "long.wav", np.stack([_tone(440.0, seconds=1.0), _tone(880.0, seconds=1.0)], 1), 8000)
    dst = tmp_path / "out"
    report = convert_dir(
        "stft", src.parent, dst, params={"sample_rate": 8000, "channels": "each", "duration": 0.5, "n_fft": 256},
        workers=1, progress=False,
    )
    assert report.ok and report.images == 4
    rows = _rows(dst)
    expected = [("ch0", 0.0), ("ch0", 0.5), ("ch1", 0.0), ("ch1", 0.5)]
    assert [(r["record"], r["window"]["start"]) for r in rows] == expected
    assert rows[0]["image"].endswith("long-ch0-w00000.png") and rows[0]["meta"] == {"channel": 0}


def _fsdd_slice(tmp_path: Path, n_per_speaker: int = 4) -> Path:
    if not RECORDINGS.is_dir():
        pytest.skip(f"FSDD recordings not found at {RECORDINGS} (shared datasets are absent)")
    dst = tmp_path / "recordings"
    dst.mkdir()
    for speaker in ("jackson", "nicolas", "theo"):
        for k in range(n_per_speaker):  # digits 0..3 spread over speakers, two takes each
            for take in (0, 5):
                name = f"{k}_{speaker}_{take}.wav"
                shutil.copy(RECORDINGS / name, dst / name)
    return dst


@pytest.mark.shared_data
def test_cli_converts_an_fsdd_slice_with_labels_and_speaker_groups(tmp_path, capsys):
    src = _fsdd_slice(tmp_path)  # 24 files
    dst = tmp_path / "images"
    code = main([
        "convert", "mel", str(src), str(dst), "--param", "image_size=64", "--param", "sample_rate=8000",
        "--label-from", fsdd.FILENAME_REGEX, "--group-from", fsdd.FILENAME_REGEX, "--workers", "1", "--quiet",
    ])
    assert code == 0, capsys.readouterr().err
    assert "24 images from 24 sources" in capsys.readouterr().out
    assert sorted(p.name for p in dst.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    rows = _rows(dst)
    assert len(rows) == 24
    for row in rows:
        digit, speaker, _ = fsdd.parse_name(row["source"])
        assert row["label"] == str(digit) and row["group"] == speaker
        assert row["image"].startswith(f"{digit}/")
    assert {r["group"] for r in rows} == {"jackson", "nicolas", "theo"}
    img = np.asarray(Image.open(dst / rows[0]["image"]))
    assert img.shape == (64, 64, 3) and img.max() > 100  # speech is visible against the floor


@pytest.mark.shared_data
def test_fsdd_real_files_read_at_8k_and_16k():
    if not RECORDINGS.is_dir():
        pytest.skip(f"FSDD recordings not found at {RECORDINGS} (shared datasets are absent)")
    from any2img.converters.audio.spectrograms import Mel

    path = RECORDINGS / "7_theo_3.wav"
    at8 = Mel(sample_rate=8000).read(path)
    at16 = Mel().read(path)
    assert at8.sample_rate == 8000 and at16.n_samples == 2 * at8.n_samples


# -- the FSDD loader (no download, no real data needed) -----------------------------------------------


@pytest.fixture
def fake_fsdd(tmp_path):
    root = tmp_path / "recordings"
    root.mkdir()
    for digit in range(10):
        for speaker in ("ana", "bob", "nicolas"):
            for take in (0, 4, 5, 49):
                (root / f"{digit}_{speaker}_{take}.wav").write_bytes(b"")
    (root / "README.md").write_text("not a recording")
    (root / "10_bad_name.wav").write_bytes(b"")
    return root


def test_list_fsdd_and_official_split(fake_fsdd):
    items = fsdd.list_fsdd(fake_fsdd)
    assert len(items) == 10 * 3 * 4
    assert items[0] == fsdd.FsddItem(fake_fsdd / "0_ana_0.wav", 0, "ana", 0) and items[0].label == "0"
    train, test = fsdd.official_split(items)
    assert len(train) == 60 and len(test) == 60
    assert {it.take for it in test} == {0, 4} and {it.take for it in train} == {5, 49}


def test_speaker_split(fake_fsdd):
    items = fsdd.list_fsdd(fake_fsdd)
    train, test = fsdd.speaker_split(items)
    assert {it.speaker for it in test} == {"nicolas"} and {it.speaker for it in train} == {"ana", "bob"}
    train, test = fsdd.speaker_split(items, held_out=["ana", "bob"])
    assert len(test) == 80 and len(train) == 40
    with pytest.raises(ParameterError, match=r"'held_out' must name speakers of the dataset \(ana, bob, nicolas\)"):
        fsdd.speaker_split(items, held_out="zoe")


def test_fsdd_root_from_argument_env_and_missing(fake_fsdd, tmp_path, monkeypatch):
    monkeypatch.setenv(fsdd.ENV_VAR, str(fake_fsdd))
    assert fsdd.fsdd_root() == fake_fsdd
    assert len(fsdd.list_fsdd()) == 120
    with pytest.raises(InputError, match=r"nowhere: no FSDD recordings folder here \(the given path\); download"):
        fsdd.fsdd_root(tmp_path / "nowhere")
    monkeypatch.setenv(fsdd.ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(InputError, match=r"\$ANY2IMG_FSDD.*free-spoken-digit-dataset"):
        fsdd.fsdd_root()
    monkeypatch.delenv(fsdd.ENV_VAR)  # no default location: the package guesses no path
    with pytest.raises(InputError, match=r"no FSDD recordings folder given.*ANY2IMG_FSDD"):
        fsdd.fsdd_root()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no FSDD recording"):
        fsdd.list_fsdd(empty)


def test_filename_regex_serves_as_label_and_group_rule(fake_fsdd):
    from any2img.batch.labels import parse_rule

    path = fake_fsdd / "3_bob_49.wav"
    assert parse_rule(fsdd.FILENAME_REGEX, "label")(path) == "3"
    assert parse_rule(fsdd.FILENAME_REGEX, "group")(path) == "bob"
    assert fsdd.parse_name("10_bad_name.wav") is None


def test_link_split_lays_out_split_and_label_folders(fake_fsdd, tmp_path):
    train, test = fsdd.official_split(fsdd.list_fsdd(fake_fsdd))
    out = fsdd.link_split({"train": train, "test": test}, tmp_path / "layout")
    assert (out / "train" / "3" / "3_bob_49.wav").exists() and (out / "test" / "3" / "3_bob_0.wav").exists()
    assert len(list((out / "test").rglob("*.wav"))) == 60
    fsdd.link_split({"train": train}, out)  # a second call leaves what is there


@pytest.mark.shared_data
def test_the_real_fsdd_has_its_documented_shape():
    if not RECORDINGS.is_dir():
        pytest.skip(f"FSDD recordings not found at {RECORDINGS} (shared datasets are absent)")
    items = fsdd.list_fsdd(RECORDINGS)
    assert len(items) == 3000 and {it.speaker for it in items} == set(fsdd.SPEAKERS)
    train, test = fsdd.official_split(items)
    assert (len(train), len(test)) == (2700, 300)
    assert len(fsdd.speaker_split(items)[1]) == 500
