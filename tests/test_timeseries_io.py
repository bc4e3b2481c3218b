"""Reading series: csv/tsv/txt tables, .npy, UCR/UEA .ts; bad rows fail alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from any2img.converters.timeseries.gaf import GADF
from any2img.converters.timeseries.io import BadSeries, read_npy, read_table, read_ts, write_table, write_ts

from any2img import convert_dir
from any2img.batch.manifest import read_jsonl
from any2img.errors import InputError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _summary(records):
    return [(r.key, r.label, r.signal.tolist() if isinstance(r.signal, np.ndarray) else r.signal) for r in records]


# -- tables -------------------------------------------------------------------
def test_csv_with_header_and_label_column(tmp_path):
    path = _write(tmp_path / "train.csv", "label,t0,t1,t2\ncat,1,2,3\ndog,4.5,-5,6e-1\n")
    assert _summary(read_table(path)) == [("row0", "cat", [[1, 2, 3]]), ("row1", "dog", [[4.5, -5, 0.6]])]


def test_header_found_by_label_name_even_with_numeric_column_names(tmp_path):
    path = _write(tmp_path / "a.csv", "0,1,2,Class\n1,2,3,B\n4,5,6,A\n")
    assert _summary(read_table(path)) == [("row0", "B", [[1, 2, 3]]), ("row1", "A", [[4, 5, 6]])]


def test_no_header_means_every_cell_is_a_value(tmp_path):
    path = _write(tmp_path / "a.csv", "1,2,3\n4,5,6\n")
    assert _summary(read_table(path)) == [("row0", None, [[1, 2, 3]]), ("row1", None, [[4, 5, 6]])]


def test_a_text_column_without_header_is_the_label(tmp_path):
    first = _write(tmp_path / "a.csv", "cat,1,2\ndog,3,4\n")
    assert _summary(read_table(first)) == [("row0", "cat", [[1, 2]]), ("row1", "dog", [[3, 4]])]
    last = _write(tmp_path / "b.csv", "1,2,Walking\n3,4,Running\n")
    assert _summary(read_table(last)) == [("row0", "Walking", [[1, 2]]), ("row1", "Running", [[3, 4]])]
    # text in one row only is a bad cell, not a label column
    assert isinstance(read_table(_write(tmp_path / "c.csv", "cat,1,2\n5,3,4\n"))[0].signal, BadSeries)


def test_label_column_by_index_and_from_the_end(tmp_path):
    path = _write(tmp_path / "a.csv", "1,2,3\n2,5,6\n")
    assert _summary(read_table(path, label_column=0)) == [("row0", "1", [[2, 3]]), ("row1", "2", [[5, 6]])]
    assert _summary(read_table(path, label_column=-1)) == [("row0", "3", [[1, 2]]), ("row1", "6", [[2, 5]])]


def test_label_column_by_name(tmp_path):
    path = _write(tmp_path / "a.csv", "id,species,v1,v2\n7,fox,1,2\n")
    # "auto" does not know 'species'; naming it picks it out (the id column stays a value)
    assert _summary(read_table(path, label_column="species")) == [("row0", "fox", [[7, 1, 2]])]
    with pytest.raises(InputError) as info:
        read_table(path, label_column="kind")
    assert str(info.value) == f"{path}: label_column 'kind' is not a column of the header ('id', 'species', 'v1', 'v2')"
    with pytest.raises(InputError, match="label_column 'kind' names a column, but the file has no header row"):
        read_table(_write(tmp_path / "empty.csv", ""), label_column="kind")


def test_tsv_and_whitespace_txt_like_the_ucr_files(tmp_path):
    tsv = _write(tmp_path / "a.tsv", "label\tx\ty\nup\t1\t2\n")
    assert _summary(read_table(tsv, delimiter="\t")) == [("row0", "up", [[1, 2]])]
    txt = _write(tmp_path / "GunPoint_TRAIN.txt", "  2.0000000e+00  -6.4e-01  -6.5e-01\n  1.0000000e+00  1  2\n")
    got = read_table(txt, delimiter=None, label_column=0)
    assert _summary(got) == [("row0", "2", [[-0.64, -0.65]]), ("row1", "1", [[1, 2]])]


def test_unequal_lengths_and_missing_values(tmp_path):
    path = _write(tmp_path / "a.csv", "label,t0,t1,t2,t3\na,1,?,3,4\nb,1,2,,\nc,1,NaN,2,\n\n")
    records = read_table(path)
    assert [r.signal.shape for r in records] == [(1, 4), (1, 2), (1, 3)]
    assert np.isnan(records[0].signal[0, 1]) and np.isnan(records[2].signal[0, 1])
    conv = GADF(image_size=8, nan_policy="interpolate")
    assert conv.convert(records[0].signal).shape == (8, 8, 3)


def test_a_single_column_is_one_series(tmp_path):
    path = _write(tmp_path / "series.csv", "value\n1\n2\n4\n")
    records = read_table(path)
    assert _summary(records) == [("", None, [[1, 2, 4]])]
    assert GADF().read(path).tolist() == [[1, 2, 4]]


def test_a_bad_row_yields_a_failing_record_naming_row_and_column(tmp_path):
    path = _write(tmp_path / "a.csv", "label,t0,t1\nA,1,2\nB,3,abc\nC,\nD,5,6\n")
    records = read_table(path)
    assert [r.key for r in records] == ["row0", "row1", "row2", "row3"]
    assert [r.label for r in records] == ["A", "B", "C", "D"]
    bad, empty = records[1].signal, records[2].signal
    assert isinstance(bad, BadSeries) and isinstance(empty, BadSeries)
    assert str(bad.error) == f"{path}: row 1 (line 3), column 't1' (index 2): 'abc' is not a number"
    assert str(empty.error) == f"{path}: row 2 (line 4) holds no value"
    conv = GADF(image_size=8)
    with pytest.raises(InputError, match="'abc' is not a number"):
        conv.segment(bad)
    with pytest.raises(InputError, match="holds no value"):
        conv.convert(empty)
    headless = _write(tmp_path / "b.csv", "1,2\n3,x\n")
    assert str(read_table(headless)[1].signal.error) == f"{headless}: row 1 (line 2), column 1: 'x' is not a number"


def test_a_table_with_one_bad_row_converts_the_rest(tmp_path):
    src = tmp_path / "src"
    _write(src / "train.csv", "label,t0,t1,t2\nA,1,2,3\nB,3,abc,1\nA,0,2,1\nB,1,inf,2\n")
    report = convert_dir(GADF(image_size=8), src, tmp_path / "out", workers=1, progress=False)
    assert report.images == 2
    assert [(f.record, f.reason) for f in report.failures] == [
        ("row1", "row 1 (line 3), column 't1' (index 2): 'abc' is not a number"),
        ("row3", "the series holds 1 infinite value(s), the first at channel 0, timestamp 1; "
                 "infinite values are not allowed."),
    ]
    rows = read_jsonl(tmp_path / "out" / "manifest.jsonl")
    assert [(r["image"], r["label"], r["split"]) for r in rows] == [
        ("train/A/train-row0.png", "A", "train"), ("train/A/train-row2.png", "A", "train")]


def test_whole_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    empty = _write(tmp_path / "empty.csv", "label,t0\n")
    with pytest.raises(InputError, match=r"the table holds no series \(no data row\)$"):
        read_table(empty)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_table(binary)
    with pytest.raises(InputError, match="unsupported file type '.json'"):
        GADF().read(_write(tmp_path / "x.json", "{}"))


def test_read_wants_exactly_one_series(tmp_path):
    path = _write(tmp_path / "two.csv", "1,2\n3,4\n")
    with pytest.raises(InputError, match="holds 2 series; read_records\\(\\) yields them one by one"):
        GADF().read(path)
    one = _write(tmp_path / "one.csv", "1,2,3\n")
    assert GADF().read(one).tolist() == [[1, 2, 3]]
    bad = _write(tmp_path / "bad.csv", "1,x,3\n")
    with pytest.raises(InputError, match="'x' is not a number"):
        GADF().read(bad)


def test_table_round_trip_is_exact(tmp_path, rng):
    X = rng.standard_normal((3, 7))
    X[1, 2] = np.nan
    path = write_table(tmp_path / "t.csv", X, ["a", "b", "a"])
    records = read_table(path)
    assert [r.label for r in records] == ["a", "b", "a"]
    np.testing.assert_array_equal(np.concatenate([r.signal for r in records]), X)  # NaN == NaN here


# -- .npy -------------------------------------------------------------------------
def test_npy_layouts(tmp_path, rng):
    one = rng.standard_normal(10)
    np.save(tmp_path / "one.npy", one)
    assert _summary(read_npy(tmp_path / "one.npy")) == [("", None, [one.tolist()])]
    rows = rng.standard_normal((3, 10))
    np.save(tmp_path / "rows.npy", rows)
    got = read_npy(tmp_path / "rows.npy")
    assert [r.key for r in got] == ["row0", "row1", "row2"] and got[2].signal.tolist() == [rows[2].tolist()]
    cube = rng.standard_normal((2, 3, 10)).astype(np.float32)
    np.save(tmp_path / "cube.npy", cube)
    got = read_npy(tmp_path / "cube.npy")
    assert [r.signal.shape for r in got] == [(3, 10), (3, 10)]
    np.testing.assert_array_equal(got[1].signal, cube[1])
    np.save(tmp_path / "ints.npy", np.arange(5))
    assert read_npy(tmp_path / "ints.npy")[0].signal.dtype == np.float64


def test_npy_errors(tmp_path):
    np.save(tmp_path / "four.npy", np.zeros((1, 1, 1, 2)))
    with pytest.raises(InputError, match=r"must be 1-D .* \(got shape \(1, 1, 1, 2\)\)"):
        read_npy(tmp_path / "four.npy")
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    with pytest.raises(InputError, match=r"must hold real numbers \(got dtype <U1\)"):
        read_npy(tmp_path / "text.npy")
    np.save(tmp_path / "objects.npy", np.array([1, None], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="not a readable .npy array of numbers"):
        read_npy(tmp_path / "objects.npy")
    _write(tmp_path / "junk.npy", "not numpy")
    with pytest.raises(InputError, match="not a readable .npy array of numbers"):
        read_npy(tmp_path / "junk.npy")


# -- .ts ------------------------------------------------------------------------------
TS_UNIVARIATE = """# a comment
@problemName Toy
@timeStamps false
@missing true
@univariate true
@equalLength false
@classLabel true up down
@data
1,2,3:up
3,?,1,0:down

