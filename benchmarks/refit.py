"""Does refitting on train + valid, or signal-domain augmentation, help?  Measured without any test side.

Protocol (issue 10, item 2), on the *training* sides of the development sets
only: the given test side is dropped. What is left is split as the CLI
splits (``valid_pct=0.2``, stratified; split seed ``100 + seed``, so each seed
judges on another part) into a fitting part and an outer validation part,
which plays the test set's role here. Then

* ``select``: the default recipe on the fitting part, with its own inner
  validation side carved from it (split seed ``200 + seed``) and the epoch with the lowest
  inner validation loss exported -- what ``any2img train`` does;
* ``select+tta``, ``select-late``, ``select-paired``, ``select-acc-first``,
  ``select-acc-late`` and ``last``, from the same run: the
  selected weights with signal-domain test-time augmentation (``TTA``
  perturbed pictures averaged with the plain one); the latest epoch whose
  inner validation loss is within ``TOLERANCE`` of the lowest (ties within
  noise go to the annealed end of the one-cycle schedule), the latest epoch
  whose per-item inner validation losses are within two standard errors of
  the lowest epoch's (a paired test), the first and the latest epoch with
  the highest inner validation accuracy, and the last epoch; ``select+tta8``
  with twice the passes; ``swa-half``: the mean of the weights of the last
  half of the epochs (stochastic weight averaging over epochs);
* ``refit``: the same recipe's budget on the whole fitting part (inner
  validation included), no selection, the last epoch exported;
* ``signal``: as ``select``, with ``augment="signal"`` (training pictures
  drawn afresh from perturbed raw series);
* ``mixup``: as ``select``, with mixup (``alpha=0.4``); ``smooth``: with label smoothing 0.1;
* ``lpft``: as ``select``, after a linear probe: the head alone (body
  frozen) for a quarter of the budget's epochs, then every layer;
* ``lite1``: as ``select``, with the ``tf_efficientnet_lite1`` backbone
  (its offline ImageNet weights package installed);
* ``side128``: as ``select``, every input 128 x 128 (upsampled where smaller);
* ``steps2x``: as ``select``, twice the budget's epochs (so twice its
  optimiser steps) at the same batch size; ``steps15``: half as many again;
* ``eq6``, ``eq12``, ``mask``, ``speed20``, ``speed05``: as ``select``, with other audio
  augmentation options (``ARM_AUGMENT_AUDIO``);
* ``mirror``: as ``select``, with the inner validation side carved as
  ``any2img train`` carves it when the judging side is the marked test side
  (``split_items(by="auto", test="predefined")``): by whole groups when the
  judging side holds unseen groups, by recording when every judging item's
  group also has fitting items (``--judge recording``).

``--judge recording`` carves the judging fifth by item instead of by group
(new recordings of known speakers: the relation of FSDD's official test
side to its training side); the default ``group`` holds out whole groups
(unseen speakers or sessions), as the grouped data sets' other splits do.

``--converter-param NAME=VALUE`` converts with that parameter over the data
set's own (e.g. ``n_fft=512 hop_length=80``: FSDD's 8 kHz clips framed as the
16 kHz default frames, 64 ms every 10 ms); rows name it beside the converter.

``--augment-option NAME=VALUE`` trains (and test-time augments) with that
augmentation option over the arm's own (e.g. ``snr_db=[10,40]``); rows name
it in braces beside the converter.

``--probs DIR`` keeps each arm's judging probabilities; ``--ensemble gadf
lineplot recurrence`` (no training) then scores each converter's ``select``
run and their mean probability on the same judging side.

All are scored on the outer validation part, as ``any2img train`` scores
its test side: with test-time augmentation where that is the default (audio
models, since the fifth round of ``DEFAULTS.md``; the rounds before it ran
without). ``select+tta`` asks for ``TTA`` passes explicitly. A change becomes
the default only if it wins there.

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

from any2img.cli.params import parse_params
from any2img.errors import ParameterError
from any2img.learn.callbacks import within_noise
from benchmarks.datasets import get_dataset
from benchmarks.runner import CACHE_DIR, RESULTS_DIR, _unit, convert_cached
from benchmarks.suites import Config

#: The arms; ``select`` also yields ``select+tta``, ``select+tta8``, ``select-late``, ``select-paired``, ``last`` and
#: ``swa-half`` (the mean of the last half of the epochs' weights).
ARMS = ("select", "refit", "signal", "mixup", "smooth", "lpft", "lite1", "side128", "steps2x", "steps15", "mirror",
        "eq6", "eq12", "mask", "speed20", "speed05")
#: How the judging fifth is carved: whole groups (unseen speakers), or single recordings of known ones.
JUDGES = ("group", "recording")
#: What each arm other than ``refit`` changes in the default Learner and ``fine_tune``.
ARM_LEARNER: dict[str, dict[str, Any]] = {
    "signal": {"augment": "signal"}, "mixup": {"mixup": 0.4}, "smooth": {"label_smoothing": 0.1},
    "lite1": {"backbone": "tf_efficientnet_lite1"},
    "side128": {"image_size": 128}}  # side128: every input 128x128, upsampled where smaller
#: ``lpft``: the head alone first (the body frozen, a linear probe) for a quarter of the budget's epochs, then all.
ARM_FINE_TUNE = {"lpft": lambda epochs: {"freeze_epochs": max(1, epochs // 4)},
                 "steps2x": lambda epochs: {"epochs": 2 * epochs},  # twice the budget's steps, same batch
                 "steps15": lambda epochs: {"epochs": epochs + (epochs + 1) // 2}}  # half as many again
#: ``eq6``/``eq12``: audio augmentation colours each clip by a random equaliser of up to 6/12 dB per octave;
#: ``mask``: the defaults plus SpecAugment-like masks on the wave (a span of up to 10 %, a band of up to an octave);
#: ``speed20``/``speed05``: speed perturbation by up to 20 %/5 % instead of 10 % (each passed as
#: ``Learner(augment_options=)``).
ARM_AUGMENT_AUDIO = {"eq6": {"eq_db": 6.0}, "eq12": {"eq_db": 12.0}, "mask": {"time_mask": 0.1, "band_mask": 1.0},
                     "speed20": {"speed": 0.2}, "speed05": {"speed": 0.05}}
#: Validation-loss difference treated as a tie by the ``select-late`` arm (nats).
TOLERANCE = 0.01
#: Perturbed pictures averaged with the plain one by the ``select+tta`` arm (and twice as many by ``select+tta8``).
TTA = 4
#: The raw-data subset each data set is measured on, as in the defaults suite.
VARIANTS = {"Balabit": "events6000"}
FIELDS = ("dataset", "converter", "seed", "arm", "n_fit", "n_inner_valid", "n_outer_valid", "epochs",
          "selected_epoch", "outer_valid_acc", "train_seconds")


def _development_items(dataset: str, converter: str, cache: Path, picture_size: int | None = None,
                       params: dict[str, Any] | None = None) -> Any:
    """The converted non-test items of a data set, unmarked (the test side is dropped, never read).

    ``params`` are converter parameters over the data set's own (e.g. ``n_fft``).

    The data set's first split names the test side: UCR's given test split,
    FSDD's official one (takes 0-4), Balabit's last session per user.
    """
    from any2img.data import ImageItems, items_from_manifest

    spec = get_dataset(dataset)
    cfg = Config(dataset, spec.splits[0], converter, "image", pretrained=True, recipe="defaults",
                 variant=VARIANTS.get(dataset, ""), image_size=picture_size or 0,
                 params=tuple(sorted((params or {}).items())))
    folder, _ = convert_cached(cfg, spec, cache)
    items = items_from_manifest(folder / "manifest.jsonl")
    roles = spec.assign(spec.splits[0], [_unit(i) for i in items])
    kept = [replace(item, split=None) for item, role in zip(items, roles) if role in ("train", "valid")]
    return ImageItems(kept, root=items.root, converter=items.converter)


def _unit_id(item: Any) -> str:
    """The raw unit an image came from (source, record, window): the same across converters."""
    return f"{item.source}|{item.record or ''}|{(item.window or {}).get('index', 0)}"


def _save_probs(folder: Path | None, name: str, split: Any, probs: np.ndarray, classes: Sequence[str]) -> None:
    """Keep the judging side's probabilities, so arms over converters can be combined afterwards."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{name}.npz", probs=probs, classes=np.array(list(classes)),
             units=np.array([_unit_id(i) for i in split.test]), labels=np.array([i.label for i in split.test]))


