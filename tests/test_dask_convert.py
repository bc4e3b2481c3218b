"""The dask engine on a real ``LocalCluster`` (2 worker processes on loopback): same outputs as the local engine.

Real data: a slice of FSDD (spoken digits) through ``mel`` and a real Balabit
session (its first 3,000 events) through ``trajectory``. Each is converted by
the local engine and by the cluster; the manifests must be equal text and
every PNG equal bytes. Then a worker is killed (SIGKILL, by the converter
itself, in the middle of its chunk): the run must still finish complete and
equal, and only the sources of that one chunk may have been converted twice.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("librosa")
from any2img.converters.audio.spectrograms import Mel  # noqa: E402

from any2img import convert_dir  # noqa: E402
from any2img.datasets import fsdd  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
RECORDINGS = SHARED / "fsdd" / "recordings"
BALABIT = SHARED / "balabit" / "training_files"
MEL = {"sample_rate": 8000, "n_mels": 32, "image_size": 48}
#: Where DyingMel keeps its log and its once-only marker (set before the cluster starts: workers inherit it).
LOG_ENV = "ANY2IMG_TEST_DASK_LOG"
VICTIM = "3_jackson_0.wav"  # third of its chunk (sources sorted, 4 to a chunk)


class DyingMel(Mel):
    """``mel`` (same name, same parameters, same pictures) that logs each source it reads, and SIGKILLs its
    own worker process the first time it reaches :data:`VICTIM`."""

    def read_records(self, path):  # type: ignore[no-untyped-def]
        folder = Path(os.environ[LOG_ENV])
        with open(folder / "reads.log", "a") as fh:
            fh.write(Path(path).name + "\n")
        marker = folder / "killed"
        if Path(path).name == VICTIM and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().read_records(path)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A LocalCluster of 2 single-threaded worker processes on loopback, shared by this module's tests."""
    log = tmp_path_factory.mktemp("dask-log")
    os.environ[LOG_ENV] = str(log)  # before the workers start, so they inherit it
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()
    os.environ.pop(LOG_ENV, None)


def _fsdd_slice(root: Path) -> Path:
    """24 real recordings: digits 0-3 of three speakers, takes 0 and 5."""
    if not RECORDINGS.is_dir():
        pytest.skip(f"FSDD recordings not found at {RECORDINGS} (shared datasets are absent)")
    root.mkdir()
    for speaker in ("jackson", "nicolas", "theo"):
        for digit in range(4):
            for take in (0, 5):
                name = f"{digit}_{speaker}_{take}.wav"
                shutil.copy(RECORDINGS / name, root / name)
    return root


def _assert_same_outputs(a: Path, b: Path) -> int:
    assert (a / "manifest.jsonl").read_text() == (b / "manifest.jsonl").read_text()
    pngs = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    assert pngs == sorted(p.relative_to(b) for p in b.rglob("*.png"))
    for rel in pngs:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    return len(pngs)


@pytest.mark.shared_data
def test_dask_engine_equals_local_on_fsdd_and_balabit(tmp_path, client):
    src = _fsdd_slice(tmp_path / "fsdd")
    (src / "9_broken_0.wav").write_bytes(b"RIFF not really a wave file")  # one bad source, reported alike
    rule = {"label_from": fsdd.FILENAME_REGEX, "group_from": fsdd.FILENAME_REGEX, "progress": False}
    local = convert_dir("mel", src, tmp_path / "local", params=MEL, workers=1, **rule)
    on_dask = convert_dir("mel", src, tmp_path / "dask", params=MEL, engine="dask", scheduler=client,
                          chunk_size=5, **rule)
    assert (local.converted_sources, local.images, len(local.failures)) == (25, 24, 1)
    assert (on_dask.converted_sources, on_dask.images, on_dask.failures) == (25, 24, local.failures)
    assert _assert_same_outputs(tmp_path / "local", tmp_path / "dask") == 24
    errors = [(tmp_path / side / "errors.jsonl").read_text() for side in ("local", "dask")]
    assert errors[0] == errors[1] and "9_broken_0.wav" in errors[0]
    # Resumable the same way: a rerun through the cluster converts only the failed source again.
    again = convert_dir("mel", src, tmp_path / "dask", params=MEL, engine="dask", scheduler=client, **rule)
    assert (again.converted_sources, again.skipped_sources) == (1, 24)

    if not BALABIT.is_dir():
        pytest.skip(f"Balabit sessions not found at {BALABIT} (shared datasets are absent)")
    session = sorted((BALABIT / "user7").iterdir())[0]
    mouse = tmp_path / "balabit" / "user7"
    mouse.mkdir(parents=True)
    lines = session.read_text().splitlines(keepends=True)
    (mouse / session.name).write_text("".join(lines[:3001]))  # header + 3,000 events of a real session
    params = {"window": "events", "size": 300, "image_size": 48}
    local = convert_dir("trajectory", mouse.parent, tmp_path / "m-local", params=params, workers=1, progress=False)
    on_dask = convert_dir("trajectory", mouse.parent, tmp_path / "m-dask", params=params, engine="dask",
                          scheduler=client, progress=False)
    assert local.images == on_dask.images == 10 and not on_dask.failures
    assert _assert_same_outputs(tmp_path / "m-local", tmp_path / "m-dask") == 10