0.5,0.25:up
"""


def test_ts_univariate_unequal_length_with_missing_values(tmp_path):
    records = read_ts(_write(tmp_path / "a.ts", TS_UNIVARIATE))
    assert [(r.key, r.label, r.signal.shape) for r in records] == [
        ("row0", "up", (1, 3)), ("row1", "down", (1, 4)), ("row2", "up", (1, 2))]
    assert np.isnan(records[1].signal[0, 1]) and records[2].signal.tolist() == [[0.5, 0.25]]


def test_ts_multivariate(tmp_path):
    text = "@problemName M\n@univariate false\n@dimensions 2\n@classLabel true 1 2\n@data\n1,2,3:4,5,6:2\n0,0:1,1:1\n"
    records = read_ts(_write(tmp_path / "m.ts", text))
    assert _summary(records) == [("row0", "2", [[1, 2, 3], [4, 5, 6]]), ("row1", "1", [[0, 0], [1, 1]])]


def test_ts_without_labels(tmp_path):
    records = read_ts(_write(tmp_path / "n.ts", "@classLabel false\n@data\n1,2\n3,4\n"))
    assert _summary(records) == [("row0", None, [[1, 2]]), ("row1", None, [[3, 4]])]


def test_ts_bad_cases_fail_alone(tmp_path):
    text = ("@dimensions 2\n@classLabel true a b\n@data\n1,2:3,4:a\n1,x:3,4:a\n1,2:3:a\n1,2:3,4:c\n1,2:a\n"
            "1,2,3:4,5:b\n")
    path = _write(tmp_path / "bad.ts", text)
    records = read_ts(path)
    assert isinstance(records[0].signal, np.ndarray)
    assert [str(r.signal.error) for r in records[1:]] == [f"{path}: {m}" for m in [
        "row 1 (line 5), dimension 0, value 1: 'x' is not a number",
        "row 2 (line 6): its dimensions have different lengths (2, 1); a case must have one length",
        "row 3 (line 7): class label 'c' is not one of @classLabel ['a', 'b']",
        "row 4 (line 8) has 1 dimensions, @dimensions says 2",
        "row 5 (line 9): its dimensions have different lengths (3, 2); a case must have one length",
    ]]


def test_ts_whole_file_errors(tmp_path):
    with pytest.raises(InputError, match="no @data line: not a UCR/UEA .ts file"):
        read_ts(_write(tmp_path / "a.ts", "@problemName x\n"))
    with pytest.raises(InputError, match="@timeStamps true are not supported"):
        read_ts(_write(tmp_path / "b.ts", "@timeStamps true\n@data\n(0,1)\n"))
    with pytest.raises(InputError, match=r"line 1: expected an @keyword line before @data \(got '1,2,3'\)"):
        read_ts(_write(tmp_path / "c.ts", "1,2,3\n"))
    with pytest.raises(InputError, match=r"holds no series \(nothing after @data\)"):
        read_ts(_write(tmp_path / "d.ts", "@data\n"))


def test_ts_round_trip_is_exact(tmp_path, rng):
    cases = [rng.standard_normal((2, 5)), rng.standard_normal((2, 3))]
    cases[0][1, 2] = np.nan
    path = write_ts(tmp_path / "r.ts", cases, ["x", "y"], problem_name="R")
    records = read_ts(path)
    assert [r.label for r in records] == ["x", "y"]
    for record, case in zip(records, cases):
        np.testing.assert_array_equal(record.signal, case)
    assert "@equalLength false" in path.read_text() and "@missing true" in path.read_text()


def test_folders_of_series_files_convert_by_suffix(tmp_path, rng):
    src = tmp_path / "src"
    np.save(_write(src / "up" / "x.npy", "").with_suffix(".npy"), rng.standard_normal(20))
    write_ts(src / "down" / "y.ts", [rng.standard_normal((1, 12))])
    _write(src / "down" / "z.csv", "3,1,2,5\n")
    _write(src / "down" / "notes.md", "not a series")
    report = convert_dir(GADF(image_size=8), src, tmp_path / "out", workers=1, progress=False)
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    # a table names its rows even when it has one; a 1-D .npy is one series
    assert names == ["down/down__y-row0.png", "down/down__z-row0.png", "up/up__x.png"]
    assert report.ok, report.failures
