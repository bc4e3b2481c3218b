"""``any2img bench``: the representation benchmark (needs a checkout of the repository).

The benchmark code lives in the repository's top-level ``benchmarks/``
package, which is not part of the wheel: this command finds it on the import
path or beside the source tree (``<repo>/benchmarks``) and fails with one
clear line otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from pathlib import Path
from types import ModuleType

from any2img.errors import Any2ImgError

SUITES = ("quick", "defaults", "cpu", "full")


def _repo_root() -> Path:
    # src/any2img/cli/bench_cmd.py -> the repository root
    return Path(__file__).resolve().parents[3]


def load_runner() -> ModuleType:
    """Import ``benchmarks.runner`` from the import path or the checkout this file sits in."""
    try:
        return importlib.import_module("benchmarks.runner")
    except ModuleNotFoundError as exc:
        if exc.name not in ("benchmarks", "benchmarks.runner"):
            raise
    root = _repo_root()
    if (root / "benchmarks" / "__init__.py").is_file():
        sys.path.insert(0, str(root))
        return importlib.import_module("benchmarks.runner")
    raise Any2ImgError(
        "the benchmarks are not installed with the any2img wheel; run 'any2img bench' (or "
        "'python -m benchmarks') from a checkout of the any2img repository."
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The benchmark options, shared by ``any2img bench`` and ``python -m benchmarks``."""
    p.add_argument("--suite", choices=SUITES, default="quick",
                   help="'quick' (minutes on a CPU), 'defaults' (the CLI's untuned defaults on every data set, "
                   "about an hour on 2 cores), 'cpu' (every converter at 64 px, hours) or 'full' (everything, "
                   "for a GPU)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: benchmarks/results)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: 1 for quick, 3 otherwise)")
    p.add_argument("--only", nargs="+", metavar="DATASET[:SPLIT[:METHOD[:INIT]]]",
                   help="run a subset, e.g. GunPoint FSDD:loso-nicolas Balabit::trajectory:pretrained")
    p.add_argument("--epochs", type=int, default=None, help="override the epochs of every image configuration")
    p.add_argument("--image-size", type=int, default=None, help="override the image size of every image configuration")
    p.add_argument("--param", nargs="+", metavar="NAME=VALUE",
                   help="set a converter parameter in every image configuration (an ablation: recorded in the "
                   "'settings' column, a row apart from the default pipeline), e.g. ref=full_scale")
    p.add_argument("--augment", default=None,
                   help="train with an augmentation (specaugment, timeshift, specaugment+timeshift); recorded in "
                   "'settings'")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per training (default: all cores; 1 on a CPU shared with other jobs)")
    p.add_argument("--dry-run", action="store_true", help="list the configurations without running them")
    p.add_argument("--report-only", action="store_true", help="only rewrite RESULTS.md and the plots from the CSVs")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="run the representation benchmark (from a checkout of the repository)",
        description="Compare representations on real data sets: data sets x converters x {pretrained, scratch} "
        "x seeds on fixed splits, plus a non-image baseline per modality. Writes <out>/<suite>.csv, "
        "RESULTS.md and plots; a rerun skips configurations already in the CSV.",
    )
    add_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.seeds is not None and args.seeds < 1:
        raise Any2ImgError(f"'--seeds' must be an int >= 1 (got {args.seeds}).")
    runner = load_runner()
    command = " ".join(["any2img bench", *(shlex.quote(a) for a in sys.argv[2:])]) if len(sys.argv) > 1 else None
    try:
        return int(runner.run_from_args(args, command))
    except KeyError as exc:
        raise Any2ImgError(str(exc.args[0]) if exc.args else str(exc)) from exc
    except ValueError as exc:
        raise Any2ImgError(str(exc)) from exc
