"""The ``any2img`` command line: a thin layer over the public API.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. :func:`main` turns any :class:`~any2img.errors.Any2ImgError`
into one line on stderr and exit code 2; tests call ``main([...])`` directly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from any2img import __version__
from any2img.errors import Any2ImgError

__all__ = ["main"]

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS = ("list", "convert", "data", "train", "ensemble", "evaluate", "predict", "explain", "bench", "demo")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every sub-command whose module is present."""
    parser = argparse.ArgumentParser(
        prog="any2img",
        description="Turn signals that are not pictures into pictures, and fine-tune a pretrained "
        "image classifier on them.",
    )
    parser.add_argument("--version", action="version", version=f"any2img {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"any2img.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"any2img.cli.{name}_cmd":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def show_warning(message: Warning | str, category: type[Warning], *rest: object, **kw: object) -> None:
        print(f"any2img {args.command}: warning: {message}", file=sys.stderr)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM ends a run as Ctrl-C does: finally blocks record what finished

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # one line for people, not a source excerpt
            return int(args.run(args))
    except Any2ImgError as exc:
        print(f"any2img {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `any2img predict ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"any2img {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
