"""convert_dir's batches of small sources: resumable after a kill, the same files for any worker count."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from toy_converter import ToyConverter

from any2img import convert_dir
from any2img.batch.convert_dir import MAX_BATCH, MAX_BATCH_BYTES, TASKS_PER_WORKER, plan_batches
from any2img.batch.manifest import DONE_NAME, read_done, read_jsonl

N_SOURCES = 40  # one worker: batches of ceil(40 / TASKS_PER_WORKER) = 5 sources
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def many(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for i in range(N_SOURCES):
        path = root / ("cats", "dogs", "owls")[i % 3] / f"s{i:02d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(" ".join(str((i * 7 + k) % 250) for k in range(5 + i % 4)))
    return root


def _outputs(dst: Path) -> dict[str, bytes]:
    """Every file a run leaves in ``dst`` (the lock aside), by relative path."""
    return {p.relative_to(dst).as_posix(): p.read_bytes() for p in sorted(dst.rglob("*"))
            if p.is_file() and p.name != ".any2img.lock"}


def test_batches_cover_every_source_in_order_within_their_limits():
    sizes = [100] * 1000 + [3 * MAX_BATCH_BYTES] + [MAX_BATCH_BYTES // 3] * 7
    for workers in (1, 2, 7):
        batches = plan_batches(sizes, workers)
        assert [i for b in batches for i in b] == list(range(len(sizes)))
        assert all(1 <= len(b) <= MAX_BATCH for b in batches)
        assert all(sum(sizes[i] for i in b) <= MAX_BATCH_BYTES or len(b) == 1 for b in batches)
        assert len(batches) >= TASKS_PER_WORKER * workers
    assert [len(b) for b in plan_batches([10] * 12, workers=2)] == [1] * 12  # few sources: one per task
    assert plan_batches([], workers=2) == []


def test_workers_take_turns_between_image_folders(tmp_path):
    module = importlib.import_module("any2img.batch.convert_dir")
    tasks = [module._Task(tmp_path / f"{label}/{i}.txt", Path(f"{label}/{i}.txt"), "sha256:0", label, None)
             for label in ("a", "b", "c") for i in range(4 if label == "a" else 2)]
    batches = [tasks[i:i + 2] for i in range(0, len(tasks), 2)]  # a, a, b, c
    order = module._across_folders(batches)
    assert sorted(map(id, order)) == sorted(map(id, batches))
    assert [b[0].label for b in order] == ["a", "b", "c", "a"]


def test_any_worker_count_writes_the_same_files(many, tmp_path):
    runs = {w: convert_dir(ToyConverter(), many, tmp_path / f"w{w}", workers=w, progress=False) for w in (1, 2, 3)}
    assert all(r.ok and r.images == N_SOURCES and r.converted_sources == N_SOURCES for r in runs.values())
    one = _outputs(tmp_path / "w1")
    assert {"manifest.jsonl", ".convert-state.jsonl", "errors.jsonl"} <= set(one)
    assert not (tmp_path / "w1" / DONE_NAME).exists()
    for w in (2, 3):
        assert _outputs(tmp_path / f"w{w}") == one


def test_an_interrupted_batch_still_records_the_sources_it_finished(many, tmp_path, monkeypatch):
    module = importlib.import_module("any2img.batch.convert_dir")
    real, calls = module._convert_records, {"n": 0}

    def stops_at_the_13th(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 13:  # the third source of the third batch of 5
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_convert_records", stops_at_the_13th)
    with pytest.raises(KeyboardInterrupt):
        convert_dir(ToyConverter(), many, tmp_path / "out", workers=1, progress=False)
    monkeypatch.setattr(module, "_convert_records", real)
    report = convert_dir(ToyConverter(), many, tmp_path / "out", workers=1, progress=False)
    assert (report.skipped_sources, report.converted_sources) == (12, N_SOURCES - 12)
    convert_dir(ToyConverter(), many, tmp_path / "clean", workers=1, progress=False)
    assert (tmp_path / "out" / "manifest.jsonl").read_bytes() == (tmp_path / "clean" / "manifest.jsonl").read_bytes()


KILLER = """
import os, signal, sys
from pathlib import Path
from toy_converter import ToyConverter
from any2img import convert_dir

os.environ["KILL_PID"] = str(os.getpid())  # the converting process; pool workers inherit it


class KillingToy(ToyConverter):
    def read(self, path):
        if Path(path).as_posix().endswith(sys.argv[4]):
            os.kill(int(os.environ["KILL_PID"]), signal.SIGKILL)
        return super().read(path)


convert_dir(KillingToy(), sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), progress=False)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sigkilled_run_loses_only_the_batches_in_flight(many, tmp_path, workers):
    dst = tmp_path / "out"
    sources = sorted(p.relative_to(many).as_posix() for p in many.rglob("*.txt"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    killed = subprocess.run(  # killed on reading the 13th source: the third of the third batch with one worker
        [sys.executable, "-c", textwrap.dedent(KILLER), str(many), str(dst), str(workers), sources[12]],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -9, killed.stderr
    assert read_jsonl(dst / "manifest.jsonl") == []  # killed before it could fold its ledger
    recorded = {state["source"] for state, _ in read_done(dst)}
    written = {p.relative_to(dst).as_posix() for p in dst.rglob("*.png")}
    image = {s: f"{s.split('/')[0]}/{s.replace('/', '__')[:-4]}.png" for s in sources}  # label folder/stem
    lost = [s for s in sources if image[s] in written and s not in recorded]  # converted, not recorded
    batch = len(plan_batches([1] * N_SOURCES, workers)[0])
    assert len(lost) <= workers * batch  # only the batches in flight
    if workers == 1:
        assert (len(recorded), lost) == (10, sources[10:12])
    report = convert_dir(ToyConverter(), many, dst, workers=workers, progress=False)
    assert report.ok and report.skipped_sources == len(recorded)
    assert report.converted_sources == N_SOURCES - len(recorded)
    convert_dir(ToyConverter(), many, tmp_path / "clean", workers=1, progress=False)
    for name in ("manifest.jsonl", ".convert-state.jsonl"):
        assert (dst / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert _outputs(dst).keys() == _outputs(tmp_path / "clean").keys()
    assert not list(dst.rglob("*.tmp")) and not (dst / DONE_NAME).exists()


def test_a_label_folder_leading_outside_fails_its_sources_in_every_batch(many, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / "cats").symlink_to(outside, target_is_directory=True)
    report = convert_dir(ToyConverter(), many, dst, workers=1, progress=False)
    cats = [f for f in report.failures if f.source.startswith("cats/")]
    assert len(cats) == len(report.failures) == len(list((many / "cats").iterdir()))
    assert all("leads outside the destination" in f.reason for f in cats)
    assert not list(outside.iterdir())
    assert report.images == N_SOURCES - len(cats)
