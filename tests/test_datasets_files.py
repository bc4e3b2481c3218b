"""Split folder names and the series writers of any2img.datasets, read back through a converter's public reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from any2img import get_converter
from any2img.batch.labels import SPLIT_ALIASES, split_of
from any2img.datasets.files import write_table, write_ts


def test_one_table_of_split_names_for_converting_and_training() -> None:
    from any2img.data import items

    assert items.SPLIT_ALIASES is SPLIT_ALIASES
    assert split_of(Path("val/cat/x.wav")) == "valid" and split_of(Path("Validation/cat/x.wav")) == "valid"
    assert split_of(Path("VAL.csv")) == "valid" and split_of(Path("test.csv")) == "test"
    assert split_of(Path("train/a/b.npy")) == "train" and split_of(Path("other/a.npy")) is None


def test_convert_dir_marks_a_val_folder_as_the_validation_side(tmp_path: Path) -> None:
    from any2img import convert_dir
    from any2img.data import items_from_manifest

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        folder = tmp_path / "src" / split / "a"
        folder.mkdir(parents=True)
        np.save(folder / "x.npy", rng.standard_normal(32))
    convert_dir(get_converter("gasf", image_size=16), tmp_path / "src", tmp_path / "out", progress=False)
    marks = sorted(str(it.split) for it in items_from_manifest(tmp_path / "out" / "manifest.jsonl"))
    assert marks == ["train", "valid"]


def test_written_tables_and_ts_files_read_back_exactly(tmp_path: Path) -> None:
    reader = get_converter("lineplot")
    X = np.array([[0.1, 1 / 3, np.nan], [2.5, -1e-300, 7.0]])
    table = list(reader.read_records(write_table(tmp_path / "t.csv", X, ["a", "b"])))
    np.testing.assert_array_equal(np.vstack([r.signal for r in table]), X)
    assert [r.label for r in table] == ["a", "b"]
    cases = [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([[0.5, np.nan], [1.5, 2.5]])]
    ts = list(reader.read_records(write_ts(tmp_path / "c.ts", cases, ["x", "y"], problem_name="C")))
    for record, case in zip(ts, cases):
        np.testing.assert_array_equal(record.signal, case)
    assert [r.label for r in ts] == ["x", "y"]


def test_the_time_series_converters_re_export_the_one_pair_of_writers() -> None:
    """One copy of each writer: the time-series converters' io module re-exports any2img.datasets.files's."""
    io = pytest.importorskip("any2img.converters.timeseries.io")
    assert io.write_table is write_table and io.write_ts is write_ts
