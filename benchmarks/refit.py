"""Does refitting on train + valid, or signal-domain augmentation, help?  Measured without any test side.

Protocol (issue 10, item 2), on the *training* sides of the development sets
only: the given test side is dropped. What is left is split as the CLI
splits (``valid_pct=0.2``, stratified; split seed ``100 + seed``, so each seed
judges on another part) into a fitting part and an outer validation part,
which plays the test set's role here. Then

* ``select``: the default recipe on the fitting part, with its own inner
  validation side carved from it (split seed ``200 + seed``) and the epoch with the lowest
  inner validation loss exported -- what ``any2img train`` does;
* ``select+tta``, ``select-late`` and ``last``, from the same run: the
  selected weights with signal-domain test-time augmentation (``TTA``
  perturbed pictures averaged with the plain one); the latest epoch whose
  inner validation loss is within ``TOLERANCE`` of the lowest (ties within
  noise go to the annealed end of the one-cycle schedule), and the last epoch;
* ``refit``: the same recipe's budget on the whole fitting part (inner
  validation included), no selection, the last epoch exported;
* ``signal``: as ``select``, with ``augment="signal"`` (training pictures
  drawn afresh from perturbed raw series).

All are scored on the outer validation part. A change becomes the default
only if it wins there.

Usage::

    python -m benchmarks.refit --datasets GunPoint Coffee PigCVP BasicMotions --seeds 2

Writes ``benchmarks/results/refit.csv`` (one row per data set, seed and arm).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import get_dataset
from benchmarks.runner import CACHE_DIR, RESULTS_DIR, _unit, convert_cached
from benchmarks.suites import Config

ARMS = ("select", "refit", "signal")  # select also yields select-late and last
#: Validation-loss difference treated as a tie by the ``select-late`` arm (nats).
TOLERANCE = 0.01
#: Perturbed pictures averaged with the plain one by the ``select+tta`` arm.
TTA = 4
FIELDS = ("dataset", "converter", "seed", "arm", "n_fit", "n_inner_valid", "n_outer_valid", "epochs",
          "selected_epoch", "outer_valid_acc", "train_seconds")


def _development_items(dataset: str, converter: str, cache: Path) -> Any:
    """The converted non-test items of a data set, unmarked (the test side is dropped, never read)."""
    from any2img.data import ImageItems, items_from_manifest

    spec = get_dataset(dataset)
    cfg = Config(dataset, "given", converter, "image", pretrained=True, recipe="defaults")
    folder, _ = convert_cached(cfg, spec, cache)
    items = items_from_manifest(folder / "manifest.jsonl")
    roles = spec.assign("given", [_unit(i) for i in items])
    kept = [replace(item, split=None) for item, role in zip(items, roles) if role in ("train", "valid")]
    return ImageItems(kept, root=items.root, converter=items.converter)


def _arm_rows(arm: str, split: Any, dataset: str, converter: str, seed: int) -> list[dict[str, Any]]:
    """Train one arm; score it (and, for ``select``, the other epochs of the same run) on the judging side."""
    from any2img.learn import Learner

    learn = Learner(split, seed=seed, verbose=False, augment="signal" if arm == "signal" else None)
    states: dict[int, dict[str, Any]] = {}

    def keep(learner: Any, record: dict[str, Any]) -> None:
        states[record["epoch"]] = {k: v.detach().clone() for k, v in learner.model.state_dict().items()}

    start = time.perf_counter()
    learn.fine_tune(on_epoch_end=keep if arm == "select" else None)
    seconds = round(time.perf_counter() - start, 1)
    base = {"dataset": dataset, "converter": converter, "seed": seed, "n_fit": len(split.train),
            "n_inner_valid": len(split.valid), "n_outer_valid": len(split.test), "epochs": learn.budget.epochs,
            "train_seconds": seconds}
    rows = [{**base, "arm": arm, "selected_epoch": learn.selected_epoch or "",
             "outer_valid_acc": learn.evaluate("test")["accuracy"]}]
    if arm == "select":
        probs, targets = learn.get_preds("test", tta=TTA)  # the selected weights, signal-domain TTA
        rows.append({**base, "arm": "select+tta", "selected_epoch": learn.selected_epoch or "",
                     "outer_valid_acc": float(np.mean(probs.argmax(axis=1) == targets))})
        losses = [r["valid_loss"] for r in learn.history]
        late = max(i for i, v in enumerate(losses, start=1) if v <= min(losses) + TOLERANCE)
        for name, epoch in (("select-late", late), ("last", len(losses))):
            learn.model.load_state_dict(states[epoch])
            rows.append({**base, "arm": name, "selected_epoch": epoch,
                         "outer_valid_acc": learn.evaluate("test")["accuracy"]})
    for r in rows:
        print(r, flush=True)
    return rows


def run(dataset: str, converter: str, seed: int, cache: Path, arms: Sequence[str] = ARMS) -> list[dict[str, Any]]:
    from any2img.data import ImageItems, Split, split_items

    items = _development_items(dataset, converter, cache)
    outer = split_items(items, valid_pct=0.2, seed=100 + seed, test=None)  # another judging side per seed
    fit, judge = outer.train, outer.valid
    inner = split_items(fit, valid_pct=0.2, seed=200 + seed, test=None)
    rows = []
    selected = Split(train=inner.train, valid=inner.valid, test=judge, classes=outer.classes, info=inner.info)
    splits = {
        "select": selected,
        "refit": Split(train=fit, valid=ImageItems([], root=fit.root, converter=fit.converter), test=judge,
                       classes=outer.classes, info=outer.info),
        "signal": selected,
    }
    for arm in arms:
        rows += _arm_rows(arm, splits[arm], dataset, converter, seed)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.refit", description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["GunPoint", "Coffee", "PigCVP", "BasicMotions"])
    p.add_argument("--converter", default="gadf")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "refit.csv")
    args = p.parse_args(argv)
    new = not args.out.is_file()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for seed in range(args.seeds):  # every data set once before any twice
            for dataset in args.datasets:
                for row in run(dataset, args.converter, seed, CACHE_DIR, args.arms):
                    writer.writerow(row)
                    fh.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
