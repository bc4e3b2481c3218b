"""``any2img ensemble MODEL MODEL… --out DIR``: several exported models answering as one."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ensemble",
        help="bundle exported models (e.g. one per converter) into one model that averages their answers",
        description="Bundle two or more exported models with the same classes, trained on pictures of the same "
        "kind of raw input (for example GASF, recurrence and line plot of the same series), into one model "
        "folder. 'any2img predict' and 'any2img evaluate' then run every member's converter on the raw input "
        "and average the members' class probabilities (weighted by --weights).",
    )
    p.add_argument("models", nargs="+", metavar="MODEL", help="exported model folders (two or more)")
    p.add_argument("--out", "-o", required=True, help="the ensemble folder to create (new or empty)")
    p.add_argument("--weights", nargs="+", type=float, default=None, help="one positive weight per model")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from any2img.ensemble import read_ensemble, write_ensemble

    out = write_ensemble(args.models, args.out, weights=args.weights)
    spec = read_ensemble(out)
    members = ", ".join(f"{m['converter']} (weight {m['weight']:g})" for m in spec["members"])
    print(f"wrote {out}: {len(spec['members'])} members [{members}], {len(spec['classes'])} classes")
    return 0
