"""``any2img evaluate MODEL IMAGES``: metrics and plots of an exported model on labelled data."""

from __future__ import annotations

import argparse
import json


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
    p.add_argument("--explain", type=int, default=3, metavar="N",
                   help="explain the N worst items in the signal's own terms beside their picture (default 3; 0: off)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the metrics line")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from any2img.evaluation import evaluate

    result = evaluate(args.model, args.images, out=args.out, all_items=args.all, include_seen=args.include_seen,
                      label_from=args.label_from, batch_size=args.batch_size, top_k=args.top_k,
                      device=args.device, progress=not args.quiet, explain_top=args.explain)
    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.metrics.items()}
    print(json.dumps(shown))
    if not args.quiet:
        for actual, predicted, count in result.interpretation.most_confused()[:5]:
            print(f"  {actual} -> {predicted}: {count}")
        print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return 0
