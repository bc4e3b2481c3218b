"""``any2img bench``: the representation benchmark (:mod:`any2img.bench`).

Runs anywhere the package is installed (``pip install 'any2img[bench]'``
brings what the suites need); data, cache and results locations come from
the options and environment variables of :mod:`any2img.bench.locations`.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from any2img.bench.options import SUITE_NAMES, add_arguments
from any2img.errors import Any2ImgError

__all__ = ["SUITES", "add_parser", "run"]

#: The suites ``--suite`` offers.
SUITES = SUITE_NAMES


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="run the representation benchmark",
        description="Compare representations on real data sets: data sets x converters x {pretrained, scratch} "
        "x seeds on fixed splits, plus a non-image baseline per modality. Writes <results>/<suite>.csv, "
        "RESULTS.md and plots; a rerun skips configurations already in the CSV. A configuration whose "
        "packages are missing stops the run unless --skip-missing (pip install 'any2img[bench]').",
    )
    add_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.seeds is not None and args.seeds < 1:
        raise Any2ImgError(f"'--seeds' must be an int >= 1 (got {args.seeds}).")
    from any2img.bench import runner

    command = " ".join(["any2img bench", *(shlex.quote(a) for a in sys.argv[2:])]) if len(sys.argv) > 1 else None
    try:
        return int(runner.run_from_args(args, command))
    except KeyError as exc:
        raise Any2ImgError(str(exc.args[0]) if exc.args else str(exc)) from exc
    except ValueError as exc:
        raise Any2ImgError(str(exc)) from exc
