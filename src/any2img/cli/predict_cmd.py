"""``any2img predict MODEL INPUT…``: label and probability per input."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "predict",
        help="predict the label of raw inputs or images with an exported model",
        description="Run an exported model on raw files (.wav, series .csv, mouse logs, ...) or images. "
        "The model's own converter turns raw files into images; several windows are averaged into one answer.",
    )
    p.add_argument("model", help="an exported model folder (weights.safetensors + model.json), or its URL")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw files or images (paths or fsspec URLs)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--windows", action="store_true", help="with --json: include per-window scores")
    p.add_argument("--top", type=int, default=1, help="show the TOP most probable classes (text output)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from any2img import storage
    from any2img.errors import Any2ImgError
    from any2img.predict import load

    predictor = load(storage.stage_in(args.model), device=args.device)  # a URL: read from a local copy
    failed = 0
    for path in args.inputs:
        try:
            if storage.is_url(path):  # predicted from a local copy, reported under its URL
                local = str(storage.stage_in(path))
                predictions: list[Any] = [replace(p, source=p.source.replace(local, path, 1))
                                          for p in predictor.predict_file(local)]
            else:
                predictions = predictor.predict_file(path)
        except Any2ImgError as exc:  # one bad input must not stop the others
            print(f"any2img predict: skipped {exc}", file=sys.stderr)
            failed += 1
            continue
        for pred in predictions:
            if args.json:
                print(json.dumps(pred.to_dict(windows=args.windows)))
                continue
            ranked = sorted(pred.probabilities.items(), key=lambda kv: -kv[1])[: max(1, args.top)]
            shown = "  ".join(f"{label} {prob:.3f}" for label, prob in ranked)
            n = pred.window_probabilities.shape[0]
            print(f"{pred.source}\t{shown}" + (f"\t({n} windows)" if n > 1 else ""))
    return 1 if failed else 0
