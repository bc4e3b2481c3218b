"""Batch conversion: layout, manifest, labels, groups, failures, resume."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_converter import ToyConverter

from any2img import convert_dir
from any2img.batch.manifest import read_jsonl
from any2img.errors import InputError, ParameterError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    _write(root / "cats" / "a.txt", "1 2 3 4")
    _write(root / "cats" / "b.txt", "5 6 7 8")
    _write(root / "dogs" / "c.txt", "9 10 11 12")
    _write(root / "dogs" / "notes.md", "ignored: not a .txt")
    return root


def test_labels_from_parent_folders_and_manifest_rows(src, tmp_path):
    dst = tmp_path / "out"
    report = convert_dir(ToyConverter(height=2), src, dst, workers=1, progress=False)
    assert report.ok and report.images == 3 and report.converted_sources == 3
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.png")) == [
        "cats/cats__a.png", "cats/cats__b.png", "dogs/dogs__c.png"]
    rows = read_jsonl(dst / "manifest.jsonl")
    first = rows[0]
    assert first["image"] == "cats/cats__a.png"
    assert first["source"] == "cats/a.txt"
    assert first["label"] == "cats"
    assert first["group"] == "cats__a"  # by default each source is its own group
    assert first["split"] is None
    assert first["params"] == {"height": 2, "window": None}
    assert first["source_hash"].startswith("sha256:") and first["image_hash"].startswith("sha256:")
    pixels = np.asarray(Image.open(dst / first["image"]))
    assert pixels.shape == (2, 4, 3) and pixels[0, :, 0].tolist() == [1, 2, 3, 4]
    conversion = json.loads((dst / "conversion.json").read_text())
    assert conversion["converter"] == "toy" and conversion["src"] == str(src.resolve())


def test_windows_get_their_own_images_with_offsets(tmp_path):
    src = tmp_path / "s"
    _write(src / "x" / "long.txt", " ".join(str(i) for i in range(10)))
    dst = tmp_path / "o"
    convert_dir(ToyConverter(window=4), src, dst, workers=1, progress=False)
    rows = read_jsonl(dst / "manifest.jsonl")
    assert [r["image"] for r in rows] == ["x/x__long-w00000.png", "x/x__long-w00001.png"]
    assert rows[1]["window"] == {"index": 1, "start": 4.0, "stop": 8.0, "unit": "timestamps"}
    assert {r["group"] for r in rows} == {"x__long"}  # windows of one source share a group


def test_regex_label_and_group_and_predefined_split(tmp_path):
    src = tmp_path / "s"
    for split in ("train", "test"):
        for name in ("3_jackson_0.txt", "7_george_1.txt"):
            _write(src / split / name, "1 2")
    dst = tmp_path / "o"
    pattern = r"(?P<label>\d+)_(?P<group>[a-z]+)_\d+"
    convert_dir(ToyConverter(), src, dst, label_from=pattern, group_from=pattern, workers=1, progress=False)
    rows = {r["image"]: r for r in read_jsonl(dst / "manifest.jsonl")}
    assert set(rows) == {"test/3/3_jackson_0.png", "test/7/7_george_1.png",
                         "train/3/3_jackson_0.png", "train/7/7_george_1.png"}
    row = rows["train/3/3_jackson_0.png"]
    assert (row["label"], row["group"], row["split"]) == ("3", "jackson", "train")


def test_a_bad_file_is_reported_and_the_rest_converts(src, tmp_path):
    _write(src / "cats" / "broken.txt", "BAD data")
    _write(src / "dogs" / "negative.txt", "1 -2 3")
    dst = tmp_path / "out"
    report = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert report.images == 3 and not report.ok
    reasons = {f.source: f.reason for f in report.failures}
    assert reasons == {"cats/broken.txt": "the file is marked BAD", "dogs/negative.txt": "values must be >= 0"}
    assert {r["source"] for r in read_jsonl(dst / "errors.jsonl")} == set(reasons)


def test_rerun_converts_only_what_is_missing_or_changed(src, tmp_path):
    dst = tmp_path / "out"
    first = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert first.converted_sources == 3
    again = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert (again.converted_sources, again.skipped_sources, again.images) == (0, 3, 0)
    # A deleted image, a changed source and a new source are redone; nothing else is.
    (dst / "cats" / "cats__a.png").unlink()
    _write(src / "cats" / "b.txt", "50 60 70")
    _write(src / "dogs" / "d.txt", "1 1")
    third = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert (third.converted_sources, third.skipped_sources) == (3, 1)
    rows = read_jsonl(dst / "manifest.jsonl")
    assert len(rows) == 4 and len({r["image"] for r in rows}) == 4
    # Other parameters mean other images: everything is redone.
    fourth = convert_dir(ToyConverter(height=3), src, dst, workers=1, progress=False)
    assert fourth.converted_sources == 4 and fourth.skipped_sources == 0


def test_failed_sources_are_retried_on_rerun(src, tmp_path):
    bad = _write(src / "cats" / "later.txt", "BAD")
    dst = tmp_path / "out"
    assert len(convert_dir(ToyConverter(), src, dst, workers=1, progress=False).failures) == 1
    _write(bad, "4 4")
    report = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert report.ok and report.converted_sources == 1 and report.skipped_sources == 3


def test_an_interrupted_run_resumes(src, tmp_path, monkeypatch):
    dst = tmp_path / "out"
    module = importlib.import_module("any2img.batch.convert_dir")

    real = module._convert_records
    calls = {"n": 0}

    def dies_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_convert_records", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    monkeypatch.setattr(module, "_convert_records", real)
    report = convert_dir(ToyConverter(), src, dst, workers=1, progress=False)
    assert (report.converted_sources, report.skipped_sources) == (1, 2)
    assert len(read_jsonl(dst / "manifest.jsonl")) == 3
    assert not list(dst.rglob("*.tmp"))


def test_parallel_workers_give_the_same_images(src, tmp_path):
    serial = convert_dir(ToyConverter(), src, tmp_path / "a", workers=1, progress=False)
    parallel = convert_dir(ToyConverter(), src, tmp_path / "b", workers=2, progress=False)
    assert serial.images == parallel.images == 3
    strip = [{k: v for k, v in r.items()} for r in read_jsonl(tmp_path / "a" / "manifest.jsonl")]
    assert strip == read_jsonl(tmp_path / "b" / "manifest.jsonl")


def test_missing_source_and_bad_options_are_clear(tmp_path):
    with pytest.raises(InputError, match="nowhere: no such file or folder"):
        convert_dir(ToyConverter(), tmp_path / "nowhere", tmp_path / "o", progress=False)
    rule = r"'label_from' must be 'parent', 'stem', 'none' or a regex with a named group"
    with pytest.raises(ParameterError, match=rule):
        convert_dir(ToyConverter(), tmp_path, tmp_path / "o", label_from=r"\d+", progress=False)
    with pytest.raises(ParameterError, match="'height' must be an int >= 1"):
        convert_dir(ToyConverter(height=0), tmp_path, tmp_path / "o", progress=False)


def test_label_pattern_mismatch_is_a_reported_failure(tmp_path):
    _write(tmp_path / "s" / "oops.txt", "1")
    report = convert_dir(ToyConverter(), tmp_path / "s", tmp_path / "o", label_from=r"(?P<label>\d)_", workers=1,
                         progress=False)
    assert [str(f) for f in report.failures] == [
        "oops.txt: file name does not match the label pattern '(?P<label>\\\\d)_'"]
