"""``any2img evaluate MODEL IMAGES``: metrics and plots of an exported model on labelled data."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from any2img.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "evaluate",
        help="metrics, confusion matrix and top losses of a model on labelled images",
        description="Evaluate the model folder MODEL on IMAGES: a converted folder (manifest.jsonl), a folder of "
        "class sub-folders of images, or a folder of raw files that the model's converter reads (they are "
        "converted first). When the data marks a test split, only the test items are used (--all: every "
        "item). Items the model trained or was selected on (recorded by content in model.json) are left out, "
        "with a warning. Writes metrics.json, confusion_matrix.png/.csv, classification_report.csv and "
        "top_losses.png/.csv to --out.",
    )
    p.add_argument("model", help="model folder written by 'any2img train'")
    p.add_argument("images", help="labelled images (or raw files the model's converter reads)")
    p.add_argument("--out", "-o", default=None, help="output folder (default MODEL/evaluation)")
    p.add_argument("--all", action="store_true", help="use every item, not only a marked test split")
    p.add_argument("--include-seen", action="store_true",
                   help="also score items the model trained or was selected on (left out by default: they "
                   "overstate accuracy)")
    p.add_argument("--label-from", default="parent",
                   help="for plain folders: 'parent' or a regex with (?P<label>...)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--top-k", type=int, default=9, help="items in the top-losses plot")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the metrics line")
    p.set_defaults(run=run)


def _items(args: argparse.Namespace, meta: dict[str, Any], workdir: Path) -> Any:
    from any2img.data import items_from_path

    try:
        return items_from_path(args.images, args.label_from)
    except InputError:
        converter = meta.get("converter")
        if not converter or not Path(args.images).exists():
            raise
    from any2img.batch import convert_dir

    report = convert_dir(converter["name"], args.images, workdir, params=converter.get("params") or {},
                         label_from=args.label_from, progress=not args.quiet)
    if not report.images:
        raise InputError(f"no image and nothing the model's converter '{converter['name']}' could convert",
                         path=args.images)
    return items_from_path(workdir)


def run(args: argparse.Namespace) -> int:
    import torch

    from any2img.artifact import load_artifact
    from any2img.data.dataset import ImageDataset
    from any2img.learn.heldout import SeenItemsWarning, held_out, recording_accuracy
    from any2img.learn.inference import predict_logits, softmax_np
    from any2img.learn.interpret import Interpretation
    from any2img.learn.learner import _resolve_device
    from any2img.learn.metrics import compute_metrics
    from any2img.sources import source_plotter_for

    art = load_artifact(args.model)
    out = Path(args.out) if args.out else Path(args.model) / "evaluation"
    with tempfile.TemporaryDirectory(prefix="any2img-eval-") as tmp:
        items = _items(args, art.meta, Path(tmp))
        side = "all"
        if not args.all and any(it.split == "test" for it in items):
            items, side = items.filter(lambda it: it.split == "test"), "test"
        items = items.filter(lambda it: it.label is not None)
        if not len(items):
            raise InputError("no labelled image to evaluate on", path=args.images)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SeenItemsWarning)
            items, seen = held_out(items, art.meta, include_seen=args.include_seen, where=str(args.images))
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        unknown = sorted({str(it.label) for it in items} - set(art.classes))
        if unknown:
            raise InputError(f"labels {unknown} are not among the model's classes {art.classes}", path=args.images)
        device = _resolve_device(args.device)
        dataset = ImageDataset(items, art.classes, art.data_config)
        logits, targets = predict_logits(art.model.to(device), dataset, batch_size=args.batch_size, device=device)
        probs = softmax_np(logits)
        names = art.meta.get("training", {}).get("metrics") or ["accuracy", "error_rate", "macro_f1"]
        metrics: dict[str, Any] = {
            "loss": float(torch.nn.functional.cross_entropy(logits, targets)),
            **compute_metrics(names, probs, targets.numpy()),
            "n": len(items),
            "items": side,
            "seen_items": seen if args.include_seen else 0,
            "left_out_seen": 0 if args.include_seen else seen,
        }
        metrics.update(recording_accuracy(probs, targets.numpy(), items) or {})
        interp = Interpretation(probs, targets.numpy(), art.classes, items)
        plotter = source_plotter_for(items.root) if items.root is not None else None
        paths = interp.save(out, k=args.top_k, source_plotter=plotter)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
    print(json.dumps(shown))
    if not args.quiet:
        for actual, predicted, count in interp.most_confused()[:5]:
            print(f"  {actual} -> {predicted}: {count}")
        print(f"wrote {out / 'metrics.json'}, " + ", ".join(str(p) for p in paths.values()))
    return 0
