"""Mouse logs: reading Balabit and generic tables, the cleaning policy, kinematics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from any2img.converters.mouse.io import Columns, as_mouse_log, read_mouse_table
from any2img.converters.mouse.log import MIN_DT, MouseLog, effective_times, kinematics

from any2img import convert_dir, get_converter
from any2img.errors import InputError

HEADER = "record timestamp,client timestamp,button,state,x,y\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_balabit_file_is_sorted_cleaned_and_counted(tmp_path):
    path = _write(tmp_path / "user1" / "session_1", HEADER + (
        "0.0,0.0,NoButton,Move,10,20\n"          # row 2
        "0.0,0.1,NoButton,Move,12,20\n"          # row 3
        "0.0,0.1,NoButton,Move,14,20\n"          # row 4: repeated timestamp
        "0.0,0.3,NoButton,Move,65535,65535\n"    # row 5: off-window sentinel, dropped
        "0.0,0.4,Left,Released,16,20\n"          # row 6
        "0.0,abc,Left,Released,16,20\n"          # row 7: bad time
        "0.0,0.2,Left,Pressed,16,20\n"           # row 8: goes back in time
        "\n"                                     # blank line: ignored
    ))
    conv = get_converter("trajectory")
    (record,) = conv.read_records(path)
    log = record.signal
    assert log.t.tolist() == [0.0, 0.1, 0.1, 0.2, 0.4]
    assert log.x.tolist() == [10, 12, 14, 16, 16]
    assert log.state_names() == ["Move", "Move", "Move", "Pressed", "Released"]
    assert log.button_names() == ["NoButton", "NoButton", "NoButton", "Left", "Left"]
    assert record.meta == {
        "events": 5, "bad_rows": 1, "out_of_range_rows": 1, "dropped_rows": 2, "out_of_order_rows": 1,
        "repeated_timestamps": 1, "first_bad_row": "row 7: field 'client timestamp' is not a number ('abc')",
    }


def test_manifest_reports_dropped_rows(tmp_path):
    _write(tmp_path / "src" / "user1" / "session_1", HEADER + "".join(
        f"0,{i / 10},NoButton,Move,{i},{2 * i}\n" for i in range(30)) + "0,3.5,NoButton,Move,65535,65535\n")
    report = convert_dir("trajectory", tmp_path / "src", tmp_path / "out", params={"image_size": 32, "size": 20},
                         workers=1, progress=False)
    assert report.ok and report.images == 1
    (row,) = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert row["label"] == "user1" and row["meta"]["out_of_range_rows"] == 1 and row["meta"]["dropped_rows"] == 1
    assert row["window"] == {"index": 0, "start": 0.0, "stop": 20.0, "unit": "events"}


def test_generic_csv_and_tsv_with_configured_columns(tmp_path):
    csv_path = _write(tmp_path / "a.csv", "TS, px ,py,btn\n0.5,1,2,left\n0.0,3,4,\n")
    conv = get_converter("trajectory", time_column="ts", x_column="PX", y_column="py", button_column="btn")
    log = conv.read(csv_path)
    assert log.t.tolist() == [0.0, 0.5] and log.x.tolist() == [3, 1] and log.button_names() == ["NoButton", "Left"]
    assert log.state_names() == ["Move", "Move"]  # no state column
    tsv_path = _write(tmp_path / "b.tsv", "time\tx\ty\tstate\n0\t1\t1\tMove\n1\t2\t2\tPressed\n")
    log = get_converter("trajectory").read(tsv_path)
    assert log.x.tolist() == [1, 2] and log.state_names() == ["Move", "Pressed"]


def test_scroll_events_at_origin_take_the_pointer_position(tmp_path):
    path = _write(tmp_path / "s", HEADER + "0,0,NoButton,Move,50,60\n0,0.1,Scroll,Down,0,0\n0,0.2,Scroll,Up,0,0\n")
    log = get_converter("trajectory").read(path)
    assert log.x.tolist() == [50, 50, 50] and log.y.tolist() == [60, 60, 60]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty; expected a header row naming the time, x and y columns"),
        ("   \n", "the file is empty"),
        (HEADER, "no data rows after the header (row 1)"),
        ("time,x\n0,1\n", "missing y column 'y'; the header (row 1) has 'time', 'x'"),
        ("when,x,y\n0,1,2\n", "no time column: expected one of 'client timestamp', 'time', 't'"),
        ("time,x,y\n0,1,oops\n", "no usable rows: all 1 rows were dropped (1 bad, 0 with coordinates"),
        ("time,x,y\n0,1,oops\n", "first: row 2: field 'y' is not a number ('oops')"),
        ("time,x,y\n0,1\n", "first: row 2: has 2 fields, the header has 3"),
        ("time,x,y\n0,1,inf\n", "row 2: field 'y' is not a finite number (inf)"),
        ("time,x,y\n0,65535,1\n", "0 bad, 1 with coordinates beyond ±16384 px"),
    ],
)
def test_bad_files_name_file_row_and_field(tmp_path, text, message):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError, match="^" + str(path).replace("\\", "\\\\") + ": ") as info:
        get_converter("trajectory").read(path)
    assert message in str(info.value)


def test_binary_file_is_an_input_error(tmp_path):
    path = tmp_path / "session_x"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError, match="not a UTF-8 text table"):
        read_mouse_table(path)


def test_bad_rows_are_counted_not_fatal(tmp_path):
    rows = "".join(f"{i},{i},{i}\n" for i in range(5))
    path = _write(tmp_path / "x.csv", "time,x,y\n" + rows + "5,,5\n6,6\n")
    log, meta = read_mouse_table(path)
    assert len(log) == 5 and meta["bad_rows"] == 2
    assert meta["first_bad_row"] == "row 7: field 'x' is not a number ('')"


def test_accepts_balabit_files_and_tables():
    conv = get_converter("trajectory")
    assert conv.accepts("user7/session_0041905381") and conv.accepts("log.CSV") and conv.accepts("log.tsv")
    assert not conv.accepts("clip.wav") and not conv.accepts("notes.md")


class _FakeFrame:
    """Just enough of a DataFrame: ``.columns`` and ``frame[name]``."""

    def __init__(self, data: dict[str, list[float]]) -> None:
        self._data = data
        self.columns = list(data)

    def __getitem__(self, key: str) -> list[float]:
        return self._data[key]


def test_python_objects_become_clean_logs():
    log, meta = as_mouse_log({"time": [0.2, 0.1, 0.3], "x": [1, 2, 3], "y": [4, 5, 99999]})
    assert log.t.tolist() == [0.1, 0.2] and meta["out_of_range_rows"] == 1 and meta["out_of_order_rows"] == 1
    log, _ = as_mouse_log(_FakeFrame({"client timestamp": [0.0, 1.0], "X": [1.0, 2.0], "Y": [3.0, 4.0]}))
    assert log.x.tolist() == [1.0, 2.0]
    structured = np.array([(0.0, 1.0, 2.0, "Left")], dtype=[("t", "f8"), ("x", "f8"), ("y", "f8"), ("button", "U8")])
    log, _ = as_mouse_log(structured)
    assert log.button_names() == ["Left"]
    log, _ = as_mouse_log(np.array([[0.0, 1.0, 2.0], [0.1, 3.0, 4.0]]))
    assert log.y.tolist() == [2.0, 4.0]
    same = MouseLog.from_arrays([0.0], [1.0], [2.0])
    assert as_mouse_log(same)[0] is same
    log, _ = as_mouse_log({"when": [0, 1], "x": [0, 1], "y": [0, 1]}, Columns(time="when"))
    assert len(log) == 2


def test_python_objects_with_bad_shape_or_columns():
    with pytest.raises(InputError, match=r"shape \(n_events, 3\) holding time, x, y \(got shape \(2, 2\)\)"):
        as_mouse_log(np.zeros((2, 2)))
    with pytest.raises(InputError, match="missing x column 'x'"):
        as_mouse_log({"time": [0], "y": [0]})
    with pytest.raises(InputError, match="index 0: field 'x' is not a finite number"):
        as_mouse_log({"time": [0], "x": [np.nan], "y": [0]})
    log, meta = as_mouse_log({"time": [0, 1, 2], "x": [0, np.nan, 2], "y": [0, 1, 2]})
    assert len(log) == 2 and meta["first_bad_row"] == "index 1: field 'x' is not a finite number (nan)"


def test_repeated_timestamps_are_spread_and_never_divide_by_zero():
    t = np.array([0.0, 0.0, 0.1, 0.1, 0.1, 0.4])
    assert effective_times(t).round(6).tolist() == [0.0, 0.0, 0.033333, 0.066667, 0.1, 0.4]
    log = MouseLog.from_arrays(t, [0, 5, 10, 15, 20, 25], [0] * 6)
    kin = kinematics(log)
    assert np.all(np.isfinite(kin.speed)) and np.all(np.isfinite(kin.acceleration))
    assert kin.dt.min() == MIN_DT  # the leading repeated pair
    assert kin.speed[1:4].round(3).tolist() == [150.0, 150.0, 150.0]


def test_kinematics_of_a_square_turns_quarter_circles():
    log = MouseLog.from_arrays([0, 1, 2, 3, 4, 4.5], [0, 10, 10, 0, 0, 0], [0, 0, 10, 10, 0, 0])
    kin = kinematics(log)
    assert kin.speed.tolist() == [10.0, 10.0, 10.0, 10.0, 0.0]
    assert kin.acceleration.tolist() == [0.0, 0.0, 0.0, 0.0, -20.0]
    assert (kin.angle_change / np.pi).round(6).tolist() == [0.0, 0.5, 0.5, 0.5, 0.0]
