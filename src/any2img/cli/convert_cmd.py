"""``any2img convert NAME SRC DST``: batch conversion."""

from __future__ import annotations

import argparse
import sys

from any2img.batch import convert_dir
from any2img.cli.params import parse_params


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "convert",
        help="convert a folder of raw files into labelled PNG folders",
        description="Convert every file under SRC with converter NAME into DST/[split/]label/*.png "
        "plus manifest.jsonl. Reruns convert only what is missing or changed.",
    )
    p.add_argument("name", help="converter name (see 'any2img list')")
    p.add_argument("src", help="folder of raw files, or one table file (or an fsspec URL: s3://, gs://, ...)")
    p.add_argument("dst", help="output folder (or an fsspec URL)")
    p.add_argument("--param", "-p", action="append", metavar="KEY=VALUE", default=[],
                   help="converter parameter (repeatable); values are JSON, e.g. image_size=128")
    p.add_argument("--label-from", default="parent",
                   help="'parent' (folder name, default), 'stem', 'none' or a regex with (?P<label>...)")
    p.add_argument("--group-from", default=None,
                   help="'parent', 'stem' or a regex with (?P<group>...); default: each source is its own group")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: a process pool (default); dask: the workers of a Dask cluster (any2img[distributed])")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: the scheduler, e.g. tcp://HOST:8786 (default: a local cluster of "
                        "--workers processes)")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="with --engine dask: sources per Dask task (default: about 4 tasks per worker thread, <= 64)")
    p.add_argument("--no-resume", action="store_true", help="convert everything again")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = convert_dir(
        args.name, args.src, args.dst, params=parse_params(args.param), label_from=args.label_from,
        group_from=args.group_from, workers=args.workers, resume=not args.no_resume, progress=not args.quiet,
        engine=args.engine, scheduler=args.scheduler, chunk_size=args.chunk_size,
    )
    for failure in report.failures:
        print(f"any2img convert: skipped {failure}", file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1
