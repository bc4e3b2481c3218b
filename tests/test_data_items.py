"""Items from folders, manifests and arrays (no torch needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from any2img.data import (
    ImageItems,
    items_from_arrays,
    items_from_folder,
    items_from_manifest,
    items_from_path,
    load_image,
)
from any2img.data.items import sort_labels
from any2img.errors import InputError, ParameterError


def _png(path: Path, value: int = 0, size: tuple[int, int] = (6, 5), mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size[0], size[1], 3) if mode == "RGB" else size
    Image.fromarray(np.full(shape, value, np.uint8), mode=mode).save(path)
    return path


def test_folder_labels_from_parent_sorted_keys(tmp_path):
    _png(tmp_path / "dog" / "b.png")
    _png(tmp_path / "cat" / "a.png")
    _png(tmp_path / "cat" / "sub" / "c.jpg")  # parent is "sub"
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    _png(tmp_path / ".hidden" / "x.png")
    items = items_from_folder(tmp_path)
    assert [i.key for i in items] == ["cat/a.png", "cat/sub/c.jpg", "dog/b.png"]
    assert items.labels == ["cat", "sub", "dog"]
    assert all(i.split is None and i.group is None for i in items)
    assert items.root == tmp_path
    assert items.classes == ["cat", "dog", "sub"]


def test_folder_predefined_split_folders(tmp_path):
    _png(tmp_path / "train" / "a" / "1.png")
    _png(tmp_path / "val" / "b" / "2.png")
    _png(tmp_path / "test" / "a" / "3.png")
    _png(tmp_path / "extra" / "b" / "4.png")
    items = items_from_folder(tmp_path)
    by_key = {i.key: (i.split, i.label) for i in items}
    assert by_key == {
        "train/a/1.png": ("train", "a"),
        "val/b/2.png": ("valid", "b"),
        "test/a/3.png": ("test", "a"),
        "extra/b/4.png": (None, "b"),
    }


def test_folder_label_regex_callable_and_groups(tmp_path):
    for name in ("3_jackson_0.png", "3_theo_1.png", "7_jackson_2.png"):
        _png(tmp_path / name)
    items = items_from_folder(tmp_path, r"(?P<label>\d+)_", group_from=r"_(?P<group>[a-z]+)_")
    assert items.labels == ["3", "3", "7"]
    assert items.groups == ["jackson", "theo", "jackson"]
    items = items_from_folder(tmp_path, lambda p: p.stem[-1])
    assert items.labels == ["0", "1", "2"]


def test_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        items_from_folder(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InputError, match="no image"):
        items_from_folder(tmp_path)
    _png(tmp_path / "nolabel.png")
    with pytest.raises(InputError, match="does not match the label pattern"):
        items_from_folder(tmp_path, r"(?P<label>\d+)_")
    with pytest.raises(ParameterError, match="named group"):
        items_from_folder(tmp_path, r"\d+")


def _manifest(tmp_path: Path) -> Path:
    rows = []
    for split, label, src, n_windows in (("train", "1", "train.csv", 2), ("test", "2", "test.csv", 1)):
        for w in range(n_windows):
            image = f"{split}/{label}/{split}-row{w}.png"
            _png(tmp_path / image, value=10 * w)
            rows.append({
                "image": image, "source": src, "record": f"row{w}", "label": label, "group": f"{split}-g",
                "split": split, "window": {"index": w, "start": 0.0, "stop": 10.0, "unit": "timestamps"},
                "converter": "gadf", "params": {"image_size": 8}, "source_hash": "sha256:x", "image_hash": "sha256:y",
            })
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "conversion.json").write_text(json.dumps({"converter": "gadf", "params": {"image_size": 8},
                                                          "src": "/data"}))
    return tmp_path / "manifest.jsonl"


def test_manifest_fields_and_converter(tmp_path):
    manifest = _manifest(tmp_path)
    items = items_from_manifest(manifest)
    assert len(items) == 3
    first = items[0]
    assert first.path == str(tmp_path / "train/1/train-row0.png")
    assert (first.label, first.group, first.split, first.source, first.record) == ("1", "train-g", "train",
                                                                                    "train.csv", "row0")
    assert first.window == {"index": 0, "start": 0.0, "stop": 10.0, "unit": "timestamps"}
    assert first.key == "train/1/train-row0.png"
    assert items.converter == {"name": "gadf", "params": {"image_size": 8}}
    assert items_from_manifest(tmp_path).converter == items.converter  # the folder works too
    assert isinstance(items_from_path(tmp_path), ImageItems) and len(items_from_path(tmp_path)) == 3
    assert items[1:].converter == items.converter  # slicing keeps the provenance


def test_manifest_errors(tmp_path):
    with pytest.raises(InputError, match="no such manifest"):
        items_from_manifest(tmp_path)
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"image": "gone.png", "label": "a"}) + "\n")
    with pytest.raises(InputError, match="line 1: image 'gone.png' does not exist"):
        items_from_manifest(tmp_path)
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"label": "a"}) + "\n")
    with pytest.raises(InputError, match="field 'image'"):
        items_from_manifest(tmp_path)


def test_arrays_keys_are_content_hashes():
    imgs = np.stack([np.full((4, 4), v, np.uint8) for v in (1, 2, 1)])
    items = items_from_arrays(imgs, [0, 1, 0], groups=["a", "b", "c"], splits=["train", None, "test"])
    assert items.labels == ["0", "1", "0"]
    assert items[0].key != items[2].key  # duplicates stay distinct
    assert items[0].key == items_from_arrays(imgs[:1], [0])[0].key  # order-independent identity
    assert items[1].image.shape == (4, 4)
    assert load_image(items[1].image).shape == (4, 4, 1)
    with pytest.raises(ParameterError, match="'labels' must have one entry per image"):
        items_from_arrays(imgs, [0, 1])
    with pytest.raises(InputError, match="dtype uint8"):
        items_from_arrays(imgs.astype(np.float32), [0, 1, 0])
    with pytest.raises(ParameterError, match="'splits' entries"):
        items_from_arrays(imgs, [0, 1, 0], splits=["train", "dev", None])


def test_load_image_modes(tmp_path):
    grey = load_image(_png(tmp_path / "g.png", 7, mode="L"))
    assert grey.shape == (6, 5, 1) and grey.dtype == np.uint8 and grey.max() == 7
    rgba = tmp_path / "a.png"
    Image.fromarray(np.full((3, 3, 4), 9, np.uint8), mode="RGBA").save(rgba)
    assert load_image(rgba).shape == (3, 3, 3)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read the image"):
        load_image(bad)


def test_sort_labels_numeric():
    assert sort_labels(["10", "9", "1"]) == ["1", "9", "10"]
    assert sort_labels(["b", "a", "10"]) == ["10", "a", "b"]


def test_items_need_no_torch():
    import subprocess

    code = "import sys, any2img.data as d; d.split_items; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
