"""``any2img explain MODEL INPUT… --out DIR``: relevance in the signal's own terms."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from any2img.explain import METHODS

    p = sub.add_parser(
        "explain",
        help="which seconds, frequencies, time steps or mouse events decided a prediction",
        description="Explain an exported model's answer for raw inputs (.wav, series .csv, mouse logs, ...): "
        "Grad-CAM on the picture the model saw (and occlusion with --method both), mapped back through the "
        "model's converter onto the recording (seconds x Hz), the series (time steps) or the mouse path "
        "(events); or, with --method signal, occlusion of the raw input itself (stretches of time steps "
        "interpolated over, of audio frames silenced, of mouse events dropped, the rest converted again and "
        "the drop of the class's probability scored). Per input (per record of a table) writes DIR/NAME.png "
        "(picture, heat map, the signal with its relevant parts marked), DIR/NAME.csv (the relevance in the "
        "signal's units) and DIR/NAME.json (prediction and summary).",
    )
    p.add_argument("model", help="an exported model folder (weights.safetensors + model.json)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw files (or images for an image model)")
    p.add_argument("--out", "-o", required=True, help="output folder")
    p.add_argument("--method", default="gradcam", choices=METHODS,
                   help="attribution: on the picture (default gradcam; occlusion; both = Grad-CAM with occlusion "
                   "beside) or in the signal's own domain (signal: spans of about 1/15 of a window's steps, "
                   "frames or events removed in turn, half-overlapping)")
    p.add_argument("--layer", default="auto",
                   help="Grad-CAM's stage: 'auto' (default: the last convolutional stage, or a finer one when the "
                   "last map has fewer than 8 cells a side at the model's input size), 'last' (the last stage "
                   "always) or a module name")
    p.add_argument("--target", default=None, help="explain this class instead of the predicted one")
    p.add_argument("--windows", type=int, default=3,
                   help="of a long input, explain the N windows that most support the class (default 3)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from any2img.ensemble import is_ensemble
    from any2img.errors import Any2ImgError, InputError
    from any2img.explain import explain_file, safe_stem
    from any2img.predict import load_model

    if is_ensemble(args.model):  # each member sees its own picture: explain them one by one
        raise InputError("an ensemble has no single picture to explain; explain its members "
                         "(the folders under members/) one by one", path=args.model)
    predictor = load_model(args.model, device=args.device)
    failed = 0
    used: set[str] = set()
    for path in args.inputs:
        try:
            found = explain_file(predictor, path, method=args.method, target=args.target, max_windows=args.windows,
                                 layer=args.layer)
        except Any2ImgError as exc:  # one bad input must not stop the others
            print(f"any2img explain: skipped {exc}", file=sys.stderr)
            failed += 1
            continue
        for ex in found:
            stem = safe_stem(ex.source)
            k = 1
            while stem in used:  # two inputs of the same name from different folders
                k += 1
                stem = f"{safe_stem(ex.source)}-{k}"
            used.add(stem)
            paths = ex.save(Path(args.out), stem)
            summary = {"source": ex.source, "predicted": ex.predicted, "label": ex.label,
                       "probability": round(ex.probability, 4), "figure": str(paths["figure"])}
            print(json.dumps(summary))
    return 1 if failed else 0
