"""Nothing is written outside the destination, and nothing outside a manifest's folder is read through it.

A label becomes a folder name by :func:`any2img.batch.convert_dir.label_folder`:
a plain name (letters, digits, ``-``, ``_``, ``.``; no leading dot; at most
100 characters) is its own folder; any other gets its other characters
replaced by ``_`` and 8 hex digits of its SHA-256 appended.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from any2img import convert_dir
from any2img.batch.convert_dir import label_folder
from any2img.cli import main
from any2img.data import items_from_manifest
from any2img.errors import InputError

HOSTILE_LABELS = ["..", ".", "../../etc", "/tmp/abs", "a/b", "a\\b", "a_b_", ".hidden", "a b", "x" * 300, "~",
                  "$HOME", "con", "\u202e" + "gnp.exe", "..\\..\\win", "é/../x", "-rf"]


def test_label_folders_never_escape_and_never_collide(tally):
    assert label_folder("walk") == "walk" and label_folder("1.5") == "1.5"
    names = [label_folder(x) for x in HOSTILE_LABELS]
    assert all("/" not in n and "\\" not in n and not n.startswith(".") and len(n) <= 109 for n in names)
    assert len(set(names)) == len(names) and label_folder("a/b") != label_folder("a_b")
    tally.add("path traversal", tried=len(HOSTILE_LABELS), injected="labels '..', '.', '../../etc', absolute, "
              "slashes, backslashes, hidden, 300 chars, RTL override; manifest image paths '../', absolute, "
              "symlinks out; a symlinked label folder in the destination")


def test_hostile_labels_write_inside_the_destination(tmp_path, monkeypatch, tally):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s" / "c").mkdir(parents=True)
    rows = "".join(f"{label.replace(',', '_')},1,2,3\n" for label in HOSTILE_LABELS)
    (tmp_path / "s" / "c" / "t.csv").write_text("label,a,b,c\n" + rows)
    assert main(["convert", "gadf", "s", "out", "-p", "image_size=8", "-q"]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert len(written) == len(HOSTILE_LABELS) and all(p.startswith("out/") and "/." not in p for p in written)
    assert sorted(str(it.label) for it in items_from_manifest(tmp_path / "out")) == sorted(HOSTILE_LABELS)
    tally.add("path traversal", tried=len(HOSTILE_LABELS))


def test_a_label_folder_that_links_outside_is_refused(tmp_path, tally):
    (tmp_path / "s" / "cat").mkdir(parents=True)
    (tmp_path / "s" / "cat" / "x.csv").write_text("1,2,3,4\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "cat").symlink_to(tmp_path / "elsewhere")
    report = convert_dir("gadf", tmp_path / "s", tmp_path / "out", params={"image_size": 8}, progress=False)
    assert report.images == 0 and "leads outside the destination" in report.failures[0].reason
    assert not list((tmp_path / "elsewhere").iterdir())
    tally.add("path traversal", tried=1)


def test_manifest_paths_must_stay_inside_and_repeated_rows_count_once(tmp_path, tally):
    (tmp_path / "outside.png").write_bytes(b"")
    folder = tmp_path / "m"
    (folder / "a").mkdir(parents=True)
    Image.new("L", (4, 4)).save(folder / "a" / "x.png")
    row = {"image": "a/x.png", "label": "a"}
    (folder / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in (row, row, {**row, "label": "b"})))
    items = items_from_manifest(folder)
    assert len(items) == 1 and items[0].label == "b"
    (folder / "a" / "link.png").symlink_to(tmp_path / "outside.png")
    bad_paths = ["../outside.png", str(tmp_path / "outside.png"), "a/../../outside.png", "a/link.png"]
    for bad in bad_paths:
        (folder / "manifest.jsonl").write_text(json.dumps({"image": bad, "label": "a"}))
        with pytest.raises(InputError, match="field 'image' must be a path inside the manifest's folder"):
            items_from_manifest(folder)
    tally.add("path traversal", tried=len(bad_paths) + 1)
