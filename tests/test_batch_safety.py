"""Issue 13's reproductions: path-escaping labels and manifests, over-long CSV fields, two runs in one folder."""

from __future__ import annotations

import json

import pytest

from any2img import convert_dir
from any2img.batch.convert_dir import label_folder
from any2img.cli import main
from any2img.data import items_from_manifest
from any2img.errors import InputError


def test_label_folders_never_escape_and_never_collide():
    assert label_folder("walk") == "walk" and label_folder("1.5") == "1.5"
    unsafe = ["..", ".", "a/b", "a_b_", ".hidden", "a b", "x" * 300]
    names = [label_folder(x) for x in unsafe]
    assert all("/" not in n and not n.startswith(".") and len(n) <= 109 for n in names)
    assert len(set(names)) == len(names) and label_folder("a/b") != label_folder("a_b")


def test_a_dot_dot_label_writes_inside_the_destination(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s" / "c").mkdir(parents=True)
    (tmp_path / "s" / "c" / "t.csv").write_text("label,a,b,c\n..,1,2,3\n.,3,2,1\n")
    assert main(["convert", "gadf", "s", "out", "-p", "image_size=8", "-q"]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert len(written) == 2 and all(p.startswith("out/") and "/." not in p for p in written)
    labels = sorted(str(it.label) for it in items_from_manifest(tmp_path / "out"))
    assert labels == [".", ".."]  # the labels themselves are kept


def test_manifest_paths_must_stay_inside_and_repeated_rows_count_once(tmp_path):
    (tmp_path / "outside.png").write_bytes(b"")
    folder = tmp_path / "m"
    (folder / "a").mkdir(parents=True)
    from PIL import Image

    Image.new("L", (4, 4)).save(folder / "a" / "x.png")
    row = {"image": "a/x.png", "label": "a"}
    (folder / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in (row, row, {**row, "label": "b"})))
    items = items_from_manifest(folder)
    assert len(items) == 1 and items[0].label == "b"
    for bad in ("../outside.png", str(tmp_path / "outside.png")):
        (folder / "manifest.jsonl").write_text(json.dumps({"image": bad, "label": "a"}))
        with pytest.raises(InputError, match="field 'image' must be a path inside the manifest's folder"):
            items_from_manifest(folder)


def test_an_over_long_csv_field_skips_that_file_only(tmp_path):
    src = tmp_path / "r" / "a"
    src.mkdir(parents=True)
    (src / "x.csv").write_text("1" * 200_000)
    (src / "y.csv").write_text("1,2,3,4,5,6\n")
    report = convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, workers=1,
                         progress=False)
    assert report.images == 1 and len(report.failures) == 1
    assert report.failures[0].source == "a/x.csv" and "longer than" in report.failures[0].reason
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert errors[0]["source"] == "a/x.csv"


def test_a_second_conversion_into_a_busy_folder_refuses(tmp_path):
    from filelock import FileLock

    src = tmp_path / "r" / "a"
    src.mkdir(parents=True)
    (src / "y.csv").write_text("1,2,3,4,5,6\n")
    (tmp_path / "out").mkdir()
    with FileLock(str(tmp_path / "out" / ".any2img.lock")):  # another run holds the folder
        with pytest.raises(InputError, match="another any2img conversion is writing into this folder"):
            convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, progress=False)
    report = convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, progress=False)
    assert report.images == 1  # released: the next run goes ahead