def _epoch_curves(learn: Any, states: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Per epoch: the inner validation items' losses and hits, and the judging items' hits.

    Kept with ``--probs`` (``*-curves.npz``) so that any selection rule can be
    scored afterwards on the judging side without training again. Plain
    pictures (``tta=0``), as the Learner's own selection scores them.
    """
    epochs = sorted(states)
    loss, hit, judged = [], [], []
    for epoch in epochs:
        learn.model.load_state_dict(states[epoch])
        probs, targets = learn.get_preds("valid", tta=0)
        loss.append(-np.log(np.clip(probs[np.arange(len(targets)), targets], 1e-12, None)))
        hit.append(probs.argmax(axis=1) == targets)
        probs, targets = learn.get_preds("test", tta=0)
        judged.append(probs.argmax(axis=1) == targets)
    return {"epochs": np.array(epochs), "inner_loss": np.array(loss), "inner_hit": np.array(hit),
            "judge_hit": np.array(judged)}


def _paired_late_epoch(curves: dict[str, Any]) -> int:
    """The latest epoch whose inner validation losses are not significantly above the lowest epoch's.

    Per item, the loss difference to the epoch with the lowest mean loss; an
    epoch ties when the mean difference is within two standard errors of
    zero (a paired test on the inner validation items): differences that the
    validation side cannot resolve go to the annealed end of the schedule.
    """
    per_item = dict(zip(curves["epochs"].tolist(), curves["inner_loss"]))
    best = min(per_item, key=lambda e: float(per_item[e].mean()))
    return max([best] + [e for e, values in per_item.items()
                         if e > best and within_noise(values.tolist(), per_item[best].tolist())])


def _accuracy_epochs(curves: dict[str, Any]) -> tuple[int, int]:
    """The first and the latest epoch with the highest inner validation accuracy."""
    acc = curves["inner_hit"].mean(axis=1)
    tops = curves["epochs"][acc == acc.max()].tolist()
    return tops[0], tops[-1]


def _arm_rows(arm: str, split: Any, dataset: str, converter: str, seed: int,
              probs_dir: Path | None = None, judge_by: str = "group",
              picture_size: int | None = None, augment: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Train one arm; score it (and, for ``select``, the other epochs of the same run) on the judging side.

    ``augment`` are augmentation options over the arm's own (``--augment-option``).
    """
    from any2img.learn import Learner

    chosen = {**ARM_AUGMENT_AUDIO.get(arm, {}), **(augment or {})}
    options: dict[str, Any] = {"augment_options": chosen} if chosen else {}
    if picture_size:
        options["image_size"] = picture_size
    learn = Learner(split, seed=seed, verbose=False, **ARM_LEARNER.get(arm, {}), **options)
    states: dict[int, dict[str, Any]] = {}

    def keep(learner: Any, record: dict[str, Any]) -> None:
        states[record["epoch"]] = {k: v.detach().clone() for k, v in learner.model.state_dict().items()}

    start = time.perf_counter()
    extra = ARM_FINE_TUNE[arm](learn.budget.epochs) if arm in ARM_FINE_TUNE else {}
    learn.fine_tune(on_epoch_end=keep if arm == "select" else None, **extra)
    seconds = round(time.perf_counter() - start, 1)
    base = {"dataset": dataset if judge_by == "group" else f"{dataset} (judge: {judge_by})",
            "converter": converter, "seed": seed, "n_fit": len(split.train),
            "n_inner_valid": len(split.valid), "n_outer_valid": len(split.test), "epochs": learn.budget.epochs,
            "train_seconds": seconds}
    probs, targets = learn.get_preds("test")  # as evaluate("test") scores it: with the default TTA passes
    rows = [{**base, "arm": arm, "selected_epoch": learn.selected_epoch or "",
             "outer_valid_acc": float(np.mean(probs.argmax(axis=1) == targets))}]
    tag = "" if judge_by == "group" else f"-judge-{judge_by}"
    _save_probs(probs_dir, f"{dataset}{tag}-{converter}-{seed}-{arm}", split, probs, learn.classes)
    if arm == "select":
        if learn.tta != TTA:  # the selected weights, signal-domain TTA (the same draws where that is the default)
            probs, targets = learn.get_preds("test", tta=TTA)
        rows.append({**base, "arm": "select+tta", "selected_epoch": learn.selected_epoch or "",
                     "outer_valid_acc": float(np.mean(probs.argmax(axis=1) == targets))})
        probs, targets = learn.get_preds("test", tta=2 * TTA)
        rows.append({**base, "arm": "select+tta8", "selected_epoch": learn.selected_epoch or "",
                     "outer_valid_acc": float(np.mean(probs.argmax(axis=1) == targets))})
        losses = [r["valid_loss"] for r in learn.history]
        late = max(i for i, v in enumerate(losses, start=1) if v <= min(losses) + TOLERANCE)
        curves = _epoch_curves(learn, states)
        if probs_dir is not None:
            np.savez(probs_dir / f"{dataset}{tag}-{converter}-{seed}-{arm}-curves.npz", **curves)
        paired = _paired_late_epoch(curves)
        acc_first, acc_late = _accuracy_epochs(curves)
        for name, epoch in (("select-late", late), ("select-paired", paired), ("select-acc-first", acc_first),
                            ("select-acc-late", acc_late), ("last", len(losses))):
            learn.model.load_state_dict(states[epoch])
            rows.append({**base, "arm": name, "selected_epoch": epoch,
                         "outer_valid_acc": learn.evaluate("test")["accuracy"]})
        last_half = list(range(len(losses) - len(losses) // 2 + 1, len(losses) + 1)) or [len(losses)]
        learn.model.load_state_dict(_averaged([states[e] for e in last_half]))
        rows.append({**base, "arm": "swa-half", "selected_epoch": f"{last_half[0]}-{last_half[-1]}",
                     "outer_valid_acc": learn.evaluate("test")["accuracy"]})
    for r in rows:
        print(r, flush=True)
    return rows


def _averaged(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean of several epochs' weights (stochastic weight averaging over epochs, Izmailov et al. 2018).

    Floating tensors (weights and BatchNorm statistics) are averaged; integer
    buffers (BatchNorm's batch counts) are the last epoch's.
    """
    return {k: (sum(s[k] for s in states) / len(states)) if states[-1][k].is_floating_point() else states[-1][k]
            for k in states[-1]}


def _mirrored(fit: Any, judge: Any, seed: int) -> Any:
    """The split ``any2img train`` makes when ``judge`` is the marked test side: the library's own rule."""
    from any2img.data import ImageItems, split_items

    marked = [replace(i, split="train") for i in fit] + [replace(i, split="test") for i in judge]
    split = split_items(ImageItems(marked, root=fit.root, converter=fit.converter), valid_pct=0.2,
                        seed=200 + seed, by="auto", test="predefined")
    if sorted(_unit_id(i) for i in split.test) != sorted(_unit_id(i) for i in judge):
        raise AssertionError("the mirrored split's test side is not the judging side")
    return split


def run(dataset: str, converter: str, seed: int, cache: Path, arms: Sequence[str] = ARMS,
        probs_dir: Path | None = None, judge_by: str = "group",
        picture_size: int | None = None, params: dict[str, Any] | None = None,
        augment: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from any2img.data import ImageItems, Split, split_items

    items = _development_items(dataset, converter, cache, picture_size, params)
    outer = split_items(items, valid_pct=0.2, seed=100 + seed, test=None,  # another judging side per seed
                        by="auto" if judge_by == "group" else "random")
    fit, judge = outer.train, outer.valid
    inner = split_items(fit, valid_pct=0.2, seed=200 + seed, test=None)
    rows = []
    selected = Split(train=inner.train, valid=inner.valid, test=judge, classes=outer.classes, info=inner.info)
    splits = {
        "select": selected,
        "refit": Split(train=fit, valid=ImageItems([], root=fit.root, converter=fit.converter), test=judge,
                       classes=outer.classes, info=outer.info),
        **{arm: selected for arm in ARMS if arm not in ("select", "refit", "mirror")},  # the inner split
    }
    if "mirror" in arms:
        splits["mirror"] = _mirrored(fit, judge, seed)
    name = converter + (f"@{picture_size}px" if picture_size else "")
    name += "[" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + "]" if params else ""
    name += "{" + ",".join(f"{k}={v}" for k, v in sorted(augment.items())) + "}" if augment else ""
    for arm in arms:
        rows += _arm_rows(arm, splits[arm], dataset, name, seed, probs_dir, judge_by, picture_size, augment)
    return rows


def ensemble_rows(probs_dir: Path, datasets: Sequence[str], converters: Sequence[str],
                  seeds: int) -> list[dict[str, Any]]:
    """Outer validation accuracy of each converter's ``select`` run and of their mean probability.

    The judging side of a seed is the same for every converter (the split
    hashes the raw unit, not the picture), which is checked.
    """
    rows = []
    for dataset in datasets:
        for seed in range(seeds):
            found = {c: probs_dir / f"{dataset}-{c}-{seed}-select.npz" for c in converters}
            if not all(f.is_file() for f in found.values()):
                continue
            runs = {c: np.load(f) for c, f in found.items()}
            first = runs[converters[0]]
            for c, r in runs.items():
                if list(r["units"]) != list(first["units"]) or list(r["classes"]) != list(first["classes"]):
                    raise ValueError(f"{dataset} seed {seed}: {c}'s judging side differs from {converters[0]}'s")
            classes = list(first["classes"])
            truth = np.array([classes.index(label) for label in first["labels"]])
            scores = {c: float(np.mean(r["probs"].argmax(1) == truth)) for c, r in runs.items()}
            mean = np.mean([r["probs"] for r in runs.values()], axis=0)
            scores["+".join(converters)] = float(np.mean(mean.argmax(1) == truth))
            for arm, acc in scores.items():
                rows.append({"dataset": dataset, "seed": seed, "arm": arm, "n_outer_valid": len(truth),
                             "outer_valid_acc": acc})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.refit", description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["GunPoint", "Coffee", "PigCVP", "BasicMotions"])
    p.add_argument("--converter", default="gadf")
    p.add_argument("--seeds", type=int, default=2, help="seeds 0 .. N-1 (each picks another judging fifth)")
    p.add_argument("--seed-list", type=int, nargs="+", default=None, metavar="SEED",
                   help="these seeds instead (e.g. FSDD's 0 1 2 4 9 22 judge each of its six speakers once)")
    p.add_argument("--arms", nargs="+", default=[a for a in ARMS if a != "mirror"], choices=ARMS)
    p.add_argument("--judge", choices=JUDGES, default="group",
                   help="carve the judging fifth by whole groups (default) or by single recordings")
    p.add_argument("--picture-size", type=int, default=None, metavar="N",
                   help="convert at N px (the converter's image_size) and train at N x N (rows name the converter "
                        "CONVERTER@Npx); default: the converter's own size and the budget's input rule")
    p.add_argument("--converter-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a converter parameter over the data set's own (repeatable; rows name the converter "
                        "CONVERTER[NAME=VALUE,...]), e.g. n_fft=512")
    p.add_argument("--augment-option", action="append", default=[], metavar="NAME=VALUE",
                   help="an augmentation option over the arm's own (repeatable; JSON values, e.g. snr_db=[10,40]; "
                        "rows name the converter CONVERTER{NAME=VALUE,...})")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "refit.csv")
    p.add_argument("--probs", type=Path, default=None,
                   help="keep each arm's judging probabilities here (.npz), for --ensemble")
    p.add_argument("--ensemble", nargs="+", default=None, metavar="CONVERTER",
                   help="no training: score the mean probability of these converters' saved 'select' runs")
    args = p.parse_args(argv)
    try:  # NAME=VALUE as the CLI's --param reads it: JSON values where they parse
        converter_params = parse_params(args.converter_param, "--converter-param")
        augment_options = parse_params(args.augment_option, "--augment-option")
    except ParameterError as exc:
        p.error(str(exc))
    if args.ensemble:
        if args.probs is None:
            p.error("--ensemble reads the probabilities that --probs kept")
        for row in ensemble_rows(args.probs, args.datasets, args.ensemble, args.seeds):
            print(row)
        return 0
    new = not args.out.is_file()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for seed in args.seed_list or range(args.seeds):  # every data set once before any twice
            for dataset in args.datasets:
                for row in run(dataset, args.converter, seed, CACHE_DIR, args.arms, args.probs, args.judge,
                               args.picture_size, converter_params, augment_options):
                    writer.writerow(row)
                    fh.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
