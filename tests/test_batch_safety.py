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


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import numpy as np

    from any2img.data import items_from_arrays, split_items
    from any2img.learn import Learner

    imgs = np.random.default_rng(0).integers(0, 255, (12, 16, 16), dtype=np.uint8)
    split = split_items(items_from_arrays(imgs, ["a", "b"] * 6), valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")
    return learn.export(tmp_path_factory.mktemp("m") / "model")


@pytest.mark.parametrize("change, message", [
    ({"model_kwargs": {"checkpoint_path": "/any/file.pth"}}, "'model_kwargs' may hold only"),
    ({"model_kwargs": {"bogus": 1}}, "'model_kwargs' may hold only"),
    ({"classes": ["a", "a"]}, "'classes' must be unique"),
    ({"std": [0.5, float("nan"), 0.5]}, "'std' must be 3 finite numbers > 0"),
    ({"std": [0.5, 0.0, 0.5]}, "'std' must be 3 finite numbers > 0"),
    ({"input_size": [3, 10**6, 64]}, "'input_size' must be"),
    ({"converter": "mel"}, "'converter' must be dict or null"),
    ({"surprise": 1}, "unknown keys"),
])
def test_tampered_model_json_is_refused_before_anything_is_built(exported, tmp_path, change, message):
    import shutil

    from any2img.artifact import read_artifact
    from any2img.errors import ArtifactError

    folder = tmp_path / "m"
    shutil.copytree(exported, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta.update(change)
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=message):
        read_artifact(folder)


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killing_convert_ends_its_workers(tmp_path, sig):
    import signal
    import subprocess
    import sys
    import time

    import numpy as np

    src = tmp_path / "src" / "a"
    src.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):  # sources of 300 rows each: a worker is busy for seconds on each
        rows = (",".join(f"{v:.3f}" for v in rng.normal(size=300)) for _ in range(300))
        (src / f"s{i}.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "any2img", "convert", "recurrence", str(tmp_path / "src"), str(out),
                             "-p", "image_size=128", "--workers", "2", "-q"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.rglob("*.png"))) < 50:
        time.sleep(0.05)
    proc.send_signal(getattr(signal, sig))
    proc.wait(timeout=60)
    time.sleep(1.0)
    first = len(list(out.rglob("*.png")))
    time.sleep(3.0)
    assert len(list(out.rglob("*.png"))) == first < 1800  # no worker lives on to write more
    if sig == "SIGTERM":  # a clean end: what finished is in the manifest, and a rerun completes the rest
        assert proc.returncode == 130 and b"interrupted" in proc.stderr.read()
        assert subprocess.run([sys.executable, "-m", "any2img", "convert", "recurrence", str(tmp_path / "src"),
                               str(out), "-p", "image_size=128", "-q"], check=False).returncode == 0
        assert len(items_from_manifest(out)) == 1800
