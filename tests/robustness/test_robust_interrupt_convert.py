"""A real SIGKILL of ``any2img convert`` mid-run, then a rerun, compared with an uninterrupted run.

Defect 6 of issue 13: each finished batch of sources is recorded by its worker
at once (``.any2img-done/``), so the rerun redoes at most the sources that were
in flight (at most one batch per worker: here batches of two sources, see
``plan_batches``), and nothing is lost, doubled or corrupt.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from any2img import convert_dir
from any2img.batch.convert_dir import plan_batches
from any2img.batch.manifest import array_hash, read_jsonl
from any2img.data import items_from_manifest

N_SOURCES, ROWS, POINTS, WORKERS = 30, 6, 300, 2
ARGS = ["recurrence", "-p", "image_size=48"]


def _sources(root: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(N_SOURCES):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        rows = (",".join(f"{v:.4f}" for v in rng.normal(size=POINTS)) for _ in range(ROWS))
        (folder / f"s{i:02d}.csv").write_text("\n".join(rows) + "\n")


def _pngs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.png")}


def test_sigkill_during_convert_then_rerun_redoes_only_the_sources_in_flight(tmp_path, tally):
    src, ref, out = tmp_path / "src", tmp_path / "ref", tmp_path / "out"
    _sources(src)
    reference = convert_dir(ARGS[0], src, ref, params={"image_size": 48}, workers=1, progress=False)
    assert reference.images == N_SOURCES * ROWS
    ref_rows = read_jsonl(ref / "manifest.jsonl")
    images_of: dict[str, set[str]] = {}
    for row in ref_rows:
        images_of.setdefault(row["source"], set()).add(row["image"])

    proc = subprocess.Popen([sys.executable, "-m", "any2img", "convert", ARGS[0], str(src), str(out), *ARGS[1:],
                             "--workers", str(WORKERS), "-q"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_pngs(out)) < reference.images * 0.4 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(0.5)  # the workers die with their parent (PR_SET_PDEATHSIG)
    on_disk = _pngs(out)
    assert 0 < len(on_disk) < reference.images, "the kill must land mid-run"
    started = {s for s, imgs in images_of.items() if imgs & on_disk}
    finished_on_disk = {s for s, imgs in images_of.items() if imgs <= on_disk}

    rerun = convert_dir(ARGS[0], src, out, params={"image_size": 48}, workers=WORKERS, progress=False)
    recorded = rerun.skipped_sources
    redone_started = len(started) - recorded  # sources that had begun writing but were not recorded
    # Every source recorded had all its images; none finished without being recorded but those in flight.
    in_flight = WORKERS * len(plan_batches([0] * N_SOURCES, WORKERS)[0])
    assert redone_started <= in_flight and len(finished_on_disk) - recorded <= in_flight
    assert rerun.skipped_sources + rerun.converted_sources == N_SOURCES and rerun.ok

    rows = read_jsonl(out / "manifest.jsonl")
    assert rows == ref_rows  # nothing lost, nothing doubled, same content as the uninterrupted run
    assert _pngs(out) == _pngs(ref) and not list(out.rglob("*.tmp")) and not (out / ".any2img-done").exists()
    corrupt = sum(array_hash(np.asarray(Image.open(out / r["image"]).convert("RGB"))) != r["image_hash"]
                  for r in rows)
    assert corrupt == 0
    tally.add("SIGKILL during convert", tried=1, injected="SIGKILL of `any2img convert --workers 2` at 40% of PNGs",
              failures=corrupt, note=f"{len(on_disk)} of {reference.images} PNGs on disk at the kill, "
                                     f"{recorded} of {N_SOURCES} sources recorded, {redone_started} in flight "
                                     f"redone; 0 lost, 0 duplicated, {corrupt} corrupt")


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killing_convert_ends_its_workers(tmp_path, sig, tally):
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
    tally.add("SIGKILL during convert", tried=1, note=f"{sig} of convert with 2 workers: no worker wrote on "
              f"({first} PNGs before and 4 s after)")
