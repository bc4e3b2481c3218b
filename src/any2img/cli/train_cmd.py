"""``any2img train IMAGES --out MODEL``: fine-tune a pretrained backbone and export it."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from any2img.cli.params import parse_params
from any2img.errors import ParameterError


def _test_arg(text: str) -> str | float | None:
    if text.lower() in ("none", "no"):
        return None
    if text == "predefined":
        return text
    try:
        return float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must be 'predefined', 'none' or a share such as 0.2 (got {text!r})") from exc


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train",
        help="fine-tune a pretrained image model on a folder of images and export it",
        description="Fine-tune a timm backbone (default tf_efficientnet_lite0 with offline ImageNet weights) on "
        "IMAGES: a converted folder (its manifest.jsonl gives labels, groups, splits and the converter) or a "
        "folder of class sub-folders. All layers train from the first epoch with one-cycle at --lr (measured "
        "best on pictures of signals). Prints a table per epoch, evaluates the test split if there is one, "
        "and exports MODEL/weights.safetensors + MODEL/model.json.",
    )
    p.add_argument("images", help="folder of images (class sub-folders), or a converted folder with manifest.jsonl")
    p.add_argument("--out", "-o", required=True, help="model folder to write")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs with all layers training (default: from the data, >= 300 steps and >= 4 epochs)")
    p.add_argument("--time-budget", default=None,
                   help="cap on the training time, e.g. 10m, 90s, 1.5h (the epochs shrink to fit)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    p.add_argument("--freeze-epochs", type=int, default=0,
                   help="head-only epochs first (default 0: measured worse on signal pictures)")
    p.add_argument("--lr-mult", type=float, default=1.0,
                   help="head rate / first body group rate, for discriminative rates (default 1: one rate)")
    p.add_argument("--backbone", default="tf_efficientnet_lite0", help="timm model name")
    p.add_argument("--no-pretrained", action="store_true", help="train from random weights")
    p.add_argument("--weights", default=None, help="local .safetensors/.pth backbone weights")
    p.add_argument("--image-size", type=int, default=None,
                   help="model input size (default: the pictures' own, each side clipped to [64, 128])")
    p.add_argument("--batch-size", type=int, default=None,
                   help="default: the largest power of two <= training items / 8, within [8, 32]")
    p.add_argument("--valid-pct", type=float, default=0.2, help="validation share when not predefined (0.2)")
    p.add_argument("--seed", type=int, default=42, help="split seed; training seed too unless --train-seed")
    p.add_argument("--train-seed", type=int, default=None, help="seed of initialisation and shuffling")
    p.add_argument("--split", default="auto", choices=("auto", "random", "group", "predefined"),
                   help="how to split (auto: predefined marks, else groups, else random)")
    p.add_argument("--test", type=_test_arg, default="predefined",
                   help="'predefined' (test/ folder or manifest marks), a share such as 0.2, or 'none'")
    p.add_argument("--label-from", default="parent",
                   help="for a plain image folder: 'parent' or a regex with (?P<label>...)")
    p.add_argument("--augment", default="auto",
                   help="auto (default: signal where the converter's family augments by default, audio, series and "
                        "mouse_histogram pictures, and their sources are at hand, else none); none; "
                        "signal (pictures drawn afresh from raw signals perturbed in their own domain: needs the "
                        "conversion's sources); specaugment, timeshift or specaugment+timeshift")
    p.add_argument("--tta", type=int, default=None, metavar="N",
                   help="test-time augmentation: average N pictures of perturbed raw signals with the plain one when "
                        "evaluating and in the exported model's predictions (default: 4 when --augment became signal, "
                        "else 0)")
    p.add_argument("--augment-option", action="append", default=None, metavar="NAME=VALUE",
                   help="an option of the signal augmentation (training and test-time passes), repeatable, e.g. "
                        "speed=0.2 or eq_db=0 for audio; the converter's augment_options() lists them")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mixup with Beta(ALPHA, ALPHA) weights (default 0: off)")
    p.add_argument("--selection", default="paired", choices=("paired", "lowest"),
                   help="the exported epoch: the latest whose validation losses are within two standard errors of "
                        "the lowest epoch's (paired over the items; default), or the lowest validation loss")
    p.add_argument("--refit", action="store_true",
                   help="after the run, train a fresh model on train + valid with the same settings and export "
                        "it (its last epoch; the first run's validation metrics are recorded as the estimate)")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop after --patience epochs without a lower validation loss (the best epoch's weights "
                        "are exported either way)")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--checkpoint-dir", default=None, help="write a checkpoint after each epoch")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--num-threads", type=int, default=None, metavar="N",
                   help="torch CPU threads (default: torch's own, one per core; 1 on cores shared with other jobs)")
    p.add_argument("--convert-on", choices=("files", "device"), default="files",
                   help="files: train on the converted images (default); device: convert the raw sources per "
                        "batch on --device with the converter's torch implementation, reading no image file")
    p.add_argument("--quiet", "-q", action="store_true", help="no table, no progress bars")
    p.set_defaults(run=run)


def _check_writable_folder(flag: str, folder: Path) -> None:
    """Create ``folder`` (and its parents) now, or fail in one line naming the flag."""
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"'{flag}' must be a folder, but {str(folder)!r} is a file.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".any2img-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ParameterError(f"'{flag}': cannot write into {str(folder)!r} ({exc.strerror or exc}).") from exc


def run(args: argparse.Namespace) -> int:
    from any2img import storage
    from any2img.learn import distributed

    if args.resume and not args.checkpoint_dir:
        raise ParameterError("'--resume' needs '--checkpoint-dir'.")
    if args.checkpoint_dir is not None and not storage.is_local(args.checkpoint_dir):
        raise ParameterError("'--checkpoint-dir' must be a local or shared folder (every rank reads it on "
                             f"--resume), not the URL {args.checkpoint_dir!r}.")
    # under torchrun (``torchrun --nproc_per_node N -m any2img train ...``): one rank of N, rank 0 writes and reports
    distributed.init_from_env(args.device)
    try:
        with storage.stage_out(args.out) as out:  # a URL gets the model once it is complete
            code = _train(args, out, storage.stage_in(args.images), distributed.local_device(args.device))
    except BaseException:
        distributed.shutdown(wait=False)  # a failing rank: no barrier the others may never reach
        raise
    distributed.shutdown()
    return code


def _train(args: argparse.Namespace, out_dir: Path, images: Path, device: str) -> int:
    import torch

    from any2img import storage
    from any2img.data import items_from_path, split_items
    from any2img.learn import distributed
    from any2img.learn.checkpoint import CHECKPOINT_JSON
    from any2img.learn.learner import Learner

    rank0 = distributed.is_rank0()
    verbose = not args.quiet and rank0
    for flag, folder in (("--out", out_dir), ("--checkpoint-dir", args.checkpoint_dir)):
        if folder is not None and rank0:  # before any work: a bad location must not cost a training run
            _check_writable_folder(flag, Path(folder))
    if args.resume and rank0 and not (Path(args.checkpoint_dir) / CHECKPOINT_JSON).is_file():
        print(f"--resume: no checkpoint in {args.checkpoint_dir} yet; starting afresh", file=sys.stderr)
    items = items_from_path(images, args.label_from)
    split = split_items(items, valid_pct=args.valid_pct, seed=args.seed, by=args.split, test=args.test)
    if verbose:
        counts = split.info["counts"]
        print(f"{len(items)} images, {len(split.classes)} classes; split {split.info['strategy']}: "
              f"train {counts['train']}, valid {counts['valid']}, test {counts['test']}")
    learn = Learner(
        split, backbone=args.backbone, pretrained=not args.no_pretrained, weights=args.weights,
        image_size=args.image_size, batch_size=args.batch_size,
        seed=args.seed if args.train_seed is None else args.train_seed, augment=args.augment,
        num_workers=args.workers, device=device, label_smoothing=args.label_smoothing,
        mixup=args.mixup, convert_on=args.convert_on, tta=args.tta,
        augment_options=parse_params(args.augment_option, "--augment-option") or None,
        selection=args.selection, early_stopping=args.early_stopping, patience=args.patience,
        num_threads=args.num_threads, verbose=verbose,
    )
    if verbose:
        print(f"backbone {learn.settings.backbone} (weights: {learn.weights_source}), "
              f"input {learn.data_config.input_size}, device {learn.device}"
              + (f" ({_threads(torch.get_num_threads())})" if learn.device.type == "cpu" else "")
              + (f", augment {learn.augment}, test-time augmentation {learn.tta} passes" if learn.tta else ""))
    start = time.perf_counter()
    learn.fine_tune(args.epochs, base_lr=args.lr, freeze_epochs=args.freeze_epochs, lr_mult=args.lr_mult,
                    time_budget=args.time_budget, checkpoint_dir=args.checkpoint_dir, resume=args.resume)
    results = {"valid": learn.evaluate("valid")} if len(split.valid) else {}
    if args.refit:
        learn = _refit(learn, args, verbose)
    seconds = time.perf_counter() - start
    if len(split.test):
        results["test"] = learn.evaluate("test")
    out = learn.export(out_dir)
    if not rank0:
        return 0
    shown_out = args.out if storage.is_url(args.out) else out  # a URL receives the model when this returns
    for side, values in results.items():
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()}
        print(f"{side}: {json.dumps(shown)}")
    chosen = f" (exported: epoch {learn.selected_epoch}, {args.selection} selection)" if learn.selected_epoch else ""
    if learn.refit_of is not None:
        chosen = " (exported: the refit on train + valid, its last epoch)"
    print(f"trained {len(learn.history)} epochs in {seconds:.1f}s{chosen}; model written to {shown_out}")
    return 0


def _refit(learn: Any, args: argparse.Namespace, verbose: bool) -> Any:
    """The refit learner, trained: the same settings on train + valid (see :mod:`any2img.learn.refit`)."""
    from any2img.learn.refit import refit

    final = refit(learn, verbose=verbose)  # refuses a split without a validation side
    if verbose:
        print(f"refit on train + valid ({len(final.split.train)} images):")
    with warnings.catch_warnings():  # no validation side is the point of a refit, not news
        warnings.filterwarnings("ignore", message="the split has no validation side")
        final.fine_tune(args.epochs, base_lr=args.lr, freeze_epochs=args.freeze_epochs, lr_mult=args.lr_mult,
                        time_budget=args.time_budget)
    return final


def _threads(n: int) -> str:
    """``"1 torch thread"``, ``"2 torch threads"``."""
    return f"{n} torch thread{'s' if n != 1 else ''}"
