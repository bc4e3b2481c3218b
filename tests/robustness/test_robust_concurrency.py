"""Two conversions into one folder: the second refuses at once with a clear message; the folder stays sound."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from any2img import convert_dir
from any2img.batch.manifest import read_jsonl
from any2img.data import items_from_manifest
from any2img.errors import InputError

BUSY = "another any2img conversion is writing into this folder"


def test_a_second_conversion_into_a_busy_folder_refuses(tmp_path, tally):
    from filelock import FileLock

    src = tmp_path / "r" / "a"
    src.mkdir(parents=True)
    (src / "y.csv").write_text("1,2,3,4,5,6\n")
    (tmp_path / "out").mkdir()
    with FileLock(str(tmp_path / "out" / ".any2img.lock")):  # another run holds the folder
        with pytest.raises(InputError, match=BUSY):
            convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, progress=False)
    report = convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, progress=False)
    assert report.images == 1  # released: the next run goes ahead
    tally.add("concurrent converts", tried=1, injected="a held lock; two real `any2img convert` into one folder")


def test_two_real_converts_into_one_folder(tmp_path, tally):
    src = tmp_path / "src" / "a"
    src.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        rows = (",".join(f"{v:.3f}" for v in rng.normal(size=200)) for _ in range(60))
        (src / f"s{i}.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "any2img", "convert", "recurrence", str(tmp_path / "src"), str(out),
           "-p", "image_size=64", "--workers", "1", "-q"]
    first = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / ".any2img.lock").exists():
        time.sleep(0.01)
    second = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, timeout=120)
    first_err = first.communicate(timeout=120)[1]
    codes = sorted([first.returncode, second.returncode])
    if codes == [0, 0]:  # the first had finished before the second looked: the second found it all done
        assert BUSY not in second.stderr + first_err
    else:
        assert codes[0] == 0 and codes[1] != 0 and BUSY in (second.stderr + first_err)
    rows = read_jsonl(out / "manifest.jsonl")
    pngs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(rows) == len({r["image"] for r in rows}) == len(pngs) == 240
    assert len(items_from_manifest(out)) == 240
    tally.add("concurrent converts", tried=1, failures=0,
              note=f"two real converts into one folder: exit codes {codes}, 240 PNGs, 240 manifest rows, "
                   "no duplicate")
