"""Data behind fsspec URLs: a memory:// round trip convert -> train -> predict, and the rules of any2img.storage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("upath")

from any2img import convert_dir, storage  # noqa: E402
from any2img.cli import main  # noqa: E402
from any2img.errors import MissingDependencyError, ParameterError  # noqa: E402


@pytest.fixture
def memfs():
    """A clean memory file system (it is one per process: clear what the test wrote)."""
    fs = fsspec.filesystem("memory")

    def clear() -> None:
        for entry in fs.ls("/", detail=False):
            fs.rm(entry, recursive=True)

    clear()
    yield fs
    clear()


def _series(fs, root: str, rng: np.random.Generator) -> None:
    """16 noisy rising and 16 falling series, one per CSV file, in class folders under memory://root."""
    t = np.linspace(0, 1, 64)
    for label, sign in (("up", 1.0), ("down", -1.0)):
        for i in range(16):
            values = sign * t + rng.normal(0, 0.1, t.size)
            fs.pipe(f"/{root}/{label}/s{i:02d}.csv", (",".join(f"{v:.4f}" for v in values) + "\n").encode())


def test_memory_round_trip_convert_train_predict(memfs, rng, tmp_path, capsys):
    _series(memfs, "raw", rng)
    assert main(["convert", "gadf", "memory://raw", "memory://images", "-p", "image_size=32", "-q"]) == 0
    assert "32 images from 32 sources written" in capsys.readouterr().out
    rows = [json.loads(line) for line in memfs.cat("/images/manifest.jsonl").decode().splitlines()]
    assert len(rows) == 32 and {r["label"] for r in rows} == {"up", "down"}
    assert all(memfs.exists(f"/images/{r['image']}") for r in rows)
    # The same conversion into a local folder gives the same manifest and the same PNG bytes.
    local = tmp_path / "images"
    convert_dir("gadf", storage.stage_in("memory://raw"), local, params={"image_size": 32}, progress=False)
    assert (local / "manifest.jsonl").read_text() == memfs.cat("/images/manifest.jsonl").decode()
    assert all((local / r["image"]).read_bytes() == memfs.cat(f"/images/{r['image']}") for r in rows)

    assert main(["train", "memory://images", "--out", "memory://model", "--backbone", "test_vit", "--no-pretrained",
                 "--image-size", "32", "--epochs", "1", "--batch-size", "8", "--quiet"]) == 0
    assert "model written to memory://model" in capsys.readouterr().out
    assert sorted(memfs.ls("/model", detail=False)) == ["/model/model.json", "/model/weights.safetensors"]

    assert main(["predict", "memory://model", "memory://raw/up/s03.csv", "--json"]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["source"] == "memory://raw/up/s03.csv[row0]" and remote["label"] in ("up", "down")
    # What a local copy of the model says about a local copy of the input.
    (tmp_path / "model").mkdir()
    for name in ("model.json", "weights.safetensors"):
        (tmp_path / "model" / name).write_bytes(memfs.cat(f"/model/{name}"))
    (tmp_path / "s03.csv").write_bytes(memfs.cat("/raw/up/s03.csv"))
    assert main(["predict", str(tmp_path / "model"), str(tmp_path / "s03.csv"), "--json"]) == 0
    here = json.loads(capsys.readouterr().out)
    assert remote["probabilities"] == pytest.approx(here["probabilities"], abs=1e-6)


def test_memory_conversion_resumes_and_reports_bad_sources(memfs, rng):
    _series(memfs, "raw", rng)
    memfs.pipe("/raw/up/broken.csv", b"not,a,number\n")
    first = convert_dir("gadf", "memory://raw", "memory://out", params={"image_size": 16}, progress=False)
    assert (first.converted_sources, first.images, len(first.failures)) == (33, 32, 1)
    assert first.failures[0].source == "up/broken.csv"
    errors = [json.loads(line) for line in memfs.cat("/out/errors.jsonl").decode().splitlines()]
    assert [e["source"] for e in errors] == ["up/broken.csv"]
    again = convert_dir("gadf", "memory://raw", "memory://out", params={"image_size": 16}, progress=False)
    assert (again.converted_sources, again.skipped_sources) == (1, 32)  # only the failed source is retried
    first_image = json.loads(memfs.cat("/out/manifest.jsonl").decode().splitlines()[0])["image"]
    memfs.rm(f"/out/{first_image}")
    third = convert_dir("gadf", "memory://raw", "memory://out", params={"image_size": 16}, progress=False)
    assert (third.converted_sources, third.skipped_sources) == (2, 31)  # the one with a missing image, and broken


def test_locations_local_paths_stay_paths_and_urls_name_their_backend(tmp_path):
    assert storage.as_location(str(tmp_path)) == tmp_path
    assert storage.as_location(f"file://{tmp_path}") == tmp_path  # file:// keeps every local guarantee
    assert isinstance(storage.as_location(tmp_path), Path)
    mem = storage.as_location("memory://a/b")
    assert not isinstance(mem, Path) and storage.protocol_of(mem) == "memory" and not storage.is_local(mem)
    assert storage.is_url("s3://bucket/x") and not storage.is_url("/data/x") and not storage.is_url("C:\\data")
    if "s3fs" not in sys.modules:
        try:
            import s3fs  # noqa: F401
        except ImportError:
            with pytest.raises(MissingDependencyError, match=r"needs s3fs.*pip install s3fs") as info:
                storage.as_location("s3://bucket/images")
            assert info.value.extra == "distributed"


def test_missing_extra_and_bad_engine_are_clear_errors(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    with pytest.raises(ParameterError, match="'engine' must be one of"):
        convert_dir("gadf", tmp_path / "src", tmp_path / "out", engine="spark")
    with pytest.raises(ParameterError, match="'scheduler' is only used with engine='dask'"):
        convert_dir("gadf", tmp_path / "src", tmp_path / "out", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ParameterError, match="memory:// location"):
        convert_dir("gadf", "memory://src", tmp_path / "out", engine="dask", scheduler="tcp://127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask.distributed were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'any2img\[distributed\]'"):
        convert_dir("gadf", tmp_path / "src", tmp_path / "out", engine="dask")
    monkeypatch.setitem(sys.modules, "upath", None)
    with pytest.raises(MissingDependencyError, match=r"'upath'.*any2img\[distributed\]"):
        storage.as_location("memory://x")
    assert not (tmp_path / "out").exists()  # refused before any work
