"""Scaling out: 1 vs 2 worker processes for conversion (local and Dask), 1 vs 2 gloo processes for training.

Usage (from the repository root; needs ``any2img[distributed]`` and the FSDD
copy in ``../shared/datasets``)::

    python -m benchmarks.scaling                  # both, results in benchmarks/results/scaling.json
    python -m benchmarks.scaling --only convert --n 300 --repeat 2
    python -m benchmarks.scaling --only local --n 300 --repeat 3 --out benchmarks/results/scaling-local.json

* **convert**: ``--n`` FSDD recordings through ``mel`` (64 px) with
  ``engine="dask"`` on a ``LocalCluster`` of 1, then 2 single-threaded worker
  processes. Each cluster first converts two files elsewhere, so the workers
  have imported the converters before the clock starts; the time is the
  ``convert_dir`` call. Runs alternate 1, 2, 2, 1, ... and the best of
  ``--repeat`` is kept for each (the least disturbed by other work).
* **local**: the same, with ``convert_dir``'s own process pool
  (``engine="local"``, ``workers=1`` then ``2``, what ``any2img convert
  --workers`` does), no Dask; each run is a fresh pool, so the time includes
  starting the worker processes, as a user's command does. Each run's CPU
  seconds, the converting process's and its workers', are recorded too.
* **train**: the converted images, ``torchrun --standalone --nproc_per_node
  P -m any2img train`` with the default backbone (lite0, offline ImageNet
  weights) at 64 px, the same global batch (16) and epochs, as 1 process with
  1 thread, 1 process with 2 threads and 2 processes with 1 thread each. The
  time is the one the command prints for its epochs (start-up excluded).

On a machine shared with other work the absolute times mean little; the
ratios come from runs made one after the other in one invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from any2img.bench.machine import machine_info
from benchmarks import DATA_DIR

RESULTS = Path(__file__).resolve().parent / "results" / "scaling.json"
FSDD = DATA_DIR / "fsdd" / "recordings"
MEL = {"sample_rate": 8000, "image_size": 64}
LABEL = r"(?P<label>\d+)_"


def _copy_fsdd(n: int, dst: Path) -> Path:
    if not FSDD.is_dir():
        raise SystemExit(f"FSDD not found at {FSDD}")
    dst.mkdir(parents=True)
    files = sorted(FSDD.glob("*.wav"))
    step = max(1, len(files) // n)
    for f in files[::step][:n]:
        shutil.copy(f, dst / f.name)
    return dst


def _one_against_two(src: Path, repeat: int, label: str,
                     run: Callable[[int, int], tuple[Any, float]]) -> dict[str, Any]:
    """Best seconds of ``run(i, workers)`` (its report and timed seconds) with 1 and 2 workers, best of ``repeat``.

    Runs alternate 1, 2, 2, 1, ..., so a change of load touches both settings.
    """
    n = len(list(src.iterdir()))
    best: dict[int, float] = {}
    for i, workers in enumerate(([1, 2, 2, 1] * repeat)[: 2 * repeat]):
        report, seconds = run(i, workers)
        assert report.ok and report.images == n, report.summary()
        best[workers] = min(best.get(workers, float("inf")), seconds)
        print(f"{label}: {workers} worker(s) {seconds:.2f}s", flush=True)
    return {"sources": n, "seconds": {str(k): round(v, 3) for k, v in sorted(best.items())},
            "speedup_2_vs_1": round(best[1] / best[2], 2)}


def bench_convert(src: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Seconds per conversion of ``src`` on 1 and on 2 Dask workers (best of ``repeat``)."""
    from distributed import Client, LocalCluster

    from any2img import convert_dir

    warm = work / "warm-src"
    warm.mkdir()
    for f in sorted(src.iterdir())[:2]:
        shutil.copy(f, warm / f.name)

    def run(i: int, workers: int) -> tuple[Any, float]:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            convert_dir("mel", warm, work / f"warm-{i}", params=MEL, label_from=LABEL, engine="dask",
                        scheduler=client, progress=False)
            t0 = time.perf_counter()
            report = convert_dir("mel", src, work / f"out-{i}", params=MEL, label_from=LABEL, engine="dask",
                                 scheduler=client, progress=False)
            return report, time.perf_counter() - t0

    return _one_against_two(src, repeat, "convert", run)


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) so far of this process and of its finished children (the pool's workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def bench_local(src: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Seconds per ``convert_dir`` of ``src`` with 1 and with 2 local worker processes (best of ``repeat``).

    Each run's CPU seconds are kept too, split into the converting process's
    and its workers' (``cpu_seconds``): on busy cores the wall clock says
    little, but how much the parent does beside the workers still shows.
    """
    from any2img import convert_dir

    convert_dir("mel", src, work / "warm-local", params=MEL, label_from=LABEL, workers=1, progress=False)  # caches
    cpu: dict[str, list[dict[str, float]]] = {}

    def run(i: int, workers: int) -> tuple[Any, float]:
        (me0, kids0), t0 = _cpu_seconds(), time.perf_counter()
        report = convert_dir("mel", src, work / f"local-{i}", params=MEL, label_from=LABEL, workers=workers,
                             progress=False)
        seconds, (me1, kids1) = time.perf_counter() - t0, _cpu_seconds()
        cpu.setdefault(str(workers), []).append({"parent": round(me1 - me0, 3), "workers": round(kids1 - kids0, 3)})
        print(f"local: {workers} worker(s) CPU: parent {me1 - me0:.2f}s, workers {kids1 - kids0:.2f}s", flush=True)
        return report, seconds

    return {**_one_against_two(src, repeat, "local", run), "cpu_seconds": cpu}


def _train_once(images: Path, out: Path, nproc: int, threads: int, epochs: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
           "-m", "any2img", "train", str(images), "--out", str(out), "--image-size", "64", "--batch-size", "16",
           "--epochs", str(epochs), "--test", "none", "--quiet"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    match = re.search(r"trained \d+ epochs in ([\d.]+)s", done.stdout)
    if match is None:
        raise SystemExit(f"no timing in the output: {done.stdout[-500:]}")
    return float(match.group(1))


def bench_train(images: Path, work: Path, repeat: int, epochs: int) -> dict[str, Any]:
    """Training seconds as 1x1, 1x2 and 2x1 (processes x threads), best of ``repeat``."""
    layouts = [(1, 1), (1, 2), (2, 1)]
    best: dict[str, float] = {}
    for r in range(repeat):
        for nproc, threads in layouts if r % 2 == 0 else layouts[::-1]:
            seconds = _train_once(images, work / f"model-{nproc}x{threads}-{r}", nproc, threads, epochs)
            key = f"{nproc}x{threads}"
            best[key] = min(best.get(key, float("inf")), seconds)
            print(f"train: {nproc} process(es) x {threads} thread(s) {seconds:.2f}s", flush=True)
    return {"epochs": epochs, "global_batch": 16, "image_size": 64,
            "seconds": {k: round(v, 3) for k, v in best.items()},
            "speedup_2proc_vs_1proc_1thread": round(best["1x1"] / best["2x1"], 2),
            "speedup_2proc_vs_1proc_2threads": round(best["1x2"] / best["2x1"], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("convert", "local", "train"), default=None)
    parser.add_argument("--n", type=int, default=300, help="FSDD recordings (default 300)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each setting, best kept (default 2)")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"command": "python -m benchmarks.scaling " + " ".join(argv or sys.argv[1:]),
                              "machine": machine_info(with_torch=False),
                              "load_average_at_start": list(os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="any2img-scaling-") as tmp:
        work = Path(tmp)
        src = _copy_fsdd(args.n, work / "fsdd")
        if args.only in (None, "convert"):
            result["convert"] = bench_convert(src, work, args.repeat)
        if args.only in (None, "local"):
            result["local"] = bench_local(src, work, args.repeat)
        if args.only in (None, "train"):
            from any2img import convert_dir

            convert_dir("mel", src, work / "images", params=MEL, label_from=LABEL, workers=1, progress=False)
            result["train"] = bench_train(work / "images", work, args.repeat, args.epochs)
    result["load_average_at_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k in ("convert", "local", "train")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
