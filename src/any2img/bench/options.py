"""The options of ``any2img bench`` and ``python -m any2img.bench`` (one list for both)."""

from __future__ import annotations

import argparse
from pathlib import Path

from any2img.bench.locations import CACHE_ENV, DATA_ENV, RESULTS_DEFAULT
from any2img.bench.suites import SUITES

__all__ = ["SUITE_NAMES", "add_arguments"]

#: The suites, in the order ``--help`` lists them.
SUITE_NAMES = tuple(SUITES)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the benchmark options to ``p``."""
    p.add_argument("--suite", choices=SUITE_NAMES, default="quick",
                   help="'quick' (minutes on a CPU), 'defaults' (the CLI's untuned defaults on every data set, "
                   "about an hour on 2 cores), 'cpu' (every converter at 64 px, hours) or 'full' (everything, "
                   "for a GPU)")
    p.add_argument("--results", "--out", dest="out", type=Path, default=None, metavar="DIR",
                   help=f"results folder: <suite>.csv, RESULTS.md, plots (default: ./{RESULTS_DEFAULT}; "
                   "benchmarks/results for 'python -m benchmarks' in a checkout)")
    p.add_argument("--cache", type=Path, default=None, metavar="DIR",
                   help=f"cache of prepared data and converted images (default: ${CACHE_ENV}, else the user "
                   "cache folder, e.g. ~/.cache/any2img/bench; benchmarks/cache in a checkout)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help=f"folder holding fsdd/recordings and balabit/training_files (default: ${DATA_ENV}, "
                   "else $ANY2IMG_FSDD and $ANY2IMG_BALABIT; ../shared/datasets in a checkout); absent data "
                   "sets are skipped")
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
    p.add_argument("--skip-missing", action="store_true",
                   help="skip the configurations whose packages are not installed (default: stop and name them)")
    p.add_argument("--dry-run", action="store_true", help="list the configurations without running them")
    p.add_argument("--report-only", action="store_true", help="only rewrite RESULTS.md and the plots from the CSVs")