@pytest.mark.shared_data
def test_a_worker_killed_mid_chunk_costs_only_that_chunk(tmp_path, client):
    src = _fsdd_slice(tmp_path / "fsdd")
    rule = {"label_from": fsdd.FILENAME_REGEX, "group_from": fsdd.FILENAME_REGEX, "progress": False}
    convert_dir("mel", src, tmp_path / "local", params=MEL, workers=1, **rule)
    log = Path(os.environ[LOG_ENV])
    pids_before = set(client.run(os.getpid).values())
    report = convert_dir(DyingMel(**MEL), src, tmp_path / "dask", engine="dask", scheduler=client, chunk_size=4,
                         **rule)

    killed = int((log / "killed").read_text())
    assert killed in pids_before  # a real worker process died ...
    assert killed not in set(client.run(os.getpid).values())  # ... and was replaced by its nanny
    assert (report.converted_sources, report.images, report.failures) == (24, 24, [])
    assert _assert_same_outputs(tmp_path / "local", tmp_path / "dask") == 24

    # Only the source in flight was converted twice: the victim's chunk ran again (on the surviving or the
    # restarted worker) and skipped the sources before it that the dead worker had recorded.
    names = sorted(p.name for p in src.iterdir())
    reads = (log / "reads.log").read_text().split()
    assert sorted(set(reads)) == names
    assert {n for n in set(reads) if reads.count(n) > 1} == {VICTIM}
    assert names.index(VICTIM) % 4 > 0  # the victim is not first in its chunk: the kill was mid-chunk


def test_chunks_keep_the_scheduler_to_thousands_of_tasks():
    from any2img.batch.dask_engine import MAX_CHUNK, chunk_sources
    from any2img.errors import ParameterError

    assert chunk_sources(24, 2) == 3  # 24 sources / (4 chunks x 2 threads)
    assert chunk_sources(5, 8) == 1
    assert chunk_sources(1_000_000, 100) == MAX_CHUNK == 64  # 15,625 tasks for a million sources
    assert chunk_sources(1_000_000, 100, chunk_size=500) == 500
    with pytest.raises(ParameterError, match="'chunk_size' must be an int >= 1"):
        chunk_sources(10, 2, chunk_size=0)


@pytest.mark.shared_data
def test_cli_convert_engine_dask_scheduler_address(tmp_path, client, capsys):
    from any2img.cli import main

    src = _fsdd_slice(tmp_path / "fsdd")
    params = [arg for key, value in MEL.items() for arg in ("-p", f"{key}={value}")]
    common = ["convert", "mel", str(src), "--label-from", fsdd.FILENAME_REGEX, *params, "-q"]
    assert main([*common[:3], str(tmp_path / "local"), *common[3:], "--workers", "1"]) == 0
    address = client.scheduler.address  # tcp://127.0.0.1:PORT
    assert main([*common[:3], str(tmp_path / "dask"), *common[3:], "--engine", "dask", "--scheduler", address,
                 "--chunk-size", "7"]) == 0
    assert "24 images from 24 sources written" in capsys.readouterr().out.splitlines()[-1]
    assert _assert_same_outputs(tmp_path / "local", tmp_path / "dask") == 24
    assert main([*common[:3], str(tmp_path / "x"), *common[3:], "--scheduler", address]) == 2
    assert "'scheduler' is only used with engine='dask'" in capsys.readouterr().err
